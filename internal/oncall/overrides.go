package oncall

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/input"
	"github.com/flare-desk/flare/internal/oncall/rota"
)

// Override is a person covering a team's on-call for a span: one made in
// the API or UI (Source "api", with an id) or a standing one of the desk
// document (Source "desk", Ref "desk:N").
type Override struct {
	ID          int64      `json:"id,omitempty"`
	Ref         string     `json:"ref"` // what shifts name it by: the id, or desk:N
	Source      string     `json:"source"`
	Team        string     `json:"team"`
	Person      string     `json:"person"`
	PersonName  string     `json:"person_name"`
	From        time.Time  `json:"from"`
	To          time.Time  `json:"to"`
	Reason      string     `json:"reason"`
	CreatedBy   *string    `json:"created_by"`
	CreatedAt   *time.Time `json:"created_at"`
	CancelledBy *string    `json:"cancelled_by,omitempty"`
	CancelledAt *time.Time `json:"cancelled_at,omitempty"`
	// Inactive: the person has left the desk; the override no longer applies.
	Inactive bool `json:"inactive,omitempty"`
}

// OverrideInput is the body of POST /oncall/{team}/overrides.
type OverrideInput struct {
	Person string `json:"person"` // email of who covers
	From   string `json:"from"`   // RFC 3339; a time already past starts now
	To     string `json:"to"`     // RFC 3339, in the future
	Reason string `json:"reason"`
}

// Within runs extra writes in the transaction that adds an override, such
// as storing an idempotent response.
type Within func(tx *db.Tx, o *Override) error

// maxAhead is how far ahead an override may start.
const maxAhead = 366 * 24 * time.Hour

