package cases

// Handoffs between teams. A case's owner (anyone who may change the case)
// asks another team to do a piece of work — "logistics: confirm the carrier
// scan" — with its own due time; the owner keeps the case. The receiving
// team accepts the handoff, answers it (as often as needed; it stays
// accepted), and completes it with an answer or declines it with a reason;
// the owner may cancel it until then.
//
//	status     actions allowed
//	open       accept, answer*, complete*, decline, cancel
//	accepted   answer, complete, decline, cancel
//	completed, declined, cancelled: none (* accepts it on the way)
//
// Every change is one transaction with its case (ChangeInTx): the case gets
// a timeline entry (handoff_requested, _accepted, _answered, _completed,
// _declined, _cancelled, with the team and the text), an audit record and
// its SLA clocks re-evaluated. A handoff that holds the case (hold, the
// default) moves a new, open or pending_requester case to pending_internal
// when it opens, with a status entry the SLA engine reads; when the last
// holding handoff closes and the case is still pending_internal it goes
// back to open. The owner is never changed.
//
// Who may do what:
//   - create and cancel: whoever may see the case and holds case.write;
//   - accept, answer, complete, decline: members of the receiving team who
//     hold case.write, and leads and admins;
//   - see a handoff: whoever may see its case, and every member of the
//     receiving team — who so sees the handoff and its case's number,
//     title, priority and status even when the case itself (a restricted
//     case, another team's market) stays hidden from them.
//
// The owner is told: each change is on the case's timeline, hooks
// (OnHandoffEvent) are called in the transaction for notifications, and an
// answer, completion or decline is "news" on the handoff until the case's
// owner reads it (MarkHandoffsRead; the UI does so when the owner opens the
// case), which HandoffNews counts.

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
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/input"
	"github.com/flare-desk/flare/internal/sla"
)

// HandoffStatus is where a handoff is in its life.
type HandoffStatus string

const (
	HandoffOpen      HandoffStatus = "open"
	HandoffAccepted  HandoffStatus = "accepted"
	HandoffCompleted HandoffStatus = "completed"
	HandoffDeclined  HandoffStatus = "declined"
	HandoffCancelled HandoffStatus = "cancelled"
)

// HandoffStatuses lists every handoff status in life order.
var HandoffStatuses = []HandoffStatus{HandoffOpen, HandoffAccepted, HandoffCompleted, HandoffDeclined, HandoffCancelled}

// ActiveHandoffStatuses are the statuses of handoffs still waiting on the receiving team.
var ActiveHandoffStatuses = []HandoffStatus{HandoffOpen, HandoffAccepted}

// Valid reports whether st is a known handoff status.
func (st HandoffStatus) Valid() bool { return slices.Contains(HandoffStatuses, st) }

// Active reports whether a handoff in st still waits on the receiving team.
func (st HandoffStatus) Active() bool { return st == HandoffOpen || st == HandoffAccepted }

// The actions on a handoff.
const (
	HandoffAccept   = "accept"
	HandoffAnswer   = "answer"
	HandoffComplete = "complete"
	HandoffDecline  = "decline"
	HandoffCancel   = "cancel"
)

// handoffMoves is the handoff state machine: the actions allowed in each
// status. Answering or completing an open handoff accepts it on the way.
var handoffMoves = map[HandoffStatus][]string{
	HandoffOpen:     {HandoffAccept, HandoffAnswer, HandoffComplete, HandoffDecline, HandoffCancel},
	HandoffAccepted: {HandoffAnswer, HandoffComplete, HandoffDecline, HandoffCancel},
}

// Allowed lists the actions a handoff in st allows (none once closed).
func (st HandoffStatus) Allowed() []string {
	return append([]string{}, handoffMoves[st]...)
}

// receiverAction reports whether action is the receiving team's to take.
func handoffReceiverAction(action string) bool { return action != HandoffCancel }

// Limits on handoffs (their text is input.Text).
const (
	maxHandoffWithin = 90 * 24 * time.Hour // due_within and due_at at most this far ahead
)

