package desk

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/assign"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
)

// recheckEvery is how often Config looks for a version applied by another
// node.
const recheckEvery = time.Second

// applyLockKey serialises concurrent applies on PostgreSQL.
const applyLockKey = 0x666c617265_01 // "flare" 1

// Service stores the desk configuration and serves the current version.
type Service struct {
	db     *db.DB
	clock  clock.Clock
	schema *Schema

	mu      sync.Mutex
	cur     *Config // nil until loaded or after invalidation
	version int64
	checked time.Time // when the stored version was last compared
}

// Option configures a Service.
type Option func(*Service)

// WithSchema makes the Service validate, store and load the schema's
// sections; without it a Service knows desk's own keys only.
func WithSchema(schema *Schema) Option { return func(s *Service) { s.schema = schema } }

// WithClock sets the clock that times the re-check of the stored version
// (default: the real clock).
func WithClock(c clock.Clock) Option { return func(s *Service) { s.clock = c } }

// NewService returns a Service over the store.
func NewService(d *db.DB, opts ...Option) *Service {
	s := &Service{db: d, clock: clock.Real{}, schema: &Schema{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Schema returns the schema the Service applies documents with: parse a
// document with it before Apply.
func (s *Service) Schema() *Schema { return s.schema }

// Config returns the current configuration: markets, teams, categories,
// resolutions and the schema's sections (what the stored document holds). Users, Sellers and
// Teams[].Members are empty here: ask auth for users and team members and
// SellerByID for sellers. The result is shared: do not modify it.
//
// It is cached in memory; the stored version is re-checked at most once a
// second so that several nodes converge, and at once after a local Apply.
// Before anything has been applied it is an empty Config (no markets…).
func (s *Service) Config(ctx context.Context) (*Config, error) {
	c, _, err := s.current(ctx)
	return c, err
}

// Version returns the version of the configuration Config returns (0 before
// anything has been applied).
func (s *Service) Version(ctx context.Context) (int64, error) {
	_, v, err := s.current(ctx)
	return v, err
}

func (s *Service) current(ctx context.Context) (*Config, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if s.cur != nil {
		if age := now.Sub(s.checked); age >= 0 && age < recheckEvery {
			return s.cur, s.version, nil
		}
	}
	var v int64
	if err := s.db.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM desk_config`).Scan(&v); err != nil {
		return nil, 0, fmt.Errorf("desk config version: %w", err)
	}
	if s.cur == nil || v != s.version {
		c, err := loadDoc(ctx, s.db, s.schema, v)
		if err != nil {
			return nil, 0, err
		}
		s.cur, s.version = c, v
	}
	s.checked = now
	return s.cur, s.version, nil
}

// invalidate makes the next Config re-read the store.
func (s *Service) invalidate() {
	s.mu.Lock()
	s.cur = nil
	s.mu.Unlock()
}

// loadDoc reads the stored document of a version (an empty Config for 0).
func loadDoc(ctx context.Context, q db.Querier, schema *Schema, version int64) (*Config, error) {
	c := &Config{}
	if version == 0 {
		return c, nil
	}
	var doc []byte
	if err := q.QueryRow(ctx, `SELECT doc FROM desk_config WHERE version = ?`, version).Scan(&doc); err != nil {
		return nil, fmt.Errorf("desk config %d: %w", version, err)
	}
	if err := json.Unmarshal(doc, c); err != nil {
		return nil, fmt.Errorf("desk config %d: %w", version, err)
	}
	if err := schema.loadSections(doc, c); err != nil {
		return nil, fmt.Errorf("desk config %d: %w", version, err)
	}
	return c.canonical(), nil
}

// latestDoc reads the newest stored document and its version.
func latestDoc(ctx context.Context, q db.Querier, schema *Schema) (*Config, int64, error) {
	var v int64
	if err := q.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM desk_config`).Scan(&v); err != nil {
		return nil, 0, fmt.Errorf("desk config version: %w", err)
	}
	c, err := loadDoc(ctx, q, schema, v)
	return c, v, err
}

// docOf is the part of c stored in desk_config.doc: everything but users,
// sellers and team members (which live in their own tables).
func docOf(c *Config) *Config {
	d := *c
	if c.Users != nil { // a parsed document; a loaded one has Profiles already
		d.Profiles = nil
		for _, u := range c.Users {
			if !u.Profile.IsZero() {
				if d.Profiles == nil {
					d.Profiles = map[string]assign.Profile{}
				}
				d.Profiles[strings.ToLower(u.Email)] = u.Profile
			}
		}
	}
	d.Users, d.Sellers = nil, nil
	d.Teams = make([]Team, len(c.Teams))
	for i, t := range c.Teams {
		t.Members = nil
		d.Teams[i] = t
	}
	d.Teams = nilIfEmpty(d.Teams)
	return &d
}

// ApplyResult says what an Apply did.
type ApplyResult struct {
	Version int64    `json:"version"` // the version now current (unchanged when nothing changed)
	Changes []string `json:"changes"` // human lines like "market FR added", "seller S-1042 tier 2 -> 1"; empty when nothing changed
}

// Apply validates c and, when valid, makes it the desk configuration in one
// transaction: a new desk_config version, sellers upserted (sellers missing
// from c are deactivated, never deleted), users upserted and those missing
// deactivated, team memberships replaced, and one audit record. An invalid
// document, or one that would deactivate the applying user or demote them
// from admin, returns an *apperr.Invalid and writes nothing. When c changes
// nothing, nothing is written and the current version is returned.
func (s *Service) Apply(ctx context.Context, actor auth.Actor, now time.Time, c *Config) (ApplyResult, error) {
	if !actor.Can(auth.PermDeskWrite) {
		return ApplyResult{}, &apperr.Forbidden{Detail: "only admins can change the desk configuration"}
	}
	if c == nil {
		return ApplyResult{}, invalid(apperr.FieldError{Message: "no configuration given"})
	}
	if errs := s.schema.Validate(c); len(errs) > 0 {
		return ApplyResult{}, invalid(errs...)
	}
	next := s.schema.canonical(c)
	var res ApplyResult
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if tx.Dialect() == db.Postgres {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(applyLockKey)); err != nil {
				return fmt.Errorf("desk apply lock: %w", err)
			}
		}
		if !actor.IsSystem() {
			if err := checkActor(ctx, tx, actor, c); err != nil {
				return err
			}
		}
		r, err := apply(ctx, tx, s.schema, actor, now, next)
		if err != nil {
			return err
		}
		res = r
		tx.AfterCommit(s.invalidate)
		return nil
	})
	if err != nil {
		return ApplyResult{}, err
	}
	return res, nil
}