// AddOverride makes person cover team's on-call from From to To. Leads
// and admins add overrides. Overlapping overrides are allowed: the later
// one wins where they overlap. An override never rewrites the past: a
// From already past starts it now.
func (s *Service) AddOverride(ctx context.Context, actor auth.Actor, team string, in OverrideInput, within Within) (*Override, error) {
	if !MayManage(actor) {
		return nil, forbiddenManage()
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	if _, ok := cfg.Team(team); !ok {
		return nil, apperr.ErrNotFound
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	v := &apperr.Invalid{}
	person := strings.ToLower(strings.TrimSpace(in.Person))
	input.Required(v, "person", input.Email, person)
	reason := strings.TrimSpace(in.Reason)
	input.Check(v, "reason", input.Reason, reason)
	from, err1 := time.Parse(time.RFC3339, strings.TrimSpace(in.From))
	if err1 != nil {
		v.Add("from", "must be an RFC 3339 instant such as 2026-12-24T18:00:00Z")
	}
	to, err2 := time.Parse(time.RFC3339, strings.TrimSpace(in.To))
	if err2 != nil {
		v.Add("to", "must be an RFC 3339 instant such as 2026-12-27T09:00:00Z")
	}
	if err1 == nil && err2 == nil {
		from, to = from.UTC().Truncate(time.Microsecond), to.UTC().Truncate(time.Microsecond)
		if from.Before(now) {
			from = now
		}
		switch {
		case !to.After(now):
			v.Add("to", "must be in the future: an override never rewrites the past")
		case from.Sub(now) > maxAhead:
			v.Add("from", "must be within %d days", int(maxAhead/(24*time.Hour)))
		default:
			if msg := rota.CheckSpan(from, to); msg != "" {
				v.Add("to", "%s", msg)
			}
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	u, err := auth.UserByEmail(ctx, s.db, person)
	switch {
	case errors.Is(err, auth.ErrNotFound) || (err == nil && !u.Active):
		return nil, apperr.InvalidField("person", "no active user %s", person)
	case err != nil:
		return nil, err
	case !slices.Contains(onCallRoles, u.Role):
		return nil, apperr.InvalidField("person", "%s is %s: only admins, leads and agents can be on call", person, u.Role)
	}
	var out *Override
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var id int64
		err = tx.QueryRow(ctx, `INSERT INTO oncall_overrides (team, user_id, starts_at, ends_at, reason, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, team, u.ID, db.T(from), db.T(to), reason, db.NullID(actor.UserID),
			db.T(now)).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert override: %w", err)
		}
		if out, err = overrideByID(ctx, tx, id); err != nil {
			return err
		}
		if err := auditOverride(ctx, tx, actor, "oncall.override.create", out, nil, now); err != nil {
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

// EndOverride withdraws override id of team: one yet to start is
// cancelled (it never applied); one under way ends now; one already over
// stays as it was (409): the past is kept.
func (s *Service) EndOverride(ctx context.Context, actor auth.Actor, team string, id int64) (*Override, error) {
	if !MayManage(actor) {
		return nil, forbiddenManage()
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	var out *Override
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		before, err := overrideByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if before.Team != team {
			return apperr.ErrNotFound
		}
		action := "oncall.override.cancel"
		switch {
		case before.CancelledAt != nil:
			return &apperr.Conflict{Detail: fmt.Sprintf("override %d was cancelled already", id)}
		case !before.To.After(now):
			return &apperr.Conflict{Detail: fmt.Sprintf("override %d is over: the past is kept", id)}
		case before.From.After(now):
			_, err = tx.Exec(ctx, `UPDATE oncall_overrides SET cancelled_at = ?, cancelled_by = ? WHERE id = ?`,
				db.T(now), db.NullID(actor.UserID), id)
		default:
			action = "oncall.override.end"
			_, err = tx.Exec(ctx, `UPDATE oncall_overrides SET ends_at = ? WHERE id = ?`, db.T(now), id)
		}
		if err != nil {
			return fmt.Errorf("end override %d: %w", id, err)
		}
		if out, err = overrideByID(ctx, tx, id); err != nil {
			return err
		}
		return auditOverride(ctx, tx, actor, action, out, before, now)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Overrides lists team's overrides that overlap [from, to) (zero from: now;
// zero to: 92 days after from), standing ones first, then by start.
func (s *Service) Overrides(ctx context.Context, actor auth.Actor, team string, from, to time.Time) ([]Override, error) {
	if !MaySee(actor) {
		return nil, forbiddenSee()
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	if _, ok := cfg.Team(team); !ok {
		return nil, apperr.ErrNotFound
	}
	if from.IsZero() {
		from = s.clock.Now()
	}
	if to.IsZero() {
		to = from.Add(MaxShiftsRange)
	}
	if !to.After(from) {
		return nil, apperr.InvalidField("to", "must be after from")
	}
	out := []Override{}
	spec, plan, _ := scheduleOf(cfg, team)
	if plan != nil {
		var emails []string
		for _, o := range spec.Overrides {
			emails = append(emails, o.Person)
		}
		names, err := s.names(ctx, emails)
		if err != nil {
			return nil, err
		}
		for _, c := range plan.Standing() {
			if c.From.Before(to) && c.To.After(from) {
				out = append(out, Override{Ref: c.ID, Source: "desk", Team: team, Person: c.Person,
					PersonName: nameOr(names, c.Person), From: c.From, To: c.To, Reason: c.Reason})
			}
		}
	}
	rows, err := s.db.Query(ctx, "SELECT "+overrideColumns+` WHERE o.team = ? AND o.cancelled_at IS NULL
		AND o.ends_at > ? AND o.starts_at < ? ORDER BY o.starts_at, o.id`, team, db.T(from), db.T(to))
	if err != nil {
		return nil, fmt.Errorf("list overrides: %w", err)
	}
	got, err := db.Collect(rows, scanOverride)
	if err != nil {
		return nil, fmt.Errorf("list overrides: %w", err)
	}
	for _, o := range got {
		out = append(out, *o)
	}
	return out, nil
}

// covers are the overrides of team that apply over [from, to), in the
// order they were made (later ones win): not cancelled, of active people.
func (s *Service) covers(ctx context.Context, q db.Querier, team string, from, to time.Time) ([]rota.Cover, error) {
	rows, err := q.Query(ctx, `SELECT o.id, u.email, o.starts_at, o.ends_at, o.reason FROM oncall_overrides o
		JOIN users u ON u.id = o.user_id
		WHERE o.team = ? AND o.cancelled_at IS NULL AND o.ends_at > ? AND o.starts_at < ? AND u.active = TRUE
		ORDER BY o.id`, team, db.T(from), db.T(to))
	if err != nil {
		return nil, fmt.Errorf("team %s overrides: %w", team, err)
	}
	return db.Collect(rows, func(r db.Scanner) (rota.Cover, error) {
		var c rota.Cover
		var id int64
		var a, b db.Time
		if err := r.Scan(&id, &c.Person, &a, &b, &c.Reason); err != nil {
			return c, err
		}
		c.ID, c.From, c.To = strconv.FormatInt(id, 10), a.Time, b.Time
		return c, nil
	})
}

const overrideColumns = `o.id, o.team, u.email, u.name, u.active, o.starts_at, o.ends_at, o.reason,
	cu.email, o.created_at, xu.email, o.cancelled_at
	FROM oncall_overrides o JOIN users u ON u.id = o.user_id
	LEFT JOIN users cu ON cu.id = o.created_by
	LEFT JOIN users xu ON xu.id = o.cancelled_by`

func scanOverride(r db.Scanner) (*Override, error) {
	var o Override
	var active bool
	var from, to, created, cancelled db.Time
	var createdBy, cancelledBy sql.NullString
	if err := r.Scan(&o.ID, &o.Team, &o.Person, &o.PersonName, &active, &from, &to, &o.Reason,
		&createdBy, &created, &cancelledBy, &cancelled); err != nil {
		return nil, err
	}
	o.Ref, o.Source, o.Inactive = strconv.FormatInt(o.ID, 10), "api", !active
	o.From, o.To, o.CreatedAt, o.CancelledAt = from.Time, to.Time, created.Ptr(), cancelled.Ptr()
	if createdBy.Valid {
		o.CreatedBy = &createdBy.String
	}
	if cancelledBy.Valid {
		o.CancelledBy = &cancelledBy.String
	}
	return &o, nil
}

func overrideByID(ctx context.Context, q db.Querier, id int64) (*Override, error) {
	o, err := scanOverride(q.QueryRow(ctx, "SELECT "+overrideColumns+" WHERE o.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load override %d: %w", id, err)
	}
	return o, nil
}

func auditOverride(ctx context.Context, tx *db.Tx, actor auth.Actor, action string, after, before *Override, now time.Time) error {
	e := audit.Entry{ActorID: actor.UserID, Actor: actorName(actor), Action: action, ObjectType: "oncall_override",
		ObjectID: strconv.FormatInt(after.ID, 10), After: overrideSnapshot(after)}
	if before != nil {
		e.Before = overrideSnapshot(before)
	}
	return audit.Append(ctx, tx, now, e)
}

func overrideSnapshot(o *Override) map[string]any {
	return map[string]any{"team": o.Team, "person": o.Person, "from": o.From, "to": o.To, "reason": o.Reason,
		"cancelled_at": o.CancelledAt}
}

func actorName(a auth.Actor) string {
	if a.Email != "" {
		return a.Email
	}
	return a.Name
}

// Person is someone who can be on call.
type Person struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

// People lists who can be on call (active admins, leads and agents), by
// name: the choices of the override form.
func (s *Service) People(ctx context.Context, actor auth.Actor) ([]Person, error) {
	if !MayManage(actor) {
		return nil, forbiddenManage()
	}
	rows, err := s.db.Query(ctx, `SELECT email, name FROM users WHERE active = TRUE AND role IN (?, ?, ?) ORDER BY name, email`,
		string(auth.RoleAdmin), string(auth.RoleLead), string(auth.RoleAgent))
	if err != nil {
		return nil, fmt.Errorf("on-call people: %w", err)
	}
	return db.Collect(rows, func(r db.Scanner) (Person, error) {
		var p Person
		return p, r.Scan(&p.Email, &p.Name)
	})
}
