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

// Details reads the incident's timeline (its postmortem report) and
// linked cases.
func (a adapter) Details(ctx context.Context, q db.Querier, id int64) ([]Moment, []int64, error) {
	r, err := a.svc.ReportTx(ctx, q, id)
	if err != nil {
		return nil, nil, err
	}
	timeline := make([]Moment, len(r.Timeline))
	for i, e := range r.Timeline {
		timeline[i] = Moment{At: e.At, Text: momentText(e)}
	}
	linked, err := a.Linked(ctx, q, id)
	return timeline, linked, err
}

func (a adapter) Linked(ctx context.Context, q db.Querier, id int64) ([]int64, error) {
	return a.svc.LinkedCaseIDs(ctx, q, id)
}

// momentText is one timeline line: "Decision: roll back the release (Amelia Clarke)".
func momentText(e incidents.Entry) string {
	d := func(k string) string {
		if v, ok := e.Data[k]; ok && v != nil {
			return fmt.Sprint(v)
		}
		return ""
	}
	var s string
	switch e.Kind {
	case "declared":
		s = "Declared " + d("severity")
	case "status", "severity":
		s = strings.ToUpper(e.Kind[:1]) + e.Kind[1:] + " " + d("from") + " → " + d("to")
	case "role_assigned", "role_handed_over":
		s = d("role_name") + ": " + d("to_name")
	case "moment", "moment_corrected":
		s = "Key moment: " + d("moment")
	case "cases_linked":
		s = "Linked " + d("count") + " cases"
	default:
		s = strings.ToUpper(e.Kind[:min(1, len(e.Kind))]) + strings.ReplaceAll(e.Kind[min(1, len(e.Kind)):], "_", " ")
	}
	if body := strings.Join(strings.Fields(e.Body), " "); body != "" {
		s += ": " + body
	}
	if e.ActorName != "" {
		s += " (" + e.ActorName + ")"
	}
	return s
}
