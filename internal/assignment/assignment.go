package assignment

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/assign"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/input"
)

// Service assigns cases: take-next, assignment of new cases by
// round-robin or least-loaded (cases.Assigner), and people's away status.
type Service struct {
	db    *db.DB
	desk  *desk.Service
	cases *cases.Service
	clock clock.Clock
}

// New returns the assignment service. Register it with the case service
// (cs.SetAssigner) so that new cases are assigned on create.
func New(d *db.DB, dk *desk.Service, cs *cases.Service, c clock.Clock) *Service {
	return &Service{db: d, desk: dk, cases: cs, clock: c}
}

// agentRow is a team member as assignment sees them.
type agentRow struct {
	id        int64
	name      string
	role      auth.Role
	awayNote  string
	awayUntil time.Time
	agent     assign.Agent
}

// workable are the statuses take-next hands out (cases_unassigned index).
const workable = `('new', 'open')`

// loadAgents reads the members of team who can own cases (one user when
// userID is set) with their profile, away status and open cases.
func (s *Service) loadAgents(ctx context.Context, q db.Querier, cfg *desk.Config, team string, userID int64, now time.Time) ([]*agentRow, error) {
	zone := teamZone(cfg, team)
	query := `SELECT u.id, u.email, u.name, u.role, u.markets, u.languages, COALESCE(st.away, FALSE),
		COALESCE(st.away_note, ''), st.away_until, st.last_assigned_at
		FROM team_members tm JOIN users u ON u.id = tm.user_id LEFT JOIN agent_status st ON st.user_id = u.id
		WHERE tm.team = ? AND u.active = TRUE AND u.role IN ('agent', 'lead', 'admin')`
	args := []any{team}
	if userID != 0 {
		query += ` AND u.id = ?`
		args = append(args, userID)
	}
	rows, err := q.Query(ctx, query+` ORDER BY u.email`, args...)
	if err != nil {
		return nil, fmt.Errorf("team %s agents: %w", team, err)
	}
	var out []*agentRow
	byID := map[int64]*agentRow{}
	for rows.Next() {
		var r agentRow
		var email, role string
		var markets, languages []byte
		var away bool
		var until, last db.Time
		if err := rows.Scan(&r.id, &email, &r.name, &role, &markets, &languages, &away, &r.awayNote, &until, &last); err != nil {
			rows.Close()
			return nil, fmt.Errorf("team %s agents: %w", team, err)
		}
		var ms, ls []string
		if err := errors.Join(json.Unmarshal(markets, &ms), json.Unmarshal(languages, &ls)); err != nil {
			rows.Close()
			return nil, fmt.Errorf("agent %s: %w", email, err)
		}
		a, err := assign.NewAgent(email, ms, ls, cfg.Profiles[strings.ToLower(email)], zone)
		if err != nil {
			rows.Close()
			return nil, err
		}
		r.role, r.awayUntil = auth.Role(role), until.Time
		a.Teams, a.LastAssigned, a.Open = []string{team}, last.Time, map[string]int{}
		a.Away = away && (until.IsZero() || now.Before(until.Time)) // away ends by itself at its until
		r.agent = a
		out = append(out, &r)
		byID[r.id] = &r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	// Open cases per owner and priority, across all their teams: capacity is
	// the person's.
	ids := make([]any, 0, len(out))
	for _, r := range out {
		ids = append(ids, r.id)
	}
	rows, err = q.Query(ctx, `SELECT owner_id, priority, COUNT(*) FROM cases
		WHERE owner_id IN (`+db.Placeholders(len(ids))+`) AND status IN ('new', 'open', 'pending_internal', 'pending_requester')
		GROUP BY owner_id, priority`, ids...)
	if err != nil {
		return nil, fmt.Errorf("team %s loads: %w", team, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var p string
		var n int
		if err := rows.Scan(&id, &p, &n); err != nil {
			return nil, err
		}
		byID[id].agent.Open[p] = n
	}
	return out, rows.Err()
}

// teamZone is where the team's people work unless they name their own time
// zone: its calendar's zone, else UTC.
func teamZone(cfg *desk.Config, team string) string {
	if t, ok := cfg.Team(team); ok {
		if cal, ok := cfg.Calendar(t.Calendar); ok {
			return cal.Location().String()
		}
	}
	return "UTC"
}

// TakeTeams are the teams whose unassigned cases actor may take: their
// own, when they hold case.write.
func TakeTeams(actor auth.Actor, cfg *desk.Config) []desk.Team {
	if !actor.Can(auth.PermCaseWrite) {
		return nil
	}
	var out []desk.Team
	for _, t := range cfg.Teams {
		if actor.InTeam(t.Key) {
			out = append(out, t)
		}
	}
	return out
}

// MaySetAway reports whether actor may set the person email away or back:
// people who own cases set themselves; leads and admins set anyone.
func MaySetAway(actor auth.Actor, email string) bool {
	return actor.Can(auth.PermCaseWrite) && (strings.EqualFold(email, actor.Email) || MaySetOthersAway(actor))
}

// MaySetOthersAway reports whether actor may set anyone away: leads and admins.
func MaySetOthersAway(actor auth.Actor) bool {
	return actor.Role == auth.RoleLead || actor.Role == auth.RoleAdmin
}

// TakeNext gives actor the highest-priority unassigned case of team that
// they may take (priority, then oldest), claimed atomically: concurrent
// claims never get the same case.
func (s *Service) TakeNext(ctx context.Context, actor auth.Actor, team string) (*cases.Case, error) {
	if !actor.Can(auth.PermCaseWrite) {
		return nil, &apperr.Forbidden{Detail: "your role cannot take cases"}
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	t, ok := cfg.Team(team)
	if !ok {
		v := &apperr.Invalid{}
		v.Add("team", "unknown team %q", team)
		return nil, v
	}
	if !actor.InTeam(team) {
		return nil, &apperr.Forbidden{Detail: "you are not a member of team " + team}
	}
	var out *cases.Case
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		now := s.clock.Now()
		agents, err := s.loadAgents(ctx, tx, cfg, team, actor.UserID, now)
		if err != nil {
			return err
		}
		if len(agents) == 0 {
			return &apperr.Forbidden{Detail: "your role cannot own cases"}
		}
		f, err := assign.FilterFor(agents[0].agent, t.Assignment)
		var ne *assign.NotEligible
		if errors.As(err, &ne) {
			return &apperr.Conflict{Detail: "you cannot take a case now: " + ne.Text}
		}
		if err != nil {
			return err
		}
		where, args := filterSQL(f)
		query := `SELECT id FROM cases WHERE team = ? AND owner_id IS NULL AND status IN ` + workable + where +
			` ORDER BY priority, created_at, id LIMIT 1`
		if tx.Dialect() == db.Postgres {
			query += ` FOR UPDATE SKIP LOCKED` // another agent is claiming that one
		}
		var id int64
		err = tx.QueryRow(ctx, query, append([]any{team}, args...)...).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return &apperr.Conflict{Detail: fmt.Sprintf("no unassigned case in team %s that you can take", team)}
		}
		if err != nil {
			return fmt.Errorf("take next: %w", err)
		}
		out, err = s.cases.ChangeInTx(ctx, tx, actor, fmt.Sprint(id), auth.PermCaseWrite, func(c *cases.Case) ([]cases.Entry, error) {
			return s.giveTo(c, agents[0], "take_next", nil, true), nil
		})
		if err != nil {
			return err
		}
		return markAssigned(ctx, tx, agents[0].id, now)
	})
	if err != nil {
		return nil, err
	}
	return s.cases.Get(ctx, actor, out.Number)
}

