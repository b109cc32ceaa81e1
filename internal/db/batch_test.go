package db_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

// Concurrent transactions are committed together, yet each stays atomic:
// a failing one is rolled back alone and the others commit.
func TestGroupCommitKeepsTransactionsAtomic(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		const n = 60
		var wg sync.WaitGroup
		var committed atomic.Int64
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				errs[i] = d.InTx(ctx, func(tx *db.Tx) error {
					for j := range 2 { // two rows: both or neither
						if _, err := tx.Exec(ctx, `INSERT INTO counters (name, value) VALUES (?, ?)`, fmt.Sprintf("t%d-%d", i, j), i); err != nil {
							return err
						}
					}
					tx.AfterCommit(func() { committed.Add(1) })
					if i%5 == 0 {
						return fmt.Errorf("request %d fails", i)
					}
					if i%7 == 0 { // a duplicate key: the store refuses it
						_, err := tx.Exec(ctx, `INSERT INTO counters (name, value) VALUES (?, ?)`, fmt.Sprintf("t%d-0", i), 0)
						return err
					}
					return nil
				})
			})
		}
		wg.Wait()
		want := 0
		for i := range n {
			fails := i%5 == 0 || i%7 == 0
			if fails != (errs[i] != nil) {
				t.Fatalf("request %d: err %v", i, errs[i])
			}
			if !fails {
				want++
			}
		}
		var rows int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM counters WHERE name LIKE 't%'`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows != 2*want || committed.Load() != int64(want) {
			t.Fatalf("%d rows and %d after-commit hooks, want %d and %d", rows, committed.Load(), 2*want, want)
		}
	})
}

func TestPanicInTransactionReachesCaller(t *testing.T) {
	d := dbtest.SQLite(t, nil)
	defer func() {
		if p := recover(); p != "boom" {
			t.Fatalf("recovered %v, want the transaction's panic", p)
		}
		// The store still works after the panic.
		if err := d.InTx(context.Background(), func(*db.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}()
	_ = d.InTx(context.Background(), func(*db.Tx) error { panic("boom") })
}

func TestClosedStoreRefusesTransactions(t *testing.T) {
	d := dbtest.SQLite(t, nil)
	_ = d.InTx(context.Background(), func(*db.Tx) error { return nil })
	d.Close()
	if err := d.InTx(context.Background(), func(*db.Tx) error { return nil }); !errors.Is(err, db.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// A transaction run with a Join context runs inside the joined one: its
// writes commit with it, its after-commit work waits for that commit, and
// its error fails the joined transaction.
func TestJoinedTransactions(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		count := func() int {
			var n int
			if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM counters WHERE name LIKE 'join-%'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		var after atomic.Int64
		err := d.InTx(ctx, func(tx *db.Tx) error {
			jctx := db.Join(ctx, tx)
			for i := range 3 {
				err := d.InTx(jctx, func(inner *db.Tx) error {
					inner.AfterCommit(func() { after.Add(1) })
					_, err := inner.Exec(ctx, `INSERT INTO counters (name, value) VALUES (?, ?)`, fmt.Sprintf("join-%d", i), i)
					return err
				})
				if err != nil {
					return err
				}
			}
			if after.Load() != 0 {
				t.Error("after-commit work ran before the joined transaction committed")
			}
			// The store's own reads and writes go through the joined transaction.
			var n int
			if err := d.QueryRow(jctx, `SELECT COUNT(*) FROM counters WHERE name LIKE 'join-%'`).Scan(&n); err != nil || n != 3 {
				t.Errorf("a read in the joined context sees %d rows (%v), want the transaction's 3", n, err)
			}
			if _, err := d.Exec(jctx, `UPDATE counters SET value = value + 10 WHERE name = 'join-0'`); err != nil {
				t.Errorf("a write in the joined context: %v", err)
			}
			return nil
		})
		if err != nil || count() != 3 || after.Load() != 3 {
			t.Fatalf("joined writes: %v, %d rows, %d after-commit calls; want 3 and 3", err, count(), after.Load())
		}
		err = d.InTx(ctx, func(tx *db.Tx) error {
			jctx := db.Join(ctx, tx)
			if err := d.InTx(jctx, func(inner *db.Tx) error {
				_, err := inner.Exec(ctx, `INSERT INTO counters (name, value) VALUES ('join-x', 0)`)
				return err
			}); err != nil {
				return err
			}
			return d.InTx(jctx, func(*db.Tx) error { return errors.New("the second fails") })
		})
		if err == nil || count() != 3 {
			t.Fatalf("a failing joined transaction: %v, %d rows; want an error and nothing written", err, count())
		}
	})
}
