// Package reports computes the desk's performance metrics. Each metric has
// one definition, here (and in docs/metrics.md), computed from the same
// rows wherever it appears — the API, CSV, and the dashboards and review
// packs built on them — so a figure never differs between two places.
//
// The computation is pure (Compute over Rows); load.go reads the rows.
package reports

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/flare-desk/flare/internal/sla"
)

// Row is one case as the metrics read it.
type Row struct {
	Team, Market, Category, Channel, Priority string
	Agent                                     string // the owner's email; "" unassigned
	SellerTier                                int    // 0: no seller
	CreatedAt                                 time.Time
	FirstResponseAt, ResolvedAt               *time.Time
	Active                                    bool // still being worked (new, open, pending)
	Reopens                                   int
	Escalated                                 bool // had at least one escalation
	Repeat                                    bool // linked as a repeat of an open case
	Clocks                                    []Clock
	// Calendar is the team's business calendar (nil: calendar time only).
	Calendar *sla.Calendar
	// FirstResponseBusiness and ResolutionBusiness, when set, are the
	// business durations already computed in Calendar (the report facts);
	// nil: computed from Calendar when needed.
	FirstResponseBusiness, ResolutionBusiness *time.Duration
}

// Clock is one SLA clock of a case, as last evaluated.
type Clock struct {
	Metric  string
	State   sla.ClockState
	Target  time.Duration
	Elapsed time.Duration
	DueAt   *time.Time // when it fell or falls due (nil: not known)
}

// outcome is whether a clock met its target: met, breached, or not yet
// decided (running or paused within target).
func (c Clock) outcome() (decided, met bool) {
	switch {
	case c.State == sla.ClockBreached, c.State == sla.ClockMet && c.Elapsed > c.Target:
		return true, false
	case c.State == sla.ClockMet:
		return true, true
	}
	return false, false
}

// Period is a half-open interval [From, To).
type Period struct{ From, To time.Time }

// In reports whether t is in the period.
func (p Period) In(t time.Time) bool { return !t.Before(p.From) && t.Before(p.To) }

// Previous is the period of the same length just before p.
func (p Period) Previous() Period { return Period{p.From.Add(-p.To.Sub(p.From)), p.From} }

// Durations summarises a set of durations.
type Durations struct {
	Count  int     `json:"count"`
	Median float64 `json:"median_seconds"` // NaN-free: 0 when Count is 0
	P90    float64 `json:"p90_seconds"`
}

func summarise(ds []time.Duration) Durations {
	if len(ds) == 0 {
		return Durations{}
	}
	slices.Sort(ds)
	return Durations{Count: len(ds), Median: quantile(ds, 0.5), P90: quantile(ds, 0.9)}
}

