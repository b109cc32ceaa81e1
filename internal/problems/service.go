// Package problems turns repeat issues into problems: it keeps an index of
// similar cases from the event stream (similar.go), answers "which open
// cases look like this one" and "which problem does it likely belong to",
// and keeps problem records — root cause, owner, status, linked cases, a
// trend and an improvement action — with their API, audit and events.
package problems

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
)

// Subscriber is the durable subscriber that keeps similar_docs.
const Subscriber = "problems.similar"

// Options tune similar-case lookups.
type Options struct {
	Window   time.Duration // similar cases were created within this of the case (default 30 days)
	MinScore float64       // the least score shown (default 0.3)
	Limit    int           // similar cases shown (default 8)
}

func (o *Options) defaults() {
	if o.Window <= 0 {
		o.Window = 30 * 24 * time.Hour
	}
	if o.MinScore <= 0 {
		o.MinScore = 0.3
	}
	if o.Limit <= 0 {
		o.Limit = 8
	}
}

// Service runs similar cases and problems.
type Service struct {
	db    *db.DB
	desk  *desk.Service
	cases *cases.Service
	clock clock.Clock
	log   *slog.Logger
	opt   Options
	idx   *Index

	mu          sync.Mutex
	loaded      bool
	refreshedAt time.Time // the clock when the last read of similar_docs began
}

// Other processes' rows are read at most once per refreshEvery (this
// process's own deliveries are put in memory as they are written), and
// from lookBack before the last read: a row committed after that read
// was stamped at most this long before its commit.
const (
	refreshEvery = time.Second
	lookBack     = time.Minute
)

// New returns the service.
func New(d *db.DB, dk *desk.Service, cs *cases.Service, c clock.Clock, log *slog.Logger, opt Options) *Service {
	if log == nil {
		log = slog.Default()
	}
	opt.defaults()
	return &Service{db: d, desk: dk, cases: cs, clock: c, log: log, opt: opt, idx: NewIndex()}
}

// Register subscribes the index to the case events that change what it
// knows of a case.
func (s *Service) Register(bus *events.Bus) {
	bus.Subscribe(Subscriber, s.handle, events.SubscriberOptions{
		Types: []events.Type{events.CaseCreated, events.CaseChanged, events.CaseStatusChanged}})
}

// handle re-indexes the event's case from the case as it is now: a
// redelivered or late event writes the same row again.
func (s *Service) handle(ctx context.Context, e events.Event) error {
	if e.Case == nil {
		return nil
	}
	if ch, ok := e.Data.(*events.Changed); ok && !slices.ContainsFunc(ch.Fields(), inDoc) {
		return nil // the level, owner, priority…: nothing DocOf reads (a case of every escalation)
	}
	return s.Reindex(ctx, e.Case.ID)
}

// inDoc reports whether DocOf reads the case field a case.changed names
// (its status comes in case.status_changed).
func inDoc(field string) bool {
	switch field {
	case "title", "description", "category", "seller_id", "tags", "fields":
		return true
	}
	return false
}

