// Package handoffs is work one team asks of another on a case: a case's
// owner (anyone who may change the case) asks another team to do a piece of
// work — "logistics: confirm the carrier scan" — with its own due time; the
// owner keeps the case. The receiving team accepts the handoff, answers it
// (as often as needed; it stays accepted), and completes it with an answer
// or declines it with a reason; the owner may cancel it until then.
//
//	status     actions allowed
//	open       accept, answer*, complete*, decline, cancel
//	accepted   answer, complete, decline, cancel
//	completed, declined, cancelled: none (* accepts it on the way)
//
// Every change is one transaction with its case (cases.ChangeInTx): the
// case gets a timeline entry (handoff_requested, _accepted, _answered,
// _completed, _declined, _cancelled, with the team and the text), an audit
// record and its SLA clocks re-evaluated, and the handoff's event
// (handoff.requested, …) is published. A handoff that holds the case (hold,
// the default) moves a new, open or pending_requester case to
// pending_internal when it opens; when the last holding handoff closes and
// the case is still pending_internal it goes back to open. The owner is
// never changed. Resolving a case cancels its open handoffs: an
// in-transaction subscriber to case.status_changed (Register).
//
// Who may do what:
//   - create and cancel: whoever may see the case and holds case.write;
//   - accept, answer, complete, decline: members of the receiving team who
//     hold case.write, and leads and admins;
//   - see a handoff: leads and admins, whoever may see its case and holds
//     case.write, and the receiving team's members who hold case.write —
//     who so see the handoff and its case's number, title, priority and
//     status even when the case itself (another team's market) stays hidden
//     from them. Account managers never see handoffs: they are the desk's
//     internal work, and account managers see the public side of cases.
//
// The owner is told: each change is on the case's timeline and in the event
// stream, and an answer, completion or decline is "news" on the handoff
// until the case's owner reads it (MarkRead; the UI does so when the owner
// opens the case), which News counts.
package handoffs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/input"
	"github.com/flare-desk/flare/internal/sla"
)

// Status is where a handoff is in its life.
type Status string

const (
	Open      Status = "open"
	Accepted  Status = "accepted"
	Completed Status = "completed"
	Declined  Status = "declined"
	Cancelled Status = "cancelled"
)

// Statuses lists every handoff status in life order.
var Statuses = []Status{Open, Accepted, Completed, Declined, Cancelled}

// ActiveStatuses are the statuses of handoffs still waiting on the receiving team.
var ActiveStatuses = []Status{Open, Accepted}

// Valid reports whether st is a known handoff status.
func (st Status) Valid() bool { return slices.Contains(Statuses, st) }

// Active reports whether a handoff in st still waits on the receiving team.
func (st Status) Active() bool { return st == Open || st == Accepted }

// The actions on a handoff.
const (
	Accept   = "accept"
	Answer   = "answer"
	Complete = "complete"
	Decline  = "decline"
	Cancel   = "cancel"
)

// moves is the handoff state machine: the actions allowed in each
// status. Answering or completing an open handoff accepts it on the way.
var moves = map[Status][]string{
	Open:     {Accept, Answer, Complete, Decline, Cancel},
	Accepted: {Answer, Complete, Decline, Cancel},
}

// Allowed lists the actions a handoff in st allows (none once closed).
func (st Status) Allowed() []string {
	return append([]string{}, moves[st]...)
}

// receiverAction reports whether action is the receiving team's to take.
func receiverAction(action string) bool { return action != Cancel }

// Limits on handoffs (their text is input.Text).
const (
	maxWithin = 90 * 24 * time.Hour // due_within and due_at at most this far ahead
)

// Handoff is a request from a case's owner to another team.
type Handoff struct {
	ID            int64        `json:"id"`
	Case          string       `json:"case"` // ESC number
	CaseID        int64        `json:"case_id"`
	CaseTitle     string       `json:"case_title"`
	CasePriority  string       `json:"case_priority"`
	CaseStatus    cases.Status `json:"case_status"`
	CaseOwner     *string      `json:"case_owner"` // email; null when unassigned
	CaseOwnerName string       `json:"case_owner_name,omitempty"`

	FromTeam        string     `json:"from_team"`
	ToTeam          string     `json:"to_team"`
	RequestedBy     *string    `json:"requested_by"`
	RequestedByName string     `json:"requested_by_name,omitempty"`
	Request         string     `json:"request"`
	DueAt           time.Time  `json:"due_at"`
	Hold            bool       `json:"hold"` // keeps the case pending_internal while open
	Status          Status     `json:"status"`
	AcceptedBy      *string    `json:"accepted_by"`
	AcceptedByName  string     `json:"accepted_by_name,omitempty"`
	AcceptedAt      *time.Time `json:"accepted_at"`
	Answer          string     `json:"answer"` // the latest answer
	AnsweredBy      *string    `json:"answered_by"`
	AnsweredByName  string     `json:"answered_by_name,omitempty"`
	AnsweredAt      *time.Time `json:"answered_at"`
	DeclineReason   string     `json:"decline_reason"`
	ClosedBy        *string    `json:"closed_by"`
	ClosedAt        *time.Time `json:"closed_at"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`

	// Overdue: still open past its due time, or closed after it.
	Overdue bool `json:"overdue"`
	// Unread: an answer, completion or decline the case's owner has not read yet.
	Unread bool `json:"unread"`
	// Allowed lists the actions its status allows (who may take them is
	// another matter: see HandoffActionsFor).
	Allowed []string `json:"allowed"`
	// Events is its history from the case timeline (GetHandoff only).
	Events []cases.Event `json:"events,omitempty"`

	caseOwnerID int64
}

// Active reports whether the handoff still waits on the receiving team.
func (h *Handoff) Active() bool { return h.Status.Active() }

