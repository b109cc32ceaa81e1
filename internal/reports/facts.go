package reports

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/sla"
)

// Report facts (report_facts, migration 00029): one narrow row per case
// holding what the period reports read, so that a report reads those
// instead of the full case rows (their SLA clocks' JSON decoded) and does
// not recompute each case's business-time durations. The metrics are
// still computed from rows by Compute: the facts only change where a row's
// values are read from, never a definition.

// fact is one case's row of report_facts.
type fact struct {
	caseID                                    int64
	team, market, category, channel, priority string
	ownerID                                   sql.NullInt64
	sellerID                                  sql.NullString
	created                                   time.Time
	first, resolved                           *time.Time
	active                                    bool
	reopens                                   int
	escalated, repeat                         bool
	clocks                                    string // encodeClocks
	calendar                                  string // calendarKey of the team when the durations were computed
	firstB, resolB                            sql.NullInt64
}

// caseCols are the case row's columns a fact is made from.
// Escalated and repeat are read here too: an escalation and a repeat link
// are written in the transaction of an event of their case (escalation.*,
// case.created), whose facts are derived just before it commits.
const caseCols = `c.id, c.team, c.market, c.category, c.channel, c.priority, c.owner_id, c.seller_id, c.created_at,
	c.first_response_at, c.resolved_at, c.status, c.reopen_count, c.sla,
	EXISTS (SELECT 1 FROM escalations e WHERE e.case_id = c.id),
	EXISTS (SELECT 1 FROM case_links l WHERE l.case_id = c.id AND l.kind = 'repeat')`

// scanFact reads a case row (caseCols) and derives its fact in cfg.
func scanFact(sc interface{ Scan(...any) error }, cfg *desk.Config) (fact, error) {
	var (
		f                       fact
		created, first, resolve db.Time
		status, stored          string
	)
	if err := sc.Scan(&f.caseID, &f.team, &f.market, &f.category, &f.channel, &f.priority, &f.ownerID, &f.sellerID,
		&created, &first, &resolve, &status, &f.reopens, &stored, &f.escalated, &f.repeat); err != nil {
		return fact{}, err
	}
	f.created, f.first, f.resolved = created.Time, first.Ptr(), resolve.Ptr()
	f.active = cases.Status(status).Active()
	clocks, err := parseClocks(stored)
	if err != nil {
		return fact{}, err
	}
	f.clocks = encodeClocks(clocks)
	cal := teamCalendar(cfg, f.team)
	f.calendar = calendarKey(cfg, f.team)
	r := Row{Calendar: cal}
	if f.first != nil {
		f.firstB = sql.NullInt64{Int64: int64(business(&r, f.created, *f.first)), Valid: true}
	}
	if f.resolved != nil {
		f.resolB = sql.NullInt64{Int64: int64(business(&r, f.created, *f.resolved)), Valid: true}
	}
	return f, nil
}

func (f *fact) args() []any {
	var sellerID any
	if f.sellerID.Valid && f.sellerID.String != "" {
		sellerID = f.sellerID.String
	}
	var ownerID any
	if f.ownerID.Valid {
		ownerID = f.ownerID.Int64
	}
	tp := func(t *time.Time) any {
		if t == nil {
			return nil
		}
		return db.T(*t)
	}
	ns := func(v sql.NullInt64) any {
		if !v.Valid {
			return nil
		}
		return v.Int64
	}
	return []any{f.caseID, f.team, f.market, f.category, f.channel, f.priority, ownerID, sellerID, db.T(f.created),
		tp(f.first), tp(f.resolved), f.active, f.reopens, f.escalated, f.repeat, f.clocks, f.calendar, ns(f.firstB), ns(f.resolB)}
}

const factCols = `case_id, team, market, category, channel, priority, owner_id, seller_id, created_at, first_response_at,
	resolved_at, active, reopen_count, escalated, repeat_contact, clocks, calendar, first_response_business_ns, resolution_business_ns`

var factNCols = strings.Count(factCols, ",") + 1

