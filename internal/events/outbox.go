package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flare-desk/flare/internal/db"
)

// The outbox. Publish stores each event that a durable subscriber wants
// once (events) with a row per subscriber (event_deliveries), in the
// write's transaction. Each subscriber has its own delivery loop, so a slow
// or failing one never holds up the others or the writes:
//
//  1. claim: in one short transaction, take up to Batch pending rows that
//     are due, in event order, skipping every row whose stream has a row
//     still pending and not due (being delivered elsewhere, or waiting for
//     a retry) — that keeps a case's events in order — and
//     lease them by moving next_at a Lease ahead. On PostgreSQL the rows
//     are taken FOR UPDATE SKIP LOCKED after a transaction-level advisory
//     lock per subscriber, so nodes claiming at the same moment cannot
//     both see a stream's head as free; on SQLite the single writer
//     serialises claims. Ids do not commit in order on PostgreSQL, so
//     there is no "after the last id" cursor: the rows themselves are the
//     progress.
//  2. deliver: call the handler per event, streams in parallel, each
//     stream in order; a failure stops that stream for this batch, and no
//     delivery starts that could outlast the lease (the rest is handed
//     back and claimed again at once).
//  3. finish: delete what was delivered; give a failed row its next try
//     (exponential back-off) or, after MaxAttempts, the dead state; hand
//     the rest of a failed stream back (due now, still behind the failure).
//
// A node that dies mid-delivery leaves leased rows (leased_at set); they
// come due again when the lease ends, so every committed event is
// delivered at least once. On SQLite one process serves a database file,
// so when the bus starts every lease is the dead process's: Run hands them
// back at once (releaseLeases) instead of waiting for them to run out. On
// PostgreSQL another node may hold them, and leases only expire.

// store saves the outbox rows of evs for the durable subscribers that want
// them, to be written at commit (deferredOutbox, which sets the events'
// Seq then), and returns those subscribers.
func (b *Bus) store(ctx context.Context, tx *db.Tx, subs []*subscriber, evs []Event, now time.Time) ([]*subscriber, error) {
	type pair struct {
		sub string
		i   int
	}
	var pairs []pair
	var woken []*subscriber
	for _, s := range subs {
		took := false
		for i, e := range evs {
			if wants(s.opt.Types, e.Type) {
				pairs, took = append(pairs, pair{s.name, i}), true
			}
		}
		if took {
			woken = append(woken, s)
		}
	}
	if len(pairs) == 0 {
		return nil, nil
	}
	stored := make([]bool, len(evs))
	for _, p := range pairs {
		stored[p.i] = true
	}
	p := tx.Deferred(outboxKey{b}, func() db.Deferred { return &deferredOutbox{} }).(*deferredOutbox)
	for i := range evs {
		if !stored[i] {
			continue
		}
		data, err := json.Marshal(evs[i])
		if err != nil {
			return nil, fmt.Errorf("events: encode %s: %w", evs[i].Type, err)
		}
		p.events = append(p.events, outboxEvent{e: &evs[i], data: string(data)})
	}
	for _, pr := range pairs {
		p.deliveries = append(p.deliveries, outboxDelivery{sub: pr.sub, e: &evs[pr.i], at: now})
	}
	return woken, nil
}

// The outbox rows of every transaction in a group commit (internal/db,
// batch.go) are written together just before it commits: per batch, one
// INSERT of the events and one of their deliveries on SQLite, one
// statement for both on PostgreSQL, instead of one or two per transaction.
// On SQLite the single writer runs every transaction of the batch, so this
// is its time saved; on PostgreSQL, round trips: bench/events measured
// about a tenth less CPU per case, in Flare and in the server, than with
// one statement per transaction. Row counts are split into powers of two
// so that the prepared statements stay few.

type outboxKey struct{ b *Bus }

type outboxEvent struct {
	e    *Event // in its publisher's slice, which the feed gets after commit: its Seq is set here
	data string
}

type outboxDelivery struct {
	sub string
	e   *Event
	at  time.Time
}

