package cases

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/routing"
	"github.com/flare-desk/flare/internal/sla"
)

// Replayed is a stored case as a desk document would have decided it: the
// team and priority its routing gives the case on create, and the SLA
// clocks its policies run over the case's real history. Nothing is written.
type Replayed struct {
	Number   string
	Market   string
	Category string
	Team     string
	Priority string
	Open     bool // still being worked now
	Clocks   []ReplayedClock
}

// ReplayedClock is one SLA clock of a replayed case at now.
type ReplayedClock struct {
	Metric   sla.Metric
	Decided  bool // met or breached (a running clock within target is not yet)
	Breached bool // missed its target (met late counts)
}

// replayBatch bounds the cases read per round of set-based queries (the
// repeat-contact count binds five parameters a case: well under SQLite's
// and PostgreSQL's limits).
const replayBatch = 1000

// Replay runs every case created at or after since through cfg — its
// categories, routing rules, priority weights, SLA policies and calendars —
// and hands each result to fn, in id order. Each case is assessed as it is
// stored now (its text, fields, seller, channel, high-risk flag) as on
// create, and its clocks evaluated at now over its status changes and
// public messages. It reads; it never writes.
func (s *Service) Replay(ctx context.Context, cfg *desk.Config, since, now time.Time, fn func(Replayed) error) error {
	return s.ReplayMany(ctx, []*desk.Config{cfg}, since, now, func(rs []Replayed) error { return fn(rs[0]) })
}

// ReplayMany is Replay through several documents in one pass: each case,
// its history, seller and repeat contacts are read once (a chunk of cases
// at a time, in set-based queries) and decided under every one of cfgs; fn
// gets the results in cfgs' order, case by case in id order. What each
// document makes of a case depends only on the document and the stored
// case, so this is the same as one Replay per document. The next chunk is
// read while fn is handed the results of this one (reads and decisions
// take about as long): fn must not use the store through a transaction
// joined in ctx.
func (s *Service) ReplayMany(ctx context.Context, cfgs []*desk.Config, since, now time.Time, fn func([]Replayed) error) error {
	return s.replayMany(ctx, cfgs, since, now, replayBatch, fn)
}

