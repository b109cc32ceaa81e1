package reviews

import (
	"cmp"
	"slices"
	"time"

	"github.com/flare-desk/flare/internal/postmortems"
	"github.com/flare-desk/flare/internal/problems"
	"github.com/flare-desk/flare/internal/reports"
)

// Pack is one review pack: the figures of a closed period beside the
// previous one. Every figure of the metrics is reports.Compute's over the
// same rows as GET /api/v1/reports/metrics, so it is the same number.
type Pack struct {
	ID          int64           `json:"id,omitempty"`
	Cadence     string          `json:"cadence"`
	CadenceName string          `json:"cadence_name"`
	Title       string          `json:"title"`
	Period      Period          `json:"period"`
	Previous    Period          `json:"previous"`
	BuiltAt     time.Time       `json:"built_at"`
	Sections    []string        `json:"sections"`
	Targets     reports.Targets `json:"targets"` // the desk's report_targets when it was built

	Attention   []Attention      `json:"attention"`
	KPIs        []KPI            `json:"kpis"`
	Categories  []Movement       `json:"categories"`
	Breaches    Breaches         `json:"breaches"`
	Escalations Escalations      `json:"escalations"`
	Incidents   []Incident       `json:"incidents"`
	Actions     Actions          `json:"actions"`
	Problems    *problems.Review `json:"problems"`
	Markets     []MarketRow      `json:"markets"`
	HandoffWait []TeamWait       `json:"handoff_wait"`
	Metrics     reports.Metrics  `json:"metrics"`          // the whole desk, this period
	PrevMetrics reports.Metrics  `json:"previous_metrics"` // and the one before
}

// Has reports whether the pack shows section s.
func (p *Pack) Has(s string) bool { return slices.Contains(p.Sections, s) }

// KPI is a headline figure: this period, the previous, the target.
type KPI struct {
	Key      string   `json:"key"` // the figure's name in docs/metrics.md
	Name     string   `json:"name"`
	Unit     string   `json:"unit"` // count | rate | seconds
	Value    float64  `json:"value"`
	Previous float64  `json:"previous"`
	Target   *float64 `json:"target,omitempty"`
	// Lower: a lower value is better (times, reopen rate).
	Lower bool `json:"lower_is_better,omitempty"`
	// OnTarget: the value meets the target (nil: no target, or no data).
	OnTarget *bool `json:"on_target,omitempty"`
	// Empty, PrevEmpty: nothing to measure (no decided clock, no case
	// answered), so the value 0 means "none" rather than zero.
	Empty     bool `json:"empty,omitempty"`
	PrevEmpty bool `json:"previous_empty,omitempty"`
}

// Change is Value − Previous.
func (k KPI) Change() float64 { return k.Value - k.Previous }

