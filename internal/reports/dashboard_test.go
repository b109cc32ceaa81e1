package reports_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/reports"
	"github.com/flare-desk/flare/internal/sla"
)

// The live dashboard and the staffing view read the store: cases a week
// apart give the intake normal and the forecast, on both stores.
func TestLiveAndStaffingFromTheStore(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		agent, lead := f.Actor("priya.shah"), f.Actor("jonas.weber")
		mk := func(market string) *cases.Case {
			c, err := f.App.Cases.Create(ctx, agent, cases.CreateInput{Title: "Lost parcel", Category: "logistics/lost_parcel", Market: market,
				Fields: map[string]any{"order_id": "ORD-1"}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		// T0 (Monday 09:00 UTC, London time too): two GB cases; a week
		// later one GB and one DE, and half an hour passes.
		first := f.Clock.Now()
		mk("GB")
		mk("GB")
		f.Clock.Advance(7 * 24 * time.Hour)
		mk("GB")
		mk("DE")
		f.Clock.Advance(30 * time.Minute)

		l, err := f.App.Reports.Live(ctx, lead)
		if err != nil {
			t.Fatal(err)
		}
		// Normal: the hour before now, 1..8 weeks back: only week 1 has
		// cases (the two at T0), so 2/8.
		if l.Backlog != 4 || l.IntakeLastHour != 2 || l.IntakeNormal != 0.25 || l.IntakeRatio == nil || *l.IntakeRatio != 8 {
			t.Fatalf("live %+v", l)
		}
		if l.OpenEscalations != 0 || l.OpenIncidents != 0 {
			t.Fatalf("escalations %d incidents %d", l.OpenEscalations, l.OpenIncidents)
		}
		var gb *reports.Health
		for i := range l.Markets {
			if l.Markets[i].Market == "GB" {
				gb = &l.Markets[i]
			}
		}
		if gb == nil || gb.Backlog != 3 || gb.Intake24h != 1 || gb.IntakeNormal24h != 0.25 {
			t.Fatalf("GB %+v", gb)
		}
		if _, err := f.App.Reports.Live(ctx, agent); err == nil {
			t.Fatal("an agent read the dashboard")
		}

		// Staffing over 2 weeks: GB has 2 cases at Monday 09:00 in week 1
		// and 1 in week 2 → forecast 1.5 an hour. No replies were measured,
		// so 10 minutes each: 0.25 erlangs. One agent answers 1 − 0.25·e^(−0.75·300/600)
		// = 0.828 within 5 minutes (the default target): enough for 80 %.
		sv, err := f.App.Reports.Staffing(ctx, lead, 2, "GB")
		if err != nil {
			t.Fatal(err)
		}
		if len(sv.Markets) != 1 || len(sv.Markets[0].Hours) != 168 {
			t.Fatalf("markets %+v", sv.Markets)
		}
		loc, _ := time.LoadLocation("Europe/London")
		at := first.In(loc)
		cell := sv.Markets[0].Hours[((int(at.Weekday())+6)%7)*24+at.Hour()]
		if cell.Forecast != 1.5 || cell.AHTSeconds != 600 || cell.Agents != 1 || cell.ServiceLevel != 0.8282 {
			t.Fatalf("Monday 09:00 %+v", cell)
		}
		if sv.Markets[0].Peak != 1 || sv.ServiceLevel != reports.DefaultServiceLevel {
			t.Fatalf("peak %d level %v", sv.Markets[0].Peak, sv.ServiceLevel)
		}
		if _, err := f.App.Reports.Staffing(ctx, lead, 2, "XX"); err == nil {
			t.Fatal("an unknown market was accepted")
		}
	})
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func ptr(t time.Time) *time.Time { return &t }

// The charts are Compute per day and the rows counted by category, team
// and hour of the week: hand-checked on four cases.
func TestComputeCharts(t *testing.T) {
	p := reports.Period{From: at("2026-11-02T00:00:00Z"), To: at("2026-11-04T00:00:00Z")}
	met := []reports.Clock{{Metric: "first_response", State: sla.ClockMet, Target: time.Hour, Elapsed: time.Minute}}
	late := []reports.Clock{{Metric: "first_response", State: sla.ClockBreached, Target: time.Hour, Elapsed: 2 * time.Hour}}
	rows := []*reports.Row{
		{Team: "logistics", Category: "logistics/lost_parcel", CreatedAt: at("2026-11-02T09:10:00Z"), ResolvedAt: ptr(at("2026-11-02T12:00:00Z")), Clocks: met},
		{Team: "logistics", Category: "logistics/lost_parcel", CreatedAt: at("2026-11-02T09:40:00Z"), Active: true, Clocks: late},
		{Team: "payments", Category: "payments/payout_hold", CreatedAt: at("2026-11-03T23:30:00Z"), Active: true},
		// The previous period: counted only in the categories' "previous".
		{Team: "payments", Category: "payments/payout_hold", CreatedAt: at("2026-11-01T10:00:00Z"), ResolvedAt: ptr(at("2026-11-01T11:00:00Z"))},
	}
	c := reports.ComputeCharts(rows, p, time.UTC)
	if len(c.Days) != 2 || c.Days[0] != (reports.DayPoint{Day: "2026-11-02", Intake: 2, Resolved: 1, Backlog: 1}) ||
		c.Days[1] != (reports.DayPoint{Day: "2026-11-03", Intake: 1, Resolved: 0, Backlog: 2}) {
		t.Fatalf("days %+v", c.Days)
	}
	if len(c.Categories) != 2 || c.Categories[0] != (reports.Compare{Key: "logistics/lost_parcel", Value: 2}) ||
		c.Categories[1] != (reports.Compare{Key: "payments/payout_hold", Value: 1, Previous: 1}) {
		t.Fatalf("categories %+v", c.Categories)
	}
	if len(c.TeamSLA) != 2 || c.TeamSLA[0] != (reports.TeamSLA{Team: "logistics", Met: 1, Breached: 1}) {
		t.Fatalf("team SLA %+v", c.TeamSLA)
	}
	// Monday 09:xx twice, Tuesday 23:30 once (Monday is row 0).
	if c.Heat[0][9] != 2 || c.Heat[1][23] != 1 || c.Heat[6][10] != 0 {
		t.Fatalf("heat %v", c.Heat)
	}
	// In Berlin (UTC+1) Tuesday 23:30 UTC is Wednesday 00:30.
	if c := reports.ComputeCharts(rows, p, must(time.LoadLocation("Europe/Berlin"))); c.Heat[2][0] != 1 || c.Heat[0][10] != 2 {
		t.Fatalf("Berlin heat %v", c.Heat)
	}
}

// The charts' daily series, counted in one pass, is Compute's intake,
// resolved and backlog over each day, on rows around and across the days:
// created before, in and after the period, resolved on day ends, never,
// inactive without a resolution, and a last day cut short.
func TestChartDaysAreComputePerDay(t *testing.T) {
	from := at("2026-11-02T00:00:00Z")
	p := reports.Period{From: from, To: from.Add(5*24*time.Hour + 7*time.Hour)}
	r := rand.New(rand.NewPCG(1, 2))
	var rows []*reports.Row
	instant := func() time.Time {
		if r.IntN(5) == 0 { // exactly on a day's boundary
			return from.Add(time.Duration(r.IntN(9)-2) * 24 * time.Hour)
		}
		return from.Add(time.Duration(r.Int64N(int64(9*24*time.Hour))) - 2*24*time.Hour)
	}
	for range 3000 {
		row := &reports.Row{CreatedAt: instant(), Active: r.IntN(3) > 0}
		if r.IntN(2) == 0 {
			res := instant()
			if res.Before(row.CreatedAt) {
				res = row.CreatedAt.Add(time.Duration(r.IntN(3)) * 24 * time.Hour)
			}
			row.ResolvedAt, row.Active = &res, false
		}
		rows = append(rows, row)
	}
	c := reports.ComputeCharts(rows, p, time.UTC)
	if len(c.Days) != 6 {
		t.Fatalf("%d days, want 6", len(c.Days))
	}
	for k, d := range c.Days {
		day := reports.Period{From: from.Add(time.Duration(k) * 24 * time.Hour), To: from.Add(time.Duration(k+1) * 24 * time.Hour)}
		if day.To.After(p.To) {
			day.To = p.To
		}
		m := reports.Compute(rows, day)
		if d.Intake != m.Intake || d.Resolved != m.Resolved || d.Backlog != m.Backlog {
			t.Fatalf("day %d: %+v, Compute gives intake %d resolved %d backlog %d", k, d, m.Intake, m.Resolved, m.Backlog)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Escalation time per level: started in the period, to acknowledgement
// and to close; unacknowledged ones counted.
func TestComputeLevels(t *testing.T) {
	p := reports.Period{From: at("2026-11-02T00:00:00Z"), To: at("2026-11-09T00:00:00Z")}
	s := at("2026-11-03T10:00:00Z")
	rows := []reports.EscalationRow{
		{Level: 2, Started: s, Acked: ptr(s.Add(10 * time.Minute)), Closed: ptr(s.Add(2 * time.Hour))},
		{Level: 2, Started: s, Acked: ptr(s.Add(30 * time.Minute))},
		{Level: 2, Started: s},
		{Level: 3, Started: s, Acked: ptr(s.Add(time.Hour)), Closed: ptr(s.Add(3 * time.Hour))},
		{Level: 3, Started: at("2026-11-01T10:00:00Z"), Acked: ptr(at("2026-11-01T11:00:00Z"))}, // before the period
	}
	got := reports.ComputeLevels(rows, p)
	if len(got) != 2 {
		t.Fatalf("levels %+v", got)
	}
	l2, l3 := got[0], got[1]
	if l2.Level != 2 || l2.Started != 3 || l2.Unacknowledged != 1 ||
		l2.ToAcknowledge != (reports.Durations{Count: 2, Median: 1200, P90: 1680}) || l2.ToClose != (reports.Durations{Count: 1, Median: 7200, P90: 7200}) {
		t.Fatalf("level 2 %+v", l2)
	}
	if l3.Level != 3 || l3.Started != 1 || l3.ToAcknowledge.Median != 3600 {
		t.Fatalf("level 3 %+v", l3)
	}
}

// Headlines put the target and the change next to each figure.
func TestHeadlines(t *testing.T) {
	cur := reports.Metrics{Intake: 120, SLA: map[string]reports.Share{"first_response": {Count: 85, Of: 100, Rate: 0.85}},
		ReopenRate: reports.Share{Rate: 0.04}, FirstResponse: reports.Durations{Median: 5400}}
	prev := reports.Metrics{Intake: 100, SLA: map[string]reports.Share{"first_response": {Count: 90, Of: 100, Rate: 0.9}},
		ReopenRate: reports.Share{Rate: 0.05}, FirstResponse: reports.Durations{Median: 3600}}
	hs := reports.Headlines(cur, prev, reports.Targets{SLAAttainment: map[string]float64{"first_response": 0.9},
		ReopenRate: 0.05, FirstResponseMedian: "1h"})
	by := map[string]reports.Headline{}
	for _, h := range hs {
		by[h.Figure] = h
	}
	if h := by["intake"]; h.Change == nil || *h.Change != 0.2 || h.Target != nil {
		t.Fatalf("intake %+v", h)
	}
	if h := by["sla_attainment.first_response"]; h.Target == nil || *h.Target != 0.9 || h.OnTarget == nil || *h.OnTarget || *h.Change != -0.0556 {
		t.Fatalf("first-response attainment %+v", h)
	}
	if h := by["reopen_rate"]; h.OnTarget == nil || !*h.OnTarget { // lower is better: 4 % ≤ 5 %
		t.Fatalf("reopen rate %+v", h)
	}
	if h := by["first_response.median_seconds"]; h.Target == nil || *h.Target != 3600 || *h.OnTarget {
		t.Fatalf("first response median %+v", h)
	}
}
