package cases_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/routing"
	"github.com/flare-desk/flare/internal/routing/routingdesk"
	"github.com/flare-desk/flare/internal/sla"
)

func reasonPoints(c *cases.Case) map[string]int {
	m := map[string]int{}
	for _, r := range c.PriorityReasons {
		m[r.Factor] += r.Points
	}
	return m
}

func lastEvent(t *testing.T, f *fixture, c *cases.Case, typ string) cases.Event {
	t.Helper()
	evs, err := f.svc.Events(context.Background(), f.actor("amelia.clarke"), c.Number)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Type == typ {
			return evs[i]
		}
	}
	t.Fatalf("%s has no %s event", c.Number, typ)
	return cases.Event{}
}

// The example desk's rules on create: a counterfeit report about a seller
// flagged for counterfeits goes to Trust & Safety with a tag, scores the
// safety signal, and the timeline says which rule did it.
func TestRoutingOnCreate(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		c, err := f.svc.Create(ctx, f.actor("amelia.clarke"), cases.CreateInput{
			Title: "Listing sells COUNTERFEIT chargers", Description: "Buyers say the chargers are not\tgenuine.",
			Category: "governance/listing_removal", Market: "US", SellerID: "S-3002"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.Team != "trust_safety" || !slices.Contains(c.Tags, "counterfeit") {
			t.Fatalf("routed to %s with tags %v", c.Team, c.Tags)
		}
		// severity 3 (10) + tier 3 (5) + safety flag (30) = 45: P2.
		if p := reasonPoints(c); c.Priority != "P2" || p["category_severity"] != 10 || p["seller_tier"] != 5 || p["safety"] != 30 {
			t.Fatalf("priority %s reasons %+v", c.Priority, c.PriorityReasons)
		}
		e := lastEvent(t, f, c, "routed")
		if fmt.Sprint(e.Data["rules"]) != "[Counterfeit reports go to Trust & Safety]" {
			t.Fatalf("routed event %+v", e.Data)
		}

		// A leadership escalation: raised a level, watched by the lead.
		in := lostParcel()
		in.Channel = "leadership"
		c, err = f.svc.Create(ctx, f.actor("amelia.clarke"), in, nil)
		if err != nil {
			t.Fatal(err)
		}
		// 10 + 25 + 20 = 55 is a P2, raised to P1 by the rule, which is a reason too.
		if p := reasonPoints(c); c.Priority != "P1" || p["channel"] != 20 || !strings.Contains(fmt.Sprint(c.PriorityReasons), "moved the priority from P2 to P1") {
			t.Fatalf("leadership: %s %+v", c.Priority, c.PriorityReasons)
		}
		got, err := f.svc.Get(ctx, f.actor("amelia.clarke"), c.Number)
		if err != nil || !slices.Contains(got.Watchers, "jonas.weber@flare.example") || !slices.Contains(got.Tags, "leadership") {
			t.Fatalf("watchers %v tags %v (%v)", got.Watchers, got.Tags, err)
		}
	})
}

// Money at stake counts from the category's money field.
func TestPriorityMoneyAtStake(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		c, err := f.svc.Create(context.Background(), f.actor("amelia.clarke"), cases.CreateInput{
			Title: "Payout held", Category: "payments/funds_held", Market: "DE", SellerID: "S-2001",
			Fields: map[string]any{"amount_held": map[string]any{"amount": "12500.00", "currency": "EUR"}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if p := reasonPoints(c); p["money_at_stake"] != 25 || !strings.Contains(fmt.Sprint(c.PriorityReasons), "EUR 12,500") {
			t.Fatalf("reasons %+v", c.PriorityReasons)
		}
	})
}

// Rules run again on update; a team a person sets in the update is kept,
// and a priority a person set is kept until removed with "auto".
func TestRoutingOnUpdateAndOverride(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		admin := f.actor("amelia.clarke")
		c, err := f.svc.Create(ctx, admin, lostParcel(), nil)
		if err != nil {
			t.Fatal(err)
		}
		desc := "The tracking page looks fake."
		c, err = f.svc.Update(ctx, admin, c.Number, cases.UpdateInput{Description: &desc})
		if err != nil {
			t.Fatal(err)
		}
		if c.Team != "trust_safety" || !slices.Contains(c.Tags, "counterfeit") {
			t.Fatalf("after the update: team %s tags %v", c.Team, c.Tags)
		}
		if e := lastEvent(t, f, c, "routed"); !strings.Contains(fmt.Sprint(e.Data["changes"]), "trust_safety") {
			t.Fatalf("routed %+v", e.Data)
		}
		back, desc2 := "logistics", "Still looks fake."
		c, err = f.svc.Update(ctx, admin, c.Number, cases.UpdateInput{Team: &back, Description: &desc2})
		if err != nil || c.Team != "logistics" {
			t.Fatalf("a person's team choice: %v %v", c.Team, err)
		}

		p4, why := "P4", "Buyer already refunded"
		c, err = f.svc.Update(ctx, admin, c.Number, cases.UpdateInput{Priority: &p4, PriorityReason: &why})
		if err != nil || c.Priority != "P4" {
			t.Fatalf("override: %v %v", c, err)
		}
		title := "Parcel never arrived (buyer refunded)"
		if c, err = f.svc.Update(ctx, admin, c.Number, cases.UpdateInput{Title: &title}); err != nil || c.Priority != "P4" {
			t.Fatalf("the override is kept: %v %v", c.Priority, err)
		}
		auto := "auto"
		if c, err = f.svc.Update(ctx, admin, c.Number, cases.UpdateInput{Priority: &auto}); err != nil || c.Priority != "P3" {
			t.Fatalf("auto re-scores: %v %v", c.Priority, err)
		}
	})
}

