package reports

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/sla"
)

// The fact cache keeps the period reports' rows in memory, by bucket, so
// that a report over a month of a million-case desk does not read ~190,000
// fact rows from the store each time. A fact's bucket is a kind and a UTC
// day: an active case's by the day it was created ("a"), a resolved one's
// by the day it was resolved ("r"), the rest (closed without a resolution)
// by the day they were created ("c"). Every fact write bumps, in its own
// transaction, the version of the buckets the fact leaves and enters
// (report_buckets, migration 00032). A report reads the versions and the
// buckets whose version moved in one snapshot, so the rows it computes on
// are exactly the committed facts of one instant, as if read from the
// table — on every node, whichever node wrote them.

// maxCachedRows bounds the rows kept (~0.5 kB each). A report that needs
// more is still computed from all of them; the least recently used
// buckets are dropped afterwards.
const maxCachedRows = 400_000

const (
	bucketActive   = 'a'
	bucketResolved = 'r'
	bucketClosed   = 'c'
)

// bucketOf is a fact's bucket.
func bucketOf(created time.Time, resolved *time.Time, active bool) string {
	switch {
	case active:
		return string(bucketActive) + dayKey(created)
	case resolved != nil:
		return string(bucketResolved) + dayKey(*resolved)
	}
	return string(bucketClosed) + dayKey(created)
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func dayKey(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func dayStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// bumpBuckets raises the version of each bucket, in the order given
// (sorted: two transactions lock the rows in the same order).
func bumpBuckets(ctx context.Context, tx *db.Tx, buckets []string) error {
	for rest := buckets; len(rest) > 0; {
		n := min(len(rest), 500)
		args := make([]any, n)
		for i, b := range rest[:n] {
			args[i] = b
		}
		q := `INSERT INTO report_buckets (bucket, version) VALUES ` + strings.TrimSuffix(strings.Repeat("(?, 1), ", n), ", ") +
			` ON CONFLICT (bucket) DO UPDATE SET version = report_buckets.version + 1`
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("report buckets: %w", err)
		}
		rest = rest[n:]
	}
	return nil
}

type factCache struct {
	mu      sync.Mutex
	cfg     *desk.Config // the desk the rows were derived in (calendars)
	buckets map[string]*bucket
	held    int          // rows in buckets
	tick    uint64       // for least recently used
	maxRows int          // 0: maxCachedRows
	read    atomic.Int64 // buckets read from the store
}

// bucket is one bucket's rows at a version; never changed once built.
type bucket struct {
	version int64
	rows    []Row
	used    uint64
}

// view is what a report reads: the facts whose rows can count in
// [from, to), as of one snapshot.
type view struct {
	buckets []*bucket
	users   map[int64]string // id → email, when asked for
	tiers   map[string]int   // seller external id → tier, when asked for
}

// load returns the view of [from, to) in cfg, reading from the store only
// what moved since the cache last read it; people also reads the owners'
// emails and sellers' tiers (Row.Agent, Row.SellerTier).
func (c *factCache) load(ctx context.Context, d *db.DB, cfg *desk.Config, from, to time.Time, people bool) (*view, error) {
	// Inside a caller's transaction the rows may hold what it has not
	// committed: read, but keep nothing.
	keep := !d.Joined(ctx)
	v := &view{}
	err := d.InSnapshot(ctx, func(snap *db.Snapshot) error {
		versions, err := readVersions(ctx, snap)
		if err != nil {
			return err
		}
		need, err := neededBuckets(ctx, snap, from, to)
		if err != nil {
			return err
		}
		var stale []string
		have := map[string]*bucket{}
		c.mu.Lock()
		if c.cfg != cfg {
			c.cfg, c.buckets, c.held = cfg, map[string]*bucket{}, 0
		}
		c.tick++
		for _, k := range need {
			if b := c.buckets[k]; b != nil && b.version == versions[k] && keep {
				b.used = c.tick
				have[k] = b
			} else {
				stale = append(stale, k)
			}
		}
		c.mu.Unlock()
		loaded, err := loadBuckets(ctx, snap, cfg, stale, versions)
		if err != nil {
			return err
		}
		c.read.Add(int64(len(stale)))
		for _, k := range need {
			if b := have[k]; b != nil {
				v.buckets = append(v.buckets, b)
			} else {
				v.buckets = append(v.buckets, loaded[k])
			}
		}
		if keep {
			c.install(cfg, loaded, need)
		}
		if people {
			if v.users, v.tiers, err = readPeople(ctx, snap); err != nil {
				return err
			}
		}
		return nil
	})
	return v, err
}

// install keeps the loaded buckets (read in cfg) and drops the least recently used ones
// over the bound (never one of need, the buckets of the report in hand).
func (c *factCache) install(cfg *desk.Config, loaded map[string]*bucket, need []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg != cfg { // the desk changed while these were read: derived in the old one
		return
	}
	for k, b := range loaded {
		old := c.buckets[k]
		if old != nil && old.version > b.version { // a later read kept a newer one meanwhile
			continue
		}
		if old != nil {
			c.held -= len(old.rows)
		}
		b.used = c.tick
		c.buckets[k] = b
		c.held += len(b.rows)
	}
	limit := cmp.Or(c.maxRows, maxCachedRows)
	if c.held <= limit {
		return
	}
	inUse := map[string]bool{}
	for _, k := range need {
		inUse[k] = true
	}
	keys := slices.SortedFunc(maps.Keys(c.buckets), func(a, b string) int { return cmp.Compare(c.buckets[a].used, c.buckets[b].used) })
	for _, k := range keys {
		if c.held <= limit {
			break
		}
		if !inUse[k] {
			c.held -= len(c.buckets[k].rows)
			delete(c.buckets, k)
		}
	}
}

func readVersions(ctx context.Context, snap *db.Snapshot) (map[string]int64, error) {
	res, err := snap.Query(ctx, `SELECT bucket, version FROM report_buckets`)
	if err != nil {
		return nil, fmt.Errorf("report buckets: %w", err)
	}
	defer res.Close()
	out := map[string]int64{}
	for res.Next() {
		var k string
		var n int64
		if err := res.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("report buckets: %w", err)
		}
		out[k] = n
	}
	return out, res.Err()
}