// checkActor refuses a document that would lock the applying user out.
// Paths refer to c as given (not canonically reordered).
func checkActor(ctx context.Context, tx *db.Tx, actor auth.Actor, c *Config) error {
	email := actor.Email
	var stored string
	err := tx.QueryRow(ctx, `SELECT email FROM users WHERE id = ?`, actor.UserID).Scan(&stored)
	switch {
	case err == nil:
		email = stored
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("desk apply: applying user: %w", err)
	}
	for i, u := range c.Users {
		if strings.EqualFold(u.Email, email) {
			if u.Role != auth.RoleAdmin {
				return invalid(apperr.FieldError{
					Field:   at("users", i) + ".role",
					Message: fmt.Sprintf("this would demote you (%s) from admin; ask another admin to do it", email),
				})
			}
			return nil
		}
	}
	return invalid(apperr.FieldError{
		Field:   "users",
		Message: fmt.Sprintf("this would deactivate you (%s): keep yourself in users as an admin", email),
	})
}

type storedSeller struct {
	Seller
	active bool
}

func apply(ctx context.Context, tx *db.Tx, schema *Schema, actor auth.Actor, now time.Time, next *Config) (ApplyResult, error) {
	prev, prevVersion, err := latestDoc(ctx, tx, schema)
	if err != nil {
		return ApplyResult{}, err
	}
	changes := schema.diff(prev, docOf(next))
	prevDoc, err := json.Marshal(docOf(prev))
	if err != nil {
		return ApplyResult{}, err
	}
	nextDoc, err := json.Marshal(docOf(next))
	if err != nil {
		return ApplyResult{}, err
	}
	if len(changes) == 0 && string(prevDoc) != string(nextDoc) {
		changes = append(changes, "configuration reordered")
	}

	// Users.
	users, err := auth.ListUsers(ctx, tx)
	if err != nil {
		return ApplyResult{}, fmt.Errorf("desk apply: %w", err)
	}
	byEmail := make(map[string]auth.User, len(users))
	prevActiveUsers := 0
	for _, u := range users {
		byEmail[strings.ToLower(u.Email)] = u
		if u.Active {
			prevActiveUsers++
		}
	}
	ids := make(map[string]int64, len(next.Users))
	keep := make([]string, 0, len(next.Users))
	for _, spec := range next.Users {
		key := strings.ToLower(spec.Email)
		keep = append(keep, spec.Email)
		old, exists := byEmail[key]
		var lines []string
		switch {
		case !exists:
			lines = []string{fmt.Sprintf("user %s added (%s)", spec.Email, spec.Role)}
		default:
			if !old.Active {
				lines = append(lines, fmt.Sprintf("user %s reactivated", spec.Email))
			}
			lines = append(lines, DiffFields("user "+spec.Email,
				"name", old.Name, spec.Name,
				"role", string(old.Role), string(spec.Role),
				"markets", old.Markets, spec.Markets,
				"languages", old.Languages, spec.Languages,
				"assignment", prev.Profiles[key], spec.Profile)...)
		}
		if len(lines) == 0 {
			ids[key] = old.ID
			continue
		}
		id, _, err := auth.UpsertUser(ctx, tx, now, auth.User{
			Email: spec.Email, Name: spec.Name, Role: spec.Role,
			Markets: slices.Clone(spec.Markets), Languages: slices.Clone(spec.Languages),
			Active: true,
		})
		if err != nil {
			return ApplyResult{}, fmt.Errorf("desk apply: user %s: %w", spec.Email, err)
		}
		ids[key] = id
		changes = append(changes, lines...)
	}
	deactivated, err := auth.DeactivateUsersExcept(ctx, tx, now, keep)
	if err != nil {
		return ApplyResult{}, fmt.Errorf("desk apply: deactivate users: %w", err)
	}
	slices.Sort(deactivated)
	for _, e := range deactivated {
		changes = append(changes, fmt.Sprintf("user %s deactivated", e))
	}

	// Team members.
	members, err := teamMembers(ctx, tx, false)
	if err != nil {
		return ApplyResult{}, err
	}
	teams := map[string]bool{}
	for _, t := range next.Teams {
		teams[t.Key] = true
		want := make([]int64, 0, len(t.Members))
		for _, m := range t.Members {
			want = append(want, ids[strings.ToLower(m)])
		}
		lines := diffSet("team "+t.Key+" member", members[t.Key], t.Members)
		if len(lines) == 0 {
			continue
		}
		if err := auth.SetTeamMembers(ctx, tx, t.Key, want); err != nil {
			return ApplyResult{}, fmt.Errorf("desk apply: team %s members: %w", t.Key, err)
		}
		changes = append(changes, lines...)
	}
	for _, team := range sortedKeys(members) {
		if teams[team] {
			continue
		}
		if err := auth.SetTeamMembers(ctx, tx, team, nil); err != nil {
			return ApplyResult{}, fmt.Errorf("desk apply: team %s members: %w", team, err)
		}
		changes = append(changes, diffSet("team "+team+" member", members[team], nil)...)
	}

	// Sellers.
	stored, err := loadSellers(ctx, tx)
	if err != nil {
		return ApplyResult{}, err
	}
	prevActiveSellers := 0
	for _, s := range stored {
		if s.active {
			prevActiveSellers++
		}
	}
	inDoc := make(map[string]bool, len(next.Sellers))
	for _, s := range next.Sellers {
		inDoc[s.ID] = true
		old, exists := stored[s.ID]
		var lines []string
		switch {
		case !exists:
			lines = []string{fmt.Sprintf("seller %s added", s.ID)}
		default:
			if !old.active {
				lines = append(lines, fmt.Sprintf("seller %s reactivated", s.ID))
			}
			lines = append(lines, DiffFields("seller "+s.ID,
				"name", old.Name, s.Name,
				"market", old.Market, s.Market,
				"tier", old.Tier, s.Tier,
				"account_manager", old.AccountManager, s.AccountManager,
				"risk_flags", old.RiskFlags, s.RiskFlags)...)
		}
		if len(lines) == 0 {
			continue
		}
		if err := upsertSeller(ctx, tx, s); err != nil {
			return ApplyResult{}, err
		}
		changes = append(changes, lines...)
	}
	for _, id := range sortedKeys(stored) {
		if s := stored[id]; s.active && !inDoc[id] {
			if _, err := tx.Exec(ctx, `UPDATE sellers SET active = FALSE WHERE external_id = ?`, id); err != nil {
				return ApplyResult{}, fmt.Errorf("desk apply: deactivate seller %s: %w", id, err)
			}
			changes = append(changes, fmt.Sprintf("seller %s deactivated", id))
		}
	}

	if len(changes) == 0 {
		return ApplyResult{Version: prevVersion}, nil
	}

	var version int64
	var appliedBy any
	if !actor.IsSystem() {
		appliedBy = actor.UserID
	}
	if err := tx.QueryRow(ctx, `INSERT INTO desk_config (doc, applied_at, applied_by) VALUES (?, ?, ?) RETURNING version`,
		string(nextDoc), db.T(now), appliedBy).Scan(&version); err != nil {
		return ApplyResult{}, fmt.Errorf("desk apply: store config: %w", err)
	}

	name := audit.ActorName(actor)
	before := summary(prevVersion, prev, prevActiveUsers, prevActiveSellers)
	after := summary(version, next, len(next.Users), len(next.Sellers))
	const maxAuditLines = 1000
	after["changes_total"] = len(changes)
	after["changes"] = changes[:min(len(changes), maxAuditLines)]
	if err := audit.Append(ctx, tx, now, audit.Entry{
		ActorID: actor.UserID, Actor: name,
		Action: "desk.apply", ObjectType: "desk", ObjectID: "config",
		Before: before, After: after,
	}); err != nil {
		return ApplyResult{}, fmt.Errorf("desk apply: audit: %w", err)
	}
	return ApplyResult{Version: version, Changes: changes}, nil
}