// Input is the body of POST /cases/{ref}/handoffs.
type Input struct {
	Team    string `json:"team"`    // the team asked
	Request string `json:"request"` // what it is asked to do
	// DueAt (RFC 3339) or DueWithin (a duration of the team's business
	// time, "2h"); neither: the team's handoff target in its business hours.
	DueAt     string `json:"due_at"`
	DueWithin string `json:"due_within"`
	// Hold keeps the case pending_internal while the handoff is open
	// (default true).
	Hold *bool `json:"hold"`
}

// Text is the body of the answer, complete, decline and cancel
// actions: the answer (answer, complete) or the reason (decline, cancel).
type Text struct {
	Answer string `json:"answer"`
	Reason string `json:"reason"`
}

// Within runs extra writes in the transaction that creates a
// handoff, such as storing an idempotent response.
type Within func(tx *db.Tx, h *Handoff) error

// Conflict is an action the handoff's status does not allow; it
// names the allowed ones. It is an *apperr.Conflict too.
type Conflict struct {
	ID      int64
	Status  Status
	Action  string
	Allowed []string
}

func (e *Conflict) Error() string {
	if len(e.Allowed) == 0 {
		return fmt.Sprintf("handoff %d is %s: nothing more can be done with it", e.ID, e.Status)
	}
	return fmt.Sprintf("cannot %s handoff %d: it is %s; allowed: %s", e.Action, e.ID, e.Status, strings.Join(e.Allowed, ", "))
}

// Unwrap makes the conflict an *apperr.Conflict for callers that map errors by kind.
func (e *Conflict) Unwrap() error { return &apperr.Conflict{Detail: e.Error()} }

// Service runs handoffs.
type Service struct {
	db    *db.DB
	desk  *desk.Service
	cases *cases.Service
	clock clock.Clock
}

// New returns the handoff service; Register wires its reaction to cases.
func New(d *db.DB, dk *desk.Service, cs *cases.Service, c clock.Clock) *Service {
	return &Service{db: d, desk: dk, cases: cs, clock: c}
}

// Register subscribes the service to the case events it reacts to:
// resolving a case cancels its open handoffs, in the resolving transaction.
func (s *Service) Register(bus *events.Bus) {
	bus.OnTx("handoffs.cancel_on_resolve", s.cancelOnResolve, events.CaseStatusChanged)
}

// publish publishes the event of a change to h in tx.
func (s *Service) publish(ctx context.Context, tx *db.Tx, actor auth.Actor, c *cases.Case, kind string, h *Handoff, text string, now time.Time) error {
	e := &events.Handoff{HandoffID: h.ID, FromTeam: h.FromTeam, ToTeam: h.ToTeam, Status: string(h.Status),
		DueAt: h.DueAt, Hold: h.Hold}
	switch kind {
	case "requested":
		e.Request = h.Request
	case "answered", "completed":
		e.Answer = h.Answer
	case "declined", "cancelled":
		e.Reason = text
	}
	return s.cases.Bus().Publish(ctx, tx, events.Event{Type: events.Type("handoff." + kind), At: now,
		Actor: cases.EventActor(actor), Case: cases.EventCase(c), Data: e})
}

// --- create ---