// upsertFacts writes fs — a fresh fact replaces the stored one when
// replace, else the stored one is kept — and moves the backlog counters
// (report_backlog: active cases per market) by what changed.
func upsertFacts(ctx context.Context, tx *db.Tx, fs []fact, replace bool) error {
	type was struct {
		market   string
		active   bool
		created  db.Time
		resolved db.Time
	}
	old := map[int64]was{}
	if replace {
		for start := 0; start < len(fs); start += 500 {
			chunk := fs[start:min(start+500, len(fs))]
			ids := make([]any, len(chunk))
			for i := range chunk {
				ids[i] = chunk[i].caseID
			}
			res, err := tx.Query(ctx, `SELECT case_id, market, active, created_at, resolved_at FROM report_facts
				WHERE case_id IN (`+db.Placeholders(len(ids))+`)`, ids...)
			if err != nil {
				return fmt.Errorf("report facts: %w", err)
			}
			for res.Next() {
				var id int64
				var w was
				if err := res.Scan(&id, &w.market, &w.active, &w.created, &w.resolved); err != nil {
					res.Close()
					return fmt.Errorf("report facts: %w", err)
				}
				old[id] = w
			}
			res.Close()
			if err := res.Err(); err != nil {
				return fmt.Errorf("report facts: %w", err)
			}
		}
	}
	conflict := " ON CONFLICT (case_id) DO NOTHING"
	if replace {
		var set []string
		for _, c := range strings.Split(factCols, ",")[1:] {
			c = strings.TrimSpace(c)
			set = append(set, c+" = excluded."+c)
		}
		conflict = " ON CONFLICT (case_id) DO UPDATE SET " + strings.Join(set, ", ")
	}
	delta := map[string]int{}
	moved := map[string]bool{} // the buckets (factcache.go) a written fact left or entered
	const perInsert = 500      // 19 columns: well under SQLite's 32766 parameters
	for rest := fs; len(rest) > 0; {
		n := min(len(rest), perInsert)
		args := make([]any, 0, n*factNCols)
		byID := make(map[int64]*fact, n)
		for i := range rest[:n] {
			args = append(args, rest[i].args()...)
			byID[rest[i].caseID] = &rest[i]
		}
		row := "(" + db.Placeholders(factNCols) + ")"
		q := "INSERT INTO report_facts (" + factCols + ") VALUES " + strings.TrimSuffix(strings.Repeat(row+", ", n), ", ") +
			conflict + " RETURNING case_id"
		res, err := tx.Query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("report facts: %w", err)
		}
		// The rows written: all when replacing, the new ones otherwise.
		for res.Next() {
			var id int64
			if err := res.Scan(&id); err != nil {
				res.Close()
				return fmt.Errorf("report facts: %w", err)
			}
			f := byID[id]
			if w, ok := old[id]; ok {
				if w.active {
					delta[w.market]--
				}
				moved[bucketOf(w.created.Time, w.resolved.Ptr(), w.active)] = true
			}
			if f != nil {
				if f.active {
					delta[f.market]++
				}
				moved[bucketOf(f.created, f.resolved, f.active)] = true
			}
		}
		res.Close()
		if err := res.Err(); err != nil {
			return fmt.Errorf("report facts: %w", err)
		}
		rest = rest[n:]
	}
	// In market order: two transactions moving the same markets lock
	// their counter rows in the same order (PostgreSQL), never crosswise.
	for _, market := range slices.Sorted(maps.Keys(delta)) {
		d := delta[market]
		if d == 0 {
			continue
		}
		if _, err := tx.Exec(ctx, `INSERT INTO report_backlog (market, active) VALUES (?, ?)
			ON CONFLICT (market) DO UPDATE SET active = report_backlog.active + excluded.active`, market, d); err != nil {
			return fmt.Errorf("report backlog: %w", err)
		}
	}
	return bumpBuckets(ctx, tx, slices.Sorted(maps.Keys(moved)))
}

