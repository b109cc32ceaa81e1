package db_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/clock"
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

// The background checkpointer copies the WAL back into the database file:
// at its next tick after the writes stop, every frame of the log has been
// copied, with no writer having waited for it.
func TestSQLiteBackgroundCheckpoint(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	f := clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	d, err := db.OpenSQLiteOn(ctx, filepath.Join(t.TempDir(), "cp.db"), f)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Exec(ctx, `CREATE TABLE cp (id INTEGER PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO cp (v) VALUES (?)`, strings.Repeat("x", 3000+i))
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if frames, _ := d.WALStats(); frames != 0 {
		t.Fatalf("a checkpoint ran before its tick (%d frames)", frames)
	}
	if err := f.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	f.Advance(250 * time.Millisecond)
	if err := f.BlockUntil(ctx, 1); err != nil { // re-armed once the checkpoint has run
		t.Fatal(err)
	}
	if frames, done := d.WALStats(); frames < 200 || done != frames {
		t.Fatalf("WAL frames %d, checkpointed %d: the background checkpoint did not catch up", frames, done)
	}
}
