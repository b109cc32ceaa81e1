// Package views keeps saved views: a case list's filter and sort under a
// name, a person's own or shared with one of their teams, each shown with a
// live count of the cases it finds.
package views

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
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
	"github.com/flare-desk/flare/internal/input"
)

// Filter is what a view lists: GET /cases' filter and sort.
type Filter struct {
	Q        string   `json:"q,omitempty"`
	Status   []string `json:"status,omitempty"`
	Team     []string `json:"team,omitempty"`
	Market   []string `json:"market,omitempty"`
	Priority []string `json:"priority,omitempty"`
	Owner    string   `json:"owner,omitempty"`
	Category string   `json:"category,omitempty"`
	SellerID string   `json:"seller_id,omitempty"`
	Sort     string   `json:"sort,omitempty"`
}

// ListFilter is the case list's filter for f.
func (f Filter) ListFilter() cases.ListFilter {
	lf := cases.ListFilter{Q: f.Q, Team: f.Team, Priority: f.Priority, Owner: f.Owner, Category: f.Category,
		SellerID: f.SellerID, Sort: f.Sort}
	for _, m := range f.Market {
		lf.Market = append(lf.Market, strings.ToUpper(m))
	}
	for _, st := range f.Status {
		lf.Status = append(lf.Status, cases.Status(st))
	}
	return lf
}

// View is one saved view.
type View struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	SharedTeam string    `json:"shared_team,omitempty"` // "": the owner's own
	Owner      string    `json:"owner"`                 // the owner's email
	Filter     Filter    `json:"filter"`
	Count      *int      `json:"count,omitempty"` // the cases it finds now, up to cases.CountCap
	CountMore  bool      `json:"count_more,omitempty"`
	Mine       bool      `json:"mine"` // the viewer may change and delete it
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`

	ownerID int64
}

// Input is the body of POST /views and PUT /views/{id}.
type Input struct {
	Name       string `json:"name"`
	SharedTeam string `json:"shared_team"`
	Filter     Filter `json:"filter"`
}

// MaxViews bounds one person's own views.
const MaxViews = 50

// Service keeps saved views.
type Service struct {
	db    *db.DB
	cases *cases.Service
	clock clock.Clock
}

// New returns the saved views service.
func New(d *db.DB, cs *cases.Service, c clock.Clock) *Service {
	return &Service{db: d, cases: cs, clock: c}
}

// check validates in for a: the name, the team shared with (one of a's own,
// or any team for an admin) and the filter, by listing with it.
func (s *Service) check(ctx context.Context, a auth.Actor, in *Input) error {
	if !a.Can(auth.PermCaseRead) {
		return &apperr.Forbidden{Detail: "your role cannot read cases"}
	}
	v := &apperr.Invalid{}
	in.Name = strings.TrimSpace(in.Name)
	input.Required(v, "name", input.Name, in.Name)
	input.Check(v, "filter.q", input.Param, in.Filter.Q)
	if t := in.SharedTeam; t != "" && a.Role != auth.RoleAdmin && !slices.Contains(a.Teams, t) {
		v.Add("shared_team", "you can share a view only with a team you are in (%s)", strings.Join(a.Teams, ", "))
	}
	lf := in.Filter.ListFilter()
	lf.Limit = 1
	if _, err := s.cases.List(ctx, a, lf); err != nil {
		var inv *apperr.Invalid
		if !errors.As(err, &inv) {
			return err
		}
		for _, fe := range inv.Errors {
			v.Add("filter."+fe.Field, "%s", fe.Message)
		}
	}
	return v.Err()
}

const viewColumns = `v.id, v.name, v.shared_team, u.email, v.owner_id, v.filter, v.created_at, v.updated_at
	FROM saved_views v JOIN users u ON u.id = v.owner_id`

func scanView(r db.Scanner) (*View, error) {
	var v View
	var filter []byte
	var created, updated db.Time
	if err := r.Scan(&v.ID, &v.Name, &v.SharedTeam, &v.Owner, &v.ownerID, &filter, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(filter, &v.Filter); err != nil {
		return nil, fmt.Errorf("view %d: %w", v.ID, err)
	}
	v.CreatedAt, v.UpdatedAt = created.Time, updated.Time
	return &v, nil
}

// mine reports whether a may change v: its owner, or an admin.
func mine(a auth.Actor, v *View) bool { return v.ownerID == a.UserID || a.Role == auth.RoleAdmin }

// List returns the views a sees (their own, then those shared with their
// teams), by name, each with its live count.
func (s *Service) List(ctx context.Context, a auth.Actor) ([]*View, error) {
	if !a.Can(auth.PermCaseRead) {
		return nil, &apperr.Forbidden{Detail: "your role cannot read cases"}
	}
	q := "SELECT " + viewColumns + " WHERE v.owner_id = ?"
	args := []any{a.UserID}
	if len(a.Teams) > 0 {
		q += " OR v.shared_team IN (" + db.Placeholders(len(a.Teams)) + ")"
		for _, t := range a.Teams {
			args = append(args, t)
		}
	}
	q += " ORDER BY v.owner_id <> ?, v.name, v.id"
	args = append(args, a.UserID)
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list views: %w", err)
	}
	vs, err := db.Collect(rows, scanView)
	if err != nil {
		return nil, fmt.Errorf("list views: %w", err)
	}
	for _, v := range vs {
		v.Mine = mine(a, v)
		if err := s.count(ctx, a, v); err != nil {
			return nil, err
		}
	}
	return vs, nil
}

// count sets v's live count as a sees it; a filter that no longer holds
// (a team removed from the desk) counts nothing rather than failing the list.
func (s *Service) count(ctx context.Context, a auth.Actor, v *View) error {
	lf := v.Filter.ListFilter()
	lf.Limit, lf.Count, lf.CountOnly = 1, true, true
	p, err := s.cases.List(ctx, a, lf)
	var inv *apperr.Invalid
	switch {
	case errors.As(err, &inv):
		return nil
	case err != nil:
		return err
	}
	v.Count, v.CountMore = p.Total, p.TotalMore
	return nil
}

// Get returns view id, with its count, if a may see it.
func (s *Service) Get(ctx context.Context, a auth.Actor, id int64) (*View, error) {
	v, err := s.see(ctx, a, id)
	if err != nil {
		return nil, err
	}
	return v, s.count(ctx, a, v)
}

// see finds view id if a may see it: their own, shared with their team, or
// any for an admin.
func (s *Service) see(ctx context.Context, a auth.Actor, id int64) (*View, error) {
	if !a.Can(auth.PermCaseRead) {
		return nil, &apperr.Forbidden{Detail: "your role cannot read cases"}
	}
	v, err := s.load(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if v.ownerID != a.UserID && !(v.SharedTeam != "" && slices.Contains(a.Teams, v.SharedTeam)) && a.Role != auth.RoleAdmin {
		return nil, apperr.ErrNotFound
	}
	v.Mine = mine(a, v)
	return v, nil
}

func (s *Service) load(ctx context.Context, q db.Querier, id int64) (*View, error) {
	v, err := scanView(q.QueryRow(ctx, "SELECT "+viewColumns+" WHERE v.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("view %d: %w", id, err)
	}
	return v, nil
}

// Create saves a new view owned by a.
func (s *Service) Create(ctx context.Context, a auth.Actor, in Input) (*View, error) {
	if err := s.check(ctx, a, &in); err != nil {
		return nil, err
	}
	filter, err := json.Marshal(in.Filter)
	if err != nil {
		return nil, err
	}
	now := db.T(s.clock.Now())
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM saved_views WHERE owner_id = ?`, a.UserID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxViews {
			return &apperr.Conflict{Detail: fmt.Sprintf("you have %d saved views, the most there may be: delete one first", n)}
		}
		if err := tx.QueryRow(ctx, `INSERT INTO saved_views (owner_id, shared_team, name, filter, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, a.UserID, in.SharedTeam, in.Name, string(filter), now, now).Scan(&id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "view.create", id, nil, &in)
	})
	if err != nil {
		return nil, fmt.Errorf("create view: %w", err)
	}
	return s.Get(ctx, a, id)
}

// Update replaces view id's name, sharing and filter; only its owner (or an
// admin) may.
func (s *Service) Update(ctx context.Context, a auth.Actor, id int64, in Input) (*View, error) {
	old, err := s.mayChange(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if err := s.check(ctx, a, &in); err != nil {
		return nil, err
	}
	filter, err := json.Marshal(in.Filter)
	if err != nil {
		return nil, err
	}
	now := db.T(s.clock.Now())
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE saved_views SET name = ?, shared_team = ?, filter = ?, updated_at = ? WHERE id = ?`,
			in.Name, in.SharedTeam, string(filter), now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.ErrNotFound // deleted meanwhile
		}
		return s.audit(ctx, tx, a, "view.update", id, old, &in)
	})
	if err != nil {
		return nil, fmt.Errorf("update view: %w", err)
	}
	return s.Get(ctx, a, id)
}

