package escalation

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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
	"github.com/flare-desk/flare/internal/deadline"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/input"
)

// State is where an escalation is in its life.
type State string

const (
	Open         State = "open"         // a step waits for an acknowledgement
	Acknowledged State = "acknowledged" // someone holds it: its clock stopped
	Closed       State = "closed"       // the case was resolved, or de-escalated
)

// States lists every state; Active are those not closed.
var (
	States = []State{Open, Acknowledged, Closed}
	Active = []State{Open, Acknowledged}
)

// Escalation is one escalation of a case.
type Escalation struct {
	ID           int64        `json:"id"`
	Case         string       `json:"case"` // ESC number
	CaseID       int64        `json:"case_id"`
	CaseTitle    string       `json:"case_title"`
	CasePriority string       `json:"case_priority"`
	CaseStatus   cases.Status `json:"case_status"`
	CaseTeam     string       `json:"case_team"`
	CaseLevel    int          `json:"case_level"` // the case's escalation level now

	Policy    string   `json:"policy"` // "": by hand without a policy
	Trigger   string   `json:"trigger"`
	Reason    string   `json:"reason"`
	State     State    `json:"state"`
	Level     int      `json:"level"` // the level it holds the case at
	LevelName string   `json:"level_name"`
	FromLevel int      `json:"from_level"`
	Step      int      `json:"step"` // the policy step waiting (0-based); -1: the fallback
	Round     int      `json:"round"`
	Targets   []string `json:"targets"` // the people the step asks
	// Holders hold it now: whoever acknowledged it, else the people asked.
	Holders       []string   `json:"holders"`
	DueAt         *time.Time `json:"due_at"` // the acknowledgement deadline; null once acknowledged or with none
	StepStartedAt time.Time  `json:"step_started_at"`
	StartedBy     *string    `json:"started_by"` // null: Flare (a trigger)
	StartedByName string     `json:"started_by_name,omitempty"`
	AckedBy       *string    `json:"acked_by"`
	AckedByName   string     `json:"acked_by_name,omitempty"`
	AckedAt       *time.Time `json:"acked_at"`
	ClosedBy      *string    `json:"closed_by"`
	ClosedAt      *time.Time `json:"closed_at"`
	CloseReason   string     `json:"close_reason,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	AgeSeconds    int64      `json:"age_seconds"` // since it started (until it closed)
}

// Active reports whether the escalation is not closed.
func (e *Escalation) Active() bool { return e.State != Closed }

// OnCall answers who is on call for a team at an instant: internal/oncall.
// No schedule (nil, nil) asks the whole team.
type OnCall interface {
	OnCallAt(ctx context.Context, team string, at time.Time) ([]string, error)
}

// Service runs escalations.
type Service struct {
	db     *db.DB
	desk   *desk.Service
	cases  *cases.Service
	clock  clock.Clock
	log    *slog.Logger
	oncall OnCall
	timer  *deadline.Timer
}

// timerMaxSleep bounds the timer's sleep: it looks this often for
// deadlines other nodes wrote. It differs from the SLA timer's 30 s so that
// tests waiting on the fake clock for one timer's look tell the two apart.
const timerMaxSleep = 20 * time.Second

// New returns the escalation service; oc answers who is on call (nil: no
// schedules, whole teams are asked). Register wires its reactions to cases.
func New(d *db.DB, dk *desk.Service, cs *cases.Service, c clock.Clock, log *slog.Logger, oc OnCall) *Service {
	if log == nil {
		log = slog.Default()
	}
	s := &Service{db: d, desk: dk, cases: cs, clock: c, log: log, oncall: oc}
	s.timer = deadline.New("escalation", c, log, timerMaxSleep, s.FireSteps)
	return s
}

// Register subscribes the service to the case events that start and close
// escalations, in the transaction of the change that causes them.
func (s *Service) Register(bus *events.Bus) {
	bus.OnTx("escalation.react", s.react, events.CaseCreated, events.CaseChanged, events.CaseRouted,
		events.CaseStatusChanged, events.SLAWarning, events.SLABreached)
}

// RunTimer fires acknowledgement deadlines at their instants until ctx ends.
func (s *Service) RunTimer(ctx context.Context) { s.timer.Run(ctx) }

// flare is the actor of what triggers and deadlines do.
var flare = auth.System("Flare escalation")

// --- by hand ---

// Input is the body of POST /cases/{ref}/escalations.
type Input struct {
	Reason string `json:"reason"`
	Level  int    `json:"level"`  // 0: the first step of the policy, or one level up
	Policy string `json:"policy"` // "": the first policy with the manual trigger that fits, or none
}

// DeescalateInput is the body of POST /cases/{ref}/deescalate.
type DeescalateInput struct {
	Reason string `json:"reason"`
	Level  int    `json:"level"` // 0: L1
}

// Escalate escalates the case ref by hand: with a reason, to a level, under
// a policy (named, or the first with the manual trigger that fits the case)
// or without one (the level's targets are asked, with no deadline).
func (s *Service) Escalate(ctx context.Context, actor auth.Actor, ref string, in Input, within Within) (*Escalation, error) {
	if !actor.Can(auth.PermCaseWrite) {
		return nil, &apperr.Forbidden{Detail: "your role cannot change cases, so it cannot escalate them"}
	}
	reason := strings.TrimSpace(in.Reason)
	policy := strings.TrimSpace(in.Policy)
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	levels := LevelsOf(cfg)
	v := &apperr.Invalid{}
	if reason == "" {
		v.Add("reason", "say why the case needs escalating")
	} else {
		input.Check(v, "reason", input.Reason, reason)
	}
	if in.Level != 0 && (in.Level < 1 || in.Level > len(levels)) {
		v.Add("level", "must be a level from 1 to %d", len(levels))
	}
	var pol *Policy
	if policy != "" {
		if p, ok := PolicyNamed(cfg, policy); ok {
			pol = &p
		} else if input.Check(v, "policy", input.Name, policy) {
			v.Add("policy", "no escalation policy named %q", policy)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	// Checked against the case as it stands before the transaction (and
	// again under its lock): a refusal costs no write.
	c, err := s.cases.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if cases.PublicOnly(actor) {
		return nil, apperr.ErrNotFound
	}
	if pol == nil {
		f, err := s.facts(ctx, s.db, cases.EventCase(c))
		if err != nil {
			return nil, err
		}
		if p, ok := FirstFor(PoliciesOf(cfg), Trigger{Kind: TriggerManual}, f); ok {
			pol = &p
			// Running already: this escalation goes to the level without it.
			var n int
			if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM escalations WHERE case_id = ? AND policy = ? AND state <> 'closed'`,
				c.ID, p.Name).Scan(&n); err != nil {
				return nil, fmt.Errorf("running escalation: %w", err)
			}
			if n > 0 {
				pol = nil
			}
		}
	}
	sp := startSpec{trigger: TriggerManual, reason: reason, policy: pol, level: in.Level, manual: true}
	if err := sp.check(c, levels); err != nil {
		return nil, err
	}
	var out *Escalation
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if out, err = s.start(ctx, tx, cfg, actor, strconv.FormatInt(c.ID, 10), sp); err != nil || within == nil {
			return err
		}
		return within(tx, out)
	})
	return out, err
}

