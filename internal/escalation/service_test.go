package escalation_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/escalation"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/routing"
	"github.com/flare-desk/flare/internal/routing/routingdesk"
)

var t0 = apptest.T0

// The deadlines of the safety policy below for a case escalated at t0.
var (
	d1 = t0.Add(15 * time.Minute) // L1 unacknowledged: L2
	d2 = d1.Add(30 * time.Minute) // L2 unacknowledged: L3
	d3 = d2.Add(time.Hour)        // L3 unacknowledged: the fallback
)

// safetyPolicy escalates high-risk and P1 Trust & Safety cases: the owner
// and the team's on-call first, then the leads, then Jonas, then the admins.
func safetyPolicy() escalation.Policy {
	return escalation.Policy{
		Name:     "Safety emergency",
		Triggers: []string{"high_risk", "p1"},
		When:     escalation.Match{Teams: []string{"trust_safety"}},
		Steps: []escalation.Step{
			{Level: 1, Targets: []escalation.Target{{Owner: true}, {OnCall: "case"}}, AckWithin: "15m"},
			{Level: 2, Targets: []escalation.Target{{Role: "lead"}}, AckWithin: "30m"},
			{Level: 3, Targets: []escalation.Target{{User: "jonas.weber@flare.example"}}, AckWithin: "1h",
				Fallback: []escalation.Target{{Role: "admin"}}},
		},
	}
}

func withPolicies(ps ...escalation.Policy) func(c *desk.Config) {
	return func(c *desk.Config) { desk.Set(c, escalation.PoliciesKey, ps) }
}

type fixture struct {
	*apptest.Fixture
	esc *escalation.Service
}

func newFixture(t *testing.T, d *db.DB, edit func(c *desk.Config)) *fixture {
	t.Helper()
	fx := apptest.New(t, d)
	if edit != nil {
		fx.Reapply(t, edit)
	}
	return &fixture{Fixture: fx, esc: fx.App.Escalation}
}

