package cases

import (
	"fmt"

	"github.com/flare-desk/flare/internal/desk"
)

// Baseline priority until configurable routing weights arrive: points per
// factor, summed and cut into P1–P4. Every factor that adds points becomes a
// reason the queue can show.
var (
	severityPoints = map[int]int{1: 40, 2: 25, 3: 10, 4: 0}
	tierPoints     = map[int]int{1: 25, 2: 15, 3: 5, 4: 0}
	channelPoints  = map[Channel]int{"leadership": 20, "external": 20, "social": 15}
)

const highRiskPoints = 30

// priorityCuts maps a score to a priority: at least 70 → P1, 45 → P2, 20 → P3.
func priorityFor(score int) string {
	switch {
	case score >= 70:
		return "P1"
	case score >= 45:
		return "P2"
	case score >= 20:
		return "P3"
	}
	return "P4"
}

// Score computes a case's priority and the reasons behind it.
func Score(cat desk.Category, sellerTier int, channel Channel, highRisk bool) (string, []Reason) {
	var reasons []Reason
	add := func(factor, detail string, pts int) {
		if pts > 0 {
			reasons = append(reasons, Reason{Factor: factor, Detail: detail, Points: pts})
		}
	}
	sev := cat.Severity
	if sev == 0 {
		sev = 3
	}
	add("category_severity", fmt.Sprintf("%s is severity %d", cat.Key, sev), severityPoints[sev])
	if sellerTier > 0 {
		add("seller_tier", fmt.Sprintf("tier %d seller", sellerTier), tierPoints[sellerTier])
	}
	add("channel", fmt.Sprintf("raised through %s", channel), channelPoints[channel])
	if highRisk {
		add("high_risk", "flagged high risk", highRiskPoints)
	}
	total := 0
	for _, r := range reasons {
		total += r.Points
	}
	if reasons == nil {
		reasons = []Reason{}
	}
	return priorityFor(total), reasons
}

// overridden reports whether a person has set the priority by hand.
func overridden(reasons []Reason) bool {
	return len(reasons) > 0 && reasons[0].Factor == "override"
}