func summary(version int64, c *Config, users, sellers int) map[string]any {
	return map[string]any{
		"version":     version,
		"markets":     len(c.Markets),
		"teams":       len(c.Teams),
		"categories":  len(c.Categories),
		"resolutions": len(c.Resolutions),
		"users":       users,
		"sellers":     sellers,
	}
}

// teamMembers returns each team's member emails, sorted (only active users
// when activeOnly).
func teamMembers(ctx context.Context, q db.Querier, activeOnly bool) (map[string][]string, error) {
	query := `SELECT tm.team, u.email FROM team_members tm JOIN users u ON u.id = tm.user_id`
	if activeOnly {
		query += ` WHERE u.active`
	}
	rows, err := q.Query(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("team members: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var team, email string
		if err := rows.Scan(&team, &email); err != nil {
			return nil, fmt.Errorf("team members: %w", err)
		}
		out[team] = append(out[team], email)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("team members: %w", err)
	}
	for k, v := range out {
		out[k] = sortedEmails(v)
	}
	return out, nil
}

const sellerColumns = `external_id, name, market, tier, account_manager, risk_flags, active`

func scanSeller(sc interface{ Scan(...any) error }) (storedSeller, error) {
	var s storedSeller
	var flags []byte
	if err := sc.Scan(&s.ID, &s.Name, &s.Market, &s.Tier, &s.AccountManager, &flags, &s.active); err != nil {
		return s, err
	}
	if len(flags) > 0 {
		if err := json.Unmarshal(flags, &s.RiskFlags); err != nil {
			return s, fmt.Errorf("seller %s risk flags: %w", s.ID, err)
		}
	}
	s.RiskFlags = nilIfEmpty(s.RiskFlags)
	s.Inactive = !s.active
	return s, nil
}

func loadSellers(ctx context.Context, q db.Querier) (map[string]storedSeller, error) {
	rows, err := q.Query(ctx, `SELECT `+sellerColumns+` FROM sellers`)
	if err != nil {
		return nil, fmt.Errorf("sellers: %w", err)
	}
	defer rows.Close()
	out := map[string]storedSeller{}
	for rows.Next() {
		s, err := scanSeller(rows)
		if err != nil {
			return nil, fmt.Errorf("sellers: %w", err)
		}
		out[s.ID] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sellers: %w", err)
	}
	return out, nil
}

func upsertSeller(ctx context.Context, tx *db.Tx, s Seller) error {
	flags := s.RiskFlags
	if flags == nil {
		flags = []string{}
	}
	fj, err := json.Marshal(flags)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO sellers (`+sellerColumns+`) VALUES (?, ?, ?, ?, ?, ?, TRUE)
		ON CONFLICT (external_id) DO UPDATE SET name = excluded.name, market = excluded.market, tier = excluded.tier,
			account_manager = excluded.account_manager, risk_flags = excluded.risk_flags, active = TRUE`,
		s.ID, s.Name, s.Market, s.Tier, s.AccountManager, string(fj))
	if err != nil {
		return fmt.Errorf("desk apply: seller %s: %w", s.ID, err)
	}
	return nil
}

// SellerByID returns the seller with the external id, found or not.
// Deactivated sellers (no longer in the applied document) are returned too,
// with Inactive set: cases keep referring to them.
func SellerByID(ctx context.Context, q db.Querier, externalID string) (Seller, bool, error) {
	s, err := scanSeller(q.QueryRow(ctx, `SELECT `+sellerColumns+` FROM sellers WHERE external_id = ?`, externalID))
	if errors.Is(err, sql.ErrNoRows) {
		return Seller{}, false, nil
	}
	if err != nil {
		return Seller{}, false, fmt.Errorf("seller %s: %w", externalID, err)
	}
	return s.Seller, true, nil
}

// Sellers returns the active sellers, by name; with accountManager set
// (an email), only those that user is the account manager of (the
// account-manager portal's seller list).
func Sellers(ctx context.Context, q db.Querier, accountManager string) ([]Seller, error) {
	cond, args := "", []any{}
	if accountManager != "" {
		cond, args = " AND account_manager = ?", append(args, strings.ToLower(accountManager))
	}
	rows, err := q.Query(ctx, `SELECT `+sellerColumns+` FROM sellers WHERE active = TRUE`+cond+` ORDER BY name, external_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("sellers: %w", err)
	}
	defer rows.Close()
	out := []Seller{}
	for rows.Next() {
		s, err := scanSeller(rows)
		if err != nil {
			return nil, fmt.Errorf("sellers: %w", err)
		}
		out = append(out, s.Seller)
	}
	return out, rows.Err()
}

