package reports

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
)

// The live operations dashboard: the desk now. Every figure is an indexed
// aggregate over a few index entries (the report facts, the cases' status
// index, escalations, incidents) or a kept counter (the backlog per
// market), so it answers in milliseconds at a million cases.

// NormalWeeks is how many past weeks the intake normal averages.
const NormalWeeks = 8

// Live is the operations dashboard at At.
type Live struct {
	At time.Time `json:"at"`
	// Backlog: active cases (new, open, pending) now.
	Backlog int `json:"backlog"`
	// BreachingNextHour: active cases whose most urgent running SLA clock
	// falls due within the next hour; Breached: those already past it.
	BreachingNextHour int `json:"breaching_next_hour"`
	Breached          int `json:"breached"`
	// OpenEscalations: escalations not closed; OpenIncidents: incidents
	// neither resolved nor closed.
	OpenEscalations int `json:"open_escalations"`
	OpenIncidents   int `json:"open_incidents"`
	// IntakeLastHour: cases created in the hour before At; IntakeNormal:
	// the average over the same hour of the week in the NormalWeeks weeks
	// before; IntakeRatio: the one over the other (null without a normal).
	IntakeLastHour int      `json:"intake_last_hour"`
	IntakeNormal   float64  `json:"intake_normal"`
	IntakeRatio    *float64 `json:"intake_ratio"`
	Markets        []Health `json:"markets"`
}

// Health is one market now.
type Health struct {
	Market            string   `json:"market"`
	Name              string   `json:"name"`
	Backlog           int      `json:"backlog"`
	BreachingNextHour int      `json:"breaching_next_hour"`
	Breached          int      `json:"breached"`
	Intake24h         int      `json:"intake_24h"`
	IntakeNormal24h   float64  `json:"intake_normal_24h"` // the same 24 hours, averaged over the NormalWeeks weeks before
	IntakeRatio       *float64 `json:"intake_ratio"`
	// State: "breached" with breached cases, "busy" with intake at least
	// 1.5× its normal, else "ok".
	State string `json:"state"`
}

func ratio(n, normal float64) *float64 {
	if normal <= 0 {
		return nil
	}
	r := round4(n / normal)
	return &r
}

func activeArgs() []any {
	out := make([]any, len(cases.ActiveStatuses))
	for i, st := range cases.ActiveStatuses {
		out[i] = string(st)
	}
	return out
}