type deferredOutbox struct {
	events     []outboxEvent
	deliveries []outboxDelivery
}

// FlushFirst: the outbox needs no lock, so it is written before the audit
// chain's flush takes its (PostgreSQL: 80 % → 86 % of the intake without a
// durable subscriber in bench/events).
func (p *deferredOutbox) FlushFirst() {}

func (p *deferredOutbox) Discard() { p.events, p.deliveries = p.events[:0], p.deliveries[:0] }

// maxRows bounds one INSERT of the deferred outbox (6 parameters a row).
const maxRows = 256

func (p *deferredOutbox) Flush(ctx context.Context, tx *db.Tx) error {
	defer p.Discard()
	if tx.Dialect() == db.Postgres {
		return p.flushPostgres(ctx, tx)
	}
	return p.flushSQLite(ctx, tx)
}

// flushPostgres writes each chunk of events with their deliveries in one
// statement, the deliveries matched to their events' seqs by event id.
func (p *deferredOutbox) flushPostgres(ctx context.Context, tx *db.Tx) error {
	subs := map[*Event][]outboxDelivery{}
	for _, d := range p.deliveries {
		subs[d.e] = append(subs[d.e], d)
	}
	for rest := p.events; len(rest) > 0; {
		n := chunk(len(rest))
		args := make([]any, 0, 6*n+3)
		var pairs []any
		for _, x := range rest[:n] {
			e := x.e
			args = append(args, e.ID, string(e.Type), e.Version, e.Stream(), db.T(e.At), x.data)
			for _, d := range subs[e] {
				pairs = append(pairs, d.sub, e.ID, db.T(d.at))
			}
		}
		q := `WITH e AS (INSERT INTO events (id, type, version, stream, at, data) VALUES ` + rowsOf(n) + ` RETURNING seq, id, stream),
			d AS (INSERT INTO event_deliveries (subscriber, event_seq, stream, next_at, created_at, updated_at)
				SELECT s.sub, e.seq, e.stream, s.at, s.at, s.at FROM e JOIN (VALUES ` + castTriples(len(pairs)/3) + `) s (sub, id, at) ON s.id = e.id)
			SELECT seq, id FROM e`
		seqs, err := query(ctx, tx, q, append(args, pairs...)...)
		if err != nil {
			return fmt.Errorf("events: outbox: %w", err)
		}
		for _, x := range rest[:n] {
			x.e.Seq = seqs.byID[x.e.ID]
		}
		rest = rest[n:]
	}
	return nil
}

