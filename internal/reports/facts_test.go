package reports_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/escalation"
	"github.com/flare-desk/flare/internal/handoffs"
	"github.com/flare-desk/flare/internal/intake"
	"github.com/flare-desk/flare/internal/reports"
	"github.com/flare-desk/flare/internal/sla"
)

// facts is report_facts as text, in case order.
func facts(t *testing.T, d *db.DB) []string {
	t.Helper()
	rows, err := d.Query(context.Background(), `SELECT case_id, team, market, category, channel, priority, owner_id, seller_id,
		created_at, first_response_at, resolved_at, active, reopen_count, escalated, repeat_contact, clocks, calendar,
		first_response_business_ns, resolution_business_ns FROM report_facts ORDER BY case_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vs := make([]any, 19)
		ps := make([]any, len(vs))
		for i := range vs {
			ps[i] = &vs[i]
		}
		if err := rows.Scan(ps...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vs {
			if b, ok := v.([]byte); ok {
				vs[i] = string(b)
			}
		}
		out = append(out, fmt.Sprint(vs...))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// recomputed is the facts written afresh from the case rows, as the
// backfill of migration 00029 writes them.
func recomputed(t *testing.T, f *apptest.Fixture) []string {
	t.Helper()
	ctx := context.Background()
	for _, q := range []string{`DELETE FROM report_facts`, `DELETE FROM report_backlog`} {
		if _, err := f.DB.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.App.Reports.SyncFacts(ctx); err != nil {
		t.Fatal(err)
	}
	return append(facts(t, f.DB), backlog(t, f.DB)...)
}

// backlog is the kept backlog counters, and the active cases per market
// counted from the cases, as text.
func backlog(t *testing.T, d *db.DB) []string {
	t.Helper()
	var out []string
	for _, q := range []string{`SELECT market, active FROM report_backlog WHERE active <> 0 ORDER BY market`,
		`SELECT market, COUNT(*) FROM cases WHERE status IN ('new', 'open', 'pending_internal', 'pending_requester')
			GROUP BY market ORDER BY market`} {
		rows, err := d.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var m string
			var n int
			if err := rows.Scan(&m, &n); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprint(m, "=", n))
		}
		rows.Close()
		out = append(out, fmt.Sprint(got))
	}
	if out[0] != out[1] {
		t.Fatalf("backlog counters %s, counted from the cases %s", out[0], out[1])
	}
	return out[:1]
}

// The facts kept in each case's transaction stay equal to a
// recomputation from the case rows through creates, changes, replies,
// pending and back, resolve, reopen, SLA breaches fired by the timer and
// handoffs; and the reports read from them give the same figures as from
// recomputed facts, also after the team calendar changes.
func TestFactsStayEqualToARecomputation(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		agent, lead := f.Actor("priya.shah"), f.Actor("jonas.weber")
		mk := func(title, category, market string) *cases.Case {
			in := cases.CreateInput{Title: title, Category: category, Market: market}
			if category == "logistics/lost_parcel" {
				in.Fields = map[string]any{"order_id": "ORD-1"}
			}
			c, err := f.App.Cases.Create(ctx, agent, in, nil)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		move := func(c *cases.Case, to cases.Status) {
			in := cases.TransitionInput{To: to, Note: "Moved."}
			if to == cases.StatusResolved {
				in.Resolution = "refunded"
			}
			if _, err := f.App.Cases.Transition(ctx, agent, c.Number, in); err != nil {
				t.Fatalf("%s to %s: %v", c.Number, to, err)
			}
		}
		start := f.Clock.Now()
		check := func(step string, stale bool) {
			t.Helper()
			kept := append(facts(t, d), backlog(t, d)...)
			var n int
			if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM cases`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if len(kept)-1 != n {
				t.Fatalf("%s: %d facts for %d cases", step, len(kept), n)
			}
			period := reports.Filter{Period: reports.Period{From: start.Add(-24 * time.Hour), To: f.Clock.Now().Add(time.Hour)}, By: "team"}
			before, err := f.App.Reports.Report(ctx, lead, period)
			if err != nil {
				t.Fatal(err)
			}
			// Stale: the kept facts' durations are of another calendar; the
			// report must not use them.
			if again := recomputed(t, f); reflect.DeepEqual(kept, again) == stale {
				t.Fatalf("%s: kept facts (stale %v)\n%v\nrecomputed\n%v", step, stale, kept, again)
			}
			after, err := f.App.Reports.Report(ctx, lead, period)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(before, after) {
				t.Fatalf("%s: the report changed with recomputed facts:\n%+v\n%+v", step, before, after)
			}
		}
		a := mk("Lost parcel A", "logistics/lost_parcel", "GB")
		b := mk("Lost parcel B", "logistics/lost_parcel", "DE")
		c := mk("Payout C", "payments/payout_failed", "US")
		check("created", false)

		f.Clock.Advance(40 * time.Minute)
		if _, err := f.App.Cases.AddComment(ctx, agent, a.Number, cases.CommentInput{Body: "We are on it."}); err != nil {
			t.Fatal(err)
		}
		market, title := "US", "Lost parcel B (US)"
		if _, err := f.App.Cases.Update(ctx, agent, b.Number, cases.UpdateInput{Market: &market, Title: &title}); err != nil {
			t.Fatal(err)
		}
		check("replied and changed", false)

		if _, err := f.App.Handoffs.Create(ctx, agent, a.Number, handoffs.Input{Team: "payments", Request: "Refund the buyer?"}, nil); err != nil {
			t.Fatal(err)
		}
		move(c, cases.StatusPendingRequester)
		if _, err := f.App.Escalation.Escalate(ctx, agent, b.Number, escalation.Input{Reason: "The carrier does not answer."}, nil); err != nil {
			t.Fatal(err)
		}
		check("handoff, pending and escalated", false)

		// Two contacts from one requester: the second is linked as a repeat.
		sys := auth.System("test")
		for _, id := range []string{"1", "2"} {
			if _, err := f.App.Intake.Submit(ctx, sys, intake.Submission{
				Source: intake.Source{Channel: "web_form", Key: "webform", ExternalID: id},
				Case: cases.CreateInput{Title: "Where is my parcel", Description: "The parcel never arrived.",
					Category: "logistics/lost_parcel", Market: "GB", Requester: &cases.Requester{Name: "Ann Buyer", Email: "ann@example.com"}}}); err != nil {
				t.Fatal(err)
			}
		}
		var escalated, repeats int
		if err := d.QueryRow(ctx, `SELECT SUM(CASE WHEN escalated THEN 1 ELSE 0 END), SUM(CASE WHEN repeat_contact THEN 1 ELSE 0 END)
			FROM report_facts`).Scan(&escalated, &repeats); err != nil {
			t.Fatal(err)
		}
		if escalated != 1 || repeats != 1 {
			t.Fatalf("facts: %d escalated, %d repeats, want 1 and 1", escalated, repeats)
		}
		check("repeat contact", false)

		// Past every first-response target: the timer breaches B's and C's clocks.
		f.Clock.Advance(3 * 24 * time.Hour)
		if _, err := f.App.Cases.FireSLA(ctx); err != nil {
			t.Fatal(err)
		}
		var breaches int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM sla_events WHERE kind = 'breach'`).Scan(&breaches); err != nil {
			t.Fatal(err)
		}
		if breaches == 0 {
			t.Fatal("no SLA breach fired: the test would not cover one")
		}
		check("breached", false)

		move(c, cases.StatusOpen)
		move(a, cases.StatusResolved)
		f.Clock.Advance(2 * time.Hour)
		move(a, cases.StatusOpen) // reopened
		f.Clock.Advance(time.Hour)
		move(a, cases.StatusResolved)
		move(b, cases.StatusResolved)
		check("resolved and reopened", false)

		// A changed team calendar: the stored business durations are not
		// used (computed again), and agree with facts written afresh.
		f.Reapply(t, func(cfg *desk.Config) {
			for i := range cfg.Calendars {
				cfg.Calendars[i].Closures = append(cfg.Calendars[i].Closures, sla.Closure{Date: start.Format(time.DateOnly)})
			}
		})
		check("calendar changed", true)
	})
}
