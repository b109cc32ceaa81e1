package problems

import (
	"context"
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
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/input"
)

// Status is where a problem is in its life.
type Status string

const (
	Investigating Status = "investigating"   // the cause is not known yet
	KnownError    Status = "known_error"     // the root cause is known (and written down)
	FixInProgress Status = "fix_in_progress" // an improvement action is under way
	Resolved      Status = "resolved"
)

// Statuses in their order.
var Statuses = []Status{Investigating, KnownError, FixInProgress, Resolved}

// CanMove reports whether a problem may go from one status to another:
// forward (skipping steps is allowed), and a resolved problem back to
// investigating when its cases come back.
func CanMove(from, to Status) bool {
	if from == to {
		return true
	}
	if from == Resolved {
		return to == Investigating
	}
	return slices.Index(Statuses, to) > slices.Index(Statuses, from)
}

// Problem is a repeat issue under investigation.
type Problem struct {
	ID          int64        `json:"id"`
	Title       string       `json:"title"`
	RootCause   string       `json:"root_cause"`
	Owner       *string      `json:"owner"` // email
	OwnerName   string       `json:"owner_name,omitempty"`
	Status      Status       `json:"status"`
	Action      Action       `json:"action"`
	CaseCount   int          `json:"case_count"`
	OpenCases   int          `json:"open_cases"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
	ResolvedAt  *time.Time   `json:"resolved_at"`
	Cases       []LinkedCase `json:"cases,omitempty"` // Get only
	Trend       []DayCount   `json:"trend,omitempty"` // Get only: linked cases per day of creation
	ownerID     int64
	actionOwner int64
}

// Action is a problem's improvement action.
type Action struct {
	Text      string  `json:"text"`
	Owner     *string `json:"owner"` // email
	OwnerName string  `json:"owner_name,omitempty"`
	Due       string  `json:"due"` // YYYY-MM-DD, "" for none
}

// LinkedCase is a case linked to a problem.
type LinkedCase struct {
	Number    string       `json:"case"`
	Title     string       `json:"title"`
	Status    cases.Status `json:"status"`
	Category  string       `json:"category"`
	CreatedAt time.Time    `json:"created_at"`
	LinkedAt  time.Time    `json:"linked_at"`
}

// DayCount is a day's count of cases.
type DayCount struct {
	Day   string `json:"day"` // YYYY-MM-DD
	Count int    `json:"count"`
}

// Input is the body of POST /problems and PATCH /problems/{id}: on a
// patch only given fields change.
type Input struct {
	Title     *string      `json:"title"`
	RootCause *string      `json:"root_cause"`
	Owner     *string      `json:"owner"` // email; "" clears
	Status    *Status      `json:"status"`
	Action    *ActionInput `json:"action"`
	Cases     []string     `json:"cases"` // create only: the cases to link (ESC numbers)
}

// ActionInput sets the improvement action (all three together).
type ActionInput struct {
	Text  string `json:"text"`
	Owner string `json:"owner"`
	Due   string `json:"due"`
}

const problemColumns = `p.id, p.title, p.root_cause, p.owner_id, COALESCE(u.email, ''), COALESCE(u.name, ''), p.status,
	p.action, p.action_owner_id, COALESCE(a.email, ''), COALESCE(a.name, ''), p.action_due, p.created_at, p.updated_at,
	p.resolved_at,
	(SELECT COUNT(*) FROM problem_cases pc WHERE pc.problem_id = p.id),
	(SELECT COUNT(*) FROM problem_cases pc JOIN cases c ON c.id = pc.case_id WHERE pc.problem_id = p.id
		AND c.status NOT IN ('resolved', 'closed'))
	FROM problems p LEFT JOIN users u ON u.id = p.owner_id LEFT JOIN users a ON a.id = p.action_owner_id`

func scanProblem(r db.Scanner) (*Problem, error) {
	p := &Problem{}
	var owner, aowner *int64
	var oEmail, oName, aEmail, aName string
	var created, updated, resolved db.Time
	if err := r.Scan(&p.ID, &p.Title, &p.RootCause, &owner, &oEmail, &oName, &p.Status, &p.Action.Text, &aowner,
		&aEmail, &aName, &p.Action.Due, &created, &updated, &resolved, &p.CaseCount, &p.OpenCases); err != nil {
		return nil, err
	}
	if owner != nil {
		p.ownerID, p.Owner, p.OwnerName = *owner, &oEmail, oName
	}
	if aowner != nil {
		p.actionOwner, p.Action.Owner, p.Action.OwnerName = *aowner, &aEmail, aName
	}
	p.CreatedAt, p.UpdatedAt, p.ResolvedAt = created.Time, updated.Time, resolved.Ptr()
	return p, nil
}

func (s *Service) load(ctx context.Context, q db.Querier, id int64) (*Problem, error) {
	p, err := scanProblem(q.QueryRow(ctx, `SELECT `+problemColumns+` WHERE p.id = ?`, id))
	if errors.Is(err, errNoRows) {
		return nil, apperr.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load problem %d: %w", id, err)
	}
	return p, nil
}

// ParseID reads a problem id from a path.
func ParseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.ErrNotFound
	}
	return id, nil
}

// Filter narrows List.
type Filter struct {
	Status []Status
}

// List returns the problems, most recently changed first.
func (s *Service) List(ctx context.Context, actor auth.Actor, f Filter) ([]*Problem, error) {
	if err := canRead(actor); err != nil {
		return nil, err
	}
	q, args := `SELECT `+problemColumns, []any{}
	if len(f.Status) > 0 {
		q += ` WHERE p.status IN (` + db.Placeholders(len(f.Status)) + `)`
		for _, st := range f.Status {
			args = append(args, string(st))
		}
	}
	rows, err := s.db.Query(ctx, q+` ORDER BY p.updated_at DESC, p.id DESC LIMIT 500`, args...)
	if err != nil {
		return nil, fmt.Errorf("list problems: %w", err)
	}
	out, err := db.Collect(rows, scanProblem)
	if out == nil {
		out = []*Problem{}
	}
	return out, err
}

// Get returns problem id with its linked cases (those actor may see) and
// its trend.
func (s *Service) Get(ctx context.Context, actor auth.Actor, id int64) (*Problem, error) {
	if err := canRead(actor); err != nil {
		return nil, err
	}
	p, err := s.load(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	ids, err := db.QueryIDs(ctx, s.db, `SELECT case_id FROM problem_cases WHERE problem_id = ? ORDER BY linked_at, case_id`, id)
	if err != nil {
		return nil, fmt.Errorf("problem %d cases: %w", id, err)
	}
	linked, err := s.linkedAt(ctx, id)
	if err != nil {
		return nil, err
	}
	p.Cases = []LinkedCase{}
	for _, cid := range ids {
		c, err := s.cases.Get(ctx, actor, strconv.FormatInt(cid, 10))
		if err != nil {
			continue // out of sight
		}
		p.Cases = append(p.Cases, LinkedCase{Number: c.Number, Title: c.Title, Status: c.Status, Category: c.Category,
			CreatedAt: c.CreatedAt, LinkedAt: linked[cid]})
	}
	p.Trend = Trend(p.Cases, s.clock.Now(), 30)
	return p, nil
}

func (s *Service) linkedAt(ctx context.Context, id int64) (map[int64]time.Time, error) {
	rows, err := s.db.Query(ctx, `SELECT case_id, linked_at FROM problem_cases WHERE problem_id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("problem %d links: %w", id, err)
	}
	defer rows.Close()
	out := map[int64]time.Time{}
	for rows.Next() {
		var cid int64
		var at db.Time
		if err := rows.Scan(&cid, &at); err != nil {
			return nil, err
		}
		out[cid] = at.Time
	}
	return out, rows.Err()
}