// neededBuckets are the buckets that hold every fact that can count in
// [from, to) — created in it, or before its end and resolved since its
// start or still active: the active ones created by its end, the
// resolved since its start, the closed ones created in it. (A resolution
// never precedes its creation.)
func neededBuckets(ctx context.Context, snap *db.Snapshot, from, to time.Time) ([]string, error) {
	var firstActive, lastResolved db.Time
	if err := snap.QueryRow(ctx, `SELECT MIN(created_at) FROM report_facts WHERE active = ?`, true).Scan(&firstActive); err != nil {
		return nil, fmt.Errorf("report buckets: %w", err)
	}
	if err := snap.QueryRow(ctx, `SELECT MAX(resolved_at) FROM report_facts`).Scan(&lastResolved); err != nil {
		return nil, fmt.Errorf("report buckets: %w", err)
	}
	last := to.Add(-time.Nanosecond)
	var out []string
	days := func(kind byte, a, b time.Time) {
		for d := dayStart(a); !d.After(b); d = d.AddDate(0, 0, 1) {
			out = append(out, string(kind)+dayKey(d))
		}
	}
	if !firstActive.IsZero() {
		days(bucketActive, firstActive.Time, last)
	}
	// Resolved since from: up to the last resolution, and at least to the
	// period's end (the buckets of days still to come stay cached, empty,
	// until a resolution moves them).
	days(bucketResolved, from, maxTime(last, lastResolved.Time))
	days(bucketClosed, from, last)
	return out, nil
}

// loadBuckets reads the keys' facts, a run of consecutive days of one
// kind in one query.
func loadBuckets(ctx context.Context, snap *db.Snapshot, cfg *desk.Config, keys []string, versions map[string]int64) (map[string]*bucket, error) {
	out := make(map[string]*bucket, len(keys))
	for _, k := range keys {
		out[k] = &bucket{version: versions[k]}
	}
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	sc := newRowScanner(cfg)
	for i := 0; i < len(sorted); {
		kind := sorted[i][0]
		first, err := time.Parse(time.DateOnly, sorted[i][1:])
		if err != nil {
			return nil, fmt.Errorf("report buckets: %q: %w", sorted[i], err)
		}
		end := first.AddDate(0, 0, 1)
		j := i + 1
		for ; j < len(sorted) && sorted[j][0] == kind && sorted[j][1:] == dayKey(end); j++ {
			end = end.AddDate(0, 0, 1)
		}
		i = j
		var where string
		var args []any
		switch kind {
		case bucketActive:
			where, args = `f.active = ? AND f.created_at >= ? AND f.created_at < ?`, []any{true, db.T(first), db.T(end)}
		case bucketResolved:
			// The few active ones among them (reopened) are skipped below:
			// with "active = false" here, SQLite would walk the active index.
			where, args = `f.resolved_at >= ? AND f.resolved_at < ?`, []any{db.T(first), db.T(end)}
		default:
			where, args = `f.created_at >= ? AND f.created_at < ? AND f.active = ? AND f.resolved_at IS NULL`, []any{db.T(first), db.T(end), false}
		}
		res, err := snap.Query(ctx, `SELECT `+rowCols+` FROM report_facts f WHERE `+where, args...)
		if err != nil {
			return nil, fmt.Errorf("report rows: %w", err)
		}
		for res.Next() {
			r, err := sc.scan(res)
			if err != nil {
				res.Close()
				return nil, err
			}
			if b := out[bucketOf(r.CreatedAt, r.ResolvedAt, r.Active)]; b != nil {
				b.rows = append(b.rows, r)
			}
		}
		res.Close()
		if err := res.Err(); err != nil {
			return nil, fmt.Errorf("report rows: %w", err)
		}
	}
	for _, b := range out {
		b.rows = slices.Clip(b.rows)
	}
	return out, nil
}

