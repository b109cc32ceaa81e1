package cases

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/assign"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/deadline"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/input"
	"github.com/flare-desk/flare/internal/routing"
	"github.com/flare-desk/flare/internal/sla"
)

// Limits on tags; the limits on text are its kinds' (internal/input).
const (
	maxTags   = 20
	maxTagLen = 40
)

var tagRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_.:-]*$`)

// Service runs case operations against the store.
type Service struct {
	db       *db.DB
	desk     *desk.Service
	clock    clock.Clock
	md       *Markdown
	log      *slog.Logger
	timer    *deadline.Timer
	bus      *events.Bus
	assigner Assigner
}

// Assigner finds an owner for a new case inside its write transaction,
// before the case row is written: internal/assignment. It sets the case's
// owner (OwnerID, Owner, OwnerName) and status when it finds one and
// returns the timeline entries to add ("assigned", or "unassigned" with
// the reasons).
type Assigner interface {
	AssignNew(ctx context.Context, tx *db.Tx, cfg *desk.Config, c *Case, strategy assign.Strategy) ([]Entry, error)
}

// SetAssigner sets who assigns new cases on create; without one, cases
// that their team or a rule would assign stay unassigned. Call it while wiring.
func (s *Service) SetAssigner(a Assigner) { s.assigner = a }

// NewService builds the case service, publishing its events to bus (nil:
// a bus of its own, with no subscribers).
func NewService(d *db.DB, dk *desk.Service, c clock.Clock, log *slog.Logger, bus *events.Bus) *Service {
	if log == nil {
		log = slog.Default()
	}
	if bus == nil {
		bus = events.New(d, c, log, events.Options{})
	}
	s := &Service{db: d, desk: dk, clock: c, md: NewMarkdown(), log: log, bus: bus}
	s.timer = deadline.New("sla", c, log, slaMaxSleep, s.FireSLA)
	return s
}

// Markdown is the renderer used for comments.
func (s *Service) Markdown() *Markdown { return s.md }

// Within runs extra writes in the same transaction as a case change, such as
// storing an idempotent response.
type Within func(tx *db.Tx, c *Case) error

// Create validates in and writes the case, its first event and its audit
// record in one transaction.
func (s *Service) Create(ctx context.Context, actor auth.Actor, in CreateInput, within Within) (*Case, error) {
	c, err := s.Prepare(ctx, actor, in)
	if err != nil {
		return nil, err
	}
	ctx, nest := watchNested(ctx)
	prepared := *c
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		// Write fills in the case and subscribers may amend it: a re-run
		// starts again from the prepared one.
		*c = prepared
		if err := s.Write(ctx, tx, actor, c); err != nil {
			return err
		}
		if within != nil {
			return within(tx, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if nest.take(c.ID) { // a subscriber changed the new case (nested.go)
		return s.Get(ctx, auth.System("create"), strconv.FormatInt(c.ID, 10))
	}
	return c, nil
}

// Prepare checks that actor may create the case and validates it against
// the desk configuration; nothing is written.
func (s *Service) Prepare(ctx context.Context, actor auth.Actor, in CreateInput) (*Case, error) {
	if !actor.Can(auth.PermCaseCreate) {
		return nil, &apperr.Forbidden{Detail: "your role cannot create cases"}
	}
	if PublicOnly(actor) && in.Sensitivity == "restricted" {
		// They could not see it once raised: restricted cases are need-to-know.
		return nil, apperr.InvalidField("sensitivity", "account managers cannot raise restricted cases; raise it as normal and ask the desk to restrict it")
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.prepare(ctx, cfg, in)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	if !in.At.IsZero() && actor.IsSystem() {
		now = in.At.UTC().Truncate(time.Microsecond)
	}
	c.CreatedAt, c.UpdatedAt, c.CreatedBy = now, now, actor.UserID
	// Score and route it: priority, team, tags… then its clocks follow.
	f, err := factsFor(ctx, s.db, cfg, c, c.seller, now)
	if err != nil {
		return nil, err
	}
	a := assess(cfg, c, f, routing.EventCreate, false)
	c.created = &a
	if t, ok := cfg.Team(c.Team); ok && c.assignVia == "" && a.assignTo == "" && t.Assignment.AssignOnCreate {
		c.assignVia = t.Assignment.Mode()
	}
	// The clocks of a new case depend only on its creation: evaluated here,
	// outside the write transaction, and stored with the row.
	c.slaHits, c.slaDueAt = evaluateSLA(cfg, c, c.sellerTier, sla.History{Changes: []sla.Change{{At: now, Status: string(c.Status)}}}, now)
	s.attachSLA(cfg, []*Case{c})
	// The audit record's JSON is made here, in the caller's goroutine, not in
	// the write transaction; the number is the record's object id.
	if c.auditAfter, err = audit.CanonicalWithout([]byte(mustJSON(c)), "sla", "id", "number"); err != nil {
		return nil, fmt.Errorf("audit snapshot: %w", err)
	}
	return c, nil
}

// snapshot is a case as the audit log keeps it: its fields without the
// derived SLA clocks.
func snapshot(c *Case) audit.Canonical {
	snap, err := audit.CanonicalWithout([]byte(mustJSON(c)), "sla")
	if err != nil {
		panic(fmt.Sprintf("audit snapshot of %s: %v", c.Number, err)) // a Case always marshals to an object
	}
	return snap
}

// Write writes a prepared case in tx: WriteNew, then the warnings and
// breaches its clocks call for; its deadline wakes the timer once committed.
func (s *Service) Write(ctx context.Context, tx *db.Tx, actor auth.Actor, c *Case) error {
	var assigned []eventRec
	if c.created != nil && c.created.assignTo != "" { // a routing rule named the owner
		ignored := &apperr.Invalid{} // an owner who cannot take it leaves the case unassigned
		if err := s.setOwner(ctx, tx, ignored, c, c.created.assignTo, func(string, any, any) {}); err != nil {
			return err
		}
		if c.OwnerID != 0 {
			c.Status = StatusOpen
			c.auditAfter = nil
			assigned = append(assigned, eventRec{typ: "assigned", data: map[string]any{"owner": *c.Owner, "via": "routing_rule"}})
		}
	} else if c.assignVia != "" && s.assigner != nil {
		cfg, err := s.desk.Config(ctx)
		if err != nil {
			return err
		}
		entries, err := s.assigner.AssignNew(ctx, tx, cfg, c, c.assignVia)
		if err != nil {
			return err
		}
		for _, e := range entries {
			assigned = append(assigned, eventRec{typ: e.Type, data: e.Data})
		}
		if c.OwnerID != 0 {
			c.auditAfter = nil // the owner is part of the record now
		}
	}
	recorded, err := writeNew(ctx, tx, actor, c)
	if err != nil {
		return err
	}
	if c.created != nil {
		if r := routedEntry(*c.created); r != nil {
			assigned = append([]eventRec{*r}, assigned...)
		}
		if w := c.created.Outcome.Watchers; len(w) > 0 {
			var writes later
			if err := setWatchers(ctx, tx, &writes, &apperr.Invalid{}, c, w, func(string, any, any) {}); err != nil {
				return err
			}
			for _, f := range writes {
				if err := f(ctx, tx); err != nil {
					return err
				}
			}
		}
	}
	for _, e := range assigned {
		if err := addEvent(ctx, tx, c.ID, actor, c.CreatedAt, e.typ, e.data); err != nil {
			return err
		}
	}
	// Subscribers that change the new case amend it (amend.go), from the
	// record just made of it unless routing has added its watchers since.
	ctx, cr := withCreating(ctx, tx, c)
	if c.created == nil || len(c.created.Outcome.Watchers) == 0 {
		cr.recorded = recorded
	}
	if err := s.publishCreate(ctx, tx, actor, c, assigned); err != nil {
		return err
	}
	s.timer.AfterCommit(tx, c.slaDueAt)
	hits := make([]caseHit, len(c.slaHits))
	for i, h := range c.slaHits {
		hits[i] = caseHit{c, h}
	}
	return s.recordHits(ctx, tx, hits, c.CreatedAt)
}

// WriteNew writes a prepared case in tx: its number, its row, its first
// timeline event and its audit record.
func WriteNew(ctx context.Context, tx *db.Tx, actor auth.Actor, c *Case) error {
	_, err := writeNew(ctx, tx, actor, c)
	return err
}

// writeNew is WriteNew, returning the case as its audit record has it
// (snapshot(c) but perhaps without its id and number: Prepare made it).
func writeNew(ctx context.Context, tx *db.Tx, actor auth.Actor, c *Case) (recorded, error) {
	data := map[string]any{"status": c.Status, "team": c.Team, "priority": c.Priority, "channel": c.Channel}
	if c.created != nil {
		data[assessedKey] = c.created.facts // what the priority and the routing were decided on
	}
	created := mustJSON(data)
	if err := insertCase(ctx, tx, c, actor, created); err != nil {
		return recorded{}, err
	}
	r := recorded{snap: c.auditAfter, unnumbered: c.auditAfter != nil}
	if r.snap == nil {
		r.snap = snapshot(c)
	}
	return r, audit.Append(ctx, tx, c.CreatedAt, auditEntry(actor, "case.create", c, nil, r.snap))
}

// prepare validates a new case against the desk configuration.
func (s *Service) prepare(ctx context.Context, cfg *desk.Config, in CreateInput) (*Case, error) {
	return prepareWith(cfg, in, func(id string) (desk.Seller, bool, error) { return desk.SellerByID(ctx, s.db, id) })
}

// prepareWith is prepare with the seller looked up by seller.
func prepareWith(cfg *desk.Config, in CreateInput, seller func(id string) (desk.Seller, bool, error)) (*Case, error) {
	v := &apperr.Invalid{}
	c := &Case{
		Version:     1, // the column's default (migration 00027)
		Title:       strings.TrimSpace(in.Title),
		Description: strings.TrimSpace(in.Description),
		Category:    strings.TrimSpace(in.Category),
		Market:      strings.ToUpper(strings.TrimSpace(in.Market)),
		Channel:     in.Channel,
		Language:    strings.TrimSpace(in.Language),
		Sensitivity: in.Sensitivity,
		HighRisk:    in.HighRisk,
		Status:      StatusNew,
		Fields:      map[string]any{},
	}
	input.Required(v, "title", input.Title, c.Title)
	input.Check(v, "description", input.LongText, c.Description)
	if c.Channel == "" {
		c.Channel = "api"
	} else if !c.Channel.Valid() {
		v.Add("channel", "unknown channel %q; one of %s", c.Channel, joinChannels())
	}
	if c.Sensitivity == "" {
		c.Sensitivity = "normal"
	} else if !slices.Contains(Sensitivities, c.Sensitivity) {
		v.Add("sensitivity", "must be normal or restricted")
	}
	market, ok := cfg.Market(c.Market)
	switch {
	case c.Market == "":
		v.Add("market", "is required")
	case !ok:
		v.Add("market", "unknown market %q", in.Market)
	}
	if c.Language == "" && ok && len(market.Languages) > 0 {
		c.Language = market.Languages[0]
	}
	c.Language = checkLanguage(v, c.Language)
	cat, catOK := cfg.Category(c.Category)
	switch {
	case c.Category == "":
		v.Add("category", "is required")
	case !catOK:
		v.Add("category", "unknown category %q", in.Category)
	default:
		c.Team = cat.Team
		fields, errs := cat.ValidateFields(in.Fields, in.FieldsLater)
		addFieldErrors(v, errs)
		if fields != nil {
			c.Fields = fields
		}
	}
	if catOK == false && len(in.Fields) > 0 {
		v.Add("fields", "custom fields depend on the category")
	}
	if in.Requester != nil {
		c.Requester = normRequester(v, *in.Requester)
	}
	c.Tags = normTags(v, "tags", in.Tags)
	if id := strings.TrimSpace(in.SellerID); id != "" {
		seller, found, err := seller(id)
		if err != nil {
			return nil, err
		}
		if !found {
			v.Add("seller_id", "unknown seller %q", id)
		} else {
			c.SellerID, c.sellerTier, c.seller = &seller.ID, seller.Tier, &seller
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	c.EscalationLevel = 1
	return c, nil
}

// checkLanguage checks a case's language tag and returns it in canonical
// case ("fr-be" → "fr-BE").
func checkLanguage(v *apperr.Invalid, lang string) string {
	if lang == "" {
		return ""
	}
	canon, err := input.ParseLanguage(lang)
	if err != nil {
		v.Add("language", "%s", err.Error())
		return lang
	}
	return canon
}

func addFieldErrors(v *apperr.Invalid, errs []apperr.FieldError) {
	v.Errors = append(v.Errors, errs...)
}

func normRequester(v *apperr.Invalid, r Requester) Requester {
	r.Name, r.Email = strings.TrimSpace(r.Name), strings.ToLower(strings.TrimSpace(r.Email))
	input.Check(v, "requester.name", input.Name, r.Name)
	if r.Email != "" && input.Check(v, "requester.email", input.Email, r.Email) {
		if a, err := mail.ParseAddress(r.Email); err != nil || a.Address != r.Email {
			v.Add("requester.email", "is not an email address")
		}
	}
	return r
}

func normTags(v *apperr.Invalid, field string, tags []string) []string {
	out := []string{}
	for i, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		switch {
		case len(t) > maxTagLen:
			v.Add(fmt.Sprintf("%s[%d]", field, i), "is longer than %d characters", maxTagLen)
		case !tagRe.MatchString(t):
			v.Add(fmt.Sprintf("%s[%d]", field, i), "use lower-case letters, digits and _ . : -")
		case !slices.Contains(out, t):
			out = append(out, t)
		}
	}
	if len(out) > maxTags {
		v.Add(field, "at most %d tags", maxTags)
	}
	return out
}

func joinChannels() string {
	s := make([]string, len(Channels))
	for i, c := range Channels {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

// insertCase writes the case row with its number and its "created" event.
// On PostgreSQL that is one statement (one round trip); SQLite runs in
// process and cannot put an INSERT in a WITH clause.
func insertCase(ctx context.Context, tx *db.Tx, c *Case, actor auth.Actor, created string) error {
	cols := `title, description, category, channel, market, language, seller_id, requester_name, requester_email,
		priority, priority_reasons, high_risk, sensitivity, status, owner_id, team, escalation_level, tags, fields,
		created_by, created_at, updated_at, sla, sla_due_at, sla_policy, due_sort`
	args := []any{c.Title, c.Description, c.Category, string(c.Channel), c.Market, c.Language,
		c.SellerID, c.Requester.Name, c.Requester.Email, c.Priority, mustJSON(c.PriorityReasons), c.HighRisk, c.Sensitivity,
		string(c.Status), db.NullID(c.OwnerID), c.Team, c.EscalationLevel, mustJSON(c.Tags), mustJSON(c.Fields),
		db.NullID(c.CreatedBy), db.T(c.CreatedAt), db.T(c.UpdatedAt), slaJSON(c.slaStored), timeOrNil(c.slaDueAt), c.SLAPolicy, db.T(c.dueSort)}
	vals := db.Placeholders(len(args))
	var number int64
	if tx.Dialect() == db.Postgres {
		err := tx.QueryRow(ctx, `WITH c AS (INSERT INTO cases (number, `+cols+`)
			VALUES (nextval('case_number_seq'), `+vals+`) RETURNING id, number),
		e AS (INSERT INTO case_events (case_id, actor_id, type, data, created_at)
			SELECT id, ?, 'created', ?, ? FROM c)
		SELECT id, number FROM c`, append(args, db.NullID(actor.UserID), created, db.T(c.CreatedAt))...).Scan(&c.ID, &number)
		if err != nil {
			return fmt.Errorf("insert case: %w", err)
		}
	} else {
		err := tx.QueryRow(ctx, `UPDATE counters SET value = value + 1 WHERE name = 'case_number' RETURNING value`).Scan(&number)
		if err != nil {
			return fmt.Errorf("next case number: %w", err)
		}
		c.ID, err = tx.InsertID(ctx, `INSERT INTO cases (number, `+cols+`) VALUES (?, `+vals+`)`, append([]any{number}, args...)...)
		if err != nil {
			return fmt.Errorf("insert case: %w", err)
		}
		if err := addEvent(ctx, tx, c.ID, actor, c.CreatedAt, "created", json.RawMessage(created)); err != nil {
			return err
		}
	}
	c.Number = FormatNumber(number)
	return nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("cases: marshal %T: %v", v, err)) // only plain values reach here
	}
	return string(b)
}

func addEvent(ctx context.Context, tx *db.Tx, caseID int64, actor auth.Actor, at time.Time, typ string, data any) error {
	_, err := tx.Exec(ctx, `INSERT INTO case_events (case_id, actor_id, type, data, created_at) VALUES (?, ?, ?, ?, ?)`,
		caseID, db.NullID(actor.UserID), typ, mustJSON(data), db.T(at))
	if err != nil {
		return fmt.Errorf("add %s event: %w", typ, err)
	}
	return nil
}

func auditEntry(actor auth.Actor, action string, c *Case, before, after any) audit.Entry {
	name := audit.ActorName(actor)
	return audit.Entry{ActorID: actor.UserID, Actor: name, Action: action, ObjectType: "case",
		ObjectID: c.Number, Before: before, After: after}
}

// caseColumns is the select list scanCase reads.
const caseColumns = `c.id, c.number, c.title, c.description, c.category, c.channel, c.market, c.language,
	c.seller_id, c.requester_name, c.requester_email, c.priority, c.priority_reasons, c.high_risk,
	c.sensitivity, c.status, c.owner_id, u.email, u.name, c.team, c.escalation_level, c.tags, c.fields,
	c.resolution, c.resolution_note, c.reopen_count, c.repeat_contacts, c.created_by, c.created_at, c.updated_at,
	c.first_response_at, c.resolved_at, c.closed_at, c.sla, c.sla_due_at, c.sla_policy, c.due_sort, c.version
	FROM cases c LEFT JOIN users u ON u.id = c.owner_id`

type scanner interface{ Scan(dest ...any) error }

func scanCase(r scanner) (*Case, error) { return scanCaseAs(r, false) }

// scanCaseAs is scanCase; asCreated leaves out what a case has only since
// it was assessed and its clocks run (its priority reasons and stored SLA
// clocks): a replay decides those again, as on create, and decoding them
// was a tenth of its time.
func scanCaseAs(r scanner, asCreated bool) (*Case, error) {
	var (
		c                                   Case
		number                              int64
		seller, ownerEmail, ownerName       sql.NullString
		ownerID, createdBy                  sql.NullInt64
		reasons, tags, fields, slaJ         string
		created, updated, first, res, close db.Time
		slaDue, dueSort                     db.Time
	)
	err := r.Scan(&c.ID, &number, &c.Title, &c.Description, &c.Category, &c.Channel, &c.Market, &c.Language,
		&seller, &c.Requester.Name, &c.Requester.Email, &c.Priority, &reasons, &c.HighRisk,
		&c.Sensitivity, &c.Status, &ownerID, &ownerEmail, &ownerName, &c.Team, &c.EscalationLevel, &tags, &fields,
		&c.Resolution, &c.ResolutionNote, &c.ReopenCount, &c.RepeatContacts, &createdBy, &created, &updated, &first, &res, &close, &slaJ, &slaDue, &c.SLAPolicy, &dueSort, &c.Version)
	if err != nil {
		return nil, err
	}
	c.Number = FormatNumber(number)
	if seller.Valid {
		c.SellerID = &seller.String
	}
	if ownerID.Valid {
		c.OwnerID = ownerID.Int64
		c.Owner, c.OwnerName = &ownerEmail.String, ownerName.String
	}
	c.CreatedBy, c.slaDueAt, c.dueSort = createdBy.Int64, slaDue.Time, dueSort.Time
	c.CreatedAt, c.UpdatedAt = created.Time, updated.Time
	c.FirstResponseAt, c.ResolvedAt, c.ClosedAt = first.Ptr(), res.Ptr(), close.Ptr()
	if asCreated {
		reasons, slaJ = "null", "null"
	}
	if err := errors.Join(json.Unmarshal([]byte(reasons), &c.PriorityReasons), json.Unmarshal([]byte(tags), &c.Tags),
		json.Unmarshal([]byte(fields), &c.Fields), json.Unmarshal([]byte(slaJ), &c.slaStored)); err != nil {
		return nil, fmt.Errorf("case %d: stored JSON: %w", c.ID, err)
	}
	return &c, nil
}

// ParseRef reads a case reference: a numeric id or a human number.
func ParseRef(ref string) (id, number int64, ok bool) {
	if n, ok := ParseNumber(ref); ok {
		return 0, n, true
	}
	id, err := strconv.ParseInt(ref, 10, 64)
	return id, 0, err == nil && id > 0
}

// Get returns the case named by ref (id or ESC number) if actor may see it;
// otherwise apperr.ErrNotFound, so that existence does not leak.
func (s *Service) Get(ctx context.Context, actor auth.Actor, ref string) (*Case, error) {
	c, err := s.load(ctx, s.db, ref, false)
	if err != nil {
		return nil, err
	}
	if !s.CanSee(ctx, actor, c) {
		return nil, apperr.ErrNotFound
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	return s.finish(ctx, cfg, c)
}

// Find reads the case ref without asking who may see it, for capabilities
// that apply a rule of their own on top of CanSee (a handoff's receiving
// team acts on cases it may not read).
func (s *Service) Find(ctx context.Context, q db.Querier, ref string) (*Case, error) {
	return s.load(ctx, q, ref, false)
}

func (s *Service) load(ctx context.Context, q db.Querier, ref string, forUpdate bool) (*Case, error) {
	id, number, ok := ParseRef(ref)
	if !ok {
		return nil, apperr.ErrNotFound
	}
	where, arg := "c.id = ?", id
	if number > 0 {
		where, arg = "c.number = ?", number
	}
	lock := ""
	if forUpdate && q.Dialect() == db.Postgres {
		lock = " FOR UPDATE OF c"
	}
	c, err := scanCase(q.QueryRow(ctx, "SELECT "+caseColumns+" WHERE "+where+lock, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load case %s: %w", ref, err)
	}
	return c, nil
}

func watchers(ctx context.Context, q db.Querier, caseID int64) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT u.email FROM case_watchers w JOIN users u ON u.id = w.user_id WHERE w.case_id = ? ORDER BY u.email`, caseID)
	if err != nil {
		return nil, fmt.Errorf("watchers: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func slaJSON(cs []storedClock) string {
	if cs == nil {
		return "[]"
	}
	return mustJSON(cs)
}
