package reviews

import (
	"fmt"
	"math"
)

// The "needs attention" rules: pure functions of the pack's figures, each
// giving the lines a lead should read first. They run in Rules' order.

// Attention is one thing that needs a lead's attention.
type Attention struct {
	Rule    string `json:"rule"`
	Subject string `json:"subject"` // the team, market or category
	Text    string `json:"text"`
}

// Minimums below which a rule does not judge (too few to mean anything).
const (
	minHandoffs = 3
	minDecided  = 5
	minSurge    = 20
)

// HandoffWaitDoubled: a receiving team's median handoff wait at least
// doubled against the previous period.
func HandoffWaitDoubled(waits []TeamWait) []Attention {
	var out []Attention
	for _, w := range waits {
		if w.Handoffs >= minHandoffs && w.PrevHandoffs >= minHandoffs && w.PrevMedian > 0 && w.MedianHours >= 2*w.PrevMedian {
			out = append(out, Attention{Rule: "handoff_wait_doubled", Subject: w.Team,
				Text: fmt.Sprintf("%s's median handoff wait went from %s to %s (%d handoffs)", w.Team, hours(w.PrevMedian), hours(w.MedianHours), w.Handoffs)})
		}
	}
	return out
}

// FirstResponseBelowTarget: a market's first-response SLA attainment was
// below target this period and the one before (no target: nothing).
func FirstResponseBelowTarget(markets []MarketRow, target float64) []Attention {
	if target == 0 {
		return nil
	}
	var out []Attention
	for _, m := range markets {
		if m.FirstResponseDecided >= minDecided && m.PrevFirstResponseDec >= minDecided &&
			m.FirstResponse < target && m.PrevFirstResponse < target {
			out = append(out, Attention{Rule: "first_response_below_target", Subject: m.Market,
				Text: fmt.Sprintf("%s's first-response attainment was below the %s target two periods running: %s, then %s",
					m.Market, percent(target), percent(m.PrevFirstResponse), percent(m.FirstResponse))})
		}
	}
	return out
}

// CategorySurge: a category's intake grew by half or more (and by at
// least minSurge cases).
func CategorySurge(cats []Movement) []Attention {
	var out []Attention
	for _, c := range cats {
		if c.Change >= minSurge && float64(c.Intake) >= 1.5*float64(c.Previous) {
			out = append(out, Attention{Rule: "category_surge", Subject: c.Key,
				Text: fmt.Sprintf("%s: %d cases, up from %d", c.Key, c.Intake, c.Previous)})
		}
	}
	return out
}

// BacklogGrowing: the backlog grew by a quarter or more while fewer cases
// were resolved than came in.
func BacklogGrowing(backlog KPI, intake, resolved int) []Attention {
	if backlog.Previous > 0 && backlog.Value >= 1.25*backlog.Previous && resolved < intake {
		return []Attention{{Rule: "backlog_growing", Subject: "desk",
			Text: fmt.Sprintf("the backlog grew from %.0f to %.0f: %d cases in, %d resolved", backlog.Previous, backlog.Value, intake, resolved)}}
	}
	return nil
}

// ActionsOverdue: postmortem action items past their due date.
func ActionsOverdue(a Actions) []Attention {
	if a.Overdue == 0 {
		return nil
	}
	return []Attention{{Rule: "actions_overdue", Subject: "postmortems",
		Text: fmt.Sprintf("%d postmortem action items are overdue", a.Overdue)}}
}

// attention runs every rule over the pack.
func attention(p *Pack) []Attention {
	out := []Attention{}
	out = append(out, FirstResponseBelowTarget(p.Markets, p.Targets.SLAAttainment["first_response"])...)
	out = append(out, HandoffWaitDoubled(p.HandoffWait)...)
	out = append(out, CategorySurge(p.Categories)...)
	if b := kpi(p.KPIs, "backlog"); b != nil {
		out = append(out, BacklogGrowing(*b, p.Metrics.Intake, p.Metrics.Resolved)...)
	}
	return append(out, ActionsOverdue(p.Actions)...)
}

func kpi(ks []KPI, key string) *KPI {
	for i := range ks {
		if ks[i].Key == key {
			return &ks[i]
		}
	}
	return nil
}

func percent(r float64) string { return fmt.Sprintf("%.1f %%", r*100) }

func hours(h float64) string {
	if h < 1 {
		return fmt.Sprintf("%.0f min", math.Round(h*60))
	}
	return fmt.Sprintf("%.1f h", h)
}
