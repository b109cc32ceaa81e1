package reviews

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/handoffs"
	"github.com/flare-desk/flare/internal/postmortems"
	"github.com/flare-desk/flare/internal/problems"
	"github.com/flare-desk/flare/internal/reports"
)

// topN is how many categories, causes and repeat issues a pack lists.
const topN = 10

// build computes c's pack for p. It reads; it never writes.
func (s *Service) build(ctx context.Context, c Cadence, p Period, at time.Time) (*Pack, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	prev := p.Previous()
	pk := &Pack{Cadence: c.Key, CadenceName: c.Name, Period: p, Previous: prev, BuiltAt: at.UTC(),
		Targets: desk.Get(cfg, reports.TargetsKey), Sections: sectionsOf(c)}
	pk.Title = fmt.Sprintf("%s — %s", c.Name, p.Label)
	rows, err := s.reports.Rows(ctx, prev.From, p.To)
	if err != nil {
		return nil, fmt.Errorf("review pack: %w", err)
	}
	rp, pp := reports.Period{From: p.From, To: p.To}, reports.Period{From: prev.From, To: prev.To}
	pk.Metrics, pk.PrevMetrics = reports.Compute(rows, rp), reports.Compute(rows, pp)
	pk.KPIs = kpis(pk.Metrics, pk.PrevMetrics, pk.Targets)
	cats, markets := reports.BySlices(rows, "category", rp, pp), reports.BySlices(rows, "market", rp, pp)
	pk.Categories = topCategories(cats[0], cats[1], topN)
	pk.Markets = marketTable(markets[0], markets[1])
	rows = nil // the biggest part of a pack's memory; the rest reads little
	if pk.Breaches, err = s.breaches(ctx, p); err != nil {
		return nil, err
	}
	pk.Breaches.ByMetric, pk.Breaches.Total = pk.Metrics.Breaches, sum(pk.Metrics.Breaches)
	if pk.Escalations, err = s.escalations(ctx, p); err != nil {
		return nil, err
	}
	if pk.Incidents, err = s.incidents(ctx, p); err != nil {
		return nil, err
	}
	items, err := s.postmortems.Query(ctx, postmortems.Filter{State: postmortems.StateAll, Limit: postmortems.MaxItems})
	if err != nil {
		return nil, fmt.Errorf("review pack: action items: %w", err)
	}
	pk.Actions = actionsSummary(items, p)
	if pk.Problems, err = problems.ReviewFor(ctx, s.db, p.From, p.To, topN); err != nil {
		return nil, err
	}
	if pk.HandoffWait, err = s.handoffWaits(ctx, p, prev); err != nil {
		return nil, err
	}
	if pk.Has(SecAttention) {
		pk.Attention = attention(pk)
	}
	return pk, nil
}

func sectionsOf(c Cadence) []string {
	var out []string
	for _, s := range Sections {
		if c.Has(s) {
			out = append(out, s)
		}
	}
	return out
}

// breaches finds what held each clock that breached, of the cases created
// in p, at its deadline: an open handoff's receiving team, else the team
// that owns the case.
func (s *Service) breaches(ctx context.Context, p Period) (Breaches, error) {
	// The breached clocks from the report facts (not the full case rows).
	list, err := s.reports.Breaches(ctx, p.From, p.To)
	if err != nil {
		return Breaches{}, fmt.Errorf("review pack: %w", err)
	}
	// The handoffs of those cases, by case.
	type hold struct {
		team         string
		from, closed time.Time
	}
	holds := map[int64][]hold{}
	var ids []any
	for i, b := range list {
		if i == 0 || list[i-1].CaseID != b.CaseID {
			ids = append(ids, b.CaseID)
		}
	}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		hr, err := s.db.Query(ctx, `SELECT case_id, to_team, created_at, closed_at FROM handoffs WHERE case_id IN (`+
			db.Placeholders(n)+`)`, ids[:n]...)
		if err != nil {
			return Breaches{}, fmt.Errorf("review pack: breach handoffs: %w", err)
		}
		for hr.Next() {
			var (
				id       int64
				team     string
				from, to db.Time
			)
			if err := hr.Scan(&id, &team, &from, &to); err != nil {
				hr.Close()
				return Breaches{}, fmt.Errorf("review pack: breach handoffs: %w", err)
			}
			holds[id] = append(holds[id], hold{team, from.Time, to.Time})
		}
		hr.Close()
		if err := hr.Err(); err != nil {
			return Breaches{}, fmt.Errorf("review pack: breach handoffs: %w", err)
		}
		ids = ids[n:]
	}
	causes, teams := map[string]int{}, map[string]int{}
	for _, b := range list {
		cause := "with " + b.Team
		for _, h := range holds[b.CaseID] {
			if !h.from.After(b.DueAt) && (h.closed.IsZero() || h.closed.After(b.DueAt)) {
				cause = "handoff to " + h.team
				break
			}
		}
		causes[cause]++
		teams[b.Team]++
	}
	return Breaches{Causes: counts(causes, topN), ByTeam: counts(teams, 0)}, nil
}

