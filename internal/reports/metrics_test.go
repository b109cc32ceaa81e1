package reports

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/sla"
)

var (
	day0  = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC) // a Monday
	week  = Period{day0, day0.AddDate(0, 0, 7)}
	hours = func(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }
)

func at(d int, h float64) time.Time { return day0.AddDate(0, 0, d).Add(hours(h)) }
func ptr(t time.Time) *time.Time    { return &t }

// A week of six cases, figures worked out by hand.
func fixture() []*Row {
	clock := func(metric string, st sla.ClockState, target, elapsed float64) Clock {
		return Clock{Metric: metric, State: st, Target: hours(target), Elapsed: hours(elapsed)}
	}
	return []*Row{
		// 1: created Mon 09:00, answered after 1 h, resolved Tue 09:00 (24 h); FR met.
		{Team: "logistics", Market: "GB", Priority: "P2", CreatedAt: at(0, 9), FirstResponseAt: ptr(at(0, 10)),
			ResolvedAt: ptr(at(1, 9)), Clocks: []Clock{clock("first_response", sla.ClockMet, 4, 1)}},
		// 2: created Mon 12:00, answered after 3 h, resolved Wed 12:00 (48 h) once reopened; FR met.
		{Team: "logistics", Market: "DE", Priority: "P3", CreatedAt: at(0, 12), FirstResponseAt: ptr(at(0, 15)),
			ResolvedAt: ptr(at(2, 12)), Reopens: 1, Escalated: true, Clocks: []Clock{clock("first_response", sla.ClockMet, 4, 3)}},
		// 3: created Tue, answered after 6 h (late), still open: FR met late = a breach.
		{Team: "logistics", Market: "GB", Priority: "P2", CreatedAt: at(1, 8), FirstResponseAt: ptr(at(1, 14)), Active: true,
			Repeat: true, Clocks: []Clock{clock("first_response", sla.ClockMet, 4, 6), clock("resolution", sla.ClockRunning, 40, 10)}},
		// 4: created Thu, no answer yet, FR breached.
		{Team: "payments", Market: "GB", Priority: "P1", CreatedAt: at(3, 10), Active: true,
			Clocks: []Clock{clock("first_response", sla.ClockBreached, 1, 2)}},
		// 5: created the week before, resolved Mon 10:00 of this week (72 h): resolved in the period, not intake.
		{Team: "payments", Market: "DE", Priority: "P3", CreatedAt: at(-3, 10), FirstResponseAt: ptr(at(-3, 11)),
			ResolvedAt: ptr(at(0, 10))},
		// 6: created two weeks before, still open: backlog, aged 16 days at the end.
		{Team: "payments", Market: "GB", Priority: "P4", CreatedAt: at(-9, 0), Active: true},
	}
}

func TestComputeAgainstHandFigures(t *testing.T) {
	m := Compute(fixture(), week)
	if m.Intake != 4 || m.Resolved != 3 || m.Backlog != 3 {
		t.Fatalf("intake %d resolved %d backlog %d, want 4 3 3", m.Intake, m.Resolved, m.Backlog)
	}
	// First responses of cases created in the week: 1 h, 3 h, 6 h → median 3 h, p90 5.4 h.
	if m.FirstResponse != (Durations{Count: 3, Median: 3 * 3600, P90: 5.4 * 3600}) {
		t.Fatalf("first response %+v", m.FirstResponse)
	}
	// Resolutions in the week: 24 h, 48 h, 72 h → median 48 h, p90 67.2 h.
	if m.Resolution != (Durations{Count: 3, Median: 48 * 3600, P90: 67.2 * 3600}) {
		t.Fatalf("resolution %+v", m.Resolution)
	}
	// First-response clocks decided: met ×2, met late, breached → 2 of 4.
	if m.SLA["first_response"] != (Share{Count: 2, Of: 4, Rate: 0.5}) || m.Breaches["first_response"] != 2 {
		t.Fatalf("sla %+v breaches %+v", m.SLA, m.Breaches)
	}
	if _, ok := m.SLA["resolution"]; ok {
		t.Fatal("a running clock within target counted as decided")
	}
	if m.ReopenRate != (Share{1, 3, 0.3333}) || m.EscalationRate != (Share{1, 4, 0.25}) || m.RepeatRate != (Share{1, 4, 0.25}) {
		t.Fatalf("rates: reopen %+v escalation %+v repeat %+v", m.ReopenRate, m.EscalationRate, m.RepeatRate)
	}
	// Backlog at Mon 00:00 next week: case 3 (5 d 16 h), 4 (3 d 14 h), 6 (16 d).
	want := map[string]int{"under_1d": 0, "1d_3d": 0, "3d_7d": 2, "7d_30d": 1, "over_30d": 0}
	for k, v := range want {
		if m.BacklogAge[k] != v {
			t.Fatalf("backlog age %v, want %v", m.BacklogAge, want)
		}
	}
}

