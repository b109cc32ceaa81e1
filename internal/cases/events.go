package cases

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/routing"
	"github.com/flare-desk/flare/internal/sla"
)

// Domain events. Each write path publishes its events from one place, in
// its own transaction: a create from Write, every change from changeTx,
// SLA warnings and breaches from recordHits and SLA clocks met from
// syncSLABatch. Status and owner events are read off the case before and
// after the change, so no code path can change them without saying so;
// the rest comes from the timeline entries the change adds.

// Bus is the event bus the service publishes to, for capabilities to
// subscribe to and to publish their own events in a case's transaction.
func (s *Service) Bus() *events.Bus { return s.bus }

// EventCase is what events carry of a case.
func EventCase(c *Case) *events.Case {
	e := &events.Case{ID: c.ID, Number: c.Number, Title: c.Title, Team: c.Team, Category: c.Category, Market: c.Market,
		Priority: c.Priority, Status: string(c.Status), HighRisk: c.HighRisk, Sensitivity: c.Sensitivity,
		SellerID: deref(c.SellerID), OwnerID: c.OwnerID, Owner: deref(c.Owner), EscalationLevel: c.EscalationLevel}
	return e
}

// EventActor is what events carry of an actor.
func EventActor(a auth.Actor) events.Actor {
	if a.IsSystem() {
		return events.Actor{Name: a.Name}
	}
	return events.Actor{ID: a.UserID, Email: a.Email, Name: a.Name}
}

// publishCreate publishes a new case's events: created, then what routing
// and assignment did.
func (s *Service) publishCreate(ctx context.Context, tx *db.Tx, actor auth.Actor, c *Case, recs []eventRec) error {
	ec, ea := EventCase(c), EventActor(actor)
	mk := func(t events.Type, p events.Payload) events.Event {
		return events.Event{Type: t, At: c.CreatedAt, Actor: ea, Case: ec, Data: p}
	}
	created := &events.Created{Channel: string(c.Channel)}
	evs := []events.Event{mk(events.CaseCreated, created)}
	for _, r := range recs {
		switch r.typ {
		case "routed":
			evs = append(evs, mk(events.CaseRouted, routedEvent(r, "create")))
		case "assigned":
			via := str(r.data, "via")
			created.Via = via
			evs = append(evs, mk(events.CaseAssigned, &events.Assigned{Owner: deref(c.Owner), Via: via}))
		case "unassigned":
			evs = append(evs, mk(events.CaseUnassigned, &events.Unassigned{Reason: str(r.data, "reason")}))
		}
	}
	return s.bus.Publish(ctx, tx, evs...)
}

// publishChange publishes a change's events: changed fields, the status
// and owner as they moved from before to c, comments and routing.
func (s *Service) publishChange(ctx context.Context, tx *db.Tx, actor auth.Actor, before, c *Case, recs []eventRec, now time.Time) error {
	ec, ea := EventCase(c), EventActor(actor)
	mk := func(t events.Type, p events.Payload) events.Event {
		return events.Event{Type: t, At: now, Actor: ea, Case: ec, Data: p}
	}
	var evs []events.Event
	var status *events.StatusChanged
	via := "manual"
	for _, r := range recs {
		switch r.typ {
		case "update":
			chs, _ := r.data.(map[string]any)["changes"].([]Change)
			if len(chs) > 0 {
				ch := &events.Changed{Changes: make([]events.FieldChange, len(chs))}
				for i, x := range chs {
					ch.Changes[i] = events.FieldChange{Field: x.Field, Old: x.Old, New: x.New}
				}
				evs = append(evs, mk(events.CaseChanged, ch))
			}
		case "status":
			status = &events.StatusChanged{Note: str(r.data, "note")}
		case "assigned":
			via = str(r.data, "via")
		case "comment":
			m := r.data.(map[string]any)
			cm := &events.Comment{CommentID: m["comment_id"].(int64), Internal: m["internal"].(bool)}
			cm.Mentions, _ = m["mentions"].([]string)
			t := events.CaseReplied
			if cm.Internal {
				t = events.CaseNoteAdded
			}
			evs = append(evs, mk(t, cm))
		case "routed":
			evs = append(evs, mk(events.CaseRouted, routedEvent(r, "update")))
		}
	}
	if before.Status != c.Status {
		if status == nil {
			status = &events.StatusChanged{}
		}
		status.From, status.To = string(before.Status), string(c.Status)
		status.Reopened = before.Status == StatusResolved && c.Status == StatusOpen
		if c.Status == StatusResolved {
			status.Resolution = c.Resolution
		}
		evs = append(evs, mk(events.CaseStatusChanged, status))
	}
	if before.OwnerID != c.OwnerID {
		if c.OwnerID == 0 {
			evs = append(evs, mk(events.CaseUnassigned, &events.Unassigned{Previous: deref(before.Owner)}))
		} else {
			evs = append(evs, mk(events.CaseAssigned, &events.Assigned{Owner: deref(c.Owner), Previous: deref(before.Owner), Via: via}))
		}
	}
	return s.bus.Publish(ctx, tx, evs...)
}