// Within runs extra writes in the transaction that escalates a case by
// hand, such as storing an idempotent response.
type Within func(tx *db.Tx, e *Escalation) error

// startSpec is what starts an escalation.
type startSpec struct {
	trigger, reason string
	policy          *Policy // nil: none, the level's targets
	level           int     // by hand or a rule's level: the level asked for (0: none)
	manual          bool    // refusals are errors, not silence
}

// check refuses a start the case c does not allow.
func (sp startSpec) check(c *cases.Case, levels []Level) error {
	if !c.Status.Active() {
		return &apperr.Conflict{Detail: fmt.Sprintf("%s is %s: reopen it before escalating", c.Number, c.Status)}
	}
	if sp.policy != nil {
		return nil
	}
	to := sp.level
	if to == 0 {
		to = c.EscalationLevel + 1
	}
	if to > len(levels) {
		return apperr.InvalidField("level", "%s is at the top level (%s) already", c.Number, LevelName(levels, c.EscalationLevel))
	}
	if to <= c.EscalationLevel {
		return apperr.InvalidField("level", "%s is at %s already: name a higher level, or de-escalate it",
			c.Number, LevelName(levels, c.EscalationLevel))
	}
	return nil
}

// Acknowledge takes the escalation id of the case ref: its step's clock
// stops. The people it asks, the case's team and its owner, leads and
// admins may.
func (s *Service) Acknowledge(ctx context.Context, actor auth.Actor, ref string, id int64) (*Escalation, error) {
	if !actor.Can(auth.PermCaseWrite) {
		return nil, &apperr.Forbidden{Detail: "your role cannot change cases, so it cannot acknowledge escalations"}
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.cases.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if cases.PublicOnly(actor) {
		return nil, apperr.ErrNotFound
	}
	if e, err := s.byID(ctx, s.db, cfg, id); err != nil || e.CaseID != c.ID {
		return nil, apperr.ErrNotFound
	} else if err := ackProblem(actor, e, c); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var out *Escalation
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var before *Escalation
		cs, err := s.cases.ChangeInTx(ctx, tx, actor, strconv.FormatInt(c.ID, 10), auth.PermCaseWrite, func(c *cases.Case) ([]cases.Entry, error) {
			e, err := s.byID(ctx, tx, cfg, id)
			if err != nil || e.CaseID != c.ID {
				return nil, apperr.ErrNotFound
			}
			if err := ackProblem(actor, e, c); err != nil {
				return nil, err
			}
			before = e
			if _, err := tx.Exec(ctx, `UPDATE escalations SET state = ?, acked_by = ?, acked_at = ?, due_at = NULL, updated_at = ?
				WHERE id = ?`, string(Acknowledged), db.NullID(actor.UserID), db.T(now), db.T(now), id); err != nil {
				return nil, fmt.Errorf("acknowledge escalation %d: %w", id, err)
			}
			return []cases.Entry{{Type: "escalation_acknowledged", Data: map[string]any{"escalation_id": id,
				"policy": e.Policy, "level": e.Level, "step": e.Step, "waited_s": int64(now.Sub(e.StepStartedAt) / time.Second)}}}, nil
		})
		if err != nil {
			return err
		}
		if out, err = s.byID(ctx, tx, cfg, id); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, actor, "escalation.acknowledge", out, before, now); err != nil {
			return err
		}
		return s.publish(ctx, tx, actor, cs, events.EscalationAcknowledged, out, before.Level, "", now)
	})
	return out, err
}

