package cases

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/sla"
)

// The SLA deadline timer. Every case's next deadline is on its row
// (cases.sla_due_at, indexed), written in the same transaction as the change
// that moved it: that column is the durable schedule. One goroutine per
// server sleeps until the earliest deadline, re-evaluates every case that
// has come due in batches, and sleeps again; a write that sets an earlier
// deadline wakes it once committed. Nothing is lost while no server runs:
// the first timer to start fires what came due meanwhile, once (sla_events
// is keyed per clock cycle). With several servers on PostgreSQL each claims
// due cases with SKIP LOCKED, and each looks at least every slaMaxSleep for
// deadlines that other nodes wrote.
//
// A job per deadline in the job queue was the first design; it fired
// minutes late with 100,000 clocks (bench/sla/RESULTS.md): the queue runs
// one small transaction per job and polls for scheduled jobs every few
// seconds, while here one indexed read finds every due case at its instant.
const (
	slaFireBatch = 250
	slaFireLoops = 3 // on PostgreSQL
	slaMaxSleep  = 30 * time.Second
)

// RunSLATimer fires SLA deadlines at their instants until ctx ends.
func (s *Service) RunSLATimer(ctx context.Context) { s.timer.Run(ctx) }

// FireSLA re-evaluates every case whose deadline has come, slaFireBatch
// cases per transaction, recording their warnings and breaches, and returns
// the earliest deadline still ahead (zero if none).
func (s *Service) FireSLA(ctx context.Context) (time.Time, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return time.Time{}, err
	}
	// PostgreSQL commits on several connections (and SKIP LOCKED keeps the
	// batches apart), so a burst is worked by a few loops at once; SQLite
	// has one writer.
	loops := 1
	if s.db.Dialect() == db.Postgres {
		loops = slaFireLoops
	}
	errs := make(chan error, loops)
	for range loops {
		go func() { errs <- s.fireBatches(ctx, cfg) }()
	}
	for range loops {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		return time.Time{}, err
	}
	var next db.Time
	if err := s.db.QueryRow(ctx, `SELECT MIN(sla_due_at) FROM cases WHERE sla_due_at IS NOT NULL`).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("next sla deadline: %w", err)
	}
	return next.Time, nil
}

// fireBatches works due cases, a batch per transaction, until a batch
// comes back short.
func (s *Service) fireBatches(ctx context.Context, cfg *desk.Config) error {
	for {
		n := 0
		err := s.db.InTx(ctx, func(tx *db.Tx) error {
			now := s.clock.Now()
			q := `SELECT id FROM cases WHERE sla_due_at IS NOT NULL AND sla_due_at <= ? ORDER BY sla_due_at LIMIT ?`
			if tx.Dialect() == db.Postgres {
				q += ` FOR UPDATE SKIP LOCKED` // another loop or node has those
			}
			ids, err := db.QueryIDs(ctx, tx, q, db.T(now), slaFireBatch)
			if err != nil {
				return fmt.Errorf("due sla deadlines: %w", err)
			}
			n = len(ids)
			if n == 0 {
				return nil
			}
			// A batch is read in four queries, not four per case.
			due, err := s.loadMany(ctx, tx, ids)
			if err != nil {
				return err
			}
			hs, err := histories(ctx, tx, ids)
			if err != nil {
				return err
			}
			tiers, err := sellerTiers(ctx, tx, due)
			if err != nil {
				return err
			}
			return s.syncSLABatch(ctx, tx, cfg, due, tiers, hs, now)
		})
		if err != nil || n < slaFireBatch {
			return err
		}
	}
}

// loadMany reads the cases ids (those that exist), in id order.
func (s *Service) loadMany(ctx context.Context, q db.Querier, ids []int64) ([]*Case, error) {
	return loadCases(ctx, q, ids, "", false)
}