func readPeople(ctx context.Context, snap *db.Snapshot) (map[int64]string, map[string]int, error) {
	users := map[int64]string{}
	res, err := snap.Query(ctx, `SELECT id, email FROM users`)
	if err != nil {
		return nil, nil, fmt.Errorf("report rows: users: %w", err)
	}
	for res.Next() {
		var id int64
		var email string
		if err := res.Scan(&id, &email); err != nil {
			res.Close()
			return nil, nil, fmt.Errorf("report rows: users: %w", err)
		}
		users[id] = email
	}
	res.Close()
	if err := res.Err(); err != nil {
		return nil, nil, fmt.Errorf("report rows: users: %w", err)
	}
	tiers := map[string]int{}
	res, err = snap.Query(ctx, `SELECT external_id, tier FROM sellers`)
	if err != nil {
		return nil, nil, fmt.Errorf("report rows: sellers: %w", err)
	}
	defer res.Close()
	for res.Next() {
		var id string
		var tier int
		if err := res.Scan(&id, &tier); err != nil {
			return nil, nil, fmt.Errorf("report rows: sellers: %w", err)
		}
		tiers[id] = tier
	}
	return users, tiers, res.Err()
}

// rowCols are the facts' columns a Row is read from (rowScanner).
const rowCols = `f.team, f.market, f.category, f.channel, f.priority, f.owner_id, f.seller_id,
	f.created_at, f.first_response_at, f.resolved_at, f.active, f.reopen_count, f.clocks, f.calendar,
	f.first_response_business_ns, f.resolution_business_ns, f.escalated, f.repeat_contact`

// rowScanner reads Rows from facts in one desk configuration.
type rowScanner struct {
	cfg   *desk.Config
	teams map[string]teamCal
	// The dimensions repeat across rows: read as bytes and interned, they
	// cost one string each per load rather than per row.
	names map[string]string
	arena arena
}

// arena hands out the values rows point to from chunks allocated
// together, so that a bucket's rows and what they point to lie close in
// memory: a report walks ~200,000 rows, and scattered, each pointer
// followed is a cache miss.
type arena struct {
	times  []time.Time
	durs   []time.Duration
	clocks []Clock
}

const arenaChunk = 4096

func (a *arena) time(t time.Time) *time.Time {
	if len(a.times) == cap(a.times) {
		a.times = make([]time.Time, 0, arenaChunk)
	}
	a.times = append(a.times, t)
	return &a.times[len(a.times)-1]
}

func (a *arena) dur(d time.Duration) *time.Duration {
	if len(a.durs) == cap(a.durs) {
		a.durs = make([]time.Duration, 0, arenaChunk)
	}
	a.durs = append(a.durs, d)
	return &a.durs[len(a.durs)-1]
}

// copyClocks returns cs copied into the arena (a full slice: appending
// to it cannot overwrite a neighbour's).
func (a *arena) copyClocks(cs []Clock) []Clock {
	if len(cs) == 0 {
		return nil
	}
	if cap(a.clocks)-len(a.clocks) < len(cs) {
		a.clocks = make([]Clock, 0, max(arenaChunk, len(cs)))
	}
	n := len(a.clocks)
	a.clocks = append(a.clocks, cs...)
	out := a.clocks[n : n+len(cs) : n+len(cs)]
	for i := range out {
		if out[i].DueAt != nil {
			out[i].DueAt = a.time(*out[i].DueAt)
		}
	}
	return out
}

type teamCal struct {
	cal *sla.Calendar
	key string
}

func newRowScanner(cfg *desk.Config) *rowScanner {
	return &rowScanner{cfg: cfg, teams: map[string]teamCal{}, names: map[string]string{}}
}

