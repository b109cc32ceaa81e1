package postmortems

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
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/input"
)

// Status is where an action item is.
type Status string

// The statuses; Open and InProgress are active (reminded, can be overdue).
const (
	Open       Status = "open"
	InProgress Status = "in_progress"
	Done       Status = "done"
	WontDo     Status = "wont_do"
)

// Statuses lists every status.
var Statuses = []Status{Open, InProgress, Done, WontDo}

// Active reports whether the item still needs doing.
func (s Status) Active() bool { return s == Open || s == InProgress }

// Valid reports whether s is a status.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// ActionItem is one follow-up of an incident.
type ActionItem struct {
	ID                int64      `json:"id"`
	Incident          string     `json:"incident"` // INC-7
	IncidentID        int64      `json:"incident_id"`
	Title             string     `json:"title"`
	Owner             string     `json:"owner"` // email
	OwnerName         string     `json:"owner_name"`
	Team              string     `json:"team"`
	DueDate           string     `json:"due_date"` // YYYY-MM-DD
	DueAt             time.Time  `json:"due_at"`   // the end of the due date in the owner's time zone
	Status            Status     `json:"status"`
	Overdue           bool       `json:"overdue"`   // active and past due_at
	RemindAt          *time.Time `json:"remind_at"` // the next reminder to the owner; null: none left
	RemindedSoonAt    *time.Time `json:"reminded_soon_at"`
	RemindedOverdueAt *time.Time `json:"reminded_overdue_at"`
	CreatedBy         *string    `json:"created_by"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
	FinishedAt        *time.Time `json:"finished_at"` // done or won't do
}

// ItemInput is the body of POST /incidents/{ref}/action-items.
type ItemInput struct {
	Title   string `json:"title"`
	Owner   string `json:"owner"`    // email of an active user
	Team    string `json:"team"`     // "": the owner's first team
	DueDate string `json:"due_date"` // YYYY-MM-DD, today or later
}

// ItemPatch is the body of PATCH /action-items/{id}: the fields to change.
type ItemPatch struct {
	Title   *string `json:"title"`
	Owner   *string `json:"owner"`
	Team    *string `json:"team"`
	DueDate *string `json:"due_date"`
	Status  *Status `json:"status"`
}

// ItemWithin runs extra writes in the transaction that creates an action
// item, such as storing an idempotent response.
type ItemWithin func(tx *db.Tx, it *ActionItem) error

// DueAt is the end of date (YYYY-MM-DD) in zone: the next midnight there.
func DueAt(date string, zone *time.Location) (time.Time, error) {
	if zone == nil {
		zone = time.UTC
	}
	d, err := time.ParseInLocation(time.DateOnly, date, zone)
	if err != nil {
		return time.Time{}, err
	}
	return d.AddDate(0, 0, 1).UTC(), nil
}

// NextReminder is when an item due at due is next reminded, seen at now:
// remindBefore ahead of due while that is still to come and has not been
// sent, else at due until the overdue reminder has gone; zero when none
// is left. An item made or moved inside the window gets no "due soon"
// (its owner has just been told the date).
func NextReminder(due time.Time, remindBefore time.Duration, soonSent, overdueSent bool, now time.Time) time.Time {
	if soon := due.Add(-remindBefore); !soonSent && soon.After(now) {
		return soon
	}
	if !overdueSent {
		return due
	}
	return time.Time{}
}

// ownerZone is the time zone of a person's desk profile (UTC without one).
func ownerZone(cfg *desk.Config, email string) *time.Location {
	if tz := cfg.Profiles[email].Timezone; tz != "" {
		if loc, err := time.LoadLocation(tz); err == nil {
			return loc
		}
	}
	return time.UTC
}

// checkedItem is an action item's validated fields.
type checkedItem struct {
	title   string
	owner   auth.User
	team    string
	dueDate string
	dueAt   time.Time
}

// owner reads and checks the person named to own an item.
func (s *Service) owner(ctx context.Context, v *apperr.Invalid, field, email string) (auth.User, bool) {
	email = strings.ToLower(strings.TrimSpace(email))
	if !input.Required(v, field, input.Email, email) {
		return auth.User{}, false
	}
	u, err := auth.UserByEmail(ctx, s.db, email)
	switch {
	case err != nil || !u.Active:
		v.Add(field, "no active user %s", email)
		return auth.User{}, false
	case u.Role == auth.RoleAccountManager:
		v.Add(field, "%s is an account manager: action items are owned by the desk's people", email)
		return auth.User{}, false
	}
	return u, true
}

// dueDate checks a due date for owner u: a date, today or later where
// they are.
func dueDate(v *apperr.Invalid, cfg *desk.Config, u auth.User, date string, now time.Time) (time.Time, bool) {
	date = strings.TrimSpace(date)
	if date == "" {
		v.Add("due_date", "is required: the date it is due, such as %s", now.AddDate(0, 0, 14).Format(time.DateOnly))
		return time.Time{}, false
	}
	zone := ownerZone(cfg, u.Email)
	at, err := DueAt(date, zone)
	switch {
	case err != nil:
		v.Add("due_date", "must be a date such as %s", now.AddDate(0, 0, 14).Format(time.DateOnly))
		return time.Time{}, false
	case !at.After(now):
		v.Add("due_date", "is in the past for %s (%s)", u.Email, zone)
		return time.Time{}, false
	case at.Sub(now) > 3*366*24*time.Hour:
		v.Add("due_date", "must be within three years")
		return time.Time{}, false
	}
	return at, true
}

// teamOf is team, or the owner's first team when team is empty.
func teamOf(v *apperr.Invalid, cfg *desk.Config, team string, u auth.User) string {
	team = strings.TrimSpace(team)
	if team == "" && len(u.Teams) > 0 {
		team = u.Teams[0]
	}
	if team == "" {
		v.Add("team", "is required: %s is in no team", u.Email)
	} else if _, ok := cfg.Team(team); !ok && input.Check(v, "team", input.Key, team) {
		v.Add("team", "no team %q", team)
	}
	return team
}

// CreateItem adds an action item to the incident ref.
func (s *Service) CreateItem(ctx context.Context, actor auth.Actor, ref string, in ItemInput, within ItemWithin) (*ActionItem, error) {
	if !MayWrite(actor) {
		return nil, forbiddenWrite()
	}
	inc, err := s.incident(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	v := &apperr.Invalid{}
	var c checkedItem
	c.title = strings.TrimSpace(in.Title)
	input.Required(v, "title", input.Title, c.title)
	u, ok := s.owner(ctx, v, "owner", in.Owner)
	if ok {
		c.owner = u
		c.team = teamOf(v, cfg, in.Team, u)
		c.dueAt, _ = dueDate(v, cfg, u, in.DueDate, now)
		c.dueDate = strings.TrimSpace(in.DueDate)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	before := SettingsOf(cfg).remindBefore()
	var out *ActionItem
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		remind := NextReminder(c.dueAt, before, false, false, now)
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO action_items (incident_id, incident, title, owner_id, team, due_date, due_at,
			status, remind_at, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			inc.ID, inc.Number, c.title, c.owner.ID, c.team, c.dueDate, db.T(c.dueAt), string(Open), db.T(remind),
			db.NullID(actor.UserID), db.T(now), db.T(now)).Scan(&id); err != nil {
			return fmt.Errorf("insert action item: %w", err)
		}
		it, err := itemByID(ctx, tx, id, now)
		if err != nil {
			return err
		}
		if err := appendAudit(ctx, tx, actor, "action_item.create", "action_item", strconv.FormatInt(id, 10), itemSnapshot(it), nil, now); err != nil {
			return err
		}
		if err := s.publish(ctx, tx, actor, events.ActionItemAssigned, itemEvent(it, nil), now); err != nil {
			return err
		}
		s.timer.AfterCommit(tx, remind)
		out = it
		if within != nil {
			return within(tx, it)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateItem changes action item id. Writers change anything; its owner
// may always move its status.
func (s *Service) UpdateItem(ctx context.Context, actor auth.Actor, id int64, p ItemPatch) (*ActionItem, error) {
	if !MayRead(actor) {
		return nil, forbiddenRead()
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	cur, err := itemByID(ctx, s.db, id, now)
	if err != nil {
		return nil, err
	}
	if _, err := s.incident(ctx, actor, strconv.FormatInt(cur.IncidentID, 10)); err != nil {
		return nil, err
	}
	statusOnly := p.Title == nil && p.Owner == nil && p.Team == nil && p.DueDate == nil
	if !MayWrite(actor) && !(statusOnly && strings.EqualFold(actor.Email, cur.Owner)) {
		return nil, &apperr.Forbidden{Detail: "your role cannot change action items; their owner can change their status"}
	}
	v := &apperr.Invalid{}
	next := checkedItem{title: cur.Title, team: cur.Team, dueDate: cur.DueDate, dueAt: cur.DueAt}
	if p.Title != nil {
		next.title = strings.TrimSpace(*p.Title)
		input.Required(v, "title", input.Title, next.title)
	}
	ownerID := int64(0)
	if p.Owner != nil && !strings.EqualFold(strings.TrimSpace(*p.Owner), cur.Owner) {
		if u, ok := s.owner(ctx, v, "owner", *p.Owner); ok {
			next.owner, ownerID = u, u.ID
		}
	} else {
		u, err := auth.UserByEmail(ctx, s.db, cur.Owner)
		if err != nil {
			return nil, err
		}
		next.owner = u
	}
	if p.Team != nil {
		next.team = teamOf(v, cfg, *p.Team, next.owner)
	}
	if p.DueDate != nil && strings.TrimSpace(*p.DueDate) != cur.DueDate {
		next.dueDate = strings.TrimSpace(*p.DueDate)
		next.dueAt, _ = dueDate(v, cfg, next.owner, next.dueDate, now)
	}
	status := cur.Status
	if p.Status != nil {
		if !p.Status.Valid() {
			v.Add("status", "must be one of open, in_progress, done, wont_do")
		}
		status = *p.Status
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var changes []events.FieldChange
	change := func(field string, old, new any) {
		if old != new {
			changes = append(changes, events.FieldChange{Field: field, Old: old, New: new})
		}
	}
	change("title", cur.Title, next.title)
	change("owner", cur.Owner, next.owner.Email)
	change("team", cur.Team, next.team)
	change("due_date", cur.DueDate, next.dueDate)
	change("status", string(cur.Status), string(status))
	if len(changes) == 0 {
		return cur, nil
	}
	before := SettingsOf(cfg).remindBefore()
	var out *ActionItem
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		// Read again in the transaction: the reminders' state may have moved.
		prev, err := itemByID(ctx, tx, id, now)
		if err != nil {
			return err
		}
		soon, overdue := prev.RemindedSoonAt, prev.RemindedOverdueAt
		if next.dueDate != prev.DueDate || ownerID != 0 {
			soon, overdue = nil, nil // a new date or a new owner: reminders anew
		}
		var remind time.Time
		finished := prev.FinishedAt
		switch {
		case status.Active():
			remind, finished = NextReminder(next.dueAt, before, soon != nil, overdue != nil, now), nil
		case prev.Status.Active():
			finished = &now
		}
		if _, err := tx.Exec(ctx, `UPDATE action_items SET title = ?, owner_id = ?, team = ?, due_date = ?, due_at = ?, status = ?,
			remind_at = ?, reminded_soon_at = ?, reminded_overdue_at = ?, finished_at = ?, updated_at = ? WHERE id = ?`,
			next.title, next.owner.ID, next.team, next.dueDate, db.T(next.dueAt), string(status), db.T(remind),
			timePtr(soon), timePtr(overdue), timePtr(finished), db.T(now), id); err != nil {
			return fmt.Errorf("update action item %d: %w", id, err)
		}
		it, err := itemByID(ctx, tx, id, now)
		if err != nil {
			return err
		}
		if err := appendAudit(ctx, tx, actor, "action_item.update", "action_item", strconv.FormatInt(id, 10), itemSnapshot(it), itemSnapshot(prev), now); err != nil {
			return err
		}
		if ownerID != 0 {
			if err := s.publish(ctx, tx, actor, events.ActionItemAssigned, itemEvent(it, prev), now); err != nil {
				return err
			}
		}
		ev := itemEvent(it, nil)
		ev.Changes = changes
		if err := s.publish(ctx, tx, actor, events.ActionItemChanged, ev, now); err != nil {
			return err
		}
		s.timer.AfterCommit(tx, remind)
		out = it
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Item is action item id as actor may see it.
func (s *Service) Item(ctx context.Context, actor auth.Actor, id int64) (*ActionItem, error) {
	if !MayRead(actor) {
		return nil, forbiddenRead()
	}
	it, err := itemByID(ctx, s.db, id, s.clock.Now())
	if err != nil {
		return nil, err
	}
	if _, err := s.incident(ctx, actor, strconv.FormatInt(it.IncidentID, 10)); err != nil {
		return nil, err
	}
	return it, nil
}

// The states a list filters on.
const (
	StateActive  = "open"    // open or in progress (the default)
	StateOverdue = "overdue" // open or in progress, past the due date
	StateDone    = "done"    // done or won't do
	StateAll     = "all"
)

// ListStates lists the list filter's states.
var ListStates = []string{StateActive, StateOverdue, StateDone, StateAll}

// Filter selects action items.
type Filter struct {
	Team       string // "": every team
	Owner      string // email; "": anyone's
	IncidentID int64  // 0: every incident's
	State      string // StateActive when empty
	// FinishedSince keeps only items finished at or after it (with
	// StateDone or StateAll): "done this week" for a review pack.
	FinishedSince time.Time
	Limit         int // default and at most MaxItems
}

// MaxItems bounds one list.
const MaxItems = 500

// ListItems lists action items for actor: soonest due first.
func (s *Service) ListItems(ctx context.Context, actor auth.Actor, f Filter) ([]ActionItem, error) {
	if !MayRead(actor) {
		return nil, forbiddenRead()
	}
	v := &apperr.Invalid{}
	if f.State != "" && !slices.Contains(ListStates, f.State) {
		v.Add("state", "must be one of %s", strings.Join(ListStates, ", "))
	}
	if f.Team != "" {
		cfg, err := s.desk.Config(ctx)
		if err != nil {
			return nil, err
		}
		if _, ok := cfg.Team(f.Team); !ok && input.Check(v, "team", input.Key, f.Team) {
			v.Add("team", "no team %q", f.Team)
		}
	}
	if f.Owner != "" {
		input.Check(v, "owner", input.Email, f.Owner)
	}
	if f.Limit < 0 || f.Limit > MaxItems {
		v.Add("limit", "must be 1 to %d", MaxItems)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.Query(ctx, f)
}

// IncidentItems lists the incident ref's action items in state (every
// one when empty), soonest due first.
func (s *Service) IncidentItems(ctx context.Context, actor auth.Actor, ref, state string) ([]ActionItem, error) {
	if !MayRead(actor) {
		return nil, forbiddenRead()
	}
	if state == "" {
		state = StateAll
	}
	if !slices.Contains(ListStates, state) {
		return nil, apperr.InvalidField("state", "must be one of %s", strings.Join(ListStates, ", "))
	}
	inc, err := s.incident(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	return s.Query(ctx, Filter{IncidentID: inc.ID, State: state})
}

// Query lists the action items f selects, soonest due first, without a
// permission check: the exported query for in-process readers such as
// the review packs, which decide who reads them.
func (s *Service) Query(ctx context.Context, f Filter) ([]ActionItem, error) {
	now := s.clock.Now()
	var conds []string
	var args []any
	if f.Team != "" {
		conds, args = append(conds, "a.team = ?"), append(args, f.Team)
	}
	if f.Owner != "" {
		conds, args = append(conds, "u.email = ?"), append(args, strings.ToLower(strings.TrimSpace(f.Owner)))
	}
	if f.IncidentID != 0 {
		conds, args = append(conds, "a.incident_id = ?"), append(args, f.IncidentID)
	}
	active := "a.status IN ('open', 'in_progress')"
	switch f.State {
	case "", StateActive:
		conds = append(conds, active)
	case StateOverdue:
		conds, args = append(conds, active, "a.due_at <= ?"), append(args, db.T(now))
	case StateDone:
		conds = append(conds, "a.status IN ('done', 'wont_do')")
	}
	if !f.FinishedSince.IsZero() {
		conds, args = append(conds, "a.finished_at >= ?"), append(args, db.T(f.FinishedSince))
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > MaxItems {
		limit = MaxItems
	}
	rows, err := s.db.Query(ctx, "SELECT "+itemColumns+where+" ORDER BY a.due_at, a.id LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list action items: %w", err)
	}
	items, err := db.Collect(rows, func(r db.Scanner) (ActionItem, error) {
		it, err := scanItem(r, now)
		if err != nil {
			return ActionItem{}, err
		}
		return *it, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list action items: %w", err)
	}
	return items, nil
}

const itemColumns = `a.id, a.incident_id, a.incident, a.title, u.email, u.name, a.team, a.due_date, a.due_at, a.status,
	a.remind_at, a.reminded_soon_at, a.reminded_overdue_at, cu.email, a.created_at, a.updated_at, a.finished_at
	FROM action_items a JOIN users u ON u.id = a.owner_id LEFT JOIN users cu ON cu.id = a.created_by`

func scanItem(r db.Scanner, now time.Time) (*ActionItem, error) {
	var it ActionItem
	var due, remind, soon, overdue, created, updated, finished db.Time
	var createdBy sql.NullString
	if err := r.Scan(&it.ID, &it.IncidentID, &it.Incident, &it.Title, &it.Owner, &it.OwnerName, &it.Team, &it.DueDate, &due,
		&it.Status, &remind, &soon, &overdue, &createdBy, &created, &updated, &finished); err != nil {
		return nil, err
	}
	it.DueAt, it.CreatedAt, it.UpdatedAt = due.Time, created.Time, updated.Time
	it.RemindAt, it.RemindedSoonAt, it.RemindedOverdueAt, it.FinishedAt = remind.Ptr(), soon.Ptr(), overdue.Ptr(), finished.Ptr()
	if createdBy.Valid {
		it.CreatedBy = &createdBy.String
	}
	it.Overdue = it.Status.Active() && !now.Before(it.DueAt)
	return &it, nil
}

func itemByID(ctx context.Context, q db.Querier, id int64, now time.Time) (*ActionItem, error) {
	it, err := scanItem(q.QueryRow(ctx, "SELECT "+itemColumns+" WHERE a.id = ?", id), now)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load action item %d: %w", id, err)
	}
	return it, nil
}

func itemSnapshot(it *ActionItem) map[string]any {
	return map[string]any{"incident": it.Incident, "title": it.Title, "owner": it.Owner, "team": it.Team,
		"due_date": it.DueDate, "status": it.Status}
}

func itemEvent(it *ActionItem, prev *ActionItem) *events.ActionItem {
	e := &events.ActionItem{ActionItemID: it.ID, Incident: it.Incident, Title: it.Title, Owner: it.Owner, Team: it.Team,
		Status: string(it.Status), DueDate: it.DueDate, DueAt: it.DueAt}
	if prev != nil && prev.Owner != it.Owner {
		e.Previous = prev.Owner
	}
	return e
}

// timePtr is a nullable instant for SQL.
func timePtr(t *time.Time) db.Time {
	if t == nil {
		return db.Time{}
	}
	return db.T(*t)
}