// kpis are the headline figures of m beside prev.
func kpis(m, prev reports.Metrics, t reports.Targets) []KPI {
	target := func(x float64) *float64 { // 0: no target
		if x == 0 {
			return nil
		}
		return &x
	}
	seconds := func(d string) *float64 {
		x, err := time.ParseDuration(d)
		if err != nil {
			return nil
		}
		return target(x.Seconds())
	}
	out := []KPI{
		{Key: "intake", Name: "Cases in", Unit: "count", Value: float64(m.Intake), Previous: float64(prev.Intake)},
		{Key: "resolved", Name: "Cases resolved", Unit: "count", Value: float64(m.Resolved), Previous: float64(prev.Resolved)},
		{Key: "backlog", Name: "Backlog at the end", Unit: "count", Value: float64(m.Backlog), Previous: float64(prev.Backlog), Lower: true},
		{Key: "sla_first_response_attainment", Name: "First response within SLA", Unit: "rate",
			Value: m.SLA["first_response"].Rate, Previous: prev.SLA["first_response"].Rate, Target: target(t.SLAAttainment["first_response"])},
		{Key: "sla_resolution_attainment", Name: "Resolution within SLA", Unit: "rate",
			Value: m.SLA["resolution"].Rate, Previous: prev.SLA["resolution"].Rate, Target: target(t.SLAAttainment["resolution"])},
		{Key: "first_response_median_seconds", Name: "First response, median", Unit: "seconds",
			Value: m.FirstResponse.Median, Previous: prev.FirstResponse.Median, Target: seconds(t.FirstResponseMedian), Lower: true},
		{Key: "resolution_median_seconds", Name: "Resolution time, median", Unit: "seconds",
			Value: m.Resolution.Median, Previous: prev.Resolution.Median, Target: seconds(t.ResolutionMedian), Lower: true},
		{Key: "reopen_rate", Name: "Reopened", Unit: "rate", Value: m.ReopenRate.Rate, Previous: prev.ReopenRate.Rate,
			Target: target(t.ReopenRate), Lower: true},
		{Key: "escalation_rate", Name: "Escalated", Unit: "rate", Value: m.EscalationRate.Rate, Previous: prev.EscalationRate.Rate,
			Target: target(t.EscalationRate), Lower: true},
		{Key: "repeat_rate", Name: "Repeat contacts", Unit: "rate", Value: m.RepeatRate.Rate, Previous: prev.RepeatRate.Rate,
			Target: target(t.RepeatRate), Lower: true},
	}
	empty := map[string][2]bool{
		"sla_first_response_attainment": {m.SLA["first_response"].Of == 0, prev.SLA["first_response"].Of == 0},
		"sla_resolution_attainment":     {m.SLA["resolution"].Of == 0, prev.SLA["resolution"].Of == 0},
		"first_response_median_seconds": {m.FirstResponse.Count == 0, prev.FirstResponse.Count == 0},
		"resolution_median_seconds":     {m.Resolution.Count == 0, prev.Resolution.Count == 0},
		"reopen_rate":                   {m.ReopenRate.Of == 0, prev.ReopenRate.Of == 0},
		"escalation_rate":               {m.EscalationRate.Of == 0, prev.EscalationRate.Of == 0},
		"repeat_rate":                   {m.RepeatRate.Of == 0, prev.RepeatRate.Of == 0},
	}
	for i := range out {
		k := &out[i]
		k.Empty, k.PrevEmpty = empty[k.Key][0], empty[k.Key][1]
		if k.Target != nil && !k.Empty {
			ok := k.Value >= *k.Target
			if k.Lower {
				ok = k.Value <= *k.Target
			}
			k.OnTarget = &ok
		}
	}
	return out
}

// Movement is one category's (or market's) intake beside the previous period.
type Movement struct {
	Key      string `json:"key"`
	Intake   int    `json:"intake"`
	Previous int    `json:"previous"`
	Change   int    `json:"change"`
	Breaches int    `json:"breaches"`
}

// topCategories are the n categories with the most intake this period,
// with their movement.
func topCategories(cur, prev []reports.Slice, n int) []Movement {
	before := map[string]int{}
	for _, s := range prev {
		before[s.Key] = s.Metrics.Intake
	}
	var out []Movement
	for _, s := range cur {
		if s.Metrics.Intake == 0 {
			continue
		}
		out = append(out, Movement{Key: s.Key, Intake: s.Metrics.Intake, Previous: before[s.Key],
			Change: s.Metrics.Intake - before[s.Key], Breaches: sum(s.Metrics.Breaches)})
	}
	slices.SortStableFunc(out, func(a, b Movement) int { return cmp.Or(cmp.Compare(b.Intake, a.Intake), cmp.Compare(a.Key, b.Key)) })
	return out[:min(n, len(out))]
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// MarketRow is one market's figures beside the previous period. The
// Decided counts say how many clocks an attainment is of (0: none, "—").
type MarketRow struct {
	Market               string  `json:"market"`
	Intake               int     `json:"intake"`
	PrevIntake           int     `json:"previous_intake"`
	Resolved             int     `json:"resolved"`
	Backlog              int     `json:"backlog"`
	FirstResponse        float64 `json:"sla_first_response_attainment"`
	FirstResponseDecided int     `json:"first_response_decided"`
	PrevFirstResponse    float64 `json:"previous_sla_first_response_attainment"`
	PrevFirstResponseDec int     `json:"previous_first_response_decided"`
	Resolution           float64 `json:"sla_resolution_attainment"`
	ResolutionDecided    int     `json:"resolution_decided"`
	FirstResponseMedian  float64 `json:"first_response_median_seconds"`
	Breaches             int     `json:"sla_breaches"`
	EscalationRate       float64 `json:"escalation_rate"`
}

func marketTable(cur, prev []reports.Slice) []MarketRow {
	before := map[string]reports.Metrics{}
	for _, s := range prev {
		before[s.Key] = s.Metrics
	}
	var out []MarketRow
	for _, s := range cur {
		m, p := s.Metrics, before[s.Key]
		if m.Intake == 0 && m.Backlog == 0 && m.Resolved == 0 {
			continue
		}
		out = append(out, MarketRow{Market: s.Key, Intake: m.Intake, PrevIntake: p.Intake, Resolved: m.Resolved, Backlog: m.Backlog,
			FirstResponse: m.SLA["first_response"].Rate, PrevFirstResponse: p.SLA["first_response"].Rate,
			FirstResponseDecided: m.SLA["first_response"].Of, PrevFirstResponseDec: p.SLA["first_response"].Of,
			Resolution: m.SLA["resolution"].Rate, ResolutionDecided: m.SLA["resolution"].Of,
			FirstResponseMedian: m.FirstResponse.Median, Breaches: sum(m.Breaches), EscalationRate: m.EscalationRate.Rate})
	}
	return out
}

// Breaches are the period's SLA breaches and what held the cases then.
type Breaches struct {
	ByMetric map[string]int `json:"by_metric"` // reports' sla_breaches
	Total    int            `json:"total"`
	// Causes: per cause, the breached clocks it held at their deadline —
	// "handoff to logistics" when a handoff to that team was open then,
	// else "with payments" (the owning team held it).
	Causes []Count `json:"causes"`
	ByTeam []Count `json:"by_team"` // the team owning the case
}

// Count is a key and how many.
type Count struct {
	Key   string `json:"key"`
	Count int    `json:"count"`
}

func counts(m map[string]int, n int) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{k, v})
	}
	slices.SortFunc(out, func(a, b Count) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Key, b.Key)) })
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// Escalations are the escalations started in the period.
type Escalations struct {
	Started  int     `json:"started"`
	Previous int     `json:"previous"`
	ByCause  []Count `json:"by_cause"`
	ByLevel  []Count `json:"by_level"` // the highest level each reached
	Acked    int     `json:"acknowledged"`
	// AckMedianSeconds: from start to acknowledgement, of those acknowledged.
	AckMedianSeconds float64 `json:"ack_median_seconds"`
	StillOpen        int     `json:"still_open"` // not closed at the period's end
}