func (p *deferredOutbox) flushSQLite(ctx context.Context, tx *db.Tx) error {
	for rest := p.events; len(rest) > 0; {
		n := chunk(len(rest))
		args := make([]any, 0, 6*n)
		for _, x := range rest[:n] {
			e := x.e
			args = append(args, e.ID, string(e.Type), e.Version, e.Stream(), db.T(e.At), x.data)
		}
		// No RETURNING: SQLite runs it through a temporary table, a third
		// of the insert's cost. The single writer numbers a multi-row
		// insert's rows one after the other, in VALUES order, after the
		// highest seq, so the last row's id says every row's.
		res, err := tx.Exec(ctx, `INSERT INTO events (id, type, version, stream, at, data) VALUES `+rowsOf(n), args...)
		if err != nil {
			return fmt.Errorf("events: outbox: %w", err)
		}
		last, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("events: outbox: %w", err)
		}
		for i, x := range rest[:n] {
			x.e.Seq = last - int64(n-1-i)
		}
		rest = rest[n:]
	}
	for rest := p.deliveries; len(rest) > 0; {
		n := chunk(len(rest))
		args := make([]any, 0, 6*n)
		for _, d := range rest[:n] {
			t := db.T(d.at)
			args = append(args, d.sub, d.e.Seq, d.e.Stream(), t, t, t)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO event_deliveries (subscriber, event_seq, stream, next_at, created_at, updated_at) VALUES `+
			rowsOf(n), args...); err != nil {
			return fmt.Errorf("events: outbox: %w", err)
		}
		rest = rest[n:]
	}
	return nil
}

// chunk is the largest power of two ≤ n, at most maxRows.
func chunk(n int) int {
	c := 1
	for c*2 <= n && c*2 <= maxRows {
		c *= 2
	}
	return c
}

// rowsOf is n rows of six placeholders.
func rowsOf(n int) string {
	return strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?), ", n), ", ")
}

// castTriples is n "(sub, id, at)" rows of VALUES, typed for PostgreSQL.
func castTriples(n int) string {
	return strings.TrimSuffix(strings.Repeat("(CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TIMESTAMPTZ)), ", n), ", ")
}

type sqlRows struct{ byID map[string]int64 }

func query(ctx context.Context, tx *db.Tx, q string, args ...any) (*sqlRows, error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := &sqlRows{byID: map[string]int64{}}
	for rows.Next() {
		var seq int64
		var id string
		if err := rows.Scan(&seq, &id); err != nil {
			return nil, err
		}
		out.byID[id] = seq
	}
	return out, rows.Err()
}

// claimed is an outbox row leased for delivery.
type claimed struct {
	id       int64
	attempts int
	event    Event
	err      error // from decoding or delivering
	done     bool  // delivered
}

// Run delivers events to the durable subscribers until ctx ends: a loop
// per subscriber, and the pruning of delivered events past their retention.
func (b *Bus) Run(ctx context.Context) {
	b.mu.RLock()
	subs := b.durable
	b.mu.RUnlock()
	if b.db.Dialect() == db.SQLite {
		if n, err := b.releaseLeases(ctx); err != nil {
			b.log.Error("release event leases", "err", err) // they still run out by themselves
		} else if n > 0 {
			b.log.Info("event deliveries of the previous run handed back", "count", n)
		}
	}
	var wg sync.WaitGroup
	for _, s := range subs {
		wg.Go(func() { b.loop(ctx, s) })
	}
	wg.Go(func() { b.pruneLoop(ctx) })
	wg.Wait()
}

// releaseLeases makes every leased delivery due now, for a store that only
// this process delivers from (SQLite), and reports how many.
func (b *Bus) releaseLeases(ctx context.Context) (int64, error) {
	var n int64
	err := b.db.InTx(ctx, func(tx *db.Tx) error {
		now := b.clock.Now()
		res, err := tx.Exec(ctx, `UPDATE event_deliveries SET next_at = ?, leased_at = NULL, updated_at = ?
			WHERE state = 'pending' AND leased_at IS NOT NULL`, db.T(now), db.T(now))
		if err != nil {
			return fmt.Errorf("release leases: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

func (b *Bus) loop(ctx context.Context, s *subscriber) {
	t := b.clock.NewTimer(b.opt.Poll)
	defer t.Stop()
	for {
		start := b.clock.Now()
		n, more, err := b.round(ctx, s)
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil:
			b.log.Error("event delivery", "subscriber", s.name, "err", err)
		case n == b.opt.Batch || more:
			continue // more is waiting
		}
		t.Reset(b.opt.Poll)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
			t.Stop()
		case <-t.C():
		}
		// Under a steady stream of commits every round finds a few events
		// and each costs two transactions: after a round that found some,
		// the next waits until Coalesce after its start, to take what has
		// come in the meantime at once. An idle loop answers at once.
		if wait := start.Add(b.opt.Coalesce).Sub(b.clock.Now()); n > 0 && wait > 0 {
			t.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-t.C():
			}
		}
	}
}

// Deliver runs one round of delivery for the subscriber name: claim,
// deliver, finish. It reports how many events it claimed. The delivery
// loops call it; tests call it to deliver without them.
func (b *Bus) Deliver(ctx context.Context, name string) (int, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, s := range b.durable {
		if s.name == name {
			return b.deliver(ctx, s)
		}
	}
	return 0, fmt.Errorf("events: no durable subscriber %q", name)
}

func (b *Bus) deliver(ctx context.Context, s *subscriber) (int, error) {
	n, _, err := b.round(ctx, s)
	return n, err
}

// round claims, delivers and finishes once. It reports how many events it
// claimed and whether it handed some back undelivered because its lease
// was running out (they are due again at once).
func (b *Bus) round(ctx context.Context, s *subscriber) (int, bool, error) {
	batch, claimedAt, err := b.claim(ctx, s)
	if err != nil || len(batch) == 0 {
		return 0, false, err
	}
	// No delivery starts that could still run when the lease ends: another
	// node may take the events over then. (At least half the lease, for a
	// lease shorter than the delivery timeout.)
	stop := claimedAt.Add(max(b.opt.Lease-s.opt.Timeout, b.opt.Lease/2))
	var late atomic.Bool
	// Streams in parallel, each in order.
	var order []string
	streams := map[string][]*claimed{}
	for _, c := range batch {
		k := c.event.Stream()
		if _, ok := streams[k]; !ok {
			order = append(order, k)
		}
		streams[k] = append(streams[k], c)
	}
	sem := make(chan struct{}, s.opt.Concurrency)
	var wg sync.WaitGroup
	for _, k := range order {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			for _, c := range streams[k] {
				if c.err == nil {
					if b.clock.Now().After(stop) {
						late.Store(true)
						return // handed back
					}
					c.err = b.call(ctx, s, c.event)
				}
				if c.err != nil {
					return // the stream's later events wait for this one
				}
				c.done = true
			}
		})
	}
	wg.Wait()
	return len(batch), late.Load(), b.finish(ctx, s, batch)
}

// call runs the handler with the delivery timeout, turning a panic into an error.
func (b *Bus) call(ctx context.Context, s *subscriber, e Event) (err error) {
	ctx, cancel := context.WithTimeout(ctx, s.opt.Timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return s.fn(ctx, e)
}

func (b *Bus) claim(ctx context.Context, s *subscriber) ([]*claimed, time.Time, error) {
	var out []*claimed
	var data []string
	var at time.Time
	err := b.db.InTx(ctx, func(tx *db.Tx) error {
		out, data = nil, nil
		now := b.clock.Now()
		at = now
		lock := ""
		if tx.Dialect() == db.Postgres {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext(?))`, "flare.events."+s.name); err != nil {
				return fmt.Errorf("claim lock: %w", err)
			}
			lock = ` FOR UPDATE OF d SKIP LOCKED`
		}
		// The streams with a row out (leased or waiting for a retry) are
		// read once, so the claim is one pass over the pending rows however
		// many there are; as a correlated NOT EXISTS, PostgreSQL without
		// fresh statistics planned it as a pass per candidate (0.5 s for a
		// claim with 5,000 pending). The event is read by its key, never
		// joined: a merge join scanned the retained events from the start.
		rows, err := tx.Query(ctx, `SELECT d.id, d.attempts, d.event_seq, (SELECT e.data FROM events e WHERE e.seq = d.event_seq)
			FROM event_deliveries d
			WHERE d.subscriber = ? AND d.state = 'pending' AND d.next_at <= ?
			AND d.stream NOT IN (SELECT p.stream FROM event_deliveries p WHERE p.subscriber = ? AND p.state = 'pending' AND p.next_at > ?)
			ORDER BY d.event_seq LIMIT ?`+lock, s.name, db.T(now), s.name, db.T(now), b.opt.Batch)
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		var ids []any
		for rows.Next() {
			c := &claimed{}
			var d string
			if err := rows.Scan(&c.id, &c.attempts, &c.event.Seq, &d); err != nil {
				rows.Close()
				return fmt.Errorf("claim: %w", err)
			}
			out, data = append(out, c), append(data, d)
			ids = append(ids, c.id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE event_deliveries SET next_at = ?, leased_at = ?, updated_at = ? WHERE id IN (`+db.Placeholders(len(ids))+`)`,
			append([]any{db.T(now.Add(b.opt.Lease)), db.T(now), db.T(now)}, ids...)...)
		if err != nil {
			return fmt.Errorf("lease: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, at, err
	}
	// Decoded once the transaction is done: on SQLite its callback runs on
	// the one writer, which every write is waiting for.
	for i, c := range out {
		seq := c.event.Seq
		// UnmarshalJSON itself: json.Unmarshal would scan the whole event
		// twice more before handing it over.
		if err := c.event.UnmarshalJSON([]byte(data[i])); err != nil {
			c.err = fmt.Errorf("decode: %w", err) // fails like a delivery, ends up dead and visible
		}
		c.event.Seq = seq
	}
	return out, at, nil
}

func (b *Bus) finish(ctx context.Context, s *subscriber, batch []*claimed) error {
	var done, back []any
	var failed []*claimed
	for _, c := range batch {
		switch {
		case c.done:
			done = append(done, c.id)
		case c.err != nil:
			failed = append(failed, c)
		default:
			back = append(back, c.id)
		}
	}
	return b.db.InTx(ctx, func(tx *db.Tx) error {
		now := b.clock.Now()
		if len(done) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM event_deliveries WHERE id IN (`+db.Placeholders(len(done))+`)`, done...); err != nil {
				return fmt.Errorf("delivered: %w", err)
			}
		}
		if len(back) > 0 {
			if _, err := tx.Exec(ctx, `UPDATE event_deliveries SET next_at = ?, leased_at = NULL, updated_at = ? WHERE id IN (`+db.Placeholders(len(back))+`)`,
				append([]any{db.T(now), db.T(now)}, back...)...); err != nil {
				return fmt.Errorf("hand back: %w", err)
			}
		}
		for _, c := range failed {
			attempts := c.attempts + 1
			state, next := "pending", now.Add(b.backoff(attempts))
			if attempts >= s.opt.MaxAttempts || errors.As(c.err, new(permanent)) {
				state = "dead"
				b.log.Warn("event delivery dead", "subscriber", s.name, "event", c.event.ID, "type", c.event.Type,
					"attempts", attempts, "err", c.err)
			}
			msg := c.err.Error()
			if len(msg) > 2000 {
				msg = msg[:2000]
			}
			if _, err := tx.Exec(ctx, `UPDATE event_deliveries SET state = ?, attempts = ?, next_at = ?, leased_at = NULL, last_error = ?,
				updated_at = ? WHERE id = ?`, state, attempts, db.T(next), msg, db.T(now), c.id); err != nil {
				return fmt.Errorf("failed delivery: %w", err)
			}
		}
		return nil
	})
}

