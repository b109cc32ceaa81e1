package cases_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/routing/routingdesk"
)

// The routing explanation of a stored case is the computation whose result
// the case holds: the same score and reasons, however much later it is
// asked for — even after a later case about the same seller, after the
// repeat window has moved on and after the SLA pressure it was scored with
// has gone (the case resolved). Only a change of the desk's weights shows.
func TestExplainCaseAgreesWithStoredReasons(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		admin := f.actor("amelia.clarke")
		create := func() *cases.Case {
			t.Helper()
			c, err := f.svc.Create(ctx, admin, lostParcel(), nil)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		create()
		f.clock.Advance(time.Hour)
		c := create() // a repeat contact: one earlier case of the seller and category
		f.clock.Advance(4 * 24 * time.Hour)
		tags := []string{"carrier", "chased"}
		c, err := f.svc.Update(ctx, admin, c.Number, cases.UpdateInput{Tags: &tags}) // scored again, its clocks now breached
		if err != nil {
			t.Fatal(err)
		}
		assessedAt := f.clock.Now()
		points := reasonPoints(c)
		if points["repeat_contacts"] != 5 || points["sla_pressure"] == 0 {
			t.Fatalf("after the update the reasons are %+v; want repeat contacts +5 and SLA pressure", c.PriorityReasons)
		}
		f.clock.Advance(time.Hour)
		create() // a later case is no repeat contact of c
		if _, err := f.svc.Transition(ctx, admin, c.Number, cases.TransitionInput{To: cases.StatusResolved, Resolution: "fixed", Note: "Found."}); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(40 * 24 * time.Hour) // the first case is now outside a 30-day window counted from now

		c, err = f.svc.Get(ctx, admin, c.Number)
		if err != nil {
			t.Fatal(err)
		}
		x, err := f.svc.ExplainCase(ctx, admin, c.Number)
		if err != nil {
			t.Fatal(err)
		}
		score := 0
		for _, r := range c.PriorityReasons {
			score += r.Points
		}
		if x.Priority != c.Priority || x.Score != score || !slices.Equal(x.Reasons, c.PriorityReasons) || x.DeskChanged {
			t.Fatalf("explain: %s score %d %+v (desk changed %v)\ncase:    %s score %d %+v", x.Priority, x.Score, x.Reasons, x.DeskChanged,
				c.Priority, score, c.PriorityReasons)
		}
		if x.Event != "update" || !x.AssessedAt.Equal(assessedAt) {
			t.Fatalf("explained the %s at %s, want the update at %s", x.Event, x.AssessedAt, assessedAt)
		}
		evs, err := f.svc.Events(ctx, admin, c.Number)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs { // the facts are kept for the explanation, not shown on the timeline
			if _, ok := e.Data["assessed"]; ok {
				t.Fatalf("the timeline shows the facts of an assessment: %s %+v", e.Type, e.Data)
			}
		}

		// New weights apply to the same facts, and say the desk changed.
		f.Reapply(t, func(cfg *desk.Config) {
			w := routingdesk.WeightsOf(cfg)
			w.RepeatContacts.Each = 7
			desk.Set(cfg, routingdesk.WeightsKey, w)
		})
		f.clock.Advance(time.Minute) // past the desk service's re-check of the stored version
		if x, err = f.svc.ExplainCase(ctx, admin, c.Number); err != nil {
			t.Fatal(err)
		}
		if !x.DeskChanged || reasonPointsOf(x.Reasons)["repeat_contacts"] != 7 {
			t.Fatalf("after new weights: desk changed %v, reasons %+v", x.DeskChanged, x.Reasons)
		}
	})
}

// Repeat contacts are the earlier cases of the seller and category in the
// 30 days before a case was created, not around the time it is scored.
func TestRepeatContactsCountEarlierCases(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		admin := f.actor("amelia.clarke")
		first, err := f.svc.Create(ctx, admin, lostParcel(), nil)
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(29 * 24 * time.Hour)
		second, err := f.svc.Create(ctx, admin, lostParcel(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if p := reasonPoints(second); p["repeat_contacts"] != 5 {
			t.Fatalf("second case: %+v", second.PriorityReasons)
		}
		f.clock.Advance(2 * 24 * time.Hour)
		desc := "Still no parcel."
		for _, c := range []*cases.Case{first, second} { // scored again 31 days after the first
			got, err := f.svc.Update(ctx, admin, c.Number, cases.UpdateInput{Description: &desc})
			if err != nil {
				t.Fatal(err)
			}
			if p, want := reasonPoints(got)["repeat_contacts"], reasonPoints(c)["repeat_contacts"]; p != want {
				t.Errorf("%s: repeat contacts +%d after the update, +%d before", c.Number, p, want)
			}
		}
	})
}

func reasonPointsOf(rs []cases.Reason) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		m[r.Factor] += r.Points
	}
	return m
}