// highRisk creates a high-risk product safety case at t0 (Trust & Safety,
// P1 by its score).
func (f *fixture) highRisk(t *testing.T) *cases.Case {
	t.Helper()
	c, err := f.App.Cases.Create(context.Background(), auth.System("test"), cases.CreateInput{Title: "Charger caught fire in a flat",
		Category: "safety/product_safety", Market: "GB", HighRisk: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) view(t *testing.T, ref string) *escalation.CaseView {
	t.Helper()
	v, err := f.esc.ForCase(context.Background(), f.Actor("amelia.clarke"), ref)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// timeline counts the case's timeline entries by type.
func (f *fixture) timeline(t *testing.T, ref string) map[string]int {
	t.Helper()
	evs, err := f.App.Cases.Events(context.Background(), f.Actor("amelia.clarke"), ref)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range evs {
		out[e.Type]++
	}
	return out
}

const look = 20 * time.Second // the timer's longest sleep

// walk moves the fake clock to `to` in the timer's steps, each time waiting
// for it to sleep again: until the earliest of its next look and the next
// of dues after the instant it reached.
func walk(t *testing.T, f *fixture, to time.Time, dues ...time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for now := f.Clock.Now(); now.Before(to); now = f.Clock.Now() {
		n := now.Add(look)
		if n.After(to) {
			n = to
		}
		f.Clock.Set(n)
		next := n.Add(look)
		for _, d := range dues {
			if d.After(n) && d.Before(next) {
				next = d
			}
		}
		if err := f.Clock.BlockUntilDeadline(ctx, next); err != nil {
			t.Fatalf("at %s: %v", n.Format(time.TimeOnly), err)
		}
	}
}

func runTimer(t *testing.T, s *escalation.Service) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.RunTimer(ctx) }()
	return func() { cancel(); <-done }
}

// A P1 high-risk case nobody acknowledges reaches L2 exactly at the first
// deadline, then L3 at the next; acknowledging stops the clock.
func TestEscalationTiming(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, withPolicies(safetyPolicy()))
		stop := runTimer(t, f.esc)
		defer stop()
		wait, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := f.Clock.BlockUntilDeadline(wait, t0.Add(look)); err != nil {
			t.Fatal(err)
		}

		var seen []string
		f.App.Cases.Bus().OnTx("test", func(_ context.Context, _ *db.Tx, e events.Event) error {
			p := e.Data.(*events.Escalation)
			seen = append(seen, fmt.Sprintf("%s L%d>L%d step %d %v", e.Type, p.FromLevel, p.Level, p.Step, p.Targets))
			return nil
		}, events.EscalationStarted, events.EscalationStepped, events.EscalationAcknowledged, events.EscalationClosed)
		c := f.highRisk(t)
		if c.Priority != "P1" || !c.HighRisk {
			t.Fatalf("case is %s high risk %v", c.Priority, c.HighRisk)
		}
		v := f.view(t, c.Number)
		if len(v.Escalations) != 1 {
			t.Fatalf("escalations on create: %+v", v.Escalations)
		}
		e := v.Escalations[0]
		if e.Policy != "Safety emergency" || e.Trigger != "p1" || e.Level != 1 || e.State != escalation.Open ||
			e.DueAt == nil || !e.DueAt.Equal(d1) || c.EscalationLevel != 1 {
			t.Fatalf("started escalation %+v on a case at L%d", e, c.EscalationLevel)
		}
		// The owner (round robin) and the whole team (no on-call schedule).
		if !slices.Equal(e.Targets, []string{"amelia.clarke@flare.example", "marcus.reed@flare.example"}) {
			t.Errorf("step 0 asks %v", e.Targets)
		}

		walk(t, f, d1.Add(-time.Microsecond), d1)
		if v := f.view(t, c.Number); v.Level != 1 || v.Escalations[0].Step != 0 {
			t.Fatalf("stepped before the deadline: L%d step %d", v.Level, v.Escalations[0].Step)
		}
		walk(t, f, d1, d2)
		v = f.view(t, c.Number)
		if e := v.Escalations[0]; v.Level != 2 || e.Step != 1 || !e.StepStartedAt.Equal(d1) || !e.DueAt.Equal(d2) ||
			!slices.Equal(e.Targets, []string{"jonas.weber@flare.example"}) {
			t.Fatalf("at the first deadline: L%d %+v", v.Level, e)
		}
		walk(t, f, d2.Add(-time.Microsecond), d2)
		if v := f.view(t, c.Number); v.Level != 2 {
			t.Fatalf("L%d before the second deadline", v.Level)
		}
		walk(t, f, d2, d3)
		v = f.view(t, c.Number)
		if e := v.Escalations[0]; v.Level != 3 || e.Step != 2 || !e.DueAt.Equal(d3) {
			t.Fatalf("at the second deadline: L%d %+v", v.Level, e)
		}
		got, err := f.App.Cases.Get(ctx, f.Actor("amelia.clarke"), c.Number)
		if err != nil || got.EscalationLevel != 3 {
			t.Fatalf("case level %d, %v", got.EscalationLevel, err)
		}

		// Jonas acknowledges halfway: the clock stops, nothing more fires.
		walk(t, f, d2.Add(20*time.Minute), d3)
		acked, err := f.esc.Acknowledge(ctx, f.Actor("jonas.weber"), c.Number, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if acked.State != escalation.Acknowledged || acked.DueAt != nil || acked.AckedBy == nil ||
			*acked.AckedBy != "jonas.weber@flare.example" || !acked.AckedAt.Equal(d2.Add(20*time.Minute)) ||
			!slices.Equal(acked.Holders, []string{"jonas.weber@flare.example"}) {
			t.Fatalf("acknowledged: %+v", acked)
		}
		walk(t, f, d3.Add(2*time.Hour))
		if v := f.view(t, c.Number); v.Level != 3 || v.Escalations[0].Step != 2 {
			t.Fatalf("after the acknowledgement: L%d step %d", v.Level, v.Escalations[0].Step)
		}
		tl := f.timeline(t, c.Number)
		if tl["escalation_started"] != 1 || tl["escalation_stepped"] != 2 || tl["escalation_acknowledged"] != 1 {
			t.Errorf("timeline: %v", tl)
		}
		wantSeen := []string{
			"escalation.started L1>L1 step 0 [amelia.clarke@flare.example marcus.reed@flare.example]",
			"escalation.stepped L1>L2 step 1 [jonas.weber@flare.example]",
			"escalation.stepped L2>L3 step 2 [jonas.weber@flare.example]",
			"escalation.acknowledged L3>L3 step 2 [jonas.weber@flare.example]",
		}
		if !slices.Equal(seen, wantSeen) {
			t.Errorf("events:\n%s\nwant\n%s", strings.Join(seen, "\n"), strings.Join(wantSeen, "\n"))
		}
		if _, err := f.esc.Acknowledge(ctx, f.Actor("amelia.clarke"), c.Number, e.ID); !isConflict(err) {
			t.Errorf("acknowledged twice: %v", err)
		}
	})
}

