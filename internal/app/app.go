// Package app wires Flare's capabilities together: the store, the job
// queue and the domain services that the server, the CLI, the demo and the
// benchmarks share.
package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/idempotency"
	"github.com/flare-desk/flare/internal/jobs"
)

// Migrate brings the schema and the job queue's tables up to date.
func Migrate(ctx context.Context, d *db.DB) error {
	if err := db.Migrate(ctx, d); err != nil {
		return err
	}
	return jobs.Migrate(ctx, d)
}

// Options configure an App.
type Options struct {
	Clock  clock.Clock  // default: the real clock
	Logger *slog.Logger // default: slog.Default()
	Work   bool         // run job workers (serve, demo); false for one-shot CLI commands
}

// App is a running Flare instance's services.
type App struct {
	DB    *db.DB
	Clock clock.Clock
	Log   *slog.Logger
	Desk  *desk.Service
	Cases *cases.Service
	Jobs  *jobs.Queue

	stopIndexer context.CancelFunc
	indexerDone chan struct{}
}

// New builds the services on an already migrated store.
func New(d *db.DB, opt Options) (*App, error) {
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	a := &App{DB: d, Clock: opt.Clock, Log: opt.Logger, Desk: desk.NewService(d)}
	a.Cases = cases.NewService(d, a.Desk, a.Clock, a.Log)
	reg := jobs.NewRegistry()
	cases.RegisterJobs(reg, d, a.Clock)
	a.Cases.RegisterSLA(reg)
	idempotency.Register(reg, d, a.Clock)
	q, err := jobs.New(d, reg, jobs.Options{Work: opt.Work, Logger: a.Log})
	if err != nil {
		return nil, err
	}
	a.Jobs = q
	a.Cases.SetQueue(q)
	return a, nil
}

// Start starts background workers: the job queue and the search indexer.
func (a *App) Start(ctx context.Context) error {
	if err := a.Jobs.Start(ctx); err != nil {
		return err
	}
	ictx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.stopIndexer, a.indexerDone = cancel, make(chan struct{})
	go func() {
		defer close(a.indexerDone)
		a.Cases.RunSearchIndexer(ictx, 2*time.Second)
	}()
	return nil
}

// Stop lets running jobs finish and stops the workers.
func (a *App) Stop(ctx context.Context) error {
	if a.stopIndexer != nil {
		a.stopIndexer()
		<-a.indexerDone
	}
	return a.Jobs.Stop(ctx)
}
