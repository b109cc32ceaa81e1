package demo

import (
	"context"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

// The demo's history has the past packs of its cadences: four weekly
// operations reviews and the last monthly leadership review, each with
// the figures of the generated cases.
func TestDemoReviewPacks(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a, err := app.New(d, app.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Load(ctx, a, Options{Seed: 1, Cases: 300, Now: testNow}); err != nil {
			t.Fatal(err)
		}
		l, err := a.Reviews.List(ctx, auth.System("test"), "")
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for _, p := range l {
			kinds[string(p.Kind)]++
		}
		if kinds["weekly"] != 4 || kinds["monthly"] != 1 {
			t.Fatalf("packs %+v", l)
		}
		p, err := a.Reviews.Get(ctx, auth.System("test"), l[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2026, 3, 16, 8, 0, 0, 0, time.UTC); l[0].Period != "2026-W11" || !l[0].BuiltAt.Equal(want) {
			t.Errorf("the newest pack is %s built %v, want 2026-W11 built at its time %v", l[0].Period, l[0].BuiltAt, want)
		}
		if p.Metrics.Intake == 0 || len(p.Markets) == 0 {
			t.Errorf("the newest pack %s has no figures: intake %d, markets %d", p.Title, p.Metrics.Intake, len(p.Markets))
		}
	})
}