// escalations summarises the escalations started in p (and counts the
// previous period's).
func (s *Service) escalations(ctx context.Context, p Period) (Escalations, error) {
	var e Escalations
	prev := p.Previous()
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM escalations WHERE created_at >= ? AND created_at < ?`,
		db.T(prev.From), db.T(prev.To)).Scan(&e.Previous); err != nil {
		return e, fmt.Errorf("review pack: escalations: %w", err)
	}
	rows, err := s.db.Query(ctx, `SELECT cause, level, created_at, acked_at, closed_at FROM escalations WHERE created_at >= ? AND created_at < ?`,
		db.T(p.From), db.T(p.To))
	if err != nil {
		return e, fmt.Errorf("review pack: escalations: %w", err)
	}
	defer rows.Close()
	causes, levels := map[string]int{}, map[string]int{}
	var acks []float64
	for rows.Next() {
		var (
			cause                  string
			level                  int
			created, acked, closed db.Time
		)
		if err := rows.Scan(&cause, &level, &created, &acked, &closed); err != nil {
			return e, fmt.Errorf("review pack: escalations: %w", err)
		}
		e.Started++
		causes[cause]++
		levels["L"+strconv.Itoa(level)]++
		if !acked.IsZero() && acked.Before(p.To) {
			e.Acked++
			acks = append(acks, acked.Sub(created.Time).Seconds())
		}
		if closed.IsZero() || !closed.Before(p.To) {
			e.StillOpen++
		}
	}
	e.ByCause, e.ByLevel = counts(causes, 0), counts(levels, 0)
	slices.SortFunc(e.ByLevel, func(a, b Count) int { return compareKeys(a.Key, b.Key) })
	e.AckMedianSeconds = median(acks)
	return e, rows.Err()
}

func compareKeys(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// median interpolates like reports' quantiles.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	pos := 0.5 * float64(len(xs)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(xs)-1)
	return math.Round((xs[lo]+(pos-float64(lo))*(xs[hi]-xs[lo]))*1000) / 1000
}

// incidents lists the incidents declared in p with their MTTA and MTTR.
func (s *Service) incidents(ctx context.Context, p Period) ([]Incident, error) {
	rows, err := s.db.Query(ctx, `SELECT id, title, type, severity, status, created_at, started_at, detected_at, acknowledged_at, resolved_at
		FROM incidents WHERE created_at >= ? AND created_at < ? ORDER BY severity, created_at, id`, db.T(p.From), db.T(p.To))
	if err != nil {
		return nil, fmt.Errorf("review pack: incidents: %w", err)
	}
	out, err := db.Collect(rows, func(sc db.Scanner) (Incident, error) {
		var (
			in                                   Incident
			id                                   int64
			created, started, detected, ack, res db.Time
		)
		if err := sc.Scan(&id, &in.Title, &in.Type, &in.Severity, &in.Status, &created, &started, &detected, &ack, &res); err != nil {
			return in, err
		}
		in.Number = "INC-" + strconv.FormatInt(id, 10)
		start := first(started.Time, created.Time)
		if !ack.IsZero() {
			in.MTTA = max(0, ack.Sub(first(detected.Time, start)).Seconds())
		}
		if !res.IsZero() {
			in.MTTR = max(0, res.Sub(start).Seconds())
		}
		return in, nil
	})
	if err != nil {
		return nil, fmt.Errorf("review pack: incidents: %w", err)
	}
	return out, nil
}

func first(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// handoffWaits is each receiving team's median handoff wait in p and
// before it (internal/handoffs' wait report).
func (s *Service) handoffWaits(ctx context.Context, p, prev Period) ([]TeamWait, error) {
	sys := auth.System("review packs")
	cur, err := s.handoffs.WaitStats(ctx, sys, handoffs.StatsFilter{From: p.From, To: p.To})
	if err != nil {
		return nil, fmt.Errorf("review pack: handoff waits: %w", err)
	}
	before, err := s.handoffs.WaitStats(ctx, sys, handoffs.StatsFilter{From: prev.From, To: prev.To})
	if err != nil {
		return nil, fmt.Errorf("review pack: handoff waits: %w", err)
	}
	byTeam := map[string]*TeamWait{}
	var keys []string
	get := func(team string) *TeamWait {
		if byTeam[team] == nil {
			byTeam[team] = &TeamWait{Team: team}
			keys = append(keys, team)
		}
		return byTeam[team]
	}
	for _, t := range cur.Teams {
		w := get(t.Team)
		w.Handoffs = t.Completed + t.Declined
		if t.WaitMedianHours != nil {
			w.MedianHours = *t.WaitMedianHours
		}
	}
	for _, t := range before.Teams {
		w := get(t.Team)
		w.PrevHandoffs = t.Completed + t.Declined
		if t.WaitMedianHours != nil {
			w.PrevMedian = *t.WaitMedianHours
		}
	}
	slices.Sort(keys)
	out := make([]TeamWait, 0, len(keys))
	for _, k := range keys {
		out = append(out, *byTeam[k])
	}
	return out, nil
}