// Trend counts linked cases per day of their creation over the days
// ending at now (at least days, and back to the first linked case).
func Trend(cs []LinkedCase, now time.Time, days int) []DayCount {
	end := now.UTC().Truncate(24 * time.Hour)
	start := end.AddDate(0, 0, -(days - 1))
	for _, c := range cs {
		if d := c.CreatedAt.UTC().Truncate(24 * time.Hour); d.Before(start) {
			start = d
		}
	}
	if end.Sub(start) > 366*24*time.Hour {
		start = end.AddDate(-1, 0, 0)
	}
	count := map[string]int{}
	for _, c := range cs {
		count[c.CreatedAt.UTC().Format(time.DateOnly)]++
	}
	var out []DayCount
	for d := start; !d.After(end); d = d.AddDate(0, 0, 1) {
		k := d.Format(time.DateOnly)
		out = append(out, DayCount{Day: k, Count: count[k]})
	}
	return out
}

// checked is a validated Input.
type checked struct {
	title, rootCause    *string
	owner               *auth.User // nil: unchanged; ID 0: cleared
	status              *Status
	action              *ActionInput
	actionOwner         int64
	caseIDs             []int64
	setOwner, setAction bool
}

func (s *Service) check(ctx context.Context, actor auth.Actor, in Input, create bool) (*checked, error) {
	v := &apperr.Invalid{}
	c := &checked{}
	if in.Title != nil || create {
		t := ""
		if in.Title != nil {
			t = strings.TrimSpace(*in.Title)
		}
		input.Required(v, "title", input.Title, t)
		c.title = &t
	}
	if in.RootCause != nil {
		rc := strings.TrimSpace(*in.RootCause)
		input.Check(v, "root_cause", input.Text, rc)
		c.rootCause = &rc
	}
	if in.Owner != nil {
		c.setOwner = true
		c.owner = &auth.User{}
		if e := strings.TrimSpace(*in.Owner); e != "" {
			u, err := auth.UserByEmail(ctx, s.db, e)
			if err != nil || !u.Active {
				v.Add("owner", "unknown user %q", e)
			} else {
				c.owner = &u
			}
		}
	}
	if in.Status != nil {
		if !slices.Contains(Statuses, *in.Status) {
			v.Add("status", "must be one of investigating, known_error, fix_in_progress, resolved")
		} else {
			c.status = in.Status
		}
	}
	if in.Action != nil {
		c.setAction = true
		a := ActionInput{Text: strings.TrimSpace(in.Action.Text), Owner: strings.TrimSpace(in.Action.Owner),
			Due: strings.TrimSpace(in.Action.Due)}
		input.Check(v, "action.text", input.Text, a.Text)
		if a.Owner != "" {
			u, err := auth.UserByEmail(ctx, s.db, a.Owner)
			if err != nil || !u.Active {
				v.Add("action.owner", "unknown user %q", a.Owner)
			} else {
				a.Owner, c.actionOwner = u.Email, u.ID
			}
		}
		if a.Due != "" {
			if _, err := time.Parse(time.DateOnly, a.Due); err != nil {
				v.Add("action.due", "must be a date, YYYY-MM-DD")
			}
		}
		if a.Text == "" && (a.Owner != "" || a.Due != "") {
			v.Add("action.text", "an action with an owner or a due date needs its text")
		}
		c.action = &a
	}
	if len(in.Cases) > 0 && !create {
		v.Add("cases", "link cases through POST /problems/{id}/cases")
	}
	input.CheckList(v, "cases", len(in.Cases), 200)
	for i, ref := range in.Cases {
		cs, err := s.cases.Get(ctx, actor, strings.TrimSpace(ref))
		if err != nil {
			v.Add(fmt.Sprintf("cases[%d]", i), "unknown case %q", ref)
			continue
		}
		if !slices.Contains(c.caseIDs, cs.ID) {
			c.caseIDs = append(c.caseIDs, cs.ID)
		}
	}
	return c, v.Err()
}