// giveTo makes r the case's owner and returns the timeline entries saying
// so; start moves a new case to open (with its status entry).
func (s *Service) giveTo(c *cases.Case, r *agentRow, via string, skipped []assign.Skip, start bool) []cases.Entry {
	old := c.Owner
	c.OwnerID, c.Owner, c.OwnerName = r.id, &r.agent.Email, r.name
	data := map[string]any{"owner": r.agent.Email, "via": via}
	if old != nil {
		data["previous"] = *old
	}
	if len(skipped) > 0 {
		data["skipped"] = skipped
	}
	evs := []cases.Entry{{Type: "assigned", Data: data}}
	if start && c.Status == cases.StatusNew {
		evs = append(evs, cases.Entry{Type: "status", Data: map[string]any{"from": cases.StatusNew, "to": cases.StatusOpen}})
		c.Status = cases.StatusOpen
	}
	return evs
}

// filterSQL turns a take-next filter into conditions on cases (an empty
// list, like nil, allows any).
func filterSQL(f assign.Filter) (string, []any) {
	var b strings.Builder
	var args []any
	if len(f.Markets) > 0 {
		b.WriteString(" AND (market = '' OR market IN (" + db.Placeholders(len(f.Markets)) + "))")
		for _, m := range f.Markets {
			args = append(args, m)
		}
	}
	if len(f.Languages) > 0 {
		b.WriteString(" AND (language = ''")
		for _, l := range f.Languages {
			b.WriteString(" OR lower(language) = ? OR lower(language) LIKE ?")
			args = append(args, l, l+"-%")
		}
		b.WriteString(")")
	}
	if len(f.Categories) > 0 {
		b.WriteString(" AND (1 = 0")
		for _, k := range f.Categories {
			if strings.HasSuffix(k, "/") { // not LIKE: '_' in keys is a LIKE wildcard
				fmt.Fprintf(&b, " OR substr(category, 1, %d) = ?", len(k))
			} else {
				b.WriteString(" OR category = ?")
			}
			args = append(args, k)
		}
		b.WriteString(")")
	}
	if len(f.Priorities) > 0 {
		b.WriteString(" AND priority IN (" + db.Placeholders(len(f.Priorities)) + ")")
		for _, p := range f.Priorities {
			args = append(args, p)
		}
	}
	return b.String(), args
}

