// Package reports computes the desk's performance metrics. Each metric has
// one definition, here (and in docs/metrics.md), computed from the same
// rows wherever it appears — the API, CSV, and the dashboards and review
// packs built on them — so a figure never differs between two places.
//
// The computation is pure (Compute over Rows); load.go reads the rows.
package reports

import (
	"cmp"
	"maps"
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

	// Read with the fact (factcache.go), for Agent and SellerTier.
	ownerID  int64
	sellerID string
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
	return Durations{Count: len(ds), Median: quantile(ds, 0.5), P90: quantile(ds, 0.9)}
}

// quantile is the q-quantile of ds by linear interpolation between
// closest ranks (the definition spreadsheets call PERCENTILE.INC), in
// seconds. It reorders ds: the two ranks are selected in place
// (quickselect), in linear time rather than a sort's n log n.
func quantile(ds []time.Duration, q float64) float64 {
	pos := q * float64(len(ds)-1)
	lo := int(math.Floor(pos))
	frac := pos - float64(lo)
	a := nth(ds, lo)
	b := a
	if lo+1 < len(ds) {
		b = slices.Min(ds[lo+1:]) // after nth, the larger ones lie to lo's right
	}
	return round3(a.Seconds() + frac*(b.Seconds()-a.Seconds()))
}

// nth puts the k-th smallest of ds at k, the smaller before it and the
// larger after (Hoare's selection with a median-of-three pivot), and
// returns it.
func nth(ds []time.Duration, k int) time.Duration {
	lo, hi := 0, len(ds)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if ds[mid] < ds[lo] {
			ds[mid], ds[lo] = ds[lo], ds[mid]
		}
		if ds[hi] < ds[lo] {
			ds[hi], ds[lo] = ds[lo], ds[hi]
		}
		if ds[hi] < ds[mid] {
			ds[hi], ds[mid] = ds[mid], ds[hi]
		}
		pivot := ds[mid]
		i, j := lo, hi
		for i <= j {
			for ds[i] < pivot {
				i++
			}
			for ds[j] > pivot {
				j--
			}
			if i <= j {
				ds[i], ds[j] = ds[j], ds[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return ds[k]
		}
	}
	return ds[k]
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
func Compute(rows []*Row, p Period) Metrics {
	a := newAccumulator(p)
	for _, r := range rows {
		a.add(r)
	}
	return a.metrics()
}

// accumulator is Compute one row at a time, so that one pass over the rows
// can fill several (a slice's current and previous period).
type accumulator struct {
	p                            Period
	m                            Metrics
	frt, frtB, res, resB         []time.Duration
	clocks                       []clockCount // per metric; a handful
	escalated, repeats, reopened int
}

type clockCount struct {
	metric               string
	decided, met, breach int
}

func newAccumulator(p Period) *accumulator {
	return &accumulator{p: p, m: Metrics{BacklogAge: map[string]int{}, SLA: map[string]Share{}, Breaches: map[string]int{}}}
}

func (a *accumulator) clock(metric string) *clockCount {
	for i := range a.clocks {
		if a.clocks[i].metric == metric {
			return &a.clocks[i]
		}
	}
	a.clocks = append(a.clocks, clockCount{metric: metric})
	return &a.clocks[len(a.clocks)-1]
}

func (a *accumulator) add(r *Row) {
	p, m := a.p, &a.m
	if p.In(r.CreatedAt) {
		m.Intake++
		if r.Escalated {
			a.escalated++
		}
		if r.Repeat {
			a.repeats++
		}
		if r.FirstResponseAt != nil {
			a.frt = append(a.frt, r.FirstResponseAt.Sub(r.CreatedAt))
			if r.FirstResponseBusiness != nil {
				a.frtB = append(a.frtB, *r.FirstResponseBusiness)
			} else {
				a.frtB = append(a.frtB, business(r, r.CreatedAt, *r.FirstResponseAt))
			}
		}
		for _, c := range r.Clocks {
			if d, ok := c.outcome(); d {
				cc := a.clock(c.Metric)
				cc.decided++
				if ok {
					cc.met++
				} else {
					cc.breach++
				}
			}
		}
	}
	if r.ResolvedAt != nil && p.In(*r.ResolvedAt) {
		m.Resolved++
		a.res = append(a.res, r.ResolvedAt.Sub(r.CreatedAt))
		if r.ResolutionBusiness != nil {
			a.resB = append(a.resB, *r.ResolutionBusiness)
		} else {
			a.resB = append(a.resB, business(r, r.CreatedAt, *r.ResolvedAt))
		}
		if r.Reopens > 0 {
			a.reopened++
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

func (a *accumulator) metrics() Metrics {
	m := a.m
	for _, b := range AgeBuckets {
		m.BacklogAge[b.Name] += 0 // every bucket present, zero or not
	}
	m.FirstResponse, m.FirstResponseBusiness = summarise(a.frt), summarise(a.frtB)
	m.Resolution, m.ResolutionBusiness = summarise(a.res), summarise(a.resB)
	for _, c := range a.clocks {
		m.SLA[c.metric] = share(c.met, c.decided)
		if c.breach > 0 {
			m.Breaches[c.metric] = c.breach
		}
	}
	m.ReopenRate = share(a.reopened, m.Resolved)
	m.EscalationRate = share(a.escalated, m.Intake)
	m.RepeatRate = share(a.repeats, m.Intake)
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
func BySlice(rows []*Row, p Period, by string) []Slice { return BySlices(rows, by, p)[0] }

// BySlices is BySlice over each of ps, in one pass over the rows.
func BySlices(rows []*Row, by string, ps ...Period) [][]Slice {
	accs := map[string][]*accumulator{}
	var last string
	var cur []*accumulator
	for _, r := range rows {
		k := r.key(by)
		if cur == nil || k != last {
			if cur = accs[k]; cur == nil {
				cur = make([]*accumulator, len(ps))
				for i, p := range ps {
					cur[i] = newAccumulator(p)
				}
				accs[k] = cur
			}
			last = k
		}
		for _, a := range cur {
			a.add(r)
		}
	}
	keys := slices.Sorted(maps.Keys(accs))
	out := make([][]Slice, len(ps))
	for i := range ps {
		out[i] = make([]Slice, 0, len(keys))
		for _, k := range keys {
			out[i] = append(out[i], Slice{Key: k, Metrics: accs[k][i].metrics()})
		}
	}
	return out
}