// routedEvent is the routed timeline entry as an event.
func routedEvent(r eventRec, on string) *events.Routed {
	m := r.data.(map[string]any)
	out := &events.Routed{On: on}
	out.Rules, _ = m["rules"].([]string)
	chs, _ := m["changes"].([]routing.Change)
	for _, ch := range chs {
		switch ch.Action {
		case routing.ActionNotify:
			out.Notify = append(out.Notify, events.Notify{Rule: ch.Rule, Target: ch.Value})
		case routing.ActionEscalate:
			out.Escalate = append(out.Escalate, events.Escalate{Rule: ch.Rule, Policy: ch.Value})
		}
	}
	return out
}

func str(data any, key string) string {
	m, _ := data.(map[string]any)
	switch v := m[key].(type) {
	case string:
		return v
	case fmt.Stringer:
		return v.String()
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// slaEvent is a warning or breach recorded for the first time, as an event.
func slaEvent(c *Case, h slaHit, id int64, now time.Time) events.Event {
	t := events.SLAWarning
	if h.kind == "breach" {
		t = events.SLABreached
	}
	return events.Event{Type: t, At: now, Case: EventCase(c), Data: &events.SLA{Metric: string(h.clock.Metric),
		Policy: h.policy, DueAt: h.clock.DueAt.UTC(), At: h.at.UTC(), SLAID: id}}
}

// metEvents are the clocks of c that are met now and were not before.
func metEvents(c *Case, old []storedClock, now time.Time) []events.Event {
	var out []events.Event
	for _, ck := range c.slaStored {
		if ck.State != string(sla.ClockMet) || ck.MetAt == nil {
			continue
		}
		was := false
		for _, o := range old {
			if o.Metric == ck.Metric && o.StartedAt.Equal(ck.StartedAt) && o.State == string(sla.ClockMet) {
				was = true
			}
		}
		if was {
			continue
		}
		e := &events.SLA{Metric: string(ck.Metric), Policy: ck.Policy, At: *ck.MetAt}
		if ck.DueAt != nil {
			e.DueAt = *ck.DueAt
			e.Late = ck.MetAt.After(*ck.DueAt)
		}
		out = append(out, events.Event{Type: events.SLAMet, At: now, Case: EventCase(c), Data: e})
	}
	return out
}

// mentionRe finds @-mentions: a whole email or the part before its @.
var mentionRe = regexp.MustCompile(`(?:^|[\s(])@([a-zA-Z0-9._%+-]+(?:@[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+)?)`)

// maxMentions bounds the people one comment can mention.
const maxMentions = 20

// mentions are the active users body mentions, by email.
func mentions(ctx context.Context, q db.Querier, body string) ([]string, error) {
	var conds []string
	var args []any
	seen := map[string]bool{}
	for _, m := range mentionRe.FindAllStringSubmatch(body, -1) {
		name := strings.ToLower(strings.TrimRight(m[1], "."))
		if seen[name] || len(seen) == maxMentions {
			continue
		}
		seen[name] = true
		if strings.Contains(name, "@") {
			conds, args = append(conds, "email = ?"), append(args, name)
		} else {
			conds, args = append(conds, "substr(email, 1, ?) = ?"), append(args, len(name)+1, name+"@")
		}
	}
	if len(conds) == 0 {
		return nil, nil
	}
	rows, err := q.Query(ctx, `SELECT email FROM users WHERE active = TRUE AND (`+strings.Join(conds, " OR ")+`) ORDER BY email`, args...)
	if err != nil {
		return nil, fmt.Errorf("mentions: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, fmt.Errorf("mentions: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