// markAssigned records when the agent last got a case (least-loaded ties).
func markAssigned(ctx context.Context, tx *db.Tx, userID int64, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO agent_status (user_id, last_assigned_at, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET last_assigned_at = excluded.last_assigned_at`, userID, db.T(now), db.T(now))
	if err != nil {
		return fmt.Errorf("agent status: %w", err)
	}
	return nil
}

// AssignNew gives a new case to an agent of its team by strategy, in the
// write transaction, before the case row is inserted (cases.Assigner); it
// returns the timeline entries to add once it is. Nobody eligible leaves it
// unassigned with the reasons on its timeline.
func (s *Service) AssignNew(ctx context.Context, tx *db.Tx, cfg *desk.Config, c *cases.Case, strategy assign.Strategy) ([]cases.Entry, error) {
	now := c.CreatedAt
	t, _ := cfg.Team(c.Team)
	settings := t.Assignment
	settings.Strategy = strategy
	agents, err := s.loadAgents(ctx, tx, cfg, c.Team, 0, now)
	if err != nil {
		return nil, err
	}
	var last string
	var lastID sql.NullInt64
	err = tx.QueryRow(ctx, `SELECT last_user_id FROM team_rotation WHERE team = ?`, c.Team).Scan(&lastID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("team rotation: %w", err)
	}
	list := make([]assign.Agent, len(agents))
	byEmail := map[string]*agentRow{}
	for i, r := range agents {
		list[i] = r.agent
		byEmail[r.agent.Email] = r
		if r.id == lastID.Int64 {
			last = r.agent.Email
		}
	}
	ac := assign.Case{Team: c.Team, Category: c.Category, Market: c.Market, Language: c.Language, Priority: c.Priority}
	chosen, ok, skipped := assign.Choose(list, ac, now, settings, last)
	if !ok {
		return []cases.Entry{{Type: "unassigned", Data: map[string]any{"strategy": strategy, "skipped": skipped,
			"reason": "no agent of team " + c.Team + " is eligible"}}}, nil
	}
	r := byEmail[chosen]
	evs := s.giveTo(c, r, string(strategy), skipped, false)
	c.Status = cases.StatusOpen // a new case with an owner is open, as when assigned by hand
	if _, err := tx.Exec(ctx, `INSERT INTO team_rotation (team, last_user_id, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (team) DO UPDATE SET last_user_id = excluded.last_user_id, updated_at = excluded.updated_at`,
		c.Team, r.id, db.T(now)); err != nil {
		return nil, fmt.Errorf("team rotation: %w", err)
	}
	return evs, markAssigned(ctx, tx, r.id, now)
}

// AgentStatus is a team member as the agents API shows them.
type AgentStatus struct {
	Email     string         `json:"email"`
	Name      string         `json:"name"`
	Role      auth.Role      `json:"role"`
	Away      bool           `json:"away"`
	AwayNote  string         `json:"away_note,omitempty"`
	AwayUntil *time.Time     `json:"away_until"`
	OnShift   bool           `json:"on_shift"`
	NextShift *time.Time     `json:"next_shift"` // when off shift
	Load      int            `json:"load"`       // open cases weighted by priority
	Capacity  int            `json:"capacity"`
	Open      map[string]int `json:"open"` // open cases by priority
	Markets   []string       `json:"markets"`
	Languages []string       `json:"languages"`
	Skills    []string       `json:"skills"`
	Timezone  string         `json:"timezone"`
}

// Agents lists the members of team who can own cases with their away
// status, shift and load.
func (s *Service) Agents(ctx context.Context, actor auth.Actor, team string) ([]AgentStatus, error) {
	if !actor.Can(auth.PermCaseRead) || cases.PublicOnly(actor) {
		return nil, &apperr.Forbidden{Detail: "who works a team is for the desk's own staff"}
	}
	// Why someone is away is for their team and its leads.
	notes := actor.InTeam(team) || actor.Role == auth.RoleLead || actor.Role == auth.RoleAdmin
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	t, ok := cfg.Team(team)
	if !ok {
		return nil, apperr.ErrNotFound
	}
	now := s.clock.Now()
	rows, err := s.loadAgents(ctx, s.db, cfg, team, 0, now)
	if err != nil {
		return nil, err
	}
	zone := teamZone(cfg, t.Key)
	out := make([]AgentStatus, 0, len(rows))
	for _, r := range rows {
		a := r.agent
		st := AgentStatus{Email: a.Email, Name: r.name, Role: r.role, Away: a.Away, OnShift: true,
			Load: t.Assignment.Load(a.Open), Capacity: t.Assignment.CapacityOf(a), Open: a.Open,
			Markets: nonNil(a.Markets), Languages: nonNil(a.Languages), Skills: nonNil(a.Skills), Timezone: zone}
		if a.Away {
			st.AwayUntil = ptr(r.awayUntil)
			if notes {
				st.AwayNote = r.awayNote
			}
		}
		if a.Shift != nil {
			st.Timezone = a.Shift.Location().String()
			if st.OnShift = a.Shift.IsOpen(now); !st.OnShift {
				st.NextShift = ptr(a.Shift.NextOpen(now))
			}
		} else if p := cfg.Profiles[strings.ToLower(a.Email)]; p.Timezone != "" {
			st.Timezone = p.Timezone
		}
		out = append(out, st)
	}
	return out, nil
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// AwayInput sets a person away (out of office) or back.
type AwayInput struct {
	Away  bool       `json:"away"`
	Note  string     `json:"note"`
	Until *time.Time `json:"until"` // optional: back by itself then
}

// SetAway marks the user email away or back. People set themselves; leads
// and admins set anyone.
func (s *Service) SetAway(ctx context.Context, actor auth.Actor, email string, in AwayInput) error {
	switch {
	case !actor.Can(auth.PermCaseWrite):
		return &apperr.Forbidden{Detail: "away status is for people who own cases"}
	case !MaySetAway(actor, email):
		return &apperr.Forbidden{Detail: "only leads and admins set other people away"}
	}
	v := &apperr.Invalid{}
	note := strings.TrimSpace(in.Note)
	input.Check(v, "note", input.Text, note)
	now := s.clock.Now()
	if in.Until != nil && !in.Until.After(now) {
		v.Add("until", "must be in the future")
	}
	if in.Until != nil && !in.Away {
		v.Add("until", "only used when setting someone away")
	}
	if err := v.Err(); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		u, err := auth.UserByEmail(ctx, tx, email)
		if errors.Is(err, auth.ErrNotFound) {
			return apperr.ErrNotFound
		}
		if err != nil {
			return err
		}
		var until any
		if in.Until != nil {
			until = db.T(*in.Until)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO agent_status (user_id, away, away_note, away_until, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET away = excluded.away, away_note = excluded.away_note,
			away_until = excluded.away_until, updated_at = excluded.updated_at`, u.ID, in.Away, note, until, db.T(now)); err != nil {
			return fmt.Errorf("set away: %w", err)
		}
		action := "agent.back"
		if in.Away {
			action = "agent.away"
		}
		return auditAgent(ctx, tx, actor, action, u.Email, now, map[string]any{"away": in.Away, "note": note, "until": in.Until})
	})
}

// auditAgent records a change to a person's assignment status.
func auditAgent(ctx context.Context, tx *db.Tx, actor auth.Actor, action, email string, now time.Time, after any) error {
	name := audit.ActorName(actor)
	return audit.Append(ctx, tx, now, audit.Entry{ActorID: actor.UserID, Actor: name, Action: action,
		ObjectType: "user", ObjectID: email, After: after})
}

func ptr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