// permanent is a handler's error that no retry will cure.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps err so that the outbox gives the event up at once (dead,
// for an admin to replay) instead of retrying it.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// backoff is the wait before try attempts+1: BackoffBase doubling, at most BackoffMax.
func (b *Bus) backoff(attempts int) time.Duration {
	d := b.opt.BackoffBase
	for i := 1; i < attempts && d < b.opt.BackoffMax; i++ {
		d *= 2
	}
	return min(d, b.opt.BackoffMax)
}

// pruneEvery is how often delivered events past their retention are removed.
const pruneEvery = time.Hour

func (b *Bus) pruneLoop(ctx context.Context) {
	t := b.clock.NewTimer(pruneEvery)
	defer t.Stop()
	for {
		if _, err := b.Prune(ctx); err != nil && ctx.Err() == nil {
			b.log.Error("prune events", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			t.Reset(pruneEvery)
		}
	}
}

// Prune removes events older than the retention that no delivery waits
// for, and reports how many.
func (b *Bus) Prune(ctx context.Context) (int64, error) {
	var n int64
	err := b.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM events WHERE at < ? AND NOT EXISTS
			(SELECT 1 FROM event_deliveries d WHERE d.event_seq = events.seq)`, db.T(b.clock.Now().Add(-b.opt.Retention)))
		if err != nil {
			return fmt.Errorf("prune events: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// ErrNoSubscriber is a delivery action naming no registered subscriber.
var ErrNoSubscriber = errors.New("no such subscriber")