// Create asks another team to do a piece of work on the case ref.
func (s *Service) Create(ctx context.Context, actor auth.Actor, ref string, in Input, within Within) (*Handoff, error) {
	if !actor.Can(auth.PermCaseWrite) {
		return nil, &apperr.Forbidden{Detail: "your role cannot change cases, so it cannot ask other teams"}
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	v := &apperr.Invalid{}
	request := strings.TrimSpace(in.Request)
	input.Required(v, "request", input.Text, request)
	key := strings.TrimSpace(in.Team)
	team, teamOK := cfg.Team(key)
	switch {
	case key == "":
		v.Add("team", "is required: the team to ask")
	case !teamOK:
		v.Add("team", "unknown team %q", in.Team)
	}
	var due time.Time
	dueAt, dueWithin := strings.TrimSpace(in.DueAt), strings.TrimSpace(in.DueWithin)
	switch {
	case dueAt != "" && dueWithin != "":
		v.Add("due_within", "give due_at or due_within, not both")
	case dueAt != "":
		t, err := time.Parse(time.RFC3339, dueAt)
		switch {
		case err != nil:
			v.Add("due_at", "must be an RFC 3339 instant such as 2026-11-06T15:00:00Z")
		case !t.After(now):
			v.Add("due_at", "must be in the future")
		case t.Sub(now) > maxWithin:
			v.Add("due_at", "must be within %d days", int(maxWithin/(24*time.Hour)))
		default:
			due = t.UTC().Truncate(time.Microsecond)
		}
	case dueWithin != "":
		d, err := sla.ParseDuration(dueWithin)
		switch {
		case err != nil:
			v.Add("due_within", "%s", err.Error())
		case d <= 0:
			v.Add("due_within", "must be more than 0")
		case d > maxWithin:
			v.Add("due_within", "must be at most %dd", int(maxWithin/(24*time.Hour)))
		case teamOK:
			due = dueIn(cfg, team, now, d)
		}
	case teamOK:
		due = dueIn(cfg, team, now, team.HandoffTarget())
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	hold := in.Hold == nil || *in.Hold
	var out *Handoff
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var id int64
		c, err := s.cases.ChangeInTx(ctx, tx, actor, ref, auth.PermCaseWrite, func(c *cases.Case) ([]cases.Entry, error) {
			if !c.Status.Active() {
				return nil, &apperr.Conflict{Detail: fmt.Sprintf("%s is %s: reopen it before asking another team", c.Number, c.Status)}
			}
			if team.Key == c.Team {
				return nil, &apperr.Invalid{Errors: []apperr.FieldError{{Field: "team",
					Message: fmt.Sprintf("%s already owns %s: assign the case or add a note instead", team.Name, c.Number)}}}
			}
			err := tx.QueryRow(ctx, `INSERT INTO handoffs (case_id, from_team, to_team, requested_by, request, due_at, hold,
				status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				c.ID, c.Team, team.Key, db.NullID(actor.UserID), request, db.T(due), hold, string(Open),
				db.T(now), db.T(now)).Scan(&id)
			if err != nil {
				return nil, fmt.Errorf("insert handoff: %w", err)
			}
			events := []cases.Entry{{Type: "handoff_requested", Data: map[string]any{"handoff_id": id, "team": team.Key,
				"request": request, "due_at": due, "hold": hold}}}
			if hold {
				switch c.Status {
				case cases.StatusNew, cases.StatusOpen, cases.StatusPendingRequester:
					events = append(events, cases.Entry{Type: "status", Data: map[string]any{"from": c.Status,
						"to": cases.StatusPendingInternal, "note": "waiting on a handoff to " + team.Name}})
					c.Status = cases.StatusPendingInternal
				}
			}
			return events, nil
		})
		if err != nil {
			return err
		}
		if out, err = s.handoffByID(ctx, tx, id); err != nil {
			return err
		}
		if err := s.auditHandoff(ctx, tx, actor, "handoff.create", out, nil, now); err != nil {
			return err
		}
		if err := s.publish(ctx, tx, actor, c, "requested", out, "", now); err != nil {
			return err
		}
		if within != nil {
			return within(tx, out)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// dueIn is d of the team's business time from now on its calendar
// (24/7 when it has none).
func dueIn(cfg *desk.Config, team desk.Team, now time.Time, d time.Duration) time.Time {
	if cal, ok := cfg.Calendar(team.Calendar); ok && team.Calendar != "" {
		return cal.Add(now, d).UTC().Truncate(time.Microsecond)
	}
	return now.Add(d)
}

// DefaultDue is when a handoff to team asked at now is due by default.
func DefaultDue(cfg *desk.Config, team desk.Team, now time.Time) time.Time {
	return dueIn(cfg, team, now, team.HandoffTarget())
}

// --- actions ---

// Accept takes the handoff on for the receiving team.
func (s *Service) Accept(ctx context.Context, actor auth.Actor, id int64) (*Handoff, error) {
	return s.handoffAction(ctx, actor, id, Accept, "")
}

// Answer adds an answer; the handoff stays accepted (an open one is accepted by answering).
func (s *Service) Answer(ctx context.Context, actor auth.Actor, id int64, answer string) (*Handoff, error) {
	return s.handoffAction(ctx, actor, id, Answer, answer)
}

// Complete closes the handoff as done, with an answer (optional when
// it has been answered before).
func (s *Service) Complete(ctx context.Context, actor auth.Actor, id int64, answer string) (*Handoff, error) {
	return s.handoffAction(ctx, actor, id, Complete, answer)
}

// Decline closes the handoff as not done; a reason is required.
func (s *Service) Decline(ctx context.Context, actor auth.Actor, id int64, reason string) (*Handoff, error) {
	return s.handoffAction(ctx, actor, id, Decline, reason)
}

// Cancel withdraws the handoff (the case's side); the reason is optional.
func (s *Service) Cancel(ctx context.Context, actor auth.Actor, id int64, reason string) (*Handoff, error) {
	return s.handoffAction(ctx, actor, id, Cancel, reason)
}

// Do runs action ("accept", "answer", "complete", "decline" or
// "cancel") with its text: the answer or the reason.
func (s *Service) Do(ctx context.Context, actor auth.Actor, id int64, action, text string) (*Handoff, error) {
	switch action {
	case Accept, Answer, Complete, Decline, Cancel:
		return s.handoffAction(ctx, actor, id, action, text)
	}
	return nil, &apperr.Invalid{Errors: []apperr.FieldError{{Field: "action",
		Message: fmt.Sprintf("unknown action %q; one of accept, answer, complete, decline, cancel", action)}}}
}

// handoffAction applies one action in one transaction with the handoff's case.
func (s *Service) handoffAction(ctx context.Context, actor auth.Actor, id int64, action, text string) (*Handoff, error) {
	text = strings.TrimSpace(text)
	v := &apperr.Invalid{}
	field := "reason"
	if action == Answer || action == Complete {
		field = "answer"
	}
	if action == Answer {
		input.Required(v, field, input.Text, text)
	} else {
		input.Check(v, field, input.Text, text)
	}
	if action == Decline && text == "" {
		v.Add("reason", "say why the team cannot do this")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var out *Handoff
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		// Every change to a handoff locks its case first, so the case row
		// serialises its handoffs too.
		lock := ""
		if tx.Dialect() == db.Postgres {
			lock = " FOR UPDATE OF c"
		}
		var caseID int64
		var toTeam string
		err := tx.QueryRow(ctx, `SELECT h.case_id, h.to_team FROM handoffs h JOIN cases c ON c.id = h.case_id
			WHERE h.id = ?`+lock, id).Scan(&caseID, &toTeam)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("load handoff %d: %w", id, err)
		}
		c, err := s.cases.Find(ctx, tx, strconv.FormatInt(caseID, 10))
		if err != nil {
			return err
		}
		if !s.sees(ctx, actor, c, toTeam) {
			return apperr.ErrNotFound
		}
		seesCase := s.cases.CanSee(ctx, actor, c)
		// The receiving team acts on the case through the handoff, even
		// where it may not see the case itself: act as a member of the
		// case's team for this change only (the actor stays who they are
		// on the timeline and in the audit log).
		as := actor
		if receiverAction(action) {
			if !mayReceive(actor, toTeam) {
				return &apperr.Forbidden{Detail: fmt.Sprintf("only members of %s and leads can %s this handoff", teamName(cfg, toTeam), action)}
			}
			as.Teams, as.Markets = append(slices.Clone(actor.Teams), c.Team), nil
		} else if !seesCase || !actor.Can(auth.PermCaseWrite) {
			return &apperr.Forbidden{Detail: fmt.Sprintf("only people who can change %s can cancel its handoff", c.Number)}
		}
		var before *Handoff
		var kind string
		cs, err := s.cases.ChangeInTx(ctx, tx, as, strconv.FormatInt(caseID, 10), auth.PermCaseWrite, func(c *cases.Case) ([]cases.Entry, error) {
			h, err := s.handoffByID(ctx, tx, id)
			if err != nil {
				return nil, err
			}
			b := *h // applyHandoff changes h
			before = &b
			if !slices.Contains(h.Status.Allowed(), action) {
				return nil, &Conflict{ID: id, Status: h.Status, Action: action, Allowed: h.Status.Allowed()}
			}
			var evs []cases.Entry
			kind, evs, err = s.applyHandoff(ctx, tx, actor, h, action, text, now)
			if err != nil {
				return nil, err
			}
			if h.Hold && !h.Status.Active() && c.Status == cases.StatusPendingInternal {
				var n int
				if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM handoffs WHERE case_id = ? AND hold = TRUE
					AND status IN ('open', 'accepted')`, c.ID).Scan(&n); err != nil {
					return nil, fmt.Errorf("count open handoffs: %w", err)
				}
				if n == 0 {
					evs = append(evs, cases.Entry{Type: "status", Data: map[string]any{"from": c.Status, "to": cases.StatusOpen,
						"note": "handoffs closed: back with the owner"}})
					c.Status = cases.StatusOpen
				}
			}
			return evs, nil
		})
		if err != nil {
			return err
		}
		if out, err = s.handoffByID(ctx, tx, id); err != nil {
			return err
		}
		if err := s.auditHandoff(ctx, tx, actor, "handoff."+action, out, before, now); err != nil {
			return err
		}
		return s.publish(ctx, tx, actor, cs, kind, out, text, now)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// mayReceive reports whether actor may take the receiving team's actions.
func mayReceive(a auth.Actor, team string) bool {
	if !a.Can(auth.PermCaseWrite) {
		return false
	}
	return a.Role == auth.RoleLead || a.Role == auth.RoleAdmin || a.InTeam(team)
}

// applyHandoff writes one action's change to the handoff row and returns
// the hook kind and the case timeline entries.
func (s *Service) applyHandoff(ctx context.Context, tx *db.Tx, actor auth.Actor, h *Handoff, action, text string,
	now time.Time) (string, []cases.Entry, error) {
	data := map[string]any{"handoff_id": h.ID, "team": h.ToTeam}
	set := []string{"updated_at = ?"}
	args := []any{db.T(now)}
	accept := func() {
		if h.Status == Open {
			set = append(set, "status = ?", "accepted_by = ?", "accepted_at = ?")
			args = append(args, string(Accepted), db.NullID(actor.UserID), db.T(now))
		}
	}
	closeAs := func(st Status) {
		set = append(set, "status = ?", "closed_by = ?", "closed_at = ?")
		args = append(args, string(st), db.NullID(actor.UserID), db.T(now))
		h.Status = st
	}
	answer := func() {
		set = append(set, "answer = ?", "answered_by = ?", "answered_at = ?")
		args = append(args, text, db.NullID(actor.UserID), db.T(now))
		data["answer"] = text
	}
	news := func() {
		set = append(set, "news_at = ?")
		args = append(args, db.T(now))
	}
	var kind string
	switch action {
	case Accept:
		accept()
		h.Status, kind = Accepted, "accepted"
	case Answer:
		accept()
		answer()
		news()
		h.Status, kind = Accepted, "answered"
	case Complete:
		if text == "" && h.Answer == "" {
			return "", nil, &apperr.Invalid{Errors: []apperr.FieldError{{Field: "answer", Message: "say what was done: the owner reads this answer"}}}
		}
		if h.Status == Open {
			set = append(set, "accepted_by = ?", "accepted_at = ?")
			args = append(args, db.NullID(actor.UserID), db.T(now))
		}
		if text != "" {
			answer()
		} else {
			data["answer"] = h.Answer
		}
		news()
		closeAs(Completed)
		kind = "completed"
	case Decline:
		set = append(set, "decline_reason = ?")
		args = append(args, text)
		data["reason"] = text
		news()
		closeAs(Declined)
		kind = "declined"
	case Cancel:
		if text != "" {
			data["reason"] = text
		}
		set = append(set, "read_at = ?") // the owner's side closed it: nothing left to read
		args = append(args, db.T(now))
		closeAs(Cancelled)
		kind = "cancelled"
	}
	if !h.Status.Active() {
		data["wait_s"] = int64(now.Sub(h.CreatedAt) / time.Second)
	}
	if _, err := tx.Exec(ctx, `UPDATE handoffs SET `+strings.Join(set, ", ")+` WHERE id = ?`, append(args, h.ID)...); err != nil {
		return "", nil, fmt.Errorf("update handoff %d: %w", h.ID, err)
	}
	return kind, []cases.Entry{{Type: "handoff_" + kind, Data: data}}, nil
}

func (s *Service) auditHandoff(ctx context.Context, tx *db.Tx, actor auth.Actor, action string, after, before *Handoff, now time.Time) error {
	name := audit.ActorName(actor)
	e := audit.Entry{ActorID: actor.UserID, Actor: name, Action: action, ObjectType: "handoff",
		ObjectID: strconv.FormatInt(after.ID, 10), After: snapshot(after)}
	if before != nil {
		e.Before = snapshot(before)
	}
	return audit.Append(ctx, tx, now, e)
}

// snapshot is a handoff as the audit log keeps it: its own fields.
func snapshot(h *Handoff) map[string]any {
	return map[string]any{"case": h.Case, "from_team": h.FromTeam, "to_team": h.ToTeam, "request": h.Request,
		"due_at": h.DueAt, "hold": h.Hold, "status": h.Status, "accepted_by": h.AcceptedBy, "answer": h.Answer,
		"decline_reason": h.DeclineReason, "closed_at": h.ClosedAt}
}

func teamName(cfg *desk.Config, key string) string {
	if t, ok := cfg.Team(key); ok && t.Name != "" {
		return t.Name
	}
	return key
}

// --- reading ---

const columns = `h.id, h.case_id, c.number, c.title, c.priority, c.status, c.owner_id, ou.email, ou.name,
	h.from_team, h.to_team, ru.email, ru.name, h.request, h.due_at, h.hold, h.status,
	au.email, au.name, h.accepted_at, h.answer, wu.email, wu.name, h.answered_at, h.decline_reason,
	cu.email, h.closed_at, h.news_at, h.read_at, h.created_at, h.updated_at
	FROM handoffs h JOIN cases c ON c.id = h.case_id
	LEFT JOIN users ou ON ou.id = c.owner_id
	LEFT JOIN users ru ON ru.id = h.requested_by
	LEFT JOIN users au ON au.id = h.accepted_by
	LEFT JOIN users wu ON wu.id = h.answered_by
	LEFT JOIN users cu ON cu.id = h.closed_by`

func (s *Service) scanHandoff(r db.Scanner) (*Handoff, error) {
	var (
		h                                     Handoff
		number                                int64
		ownerID                               sql.NullInt64
		owner, ownerName, reqBy, reqByName    sql.NullString
		accBy, accByName, ansBy, ansByName    sql.NullString
		closedBy                              sql.NullString
		due, accAt, ansAt, closedAt, news, rd db.Time
		created, updated                      db.Time
	)
	err := r.Scan(&h.ID, &h.CaseID, &number, &h.CaseTitle, &h.CasePriority, &h.CaseStatus, &ownerID, &owner, &ownerName,
		&h.FromTeam, &h.ToTeam, &reqBy, &reqByName, &h.Request, &due, &h.Hold, &h.Status,
		&accBy, &accByName, &accAt, &h.Answer, &ansBy, &ansByName, &ansAt, &h.DeclineReason,
		&closedBy, &closedAt, &news, &rd, &created, &updated)
	if err != nil {
		return nil, err
	}
	str := func(n sql.NullString) *string {
		if !n.Valid {
			return nil
		}
		return &n.String
	}
	h.Case = cases.FormatNumber(number)
	h.caseOwnerID = ownerID.Int64
	h.CaseOwner, h.CaseOwnerName = str(owner), ownerName.String
	h.RequestedBy, h.RequestedByName = str(reqBy), reqByName.String
	h.AcceptedBy, h.AcceptedByName, h.AcceptedAt = str(accBy), accByName.String, accAt.Ptr()
	h.AnsweredBy, h.AnsweredByName, h.AnsweredAt = str(ansBy), ansByName.String, ansAt.Ptr()
	h.ClosedBy, h.ClosedAt = str(closedBy), closedAt.Ptr()
	h.DueAt, h.CreatedAt, h.UpdatedAt = due.Time, created.Time, updated.Time
	h.Unread = !news.IsZero() && (rd.IsZero() || rd.Before(news.Time))
	now := s.clock.Now()
	h.Overdue = (h.Active() && now.After(h.DueAt)) || (h.ClosedAt != nil && h.Status != Cancelled && h.ClosedAt.After(h.DueAt))
	h.Allowed = h.Status.Allowed()
	return &h, nil
}

func (s *Service) handoffByID(ctx context.Context, q db.Querier, id int64) (*Handoff, error) {
	h, err := s.scanHandoff(q.QueryRow(ctx, "SELECT "+columns+" WHERE h.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load handoff %d: %w", id, err)
	}
	return h, nil
}

// SeesHandoffs reports whether actor sees any handoffs: not account
// managers, who see the public side of cases.
func SeesHandoffs(actor auth.Actor) bool {
	return actor.Can(auth.PermCaseRead) && !cases.PublicOnly(actor)
}

// sees is who may see a handoff of c to the team toTeam (see the package
// comment): never account managers; whoever sees the case; and the
// receiving team's members who hold case.write (they act on it).
func (s *Service) sees(ctx context.Context, a auth.Actor, c *cases.Case, toTeam string) bool {
	if !SeesHandoffs(a) {
		return false
	}
	return receives(a, toTeam) || s.cases.CanSee(ctx, a, c)
}

// receives reports whether a works toTeam's handoffs.
func receives(a auth.Actor, team string) bool { return a.Can(auth.PermCaseWrite) && a.InTeam(team) }

func (s *Service) canSeeHandoff(ctx context.Context, a auth.Actor, h *Handoff) (bool, error) {
	c, err := s.cases.Find(ctx, s.db, strconv.FormatInt(h.CaseID, 10))
	if err != nil {
		return false, err
	}
	return s.sees(ctx, a, c, h.ToTeam), nil
}

// Get returns a handoff with its history if actor may see it.
func (s *Service) Get(ctx context.Context, actor auth.Actor, id int64) (*Handoff, error) {
	h, err := s.handoffByID(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if ok, err := s.canSeeHandoff(ctx, actor, h); err != nil {
		return nil, err
	} else if !ok {
		return nil, apperr.ErrNotFound
	}
	if h.Events, err = s.handoffEvents(ctx, h); err != nil {
		return nil, err
	}
	return h, nil
}

// handoffEvents is a handoff's history: its entries on the case timeline.
func (s *Service) handoffEvents(ctx context.Context, h *Handoff) ([]cases.Event, error) {
	rows, err := s.db.Query(ctx, `SELECT e.id, e.type, u.email, u.name, e.data, e.created_at
		FROM case_events e LEFT JOIN users u ON u.id = e.actor_id
		WHERE e.case_id = ? AND e.type IN ('handoff_requested', 'handoff_accepted', 'handoff_answered',
			'handoff_completed', 'handoff_declined', 'handoff_cancelled')
		AND `+db.JSONInt(s.db.Dialect(), "e.data", "handoff_id")+` = ? ORDER BY e.id`, h.CaseID, h.ID)
	if err != nil {
		return nil, fmt.Errorf("handoff events: %w", err)
	}
	defer rows.Close()
	out := []cases.Event{}
	for rows.Next() {
		var e cases.Event
		var email, name sql.NullString
		var data string
		var at db.Time
		if err := rows.Scan(&e.ID, &e.Type, &email, &name, &data, &at); err != nil {
			return nil, fmt.Errorf("handoff events: %w", err)
		}
		e.At = at.Time
		if email.Valid {
			e.Actor, e.ActorName = &email.String, name.String
		}
		if err := json.Unmarshal([]byte(data), &e.Data); err != nil {
			return nil, fmt.Errorf("handoff events: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ActionsFor lists the actions actor may take on h now: the
// receiving team's (accept, answer, complete, decline) and the case side's
// (cancel), as its status allows.
func (s *Service) ActionsFor(ctx context.Context, actor auth.Actor, h *Handoff) []string {
	var out []string
	var seesCase *bool
	for _, act := range h.Status.Allowed() {
		if receiverAction(act) {
			if mayReceive(actor, h.ToTeam) {
				out = append(out, act)
			}
			continue
		}
		if !actor.Can(auth.PermCaseWrite) {
			continue
		}
		if seesCase == nil {
			ok := false
			if c, err := s.cases.Find(ctx, s.db, strconv.FormatInt(h.CaseID, 10)); err == nil {
				ok = s.cases.CanSee(ctx, actor, c)
			}
			seesCase = &ok
		}
		if *seesCase {
			out = append(out, act)
		}
	}
	return out
}

// ReceiverActions lists the receiving team's actions (accept,
// answer, complete, decline) actor may take on h now; unlike
// ActionsFor it reads nothing.
func ReceiverActions(actor auth.Actor, h *Handoff) []string {
	var out []string
	if mayReceive(actor, h.ToTeam) {
		for _, act := range h.Status.Allowed() {
			if receiverAction(act) {
				out = append(out, act)
			}
		}
	}
	return out
}

// ForCase lists the handoffs of a case actor may see, oldest first.
func (s *Service) ForCase(ctx context.Context, actor auth.Actor, ref string) ([]*Handoff, error) {
	c, err := s.cases.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if cases.PublicOnly(actor) {
		return []*Handoff{}, nil // the desk's internal work
	}
	rows, err := s.db.Query(ctx, "SELECT "+columns+" WHERE h.case_id = ? ORDER BY h.id", c.ID)
	if err != nil {
		return nil, fmt.Errorf("case handoffs: %w", err)
	}
	out, err := db.Collect(rows, s.scanHandoff)
	if err != nil {
		return nil, fmt.Errorf("case handoffs: %w", err)
	}
	return append([]*Handoff{}, out...), nil
}

// Filter selects handoffs for GET /handoffs.
type Filter struct {
	Team     []string // receiving teams
	FromTeam []string // asking teams
	Case     string   // a case (id or ESC number)
	Status   []Status // none: every status
	Owner    string   // "me": handoffs on cases the actor owns
	Unread   bool     // only those with news the case's owner has not read
	Overdue  bool     // only open or accepted handoffs past their due time
	Cursor   string
	Limit    int
}

// Page is one page of handoffs, soonest due first.
type Page struct {
	Handoffs   []*Handoff `json:"handoffs"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// List lists the handoffs actor may see that match f, by due time.
func (s *Service) List(ctx context.Context, actor auth.Actor, f Filter) (*Page, error) {
	if !SeesHandoffs(actor) {
		return nil, &apperr.Forbidden{Detail: "handoffs are the desk's internal work; your role sees the public side of cases"}
	}
	v := &apperr.Invalid{}
	switch {
	case f.Limit == 0:
		f.Limit = 50
	case f.Limit < 1 || f.Limit > 200:
		v.Add("limit", "must be between 1 and 200")
	}
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	in := func(col string, vals []string) {
		if len(vals) > 0 {
			anys := make([]any, len(vals))
			for i, x := range vals {
				anys[i] = x
			}
			add(col+" IN ("+db.Placeholders(len(vals))+")", anys...)
		}
	}
	// Visibility: the receiving team sees its handoffs; others see those of
	// the cases they see.
	if cond, sargs := cases.Scope(actor); cond != "" {
		if len(actor.Teams) > 0 && actor.Can(auth.PermCaseWrite) {
			targs := make([]any, len(actor.Teams))
			for i, t := range actor.Teams {
				targs[i] = t
			}
			add("(h.to_team IN ("+db.Placeholders(len(actor.Teams))+") OR "+cond+")", append(targs, sargs...)...)
		} else {
			add(cond, sargs...)
		}
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	cfg.CheckTeams(v, "team", f.Team)
	cfg.CheckTeams(v, "from_team", f.FromTeam)
	in("h.to_team", f.Team)
	in("h.from_team", f.FromTeam)
	sts := make([]string, len(f.Status))
	for i, st := range f.Status {
		if !st.Valid() {
			v.Add("status", "unknown status %q; one of open, accepted, completed, declined, cancelled", st)
		}
		sts[i] = string(st)
	}
	in("h.status", sts)
	if f.Case != "" {
		id, number, ok := cases.ParseRef(strings.TrimSpace(f.Case))
		switch {
		case !ok:
			v.Add("case", "is not a case id or number")
		case number > 0:
			add("c.number = ?", number)
		default:
			add("c.id = ?", id)
		}
	}
	switch f.Owner {
	case "":
	case "me":
		add("c.owner_id = ?", actor.UserID)
	default:
		v.Add("owner", "must be me")
	}
	if f.Unread {
		add("h.news_at IS NOT NULL AND (h.read_at IS NULL OR h.read_at < h.news_at)")
	}
	if f.Overdue {
		add("h.status IN ('open', 'accepted') AND h.due_at < ?", db.T(s.clock.Now()))
	}
	if f.Cursor != "" {
		after, err := cases.DecodeCursor(f.Cursor, sortName) // (due_at, id), as the case lists' cursors
		if err != nil {
			v.Add("cursor", "is not a cursor from this list")
		} else {
			add("(h.due_at, h.id) > (?, ?)", after...)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	q := "SELECT " + columns
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY h.due_at, h.id LIMIT ?"
	rows, err := s.db.Query(ctx, q, append(args, f.Limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("list handoffs: %w", err)
	}
	page := &Page{Handoffs: []*Handoff{}}
	got, err := db.Collect(rows, s.scanHandoff)
	if err != nil {
		return nil, fmt.Errorf("list handoffs: %w", err)
	}
	page.Handoffs = append(page.Handoffs, got...)
	if len(page.Handoffs) > f.Limit {
		page.Handoffs = page.Handoffs[:f.Limit]
		last := page.Handoffs[f.Limit-1]
		page.NextCursor = cases.EncodeCursor(sortName, []any{last.DueAt, last.ID})
	}
	return page, nil
}

// sortName names the handoff queue's order in its cursors.
const sortName = "handoff_due"

// --- the owner is told ---

// News counts the handoffs on the active cases actor owns with an
// answer, completion or decline actor has not read yet, leaving out those
// of the case except (0: none), which the caller is about to mark read.
func (s *Service) News(ctx context.Context, actor auth.Actor, except int64) (int, error) {
	if actor.UserID == 0 {
		return 0, nil
	}
	var n int
	err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM handoffs h JOIN cases c ON c.id = h.case_id
		WHERE c.owner_id = ? AND c.status IN ('new', 'open', 'pending_internal', 'pending_requester')
		AND h.news_at IS NOT NULL AND (h.read_at IS NULL OR h.read_at < h.news_at) AND c.id <> ?`, actor.UserID, except).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("handoff news: %w", err)
	}
	return n, nil
}

// MarkRead marks the news on a case's handoffs read when actor is
// the case's owner (a read receipt: neither audited nor on the timeline).
// It reports how many handoffs had news.
func (s *Service) MarkRead(ctx context.Context, actor auth.Actor, caseID int64) (int, error) {
	if actor.UserID == 0 {
		return 0, nil
	}
	var n int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE handoffs SET read_at = ? WHERE case_id = ?
			AND case_id IN (SELECT id FROM cases WHERE id = ? AND owner_id = ?)
			AND news_at IS NOT NULL AND (read_at IS NULL OR read_at < news_at)`,
			db.T(s.clock.Now()), caseID, caseID, actor.UserID)
		if err != nil {
			return fmt.Errorf("mark handoffs read: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// --- wait times ---

// StatsFilter chooses the handoffs to report on: those asked in [From, To).
type StatsFilter struct {
	From, To time.Time // default: the 30 days before now
	FromTeam []string  // only handoffs these teams asked
	// Only handoffs of cases in this slice ("" or 0: any) — a report's
	// filter: the case's market, owning team, category, channel, priority
	// and its seller's tier.
	Market, Team, Category, Channel, Priority string
	Tier                                      int
}

// TeamStats is how one receiving team handled the period's handoffs.
// Waits are elapsed hours (and business hours on the team's calendar) from
// the request to completion or decline; cancelled handoffs have no wait.
// Percentiles interpolate between ranks (like percentile_cont).
type TeamStats struct {
	Team      string   `json:"team"`
	TeamName  string   `json:"team_name"`
	Requested int      `json:"requested"`
	Completed int      `json:"completed"`
	Declined  int      `json:"declined"`
	Cancelled int      `json:"cancelled"`
	Open      int      `json:"open"`        // still open or accepted now
	Overdue   int      `json:"overdue"`     // closed after its due time, or open past it now
	OnTimePct *float64 `json:"on_time_pct"` // completed or declined by the due time, of those closed

	WaitMedianHours         *float64 `json:"wait_median_hours"`
	WaitP90Hours            *float64 `json:"wait_p90_hours"`
	WaitMedianBusinessHours *float64 `json:"wait_median_business_hours"`
	WaitP90BusinessHours    *float64 `json:"wait_p90_business_hours"`
	AcceptMedianHours       *float64 `json:"accept_median_hours"` // request to acceptance
	AcceptP90Hours          *float64 `json:"accept_p90_hours"`
	OldestOpenHours         *float64 `json:"oldest_open_hours"`
}

// Stats is the wait-time report: per receiving team, longest p90 wait first.
type Stats struct {
	From  time.Time   `json:"from"`
	To    time.Time   `json:"to"`
	Teams []TeamStats `json:"teams"`
}

// maxStatsPeriod bounds a report's period.
const maxStatsPeriod = 366 * 24 * time.Hour

// WaitStats reports, per receiving team, how long handoffs asked in
// the period waited: "which team holds our cases longest". Everyone on the
// desk but account managers may read it (it names no case).
func (s *Service) WaitStats(ctx context.Context, actor auth.Actor, f StatsFilter) (*Stats, error) {
	if !actor.Can(auth.PermCaseRead) || actor.Role == auth.RoleAccountManager {
		return nil, &apperr.Forbidden{Detail: "handoff reports are for the desk's own staff"}
	}
	now := s.clock.Now()
	if f.To.IsZero() {
		f.To = now
	}
	if f.From.IsZero() {
		f.From = f.To.Add(-30 * 24 * time.Hour)
	}
	v := &apperr.Invalid{}
	switch {
	case !f.To.After(f.From):
		v.Add("to", "must be after from")
	case f.To.Sub(f.From) > maxStatsPeriod:
		v.Add("from", "the period is at most 366 days")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	q := `SELECT to_team, status, created_at, accepted_at, closed_at, due_at FROM handoffs WHERE created_at >= ? AND created_at < ?`
	args := []any{db.T(f.From), db.T(f.To)}
	if len(f.FromTeam) > 0 {
		q += " AND from_team IN (" + db.Placeholders(len(f.FromTeam)) + ")"
		for _, t := range f.FromTeam {
			args = append(args, t)
		}
	}
	var slice []string
	for _, eq := range []struct{ col, v string }{{"market", f.Market}, {"team", f.Team}, {"category", f.Category},
		{"channel", f.Channel}, {"priority", f.Priority}} {
		if eq.v != "" {
			slice = append(slice, eq.col+" = ?")
			args = append(args, eq.v)
		}
	}
	if f.Tier > 0 {
		slice = append(slice, "seller_id IN (SELECT external_id FROM sellers WHERE tier = ?)")
		args = append(args, f.Tier)
	}
	if len(slice) > 0 {
		q += " AND case_id IN (SELECT id FROM cases WHERE " + strings.Join(slice, " AND ") + ")"
	}
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("handoff stats: %w", err)
	}
	defer rows.Close()
	type acc struct {
		st                     TeamStats
		wait, business, accept []float64
		onTime, closed         int
		oldest                 time.Duration
	}
	teams := map[string]*acc{}
	for rows.Next() {
		var team string
		var st Status
		var created, accepted, closed, due db.Time
		if err := rows.Scan(&team, &st, &created, &accepted, &closed, &due); err != nil {
			return nil, fmt.Errorf("handoff stats: %w", err)
		}
		a := teams[team]
		if a == nil {
			a = &acc{st: TeamStats{Team: team, TeamName: teamName(cfg, team)}}
			teams[team] = a
		}
		a.st.Requested++
		if !accepted.IsZero() {
			a.accept = append(a.accept, hours(accepted.Sub(created.Time)))
		}
		switch st {
		case Open, Accepted:
			a.st.Open++
			if now.After(due.Time) {
				a.st.Overdue++
			}
			if age := now.Sub(created.Time); age > a.oldest {
				a.oldest = age
			}
		case Cancelled:
			a.st.Cancelled++
		case Completed, Declined:
			if st == Completed {
				a.st.Completed++
			} else {
				a.st.Declined++
			}
			a.closed++
			if closed.After(due.Time) {
				a.st.Overdue++
			} else {
				a.onTime++
			}
			a.wait = append(a.wait, hours(closed.Sub(created.Time)))
			t, _ := cfg.Team(team)
			if cal, ok := cfg.Calendar(t.Calendar); ok && t.Calendar != "" {
				a.business = append(a.business, hours(cal.Between(created.Time, closed.Time)))
			} else {
				a.business = append(a.business, hours(closed.Sub(created.Time)))
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("handoff stats: %w", err)
	}
	out := &Stats{From: f.From.UTC(), To: f.To.UTC(), Teams: []TeamStats{}}
	for _, a := range teams {
		st := a.st
		st.WaitMedianHours, st.WaitP90Hours = percentile(a.wait, 0.5), percentile(a.wait, 0.9)
		st.WaitMedianBusinessHours, st.WaitP90BusinessHours = percentile(a.business, 0.5), percentile(a.business, 0.9)
		st.AcceptMedianHours, st.AcceptP90Hours = percentile(a.accept, 0.5), percentile(a.accept, 0.9)
		if a.closed > 0 {
			p := round2(100 * float64(a.onTime) / float64(a.closed))
			st.OnTimePct = &p
		}
		if st.Open > 0 {
			h := hours(a.oldest)
			st.OldestOpenHours = &h
		}
		out.Teams = append(out.Teams, st)
	}
	// Longest p90 wait first; teams with no closed handoff last, by name.
	slices.SortFunc(out.Teams, func(a, b TeamStats) int {
		switch {
		case a.WaitP90Hours != nil && b.WaitP90Hours != nil && *a.WaitP90Hours != *b.WaitP90Hours:
			if *a.WaitP90Hours > *b.WaitP90Hours {
				return -1
			}
			return 1
		case a.WaitP90Hours != nil && b.WaitP90Hours == nil:
			return -1
		case a.WaitP90Hours == nil && b.WaitP90Hours != nil:
			return 1
		}
		return strings.Compare(a.Team, b.Team)
	})
	return out, nil
}

func hours(d time.Duration) float64 { return round2(d.Hours()) }

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// percentile is the p-th percentile of xs, interpolating linearly between
// the closest ranks; nil for no values.
func percentile(xs []float64, p float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	pos := p * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	v := s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
	v = round2(v)
	return &v
}

// cancelOnResolve cancels the case's active handoffs when it is resolved:
// the receiving teams see them closed ("the case was resolved") instead of
// working on a case that is done. It runs in the resolving transaction and
// adds the cancellations to the case's timeline.
func (s *Service) cancelOnResolve(ctx context.Context, tx *db.Tx, e events.Event) error {
	if e.Data.(*events.StatusChanged).To != string(cases.StatusResolved) {
		return nil
	}
	ids, err := db.QueryIDs(ctx, tx, `SELECT id FROM handoffs WHERE case_id = ? AND status IN ('open', 'accepted') ORDER BY id`, e.Case.ID)
	if err != nil {
		return fmt.Errorf("open handoffs: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	c, err := s.cases.Find(ctx, tx, strconv.FormatInt(e.Case.ID, 10))
	if err != nil {
		return err
	}
	actor := auth.Actor{UserID: e.Actor.ID, Email: e.Actor.Email, Name: e.Actor.Name}
	const reason = "the case was resolved"
	for _, id := range ids {
		h, err := s.handoffByID(ctx, tx, id)
		if err != nil {
			return err
		}
		before := *h
		kind, entries, err := s.applyHandoff(ctx, tx, actor, h, Cancel, reason, e.At)
		if err != nil {
			return err
		}
		if err := s.cases.AddEntries(ctx, tx, actor, c.ID, e.At, entries); err != nil {
			return err
		}
		after, err := s.handoffByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.auditHandoff(ctx, tx, actor, "handoff.cancel", after, &before, e.At); err != nil {
			return err
		}
		if err := s.publish(ctx, tx, actor, c, kind, after, reason, e.At); err != nil {
			return err
		}
	}
	return nil
}
