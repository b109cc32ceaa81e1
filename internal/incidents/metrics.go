package incidents

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
)

// Durations are an incident's times between key moments, in seconds (nil:
// a moment is missing):
//
//   - to acknowledge: detected → acknowledged (how long the page waited);
//   - to mitigate: started → mitigated (how long the impact lasted);
//   - to resolve: started → resolved.
type Durations struct {
	ToAcknowledge *int64 `json:"to_acknowledge_s"`
	ToMitigate    *int64 `json:"to_mitigate_s"`
	ToResolve     *int64 `json:"to_resolve_s"`
}

func between(a, b *time.Time) *int64 {
	if a == nil || b == nil {
		return nil
	}
	d := int64(b.Sub(*a) / time.Second)
	return &d
}

// DurationsOf is the durations of key moments k. Pure.
func DurationsOf(k KeyMoments) Durations {
	return Durations{ToAcknowledge: between(k.Detected, k.Acknowledged), ToMitigate: between(k.Started, k.Mitigated),
		ToResolve: between(k.Started, k.Resolved)}
}

// Stat is the MTTA, MTTM and MTTR of a group of incidents: the means of
// their durations, in seconds, over the incidents that have each (nil:
// none has it).
type Stat struct {
	Key       string   `json:"key"`
	Incidents int      `json:"incidents"`
	MTTA      *float64 `json:"mtta_s"`
	MTTM      *float64 `json:"mttm_s"`
	MTTR      *float64 `json:"mttr_s"`
}

type acc struct{ sum, n [3]float64 }

func (a *acc) add(d Durations) {
	for i, v := range []*int64{d.ToAcknowledge, d.ToMitigate, d.ToResolve} {
		if v != nil {
			a.sum[i] += float64(*v)
			a.n[i]++
		}
	}
}

func (a *acc) stat(key string, n int) Stat {
	s := Stat{Key: key, Incidents: n}
	for i, to := range []**float64{&s.MTTA, &s.MTTM, &s.MTTR} {
		if a.n[i] > 0 {
			m := a.sum[i] / a.n[i]
			*to = &m
		}
	}
	return s
}

// Metrics are MTTA, MTTM and MTTR over a set of incidents, overall and
// per type, severity and market (an incident affecting two markets counts
// in both; one affecting none, under "").
type Metrics struct {
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Overall    Stat      `json:"overall"`
	ByType     []Stat    `json:"by_type"`
	BySeverity []Stat    `json:"by_severity"`
	ByMarket   []Stat    `json:"by_market"`
}

// ComputeMetrics groups incs and computes their metrics. Pure.
func ComputeMetrics(incs []*Incident) Metrics {
	var all acc
	type group struct {
		acc
		n int
	}
	groups := [3]map[string]*group{{}, {}, {}}
	bump := func(i int, key string, d Durations) {
		g := groups[i][key]
		if g == nil {
			g = &group{}
			groups[i][key] = g
		}
		g.add(d)
		g.n++
	}
	for _, inc := range incs {
		d := DurationsOf(inc.Moments)
		all.add(d)
		bump(0, string(inc.Type), d)
		bump(1, string(inc.Severity), d)
		markets := inc.Markets
		if len(markets) == 0 {
			markets = []string{""}
		}
		for _, m := range markets {
			bump(2, m, d)
		}
	}
	m := Metrics{Overall: all.stat("all", len(incs)), ByType: []Stat{}, BySeverity: []Stat{}, ByMarket: []Stat{}}
	for i, to := range []*[]Stat{&m.ByType, &m.BySeverity, &m.ByMarket} {
		keys := make([]string, 0, len(groups[i]))
		for k := range groups[i] {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			*to = append(*to, groups[i][k].stat(k, groups[i][k].n))
		}
	}
	return m
}

// Metrics computes the metrics of the incidents declared in [from, to]
// (zero to: now; zero from: 90 days before to).
func (s *Service) Metrics(ctx context.Context, actor auth.Actor, from, to time.Time) (*Metrics, error) {
	return s.MetricsOf(ctx, actor, MetricsFilter{From: from, To: to})
}

// MetricsFilter is the incidents a metrics report counts: declared in
// [From, To] and, when named, affecting the market or the category (a
// report sliced to one market counts the incidents that touched it).
type MetricsFilter struct {
	From, To         time.Time
	Market, Category string
}

// MetricsOf is Metrics for the incidents f keeps.
func (s *Service) MetricsOf(ctx context.Context, actor auth.Actor, f MetricsFilter) (*Metrics, error) {
	from, to := f.From, f.To
	if !MayRead(actor) {
		return nil, &apperr.Forbidden{Detail: "sign in to read incident metrics"}
	}
	if to.IsZero() {
		to = s.clock.Now()
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -90)
	}
	if !from.Before(to) {
		return nil, apperr.InvalidField("from", "must be before to")
	}
	rows, err := s.db.Query(ctx, "SELECT "+columns+" WHERE i.created_at >= ? AND i.created_at <= ? ORDER BY i.id", db.T(from), db.T(to))
	if err != nil {
		return nil, fmt.Errorf("incident metrics: %w", err)
	}
	incs, err := db.Collect(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("incident metrics: %w", err)
	}
	incs = slices.DeleteFunc(incs, func(i *Incident) bool {
		return (f.Market != "" && !slices.Contains(i.Markets, f.Market)) ||
			(f.Category != "" && !slices.Contains(i.Categories, f.Category))
	})
	m := ComputeMetrics(incs)
	m.From, m.To = from.UTC(), to.UTC()
	return &m, nil
}