// Reindex writes what the index knows of case id and puts it in memory.
func (s *Service) Reindex(ctx context.Context, id int64) error {
	c, err := s.cases.Find(ctx, s.db, fmt.Sprint(id))
	if errors.Is(err, apperr.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	d := DocOf(c)
	now := s.clock.Now()
	if err := s.db.InTx(ctx, func(tx *db.Tx) error { return writeDoc(ctx, tx, d, now) }); err != nil {
		return err
	}
	s.idx.put(d, now)
	return nil
}

// DocOf is what the index knows of c.
func DocOf(c *cases.Case) Doc {
	d := Doc{CaseID: c.ID, Number: c.Number, Title: c.Title, Category: c.Category, Tags: slices.Clone(c.Tags),
		Open: c.Status != cases.StatusResolved && c.Status != cases.StatusClosed, CreatedAt: c.CreatedAt,
		Terms: Terms(c.Title + "\n" + c.Description)}
	if c.SellerID != nil {
		d.Seller = *c.SellerID
	}
	if v, ok := c.Fields["carrier"].(string); ok {
		d.Carrier = v
	}
	return d
}

func writeDoc(ctx context.Context, tx *db.Tx, d Doc, now time.Time) error {
	tags, _ := json.Marshal(nonNil(d.Tags))
	terms, _ := json.Marshal(d.Terms)
	_, err := tx.Exec(ctx, `INSERT INTO similar_docs (case_id, number, title, category, seller, carrier, tags, terms, is_open,
		created_at, indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (case_id) DO UPDATE SET number = excluded.number, title = excluded.title, category = excluded.category,
		seller = excluded.seller, carrier = excluded.carrier, tags = excluded.tags, terms = excluded.terms,
		is_open = excluded.is_open, created_at = excluded.created_at, indexed_at = excluded.indexed_at`,
		d.CaseID, d.Number, d.Title, d.Category, d.Seller, d.Carrier, string(tags), string(terms), d.Open,
		db.T(d.CreatedAt), db.T(now))
	if err != nil {
		return fmt.Errorf("similar: write case %d: %w", d.CaseID, err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Load fills the in-memory index from similar_docs, first indexing the
// cases that have no row yet (cases made before this capability, or by a
// process without the subscriber, such as the demo's loader). Later calls
// read only the rows written since (by this or another process), at most
// once per refreshEvery: a page view must not re-read a burst of rows (a
// backfill, a bulk change) every time.
func (s *Service) Load(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if s.loaded && now.Sub(s.refreshedAt) < refreshEvery && !now.Before(s.refreshedAt) {
		return nil
	}
	if !s.loaded {
		if err := s.backfill(ctx); err != nil {
			return err
		}
	}
	from := time.Unix(0, 0) // every row (db.T of the zero time is NULL)
	if s.loaded {
		from = s.refreshedAt.Add(-lookBack)
	}
	rows, err := s.db.Query(ctx, `SELECT case_id, number, title, category, seller, carrier, tags, terms, is_open, created_at,
		indexed_at FROM similar_docs WHERE indexed_at >= ? ORDER BY indexed_at`, db.T(from))
	if err != nil {
		return fmt.Errorf("similar: load: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d Doc
		var tags, terms string
		var created, indexed db.Time
		if err := rows.Scan(&d.CaseID, &d.Number, &d.Title, &d.Category, &d.Seller, &d.Carrier, &tags, &terms, &d.Open,
			&created, &indexed); err != nil {
			return fmt.Errorf("similar: load: %w", err)
		}
		if s.idx.has(d.CaseID, indexed.Time) {
			continue // read in the look-back again: already in memory
		}
		_ = json.Unmarshal([]byte(tags), &d.Tags)
		_ = json.Unmarshal([]byte(terms), &d.Terms)
		d.CreatedAt = created.Time
		s.idx.put(d, indexed.Time)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("similar: load: %w", err)
	}
	s.loaded, s.refreshedAt = true, now
	return nil
}

// backfill indexes, in batches, the cases similar_docs does not hold.
func (s *Service) backfill(ctx context.Context) error {
	for {
		ids, err := db.QueryIDs(ctx, s.db, `SELECT c.id FROM cases c LEFT JOIN similar_docs d ON d.case_id = c.id
			WHERE d.case_id IS NULL ORDER BY c.id LIMIT 500`)
		if err != nil {
			return fmt.Errorf("similar: backfill: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		// One read per batch: a desk upgraded with 500,000 cases backfills
		// in seconds, not the hours a read per case takes.
		cs, err := s.cases.FindMany(ctx, s.db, ids)
		if err != nil {
			return fmt.Errorf("similar: backfill: %w", err)
		}
		docs := make([]Doc, 0, len(cs))
		for _, c := range cs {
			docs = append(docs, DocOf(c))
		}
		now := s.clock.Now()
		if err := s.db.InTx(ctx, func(tx *db.Tx) error {
			for _, d := range docs {
				if err := writeDoc(ctx, tx, d, now); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
}

// Similar lists the open cases most like case ref that actor may see,
// each with its score, why, and the problem it belongs to; Likely is the
// problem most of the similar cases' weight points at.
func (s *Service) Similar(ctx context.Context, actor auth.Actor, ref string) (*SimilarView, error) {
	if err := canRead(actor); err != nil {
		return nil, err
	}
	c, err := s.cases.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if err := s.Load(ctx); err != nil {
		return nil, err
	}
	d := DocOf(c)
	ms := s.idx.Similar(Query{Doc: d, Window: s.opt.Window, MinScore: s.opt.MinScore, Limit: 3 * s.opt.Limit})
	v := &SimilarView{Case: c.Number, Similar: []SimilarCase{}}
	ids := make([]int64, 0, len(ms))
	for _, m := range ms {
		ids = append(ids, m.CaseID)
	}
	links, err := s.problemsOf(ctx, append(ids, c.ID))
	if err != nil {
		return nil, err
	}
	if p, ok := links[c.ID]; ok {
		v.Problem = &p
	}
	weight := map[int64]float64{}
	refs := map[int64]ProblemRef{}
	// The matches' cases in one read, not one per match.
	found, err := s.cases.FindMany(ctx, s.db, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*cases.Case, len(found))
	for _, fc := range found {
		byID[fc.ID] = fc
	}
	for _, m := range ms {
		if len(v.Similar) == s.opt.Limit {
			break
		}
		sc, ok := byID[m.CaseID]
		if !ok || !s.cases.CanSee(ctx, actor, sc) {
			continue // out of the actor's sight (or gone)
		}
		row := SimilarCase{Match: m, Status: string(sc.Status), CreatedAt: sc.CreatedAt}
		if p, ok := links[m.CaseID]; ok {
			row.Problem = &p
			weight[p.ID] += m.Score
			refs[p.ID] = p
		}
		v.Similar = append(v.Similar, row)
	}
	var best int64
	for id, w := range weight {
		if best == 0 || w > weight[best] || (w == weight[best] && id < best) {
			best = id
		}
	}
	if best != 0 && v.Problem == nil {
		p := refs[best]
		v.Likely = &p
	}
	return v, nil
}

// SimilarView is GET /cases/{ref}/similar.
type SimilarView struct {
	Case    string        `json:"case"`
	Problem *ProblemRef   `json:"problem"` // the problem the case is linked to
	Likely  *ProblemRef   `json:"likely_problem"`
	Similar []SimilarCase `json:"similar"`
}

// SimilarCase is one similar open case.
type SimilarCase struct {
	Match
	Status    string      `json:"status"`
	CreatedAt time.Time   `json:"created_at"`
	Problem   *ProblemRef `json:"problem"`
}

// ProblemRef names a problem.
type ProblemRef struct {
	ID     int64  `json:"id"`
	Title  string `json:"title"`
	Status Status `json:"status"`
}

func (s *Service) problemsOf(ctx context.Context, caseIDs []int64) (map[int64]ProblemRef, error) {
	out := map[int64]ProblemRef{}
	if len(caseIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(caseIDs))
	for i, id := range caseIDs {
		args[i] = id
	}
	rows, err := s.db.Query(ctx, `SELECT pc.case_id, p.id, p.title, p.status FROM problem_cases pc JOIN problems p ON p.id = pc.problem_id
		WHERE pc.case_id IN (`+db.Placeholders(len(args))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("problems of cases: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid int64
		var p ProblemRef
		if err := rows.Scan(&cid, &p.ID, &p.Title, &p.Status); err != nil {
			return nil, err
		}
		out[cid] = p
	}
	return out, rows.Err()
}

// canRead: problems are internal (root causes, actions): not for account
// managers, who see cases' public side only.
func canRead(a auth.Actor) error {
	if !a.Can(auth.PermCaseRead) || cases.PublicOnly(a) {
		return &apperr.Forbidden{Detail: "Problems are internal to the desk."}
	}
	return nil
}

func canWrite(a auth.Actor) error {
	if !a.Can(auth.PermCaseWrite) {
		return &apperr.Forbidden{Detail: "Changing problems needs the case.write permission."}
	}
	return nil
}

// SeesProblems reports whether a may read problems (for navigation).
func SeesProblems(a auth.Actor) bool { return canRead(a) == nil }

var errNoRows = sql.ErrNoRows