// apply sets c on p and says which fields changed; it checks the rules
// that need the whole record: a known error has its root cause written
// down, a fix in progress has its action.
func (c *checked) apply(p *Problem) ([]string, error) {
	var fields []string
	if c.title != nil && *c.title != p.Title {
		p.Title, fields = *c.title, append(fields, "title")
	}
	if c.rootCause != nil && *c.rootCause != p.RootCause {
		p.RootCause, fields = *c.rootCause, append(fields, "root_cause")
	}
	if c.setOwner && c.owner.ID != p.ownerID {
		p.ownerID, fields = c.owner.ID, append(fields, "owner")
		p.Owner, p.OwnerName = nil, ""
		if c.owner.ID != 0 {
			p.Owner, p.OwnerName = &c.owner.Email, c.owner.Name
		}
	}
	if c.setAction {
		a := *c.action
		if a.Text != p.Action.Text || a.Due != p.Action.Due || c.actionOwner != p.actionOwner {
			fields = append(fields, "action")
		}
		p.Action = Action{Text: a.Text, Due: a.Due}
		p.actionOwner = c.actionOwner
		if a.Owner != "" {
			p.Action.Owner = &a.Owner
		}
	}
	v := &apperr.Invalid{}
	if c.status != nil && *c.status != p.Status {
		if !CanMove(p.Status, *c.status) {
			v.Add("status", "a %s problem cannot become %s", p.Status, *c.status)
		}
		p.Status, fields = *c.status, append(fields, "status")
	}
	if p.Status == KnownError && p.RootCause == "" {
		v.Add("root_cause", "a known error has its root cause written down")
	}
	if p.Status == FixInProgress && (p.Action.Text == "" || p.actionOwner == 0) {
		v.Add("action", "a fix in progress has an improvement action with its owner")
	}
	return fields, v.Err()
}

