package reports

import (
	"context"

	"golang.org/x/sync/errgroup"

	"github.com/flare-desk/flare/internal/apperr"
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

// Summary computes the reporting page's tables for f. Its parts read
// different tables and run side by side.
func (s *Service) Summary(ctx context.Context, a auth.Actor, f Filter, src Sources) (*Summary, error) {
	f.By = ""
	if !a.Can(auth.PermReportRead) {
		return nil, &apperr.Forbidden{Detail: "your role cannot read the desk's reports"}
	}
	if err := f.Check(); err != nil {
		return nil, err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	prev := f.Period.Previous()
	sm := &Summary{Period: f.Period, Previous: prev, Targets: desk.Get(cfg, TargetsKey)}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		rep, err := s.Report(gctx, a, f)
		if err != nil {
			return err
		}
		var cur, before Metrics
		if len(rep.Slices) > 0 {
			cur = rep.Slices[0].Metrics
		}
		if len(rep.PreviousSlices) > 0 {
			before = rep.PreviousSlices[0].Metrics
		}
		sm.Headlines = Headlines(cur, before, sm.Targets)
		return nil
	})
	g.Go(func() (err error) {
		sm.Escalations, err = s.Escalations(gctx, a, f)
		return err
	})
	// The tables beside the metrics follow the same filter, each as far as
	// its records carry the slice: handoffs by their case, incidents by the
	// markets and categories they affect, actions by their team.
	g.Go(func() error {
		hs, err := src.Handoffs.WaitStats(gctx, a, handoffs.StatsFilter{From: f.Period.From, To: f.Period.To,
			Market: f.Market, Team: f.Team, Category: f.Category, Channel: f.Channel, Priority: f.Priority, Tier: f.Tier})
		if err != nil {
			return err
		}
		sm.Handoffs = hs.Teams
		return nil
	})
	g.Go(func() error {
		im, err := src.Incidents.MetricsOf(gctx, a, incidents.MetricsFilter{From: f.Period.From, To: f.Period.To, Market: f.Market, Category: f.Category})
		if err != nil {
			return err
		}
		sm.Incidents = *im
		return nil
	})
	g.Go(func() error {
		items, err := src.Postmortems.Query(gctx, postmortems.Filter{Team: f.Team, State: postmortems.StateActive, Limit: postmortems.MaxItems})
		if err != nil {
			return err
		}
		for _, it := range items {
			sm.Actions.Open++
			if it.Overdue {
				sm.Actions.Overdue++
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return sm, nil
}
