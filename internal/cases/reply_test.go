package cases_test

import (
	"context"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

// A transition with a Reply (incidents' bulk resolve) sends the public
// reply in the same change: one comment, its timeline entry before the
// status, the first response, both events.
func TestTransitionWithReply(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		priya := f.actor("priya.shah")
		c, err := f.svc.Create(ctx, priya, lostParcel(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Transition(ctx, priya, c.Number, cases.TransitionInput{To: cases.StatusResolved, Resolution: "fixed",
			Note: "found", Reply: "  "}); err == nil {
			t.Fatal("a blank reply was accepted")
		}
		f.clock.Advance(time.Hour)
		c, err = f.svc.Transition(ctx, priya, c.Number, cases.TransitionInput{To: cases.StatusResolved, Resolution: "fixed",
			Note: "carrier recovered", Reply: "Hello, your parcel is on its way again."})
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != cases.StatusResolved || c.FirstResponseAt == nil {
			t.Fatalf("case: %+v", c)
		}
		evs, err := f.svc.Events(ctx, priya, c.Number)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, e := range evs[1:] {
			kinds = append(kinds, e.Type)
		}
		if len(kinds) < 2 || kinds[len(kinds)-2] != "comment" || kinds[len(kinds)-1] != "status" {
			t.Fatalf("timeline: %v", kinds)
		}
		var n int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM case_comments WHERE case_id = ? AND internal = ?`, c.ID, false).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d replies %v", n, err)
		}
		var replied int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM events WHERE type = 'case.replied'`).Scan(&replied); err != nil || replied != 1 {
			t.Fatalf("%d case.replied events %v", replied, err)
		}
	})
}