// Handoff is a request from a case's owner to another team.
type Handoff struct {
	ID            int64   `json:"id"`
	Case          string  `json:"case"` // ESC number
	CaseID        int64   `json:"case_id"`
	CaseTitle     string  `json:"case_title"`
	CasePriority  string  `json:"case_priority"`
	CaseStatus    Status  `json:"case_status"`
	CaseOwner     *string `json:"case_owner"` // email; null when unassigned
	CaseOwnerName string  `json:"case_owner_name,omitempty"`

	FromTeam        string        `json:"from_team"`
	ToTeam          string        `json:"to_team"`
	RequestedBy     *string       `json:"requested_by"`
	RequestedByName string        `json:"requested_by_name,omitempty"`
	Request         string        `json:"request"`
	DueAt           time.Time     `json:"due_at"`
	Hold            bool          `json:"hold"` // keeps the case pending_internal while open
	Status          HandoffStatus `json:"status"`
	AcceptedBy      *string       `json:"accepted_by"`
	AcceptedByName  string        `json:"accepted_by_name,omitempty"`
	AcceptedAt      *time.Time    `json:"accepted_at"`
	Answer          string        `json:"answer"` // the latest answer
	AnsweredBy      *string       `json:"answered_by"`
	AnsweredByName  string        `json:"answered_by_name,omitempty"`
	AnsweredAt      *time.Time    `json:"answered_at"`
	DeclineReason   string        `json:"decline_reason"`
	ClosedBy        *string       `json:"closed_by"`
	ClosedAt        *time.Time    `json:"closed_at"`
	CreatedAt       time.Time     `json:"created_at"`
	UpdatedAt       time.Time     `json:"updated_at"`

	// Overdue: still open past its due time, or closed after it.
	Overdue bool `json:"overdue"`
	// Unread: an answer, completion or decline the case's owner has not read yet.
	Unread bool `json:"unread"`
	// Allowed lists the actions its status allows (who may take them is
	// another matter: see HandoffActionsFor).
	Allowed []string `json:"allowed"`
	// Events is its history from the case timeline (GetHandoff only).
	Events []Event `json:"events,omitempty"`

	caseOwnerID int64
}

// Active reports whether the handoff still waits on the receiving team.
func (h *Handoff) Active() bool { return h.Status.Active() }