// replayMany is ReplayMany in chunks of size cases.
func (s *Service) replayMany(ctx context.Context, cfgs []*desk.Config, since, now time.Time, size int, fn func([]Replayed) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks, read := make(chan replayChunk, 1), make(chan error, 1)
	go func() {
		defer close(chunks)
		read <- s.readReplay(ctx, since, size, func(ch replayChunk) bool {
			select {
			case chunks <- ch:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	var failed error
	for ch := range chunks {
		if failed != nil {
			continue // drained so the reader stops
		}
		for j, stored := range ch.cases {
			rs := make([]Replayed, len(cfgs))
			for i, cfg := range cfgs {
				rs[i] = replayCase(cfg, stored, ch.sellers[j], ch.repeats[stored.ID], ch.histories[stored.ID], now)
			}
			if err := fn(rs); err != nil {
				failed = err
				cancel()
				break
			}
		}
	}
	if err := <-read; failed == nil {
		return err
	}
	return failed
}

// replayChunk is what ReplayMany reads for a chunk of cases: the cases, in
// id order, their sellers (nil: none, or unknown to the store), histories
// and repeat contacts.
type replayChunk struct {
	cases     []*Case
	sellers   []*desk.Seller
	histories map[int64]sla.History
	repeats   map[int64]int
}

// readReplay reads the cases created at or after since a chunk at a time
// and hands each chunk to next, until none is left or next says stop.
func (s *Service) readReplay(ctx context.Context, since time.Time, size int, next func(replayChunk) bool) error {
	known := map[string]*desk.Seller{}
	after := int64(0)
	for {
		ids, err := s.replayIDs(ctx, since, after, size)
		if err != nil || len(ids) == 0 {
			return err
		}
		after = ids[len(ids)-1]
		ch := replayChunk{}
		if ch.cases, err = loadCases(ctx, s.db, ids, "", true); err != nil {
			return err
		}
		if ch.histories, err = histories(ctx, s.db, ids); err != nil {
			return err
		}
		if err := s.cacheSellers(ctx, known, ch.cases); err != nil {
			return err
		}
		if ch.repeats, err = repeatContacts(ctx, s.db, ch.cases, known); err != nil {
			return err
		}
		ch.sellers = make([]*desk.Seller, len(ch.cases))
		for i, c := range ch.cases {
			if c.SellerID != nil {
				ch.sellers[i] = known[*c.SellerID]
			}
		}
		if !next(ch) {
			return ctx.Err()
		}
	}
}

func (s *Service) replayIDs(ctx context.Context, since time.Time, after int64, size int) ([]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT id FROM cases WHERE created_at >= ? AND id > ? ORDER BY id LIMIT ?`,
		db.T(since), after, size)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// cacheSellers adds to known the sellers of cs it lacks: nil for an id
// the store does not know (such a case is replayed as without a seller).
func (s *Service) cacheSellers(ctx context.Context, known map[string]*desk.Seller, cs []*Case) error {
	for _, c := range cs {
		if c.SellerID == nil {
			continue
		}
		if _, ok := known[*c.SellerID]; ok {
			continue
		}
		sl, ok, err := desk.SellerByID(ctx, s.db, *c.SellerID)
		if err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		var p *desk.Seller
		if ok {
			p = &sl
		}
		known[*c.SellerID] = p
	}
	return nil
}

// repeatContacts is factsFor's count of repeat contacts for every case of
// cs whose seller is known, in one statement: per case the same indexed
// count (cases_repeat), as a correlated subquery over the batch's values.
func repeatContacts(ctx context.Context, q db.Querier, cs []*Case, sellers map[string]*desk.Seller) (map[int64]int, error) {
	out := make(map[int64]int, len(cs))
	cast := func(typ string) string { return "?" }
	if q.Dialect() == db.Postgres { // VALUES rows carry no column types there
		cast = func(typ string) string { return "CAST(? AS " + typ + ")" }
	}
	row := "(" + cast("BIGINT") + ", " + cast("TEXT") + ", " + cast("TEXT") + ", " + cast("TIMESTAMPTZ") + ", " + cast("TIMESTAMPTZ") + ")"
	var rows []string
	var args []any
	for _, c := range cs {
		if c.SellerID == nil || sellers[*c.SellerID] == nil {
			continue
		}
		rows = append(rows, row)
		args = append(args, c.ID, sellers[*c.SellerID].ID, c.Category, db.T(c.CreatedAt.Add(-repeatWindow)), db.T(c.CreatedAt))
	}
	if len(rows) == 0 {
		return out, nil
	}
	res, err := q.Query(ctx, `WITH w (id, seller_id, category, since, at) AS (VALUES `+strings.Join(rows, ", ")+`)
		SELECT w.id, (SELECT COUNT(*) FROM cases o WHERE o.seller_id = w.seller_id AND o.category = w.category
			AND o.created_at >= w.since AND (o.created_at < w.at OR (o.created_at = w.at AND o.id < w.id))) FROM w`, args...)
	if err != nil {
		return nil, fmt.Errorf("repeat contacts: %w", err)
	}
	defer res.Close()
	for res.Next() {
		var id int64
		var n int
		if err := res.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("repeat contacts: %w", err)
		}
		out[id] = n
	}
	return out, res.Err()
}

// replayCase decides one stored case under cfg, on a copy, as on create:
// factsFor's facts with the repeat contacts counted beforehand.
func replayCase(cfg *desk.Config, stored *Case, sl *desk.Seller, repeats int, h sla.History, now time.Time) Replayed {
	c := *stored
	c.Tags, c.PriorityReasons, c.SLAPolicy, c.Priority = slices.Clone(stored.Tags), nil, "", ""
	c.slaStored = nil // as on create: no clock yet
	if cat, ok := cfg.Category(c.Category); ok {
		c.Team = cat.Team // where the document sends the category, before its rules
	}
	f := caseFacts(cfg, &c, sl, c.CreatedAt)
	if sl != nil {
		f.RepeatContacts = repeats
	}
	f.PriorityOverridden = false
	assess(cfg, &c, f, routing.EventCreate, false)
	tier := 0
	if sl != nil {
		tier = sl.Tier
	}
	evaluateSLA(cfg, &c, tier, h, now)
	r := Replayed{Number: c.Number, Market: c.Market, Category: c.Category, Team: c.Team, Priority: c.Priority,
		Open: c.Status.Active()}
	for _, ck := range c.slaStored {
		late := ck.State == string(sla.ClockBreached) || (ck.State == string(sla.ClockMet) && ck.ElapsedS > ck.TargetS)
		r.Clocks = append(r.Clocks, ReplayedClock{Metric: ck.Metric, Breached: late,
			Decided: late || ck.State == string(sla.ClockMet)})
	}
	return r
}