// Register keeps the facts of every case in the transaction of its
// events: the cases an event names are noted, and just before commit
// (db.Tx.Deferred, once for a group commit) their facts are derived again
// from the rows as saved, whatever changed on them (status, times, clocks,
// owner, dimensions) and in whichever order the write saved its parts.
func (s *Service) Register(bus *events.Bus) {
	bus.OnTx("reports.facts", s.noteCase)
}

type pendingKey struct{ s *Service }

// pendingFacts are the cases of a transaction whose facts are to be written.
type pendingFacts struct {
	s   *Service
	ids map[int64]bool
}

func (s *Service) noteCase(ctx context.Context, tx *db.Tx, e events.Event) error {
	if e.Case == nil || e.Case.ID == 0 {
		return nil
	}
	p := tx.Deferred(pendingKey{s}, func() db.Deferred { return &pendingFacts{s: s, ids: map[int64]bool{}} }).(*pendingFacts)
	p.ids[e.Case.ID] = true
	return nil
}

func (p *pendingFacts) Discard() { p.ids = map[int64]bool{} }

func (p *pendingFacts) Flush(ctx context.Context, tx *db.Tx) error {
	if len(p.ids) == 0 {
		return nil
	}
	ids := make([]any, 0, len(p.ids))
	for _, id := range slices.Sorted(maps.Keys(p.ids)) { // in id order, as the case batches lock them
		ids = append(ids, id)
	}
	p.ids = map[int64]bool{}
	cfg, err := p.s.desk.Config(ctx)
	if err != nil {
		return err
	}
	var fs []fact
	for len(ids) > 0 {
		n := min(len(ids), 500)
		res, err := tx.Query(ctx, `SELECT `+caseCols+` FROM cases c WHERE c.id IN (`+db.Placeholders(n)+`)`, ids[:n]...)
		if err != nil {
			return fmt.Errorf("report facts: %w", err)
		}
		for res.Next() {
			f, err := scanFact(res, cfg)
			if err != nil {
				res.Close()
				return fmt.Errorf("report facts: %w", err)
			}
			fs = append(fs, f)
		}
		res.Close()
		if err := res.Err(); err != nil {
			return fmt.Errorf("report facts: %w", err)
		}
		ids = ids[n:]
	}
	return upsertFacts(ctx, tx, fs, true)
}

// SyncFacts writes the facts of the cases that have none — those written
// before migration 00029, or by a bulk writer that bypasses the case
// service (the benchmarks' histories) — in batches, and returns how many.
// A fact written meanwhile by a case's own transaction is kept.
func (s *Service) SyncFacts(ctx context.Context) (int, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return 0, err
	}
	const batch = 5000
	var after int64
	total := 0
	for {
		res, err := s.db.Query(ctx, `SELECT `+caseCols+` FROM cases c WHERE c.id > ?
			AND NOT EXISTS (SELECT 1 FROM report_facts f WHERE f.case_id = c.id) ORDER BY c.id LIMIT ?`, after, batch)
		if err != nil {
			return total, fmt.Errorf("report facts: %w", err)
		}
		var fs []fact
		for res.Next() {
			f, err := scanFact(res, cfg)
			if err != nil {
				res.Close()
				return total, fmt.Errorf("report facts: %w", err)
			}
			fs = append(fs, f)
		}
		res.Close()
		if err := res.Err(); err != nil {
			return total, fmt.Errorf("report facts: %w", err)
		}
		if len(fs) == 0 {
			return total, nil
		}
		if err := s.db.InTx(ctx, func(tx *db.Tx) error { return upsertFacts(ctx, tx, fs, false) }); err != nil {
			return total, err
		}
		total += len(fs)
		after = fs[len(fs)-1].caseID
	}
}

// teamCalendar is the team's business calendar (nil: calendar time).
func teamCalendar(cfg *desk.Config, team string) *sla.Calendar {
	if t, ok := cfg.Team(team); ok {
		cal, _ := cfg.Calendar(t.Calendar)
		return cal
	}
	return nil
}

