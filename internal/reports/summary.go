package reports

import (
	"context"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/handoffs"
	"github.com/flare-desk/flare/internal/incidents"
	"github.com/flare-desk/flare/internal/postmortems"
)

// Summary is the reporting page's tables: the headline figures against
// target and the previous period, escalation time per level, handoff wait
// per receiving team, incidents' MTTA/MTTR and postmortem actions.
type Summary struct {
	Period      Period               `json:"period"`
	Previous    Period               `json:"previous"`
	Headlines   []Headline           `json:"headlines"`
	Escalations []LevelStat          `json:"escalation_time"`
	Handoffs    []handoffs.TeamStats `json:"handoff_wait"`
	Incidents   incidents.Metrics    `json:"incidents"`
	Actions     ActionCounts         `json:"postmortem_actions"`
	Targets     Targets              `json:"targets"`
}

// ActionCounts are the postmortem actions open now (open or in progress)
// and, of those, past their due time.
type ActionCounts struct {
	Open    int `json:"open"`
	Overdue int `json:"overdue"`
}

// Sources are the capabilities whose figures the summary puts beside
// the metrics.
type Sources struct {
	Handoffs    *handoffs.Service
	Incidents   *incidents.Service
	Postmortems *postmortems.Service
}

// Summary computes the reporting page's tables for f.
func (s *Service) Summary(ctx context.Context, a auth.Actor, f Filter, src Sources) (*Summary, error) {
	f.By = ""
	rep, err := s.Report(ctx, a, f)
	if err != nil {
		return nil, err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	sm := &Summary{Period: rep.Period, Previous: rep.Previous, Targets: desk.Get(cfg, TargetsKey)}
	var cur, prev Metrics
	if len(rep.Slices) > 0 {
		cur = rep.Slices[0].Metrics
	}
	if len(rep.PreviousSlices) > 0 {
		prev = rep.PreviousSlices[0].Metrics
	}
	sm.Headlines = Headlines(cur, prev, sm.Targets)
	if sm.Escalations, err = s.Escalations(ctx, a, f); err != nil {
		return nil, err
	}
	// The tables beside the metrics follow the same filter, each as far as
	// its records carry the slice: handoffs by their case, incidents by the
	// markets and categories they affect, actions by their team.
	hs, err := src.Handoffs.WaitStats(ctx, a, handoffs.StatsFilter{From: f.Period.From, To: f.Period.To,
		Market: f.Market, Team: f.Team, Category: f.Category, Channel: f.Channel, Priority: f.Priority, Tier: f.Tier})
	if err != nil {
		return nil, err
	}
	sm.Handoffs = hs.Teams
	im, err := src.Incidents.MetricsOf(ctx, a, incidents.MetricsFilter{From: f.Period.From, To: f.Period.To, Market: f.Market, Category: f.Category})
	if err != nil {
		return nil, err
	}
	sm.Incidents = *im
	items, err := src.Postmortems.Query(ctx, postmortems.Filter{Team: f.Team, State: postmortems.StateActive, Limit: postmortems.MaxItems})
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		sm.Actions.Open++
		if it.Overdue {
			sm.Actions.Overdue++
		}
	}
	return sm, nil
}