func TestBusinessTime(t *testing.T) {
	cal := sla.MustCompile(sla.CalendarSpec{Key: "gb", Name: "GB", Timezone: "UTC",
		Hours: map[string][]string{"mon": {"09:00-17:00"}, "tue": {"09:00-17:00"}, "wed": {"09:00-17:00"},
			"thu": {"09:00-17:00"}, "fri": {"09:00-17:00"}}})
	// Mon 16:00 → Tue 10:00 is 18 h of calendar time and 2 h of business time.
	rows := []*Row{{Team: "t", CreatedAt: at(0, 16), FirstResponseAt: ptr(at(1, 10)), Calendar: cal}}
	m := Compute(rows, week)
	if m.FirstResponse.Median != 18*3600 || m.FirstResponseBusiness.Median != 2*3600 {
		t.Fatalf("calendar %v business %v", m.FirstResponse, m.FirstResponseBusiness)
	}
}

func TestSlicesAndPrevious(t *testing.T) {
	s := BySlice(fixture(), week, "team")
	if len(s) != 2 || s[0].Key != "logistics" || s[0].Metrics.Intake != 3 || s[1].Key != "payments" || s[1].Metrics.Intake != 1 {
		t.Fatalf("by team: %+v", s)
	}
	prev := week.Previous()
	if !prev.To.Equal(week.From) || prev.To.Sub(prev.From) != 7*24*time.Hour {
		t.Fatalf("previous %v", prev)
	}
	if m := Compute(fixture(), prev); m.Intake != 1 || m.Resolved != 0 || m.Backlog != 2 {
		t.Fatalf("previous week: intake %d resolved %d backlog %d, want 1 0 2", m.Intake, m.Resolved, m.Backlog)
	}
	if all := BySlice(fixture(), week, ""); len(all) != 1 || all[0].Metrics.Intake != 4 {
		t.Fatalf("whole desk %+v", all)
	}
}

func TestFilterCheck(t *testing.T) {
	for _, f := range []Filter{{}, {Period: Period{week.To, week.From}}, {Period: Period{day0, day0.AddDate(2, 0, 0)}},
		{Period: week, By: "colour"}} {
		if f.Check() == nil {
			t.Errorf("%+v accepted", f)
		}
	}
	if err := (Filter{Period: week, By: "market"}).Check(); err != nil {
		t.Fatal(err)
	}
}

// Quantiles found by selection are those of the sorted durations, with
// ties, one value and two.
func TestQuantileBySelectionIsTheSortedOne(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := 1; n < 400; n++ {
		ds := make([]time.Duration, n)
		for i := range ds {
			ds[i] = time.Duration(r.IntN(n/3+1)) * time.Second // many ties
		}
		sorted := slices.Clone(ds)
		slices.Sort(sorted)
		for _, q := range []float64{0, 0.5, 0.9, 1} {
			pos := q * float64(n-1)
			lo := int(math.Floor(pos))
			hi := min(lo+1, n-1)
			want := round3(sorted[lo].Seconds() + (pos-float64(lo))*(sorted[hi].Seconds()-sorted[lo].Seconds()))
			if got := quantile(slices.Clone(ds), q); got != want {
				t.Fatalf("n %d, q %v: %v, want %v (%v)", n, q, got, want, sorted)
			}
		}
	}
}