// ackProblem says why actor may not acknowledge e on c (nil: they may).
func ackProblem(actor auth.Actor, e *Escalation, c *cases.Case) error {
	switch e.State {
	case Acknowledged:
		who := "someone"
		if e.AckedByName != "" {
			who = e.AckedByName
		}
		return &apperr.Conflict{Detail: fmt.Sprintf("escalation %d was acknowledged by %s already", e.ID, who)}
	case Closed:
		return &apperr.Conflict{Detail: fmt.Sprintf("escalation %d is closed", e.ID)}
	}
	if MayAcknowledge(actor, e, c) {
		return nil
	}
	return &apperr.Forbidden{Detail: "only the people the escalation asks, the case's team and owner, leads and admins can acknowledge it"}
}

// MayAcknowledge reports whether actor may acknowledge e (on the case c)
// as far as who they are goes: the people it asks, the case's team and
// owner, leads and admins, who hold case.write.
func MayAcknowledge(actor auth.Actor, e *Escalation, c *cases.Case) bool {
	if !actor.Can(auth.PermCaseWrite) || cases.PublicOnly(actor) {
		return false
	}
	return actor.Role == auth.RoleLead || actor.Role == auth.RoleAdmin || actor.InTeam(c.Team) ||
		(c.OwnerID != 0 && c.OwnerID == actor.UserID) || slices.Contains(e.Targets, actor.Email)
}