// Create opens a problem, linking the given cases.
func (s *Service) Create(ctx context.Context, actor auth.Actor, in Input) (*Problem, error) {
	if err := canWrite(actor); err != nil {
		return nil, err
	}
	if in.Status == nil {
		st := Investigating
		in.Status = &st
	}
	c, err := s.check(ctx, actor, in, true)
	if err != nil {
		return nil, err
	}
	base := &Problem{Status: Investigating}
	if _, err := c.apply(base); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		p := *base
		if err := tx.QueryRow(ctx, `INSERT INTO problems (title, root_cause, owner_id, status, action, action_owner_id, action_due,
			created_by, created_at, updated_at, resolved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			p.Title, p.RootCause, db.NullID(p.ownerID), string(p.Status), p.Action.Text, db.NullID(p.actionOwner), p.Action.Due,
			db.NullID(actor.UserID), db.T(now), db.T(now), resolvedAt(p.Status, now)).Scan(&id); err != nil {
			return fmt.Errorf("create problem: %w", err)
		}
		p.ID = id
		for _, cid := range c.caseIDs {
			if err := s.link(ctx, tx, actor, &p, cid, now); err != nil {
				return err
			}
		}
		p.CaseCount = len(c.caseIDs)
		if err := s.audit(ctx, tx, actor, "problem.create", &p, nil, now); err != nil {
			return err
		}
		return s.publish(ctx, tx, actor, events.ProblemCreated, &p, nil, "", nil, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, actor, id)
}

func resolvedAt(st Status, now time.Time) any {
	if st == Resolved {
		return db.T(now)
	}
	return nil
}

// Update changes a problem's given fields.
func (s *Service) Update(ctx context.Context, actor auth.Actor, id int64, in Input) (*Problem, error) {
	if err := canWrite(actor); err != nil {
		return nil, err
	}
	c, err := s.check(ctx, actor, in, false)
	if err != nil {
		return nil, err
	}
	// The rules that need the whole record are checked on the stored one
	// before the transaction, and again under the lock.
	cur, err := s.load(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if _, err := c.apply(cur); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		before, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		p := *before
		fields, err := c.apply(&p)
		if err != nil {
			return &apperr.Conflict{Detail: "The problem changed meanwhile: " + err.Error()}
		}
		if len(fields) == 0 {
			return nil
		}
		resolved := any(nil)
		if p.Status == Resolved {
			resolved = db.T(now)
			if before.ResolvedAt != nil && before.Status == Resolved {
				resolved = db.T(*before.ResolvedAt)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE problems SET title = ?, root_cause = ?, owner_id = ?, status = ?, action = ?,
			action_owner_id = ?, action_due = ?, updated_at = ?, resolved_at = ? WHERE id = ?`,
			p.Title, p.RootCause, db.NullID(p.ownerID), string(p.Status), p.Action.Text, db.NullID(p.actionOwner), p.Action.Due,
			db.T(now), resolved, id); err != nil {
			return fmt.Errorf("update problem %d: %w", id, err)
		}
		if err := s.audit(ctx, tx, actor, "problem.update", &p, before, now); err != nil {
			return err
		}
		from := ""
		if p.Status != before.Status {
			from = string(before.Status)
		}
		return s.publish(ctx, tx, actor, events.ProblemChanged, &p, nil, from, fields, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, actor, id)
}

// lock reads problem id for update in tx.
func (s *Service) lock(ctx context.Context, tx *db.Tx, id int64) (*Problem, error) {
	if tx.Dialect() == db.Postgres {
		if _, err := tx.Exec(ctx, `SELECT id FROM problems WHERE id = ? FOR UPDATE`, id); err != nil {
			return nil, fmt.Errorf("lock problem %d: %w", id, err)
		}
	}
	return s.load(ctx, tx, id)
}