// Delete removes view id; only its owner (or an admin) may.
func (s *Service) Delete(ctx context.Context, a auth.Actor, id int64) error {
	old, err := s.mayChange(ctx, a, id)
	if err != nil {
		return err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM saved_views WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.ErrNotFound // deleted meanwhile
		}
		return s.audit(ctx, tx, a, "view.delete", id, old, nil)
	})
	if err != nil {
		return fmt.Errorf("delete view: %w", err)
	}
	return nil
}

// snapshot is a view as its audit record keeps it.
type snapshot struct {
	Name       string `json:"name"`
	SharedTeam string `json:"shared_team"`
	Owner      string `json:"owner,omitempty"`
	Filter     Filter `json:"filter"`
}

// audit records a change of view id, before → after (nil when absent), in
// the change's transaction.
func (s *Service) audit(ctx context.Context, tx *db.Tx, a auth.Actor, action string, id int64, before *View, after *Input) error {
	e := audit.Entry{ActorID: a.UserID, Actor: audit.ActorName(a), Action: action, ObjectType: "saved_view",
		ObjectID: strconv.FormatInt(id, 10)}
	if before != nil {
		e.Before = snapshot{Name: before.Name, SharedTeam: before.SharedTeam, Owner: before.Owner, Filter: before.Filter}
	}
	if after != nil {
		owner := a.Email
		if before != nil {
			owner = before.Owner // an admin's edit keeps the owner
		}
		e.After = snapshot{Name: after.Name, SharedTeam: after.SharedTeam, Owner: owner, Filter: after.Filter}
	}
	return audit.Append(ctx, tx, s.clock.Now(), e)
}

// mayChange finds view id for a change by a: not found when a cannot see
// it, forbidden when a sees it (shared with their team) but does not own it.
func (s *Service) mayChange(ctx context.Context, a auth.Actor, id int64) (*View, error) {
	v, err := s.see(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if !v.Mine {
		return nil, &apperr.Forbidden{Detail: fmt.Sprintf("%q is %s's view, shared with %s: only they can change it", v.Name, v.Owner, v.SharedTeam)}
	}
	return v, nil
}