// A restart in between loses nothing and fires nothing twice: the timer
// stops after L2, a deadline passes while no server runs, and two new
// timers on the same store fire it once, at its instant.
func TestEscalationSurvivesRestart(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, withPolicies(safetyPolicy()))
		stop := runTimer(t, f.esc)
		wait, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := f.Clock.BlockUntilDeadline(wait, t0.Add(look)); err != nil {
			t.Fatal(err)
		}
		c := f.highRisk(t)
		walk(t, f, d1, d2)
		if v := f.view(t, c.Number); v.Level != 2 {
			t.Fatalf("L%d at the first deadline", v.Level)
		}
		stop()

		// Nobody runs while the second deadline passes.
		f.Clock.Set(d2.Add(10 * time.Minute))
		if v := f.view(t, c.Number); v.Level != 2 {
			t.Fatalf("stepped with no timer running: L%d", v.Level)
		}
		// Two servers start on the same store.
		a2, err := app.New(d, app.Options{Clock: f.Clock})
		if err != nil {
			t.Fatal(err)
		}
		stop1, stop2 := runTimer(t, f.esc), runTimer(t, a2.Escalation)
		defer stop1()
		defer stop2()
		// Both have run a round and sleep until their next look.
		if err := f.Clock.BlockUntil(wait, 2); err != nil {
			t.Fatal(err)
		}
		for _, w := range f.Clock.Waiting() {
			if w.Before(f.Clock.Now().Add(look)) {
				t.Fatalf("a timer still waits for %v", w)
			}
		}
		v := f.view(t, c.Number)
		if e := v.Escalations[0]; v.Level != 3 || e.Step != 2 || !e.StepStartedAt.Equal(d2) || !e.DueAt.Equal(d3) {
			t.Fatalf("after the restart: L%d %+v", v.Level, e)
		}
		if tl := f.timeline(t, c.Number); tl["escalation_stepped"] != 2 {
			t.Fatalf("stepped %d times, want 2 (once per deadline): %v", tl["escalation_stepped"], tl)
		}
		// The fallback at the third deadline, once, then no deadline.
		walk(t, f, d3, d3.Add(look))
		v = f.view(t, c.Number)
		if e := v.Escalations[0]; e.Step != escalation.FallbackStep || e.DueAt != nil ||
			!slices.Equal(e.Targets, []string{"amelia.clarke@flare.example"}) || v.Level != 3 {
			t.Fatalf("fallback: L%d %+v", v.Level, e)
		}
		if tl := f.timeline(t, c.Number); tl["escalation_stepped"] != 3 {
			t.Fatalf("timeline %v", tl)
		}
	})
}

func isConflict(err error) bool {
	var cf *apperr.Conflict
	return errors.As(err, &cf)
}

func wantInvalid(t *testing.T, err error, field, contains string) {
	t.Helper()
	var inv *apperr.Invalid
	if !errors.As(err, &inv) {
		t.Fatalf("want invalid %s, got %v", field, err)
	}
	for _, e := range inv.Errors {
		if e.Field == field && strings.Contains(e.Message, contains) {
			return
		}
	}
	t.Fatalf("no error for %s with %q in %+v", field, contains, inv.Errors)
}