// quantile is the q-quantile of sorted ds by linear interpolation between
// closest ranks (the definition spreadsheets call PERCENTILE.INC), in seconds.
func quantile(ds []time.Duration, q float64) float64 {
	pos := q * float64(len(ds)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(ds)-1)
	frac := pos - float64(lo)
	return round3(ds[lo].Seconds() + frac*(ds[hi].Seconds()-ds[lo].Seconds()))
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// Share is a count out of a total.
type Share struct {
	Count int     `json:"count"`
	Of    int     `json:"of"`
	Rate  float64 `json:"rate"` // Count / Of; 0 when Of is 0
}

func share(n, of int) Share {
	s := Share{Count: n, Of: of}
	if of > 0 {
		s.Rate = round4(float64(n) / float64(of))
	}
	return s
}

func round4(x float64) float64 { return math.Round(x*10000) / 10000 }

// AgeBuckets are the ages of the backlog at the period's end.
var AgeBuckets = []struct {
	Name  string
	Under time.Duration
}{{"under_1d", 24 * time.Hour}, {"1d_3d", 72 * time.Hour}, {"3d_7d", 7 * 24 * time.Hour},
	{"7d_30d", 30 * 24 * time.Hour}, {"over_30d", math.MaxInt64}}

// Metrics are the figures of one slice over one period. Every definition:
// docs/metrics.md.
type Metrics struct {
	Intake   int `json:"intake"`   // cases created in the period
	Resolved int `json:"resolved"` // cases whose resolution fell in the period
	Backlog  int `json:"backlog"`  // cases created before the period's end and not resolved by it
	// BacklogAge counts the backlog by age at the period's end.
	BacklogAge map[string]int `json:"backlog_age"`

	// FirstResponse: created in the period, answered (any time), from
	// creation to the first public reply from the desk.
	FirstResponse         Durations `json:"first_response"`
	FirstResponseBusiness Durations `json:"first_response_business"`
	// Resolution: resolved in the period, from creation to resolution.
	Resolution         Durations `json:"resolution"`
	ResolutionBusiness Durations `json:"resolution_business"`

	// SLA: per metric, of the clocks of cases created in the period that
	// are decided (met or breached), those met within target.
	SLA map[string]Share `json:"sla_attainment"`
	// Breaches: per metric, the clocks of cases created in the period that breached.
	Breaches map[string]int `json:"sla_breaches"`

	ReopenRate     Share `json:"reopen_rate"`     // of the resolved in the period, those reopened at least once
	EscalationRate Share `json:"escalation_rate"` // of the created in the period, those escalated
	RepeatRate     Share `json:"repeat_rate"`     // of the created in the period, repeat contacts of an open case
}

// Compute is the metrics of rows over p, at the period's end.
func Compute(rows []Row, p Period) Metrics {
	m := Metrics{BacklogAge: map[string]int{}, SLA: map[string]Share{}, Breaches: map[string]int{}}
	for _, b := range AgeBuckets {
		m.BacklogAge[b.Name] = 0
	}
	var frt, frtB, res, resB []time.Duration
	met, decided := map[string]int{}, map[string]int{}
	escalated, repeats, reopened := 0, 0, 0
	for i := range rows {
		r := &rows[i]
		created := p.In(r.CreatedAt)
		if created {
			m.Intake++
			if r.Escalated {
				escalated++
			}
			if r.Repeat {
				repeats++
			}
			if r.FirstResponseAt != nil {
				frt = append(frt, r.FirstResponseAt.Sub(r.CreatedAt))
				if r.FirstResponseBusiness != nil {
					frtB = append(frtB, *r.FirstResponseBusiness)
				} else {
					frtB = append(frtB, business(r, r.CreatedAt, *r.FirstResponseAt))
				}
			}
			for _, c := range r.Clocks {
				if d, ok := c.outcome(); d {
					decided[c.Metric]++
					if ok {
						met[c.Metric]++
					} else {
						m.Breaches[c.Metric]++
					}
				}
			}
		}
		if r.ResolvedAt != nil && p.In(*r.ResolvedAt) {
			m.Resolved++
			res = append(res, r.ResolvedAt.Sub(r.CreatedAt))
			if r.ResolutionBusiness != nil {
				resB = append(resB, *r.ResolutionBusiness)
			} else {
				resB = append(resB, business(r, r.CreatedAt, *r.ResolvedAt))
			}
			if r.Reopens > 0 {
				reopened++
			}
		}
		if r.inBacklog(p.To) {
			m.Backlog++
			age := p.To.Sub(r.CreatedAt)
			for _, b := range AgeBuckets {
				if age < b.Under {
					m.BacklogAge[b.Name]++
					break
				}
			}
		}
	}
	m.FirstResponse, m.FirstResponseBusiness = summarise(frt), summarise(frtB)
	m.Resolution, m.ResolutionBusiness = summarise(res), summarise(resB)
	for metric, n := range decided {
		m.SLA[metric] = share(met[metric], n)
	}
	m.ReopenRate = share(reopened, m.Resolved)
	m.EscalationRate = share(escalated, m.Intake)
	m.RepeatRate = share(repeats, m.Intake)
	return m
}

// inBacklog reports whether r is in the backlog at end: created before it
// and not resolved by it (still being worked, or resolved only after).
func (r *Row) inBacklog(end time.Time) bool {
	return r.CreatedAt.Before(end) && (r.ResolvedAt == nil && r.Active || r.ResolvedAt != nil && !r.ResolvedAt.Before(end))
}

// business is the business time between from and to in the row's team
// calendar (calendar time without one).
func business(r *Row, from, to time.Time) time.Duration {
	if r.Calendar == nil || !to.After(from) {
		return max(0, to.Sub(from))
	}
	return r.Calendar.Between(from, to)
}

// Dimensions are what a report slices by.
var Dimensions = []string{"market", "team", "category", "channel", "seller_tier", "agent", "priority"}

// key is the row's value of dimension by ("" for the whole desk).
func (r *Row) key(by string) string {
	switch by {
	case "market":
		return r.Market
	case "team":
		return r.Team
	case "category":
		return r.Category
	case "channel":
		return r.Channel
	case "seller_tier":
		if r.SellerTier == 0 {
			return "none"
		}
		return string(rune('0' + r.SellerTier))
	case "agent":
		return cmp.Or(r.Agent, "unassigned")
	case "priority":
		return r.Priority
	}
	return ""
}

// Slice is the metrics of one value of a dimension.
type Slice struct {
	Key     string  `json:"key"` // the dimension's value; "" for the whole desk
	Metrics Metrics `json:"metrics"`
}

// BySlice computes the metrics of every value of dimension by ("" for the
// whole desk only), in key order.
func BySlice(rows []Row, p Period, by string) []Slice {
	if by == "" && len(rows) > 0 { // the whole desk: one slice of every row, not a copy
		return []Slice{{Key: "", Metrics: Compute(rows, p)}}
	}
	// Counted first, so that each group is allocated once at its size
	// (a month's report groups ~190,000 rows).
	sizes := map[string]int{}
	for i := range rows {
		sizes[rows[i].key(by)]++
	}
	groups := make(map[string][]Row, len(sizes))
	for k, n := range sizes {
		groups[k] = make([]Row, 0, n)
	}
	for i := range rows {
		k := rows[i].key(by)
		groups[k] = append(groups[k], rows[i])
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]Slice, 0, len(keys))
	for _, k := range keys {
		out = append(out, Slice{Key: k, Metrics: Compute(groups[k], p)})
	}
	return out
}