// Export returns the whole current configuration as a document: the stored
// document, active sellers, active users and team members. Apply of the
// result (or of Parse(Marshal(result))) changes nothing.
// ApplyDocument parses data (YAML, or JSON, which is YAML too) and applies
// it as actor; dryRun only validates it (the result is then nil). Only
// admins may, and the permission is checked before anything is read.
func (s *Service) ApplyDocument(ctx context.Context, actor auth.Actor, now time.Time, data []byte, dryRun bool) (*ApplyResult, error) {
	if !actor.Can(auth.PermDeskWrite) {
		return nil, &apperr.Forbidden{Detail: "only admins can change the desk configuration"}
	}
	c, err := s.schema.Parse(bytes.TrimSpace(data))
	if err != nil || dryRun {
		return nil, err
	}
	res, err := s.Apply(ctx, actor, now, c)
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// Proposal parses data as ApplyDocument does, with the same validation,
// and applies nothing: the document a what-if replays. Only admins may.
func (s *Service) Proposal(ctx context.Context, actor auth.Actor, data []byte) (*Config, error) {
	if !actor.Can(auth.PermDeskWrite) {
		return nil, &apperr.Forbidden{Detail: "only admins can change the desk configuration"}
	}
	return s.schema.Parse(bytes.TrimSpace(data))
}

// ExportFor is Export for actor: the whole document, users and sellers
// included, is for admins and leads.
func (s *Service) ExportFor(ctx context.Context, actor auth.Actor) (*Config, error) {
	if !actor.Can(auth.PermDeskWrite) && actor.Role != auth.RoleLead {
		return nil, &apperr.Forbidden{Detail: "only admins and leads can read the desk configuration"}
	}
	return s.Export(ctx)
}

// ConfigFor is Config for actor, who must hold desk.read.
func (s *Service) ConfigFor(ctx context.Context, actor auth.Actor) (*Config, error) {
	if !actor.Can(auth.PermDeskRead) {
		return nil, &apperr.Forbidden{Detail: "your role cannot read the desk configuration"}
	}
	return s.Config(ctx)
}

func (s *Service) Export(ctx context.Context) (*Config, error) {
	doc, _, err := latestDoc(ctx, s.db, s.schema)
	if err != nil {
		return nil, err
	}
	c := *doc
	members, err := teamMembers(ctx, s.db, true)
	if err != nil {
		return nil, err
	}
	c.Teams = nil
	for _, t := range doc.Teams {
		t.Members = members[t.Key]
		c.Teams = append(c.Teams, t)
	}
	users, err := auth.ListUsers(ctx, s.db)
	if err != nil {
		return nil, fmt.Errorf("desk export: %w", err)
	}
	for _, u := range users {
		if !u.Active {
			continue
		}
		c.Users = append(c.Users, UserSpec{
			Email: u.Email, Name: u.Name, Role: u.Role,
			Markets: slices.Clone(u.Markets), Languages: slices.Clone(u.Languages),
			Profile: doc.Profiles[strings.ToLower(u.Email)],
		})
	}
	sellers, err := loadSellers(ctx, s.db)
	if err != nil {
		return nil, err
	}
	for _, id := range sortedKeys(sellers) {
		if sl := sellers[id]; sl.active {
			c.Sellers = append(c.Sellers, sl.Seller)
		}
	}
	c.Profiles = nil // now on the users
	return c.canonical(), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