// HandoffInput is the body of POST /cases/{ref}/handoffs.
type HandoffInput struct {
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

// HandoffText is the body of the answer, complete, decline and cancel
// actions: the answer (answer, complete) or the reason (decline, cancel).
type HandoffText struct {
	Answer string `json:"answer"`
	Reason string `json:"reason"`
}

// HandoffWithin runs extra writes in the transaction that creates a
// handoff, such as storing an idempotent response.
type HandoffWithin func(tx *db.Tx, h *Handoff) error

// HandoffConflict is an action the handoff's status does not allow; it
// names the allowed ones. It is an *apperr.Conflict too.
type HandoffConflict struct {
	ID      int64
	Status  HandoffStatus
	Action  string
	Allowed []string
}

func (e *HandoffConflict) Error() string {
	if len(e.Allowed) == 0 {
		return fmt.Sprintf("handoff %d is %s: nothing more can be done with it", e.ID, e.Status)
	}
	return fmt.Sprintf("cannot %s handoff %d: it is %s; allowed: %s", e.Action, e.ID, e.Status, strings.Join(e.Allowed, ", "))
}

// Unwrap makes the conflict an *apperr.Conflict for callers that map errors by kind.
func (e *HandoffConflict) Unwrap() error { return &apperr.Conflict{Detail: e.Error()} }

// --- hooks ---

// HandoffEvent is one change to a handoff, told to hooks.
type HandoffEvent struct {
	Kind    string    // requested | accepted | answered | completed | declined | cancelled
	Handoff *Handoff  // the handoff after the change
	Actor   string    // email of who made it ("" for Flare)
	OwnerID int64     // the case's owner to tell (0: unassigned)
	At      time.Time // when
}

// HandoffHook is told of each handoff change inside its transaction: a
// notifier queues its durable delivery job in tx, so the change and its
// notification commit together. An error rolls both back.
type HandoffHook func(ctx context.Context, tx *db.Tx, e HandoffEvent) error

// OnHandoffEvent registers a hook; call it while wiring, before serving.
func (s *Service) OnHandoffEvent(h HandoffHook) { s.handoffHooks = append(s.handoffHooks, h) }

func (s *Service) tellHandoff(ctx context.Context, tx *db.Tx, e HandoffEvent) error {
	for _, h := range s.handoffHooks {
		if err := h(ctx, tx, e); err != nil {
			return fmt.Errorf("handoff %s hook: %w", e.Kind, err)
		}
	}
	return nil
}

// --- create ---

// CreateHandoff asks another team to do a piece of work on the case ref.
func (s *Service) CreateHandoff(ctx context.Context, actor auth.Actor, ref string, in HandoffInput, within HandoffWithin) (*Handoff, error) {
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
		case t.Sub(now) > maxHandoffWithin:
			v.Add("due_at", "must be within %d days", int(maxHandoffWithin/(24*time.Hour)))
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
		case d > maxHandoffWithin:
			v.Add("due_within", "must be at most %dd", int(maxHandoffWithin/(24*time.Hour)))
		case teamOK:
			due = handoffDue(cfg, team, now, d)
		}
	case teamOK:
		due = handoffDue(cfg, team, now, team.HandoffTarget())
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	hold := in.Hold == nil || *in.Hold
	var out *Handoff
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var id int64
		c, err := s.ChangeInTx(ctx, tx, actor, ref, auth.PermCaseWrite, func(c *Case) ([]Entry, error) {
			if !c.Status.Active() {
				return nil, &apperr.Conflict{Detail: fmt.Sprintf("%s is %s: reopen it before asking another team", c.Number, c.Status)}
			}
			if team.Key == c.Team {
				return nil, &apperr.Invalid{Errors: []apperr.FieldError{{Field: "team",
					Message: fmt.Sprintf("%s already owns %s: assign the case or add a note instead", team.Name, c.Number)}}}
			}
			err := tx.QueryRow(ctx, `INSERT INTO handoffs (case_id, from_team, to_team, requested_by, request, due_at, hold,
				status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				c.ID, c.Team, team.Key, nullID(actor.UserID), request, db.T(due), hold, string(HandoffOpen),
				db.T(now), db.T(now)).Scan(&id)
			if err != nil {
				return nil, fmt.Errorf("insert handoff: %w", err)
			}
			events := []Entry{{Type: "handoff_requested", Data: map[string]any{"handoff_id": id, "team": team.Key,
				"request": request, "due_at": due, "hold": hold}}}
			if hold {
				switch c.Status {
				case StatusNew, StatusOpen, StatusPendingRequester:
					events = append(events, Entry{Type: "status", Data: map[string]any{"from": c.Status,
						"to": StatusPendingInternal, "note": "waiting on a handoff to " + team.Name}})
					c.Status = StatusPendingInternal
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
		if err := s.tellHandoff(ctx, tx, HandoffEvent{Kind: "requested", Handoff: out, Actor: actor.Email,
			OwnerID: c.OwnerID, At: now}); err != nil {
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

// handoffDue is d of the team's business time from now on its calendar
// (24/7 when it has none).
func handoffDue(cfg *desk.Config, team desk.Team, now time.Time, d time.Duration) time.Time {
	if cal, ok := cfg.Calendar(team.Calendar); ok && team.Calendar != "" {
		return cal.Add(now, d).UTC().Truncate(time.Microsecond)
	}
	return now.Add(d)
}

// DefaultHandoffDue is when a handoff to team asked at now is due by default.
func DefaultHandoffDue(cfg *desk.Config, team desk.Team, now time.Time) time.Time {
	return handoffDue(cfg, team, now, team.HandoffTarget())
}

// --- actions ---

// AcceptHandoff takes the handoff on for the receiving team.
func (s *Service) AcceptHandoff(ctx context.Context, actor auth.Actor, id int64) (*Handoff, error) {
	return s.handoffAction(ctx, actor, id, HandoffAccept, "")
}

// AnswerHandoff adds an answer; the handoff stays accepted (an open one is accepted by answering).
func (s *Service) AnswerHandoff(ctx context.Context, actor auth.Actor, id int64, answer string) (*Handoff, error) {
	return s.handoffAction(ctx, actor, id, HandoffAnswer, answer)
}

// CompleteHandoff closes the handoff as done, with an answer (optional when
// it has been answered before).
func (s *Service) CompleteHandoff(ctx context.Context, actor auth.Actor, id int64, answer string) (*Handoff, error) {
	return s.handoffAction(ctx, actor, id, HandoffComplete, answer)
}

// DeclineHandoff closes the handoff as not done; a reason is required.
func (s *Service) DeclineHandoff(ctx context.Context, actor auth.Actor, id int64, reason string) (*Handoff, error) {
	return s.handoffAction(ctx, actor, id, HandoffDecline, reason)
}

// CancelHandoff withdraws the handoff (the case's side); the reason is optional.
func (s *Service) CancelHandoff(ctx context.Context, actor auth.Actor, id int64, reason string) (*Handoff, error) {
	return s.handoffAction(ctx, actor, id, HandoffCancel, reason)
}

// DoHandoff runs action ("accept", "answer", "complete", "decline" or
// "cancel") with its text: the answer or the reason.
func (s *Service) DoHandoff(ctx context.Context, actor auth.Actor, id int64, action, text string) (*Handoff, error) {
	switch action {
	case HandoffAccept, HandoffAnswer, HandoffComplete, HandoffDecline, HandoffCancel:
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
	if action == HandoffAnswer || action == HandoffComplete {
		field = "answer"
	}
	if action == HandoffAnswer {
		input.Required(v, field, input.Text, text)
	} else {
		input.Check(v, field, input.Text, text)
	}
	if action == HandoffDecline && text == "" {
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
		c, err := s.load(ctx, tx, strconv.FormatInt(caseID, 10), false)
		if err != nil {
			return err
		}
		seesCase := s.canSee(ctx, actor, c)
		if !seesCase && !actor.InTeam(toTeam) {
			return apperr.ErrNotFound
		}
		// The receiving team acts on the case through the handoff, even
		// where it may not see the case itself: act as a member of the
		// case's team for this change only (the actor stays who they are
		// on the timeline and in the audit log).
		as := actor
		if handoffReceiverAction(action) {
			if !mayReceiveHandoff(actor, toTeam) {
				return &apperr.Forbidden{Detail: fmt.Sprintf("only members of %s and leads can %s this handoff", handoffTeamName(cfg, toTeam), action)}
			}
			as.Teams, as.Markets = append(slices.Clone(actor.Teams), c.Team), nil
		} else if !seesCase || !actor.Can(auth.PermCaseWrite) {
			return &apperr.Forbidden{Detail: fmt.Sprintf("only people who can change %s can cancel its handoff", c.Number)}
		}
		var before *Handoff
		var kind string
		cs, err := s.ChangeInTx(ctx, tx, as, strconv.FormatInt(caseID, 10), auth.PermCaseWrite, func(c *Case) ([]Entry, error) {
			h, err := s.handoffByID(ctx, tx, id)
			if err != nil {
				return nil, err
			}
			before = h
			if !slices.Contains(h.Status.Allowed(), action) {
				return nil, &HandoffConflict{ID: id, Status: h.Status, Action: action, Allowed: h.Status.Allowed()}
			}
			var evs []Entry
			kind, evs, err = s.applyHandoff(ctx, tx, actor, h, action, text, now)
			if err != nil {
				return nil, err
			}
			if h.Hold && !h.Status.Active() && c.Status == StatusPendingInternal {
				var n int
				if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM handoffs WHERE case_id = ? AND hold = TRUE
					AND status IN ('open', 'accepted')`, c.ID).Scan(&n); err != nil {
					return nil, fmt.Errorf("count open handoffs: %w", err)
				}
				if n == 0 {
					evs = append(evs, Entry{Type: "status", Data: map[string]any{"from": c.Status, "to": StatusOpen,
						"note": "handoffs closed: back with the owner"}})
					c.Status = StatusOpen
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
		return s.tellHandoff(ctx, tx, HandoffEvent{Kind: kind, Handoff: out, Actor: actor.Email, OwnerID: cs.OwnerID, At: now})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// mayReceive reports whether actor may take the receiving team's actions.
func mayReceiveHandoff(a auth.Actor, team string) bool {
	if !a.Can(auth.PermCaseWrite) {
		return false
	}
	return a.Role == auth.RoleLead || a.Role == auth.RoleAdmin || a.InTeam(team)
}

// applyHandoff writes one action's change to the handoff row and returns
// the hook kind and the case timeline entries.
func (s *Service) applyHandoff(ctx context.Context, tx *db.Tx, actor auth.Actor, h *Handoff, action, text string,
	now time.Time) (string, []Entry, error) {
	data := map[string]any{"handoff_id": h.ID, "team": h.ToTeam}
	set := []string{"updated_at = ?"}
	args := []any{db.T(now)}
	accept := func() {
		if h.Status == HandoffOpen {
			set = append(set, "status = ?", "accepted_by = ?", "accepted_at = ?")
			args = append(args, string(HandoffAccepted), nullID(actor.UserID), db.T(now))
		}
	}
	closeAs := func(st HandoffStatus) {
		set = append(set, "status = ?", "closed_by = ?", "closed_at = ?")
		args = append(args, string(st), nullID(actor.UserID), db.T(now))
		h.Status = st
	}
	answer := func() {
		set = append(set, "answer = ?", "answered_by = ?", "answered_at = ?")
		args = append(args, text, nullID(actor.UserID), db.T(now))
		data["answer"] = text
	}
	news := func() {
		set = append(set, "news_at = ?")
		args = append(args, db.T(now))
	}
	var kind string
	switch action {
	case HandoffAccept:
		accept()
		h.Status, kind = HandoffAccepted, "accepted"
	case HandoffAnswer:
		accept()
		answer()
		news()
		h.Status, kind = HandoffAccepted, "answered"
	case HandoffComplete:
		if text == "" && h.Answer == "" {
			return "", nil, &apperr.Invalid{Errors: []apperr.FieldError{{Field: "answer", Message: "say what was done: the owner reads this answer"}}}
		}
		if h.Status == HandoffOpen {
			set = append(set, "accepted_by = ?", "accepted_at = ?")
			args = append(args, nullID(actor.UserID), db.T(now))
		}
		if text != "" {
			answer()
		} else {
			data["answer"] = h.Answer
		}
		news()
		closeAs(HandoffCompleted)
		kind = "completed"
	case HandoffDecline:
		set = append(set, "decline_reason = ?")
		args = append(args, text)
		data["reason"] = text
		news()
		closeAs(HandoffDeclined)
		kind = "declined"
	case HandoffCancel:
		if text != "" {
			data["reason"] = text
		}
		set = append(set, "read_at = ?") // the owner's side closed it: nothing left to read
		args = append(args, db.T(now))
		closeAs(HandoffCancelled)
		kind = "cancelled"
	}
	if !h.Status.Active() {
		data["wait_s"] = int64(now.Sub(h.CreatedAt) / time.Second)
	}
	if _, err := tx.Exec(ctx, `UPDATE handoffs SET `+strings.Join(set, ", ")+` WHERE id = ?`, append(args, h.ID)...); err != nil {
		return "", nil, fmt.Errorf("update handoff %d: %w", h.ID, err)
	}
	return kind, []Entry{{Type: "handoff_" + kind, Data: data}}, nil
}

func (s *Service) auditHandoff(ctx context.Context, tx *db.Tx, actor auth.Actor, action string, after, before *Handoff, now time.Time) error {
	name := actor.Email
	if name == "" {
		name = actor.Name
	}
	e := audit.Entry{ActorID: actor.UserID, Actor: name, Action: action, ObjectType: "handoff",
		ObjectID: strconv.FormatInt(after.ID, 10), After: handoffSnapshot(after)}
	if before != nil {
		e.Before = handoffSnapshot(before)
	}
	return audit.Append(ctx, tx, now, e)
}

// handoffSnapshot is a handoff as the audit log keeps it: its own fields.
func handoffSnapshot(h *Handoff) map[string]any {
	return map[string]any{"case": h.Case, "from_team": h.FromTeam, "to_team": h.ToTeam, "request": h.Request,
		"due_at": h.DueAt, "hold": h.Hold, "status": h.Status, "accepted_by": h.AcceptedBy, "answer": h.Answer,
		"decline_reason": h.DeclineReason, "closed_at": h.ClosedAt}
}

func handoffTeamName(cfg *desk.Config, key string) string {
	if t, ok := cfg.Team(key); ok && t.Name != "" {
		return t.Name
	}
	return key
}

// --- reading ---

const handoffColumns = `h.id, h.case_id, c.number, c.title, c.priority, c.status, c.owner_id, ou.email, ou.name,
	h.from_team, h.to_team, ru.email, ru.name, h.request, h.due_at, h.hold, h.status,
	au.email, au.name, h.accepted_at, h.answer, wu.email, wu.name, h.answered_at, h.decline_reason,
	cu.email, h.closed_at, h.news_at, h.read_at, h.created_at, h.updated_at
	FROM handoffs h JOIN cases c ON c.id = h.case_id
	LEFT JOIN users ou ON ou.id = c.owner_id
	LEFT JOIN users ru ON ru.id = h.requested_by
	LEFT JOIN users au ON au.id = h.accepted_by
	LEFT JOIN users wu ON wu.id = h.answered_by
	LEFT JOIN users cu ON cu.id = h.closed_by`

func (s *Service) scanHandoff(r scanner) (*Handoff, error) {
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
	h.Case = FormatNumber(number)
	h.caseOwnerID = ownerID.Int64
	h.CaseOwner, h.CaseOwnerName = str(owner), ownerName.String
	h.RequestedBy, h.RequestedByName = str(reqBy), reqByName.String
	h.AcceptedBy, h.AcceptedByName, h.AcceptedAt = str(accBy), accByName.String, accAt.Ptr()
	h.AnsweredBy, h.AnsweredByName, h.AnsweredAt = str(ansBy), ansByName.String, ansAt.Ptr()
	h.ClosedBy, h.ClosedAt = str(closedBy), closedAt.Ptr()
	h.DueAt, h.CreatedAt, h.UpdatedAt = due.Time, created.Time, updated.Time
	h.Unread = !news.IsZero() && (rd.IsZero() || rd.Before(news.Time))
	now := s.clock.Now()
	h.Overdue = (h.Active() && now.After(h.DueAt)) || (h.ClosedAt != nil && h.Status != HandoffCancelled && h.ClosedAt.After(h.DueAt))
	h.Allowed = h.Status.Allowed()
	return &h, nil
}

func (s *Service) handoffByID(ctx context.Context, q db.Querier, id int64) (*Handoff, error) {
	h, err := s.scanHandoff(q.QueryRow(ctx, "SELECT "+handoffColumns+" WHERE h.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load handoff %d: %w", id, err)
	}
	return h, nil
}

// canSeeHandoff: leads and admins, the receiving team, and whoever sees the case.
func (s *Service) canSeeHandoff(ctx context.Context, a auth.Actor, h *Handoff) (bool, error) {
	if !a.Can(auth.PermCaseRead) {
		return false, nil
	}
	if a.Role == auth.RoleAdmin || a.Role == auth.RoleLead || a.InTeam(h.ToTeam) {
		return true, nil
	}
	c, err := s.load(ctx, s.db, strconv.FormatInt(h.CaseID, 10), false)
	if err != nil {
		return false, err
	}
	return s.canSee(ctx, a, c), nil
}

// GetHandoff returns a handoff with its history if actor may see it.
func (s *Service) GetHandoff(ctx context.Context, actor auth.Actor, id int64) (*Handoff, error) {
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
func (s *Service) handoffEvents(ctx context.Context, h *Handoff) ([]Event, error) {
	rows, err := s.db.Query(ctx, `SELECT e.id, e.type, u.email, u.name, e.data, e.created_at
		FROM case_events e LEFT JOIN users u ON u.id = e.actor_id
		WHERE e.case_id = ? AND e.type IN ('handoff_requested', 'handoff_accepted', 'handoff_answered',
			'handoff_completed', 'handoff_declined', 'handoff_cancelled')
		AND `+jsonInt(s.db.Dialect(), "e.data", "handoff_id")+` = ? ORDER BY e.id`, h.CaseID, h.ID)
	if err != nil {
		return nil, fmt.Errorf("handoff events: %w", err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
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

// HandoffActionsFor lists the actions actor may take on h now: the
// receiving team's (accept, answer, complete, decline) and the case side's
// (cancel), as its status allows.
func (s *Service) HandoffActionsFor(ctx context.Context, actor auth.Actor, h *Handoff) []string {
	var out []string
	var seesCase *bool
	for _, act := range h.Status.Allowed() {
		if handoffReceiverAction(act) {
			if mayReceiveHandoff(actor, h.ToTeam) {
				out = append(out, act)
			}
			continue
		}
		if !actor.Can(auth.PermCaseWrite) {
			continue
		}
		if seesCase == nil {
			ok := false
			if c, err := s.load(ctx, s.db, strconv.FormatInt(h.CaseID, 10), false); err == nil {
				ok = s.canSee(ctx, actor, c)
			}
			seesCase = &ok
		}
		if *seesCase {
			out = append(out, act)
		}
	}
	return out
}

// HandoffReceiverActions lists the receiving team's actions (accept,
// answer, complete, decline) actor may take on h now; unlike
// HandoffActionsFor it reads nothing.
func HandoffReceiverActions(actor auth.Actor, h *Handoff) []string {
	var out []string
	if mayReceiveHandoff(actor, h.ToTeam) {
		for _, act := range h.Status.Allowed() {
			if handoffReceiverAction(act) {
				out = append(out, act)
			}
		}
	}
	return out
}

// CaseHandoffs lists the handoffs of a case actor may see, oldest first.
func (s *Service) CaseHandoffs(ctx context.Context, actor auth.Actor, ref string) ([]*Handoff, error) {
	c, err := s.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, "SELECT "+handoffColumns+" WHERE h.case_id = ? ORDER BY h.id", c.ID)
	if err != nil {
		return nil, fmt.Errorf("case handoffs: %w", err)
	}
	defer rows.Close()
	out := []*Handoff{}
	for rows.Next() {
		h, err := s.scanHandoff(rows)
		if err != nil {
			return nil, fmt.Errorf("case handoffs: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// HandoffFilter selects handoffs for GET /handoffs.
type HandoffFilter struct {
	Team     []string        // receiving teams
	FromTeam []string        // asking teams
	Case     string          // a case (id or ESC number)
	Status   []HandoffStatus // none: every status
	Owner    string          // "me": handoffs on cases the actor owns
	Unread   bool            // only those with news the case's owner has not read
	Overdue  bool            // only open or accepted handoffs past their due time
	Cursor   string
	Limit    int
}

// HandoffPage is one page of handoffs, soonest due first.
type HandoffPage struct {
	Handoffs   []*Handoff `json:"handoffs"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

// ListHandoffs lists the handoffs actor may see that match f, by due time.
func (s *Service) ListHandoffs(ctx context.Context, actor auth.Actor, f HandoffFilter) (*HandoffPage, error) {
	if !actor.Can(auth.PermCaseRead) {
		return nil, &apperr.Forbidden{Detail: "your role cannot read cases"}
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
			add(col+" IN ("+placeholders(len(vals))+")", anys...)
		}
	}
	// Visibility: the receiving team sees its handoffs; others see those of
	// the cases they see.
	if cond, sargs := scope(actor); cond != "" {
		if len(actor.Teams) > 0 {
			targs := make([]any, len(actor.Teams))
			for i, t := range actor.Teams {
				targs[i] = t
			}
			add("(h.to_team IN ("+placeholders(len(actor.Teams))+") OR "+cond+")", append(targs, sargs...)...)
		} else {
			add(cond, sargs...)
		}
	}
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
		id, number, ok := ParseRef(strings.TrimSpace(f.Case))
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
		after, err := decodeCursor(f.Cursor, handoffSort) // (due_at, id), as the case lists' cursors
		if err != nil {
			v.Add("cursor", "is not a cursor from this list")
		} else {
			add("(h.due_at, h.id) > (?, ?)", after...)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	q := "SELECT " + handoffColumns
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY h.due_at, h.id LIMIT ?"
	rows, err := s.db.Query(ctx, q, append(args, f.Limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("list handoffs: %w", err)
	}
	defer rows.Close()
	page := &HandoffPage{Handoffs: []*Handoff{}}
	for rows.Next() {
		h, err := s.scanHandoff(rows)
		if err != nil {
			return nil, fmt.Errorf("list handoffs: %w", err)
		}
		page.Handoffs = append(page.Handoffs, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list handoffs: %w", err)
	}
	if len(page.Handoffs) > f.Limit {
		page.Handoffs = page.Handoffs[:f.Limit]
		last := page.Handoffs[f.Limit-1]
		page.NextCursor = encodeCursor(handoffSort, []any{last.DueAt, last.ID})
	}
	return page, nil
}

// handoffSort names the handoff queue's order in its cursors.
const handoffSort = "handoff_due"

// --- the owner is told ---

// HandoffNews counts the handoffs on the active cases actor owns with an
// answer, completion or decline actor has not read yet, leaving out those
// of the case except (0: none), which the caller is about to mark read.
func (s *Service) HandoffNews(ctx context.Context, actor auth.Actor, except int64) (int, error) {
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

// MarkHandoffsRead marks the news on a case's handoffs read when actor is
// the case's owner (a read receipt: neither audited nor on the timeline).
// It reports how many handoffs had news.
func (s *Service) MarkHandoffsRead(ctx context.Context, actor auth.Actor, caseID int64) (int, error) {
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

// HandoffStatsFilter chooses the handoffs to report on: those asked in [From, To).
type HandoffStatsFilter struct {
	From, To time.Time // default: the 30 days before now
	FromTeam []string  // only handoffs these teams asked
}

// HandoffTeamStats is how one receiving team handled the period's handoffs.
// Waits are elapsed hours (and business hours on the team's calendar) from
// the request to completion or decline; cancelled handoffs have no wait.
// Percentiles interpolate between ranks (like percentile_cont).
type HandoffTeamStats struct {
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

// HandoffStats is the wait-time report: per receiving team, longest p90 wait first.
type HandoffStats struct {
	From  time.Time          `json:"from"`
	To    time.Time          `json:"to"`
	Teams []HandoffTeamStats `json:"teams"`
}

// maxHandoffStatsPeriod bounds a report's period.
const maxHandoffStatsPeriod = 366 * 24 * time.Hour

// HandoffWaitStats reports, per receiving team, how long handoffs asked in
// the period waited: "which team holds our cases longest". Everyone on the
// desk but account managers may read it (it names no case).
func (s *Service) HandoffWaitStats(ctx context.Context, actor auth.Actor, f HandoffStatsFilter) (*HandoffStats, error) {
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
	case f.To.Sub(f.From) > maxHandoffStatsPeriod:
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
		q += " AND from_team IN (" + placeholders(len(f.FromTeam)) + ")"
		for _, t := range f.FromTeam {
			args = append(args, t)
		}
	}
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("handoff stats: %w", err)
	}
	defer rows.Close()
	type acc struct {
		st                     HandoffTeamStats
		wait, business, accept []float64
		onTime, closed         int
		oldest                 time.Duration
	}
	teams := map[string]*acc{}
	for rows.Next() {
		var team string
		var st HandoffStatus
		var created, accepted, closed, due db.Time
		if err := rows.Scan(&team, &st, &created, &accepted, &closed, &due); err != nil {
			return nil, fmt.Errorf("handoff stats: %w", err)
		}
		a := teams[team]
		if a == nil {
			a = &acc{st: HandoffTeamStats{Team: team, TeamName: handoffTeamName(cfg, team)}}
			teams[team] = a
		}
		a.st.Requested++
		if !accepted.IsZero() {
			a.accept = append(a.accept, handoffHours(accepted.Sub(created.Time)))
		}
		switch st {
		case HandoffOpen, HandoffAccepted:
			a.st.Open++
			if now.After(due.Time) {
				a.st.Overdue++
			}
			if age := now.Sub(created.Time); age > a.oldest {
				a.oldest = age
			}
		case HandoffCancelled:
			a.st.Cancelled++
		case HandoffCompleted, HandoffDeclined:
			if st == HandoffCompleted {
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
			a.wait = append(a.wait, handoffHours(closed.Sub(created.Time)))
			t, _ := cfg.Team(team)
			if cal, ok := cfg.Calendar(t.Calendar); ok && t.Calendar != "" {
				a.business = append(a.business, handoffHours(cal.Between(created.Time, closed.Time)))
			} else {
				a.business = append(a.business, handoffHours(closed.Sub(created.Time)))
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("handoff stats: %w", err)
	}
	out := &HandoffStats{From: f.From.UTC(), To: f.To.UTC(), Teams: []HandoffTeamStats{}}
	for _, a := range teams {
		st := a.st
		st.WaitMedianHours, st.WaitP90Hours = handoffPercentile(a.wait, 0.5), handoffPercentile(a.wait, 0.9)
		st.WaitMedianBusinessHours, st.WaitP90BusinessHours = handoffPercentile(a.business, 0.5), handoffPercentile(a.business, 0.9)
		st.AcceptMedianHours, st.AcceptP90Hours = handoffPercentile(a.accept, 0.5), handoffPercentile(a.accept, 0.9)
		if a.closed > 0 {
			p := handoffRound2(100 * float64(a.onTime) / float64(a.closed))
			st.OnTimePct = &p
		}
		if st.Open > 0 {
			h := handoffHours(a.oldest)
			st.OldestOpenHours = &h
		}
		out.Teams = append(out.Teams, st)
	}
	// Longest p90 wait first; teams with no closed handoff last, by name.
	slices.SortFunc(out.Teams, func(a, b HandoffTeamStats) int {
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

func handoffHours(d time.Duration) float64 { return handoffRound2(d.Hours()) }

func handoffRound2(x float64) float64 { return math.Round(x*100) / 100 }

// percentile is the p-th percentile of xs, interpolating linearly between
// the closest ranks; nil for no values.
func handoffPercentile(xs []float64, p float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	pos := p * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	v := s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
	v = handoffRound2(v)
	return &v
}

// closeHandoffsWith cancels the case's active handoffs when it is resolved:
// the receiving teams see them closed ("case resolved") instead of working
// on a case that is done. It runs inside the resolving change and returns
// its timeline entries.
func (s *Service) closeHandoffsWith(ctx context.Context, tx *db.Tx, actor auth.Actor, c *Case, now time.Time) ([]eventRec, error) {
	ids, err := queryIDs(ctx, tx, `SELECT id FROM handoffs WHERE case_id = ? AND status IN ('open', 'accepted') ORDER BY id`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("open handoffs: %w", err)
	}
	var out []eventRec
	for _, id := range ids {
		h, err := s.handoffByID(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		before := *h
		kind, evs, err := s.applyHandoff(ctx, tx, actor, h, HandoffCancel, "the case was resolved", now)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			out = append(out, eventRec{typ: e.Type, data: e.Data})
		}
		after, err := s.handoffByID(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if err := s.auditHandoff(ctx, tx, actor, "handoff.cancel", after, &before, now); err != nil {
			return nil, err
		}
		if err := s.tellHandoff(ctx, tx, HandoffEvent{Kind: kind, Handoff: after, Actor: actor.Email, OwnerID: c.OwnerID, At: now}); err != nil {
			return nil, err
		}
	}
	return out, nil
}