// Deescalate lowers the case's level with a reason (to in.Level, default
// L1) and closes its escalations: whoever may change the case may.
func (s *Service) Deescalate(ctx context.Context, actor auth.Actor, ref string, in DeescalateInput) (*CaseView, error) {
	if !actor.Can(auth.PermCaseWrite) {
		return nil, &apperr.Forbidden{Detail: "your role cannot change cases, so it cannot de-escalate them"}
	}
	reason := strings.TrimSpace(in.Reason)
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	levels := LevelsOf(cfg)
	v := &apperr.Invalid{}
	if reason == "" {
		v.Add("reason", "say why the case no longer needs its escalation")
	} else {
		input.Check(v, "reason", input.Reason, reason)
	}
	to := in.Level
	if to == 0 {
		to = 1
	}
	if to < 1 || to > len(levels) {
		v.Add("level", "must be a level from 1 to %d", len(levels))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	c, err := s.cases.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if cases.PublicOnly(actor) {
		return nil, apperr.ErrNotFound
	}
	open, err := s.activeIDs(ctx, s.db, c.ID)
	if err != nil {
		return nil, err
	}
	if err := deescalateProblem(c, levels, to, len(open)); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var closed []*Escalation
		var from int
		cs, err := s.cases.ChangeInTx(ctx, tx, actor, strconv.FormatInt(c.ID, 10), auth.PermCaseWrite, func(c *cases.Case) ([]cases.Entry, error) {
			ids, err := s.activeIDs(ctx, tx, c.ID)
			if err != nil {
				return nil, err
			}
			if err := deescalateProblem(c, levels, to, len(ids)); err != nil {
				return nil, &apperr.Conflict{Detail: err.Error()}
			}
			from = c.EscalationLevel
			entries := []cases.Entry{{Type: "deescalated", Data: map[string]any{"from": from, "to": min(to, from), "reason": reason}}}
			for _, id := range ids {
				e, err := s.byID(ctx, tx, cfg, id)
				if err != nil {
					return nil, err
				}
				entry, err := s.closeRow(ctx, tx, actor, e, reason, now)
				if err != nil {
					return nil, err
				}
				closed, entries = append(closed, e), append(entries, entry)
			}
			if to < c.EscalationLevel {
				entries = append(entries, levelChange(c.EscalationLevel, to))
				c.EscalationLevel = to
			}
			return entries, nil
		})
		if err != nil {
			return err
		}
		for _, before := range closed {
			after, err := s.byID(ctx, tx, cfg, before.ID)
			if err != nil {
				return err
			}
			if err := s.audit(ctx, tx, actor, "escalation.close", after, before, now); err != nil {
				return err
			}
			if err := s.publish(ctx, tx, actor, cs, events.EscalationClosed, after, from, reason, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.ForCase(ctx, actor, ref)
}

// deescalateProblem says why c cannot go down to level to with open escalations open.
func deescalateProblem(c *cases.Case, levels []Level, to, open int) error {
	if to > c.EscalationLevel {
		return apperr.InvalidField("level", "%s is at %s: de-escalating cannot raise it", c.Number, LevelName(levels, c.EscalationLevel))
	}
	if to == c.EscalationLevel && open == 0 {
		return apperr.InvalidField("level", "%s is at %s with no open escalation: nothing to de-escalate", c.Number, LevelName(levels, c.EscalationLevel))
	}
	return nil
}

// levelChange is the case's "update" timeline entry for its level.
func levelChange(from, to int) cases.Entry {
	return cases.Entry{Type: "update", Data: map[string]any{"changes": []cases.Change{{Field: "escalation_level", Old: from, New: to}}}}
}

// --- starting, stepping, closing ---

// start starts an escalation of the case ref in tx, as the change of the
// case that raises its level; nil when a trigger's start does not apply
// (the policy runs already, the case is not active).
func (s *Service) start(ctx context.Context, tx *db.Tx, cfg *desk.Config, actor auth.Actor, ref string, sp startSpec) (*Escalation, error) {
	levels := LevelsOf(cfg)
	now := s.clock.Now()
	var id int64
	var from int
	var due time.Time
	skip := false
	cs, err := s.cases.ChangeInTx(ctx, tx, actor, ref, auth.PermCaseWrite, func(c *cases.Case) ([]cases.Entry, error) {
		skip = false
		if err := sp.check(c, levels); err != nil {
			if sp.manual {
				return nil, err
			}
			skip = true
			return nil, nil
		}
		var targets []Target
		var pos Position
		level := 0
		name := ""
		if sp.policy != nil {
			var running int64
			err := tx.QueryRow(ctx, `SELECT id FROM escalations WHERE case_id = ? AND policy = ? AND state <> 'closed'`,
				c.ID, sp.policy.Name).Scan(&running)
			switch {
			case err == nil && sp.manual:
				return nil, &apperr.Conflict{Detail: fmt.Sprintf("%s runs the policy %q already (escalation %d): acknowledge it or de-escalate first",
					c.Number, sp.policy.Name, running)}
			case err == nil:
				skip = true
				return nil, nil
			case !errors.Is(err, sql.ErrNoRows):
				return nil, fmt.Errorf("running escalation: %w", err)
			}
			name = sp.policy.Name
			pos = sp.policy.StartAt(sp.level)
			level, targets = sp.policy.Level(pos), sp.policy.Targets(pos)
			due = sp.policy.Deadline(pos, now)
			if sp.level > level {
				level = sp.level
			}
		} else {
			level = sp.level
			if level == 0 {
				level = c.EscalationLevel + 1
			}
			targets = levels[level-1].Targets
		}
		emails, err := s.resolve(ctx, tx, c, targets, now)
		if err != nil {
			return nil, err
		}
		from = c.EscalationLevel
		level = max(level, from)
		id, err = tx.InsertID(ctx, `INSERT INTO escalations (case_id, policy, cause, reason, state, level, from_level, step, round,
			targets, due_at, step_started_at, started_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, name, sp.trigger, sp.reason, string(Open), level, from, pos.Step, pos.Round, mustJSON(emails),
			timeOrNil(due), db.T(now), db.NullID(actor.UserID), db.T(now), db.T(now))
		if err != nil {
			return nil, fmt.Errorf("insert escalation: %w", err)
		}
		data := map[string]any{"escalation_id": id, "trigger": sp.trigger, "level": level, "targets": emails}
		if name != "" {
			data["policy"] = name
		}
		if sp.reason != "" {
			data["reason"] = sp.reason
		}
		if !due.IsZero() {
			data["due_at"] = due
		}
		entries := []cases.Entry{{Type: "escalation_started", Data: data}}
		if level > c.EscalationLevel {
			entries = append(entries, levelChange(c.EscalationLevel, level))
			c.EscalationLevel = level
		}
		return entries, nil
	})
	if err != nil || skip {
		return nil, err
	}
	out, err := s.byID(ctx, tx, cfg, id)
	if err != nil {
		return nil, err
	}
	if err := s.audit(ctx, tx, actor, "escalation.start", out, nil, now); err != nil {
		return nil, err
	}
	if err := s.publish(ctx, tx, actor, cs, events.EscalationStarted, out, from, sp.reason, now); err != nil {
		return nil, err
	}
	s.timer.AfterCommit(tx, due)
	return out, nil
}

// resolve is the emails targets ask on c at now.
func (s *Service) resolve(ctx context.Context, q db.Querier, c *cases.Case, targets []Target, now time.Time) ([]string, error) {
	if len(targets) == 0 {
		return []string{}, nil
	}
	d := Directory{CaseTeam: c.Team, OnCall: map[string][]string{}}
	if c.Owner != nil {
		d.Owner = *c.Owner
	}
	if s.oncall != nil {
		for _, team := range OnCallTeams(targets, c.Team) {
			who, err := s.oncall.OnCallAt(ctx, team, now)
			if err != nil {
				return nil, fmt.Errorf("on-call of %s: %w", team, err)
			}
			if len(who) > 0 {
				d.OnCall[team] = who
			}
		}
	}
	if NeedsPeople(targets, d) {
		users, err := auth.ListUsers(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			d.People = append(d.People, Person{Email: u.Email, Role: string(u.Role), Teams: u.Teams, Active: u.Active})
		}
	}
	out := Resolve(targets, d)
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// closeRow closes e in tx and returns its timeline entry.
func (s *Service) closeRow(ctx context.Context, tx *db.Tx, actor auth.Actor, e *Escalation, reason string, now time.Time) (cases.Entry, error) {
	if _, err := tx.Exec(ctx, `UPDATE escalations SET state = ?, closed_by = ?, closed_at = ?, close_reason = ?, due_at = NULL,
		updated_at = ? WHERE id = ?`, string(Closed), db.NullID(actor.UserID), db.T(now), reason, db.T(now), e.ID); err != nil {
		return cases.Entry{}, fmt.Errorf("close escalation %d: %w", e.ID, err)
	}
	data := map[string]any{"escalation_id": e.ID, "level": e.Level, "reason": reason}
	if e.Policy != "" {
		data["policy"] = e.Policy
	}
	return cases.Entry{Type: "escalation_closed", Data: data}, nil
}

// publish publishes the event of a change to e in tx; from is the case's
// level before the change.
func (s *Service) publish(ctx context.Context, tx *db.Tx, actor auth.Actor, c *cases.Case, t events.Type, e *Escalation,
	from int, reason string, now time.Time) error {
	p := &events.Escalation{EscalationID: e.ID, Policy: e.Policy, Trigger: e.Trigger, Level: c.EscalationLevel,
		FromLevel: from, Step: e.Step, Round: e.Round, Reason: reason, Targets: e.Targets}
	if e.DueAt != nil {
		p.AckDeadline = *e.DueAt
	}
	if e.AckedBy != nil {
		p.AckedBy = *e.AckedBy
	}
	return s.cases.Bus().Publish(ctx, tx, events.Event{Type: t, At: now, Actor: cases.EventActor(actor),
		Case: cases.EventCase(c), Data: p})
}

func (s *Service) audit(ctx context.Context, tx *db.Tx, actor auth.Actor, action string, after, before *Escalation, now time.Time) error {
	name := audit.ActorName(actor)
	e := audit.Entry{ActorID: actor.UserID, Actor: name, Action: action, ObjectType: "escalation",
		ObjectID: strconv.FormatInt(after.ID, 10), After: snapshot(after)}
	if before != nil {
		e.Before = snapshot(before)
	}
	return audit.Append(ctx, tx, now, e)
}

// snapshot is an escalation as the audit log keeps it: its own fields.
func snapshot(e *Escalation) map[string]any {
	return map[string]any{"case": e.Case, "policy": e.Policy, "trigger": e.Trigger, "reason": e.Reason, "state": e.State,
		"level": e.Level, "step": e.Step, "round": e.Round, "targets": e.Targets, "due_at": e.DueAt,
		"acked_by": e.AckedBy, "closed_at": e.ClosedAt, "close_reason": e.CloseReason}
}

// --- reading ---

const columns = `e.id, e.case_id, c.number, c.title, c.priority, c.status, c.team, c.escalation_level,
	e.policy, e.cause, e.reason, e.state, e.level, e.from_level, e.step, e.round, e.targets, e.due_at,
	e.step_started_at, su.email, su.name, au.email, au.name, e.acked_at, cu.email, e.closed_at, e.close_reason,
	e.created_at, e.updated_at
	FROM escalations e JOIN cases c ON c.id = e.case_id
	LEFT JOIN users su ON su.id = e.started_by
	LEFT JOIN users au ON au.id = e.acked_by
	LEFT JOIN users cu ON cu.id = e.closed_by`

func (s *Service) scan(r db.Scanner, cfg *desk.Config) (*Escalation, error) {
	var (
		e                                       Escalation
		number                                  int64
		targets                                 string
		startedBy, startedByName, ackBy, ackByN sql.NullString
		closedBy                                sql.NullString
		due, started, acked, closed             db.Time
		created, updated                        db.Time
	)
	err := r.Scan(&e.ID, &e.CaseID, &number, &e.CaseTitle, &e.CasePriority, &e.CaseStatus, &e.CaseTeam, &e.CaseLevel,
		&e.Policy, &e.Trigger, &e.Reason, &e.State, &e.Level, &e.FromLevel, &e.Step, &e.Round, &targets, &due,
		&started, &startedBy, &startedByName, &ackBy, &ackByN, &acked, &closedBy, &closed, &e.CloseReason,
		&created, &updated)
	if err != nil {
		return nil, err
	}
	str := func(n sql.NullString) *string {
		if !n.Valid {
			return nil
		}
		return &n.String
	}
	e.Case = cases.FormatNumber(number)
	if err := json.Unmarshal([]byte(targets), &e.Targets); err != nil {
		return nil, fmt.Errorf("escalation %d targets: %w", e.ID, err)
	}
	if e.Targets == nil {
		e.Targets = []string{}
	}
	e.DueAt, e.StepStartedAt = due.Ptr(), started.Time
	e.StartedBy, e.StartedByName = str(startedBy), startedByName.String
	e.AckedBy, e.AckedByName, e.AckedAt = str(ackBy), ackByN.String, acked.Ptr()
	e.ClosedBy, e.ClosedAt = str(closedBy), closed.Ptr()
	e.CreatedAt, e.UpdatedAt = created.Time, updated.Time
	e.LevelName = LevelName(LevelsOf(cfg), e.Level)
	e.Holders = e.Targets
	if e.AckedBy != nil {
		e.Holders = []string{*e.AckedBy}
	}
	end := s.clock.Now()
	if e.ClosedAt != nil {
		end = *e.ClosedAt
	}
	e.AgeSeconds = int64(end.Sub(e.CreatedAt) / time.Second)
	return &e, nil
}

func (s *Service) byID(ctx context.Context, q db.Querier, cfg *desk.Config, id int64) (*Escalation, error) {
	e, err := s.scan(q.QueryRow(ctx, "SELECT "+columns+" WHERE e.id = ?", id), cfg)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load escalation %d: %w", id, err)
	}
	return e, nil
}

func (s *Service) activeIDs(ctx context.Context, q db.Querier, caseID int64) ([]int64, error) {
	ids, err := db.QueryIDs(ctx, q, `SELECT id FROM escalations WHERE case_id = ? AND state <> 'closed' ORDER BY id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("active escalations: %w", err)
	}
	return ids, nil
}

// SeesEscalations reports whether actor sees escalations at all: the
// desk's staff, not account managers (they see the public side of cases).
func SeesEscalations(actor auth.Actor) bool {
	return actor.Can(auth.PermCaseRead) && !cases.PublicOnly(actor)
}

// CaseView is a case's escalation state: its level and its escalations,
// the active ones first.
type CaseView struct {
	Case        string        `json:"case"`
	Level       int           `json:"level"`
	LevelName   string        `json:"level_name"`
	Levels      []string      `json:"levels"` // the desk's ladder, L1 first
	Escalations []*Escalation `json:"escalations"`
}

// ForCase is the escalation state of a case actor may see.
func (s *Service) ForCase(ctx context.Context, actor auth.Actor, ref string) (*CaseView, error) {
	c, err := s.cases.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if !SeesEscalations(actor) {
		return nil, apperr.ErrNotFound // the public side of the case has none
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	levels := LevelsOf(cfg)
	v := &CaseView{Case: c.Number, Level: c.EscalationLevel, LevelName: LevelName(levels, c.EscalationLevel), Escalations: []*Escalation{}}
	for i := range levels {
		v.Levels = append(v.Levels, LevelName(levels, i+1))
	}
	rows, err := s.db.Query(ctx, "SELECT "+columns+" WHERE e.case_id = ? ORDER BY e.id DESC", c.ID)
	if err != nil {
		return nil, fmt.Errorf("case escalations: %w", err)
	}
	got, err := db.Collect(rows, func(r db.Scanner) (*Escalation, error) { return s.scan(r, cfg) })
	if err != nil {
		return nil, fmt.Errorf("case escalations: %w", err)
	}
	slices.SortStableFunc(got, func(a, b *Escalation) int {
		switch {
		case a.Active() && !b.Active():
			return -1
		case !a.Active() && b.Active():
			return 1
		}
		return 0
	})
	v.Escalations = append(v.Escalations, got...)
	return v, nil
}

// Filter selects escalations for GET /escalations.
type Filter struct {
	State  []State  // none: open and acknowledged
	Team   []string // the cases' teams
	Level  int      // at least this level (0: any)
	Mine   bool     // only those asking actor, or that actor acknowledged
	Cursor string
	Limit  int
}

// Page is one page of escalations, oldest first.
type Page struct {
	Escalations []*Escalation `json:"escalations"`
	NextCursor  string        `json:"next_cursor,omitempty"`
}

// sortName names the list's order in its cursors.
const sortName = "escalation_age"

// List lists the escalations of the cases actor may see that match f,
// oldest first.
func (s *Service) List(ctx context.Context, actor auth.Actor, f Filter) (*Page, error) {
	if !SeesEscalations(actor) {
		return nil, &apperr.Forbidden{Detail: "escalations are the desk's internal work; your role sees the public side of cases"}
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
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
	if cond, sargs := cases.Scope(actor); cond != "" {
		add(cond, sargs...)
	}
	states := f.State
	if len(states) == 0 {
		states = Active
	}
	var sts []any
	for _, st := range states {
		if !slices.Contains(States, st) {
			v.Add("state", "unknown state %q; one of open, acknowledged, closed (or active)", st)
		}
		sts = append(sts, string(st))
	}
	add("e.state IN ("+db.Placeholders(len(sts))+")", sts...)
	cfg.CheckTeams(v, "team", f.Team)
	if len(f.Team) > 0 {
		ts := make([]any, len(f.Team))
		for i, t := range f.Team {
			ts[i] = t
		}
		add("c.team IN ("+db.Placeholders(len(ts))+")", ts...)
	}
	if levels := LevelsOf(cfg); f.Level != 0 && (f.Level < 1 || f.Level > len(levels)) {
		v.Add("level", "must be a level from 1 to %d", len(levels))
	} else if f.Level > 0 {
		add("e.level >= ?", f.Level)
	}
	if f.Cursor != "" {
		after, err := cases.DecodeCursor(f.Cursor, sortName)
		if err != nil {
			v.Add("cursor", "is not a cursor from this list")
		} else {
			add("(e.created_at, e.id) > (?, ?)", after...)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	q := "SELECT " + columns + " WHERE " + strings.Join(where, " AND ") + " ORDER BY e.created_at, e.id LIMIT ?"
	limit := f.Limit
	if f.Mine {
		limit = 1000 // filtered below: the targets are a JSON list
	}
	rows, err := s.db.Query(ctx, q, append(args, limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("list escalations: %w", err)
	}
	got, err := db.Collect(rows, func(r db.Scanner) (*Escalation, error) { return s.scan(r, cfg) })
	if err != nil {
		return nil, fmt.Errorf("list escalations: %w", err)
	}
	if f.Mine {
		got = slices.DeleteFunc(got, func(e *Escalation) bool {
			return !slices.Contains(e.Targets, actor.Email) && (e.AckedBy == nil || *e.AckedBy != actor.Email)
		})
	}
	page := &Page{Escalations: append([]*Escalation{}, got...)}
	if len(page.Escalations) > f.Limit {
		page.Escalations = page.Escalations[:f.Limit]
		last := page.Escalations[f.Limit-1]
		page.NextCursor = cases.EncodeCursor(sortName, []any{last.CreatedAt, last.ID})
	}
	return page, nil
}

// Count counts the escalations waiting for an acknowledgement that ask actor
// (the nav's count).
func (s *Service) Count(ctx context.Context, actor auth.Actor) (int, error) {
	if !SeesEscalations(actor) || actor.Email == "" {
		return 0, nil
	}
	p, err := s.List(ctx, actor, Filter{State: []State{Open}, Mine: true, Limit: 200})
	if err != nil {
		return 0, err
	}
	return len(p.Escalations), nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("escalation: marshal %T: %v", v, err)) // only plain values reach here
	}
	return string(b)
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return db.T(t)
}

// NoSchedule is the OnCall of a desk without on-call schedules: every team
// has none, so on-call targets ask the whole team.
type NoSchedule struct{}

// OnCallAt answers "no schedule".
func (NoSchedule) OnCallAt(context.Context, string, time.Time) ([]string, error) { return nil, nil }
