package incidents

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

// OnCall answers who is on call for a team at an instant (internal/oncall);
// no schedule (nil, nil) pages the whole team.
type OnCall interface {
	OnCallAt(ctx context.Context, team string, at time.Time) ([]string, error)
}

// CloseGuard may refuse to close an incident: it runs inside the closing
// transaction, with the incident as it is before the close, and returns an
// apperr value (a Conflict naming what is missing) to refuse.
type CloseGuard func(ctx context.Context, tx *db.Tx, inc *Incident) error

// Service runs incidents.
type Service struct {
	db     *db.DB
	desk   *desk.Service
	cases  *cases.Service
	bus    *events.Bus
	clock  clock.Clock
	log    *slog.Logger
	oncall OnCall
	timer  *deadline.Timer
	guards []CloseGuard
	// BulkBatch is how many linked cases one transaction of a bulk resolve
	// handles (default 500).
	BulkBatch int
}

// timerMaxSleep bounds the incidents timer's sleep (deadlines other nodes
// wrote); apart from the SLA (30 s) and escalation (20 s) timers' so tests
// waiting on the fake clock tell them apart.
const timerMaxSleep = 25 * time.Second

// New returns the incident service; oc answers who is on call (nil: whole
// teams are paged). Register subscribes it to new cases (auto-link rules).
func New(d *db.DB, dk *desk.Service, cs *cases.Service, c clock.Clock, log *slog.Logger, oc OnCall) *Service {
	if log == nil {
		log = slog.Default()
	}
	s := &Service{db: d, desk: dk, cases: cs, bus: cs.Bus(), clock: c, log: log, oncall: oc, BulkBatch: 500}
	s.timer = deadline.New("incidents", c, log, timerMaxSleep, s.Fire)
	return s
}

// SetCloseGuard adds a guard every close must pass (internal/postmortems:
// the postmortem a severity requires). Call it while wiring, before serving.
func (s *Service) SetCloseGuard(g CloseGuard) { s.guards = append(s.guards, g) }

// Register subscribes the service to case.created, in the creating
// transaction: the auto-link rules link a new case to open incidents.
func (s *Service) Register(bus *events.Bus) {
	bus.OnTx("incidents.autolink", s.autoLink, events.CaseCreated)
}

// RunTimer fires page deadlines, update reminders and bulk-resolve batches
// at their instants until ctx ends.
func (s *Service) RunTimer(ctx context.Context) { s.timer.Run(ctx) }

// flare is the actor of what the timer and rules do.
var flare = auth.System("Flare incidents")

// MayRead reports whether actor reads incidents: anyone signed in.
func MayRead(actor auth.Actor) bool { return actor.Can(auth.PermCaseRead) }

// MayWrite reports whether actor works incidents: the desk's staff.
func MayWrite(actor auth.Actor) bool {
	return actor.Can(auth.PermCaseWrite) && !cases.PublicOnly(actor)
}

func mayWrite(actor auth.Actor, what string) error {
	if !MayWrite(actor) {
		return &apperr.Forbidden{Detail: "your role cannot " + what + ": incidents are worked by agents, leads and admins"}
	}
	return nil
}

// --- declare ---

// DeclareInput is the body of POST /incidents.
type DeclareInput struct {
	Title      string   `json:"title"`
	Summary    string   `json:"summary"`
	Type       Type     `json:"type"`
	Severity   Severity `json:"severity"`
	Markets    []string `json:"markets"`
	Categories []string `json:"categories"`
	Sellers    []string `json:"sellers"`
	// Case declares the incident from a case (id or ESC number): it is
	// linked, and its market is the scope's when no markets are named.
	Case string `json:"case"`
	// Commander holds the role from the start (email); empty: the on-call
	// commander once they acknowledge the page, else the declarer.
	Commander  string     `json:"commander"`
	StartedAt  *time.Time `json:"started_at"`
	DetectedAt *time.Time `json:"detected_at"`

	// At backdates the declaration (the demo desk; the system actor only).
	At time.Time `json:"-"`
}

