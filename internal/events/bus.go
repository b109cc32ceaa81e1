package events

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
)

// TxHandler is an in-transaction subscriber: it runs inside the write's
// transaction, may write in tx (and publish further events), and an error
// rolls the whole write back. Like every transaction callback it may be run
// again if the group commit retries the transaction.
type TxHandler func(ctx context.Context, tx *db.Tx, e Event) error

// Handler is a durable subscriber: it gets each event after commit, at
// least once (deduplicate by Event.ID), in publish order per stream. An
// error retries the event later with back-off; the stream's later events
// wait for it. An error wrapped by Permanent gives the event up at once.
type Handler func(ctx context.Context, e Event) error

// SubscriberOptions tune a durable subscriber.
type SubscriberOptions struct {
	Types       []Type        // the types it wants; none: every type
	MaxAttempts int           // failed deliveries before an event is dead (default 10)
	Concurrency int           // streams delivered at once (default 4); one stream is always sequential
	Timeout     time.Duration // for one delivery (default 30 s)
}

// Options tune the bus.
type Options struct {
	Batch       int           // events claimed at once per subscriber (default 500)
	Lease       time.Duration // how long a claimed event is reserved for its deliverer (default 60 s)
	Poll        time.Duration // how often an idle subscriber looks for events other nodes published (default 1 s)
	Coalesce    time.Duration // a busy subscriber's rounds start at most this often (default 50 ms; negative: no wait)
	BackoffBase time.Duration // first retry after (default 1 s), doubling to BackoffMax
	BackoffMax  time.Duration // default 10 min
	Retention   time.Duration // events are kept this long once delivered (default 7 days)
}

func (o *Options) defaults() {
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.Lease <= 0 {
		o.Lease = time.Minute
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Coalesce == 0 {
		o.Coalesce = 50 * time.Millisecond
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 10 * time.Minute
	}
	if o.Retention <= 0 {
		o.Retention = 7 * 24 * time.Hour
	}
}

type txSub struct {
	name  string
	types []Type
	fn    TxHandler
}

type subscriber struct {
	name string
	opt  SubscriberOptions
	fn   Handler
	wake chan struct{}
}

func wants(types []Type, t Type) bool { return len(types) == 0 || slices.Contains(types, t) }

// Bus publishes events and delivers them to subscribers. Register every
// subscriber while wiring, before the first Publish and before Run.
type Bus struct {
	db    *db.DB
	clock clock.Clock
	log   *slog.Logger
	opt   Options
	feed  *Feed

	mu      sync.RWMutex
	inTx    []txSub
	durable []*subscriber
}

// New returns a bus on d.
func New(d *db.DB, c clock.Clock, log *slog.Logger, opt Options) *Bus {
	if log == nil {
		log = slog.Default()
	}
	opt.defaults()
	return &Bus{db: d, clock: c, log: log, opt: opt, feed: newFeed()}
}

// Feed is the bus's after-commit feed.
func (b *Bus) Feed() *Feed { return b.feed }

// OnTx registers an in-transaction subscriber for types (none: every type).
func (b *Bus) OnTx(name string, fn TxHandler, types ...Type) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inTx = append(b.inTx, txSub{name: name, types: types, fn: fn})
}

// Subscribe registers a durable subscriber. Its name is its identity in the
// outbox: keep it stable across releases (renaming it orphans its pending
// events). It gets the events published from now on.
func (b *Bus) Subscribe(name string, fn Handler, opt SubscriberOptions) {
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 10
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 4
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 30 * time.Second
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.durable {
		if s.name == name {
			panic("events: durable subscriber " + name + " registered twice") // a wiring mistake
		}
	}
	b.durable = append(b.durable, &subscriber{name: name, opt: opt, fn: fn, wake: make(chan struct{}, 1)})
}

// Subscribers lists the durable subscribers' names.
func (b *Bus) Subscribers() []string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]string, len(b.durable))
	for i, s := range b.durable {
		out[i] = s.name
	}
	return out
}

type depthKey struct{}

// maxDepth bounds in-transaction subscribers publishing events that their
// subscribers answer with more events.
const maxDepth = 8

// Publish publishes events in tx: it gives them their ids, writes them to
// the outbox of the durable subscribers that want them, runs the
// in-transaction subscribers, and hands them to the feed once tx commits.
// The events of one stream must be published in order, by transactions
// that hold the stream's lock (for a case: its row, loaded for update).
func (b *Bus) Publish(ctx context.Context, tx *db.Tx, evs ...Event) error {
	if len(evs) == 0 {
		return nil
	}
	depth, _ := ctx.Value(depthKey{}).(int)
	if depth >= maxDepth {
		return fmt.Errorf("events: subscribers published %d levels deep (a loop?)", depth)
	}
	now := b.clock.Now()
	out := make([]Event, len(evs)) // the caller's slice stays as it was (the transaction may be re-run)
	for i, e := range evs {
		if err := e.check(); err != nil {
			return err
		}
		if e.ID == "" {
			id, err := uuid.NewV7()
			if err != nil {
				return fmt.Errorf("events: new id: %w", err)
			}
			e.ID = id.String()
		}
		e.Version = kinds[e.Type].version
		if e.At.IsZero() {
			e.At = now
		}
		out[i] = e
	}
	b.mu.RLock()
	inTx, durable := b.inTx, b.durable
	b.mu.RUnlock()
	// Stored first: what in-transaction subscribers publish in answer
	// follows these events in their stream.
	woken, err := b.store(ctx, tx, durable, out, now)
	if err != nil {
		return err
	}
	sub := context.WithValue(ctx, depthKey{}, depth+1)
	for _, e := range out {
		for _, s := range inTx {
			if wants(s.types, e.Type) {
				if err := s.fn(sub, tx, e); err != nil {
					return fmt.Errorf("%s on %s: %w", s.name, e.Type, err)
				}
			}
		}
	}
	tx.AfterCommit(func() {
		for _, s := range woken {
			select {
			case s.wake <- struct{}{}:
			default: // a wake-up is pending already
			}
		}
		b.feed.publish(out)
	})
	return nil
}