// Escalating by hand needs a reason and raises the level; de-escalating
// needs one too; a case's PATCH no longer sets the level; resolving closes
// the escalations; visibility follows the case's.
func TestEscalateByHand(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d, nil)
		amelia, jonas, priya, sophie := f.Actor("amelia.clarke"), f.Actor("jonas.weber"), f.Actor("priya.shah"), f.Actor("sophie.martin")
		c := f.OwnedCase(t, apptest.Suspension()) // restricted governance, amelia owns it

		_, err := f.esc.Escalate(ctx, amelia, c.Number, escalation.Input{Level: 3}, nil)
		wantInvalid(t, err, "reason", "say why")
		_, err = f.esc.Escalate(ctx, amelia, c.Number, escalation.Input{Reason: "x", Level: 9}, nil)
		wantInvalid(t, err, "level", "from 1 to 5")
		_, err = f.esc.Escalate(ctx, amelia, c.Number, escalation.Input{Reason: "x", Policy: "Nope"}, nil)
		wantInvalid(t, err, "policy", "no escalation policy")
		if _, err := f.esc.Escalate(ctx, priya, c.Number, escalation.Input{Reason: "x"}, nil); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("an agent who cannot see the case escalated it: %v", err)
		}
		if _, err := f.esc.Escalate(ctx, sophie, c.Number, escalation.Input{Reason: "x"}, nil); err == nil {
			t.Error("an account manager escalated a case")
		}

		e, err := f.esc.Escalate(ctx, amelia, c.Number, escalation.Input{Reason: "Seller threatens legal action", Level: 3}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if e.Level != 3 || e.FromLevel != 1 || e.Trigger != "manual" || e.Reason != "Seller threatens legal action" ||
			e.Policy != "" || e.DueAt != nil || e.StartedBy == nil || *e.StartedBy != amelia.Email || e.LevelName != "L3 Specialist team / team lead" {
			t.Fatalf("escalated: %+v", e)
		}
		got, _ := f.App.Cases.Get(ctx, amelia, c.Number)
		if got.EscalationLevel != 3 {
			t.Fatalf("case at L%d", got.EscalationLevel)
		}
		_, err = f.esc.Escalate(ctx, amelia, c.Number, escalation.Input{Reason: "again", Level: 2}, nil)
		wantInvalid(t, err, "level", "at L3 Specialist team / team lead already")

		// The case's PATCH refuses the level and points here.
		lv := 4
		_, err = f.App.Cases.Update(ctx, amelia, c.Number, cases.UpdateInput{EscalationLevel: &lv})
		wantInvalid(t, err, "escalation_level", "/escalations")

		// Lists: open ones, by who may see the case.
		page, err := f.esc.List(ctx, jonas, escalation.Filter{State: []escalation.State{escalation.Open}})
		if err != nil || len(page.Escalations) != 1 || page.Escalations[0].ID != e.ID {
			t.Fatalf("lead's list: %+v %v", page, err)
		}
		if page, err := f.esc.List(ctx, priya, escalation.Filter{}); err != nil || len(page.Escalations) != 0 {
			t.Fatalf("agent outside the team lists %+v %v", page, err)
		}
		if _, err := f.esc.List(ctx, sophie, escalation.Filter{}); err == nil {
			t.Fatal("an account manager lists escalations")
		}
		if _, err := f.esc.ForCase(ctx, priya, c.Number); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("agent reads the escalations of a case they cannot see: %v", err)
		}

		_, err = f.esc.Deescalate(ctx, amelia, c.Number, escalation.DeescalateInput{})
		wantInvalid(t, err, "reason", "say why")
		v, err := f.esc.Deescalate(ctx, amelia, c.Number, escalation.DeescalateInput{Reason: "Legal says no claim", Level: 2})
		if err != nil {
			t.Fatal(err)
		}
		if v.Level != 2 || v.Escalations[0].State != escalation.Closed || v.Escalations[0].CloseReason != "Legal says no claim" {
			t.Fatalf("de-escalated: %+v %+v", v, v.Escalations[0])
		}
		_, err = f.esc.Deescalate(ctx, amelia, c.Number, escalation.DeescalateInput{Reason: "again", Level: 2})
		wantInvalid(t, err, "level", "nothing to de-escalate")

		// Resolving closes what is open.
		if _, err := f.esc.Escalate(ctx, amelia, c.Number, escalation.Input{Reason: "Press enquiry"}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := f.App.Cases.Transition(ctx, amelia, c.Number, cases.TransitionInput{To: cases.StatusResolved,
			Resolution: "policy_upheld", Note: "Suspension upheld after review."}); err != nil {
			t.Fatal(err)
		}
		v = f.view(t, c.Number)
		if v.Level != 3 || v.Escalations[0].State != escalation.Closed || v.Escalations[0].CloseReason != "the case was resolved" {
			t.Fatalf("after resolving: L%d %+v", v.Level, v.Escalations[0])
		}
		if _, err := f.esc.Escalate(ctx, amelia, c.Number, escalation.Input{Reason: "x"}, nil); !isConflict(err) {
			t.Fatalf("escalated a resolved case: %v", err)
		}
		tl := f.timeline(t, c.Number)
		if tl["escalation_started"] != 2 || tl["escalation_closed"] != 2 || tl["deescalated"] != 1 {
			t.Errorf("timeline %v", tl)
		}
	})
}