// A rule can choose the SLA policy, which wins over the policies' matching.
func TestRoutingChoosesSLAPolicy(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.Reapply(t, func(c *desk.Config) {
			desk.Set(c, routingdesk.RulesKey, append(routingdesk.RulesOf(c), routing.Rule{Name: "Lost parcels are key",
				When: routing.Conditions{Category: []string{"logistics/lost_parcel"}},
				Then: routing.Actions{SLAPolicy: "Safety emergencies"}}))
		})
		c, err := f.svc.Create(context.Background(), f.actor("amelia.clarke"), lostParcel(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if ck := clockOf(t, c, sla.FirstResponse); c.SLAPolicy != "Safety emergencies" || ck.Policy != "Safety emergencies" || ck.Target != "30m0s" {
			t.Fatalf("policy %q clock %+v", c.SLAPolicy, ck)
		}
	})
}

// A rule that still matches on an update does not notify again: only what
// a rule newly changes is recorded.
func TestRoutingUpdateDoesNotRepeatNotifications(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		f.Reapply(t, func(c *desk.Config) {
			desk.Set(c, routingdesk.RulesKey, append(routingdesk.RulesOf(c), routing.Rule{Name: "Press is watched",
				When: routing.Conditions{Channel: []string{"social"}},
				Then: routing.Actions{AddTags: []string{"press"}, Notify: []string{"team"}, Escalate: "L3"}}))
		})
		var routed []*events.Routed // the events escalations and notifications will act on
		f.App.Bus.OnTx("test", func(_ context.Context, _ *db.Tx, e events.Event) error {
			routed = append(routed, e.Data.(*events.Routed))
			return nil
		}, events.CaseRouted)
		admin := f.actor("amelia.clarke")
		in := lostParcel()
		in.Channel = "social"
		c, err := f.svc.Create(ctx, admin, in, nil)
		if err != nil {
			t.Fatal(err)
		}
		if e := lastEvent(t, f, c, "routed"); fmt.Sprint(e.Data["notify"]) != "[team]" {
			t.Fatalf("on create: %+v", e.Data)
		}
		title := "Parcel never arrived (second contact)"
		if _, err := f.svc.Update(ctx, admin, c.Number, cases.UpdateInput{Title: &title}); err != nil {
			t.Fatal(err)
		}
		tags := []string{"carrier"} // a person removes the rule's tag: the rule adds it back, and notifies again
		if _, err := f.svc.Update(ctx, admin, c.Number, cases.UpdateInput{Tags: &tags}); err != nil {
			t.Fatal(err)
		}
		evs, err := f.svc.Events(ctx, admin, c.Number)
		if err != nil {
			t.Fatal(err)
		}
		var timeline []string
		for _, e := range evs {
			if e.Type == "routed" {
				timeline = append(timeline, fmt.Sprint(e.Data["notify"]))
			}
		}
		if len(timeline) != 2 || timeline[1] != "[team]" {
			t.Fatalf("routed entries %v: want the create's and the one after the tag came back", timeline)
		}
		if len(routed) != 2 || routed[0].On != "create" || routed[1].On != "update" {
			t.Fatalf("routed events: %+v", routed)
		}
		for _, r := range routed {
			if len(r.Notify) != 1 || r.Notify[0] != (events.Notify{Rule: "Press is watched", Target: "team"}) ||
				len(r.Escalate) != 1 || r.Escalate[0].Policy != "L3" || !slices.Equal(r.Rules, []string{"Press is watched"}) {
				t.Fatalf("routed event %+v", r)
			}
		}
	})
}
