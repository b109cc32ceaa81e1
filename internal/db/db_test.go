package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

func TestRebind(t *testing.T) {
	d := &db.DB{}
	if got := d.Rebind("SELECT ?"); got != "SELECT ?" {
		t.Fatalf("sqlite rebind changed the query: %q", got)
	}
}

func TestTimeRoundTripAndOrder(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		at := time.Date(2026, 3, 29, 1, 30, 0, 123456789, time.FixedZone("X", 3600))
		later := at.Add(time.Millisecond)
		err := d.InTx(ctx, func(tx *db.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO desk_snapshots (day, taken_at, data) VALUES (?, ?, ?), (?, ?, ?)`,
				"a", db.T(later), `{}`, "b", db.T(at), `{}`)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var got db.Time
		if err := d.QueryRow(ctx, `SELECT taken_at FROM desk_snapshots WHERE taken_at < ? ORDER BY taken_at LIMIT 1`, db.T(later)).Scan(&got); err != nil {
			t.Fatal(err)
		}
		want := at.UTC().Truncate(time.Microsecond)
		if !got.Equal(want) || got.Location() != time.UTC {
			t.Fatalf("round trip: got %v, want %v in UTC", got.Time, want)
		}
	})
}

func TestInTxRollsBackOnError(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		_ = d.InTx(ctx, func(tx *db.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO counters (name, value) VALUES (?, ?)`, "x", 1); err != nil {
				t.Fatal(err)
			}
			return context.Canceled
		})
		var n int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM counters WHERE name = ?`, "x").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("row written by a failed transaction survived")
		}
	})
}
