// Package postmortems is what follows an incident: its postmortem — a
// document started from the desk's template, pre-filled with the impact
// figures of the linked cases and the incident's timeline, written as a
// draft, reviewed and published — and the action items that come out of
// it, each owned by a person with a due date and a team, reminded to its
// owner before the due date and once it has passed.
//
// The incident may not close while a postmortem its severity requires is
// not published: the package registers a close guard with
// internal/incidents (Incidents.Guard). Reminders are a durable deadline
// (internal/deadline) on action_items.remind_at, fired once each across
// restarts and nodes; they reach the owner through the event stream
// (action_item.due_soon / .overdue), which notify turns into the bell and
// mail.
package postmortems

import (
	"context"
	"log/slog"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/deadline"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
)

// Incidents is what postmortems needs of internal/incidents; app wires an
// adapter (incidents.go) so this package names no incident type.
type Incidents interface {
	// Find is the incident ref as actor may see it (apperr.ErrNotFound
	// when it does not exist or is hidden from actor).
	Find(ctx context.Context, actor auth.Actor, ref string) (*IncidentFacts, error)
	// Details are the incident's timeline and the ids of its linked cases.
	Details(ctx context.Context, q db.Querier, id int64) (timeline []Moment, linked []int64, err error)
	// Linked are the ids of its linked cases alone (the impact's).
	Linked(ctx context.Context, q db.Querier, id int64) ([]int64, error)
	// RequiresPostmortem reports whether incidents of severity may close
	// only with a published postmortem (the incidents desk section).
	RequiresPostmortem(cfg *desk.Config, severity string) bool
}

// Service runs postmortems and action items.
type Service struct {
	db        *db.DB
	desk      *desk.Service
	cases     *cases.Service
	clock     clock.Clock
	log       *slog.Logger
	incidents Incidents
	timer     *deadline.Timer
}

// timerMaxSleep is how often the reminders timer looks without being woken
// (for items another node wrote). It differs from the other timers' looks
// (SLA 30 s, escalation 20 s, notify 1 min) so tests tell them apart.
const timerMaxSleep = 45 * time.Second

// New returns the service; SetIncidents gives it the incidents it follows.
func New(d *db.DB, dk *desk.Service, cs *cases.Service, c clock.Clock, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	s := &Service{db: d, desk: dk, cases: cs, clock: c, log: log}
	s.timer = deadline.New("action-items", c, log, timerMaxSleep, s.FireReminders)
	return s
}

// SetIncidents gives the service the incidents it follows.
func (s *Service) SetIncidents(inc Incidents) { s.incidents = inc }

// RunTimer sends action-item reminders at their instants until ctx ends.
func (s *Service) RunTimer(ctx context.Context) { s.timer.Run(ctx) }

// flare is the actor of what reminders do.
var flare = auth.System("Flare postmortems")

// MayRead reports whether actor may read postmortems and action items:
// everyone on the desk but account managers (who see the public side of
// cases only) and accounts without a role.
func MayRead(a auth.Actor) bool { return a.Can(auth.PermCaseRead) && !cases.PublicOnly(a) }

// MayWrite reports whether actor may write postmortems and action items.
func MayWrite(a auth.Actor) bool { return a.Can(auth.PermCaseWrite) }

// MayPublish reports whether actor may publish a postmortem under review
// (or send it back): leads and admins.
func MayPublish(a auth.Actor) bool { return a.Role == auth.RoleLead || a.Role == auth.RoleAdmin }

func forbiddenRead() error {
	return &apperr.Forbidden{Detail: "your role cannot read postmortems or action items"}
}

func forbiddenWrite() error {
	return &apperr.Forbidden{Detail: "your role cannot write postmortems or action items"}
}

// incident finds ref through the incidents seam.
func (s *Service) incident(ctx context.Context, actor auth.Actor, ref string) (*IncidentFacts, error) {
	if s.incidents == nil {
		return nil, apperr.ErrNotFound
	}
	return s.incidents.Find(ctx, actor, ref)
}

// publish puts an event of the package on the stream, in tx.
func (s *Service) publish(ctx context.Context, tx *db.Tx, actor auth.Actor, t events.Type, p events.Payload, now time.Time) error {
	return s.cases.Bus().Publish(ctx, tx, events.Event{Type: t, At: now, Actor: cases.EventActor(actor), Data: p})
}

func appendAudit(ctx context.Context, tx *db.Tx, actor auth.Actor, action, objType, id string, after, before any, now time.Time) error {
	e := audit.Entry{ActorID: actor.UserID, Actor: audit.ActorName(actor), Action: action, ObjectType: objType, ObjectID: id, After: after}
	if before != nil {
		e.Before = before
	}
	return audit.Append(ctx, tx, now, e)
}