func (s *rowScanner) intern(b string) string {
	if v, ok := s.names[b]; ok {
		return v
	}
	s.names[b] = b
	return b
}

func (s *rowScanner) internBytes(b sql.RawBytes) string {
	if v, ok := s.names[string(b)]; ok {
		return v
	}
	return s.intern(string(b))
}

func (s *rowScanner) scan(res *sql.Rows) (Row, error) {
	var (
		r                                         Row
		team, market, category, channel, priority sql.RawBytes
		clocks, calendar                          sql.RawBytes
		owner                                     sql.NullInt64
		seller                                    sql.NullString
		created, first, resolve                   db.Time
		firstB, resolB                            sql.NullInt64
	)
	err := res.Scan(&team, &market, &category, &channel, &priority, &owner, &seller,
		&created, &first, &resolve, &r.Active, &r.Reopens, &clocks, &calendar, &firstB, &resolB, &r.Escalated, &r.Repeat)
	if err != nil {
		return Row{}, fmt.Errorf("report rows: %w", err)
	}
	r.Team, r.Market, r.Category = s.internBytes(team), s.internBytes(market), s.internBytes(category)
	r.Channel, r.Priority = s.internBytes(channel), s.internBytes(priority)
	r.ownerID, r.sellerID = owner.Int64, seller.String
	r.CreatedAt = created.Time
	if !first.IsZero() {
		r.FirstResponseAt = s.arena.time(first.UTC())
	}
	if !resolve.IsZero() {
		r.ResolvedAt = s.arena.time(resolve.UTC())
	}
	cs, err := decodeClocks(string(clocks), s.intern)
	if err != nil {
		return Row{}, err
	}
	r.Clocks = s.arena.copyClocks(cs)
	t, ok := s.teams[r.Team]
	if !ok {
		t = teamCal{teamCalendar(s.cfg, r.Team), calendarKey(s.cfg, r.Team)}
		s.teams[r.Team] = t
	}
	r.Calendar = t.cal
	// Durations computed in another calendar than the team's now are left
	// for Compute to compute again.
	if string(calendar) == t.key {
		if firstB.Valid && r.FirstResponseAt != nil {
			r.FirstResponseBusiness = s.arena.dur(time.Duration(firstB.Int64))
		}
		if resolB.Valid && r.ResolvedAt != nil {
			r.ResolutionBusiness = s.arena.dur(time.Duration(resolB.Int64))
		}
	}
	return r, nil
}

// counts reports whether r can count in [from, to): created in it, or
// created before its end and resolved since its start or still active —
// the rows a report over [from, to) reads.
func (r *Row) counts(from, to time.Time) bool {
	if !r.CreatedAt.Before(to) {
		return false
	}
	return !r.CreatedAt.Before(from) || r.ResolvedAt != nil && !r.ResolvedAt.Before(from) || r.Active
}

// matches reports whether r is in f's slice (f.Tier through tiers).
func (r *Row) matches(f Filter, tiers map[string]int) bool {
	switch {
	case f.Market != "" && r.Market != f.Market, f.Team != "" && r.Team != f.Team,
		f.Category != "" && r.Category != f.Category, f.Channel != "" && r.Channel != f.Channel,
		f.Priority != "" && r.Priority != f.Priority:
		return false
	case f.Tier > 0:
		return tiers[r.sellerID] == f.Tier
	}
	return true
}

// pick returns the view's rows that count in [from, to) and are in f's
// slice. With people, each is a copy carrying its owner's email and its
// seller's tier; without, the cached rows themselves (not to be changed).
func (v *view) pick(f Filter, from, to time.Time, people bool) []*Row {
	var out []*Row
	for _, b := range v.buckets {
		for i := range b.rows {
			r := &b.rows[i]
			if !r.counts(from, to) || !r.matches(f, v.tiers) {
				continue
			}
			if people {
				c := *r
				c.Agent = v.users[r.ownerID]
				if r.sellerID != "" {
					c.SellerTier = v.tiers[r.sellerID]
				}
				r = &c
			}
			out = append(out, r)
		}
	}
	return out
}

// warmDays is how far back Warm reads: the reporting page's default four
// weeks and the four before, which its figures compare with.
const warmDays = 60

// Warm reads into the fact cache the facts of the reporting page's
// default period and the one before, so that the first report after a
// start does not wait for them (a month of a million-case desk: seconds).
func (s *Service) Warm(ctx context.Context) error {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	_, err = s.facts.load(ctx, s.db, cfg, now.AddDate(0, 0, -warmDays), now, false)
	return err
}