// Link links case ref to problem id. A case belongs to one problem: one
// linked elsewhere is a conflict (unlink it there first).
func (s *Service) Link(ctx context.Context, actor auth.Actor, id int64, ref string) (*Problem, error) {
	if err := canWrite(actor); err != nil {
		return nil, err
	}
	c, err := s.cases.Get(ctx, actor, strings.TrimSpace(ref))
	if err != nil {
		if errors.Is(err, apperr.ErrNotFound) {
			return nil, apperr.InvalidField("case", "unknown case %q", ref)
		}
		return nil, err
	}
	now := s.clock.Now()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		p, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.link(ctx, tx, actor, p, c.ID, now); err != nil {
			return err
		}
		p.CaseCount++
		return s.touch(ctx, tx, actor, "problem.link", p, c, events.ProblemCaseLinked, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, actor, id)
}

func (s *Service) link(ctx context.Context, tx *db.Tx, actor auth.Actor, p *Problem, caseID int64, now time.Time) error {
	var other int64
	err := tx.QueryRow(ctx, `SELECT problem_id FROM problem_cases WHERE case_id = ?`, caseID).Scan(&other)
	switch {
	case err == nil && other == p.ID:
		return &apperr.Conflict{Detail: "The case is already linked to this problem."}
	case err == nil:
		return &apperr.Conflict{Detail: fmt.Sprintf("The case is linked to problem %d; unlink it there first.", other)}
	case !errors.Is(err, errNoRows):
		return fmt.Errorf("link case %d: %w", caseID, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO problem_cases (problem_id, case_id, linked_by, linked_at) VALUES (?, ?, ?, ?)`,
		p.ID, caseID, db.NullID(actor.UserID), db.T(now)); err != nil {
		return fmt.Errorf("link case %d: %w", caseID, err)
	}
	return nil
}

// Unlink takes case ref off problem id.
func (s *Service) Unlink(ctx context.Context, actor auth.Actor, id int64, ref string) (*Problem, error) {
	if err := canWrite(actor); err != nil {
		return nil, err
	}
	c, err := s.cases.Get(ctx, actor, strings.TrimSpace(ref))
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		p, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `DELETE FROM problem_cases WHERE problem_id = ? AND case_id = ?`, id, c.ID)
		if err != nil {
			return fmt.Errorf("unlink case %d: %w", c.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.ErrNotFound
		}
		p.CaseCount--
		return s.touch(ctx, tx, actor, "problem.unlink", p, c, events.ProblemCaseUnlinked, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, actor, id)
}

func (s *Service) touch(ctx context.Context, tx *db.Tx, actor auth.Actor, action string, p *Problem, c *cases.Case,
	t events.Type, now time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE problems SET updated_at = ? WHERE id = ?`, db.T(now), p.ID); err != nil {
		return fmt.Errorf("touch problem %d: %w", p.ID, err)
	}
	e := audit.Entry{ActorID: actor.UserID, Actor: audit.ActorName(actor), Action: action, ObjectType: "problem",
		ObjectID: strconv.FormatInt(p.ID, 10), After: map[string]any{"case": c.Number, "cases": p.CaseCount}}
	if err := audit.Append(ctx, tx, now, e); err != nil {
		return err
	}
	return s.publish(ctx, tx, actor, t, p, c, "", nil, now)
}

func snapshot(p *Problem) map[string]any {
	m := map[string]any{"title": p.Title, "root_cause": p.RootCause, "status": p.Status, "owner": p.Owner,
		"action": p.Action.Text, "action_owner": p.Action.Owner, "action_due": p.Action.Due}
	return m
}

func (s *Service) audit(ctx context.Context, tx *db.Tx, actor auth.Actor, action string, after, before *Problem, now time.Time) error {
	e := audit.Entry{ActorID: actor.UserID, Actor: audit.ActorName(actor), Action: action, ObjectType: "problem",
		ObjectID: strconv.FormatInt(after.ID, 10), After: snapshot(after)}
	if before != nil {
		e.Before = snapshot(before)
	}
	return audit.Append(ctx, tx, now, e)
}

func (s *Service) publish(ctx context.Context, tx *db.Tx, actor auth.Actor, t events.Type, p *Problem, c *cases.Case,
	from string, fields []string, now time.Time) error {
	d := &events.Problem{ProblemID: p.ID, Title: p.Title, Status: string(p.Status), FromStatus: from, Fields: fields,
		Cases: p.CaseCount}
	if p.Owner != nil {
		d.Owner = *p.Owner
	}
	if c != nil {
		d.Case = c.Number
	}
	// Its stream is the problem's (events.Event.Stream): its lock is held.
	return s.cases.Bus().Publish(ctx, tx, events.Event{Type: t, At: now, Actor: cases.EventActor(actor), Data: d})
}
