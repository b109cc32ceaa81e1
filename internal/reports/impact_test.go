package reports_test

import (
	"context"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/routing"
	"github.com/flare-desk/flare/internal/routing/routingdesk"
	"github.com/flare-desk/flare/internal/sla"
)

// A proposal that sends lost parcels to payments and answers first within
// 30 minutes: the what-if counts the moves and the breaches the tighter
// target would have caused, and writes nothing.
func TestImpactOfAProposedDesk(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		agent := f.Actor("priya.shah")
		for _, title := range []string{"Lost parcel A", "Lost parcel B", "Lost parcel C"} {
			c, err := f.App.Cases.Create(ctx, agent, cases.CreateInput{Title: title, Category: "logistics/lost_parcel", Market: "GB",
				Fields: map[string]any{"order_id": "ORD-1"}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			f.Clock.Advance(time.Hour) // each answered an hour after it came in
			if _, err := f.App.Cases.AddComment(ctx, agent, c.Number, cases.CommentInput{Body: "On it."}); err != nil {
				t.Fatal(err)
			}
		}
		counts := func() (n int) {
			if err := d.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM case_events) + (SELECT COUNT(*) FROM audit_log)`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := counts()

		schema, _ := app.DeskSchema()
		proposed, err := schema.Example()
		if err != nil {
			t.Fatal(err)
		}
		rules := append(routingdesk.RulesOf(proposed), routing.Rule{Name: "Lost parcels to payments",
			When: routing.Conditions{Category: []string{"logistics/lost_parcel"}}, Then: routing.Actions{Team: "payments"}})
		desk.Set(proposed, routingdesk.RulesKey, rules)
		for i := range proposed.SLAPolicies {
			if proposed.SLAPolicies[i].Name == "Standard" {
				proposed.SLAPolicies[i].Targets[sla.FirstResponse] = sla.Target{Within: "30m", Time: sla.CalendarTime}
			}
		}

		im, err := f.App.Reports.Impact(ctx, f.Actor("jonas.weber"), proposed, 30)
		if err != nil {
			t.Fatal(err)
		}
		if im.Cases != 3 || im.ChangedTeam != 3 || im.Moves["logistics → payments"] != 3 {
			t.Fatalf("cases %d changed team %d moves %v", im.Cases, im.ChangedTeam, im.Moves)
		}
		if fr := im.Current.SLA["first_response"]; fr.Of != 3 || fr.Count != 3 {
			t.Fatalf("today: first response %+v, want all 3 met (1 h within 4 h)", fr)
		}
		if fr := im.Proposed.SLA["first_response"]; fr.Of != 3 || fr.Count != 0 || im.Proposed.Breaches["first_response"] != 3 {
			t.Fatalf("proposed: first response %+v breaches %v, want all 3 late (1 h against 30 min)", fr, im.Proposed.Breaches)
		}
		if len(im.Proposed.ByTeam) != 1 || im.Proposed.ByTeam[0].Key != "payments" || im.Proposed.ByTeam[0].Open != 3 {
			t.Fatalf("proposed load %+v", im.Proposed.ByTeam)
		}
		if counts() != before {
			t.Fatal("the what-if wrote to the store")
		}
		if _, err := f.App.Reports.Impact(ctx, f.Actor("jonas.weber"), proposed, 0); err == nil {
			t.Fatal("days=0 accepted")
		}
		if _, err := f.App.Reports.Impact(ctx, agent, proposed, 30); err == nil {
			t.Fatal("an agent ran a what-if")
		}
	})
}
