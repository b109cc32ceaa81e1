// Package jobs sets up Flare's durable job queue (River) on SQLite or
// PostgreSQL. Domain packages register their own workers and periodic jobs
// in a Registry; jobs are inserted in the same transaction as the change
// that causes them, so a crash never loses a timer.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/flare-desk/flare/internal/db"
)

// Registry collects the workers and periodic jobs of every domain.
type Registry struct {
	Workers  *river.Workers
	Periodic []*river.PeriodicJob
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{Workers: river.NewWorkers()} }

// Every schedules a periodic job that also runs once at start-up.
func (r *Registry) Every(interval time.Duration, args func() river.JobArgs, id string) {
	r.Periodic = append(r.Periodic, river.NewPeriodicJob(
		river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return args(), nil },
		&river.PeriodicJobOpts{ID: id, RunOnStart: true},
	))
}

func driverFor(d *db.DB) riverdriver.Driver[*sql.Tx] {
	if d.Dialect() == db.Postgres {
		return riverdatabasesql.New(d.W)
	}
	return riversqlite.New(d.W)
}

// Migrate creates or updates the job queue's tables.
func Migrate(ctx context.Context, d *db.DB) error {
	m, err := rivermigrate.New(driverFor(d), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	return nil
}

// Queue is the job queue client.
type Queue struct {
	client  *river.Client[*sql.Tx]
	working bool
}

// Options tune a queue.
type Options struct {
	// Work starts workers; without it the queue only inserts (CLI commands).
	Work bool
	// MaxWorkers is the number of jobs worked at once (default 8).
	MaxWorkers int
	// PollInterval is how often workers look for due jobs (default 250ms).
	PollInterval time.Duration
	Logger       *slog.Logger
}

// New builds a queue on d with the registered workers.
func New(d *db.DB, reg *Registry, opt Options) (*Queue, error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	cfg := &river.Config{
		Logger:   opt.Logger,
		Workers:  reg.Workers,
		PollOnly: true, // neither driver here listens; workers poll for due jobs
	}
	if opt.Work {
		if opt.MaxWorkers == 0 {
			opt.MaxWorkers = 8
		}
		if opt.PollInterval == 0 {
			opt.PollInterval = 250 * time.Millisecond
		}
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: opt.MaxWorkers}}
		cfg.FetchPollInterval = opt.PollInterval
		cfg.FetchCooldown = min(opt.PollInterval, 100*time.Millisecond)
		cfg.PeriodicJobs = reg.Periodic
	}
	c, err := river.NewClient(driverFor(d), cfg)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return &Queue{client: c, working: opt.Work}, nil
}

// Start starts the workers (no-op for an insert-only queue).
func (q *Queue) Start(ctx context.Context) error {
	if !q.working {
		return nil
	}
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	return nil
}

// Stop lets running jobs finish, then stops the workers.
func (q *Queue) Stop(ctx context.Context) error {
	if !q.working {
		return nil
	}
	return q.client.Stop(ctx)
}

// Insert enqueues a job in tx, so it exists exactly when tx commits.
func (q *Queue) Insert(ctx context.Context, tx *db.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	if _, err := q.client.InsertTx(ctx, tx.Tx, args, opts); err != nil {
		return fmt.Errorf("enqueue %s: %w", args.Kind(), err)
	}
	return nil
}

// Client exposes the River client for subscriptions in tests and tools.
func (q *Queue) Client() *river.Client[*sql.Tx] { return q.client }
