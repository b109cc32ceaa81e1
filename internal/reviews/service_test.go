package reviews_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/handoffs"
	"github.com/flare-desk/flare/internal/reports"
	"github.com/flare-desk/flare/internal/reviews"
)

// week45 writes a small week (2026-W45, Monday 2 November; London keeps
// UTC then, so the example desk's EMEA hours are 09:00-18:00 UTC) of three
// lost-parcel cases, every figure worked out by hand:
//
//	A  GB  Mon 09:00  answered 10:00 (1 h, first response met), resolved 11:00
//	B  GB  Mon 09:30  handed to Payments 09:45 and never answered: its 4 h
//	                  first response breaches at 13:30 while Payments holds it
//	C  DE  Tue 09:00  answered 09:30 (30 min, met), still open
func week45(t *testing.T, f *apptest.Fixture) {
	t.Helper()
	ctx := context.Background()
	priya := f.Actor("priya.shah")
	mk := func(title, market string) *cases.Case {
		c, err := f.App.Cases.Create(ctx, priya, cases.CreateInput{Title: title, Category: "logistics/lost_parcel", Market: market,
			Fields: map[string]any{"order_id": "ORD-" + title}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	reply := func(c *cases.Case) {
		if _, err := f.App.Cases.AddComment(ctx, priya, c.Number, cases.CommentInput{Body: "We are on it."}); err != nil {
			t.Fatal(err)
		}
	}
	f.Clock.Set(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	a := mk("A", "GB")
	f.Clock.Set(time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC))
	b := mk("B", "GB")
	f.Clock.Set(time.Date(2026, 11, 2, 9, 45, 0, 0, time.UTC))
	if _, err := f.App.Handoffs.Create(ctx, priya, b.Number, handoffs.Input{Team: "payments", Request: "Was the refund sent?"}, nil); err != nil {
		t.Fatal(err)
	}
	f.Clock.Set(time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC))
	reply(a)
	f.Clock.Set(time.Date(2026, 11, 2, 11, 0, 0, 0, time.UTC))
	if _, err := f.App.Cases.Transition(ctx, priya, a.Number, cases.TransitionInput{To: cases.StatusResolved,
		Resolution: "refunded", Note: "Refunded."}); err != nil {
		t.Fatal(err)
	}
	f.Clock.Set(time.Date(2026, 11, 2, 14, 0, 0, 0, time.UTC))
	if _, err := f.App.Cases.FireSLA(ctx); err != nil { // B's first response breaches
		t.Fatal(err)
	}
	f.Clock.Set(time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC))
	c := mk("C", "DE")
	f.Clock.Set(time.Date(2026, 11, 3, 9, 30, 0, 0, time.UTC))
	reply(c)
}

func TestPackAgainstHandComputedFigures(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		f.Reapply(t, func(c *desk.Config) {
			desk.Set(c, reports.TargetsKey, reports.Targets{SLAAttainment: map[string]float64{"first_response": 0.9}, ReopenRate: 0.05})
		})
		week45(t, f)
		lead := f.Actor("jonas.weber")
		f.Clock.Set(time.Date(2026, 11, 9, 12, 0, 0, 0, time.UTC))
		p, err := f.App.Reviews.Preview(ctx, lead, "weekly", "2026-W45")
		if err != nil {
			t.Fatal(err)
		}
		if p.Period.From != time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC) || p.Period.To != time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC) ||
			p.Previous.Label != "2026-W44" {
			t.Fatalf("period %+v previous %+v", p.Period, p.Previous)
		}
		want := map[string][2]float64{ // this week, the week before
			"intake": {3, 0}, "resolved": {1, 0}, "backlog": {2, 0},
			"sla_first_response_attainment": {0.6667, 0}, // A and C met, B breached
			"first_response_median_seconds": {2700, 0},   // 30 min and 1 h
			"resolution_median_seconds":     {7200, 0},   // A: 2 h
			"reopen_rate":                   {0, 0},
		}
		for _, k := range p.KPIs {
			if w, ok := want[k.Key]; ok && (k.Value != w[0] || k.Previous != w[1]) {
				t.Errorf("%s = %v (before %v), want %v", k.Key, k.Value, k.Previous, w)
			}
		}
		if v := kpi(t, p, "sla_first_response_attainment"); v.Verdict() != "off target" || v.TargetLabel() != "≥ 90 %" {
			t.Errorf("first response %q %q, want off target against the desk's ≥ 90 %%", v.Verdict(), v.TargetLabel())
		}
		if v := kpi(t, p, "reopen_rate"); v.Verdict() != "on target" || v.TargetLabel() != "≤ 5 %" {
			t.Errorf("reopen rate %q %q, want on target against ≤ 5 %%", v.Verdict(), v.TargetLabel())
		}
		if v := kpi(t, p, "escalation_rate"); v.Target != nil || v.Verdict() != "" {
			t.Errorf("escalation rate has a target %v the desk does not set", v.Target)
		}
		if len(p.Categories) != 1 || p.Categories[0] != (reviews.Movement{Key: "logistics/lost_parcel", Intake: 3, Change: 3, Breaches: 1}) {
			t.Errorf("categories %+v", p.Categories)
		}
		if p.Breaches.Total != 1 || p.Breaches.ByMetric["first_response"] != 1 ||
			len(p.Breaches.Causes) != 1 || p.Breaches.Causes[0] != (reviews.Count{Key: "handoff to payments", Count: 1}) {
			t.Errorf("breaches %+v: B breached while Payments held it", p.Breaches)
		}
		if len(p.Markets) != 2 || p.Markets[0].Market != "DE" || p.Markets[1].Market != "GB" ||
			p.Markets[1].Intake != 2 || p.Markets[1].FirstResponse != 0.5 || p.Markets[1].Breaches != 1 ||
			p.Markets[0].Intake != 1 || p.Markets[0].FirstResponse != 1 || p.Markets[0].Backlog != 1 {
			t.Errorf("markets %+v", p.Markets)
		}
		if len(p.HandoffWait) != 1 || p.HandoffWait[0].Team != "payments" || p.HandoffWait[0].Handoffs != 0 {
			t.Errorf("handoff waits %+v (one asked, none answered)", p.HandoffWait)
		}
		if p.Escalations.Started != 0 || len(p.Incidents) != 0 || p.Actions.Open != 0 {
			t.Errorf("escalations %+v incidents %+v actions %+v", p.Escalations, p.Incidents, p.Actions)
		}

		// The CSV and the HTML carry the same figures.
		var buf bytes.Buffer
		if err := p.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range recs {
			if r[0] == "kpis" && r[2] == "sla_first_response_attainment" {
				found = r[3] == "0.6667" && r[5] == "0.9"
			}
		}
		if !found {
			t.Errorf("csv has no first-response attainment 0.6667 against 0.9: %v", recs)
		}
		html, err := reviews.RenderHTML(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"Weekly review — 2026-W45", "66.7 %", "handoff to payments", `data-market="GB"`, "off target"} {
			if !strings.Contains(html, s) {
				t.Errorf("html lacks %q", s)
			}
		}

		// Bad input is a field error; a period still open is refused; agents may not read packs.
		for _, tc := range []struct{ cadence, period, field string }{
			{"weekly", "2026-47", "period"}, {"monthly", "2026-W45", "period"}, {"daily", "2026-W45", "cadence"},
			{"weekly", "2026-W46", "period"}, {"weekly", "2027-W53", "period"},
		} {
			_, err := f.App.Reviews.Preview(ctx, lead, tc.cadence, tc.period)
			apptest.WantInvalid(t, err, tc.field)
		}
		if _, err := f.App.Reviews.Preview(ctx, f.Actor("priya.shah"), "weekly", "2026-W45"); !isForbidden(err) {
			t.Errorf("agent: %v, want forbidden", err)
		}
	})
}

