package demo

import (
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/reports"
)

// reportsDesk sets the demo desk's report targets: what the dashboard and
// reports page show next to each figure, and the staffing goal.
func reportsDesk(cfg *desk.Config) {
	desk.Set(cfg, reports.TargetsKey, reports.Targets{
		SLAAttainment:       map[string]float64{"first_response": 0.9, "resolution": 0.85},
		FirstResponseMedian: "4h",
		ResolutionMedian:    "72h",
		ReopenRate:          0.05,
		EscalationRate:      0.25,
		RepeatRate:          0.05,
		ServiceLevel:        0.8,
		AnswerWithin:        "15m",
		ForecastWeeks:       4,
	})
}