// calendarKey fingerprints the team's calendar as the desk document
// defines it: stored durations are used only while it is unchanged.
func calendarKey(cfg *desk.Config, team string) string {
	t, ok := cfg.Team(team)
	if !ok || t.Calendar == "" {
		return "none"
	}
	for _, spec := range cfg.Calendars {
		if spec.Key == t.Calendar {
			if _, ok := cfg.Calendar(t.Calendar); !ok {
				return "none"
			}
			b, _ := json.Marshal(spec)
			h := fnv.New64a()
			_, _ = h.Write(b)
			return t.Calendar + ":" + strconv.FormatUint(h.Sum64(), 16)
		}
	}
	return "none"
}

// encodeClocks writes clocks as "metric state target_s elapsed_s due",
// ";" between, due in Unix nanoseconds ("-" without one): the fields the
// metrics and the review packs' breach causes read, exactly as stored on
// the case.
func encodeClocks(cs []Clock) string {
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteByte(';')
		}
		due := "-"
		if c.DueAt != nil {
			due = strconv.FormatInt(c.DueAt.UnixNano(), 10)
		}
		fmt.Fprintf(&b, "%s %s %d %d %s", c.Metric, c.State, int64(c.Target/time.Second), int64(c.Elapsed/time.Second), due)
	}
	return b.String()
}

// decodeClocks reads encodeClocks's text; intern gives the metric and
// state names (nil: plain strings).
func decodeClocks(s string, intern func(string) string) ([]Clock, error) {
	if s == "" {
		return nil, nil
	}
	if intern == nil {
		intern = func(s string) string { return s }
	}
	out := make([]Clock, 0, strings.Count(s, ";")+1)
	for p := range strings.SplitSeq(s, ";") {
		var f [5]string
		rest, n := p, 0
		for n < len(f) && rest != "" {
			var field string
			field, rest, _ = strings.Cut(rest, " ")
			f[n] = field
			n++
		}
		if n != len(f) || rest != "" {
			return nil, fmt.Errorf("report facts: clock %q", p)
		}
		target, err1 := strconv.ParseInt(f[2], 10, 64)
		elapsed, err2 := strconv.ParseInt(f[3], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("report facts: clock %q", p)
		}
		c := Clock{Metric: intern(f[0]), State: sla.ClockState(intern(f[1])),
			Target: time.Duration(target) * time.Second, Elapsed: time.Duration(elapsed) * time.Second}
		if f[4] != "-" {
			ns, err := strconv.ParseInt(f[4], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("report facts: clock %q", p)
			}
			due := time.Unix(0, ns).UTC()
			c.DueAt = &due
		}
		out = append(out, c)
	}
	return out, nil
}

// Breach is an SLA clock that breached, of a case, with its due time.
type Breach struct {
	CaseID int64
	Team   string // the case's owning team
	Metric string
	DueAt  time.Time
}

// Breaches reads the breached clocks of the cases created in [from, to)
// (with a due time), from the report facts, in case order: for readers
// that decide themselves who reads them (the review packs' breach causes).
func (s *Service) Breaches(ctx context.Context, from, to time.Time) ([]Breach, error) {
	res, err := s.db.Query(ctx, `SELECT case_id, team, clocks FROM report_facts
		WHERE created_at >= ? AND created_at < ? AND clocks LIKE '%breached%' ORDER BY case_id`, db.T(from), db.T(to))
	if err != nil {
		return nil, fmt.Errorf("report breaches: %w", err)
	}
	defer res.Close()
	var out []Breach
	for res.Next() {
		var b Breach
		var clocks string
		if err := res.Scan(&b.CaseID, &b.Team, &clocks); err != nil {
			return nil, fmt.Errorf("report breaches: %w", err)
		}
		cs, err := decodeClocks(clocks, nil)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if c.State == sla.ClockBreached && c.DueAt != nil {
				b.Metric, b.DueAt = c.Metric, *c.DueAt
				out = append(out, b)
			}
		}
	}
	return out, res.Err()
}