func kpi(t *testing.T, p *reviews.Pack, key string) reviews.KPI {
	for _, k := range p.KPIs {
		if k.Key == key {
			return k
		}
	}
	t.Fatalf("no kpi %s", key)
	return reviews.KPI{}
}

func isForbidden(err error) bool {
	_, ok := err.(*apperr.Forbidden)
	return ok
}

// The schedule builds each closed period's pack once, at its time, on
// however many nodes, across restarts, and mails it once per recipient.
func TestScheduledPackBuildsOnce(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		week45(t, f)
		f.Reapply(t, func(c *desk.Config) {
			desk.Set(c, reviews.SettingsKey, reviews.Settings{Cadences: []reviews.Cadence{{
				Key: "weekly_ops", Name: "Weekly operations review", Every: reviews.Weekly, Day: "monday", Time: "08:00",
				Timezone: "Europe/London", Audience: reviews.Audience{Teams: []string{"logistics"}, Emails: []string{"Ops@Example.com"}},
			}}})
		})
		lead := f.Actor("jonas.weber")
		packs := func() []reviews.Summary {
			t.Helper()
			l, err := f.App.Reviews.List(ctx, lead, "")
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		mails := func() int {
			t.Helper()
			var n int
			if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM notify_deliveries WHERE kind = 'review_pack' AND event_id = 'review-pack:weekly_ops:2026-W45'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		// A minute before Monday 08:00 W45 is not due: the week before is the latest due.
		f.Clock.Set(time.Date(2026, 11, 9, 7, 59, 0, 0, time.UTC))
		next, err := f.App.Reviews.Fire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2026, 11, 9, 8, 0, 0, 0, time.UTC); !next.Equal(want) {
			t.Fatalf("next %v, want %v", next, want)
		}
		if l := packs(); len(l) != 1 || l[0].Period != "2026-W44" {
			t.Fatalf("packs %+v, want only W44", l)
		}
		// At 08:00 two nodes fire together, then one restarts and fires again.
		f.Clock.Set(time.Date(2026, 11, 9, 8, 0, 0, 0, time.UTC))
		other, err := app.New(d, app.Options{Clock: f.Clock})
		if err != nil {
			t.Fatal(err)
		}
		for _, node := range []*app.App{f.App, other, f.App} {
			if _, err := node.Reviews.Fire(ctx); err != nil {
				t.Fatal(err)
			}
		}
		restarted, err := app.New(d, app.Options{Clock: f.Clock})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := restarted.Reviews.Fire(ctx); err != nil {
			t.Fatal(err)
		}
		l := packs()
		if len(l) != 2 || l[0].Period != "2026-W45" || l[0].Cadence != "weekly_ops" || l[0].BuiltBy != "schedule" {
			t.Fatalf("packs %+v, want W45 then W44", l)
		}
		// Logistics is Priya and Jonas, plus the address: three mails, once each.
		if l[0].Recipients != 3 || mails() != 3 {
			t.Fatalf("recipients %d, mails %d, want 3", l[0].Recipients, mails())
		}
		var to string
		if err := d.QueryRow(ctx, `SELECT MIN(recipient) FROM notify_deliveries WHERE kind = 'review_pack'`).Scan(&to); err != nil || to != "jonas.weber@flare.example" {
			t.Fatalf("first recipient %q %v", to, err)
		}
		p, err := f.App.Reviews.Get(ctx, lead, l[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if kpi(t, p, "intake").Value != 3 || p.Title != "Weekly operations review — 2026-W45" {
			t.Fatalf("stored pack %q intake %v", p.Title, kpi(t, p, "intake").Value)
		}
		if _, err := f.App.Reviews.Get(ctx, lead, 999); err == nil || !strings.Contains(err.Error(), "not found") {
			t.Fatalf("missing pack: %v", err)
		}
	})
}
