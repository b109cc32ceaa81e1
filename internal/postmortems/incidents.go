package postmortems

import (
	"context"
	"fmt"
	"strings"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/incidents"
)

// Follow makes the service follow inc's incidents: it reads them through
// an adapter, and registers the close guard that keeps an incident whose
// severity requires a postmortem from closing until it is published.
func (s *Service) Follow(inc *incidents.Service) {
	s.SetIncidents(adapter{inc})
	inc.SetCloseGuard(func(ctx context.Context, tx *db.Tx, i *incidents.Incident) error {
		return s.CloseCheck(ctx, tx, factsOf(i))
	})
}

// adapter answers Incidents from internal/incidents.
type adapter struct{ svc *incidents.Service }

func factsOf(i *incidents.Incident) IncidentFacts {
	return IncidentFacts{ID: i.ID, Number: i.Number, Title: i.Title, Type: string(i.Type), Severity: string(i.Severity),
		Status: string(i.Status), Markets: i.Markets, Commander: i.Commander()}
}

func (a adapter) Find(ctx context.Context, actor auth.Actor, ref string) (*IncidentFacts, error) {
	i, err := a.svc.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	f := factsOf(i)
	return &f, nil
}

func (a adapter) RequiresPostmortem(cfg *desk.Config, severity string) bool {
	return incidents.RequiresPostmortem(cfg, incidents.Severity(severity))
}

// Details reads the incident's timeline and linked cases. Until
// internal/incidents exports them through q (requested), it reads their
// rows itself.
func (a adapter) Details(ctx context.Context, q db.Querier, id int64) ([]Moment, []int64, error) {
	rows, err := q.Query(ctx, `SELECT t.at, t.kind, t.body, COALESCE(u.name, '') FROM incident_timeline t
		LEFT JOIN users u ON u.id = t.actor_id WHERE t.incident_id = ? ORDER BY t.at, t.id`, id)
	if err != nil {
		return nil, nil, fmt.Errorf("incident %d timeline: %w", id, err)
	}
	timeline, err := db.Collect(rows, func(r db.Scanner) (Moment, error) {
		var m Moment
		var at db.Time
		var kind, body, who string
		if err := r.Scan(&at, &kind, &body, &who); err != nil {
			return m, err
		}
		m.At, m.Text = at.Time, momentText(kind, body, who)
		return m, nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("incident %d timeline: %w", id, err)
	}
	linked, err := db.QueryIDs(ctx, q, `SELECT case_id FROM incident_cases WHERE incident_id = ? ORDER BY case_id`, id)
	if err != nil {
		return nil, nil, fmt.Errorf("incident %d linked cases: %w", id, err)
	}
	return timeline, linked, nil
}

// momentText is one timeline line: "Decision: roll back the release (Amelia Clarke)".
func momentText(kind, body, who string) string {
	s := strings.ToUpper(kind[:min(1, len(kind))]) + strings.ReplaceAll(kind[min(1, len(kind)):], "_", " ")
	if body = strings.Join(strings.Fields(body), " "); body != "" {
		s += ": " + body
	}
	if who != "" {
		s += " (" + who + ")"
	}
	return s
}