// Within runs extra writes in the transaction of a declare, such as
// storing an idempotent response.
type Within func(tx *db.Tx, inc *Incident) error

// Declare declares an incident.
func (s *Service) Declare(ctx context.Context, actor auth.Actor, in DeclareInput, within Within) (*Incident, error) {
	if err := mayWrite(actor, "declare incidents"); err != nil {
		return nil, err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	if !in.At.IsZero() && actor.IsSystem() {
		now = in.At
	}
	v := &apperr.Invalid{}
	title, summary := strings.TrimSpace(in.Title), strings.TrimSpace(in.Summary)
	input.Required(v, "title", input.Title, title)
	input.Check(v, "summary", input.Text, summary)
	if !in.Type.Valid() {
		v.Add("type", "unknown incident type %q; one of %s", in.Type, joinTypes())
	}
	if !in.Severity.Valid() {
		v.Add("severity", "unknown severity %q; one of SEV1, SEV2, SEV3, SEV4", in.Severity)
	}
	var src *cases.Case
	if ref := strings.TrimSpace(in.Case); ref != "" {
		if src, err = s.cases.Get(ctx, actor, ref); errors.Is(err, apperr.ErrNotFound) {
			v.Add("case", "no case %q that you can see", ref)
		} else if err != nil {
			return nil, err
		}
	}
	scope := checkScope(v, cfg, in.Markets, in.Categories, in.Sellers)
	if src != nil && len(scope.Markets) == 0 && src.Market != "" {
		scope.Markets = []string{src.Market} // the case's market, unless markets are named; never its seller: it is bigger than one
	}
	var commander *auth.User
	if email := auth.NormaliseEmail(in.Commander); email != "" {
		if u, err := auth.UserByEmail(ctx, s.db, email); err != nil || !u.Active || !MayWrite(auth.ActorFor(u)) {
			v.Add("commander", "no active agent, lead or admin %q", in.Commander)
		} else {
			commander = &u
		}
	}
	var km KeyMoments
	km.Started, km.Detected = ptr(now), ptr(now)
	if in.StartedAt != nil {
		km.Started = ptr(in.StartedAt.UTC())
	}
	if in.DetectedAt != nil {
		km.Detected = ptr(in.DetectedAt.UTC())
	}
	for _, m := range []Moment{Started, Detected} {
		if t := km.Get(m); t.After(now) {
			v.Add(string(m)+"_at", "is in the future")
		}
	}
	if m, err := km.CheckOrder(); err != nil {
		v.Add(string(m)+"_at", "%s", err.Error())
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	def := SeverityOf(cfg, in.Severity)
	team := SettingsOf(cfg).CommanderTeam
	pages := def.Page && team != "" && commander == nil
	var out *Incident
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var next any
		if c := def.Cadence(); c > 0 {
			next = db.T(now.Add(c))
		}
		var id int64
		var srcID any
		if src != nil {
			srcID = src.ID
		}
		if err := tx.QueryRow(ctx, `INSERT INTO incidents (title, summary, type, severity, status, markets, categories, sellers,
			source_case_id, started_at, detected_at, next_update_at, declared_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			title, summary, string(in.Type), string(in.Severity), string(Investigating), mustJSON(scope.Markets),
			mustJSON(scope.Categories), mustJSON(scope.Sellers), srcID, db.T(*km.Started), db.T(*km.Detected), next,
			db.NullID(actor.UserID), db.T(now), db.T(now)).Scan(&id); err != nil {
			return fmt.Errorf("insert incident: %w", err)
		}
		data := map[string]any{"type": in.Type, "severity": in.Severity, "markets": scope.Markets}
		if src != nil {
			data["case"] = src.Number
		}
		if err := addEntry(ctx, tx, id, actor, now, "declared", title, data); err != nil {
			return err
		}
		for _, m := range []Moment{Started, Detected} {
			if err := addEntry(ctx, tx, id, actor, *km.Get(m), "moment", "", map[string]any{"moment": m}); err != nil {
				return err
			}
		}
		switch {
		case commander != nil:
			if err := s.setRole(ctx, tx, cfg, actor, id, RoleCommander, *commander, now); err != nil {
				return err
			}
		case !pages && !actor.IsSystem():
			u, err := auth.GetUser(ctx, tx, actor.UserID)
			if err != nil {
				return err
			}
			if err := s.setRole(ctx, tx, cfg, actor, id, RoleCommander, u, now); err != nil {
				return err
			}
		}
		inc, err := s.byID(ctx, tx, cfg, id)
		if err != nil {
			return err
		}
		if err := s.audit(ctx, tx, actor, "incident.declare", inc, nil, now); err != nil {
			return err
		}
		if err := s.publish(ctx, tx, actor, events.IncidentDeclared, inc, &events.Incident{}, now); err != nil {
			return err
		}
		if src != nil {
			if _, err := s.link(ctx, tx, actor, inc, []*cases.Case{src}, "declared", now); err != nil {
				return err
			}
		}
		if pages {
			if err := s.page(ctx, tx, cfg, inc, team, 0, nil, now); err != nil {
				return err
			}
		}
		if out, err = s.byID(ctx, tx, cfg, id); err != nil {
			return err
		}
		s.timer.AfterCommit(tx, now.Add(def.Cadence()))
		if within != nil {
			return within(tx, out)
		}
		return nil
	})
	return out, err
}

// scopeOf is an incident's affected markets, categories and sellers.
type scopeOf struct{ Markets, Categories, Sellers []string }

func checkScope(v *apperr.Invalid, cfg *desk.Config, markets, categories, sellers []string) scopeOf {
	sc := scopeOf{Markets: []string{}, Categories: []string{}, Sellers: []string{}}
	input.CheckList(v, "markets", len(markets), 50)
	input.CheckList(v, "categories", len(categories), 50)
	input.CheckList(v, "sellers", len(sellers), 200)
	for i, m := range markets {
		m = strings.ToUpper(strings.TrimSpace(m))
		if _, ok := cfg.Market(m); !ok {
			v.Add(fmt.Sprintf("markets[%d]", i), "unknown market %q", markets[i])
		} else if !slices.Contains(sc.Markets, m) {
			sc.Markets = append(sc.Markets, m)
		}
	}
	for i, c := range categories {
		c = strings.TrimSpace(c)
		if _, ok := cfg.Category(c); !ok && !groupKnown(cfg, c) {
			v.Add(fmt.Sprintf("categories[%d]", i), "unknown category %q", categories[i])
		} else if !slices.Contains(sc.Categories, c) {
			sc.Categories = append(sc.Categories, c)
		}
	}
	for i, id := range sellers {
		id = strings.TrimSpace(id)
		if input.Check(v, fmt.Sprintf("sellers[%d]", i), input.Key, id) && id != "" && !slices.Contains(sc.Sellers, id) {
			sc.Sellers = append(sc.Sellers, id)
		}
	}
	return sc
}

// --- reading ---

const columns = `i.id, i.title, i.summary, i.type, i.severity, i.status, i.markets, i.categories, i.sellers,
	sc.number, i.started_at, i.detected_at, i.acknowledged_at, i.mitigated_at, i.resolved_at, i.next_update_at,
	i.last_update_at, du.email, du.name, i.created_at, i.updated_at, i.closed_at,
	(SELECT COUNT(*) FROM incident_cases ic WHERE ic.incident_id = i.id)
	FROM incidents i LEFT JOIN cases sc ON sc.id = i.source_case_id LEFT JOIN users du ON du.id = i.declared_by`

func scan(r db.Scanner) (*Incident, error) {
	var (
		inc                                  Incident
		markets, categories, sellers         string
		src                                  sql.NullInt64
		started, detected, acked, mitig, res db.Time
		next, last, created, updated, closed db.Time
		by, byName                           sql.NullString
	)
	if err := r.Scan(&inc.ID, &inc.Title, &inc.Summary, &inc.Type, &inc.Severity, &inc.Status, &markets, &categories, &sellers,
		&src, &started, &detected, &acked, &mitig, &res, &next, &last, &by, &byName, &created, &updated, &closed,
		&inc.LinkedCases); err != nil {
		return nil, err
	}
	inc.Number = FormatNumber(inc.ID)
	for _, p := range []struct {
		raw string
		to  *[]string
	}{{markets, &inc.Markets}, {categories, &inc.Categories}, {sellers, &inc.Sellers}} {
		if err := json.Unmarshal([]byte(p.raw), p.to); err != nil {
			return nil, fmt.Errorf("incident %d: %w", inc.ID, err)
		}
		if *p.to == nil {
			*p.to = []string{}
		}
	}
	if src.Valid {
		inc.SourceCase = cases.FormatNumber(src.Int64)
	}
	inc.Moments = KeyMoments{Started: started.Ptr(), Detected: detected.Ptr(), Acknowledged: acked.Ptr(),
		Mitigated: mitig.Ptr(), Resolved: res.Ptr()}
	inc.NextUpdateAt, inc.LastUpdateAt = next.Ptr(), last.Ptr()
	inc.DeclaredBy, inc.DeclaredByName = by.String, byName.String
	inc.CreatedAt, inc.UpdatedAt, inc.ClosedAt = created.Time, updated.Time, closed.Ptr()
	inc.Roles = []RoleHolder{}
	return &inc, nil
}

// byID loads the incident id with its roles and page.
func (s *Service) byID(ctx context.Context, q db.Querier, cfg *desk.Config, id int64) (*Incident, error) {
	inc, err := scan(q.QueryRow(ctx, "SELECT "+columns+" WHERE i.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load incident %d: %w", id, err)
	}
	if err := s.fill(ctx, q, cfg, []*Incident{inc}); err != nil {
		return nil, err
	}
	return inc, nil
}

// fill reads the roles and latest pages of incs.
func (s *Service) fill(ctx context.Context, q db.Querier, cfg *desk.Config, incs []*Incident) error {
	if len(incs) == 0 {
		return nil
	}
	byID := map[int64]*Incident{}
	ids := make([]any, len(incs))
	for i, inc := range incs {
		byID[inc.ID], ids[i] = inc, inc.ID
	}
	in := "(" + db.Placeholders(len(ids)) + ")"
	rows, err := q.Query(ctx, `SELECT r.incident_id, r.role, u.email, u.name, r.assigned_at FROM incident_roles r
		JOIN users u ON u.id = r.user_id WHERE r.incident_id IN `+in+` ORDER BY r.incident_id, r.role`, ids...)
	if err != nil {
		return fmt.Errorf("incident roles: %w", err)
	}
	for rows.Next() {
		var id int64
		var h RoleHolder
		var at db.Time
		if err := rows.Scan(&id, &h.Role, &h.Email, &h.Name, &at); err != nil {
			rows.Close()
			return fmt.Errorf("incident roles: %w", err)
		}
		h.AssignedAt, h.RoleName = at.Time, RoleName(cfg, h.Role)
		byID[id].Roles = append(byID[id].Roles, h)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	order := map[string]int{}
	for i, r := range RolesOf(cfg) {
		order[r.Key] = i
	}
	for _, inc := range incs {
		slices.SortFunc(inc.Roles, func(a, b RoleHolder) int { return order[a.Role] - order[b.Role] })
	}
	rows, err = q.Query(ctx, `SELECT p.id, p.incident_id, p.team, p.round, p.targets, p.due_at, u.email, p.acked_at, p.created_at
		FROM incident_pages p LEFT JOIN users u ON u.id = p.acked_by WHERE p.incident_id IN `+in+` ORDER BY p.id`, ids...)
	if err != nil {
		return fmt.Errorf("incident pages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p Page
		var incID int64
		var targets string
		var due, acked, created db.Time
		var by sql.NullString
		if err := rows.Scan(&p.ID, &incID, &p.Team, &p.Round, &targets, &due, &by, &acked, &created); err != nil {
			return fmt.Errorf("incident pages: %w", err)
		}
		if err := json.Unmarshal([]byte(targets), &p.Targets); err != nil {
			return fmt.Errorf("incident page %d: %w", p.ID, err)
		}
		p.DueAt, p.AckedBy, p.AckedAt, p.PagedAt = due.Ptr(), by.String, acked.Ptr(), created.Time
		byID[incID].Paging = &p
	}
	return rows.Err()
}

// Get returns the incident ref (INC-7 or 7) to anyone signed in.
func (s *Service) Get(ctx context.Context, actor auth.Actor, ref string) (*Incident, error) {
	if !MayRead(actor) {
		return nil, apperr.ErrNotFound
	}
	id, ok := ParseRef(ref)
	if !ok {
		return nil, apperr.ErrNotFound
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	return s.byID(ctx, s.db, cfg, id)
}

// Filter selects incidents for GET /incidents.
type Filter struct {
	Status   []Status // none: every status; "open" in the API: investigating, identified, monitoring
	Severity []Severity
	Type     []Type
	Market   string
	Cursor   string
	Limit    int
}

// ListPage is one page of incidents, newest first.
type ListPage struct {
	Incidents  []*Incident `json:"incidents"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

const sortName = "incident_id_desc"

// List lists incidents, newest first.
func (s *Service) List(ctx context.Context, actor auth.Actor, f Filter) (*ListPage, error) {
	if !MayRead(actor) {
		return nil, &apperr.Forbidden{Detail: "sign in to read incidents"}
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
	where, args := []string{"1 = 1"}, []any{}
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		where = append(where, col+" IN ("+db.Placeholders(len(vals))+")")
		for _, x := range vals {
			args = append(args, x)
		}
	}
	var sts, sevs, types []string
	for _, st := range f.Status {
		if !st.Valid() {
			v.Add("status", "unknown status %q; one of investigating, identified, monitoring, resolved, closed (or open)", st)
		}
		sts = append(sts, string(st))
	}
	for _, sv := range f.Severity {
		if !sv.Valid() {
			v.Add("severity", "unknown severity %q", sv)
		}
		sevs = append(sevs, string(sv))
	}
	for _, t := range f.Type {
		if !t.Valid() {
			v.Add("type", "unknown incident type %q", t)
		}
		types = append(types, string(t))
	}
	in("i.status", sts)
	in("i.severity", sevs)
	in("i.type", types)
	if f.Market != "" {
		if _, ok := cfg.Market(f.Market); !ok {
			v.Add("market", "unknown market %q", f.Market)
		}
	}
	if f.Cursor != "" {
		after, err := cases.DecodeCursor(f.Cursor, sortName)
		if err != nil || len(after) != 1 {
			v.Add("cursor", "is not a cursor from this list")
		} else {
			where, args = append(where, "i.id < ?"), append(args, after[0])
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	limit := f.Limit
	if f.Market != "" {
		limit = 1000 // filtered below: the markets are a JSON list
	}
	rows, err := s.db.Query(ctx, "SELECT "+columns+" WHERE "+strings.Join(where, " AND ")+" ORDER BY i.id DESC LIMIT ?",
		append(args, limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	got, err := db.Collect(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	if f.Market != "" {
		got = slices.DeleteFunc(got, func(i *Incident) bool { return !slices.Contains(i.Markets, f.Market) })
	}
	page := &ListPage{Incidents: got}
	if len(got) > f.Limit {
		page.Incidents = got[:f.Limit]
		page.NextCursor = cases.EncodeCursor(sortName, []any{page.Incidents[f.Limit-1].ID})
	}
	if err := s.fill(ctx, s.db, cfg, page.Incidents); err != nil {
		return nil, err
	}
	return page, nil
}

// OpenMajor lists the open SEV1 and SEV2 incidents (the banner across Flare).
func (s *Service) OpenMajor(ctx context.Context, actor auth.Actor) ([]*Incident, error) {
	if !MayRead(actor) {
		return nil, nil
	}
	rows, err := s.db.Query(ctx, "SELECT "+columns+` WHERE i.status IN ('investigating', 'identified', 'monitoring')
		AND i.severity IN ('SEV1', 'SEV2') ORDER BY i.severity, i.id`)
	if err != nil {
		return nil, fmt.Errorf("open incidents: %w", err)
	}
	return db.Collect(rows, scan)
}

// --- writing helpers ---

// lock loads the incident id for update in tx.
func (s *Service) lock(ctx context.Context, tx *db.Tx, cfg *desk.Config, id int64) (*Incident, error) {
	if tx.Dialect() == db.Postgres {
		if _, err := tx.Exec(ctx, `SELECT id FROM incidents WHERE id = ? FOR UPDATE`, id); err != nil {
			return nil, fmt.Errorf("lock incident %d: %w", id, err)
		}
	}
	return s.byID(ctx, tx, cfg, id)
}

// addEntry adds an entry to the incident's timeline.
func addEntry(ctx context.Context, tx *db.Tx, id int64, actor auth.Actor, at time.Time, kind, body string, data map[string]any) error {
	if data == nil {
		data = map[string]any{}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO incident_timeline (incident_id, kind, actor_id, at, body, data, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, id, kind, db.NullID(actor.UserID), db.T(at), body, mustJSON(data), db.T(at)); err != nil {
		return fmt.Errorf("incident timeline: %w", err)
	}
	return nil
}

func (s *Service) touch(ctx context.Context, tx *db.Tx, id int64, now time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE incidents SET updated_at = ? WHERE id = ?`, db.T(now), id); err != nil {
		return fmt.Errorf("touch incident %d: %w", id, err)
	}
	return nil
}

// publish publishes an event about inc in tx; p carries what is
// particular to the event, the rest is filled in from inc.
func (s *Service) publish(ctx context.Context, tx *db.Tx, actor auth.Actor, t events.Type, inc *Incident, p *events.Incident, now time.Time) error {
	p.IncidentID, p.Number, p.Title = inc.ID, inc.Number, inc.Title
	p.Type, p.Severity, p.Status, p.Markets = string(inc.Type), string(inc.Severity), string(inc.Status), inc.Markets
	return s.bus.Publish(ctx, tx, events.Event{Type: t, At: now, Actor: cases.EventActor(actor), Data: p})
}

func (s *Service) audit(ctx context.Context, tx *db.Tx, actor auth.Actor, action string, after, before *Incident, now time.Time) error {
	e := audit.Entry{ActorID: actor.UserID, Actor: audit.ActorName(actor), Action: action, ObjectType: "incident",
		ObjectID: after.Number, After: snapshot(after)}
	if before != nil {
		e.Before = snapshot(before)
	}
	return audit.Append(ctx, tx, now, e)
}

// snapshot is an incident as the audit log keeps it.
func snapshot(i *Incident) map[string]any {
	roles := map[string]string{}
	for _, r := range i.Roles {
		roles[r.Role] = r.Email
	}
	return map[string]any{"title": i.Title, "summary": i.Summary, "type": i.Type, "severity": i.Severity, "status": i.Status,
		"markets": i.Markets, "categories": i.Categories, "sellers": i.Sellers, "roles": roles, "moments": i.Moments}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("incidents: marshal %T: %v", v, err)) // only plain values reach here
	}
	return string(b)
}

func ptr(t time.Time) *time.Time { return &t }

func idString(id int64) string { return strconv.FormatInt(id, 10) }
