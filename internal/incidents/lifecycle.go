package incidents

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/input"
)

// TransitionInput is the body of POST /incidents/{ref}/transitions.
type TransitionInput struct {
	To     Status `json:"to"`
	Reason string `json:"reason"` // required to reopen a resolved incident
}

// Transition moves incident ref to another status. Monitoring sets the
// mitigated moment (if not set), resolved the resolved one; reopening a
// resolved incident clears resolved and needs a reason. Closing asks the
// close guards (the postmortem its severity requires).
func (s *Service) Transition(ctx context.Context, actor auth.Actor, ref string, in TransitionInput) (*Incident, error) {
	cfg, id, err := s.target(ctx, actor, ref, "change incidents")
	if err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(in.Reason)
	v := &apperr.Invalid{}
	if !in.To.Valid() {
		v.Add("to", "unknown status %q; one of investigating, identified, monitoring, resolved, closed", in.To)
	}
	input.Check(v, "reason", input.Reason, reason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	check := func(inc *Incident) error {
		if err := CheckTransition(inc.Status, in.To); err != nil {
			return &apperr.Conflict{Detail: inc.Number + ": " + err.Error()}
		}
		if Reopens(inc.Status, in.To) && reason == "" {
			return apperr.InvalidField("reason", "say why %s is reopened", inc.Number)
		}
		return nil
	}
	return s.change(ctx, actor, cfg, id, change{check: check, action: "incident.status", event: events.IncidentStatusChanged,
		write: func(ctx context.Context, tx *db.Tx, before *Incident, now time.Time) (*events.Incident, error) {
			if in.To == Closed {
				for _, g := range s.guards {
					if err := g(ctx, tx, before); err != nil {
						return nil, err
					}
				}
			}
			sets := []string{"status = ?", "updated_at = ?"}
			args := []any{string(in.To), db.T(now)}
			var moments []Moment
			switch {
			case in.To == Monitoring && before.Moments.Mitigated == nil:
				sets, args, moments = append(sets, "mitigated_at = ?"), append(args, db.T(now)), append(moments, Mitigated)
			case in.To == Resolved:
				sets, args = append(sets, "resolved_at = ?", "next_update_at = NULL"), append(args, db.T(now))
				moments = append(moments, MomentResolved)
				if before.Moments.Mitigated == nil {
					sets, args, moments = append(sets, "mitigated_at = ?"), append(args, db.T(now)), append(moments, Mitigated)
				}
			case in.To == Closed:
				sets, args = append(sets, "closed_at = ?", "next_update_at = NULL"), append(args, db.T(now))
			case Reopens(before.Status, in.To):
				sets = append(sets, "resolved_at = NULL")
				if c := SeverityOf(cfg, before.Severity).Cadence(); c > 0 {
					sets, args = append(sets, "next_update_at = ?"), append(args, db.T(now.Add(c)))
					s.timer.AfterCommit(tx, now.Add(c))
				}
			}
			if _, err := tx.Exec(ctx, "UPDATE incidents SET "+strings.Join(sets, ", ")+" WHERE id = ?", append(args, id)...); err != nil {
				return nil, fmt.Errorf("incident status: %w", err)
			}
			data := map[string]any{"from": before.Status, "to": in.To}
			if Reopens(before.Status, in.To) {
				data["reopened"] = true
			}
			if err := addEntry(ctx, tx, id, actor, now, "status", reason, data); err != nil {
				return nil, err
			}
			for _, m := range moments {
				if err := addEntry(ctx, tx, id, actor, now, "moment", "", map[string]any{"moment": m}); err != nil {
					return nil, err
				}
			}
			return &events.Incident{From: string(before.Status), To: string(in.To), Reason: reason}, nil
		}})
}

// SeverityInput is the body of POST /incidents/{ref}/severity.
type SeverityInput struct {
	Severity Severity `json:"severity"`
	Reason   string   `json:"reason"`
}

// SetSeverity changes the severity of an open incident, with a reason; the
// next update's deadline follows the new cadence, and a raise to a paging
// severity pages the commander team if nobody commands yet.
func (s *Service) SetSeverity(ctx context.Context, actor auth.Actor, ref string, in SeverityInput) (*Incident, error) {
	cfg, id, err := s.target(ctx, actor, ref, "change incidents")
	if err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(in.Reason)
	v := &apperr.Invalid{}
	if !in.Severity.Valid() {
		v.Add("severity", "unknown severity %q; one of SEV1, SEV2, SEV3, SEV4", in.Severity)
	}
	if reason == "" {
		v.Add("reason", "say why the severity changes")
	}
	input.Check(v, "reason", input.Reason, reason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	check := func(inc *Incident) error {
		switch {
		case !inc.Status.Active():
			return &apperr.Conflict{Detail: fmt.Sprintf("%s is %s: reopen it to change its severity", inc.Number, inc.Status)}
		case inc.Severity == in.Severity:
			return &apperr.Conflict{Detail: fmt.Sprintf("%s is %s already", inc.Number, in.Severity)}
		}
		return nil
	}
	def := SeverityOf(cfg, in.Severity)
	return s.change(ctx, actor, cfg, id, change{check: check, action: "incident.severity", event: events.IncidentSeverityChanged,
		write: func(ctx context.Context, tx *db.Tx, before *Incident, now time.Time) (*events.Incident, error) {
			var next any
			if c := def.Cadence(); c > 0 {
				from := before.CreatedAt
				if before.LastUpdateAt != nil {
					from = *before.LastUpdateAt
				}
				due := from.Add(c)
				if due.Before(now) {
					due = now
				}
				next = db.T(due)
				s.timer.AfterCommit(tx, due)
			}
			if _, err := tx.Exec(ctx, `UPDATE incidents SET severity = ?, next_update_at = ?, updated_at = ? WHERE id = ?`,
				string(in.Severity), next, db.T(now), id); err != nil {
				return nil, fmt.Errorf("incident severity: %w", err)
			}
			if err := addEntry(ctx, tx, id, actor, now, "severity", reason, map[string]any{"from": before.Severity, "to": in.Severity}); err != nil {
				return nil, err
			}
			cur, err := s.byID(ctx, tx, cfg, id)
			if err != nil {
				return nil, err
			}
			if team := SettingsOf(cfg).CommanderTeam; def.Page && team != "" && cur.Commander() == "" && cur.Paging == nil {
				if err := s.page(ctx, tx, cfg, cur, team, 0, nil, now); err != nil {
					return nil, err
				}
			}
			return &events.Incident{From: string(before.Severity), To: string(in.Severity), Reason: reason}, nil
		}})
}

// NoteInput is the body of POST /incidents/{ref}/timeline: a note, or a
// decision (marked as such on the timeline).
type NoteInput struct {
	Body     string     `json:"body"`
	Decision bool       `json:"decision"`
	At       *time.Time `json:"at"` // when it happened, if earlier than now
}

// AddNote adds a note or a decision to the timeline of incident ref.
func (s *Service) AddNote(ctx context.Context, actor auth.Actor, ref string, in NoteInput) (*Entry, error) {
	if err := mayWrite(actor, "write on incident timelines"); err != nil {
		return nil, err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	id, ok := ParseRef(ref)
	if !ok {
		return nil, apperr.ErrNotFound
	}
	body := strings.TrimSpace(in.Body)
	v := &apperr.Invalid{}
	input.Required(v, "body", input.Text, body)
	now := s.clock.Now()
	at := now
	if in.At != nil {
		if at = in.At.UTC(); at.After(now) {
			v.Add("at", "is in the future")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	inc, err := s.byID(ctx, s.db, cfg, id)
	if err != nil {
		return nil, err
	}
	if inc.Status == Closed {
		return nil, &apperr.Conflict{Detail: inc.Number + " is closed"}
	}
	kind := "note"
	if in.Decision {
		kind = "decision"
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := addEntry(ctx, tx, id, actor, at, kind, body, nil); err != nil {
			return err
		}
		return s.touch(ctx, tx, id, now)
	})
	if err != nil {
		return nil, err
	}
	return &Entry{Kind: kind, At: at, Actor: actor.Email, ActorName: actor.Name, Body: body, Decision: in.Decision, Data: map[string]any{}}, nil
}

// MomentInput is the body of PUT /incidents/{ref}/moments/{moment}: a
// correction of a key moment's time, with a reason.
type MomentInput struct {
	At     *time.Time `json:"at"` // null clears it (not for started and detected)
	Reason string     `json:"reason"`
}

// CorrectMoment corrects a key moment of incident ref to its real time:
// the timeline keeps the old and new instants and the reason, and the
// metrics follow.
func (s *Service) CorrectMoment(ctx context.Context, actor auth.Actor, ref string, m Moment, in MomentInput) (*Incident, error) {
	cfg, id, err := s.target(ctx, actor, ref, "correct incident moments")
	if err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(in.Reason)
	now := s.clock.Now()
	v := &apperr.Invalid{}
	if !m.Valid() {
		v.Add("moment", "unknown moment %q; one of started, detected, acknowledged, mitigated, resolved", m)
	}
	if reason == "" {
		v.Add("reason", "say why the moment is corrected")
	}
	input.Check(v, "reason", input.Reason, reason)
	var at *time.Time
	if in.At != nil {
		at = ptr(in.At.UTC())
		if at.After(now) {
			v.Add("at", "is in the future")
		}
	} else if m == Started || m == Detected {
		v.Add("at", "an incident always has a %s time", m)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	check := func(inc *Incident) error {
		if m == MomentResolved && inc.Status.Active() && at != nil {
			return &apperr.Conflict{Detail: inc.Number + " is not resolved: resolve it to set the resolved moment"}
		}
		km := inc.Moments
		km.Set(m, at)
		if bad, err := km.CheckOrder(); err != nil {
			return apperr.InvalidField("at", "%s (%s)", err.Error(), bad)
		}
		return nil
	}
	return s.change(ctx, actor, cfg, id, change{check: check, action: "incident.moment",
		write: func(ctx context.Context, tx *db.Tx, before *Incident, now time.Time) (*events.Incident, error) {
			var arg any
			if at != nil {
				arg = db.T(*at)
			}
			if _, err := tx.Exec(ctx, "UPDATE incidents SET "+momentColumn(m)+" = ?, updated_at = ? WHERE id = ?", arg, db.T(now), id); err != nil {
				return nil, fmt.Errorf("correct moment: %w", err)
			}
			data := map[string]any{"moment": m, "from": before.Moments.Get(m), "to": at}
			return nil, addEntry(ctx, tx, id, actor, now, "moment_corrected", reason, data)
		}})
}

func momentColumn(m Moment) string {
	switch m {
	case Started:
		return "started_at"
	case Detected:
		return "detected_at"
	case Acknowledged:
		return "acknowledged_at"
	case Mitigated:
		return "mitigated_at"
	}
	return "resolved_at"
}

// Entry is one entry on an incident's timeline.
type Entry struct {
	ID        int64          `json:"id"`
	Kind      string         `json:"kind"` // declared, status, severity, role_assigned, role_handed_over, note, decision, moment, moment_corrected, paged, acknowledged, update_posted, update_due, cases_linked, case_unlinked, cases_resolved
	At        time.Time      `json:"at"`
	Actor     string         `json:"actor,omitempty"` // email; empty: Flare
	ActorName string         `json:"actor_name,omitempty"`
	Body      string         `json:"body,omitempty"`
	Decision  bool           `json:"decision"`
	Data      map[string]any `json:"data"`
}

// Timeline is the timeline of incident ref, in the order things happened.
func (s *Service) Timeline(ctx context.Context, actor auth.Actor, ref string) ([]Entry, error) {
	inc, err := s.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	return s.timeline(ctx, s.db, inc.ID)
}

func (s *Service) timeline(ctx context.Context, q db.Querier, id int64) ([]Entry, error) {
	rows, err := q.Query(ctx, `SELECT t.id, t.kind, t.at, u.email, u.name, t.body, t.data FROM incident_timeline t
		LEFT JOIN users u ON u.id = t.actor_id WHERE t.incident_id = ? ORDER BY t.at, t.id`, id)
	if err != nil {
		return nil, fmt.Errorf("incident timeline: %w", err)
	}
	return db.Collect(rows, func(r db.Scanner) (Entry, error) {
		var e Entry
		var at db.Time
		var by, name sql.NullString
		var data string
		if err := r.Scan(&e.ID, &e.Kind, &at, &by, &name, &e.Body, &data); err != nil {
			return e, err
		}
		e.At, e.Actor, e.ActorName, e.Decision = at.Time, by.String, name.String, e.Kind == "decision"
		if err := json.Unmarshal([]byte(data), &e.Data); err != nil {
			return e, err
		}
		return e, nil
	})
}

// Subscribe subscribes actor to every update of incident ref (on false,
// unsubscribes).
func (s *Service) Subscribe(ctx context.Context, actor auth.Actor, ref string, on bool) error {
	inc, err := s.Get(ctx, actor, ref)
	if err != nil {
		return err
	}
	if actor.UserID == 0 {
		return &apperr.Forbidden{Detail: "only people subscribe"}
	}
	now := s.clock.Now()
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if on {
			_, err = tx.Exec(ctx, `INSERT INTO incident_subscribers (incident_id, user_id, created_at) VALUES (?, ?, ?)
				ON CONFLICT (incident_id, user_id) DO NOTHING`, inc.ID, actor.UserID, db.T(now))
		} else {
			_, err = tx.Exec(ctx, `DELETE FROM incident_subscribers WHERE incident_id = ? AND user_id = ?`, inc.ID, actor.UserID)
		}
		return err
	})
}

// Subscribed reports whether actor subscribed to incident id.
func (s *Service) Subscribed(ctx context.Context, actor auth.Actor, id int64) (bool, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM incident_subscribers WHERE incident_id = ? AND user_id = ?`, id, actor.UserID).Scan(&n)
	return n > 0, err
}

// Definitions are what the desk says about incidents, for the UI and API:
// the severities, the roles.
type Definitions struct {
	Types      []Type        `json:"types"`
	Severities []SeverityDef `json:"severities"`
	Roles      []RoleDef     `json:"roles"`
	Audiences  []Audience    `json:"audiences"`
}

// Definitions are the desk's incident definitions.
func (s *Service) Definitions(ctx context.Context) (*Definitions, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	return &Definitions{Types: Types, Severities: SeveritiesOf(cfg), Roles: RolesOf(cfg), Audiences: Audiences}, nil
}
