package incidents

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
)

// RoleInput is the body of PUT /incidents/{ref}/roles/{role}.
type RoleInput struct {
	Email string `json:"email"`
	Note  string `json:"note"`
}

// AssignRole gives role to a person; a role held already is handed over
// (both holders are on the timeline).
func (s *Service) AssignRole(ctx context.Context, actor auth.Actor, ref, role string, in RoleInput) (*Incident, error) {
	cfg, id, err := s.target(ctx, actor, ref, "assign incident roles")
	if err != nil {
		return nil, err
	}
	v := &apperr.Invalid{}
	known := false
	for _, r := range RolesOf(cfg) {
		known = known || r.Key == role
	}
	if !known {
		keys := []string{}
		for _, r := range RolesOf(cfg) {
			keys = append(keys, r.Key)
		}
		v.Add("role", "unknown role %q; one of %s", role, strings.Join(keys, ", "))
	}
	var u auth.User
	if email := auth.NormaliseEmail(in.Email); email == "" {
		v.Add("email", "name the person who takes the role")
	} else if u, err = auth.UserByEmail(ctx, s.db, email); err != nil || !u.Active || !MayWrite(auth.ActorFor(u)) {
		v.Add("email", "no active agent, lead or admin %q", in.Email)
	}
	note := strings.TrimSpace(in.Note)
	if note != "" && len(note) > 1000 {
		v.Add("note", "at most 1000 characters")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	check := func(inc *Incident) error {
		switch {
		case inc.Status == Closed:
			return &apperr.Conflict{Detail: inc.Number + " is closed"}
		case inc.Holder(role) == u.Email:
			return &apperr.Conflict{Detail: fmt.Sprintf("%s holds %s already", u.Email, RoleName(cfg, role))}
		}
		return nil
	}
	return s.change(ctx, actor, cfg, id, change{check: check, action: "incident.role",
		write: func(ctx context.Context, tx *db.Tx, before *Incident, now time.Time) (*events.Incident, error) {
			if err := s.setRole(ctx, tx, cfg, actor, id, role, u, now); err != nil {
				return nil, err
			}
			if note == "" {
				return nil, nil
			}
			return nil, addEntry(ctx, tx, id, actor, now, "note", note, map[string]any{"role": role})
		}})
}

// setRole gives role to u in tx: the timeline entry (a hand-over names the
// previous holder) and the event.
func (s *Service) setRole(ctx context.Context, tx *db.Tx, cfg *desk.Config, actor auth.Actor, id int64, role string, u auth.User, now time.Time) error {
	var prev string
	err := tx.QueryRow(ctx, `SELECT u.email FROM incident_roles r JOIN users u ON u.id = r.user_id
		WHERE r.incident_id = ? AND r.role = ?`, id, role).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("incident role: %w", err)
	}
	if prev == u.Email {
		return nil
	}
	if prev == "" {
		_, err = tx.Exec(ctx, `INSERT INTO incident_roles (incident_id, role, user_id, assigned_at) VALUES (?, ?, ?, ?)`,
			id, role, u.ID, db.T(now))
	} else {
		_, err = tx.Exec(ctx, `UPDATE incident_roles SET user_id = ?, assigned_at = ? WHERE incident_id = ? AND role = ?`,
			u.ID, db.T(now), id, role)
	}
	if err != nil {
		return fmt.Errorf("set incident role: %w", err)
	}
	kind := "role_assigned"
	data := map[string]any{"role": role, "role_name": RoleName(cfg, role), "to": u.Email, "to_name": u.Name}
	if prev != "" {
		kind, data["from"] = "role_handed_over", prev
	}
	if err := addEntry(ctx, tx, id, actor, now, kind, "", data); err != nil {
		return err
	}
	if err := s.touch(ctx, tx, id, now); err != nil {
		return err
	}
	inc, err := s.byID(ctx, tx, cfg, id)
	if err != nil {
		return err
	}
	notify := []string{}
	if u.Email != actor.Email {
		notify = append(notify, u.Email)
	}
	return s.publish(ctx, tx, actor, events.IncidentRoleAssigned, inc,
		&events.Incident{Role: role, From: prev, To: u.Email, Notify: notify}, now)
}