// Incident is an incident declared in the period.
type Incident struct {
	Number   string  `json:"number"` // INC-7
	Title    string  `json:"title"`
	Type     string  `json:"type"`
	Severity string  `json:"severity"`
	Status   string  `json:"status"`
	MTTA     float64 `json:"mtta_seconds"` // detection (or start) to acknowledgement; 0: not acknowledged
	MTTR     float64 `json:"mttr_seconds"` // start to resolution; 0: not resolved
}

// Actions are the postmortem action items: open and overdue at the
// period's end, and done in it.
type Actions struct {
	Open    int              `json:"open"`
	Overdue int              `json:"overdue"`
	Done    int              `json:"done"`
	List    []ActionListItem `json:"overdue_items"` // the overdue ones, soonest due first
}

// ActionListItem is an overdue action item.
type ActionListItem struct {
	Incident string `json:"incident"`
	Title    string `json:"title"`
	Owner    string `json:"owner"`
	Team     string `json:"team"`
	Due      string `json:"due_date"`
}

func actionsSummary(items []postmortems.ActionItem, p Period) Actions {
	var a Actions
	for _, it := range items {
		active := it.Status.Active()
		switch {
		case it.CreatedAt.Before(p.To) && active || it.CreatedAt.Before(p.To) && it.FinishedAt != nil && !it.FinishedAt.Before(p.To):
			a.Open++
			if !it.DueAt.After(p.To) {
				a.Overdue++
				a.List = append(a.List, ActionListItem{Incident: it.Incident, Title: it.Title, Owner: it.OwnerName, Team: it.Team, Due: it.DueDate})
			}
		case it.FinishedAt != nil && p.In(*it.FinishedAt) && it.Status == postmortems.Done:
			a.Done++
		}
	}
	return a
}

// In reports whether t is in the period.
func (p Period) In(t time.Time) bool { return !t.Before(p.From) && t.Before(p.To) }

// TeamWait is a receiving team's handoff wait this period and the previous.
type TeamWait struct {
	Team         string  `json:"team"`
	Handoffs     int     `json:"handoffs"` // asked in the period and answered (completed or declined)
	MedianHours  float64 `json:"wait_median_hours"`
	PrevHandoffs int     `json:"previous_handoffs"`
	PrevMedian   float64 `json:"previous_wait_median_hours"`
}