// Live is the dashboard now, for those who may read reports.
func (s *Service) Live(ctx context.Context, actor auth.Actor) (*Live, error) {
	if !actor.Can(auth.PermReportRead) {
		return nil, &apperr.Forbidden{Detail: "your role cannot read the desk's reports"}
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now().UTC()
	l := &Live{At: now, Markets: []Health{}}
	byMarket := map[string]*Health{}
	health := func(code string) *Health {
		if h := byMarket[code]; h != nil {
			return h
		}
		h := &Health{Market: code, Name: code}
		if m, ok := cfg.Market(code); ok {
			h.Name = m.Name
		}
		byMarket[code] = h
		return h
	}
	for _, m := range cfg.Markets {
		health(m.Code)
	}
	// The backlog per market is kept as counters with the report facts;
	// of it, the cases not yet past due are few (the recent ones), so
	// Breached is the backlog less those, counted from the status index
	// rather than walking every active case's entry. due_sort is the
	// earliest due of a running or breached clock (internal/cases keeps it
	// for the queue's order; far in the future without one).
	rows, err := s.db.Query(ctx, `SELECT market, active FROM report_backlog WHERE active <> 0`)
	if err != nil {
		return nil, fmt.Errorf("dashboard backlog: %w", err)
	}
	var markets []any
	for rows.Next() {
		var code string
		var n int
		if err := rows.Scan(&code, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("dashboard backlog: %w", err)
		}
		health(code).Backlog = n
		l.Backlog += n
		markets = append(markets, code)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("dashboard backlog: %w", err)
	}
	if len(markets) > 0 {
		active := activeArgs()
		args := append(append([]any{db.T(now.Add(time.Hour))}, active...), markets...)
		rows, err := s.db.Query(ctx, `SELECT market, COUNT(*), SUM(CASE WHEN due_sort < ? THEN 1 ELSE 0 END)
			FROM cases WHERE status IN (`+db.Placeholders(len(active))+`) AND market IN (`+db.Placeholders(len(markets))+`)
			AND due_sort >= ? GROUP BY market`, append(args, db.T(now))...)
		if err != nil {
			return nil, fmt.Errorf("dashboard backlog: %w", err)
		}
		notDue := map[string]int{}
		for rows.Next() {
			var code string
			var n, soon int
			if err := rows.Scan(&code, &n, &soon); err != nil {
				rows.Close()
				return nil, fmt.Errorf("dashboard backlog: %w", err)
			}
			notDue[code] = n
			health(code).BreachingNextHour = soon
			l.BreachingNextHour += soon
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("dashboard backlog: %w", err)
		}
		for _, m := range markets {
			h := health(m.(string))
			h.Breached = max(0, h.Backlog-notDue[h.Market])
			l.Breached += h.Breached
		}
	}
	// Intake: the last 24 hours by market and the same 24 hours in each of
	// the NormalWeeks weeks before, each from the report facts' creation
	// index alone (report_facts_created holds the market).
	type window struct{ from, to time.Time }
	count := func(w window) (map[string]int, int, error) {
		rows, err := s.db.Query(ctx, `SELECT market, COUNT(*) FROM report_facts WHERE created_at >= ? AND created_at < ? GROUP BY market`,
			db.T(w.from), db.T(w.to))
		if err != nil {
			return nil, 0, fmt.Errorf("dashboard intake: %w", err)
		}
		defer rows.Close()
		out, total := map[string]int{}, 0
		for rows.Next() {
			var code string
			var n int
			if err := rows.Scan(&code, &n); err != nil {
				return nil, 0, fmt.Errorf("dashboard intake: %w", err)
			}
			out[code] = n
			total += n
		}
		return out, total, rows.Err()
	}
	hourCount := func(w window) (int, error) {
		var n int
		err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM report_facts WHERE created_at >= ? AND created_at < ?`, db.T(w.from), db.T(w.to)).Scan(&n)
		if err != nil {
			return 0, fmt.Errorf("dashboard intake: %w", err)
		}
		return n, nil
	}
	day, _, err := count(window{now.Add(-24 * time.Hour), now})
	if err != nil {
		return nil, err
	}
	for code, n := range day {
		health(code).Intake24h = n
	}
	if l.IntakeLastHour, err = hourCount(window{now.Add(-time.Hour), now}); err != nil {
		return nil, err
	}
	var hourSum int
	for k := 1; k <= NormalWeeks; k++ {
		back := time.Duration(k) * 7 * 24 * time.Hour
		n, err := hourCount(window{now.Add(-back - time.Hour), now.Add(-back)})
		if err != nil {
			return nil, err
		}
		hourSum += n
		past, _, err := count(window{now.Add(-back - 24*time.Hour), now.Add(-back)})
		if err != nil {
			return nil, err
		}
		for code, n := range past {
			health(code).IntakeNormal24h += float64(n)
		}
	}
	l.IntakeNormal = round4(float64(hourSum) / NormalWeeks)
	l.IntakeRatio = ratio(float64(l.IntakeLastHour), l.IntakeNormal)
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM escalations WHERE state IN ('open', 'acknowledged')`).Scan(&l.OpenEscalations); err != nil {
		return nil, fmt.Errorf("dashboard escalations: %w", err)
	}
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM incidents WHERE status NOT IN ('resolved', 'closed')`).Scan(&l.OpenIncidents); err != nil {
		return nil, fmt.Errorf("dashboard incidents: %w", err)
	}
	for _, h := range byMarket {
		h.IntakeNormal24h = round4(h.IntakeNormal24h / NormalWeeks)
		h.IntakeRatio = ratio(float64(h.Intake24h), h.IntakeNormal24h)
		h.State = "ok"
		switch {
		case h.Breached > 0:
			h.State = "breached"
		case h.IntakeRatio != nil && *h.IntakeRatio >= 1.5:
			h.State = "busy"
		}
		l.Markets = append(l.Markets, *h)
	}
	slices.SortFunc(l.Markets, func(a, b Health) int { return b.Backlog - a.Backlog })
	return l, nil
}

// Charts are the reporting page's series over a filtered period, computed
// from the same rows and by the same Compute as the metrics.
type Charts struct {
	Period Period `json:"period"`
	// Daily intake, resolved and backlog at each day's end (line).
	Days []DayPoint `json:"days"`
	// Intake by category, this period and the previous (bar).
	Categories []Compare `json:"categories"`
	// SLA clocks decided per team: met and breached (stacked).
	TeamSLA []TeamSLA `json:"team_sla"`
	// Intake by hour of the week (heat map): Heat[weekday][hour], Monday
	// first, in Zone.
	Heat [7][24]int `json:"heat"`
	Zone string     `json:"zone"`
}

// DayPoint is one day of the period.
type DayPoint struct {
	Day      string `json:"day"`
	Intake   int    `json:"intake"`
	Resolved int    `json:"resolved"`
	Backlog  int    `json:"backlog"`
}

// Compare is a count this period and the previous.
type Compare struct {
	Key      string `json:"key"`
	Value    int    `json:"value"`
	Previous int    `json:"previous"`
}

// TeamSLA is a team's decided SLA clocks (all metrics) in the period.
type TeamSLA struct {
	Team     string `json:"team"`
	Met      int    `json:"met"`
	Breached int    `json:"breached"`
}

// MaxChartDays bounds the daily series.
const MaxChartDays = 400

// Charts computes f's charts (f.By is ignored).
func (s *Service) Charts(ctx context.Context, actor auth.Actor, f Filter) (*Charts, error) {
	if !actor.Can(auth.PermReportRead) {
		return nil, &apperr.Forbidden{Detail: "your role cannot read the desk's reports"}
	}
	f.By = ""
	if err := f.Check(); err != nil {
		return nil, err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	prev := f.Period.Previous()
	rows, err := s.rows(ctx, cfg, f, prev.From, f.Period.To, false)
	if err != nil {
		return nil, err
	}
	return ComputeCharts(rows, f.Period, zoneOf(cfg, f.Market)), nil
}

// zoneOf is the market's time zone for the heat map (UTC for the whole desk).
func zoneOf(cfg *desk.Config, market string) *time.Location {
	if m, ok := cfg.Market(market); ok {
		return m.Location()
	}
	return time.UTC
}

// ComputeCharts is the charts of rows over p (rows cover the previous
// period too), the heat map in loc.
func ComputeCharts(rows []*Row, p Period, loc *time.Location) *Charts {
	c := &Charts{Period: p, Zone: loc.String(), Days: []DayPoint{}, Categories: []Compare{}, TeamSLA: []TeamSLA{}}
	var days []Period
	for d := p.From; d.Before(p.To) && len(days) < MaxChartDays; d = d.Add(24 * time.Hour) {
		end := d.Add(24 * time.Hour)
		if end.After(p.To) {
			end = p.To
		}
		days = append(days, Period{d, end})
	}
	// Each day's intake, resolved and backlog are Compute's over that day
	// (TestChartDaysAreComputePerDay), counted in one pass over the rows
	// rather than one per day: a row is in the backlog at the ends of a run
	// of consecutive days (inBacklog), added as a difference array.
	dayOf := func(t time.Time) int { // the day whose period holds t, or -1
		k := sort.Search(len(days), func(k int) bool { return days[k].To.After(t) })
		if k < len(days) && days[k].In(t) {
			return k
		}
		return -1
	}
	intake, resolved := make([]int, len(days)), make([]int, len(days))
	diff := make([]int, len(days)+1)
	for _, r := range rows {
		if k := dayOf(r.CreatedAt); k >= 0 {
			intake[k]++
		}
		if r.ResolvedAt != nil {
			if k := dayOf(*r.ResolvedAt); k >= 0 {
				resolved[k]++
			}
		}
		// The first day whose end is after the creation; from it, the row
		// is in the backlog until the last day that ends by its resolution.
		first := sort.Search(len(days), func(k int) bool { return days[k].To.After(r.CreatedAt) })
		if first == len(days) || !r.inBacklog(days[first].To) {
			continue
		}
		last := len(days) - 1
		if r.ResolvedAt != nil {
			last = sort.Search(len(days), func(k int) bool { return !r.inBacklog(days[k].To) && k > first }) - 1
		}
		diff[first]++
		diff[last+1]--
	}
	backlog := 0
	for k, d := range days {
		backlog += diff[k]
		c.Days = append(c.Days, DayPoint{Day: d.From.UTC().Format(time.DateOnly), Intake: intake[k], Resolved: resolved[k], Backlog: backlog})
	}
	prev := p.Previous()
	cats := map[string]*Compare{}
	teams := map[string]*TeamSLA{}
	for _, r := range rows {
		in, before := p.In(r.CreatedAt), prev.In(r.CreatedAt)
		if !in && !before {
			continue
		}
		cc := cats[r.Category]
		if cc == nil {
			cc = &Compare{Key: r.Category}
			cats[r.Category] = cc
		}
		if before {
			cc.Previous++
			continue
		}
		cc.Value++
		t := r.CreatedAt.In(loc)
		c.Heat[(int(t.Weekday())+6)%7][t.Hour()]++
		ts := teams[r.Team]
		if ts == nil {
			ts = &TeamSLA{Team: r.Team}
			teams[r.Team] = ts
		}
		for _, ck := range r.Clocks {
			if decided, met := ck.outcome(); decided && met {
				ts.Met++
			} else if decided {
				ts.Breached++
			}
		}
	}
	for _, v := range cats {
		c.Categories = append(c.Categories, *v)
	}
	slices.SortFunc(c.Categories, func(a, b Compare) int {
		if a.Value != b.Value {
			return b.Value - a.Value
		}
		return compareStrings(a.Key, b.Key)
	})
	for _, v := range teams {
		c.TeamSLA = append(c.TeamSLA, *v)
	}
	slices.SortFunc(c.TeamSLA, func(a, b TeamSLA) int { return compareStrings(a.Team, b.Team) })
	return c
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
