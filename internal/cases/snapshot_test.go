package cases_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

// The desk snapshot is the queue's proof job: the server's workers take one
// at start-up and it counts what the desk holds.
func TestSnapshotJobRunsOnStart(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		for range 3 {
			if _, err := f.svc.Create(ctx, f.actor("priya.shah"), lostParcel(), nil); err != nil {
				t.Fatal(err)
			}
		}
		a, err := app.New(d, app.Options{Clock: f.clock, Work: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer a.Stop(ctx)
		var data string
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if err := d.QueryRow(ctx, `SELECT data FROM desk_snapshots WHERE day = ?`, t0.Format(time.DateOnly)).Scan(&data); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		var s cases.Snapshot
		if err := json.Unmarshal([]byte(data), &s); err != nil {
			t.Fatalf("no snapshot taken: %v", err)
		}
		// The third contact about the same seller and category is a P2 (repeat contacts).
		if s.ByStatus["new"] != 3 || s.ActiveTeam["logistics"]["P3"] != 2 || s.ActiveTeam["logistics"]["P2"] != 1 {
			t.Fatalf("snapshot: %+v", s)
		}
	})
}