// loadCases reads the cases ids in id order, the query ending in suffix;
// asCreated as scanCaseAs.
func loadCases(ctx context.Context, q db.Querier, ids []int64, suffix string, asCreated bool) ([]*Case, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := q.Query(ctx, "SELECT "+caseColumns+" WHERE c.id IN ("+db.Placeholders(len(ids))+") ORDER BY c.id"+suffix, args...)
	if err != nil {
		return nil, fmt.Errorf("load cases: %w", err)
	}
	defer rows.Close()
	out := make([]*Case, 0, len(ids))
	for rows.Next() {
		c, err := scanCaseAs(rows, asCreated)
		if err != nil {
			return nil, fmt.Errorf("load cases: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// sellerTiers reads the tiers of the cases' sellers.
func sellerTiers(ctx context.Context, q db.Querier, cs []*Case) (map[string]int, error) {
	var args []any
	seen := map[string]bool{}
	for _, c := range cs {
		if c.SellerID != nil && !seen[*c.SellerID] {
			seen[*c.SellerID] = true
			args = append(args, *c.SellerID)
		}
	}
	tiers := make(map[string]int, len(args))
	if len(args) == 0 {
		return tiers, nil
	}
	rows, err := q.Query(ctx, "SELECT external_id, tier FROM sellers WHERE external_id IN ("+db.Placeholders(len(args))+")", args...)
	if err != nil {
		return nil, fmt.Errorf("seller tiers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var tier int
		if err := rows.Scan(&id, &tier); err != nil {
			return nil, err
		}
		tiers[id] = tier
	}
	return tiers, rows.Err()
}

// syncSLABatch re-evaluates the clocks of cases (loaded for update, with
// their histories and sellers' tiers) and saves them, in three statements
// for the whole batch rather than two or three per case (round trips on
// PostgreSQL): one UPDATE for the clocks, then recordHits.
func (s *Service) syncSLABatch(ctx context.Context, tx *db.Tx, cfg *desk.Config, cs []*Case, tiers map[string]int,
	hs map[int64]sla.History, now time.Time) error {
	var hits []caseHit
	var earliest time.Time
	pg := tx.Dialect() == db.Postgres
	cast := func(typ string) string { // VALUES rows carry no column types on PostgreSQL
		if pg {
			return "CAST(? AS " + typ + ")"
		}
		return "?"
	}
	var rows []string
	var args []any
	var met []events.Event
	for _, c := range cs {
		tier := 0
		if c.SellerID != nil {
			tier = tiers[*c.SellerID]
		}
		old := c.slaStored
		hh, next := evaluateSLA(cfg, c, tier, hs[c.ID], now)
		met = append(met, metEvents(c, old, now)...)
		if !next.IsZero() && !next.Equal(c.slaDueAt) && (earliest.IsZero() || next.Before(earliest)) {
			earliest = next
		}
		c.slaDueAt = next
		for _, h := range hh {
			hits = append(hits, caseHit{c, h})
		}
		rows = append(rows, "("+cast("BIGINT")+", ?, "+cast("TIMESTAMPTZ")+", "+cast("TIMESTAMPTZ")+")")
		args = append(args, c.ID, mustJSON(c.slaStored), timeOrNil(c.slaDueAt), db.T(c.dueSort))
	}
	if len(rows) > 0 {
		if _, err := tx.Exec(ctx, `WITH v (id, sla, due, ds) AS (VALUES `+strings.Join(rows, ", ")+`)
			UPDATE cases SET sla = v.sla, sla_due_at = v.due, due_sort = v.ds FROM v WHERE cases.id = v.id`, args...); err != nil {
			return fmt.Errorf("save sla clocks: %w", err)
		}
	}
	s.timer.AfterCommit(tx, earliest)
	if err := s.recordHits(ctx, tx, hits, now); err != nil {
		return err
	}
	return s.bus.Publish(ctx, tx, met...)
}

// caseHit is a warning or breach an evaluation found, with its case.
type caseHit struct {
	c *Case
	h slaHit
}

// recordHits records warnings and breaches once per clock cycle (the
// unique key drops those recorded before, by a change or another node),
// puts the new ones on their cases' timelines and tells the hooks: two
// statements for any number of hits.
func (s *Service) recordHits(ctx context.Context, tx *db.Tx, hits []caseHit, now time.Time) error {
	if len(hits) == 0 {
		return nil
	}
	type key struct {
		caseID       int64
		metric, kind string
		cycle        int64
	}
	var rows []string
	var args []any
	for _, x := range hits {
		rows = append(rows, "(?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, x.c.ID, string(x.h.clock.Metric), x.h.kind, db.T(x.h.clock.StartedAt), db.T(x.h.at), db.T(now),
			x.c.Team, x.c.Market, x.h.policy)
	}
	res, err := tx.Query(ctx, `INSERT INTO sla_events (case_id, metric, kind, cycle_start, due_at, fired_at, team, market, policy)
		VALUES `+strings.Join(rows, ", ")+` ON CONFLICT (case_id, metric, kind, cycle_start) DO NOTHING
		RETURNING id, case_id, metric, kind, cycle_start`, args...)
	if err != nil {
		return fmt.Errorf("record sla events: %w", err)
	}
	ids := map[key]int64{}
	for res.Next() {
		var k key
		var id int64
		var cycle db.Time
		if err := res.Scan(&id, &k.caseID, &k.metric, &k.kind, &cycle); err != nil {
			res.Close()
			return err
		}
		k.cycle = cycle.UnixMicro()
		ids[k] = id
	}
	res.Close()
	if err := res.Err(); err != nil {
		return err
	}
	rows, args = rows[:0], args[:0]
	var told []events.Event
	for _, x := range hits {
		id, fresh := ids[key{x.c.ID, string(x.h.clock.Metric), x.h.kind, x.h.clock.StartedAt.UnixMicro()}]
		if !fresh {
			continue
		}
		rows = append(rows, "(?, NULL, ?, ?, ?)")
		args = append(args, x.c.ID, "sla_"+x.h.kind, mustJSON(x.h.timeline()), db.T(now))
		told = append(told, slaEvent(x.c, x.h, id, now))
	}
	if len(rows) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO case_events (case_id, actor_id, type, data, created_at) VALUES `+strings.Join(rows, ", "), args...); err != nil {
		return fmt.Errorf("add sla events: %w", err)
	}
	return s.bus.Publish(ctx, tx, told...)
}