// Triggers: a routing rule's escalate action, an SLA breach, a repeat
// reopen, a change to P1 — each the first policy that fits, once.
func TestTriggers(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		breach := escalation.Policy{Name: "Missed first response", Triggers: []string{"sla_breach:first_response"},
			Steps: []escalation.Step{{Level: 2, Targets: []escalation.Target{{Team: "case"}}, AckWithin: "1h"}}}
		reopen := escalation.Policy{Name: "Repeat reopen", Triggers: []string{"reopen", "p1"},
			Steps: []escalation.Step{{Level: 3, Targets: []escalation.Target{{Role: "lead"}}, AckWithin: "1h"}}}
		payout := escalation.Policy{Name: "Payouts", Steps: []escalation.Step{{Level: 2, Targets: []escalation.Target{{OnCall: "payments"}}, AckWithin: "2h"}}}
		f := newFixture(t, d, func(c *desk.Config) {
			desk.Set(c, escalation.PoliciesKey, []escalation.Policy{breach, reopen, payout})
			rules := routingdesk.RulesOf(c)
			rules = append(rules, routing.Rule{Name: "Failed payouts escalate", When: routing.Conditions{Category: []string{"payments/payout_failed"}},
				Then: routing.Actions{Escalate: "Payouts"}})
			desk.Set(c, routingdesk.RulesKey, rules)
		})
		amelia := f.Actor("amelia.clarke")
		stamp := func(ref string) []string {
			var out []string
			for _, e := range f.view(t, ref).Escalations {
				out = append(out, e.Policy+"/"+e.Trigger+"/"+string(e.State))
			}
			return out
		}

		// A routing rule names the policy.
		p, err := f.App.Cases.Create(ctx, amelia, cases.CreateInput{Title: "Payout bounced twice", Category: "payments/payout_failed", Market: "DE"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := stamp(p.Number); !slices.Equal(got, []string{"Payouts/routing_rule/open"}) {
			t.Fatalf("routed: %v", got)
		}
		if p.EscalationLevel != 2 {
			t.Errorf("the created case comes back at L%d", p.EscalationLevel)
		}
		if e := f.view(t, p.Number).Escalations[0]; !slices.Equal(e.Targets, []string{"jonas.weber@flare.example"}) ||
			e.Reason != `routing rule "Failed payouts escalate"` {
			t.Errorf("routed escalation: %+v", e)
		}

		// A first response breach (the Standard policy: 4h of business time).
		c, err := f.App.Cases.Create(ctx, amelia, cases.CreateInput{Title: "Parcel lost", Category: "logistics/lost_parcel", Market: "GB",
			Fields: map[string]any{"order_id": "ORD-1"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		f.Clock.Advance(5 * time.Hour)
		if _, err := f.App.Cases.FireSLA(ctx); err != nil {
			t.Fatal(err)
		}
		if got := stamp(c.Number); !slices.Equal(got, []string{"Missed first response/sla_breach/open"}) {
			t.Fatalf("after the breach: %v", got)
		}

		// P1 by hand: the reopen policy lists p1 too.
		p1, reason := "P1", "Regulator asked"
		got, err := f.App.Cases.Update(ctx, amelia, c.Number, cases.UpdateInput{Priority: &p1, PriorityReason: &reason})
		if err != nil {
			t.Fatal(err)
		}
		if got.EscalationLevel != 3 {
			t.Errorf("the update answers L%d, the escalation raised it to 3", got.EscalationLevel)
		}
		if got := stamp(c.Number); !slices.Equal(got, []string{"Repeat reopen/p1/open", "Missed first response/sla_breach/open"}) {
			t.Fatalf("after P1: %v", got)
		}

		// Reopened once: nothing; twice: the policy, unless it runs already.
		r, err := f.App.Cases.Create(ctx, amelia, cases.CreateInput{Title: "Listing removed", Category: "governance/listing_removal", Market: "GB",
			Fields: map[string]any{"listings_affected": 3, "policy": "counterfeit"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			for _, to := range []cases.Status{cases.StatusOpen, cases.StatusResolved, cases.StatusOpen} {
				in := cases.TransitionInput{To: to}
				if to == cases.StatusResolved {
					in.Resolution, in.Note = "fixed", "done"
				}
				if i == 1 && to == cases.StatusOpen && r.Status == cases.StatusOpen {
					continue
				}
				if r, err = f.App.Cases.Transition(ctx, amelia, r.Number, in); err != nil {
					t.Fatalf("to %s: %v", to, err)
				}
			}
			want := []string(nil)
			if i == 1 {
				want = []string{"Repeat reopen/reopen/open"}
			}
			if got := stamp(r.Number); !slices.Equal(got, want) {
				t.Fatalf("reopened %d times: %v", r.ReopenCount, got)
			}
		}

		// Each start is audited: the four above and the payout case's own
		// first response breach.
		if got := stamp(p.Number); !slices.Equal(got, []string{"Missed first response/sla_breach/open", "Payouts/routing_rule/open"}) {
			t.Errorf("payout case: %v", got)
		}
		var n int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'escalation.start'`).Scan(&n); err != nil || n != 5 {
			t.Errorf("audited starts: %d %v", n, err)
		}
	})
}
