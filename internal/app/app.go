// Package app wires Flare's capabilities together: the store, the job
// queue and the domain services that the server, the CLI, the demo and the
// benchmarks share.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/flare-desk/flare/internal/assignment"
	"github.com/flare-desk/flare/internal/attachments"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/bulk"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/escalation"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/handoffs"
	"github.com/flare-desk/flare/internal/idempotency"
	"github.com/flare-desk/flare/internal/incidents"
	"github.com/flare-desk/flare/internal/intake"
	"github.com/flare-desk/flare/internal/intake/alertmanager"
	"github.com/flare-desk/flare/internal/intake/csvimport"
	"github.com/flare-desk/flare/internal/intake/webhook"
	"github.com/flare-desk/flare/internal/jobs"
	"github.com/flare-desk/flare/internal/live"
	"github.com/flare-desk/flare/internal/macros"
	"github.com/flare-desk/flare/internal/mail"
	"github.com/flare-desk/flare/internal/merge"
	"github.com/flare-desk/flare/internal/notify"
	"github.com/flare-desk/flare/internal/oncall"
	"github.com/flare-desk/flare/internal/portal"
	"github.com/flare-desk/flare/internal/postmortems"
	"github.com/flare-desk/flare/internal/prefs"
	"github.com/flare-desk/flare/internal/problems"
	"github.com/flare-desk/flare/internal/reports"
	"github.com/flare-desk/flare/internal/reviews"
	"github.com/flare-desk/flare/internal/routing/routingdesk"
	"github.com/flare-desk/flare/internal/signals"
	"github.com/flare-desk/flare/internal/suggest"
	"github.com/flare-desk/flare/internal/views"
)

// Migrate brings the schema and the job queue's tables up to date.
func Migrate(ctx context.Context, d *db.DB) error {
	if err := db.Migrate(ctx, d); err != nil {
		return err
	}
	return jobs.Migrate(ctx, d)
}

// DeskSchema is the desk document's schema: desk's own keys and the
// sections of every capability. A capability with a desk section adds its
// Sections() here, and nowhere else.
func DeskSchema() (*desk.Schema, error) {
	var sections []desk.Section
	sections = append(sections, routingdesk.Sections()...)
	sections = append(sections, oncall.Sections()...)
	sections = append(sections, escalation.Sections()...)
	sections = append(sections, notify.Sections()...)
	sections = append(sections, intake.Sections()...)
	sections = append(sections, incidents.Sections()...)
	sections = append(sections, postmortems.Sections()...)
	sections = append(sections, mail.Sections()...)
	sections = append(sections, webhook.Sections()...)
	sections = append(sections, alertmanager.Sections()...)
	sections = append(sections, signals.Sections()...)
	sections = append(sections, reports.Sections()...)
	sections = append(sections, macros.Sections()...)
	sections = append(sections, reviews.DeskSections()...)
	schema, err := desk.NewSchema(sections...)
	if err != nil {
		return nil, fmt.Errorf("desk schema: %w", err)
	}
	return schema, nil
}

// Options configure an App.
type Options struct {
	Clock  clock.Clock  // default: the real clock
	Logger *slog.Logger // default: slog.Default()
	Work   bool         // run job workers (serve, demo); false for one-shot CLI commands
	Events events.Options
	// Webhook, when its URL is set, ships every event to that URL through
	// the durable subscriber "webhook". Every process that writes to the
	// store needs the same subscribers: events are stored only for the
	// durable subscribers registered where they are published.
	Webhook events.WebhookOptions
	// Attachments: where large files are written and the limits.
	Attachments attachments.Options
	// Mail: the SMTP listener and the IMAP mailbox polled (each off when unset).
	Mail mail.Listeners
	// Live: how the live screens' hub tails other nodes' events and keeps presence.
	Live live.Options
}

// App is a running Flare instance's services.
type App struct {
	DB    *db.DB
	Clock clock.Clock
	Log   *slog.Logger
	Desk  *desk.Service
	Bus   *events.Bus
	Jobs  *jobs.Queue
	Capabilities
	// Live screens' streams and presence; display preferences (internal/live, internal/prefs).
	Live  *live.Hub
	Prefs *prefs.Service

	stopLoops context.CancelFunc
	mail      mail.Listeners
	stopMail  func()
	loops     sync.WaitGroup
}

// Capabilities are the domain services.
type Capabilities struct {
	Cases       *cases.Service
	Handoffs    *handoffs.Service
	Assignment  *assignment.Service
	OnCall      *oncall.Service
	Escalation  *escalation.Service
	Notify      *notify.Service
	Intake      *intake.Service
	Reports     *reports.Service
	Incidents   *incidents.Service
	Postmortems *postmortems.Service
	Attachments *attachments.Service
	Merge       *merge.Service
	Macros      *macros.Service
	Portal      *portal.Service
	Mail        *mail.Service
	// The intake's channels: inbound webhooks, Alertmanager, CSV import.
	Webhooks     *webhook.Service
	Alertmanager *alertmanager.Service
	Import       *csvimport.Service
	Problems     *problems.Service
	Suggest      *suggest.Service
	Signals      *signals.Service
	Reviews      *reviews.Service
	// The case list's saved views and bulk actions.
	Views *views.Service
	Bulk  *bulk.Service
}

// Wire builds the domain services on one clock and bus: cases, and the
// capabilities around them, each given the seams it needs and subscribed
// to the events it reacts to.
func Wire(d *db.DB, dk *desk.Service, c clock.Clock, log *slog.Logger, bus *events.Bus) Capabilities {
	cs := Capabilities{Cases: cases.NewService(d, dk, c, log, bus)}
	cs.Assignment = assignment.New(d, dk, cs.Cases, c)
	cs.Cases.SetAssigner(cs.Assignment)
	cs.Handoffs = handoffs.New(d, dk, cs.Cases, c)
	cs.Handoffs.Register(cs.Cases.Bus())
	cs.OnCall = oncall.New(d, dk, c)
	cs.Escalation = escalation.New(d, dk, cs.Cases, c, log, cs.OnCall) // a team's on-call answers escalation steps
	cs.Escalation.Register(cs.Cases.Bus())
	cs.Incidents = incidents.New(d, dk, cs.Cases, c, log, cs.OnCall) // pages the commander team's on-call
	cs.Incidents.Register(cs.Cases.Bus())
	cs.Postmortems = postmortems.New(d, dk, cs.Cases, c, log)
	cs.Postmortems.Follow(cs.Incidents) // reads incidents; refuses closing one without the postmortem it needs
	// Notifications are a durable subscriber of the app's bus; a Wire
	// without one (the demo's loader) tells nobody.
	cs.Notify = notify.New(d, dk, cs.Cases, c, log, notify.Options{SMTPPassword: os.Getenv(notify.PasswordEnv)})
	if bus != nil {
		cs.Notify.Register(bus)
	}
	cs.Intake = intake.New(d, dk, cs.Cases, c, log) // every channel's cases come through it
	cs.Reports = reports.New(d, dk, cs.Cases, c)
	cs.Reports.Register(cs.Cases.Bus())                                     // the report facts, kept in each case's transaction
	cs.Attachments = attachments.New(d, cs.Cases, c, attachments.Options{}) // New configures it from Options
	cs.Merge = merge.New(d, cs.Cases, c)                                    // agents merge a case into another
	cs.Macros = macros.New(d, dk, cs.Cases, c)                              // saved replies and multi-action macros
	cs.Views = views.New(d, cs.Cases, c)
	cs.Bulk = bulk.New(cs.Cases, cs.Incidents) // each case through the per-case services
	cs.Portal = portal.New(d, dk, cs.Cases, cs.Merge, cs.Attachments, c, portalSubmitter(cs))
	// Mail in through intake; public replies out as mail (a durable subscriber).
	cs.Mail = mail.New(d, dk, cs.Cases, cs.Intake, cs.Attachments, cs.Notify, c, log)
	if bus != nil {
		cs.Mail.Register(bus)
	}
	// Endpoint secrets are read from the server's environment, never the desk document.
	cs.Webhooks = webhook.New(dk, cs.Intake, c, os.Getenv)
	cs.Alertmanager = alertmanager.New(d, dk, cs.Cases, cs.Intake, c, os.Getenv)
	cs.Alertmanager.UseIncidents(cs.Incidents) // the endpoints' rules declare incidents
	cs.Import = csvimport.New(d, cs.Cases, cs.Intake)
	// Similar cases and problems, category suggestions: durable subscribers
	// like notify (a Wire without a bus indexes its cases on the next Load).
	cs.Problems = problems.New(d, dk, cs.Cases, c, log, problems.Options{})
	cs.Suggest = suggest.New(d, dk, cs.Cases, c, log, suggest.Options{})
	if bus != nil {
		cs.Problems.Register(bus)
		cs.Suggest.Register(bus)
	}
	// Signals count case.created from the app's bus; a Wire without one
	// (the demo's loader) counts nothing.
	cs.Signals = signals.New(d, dk, cs.Cases, cs.Intake, cs.Incidents, c, log)
	if bus != nil {
		cs.Signals.Register(bus)
	}
	// Review packs: built on their schedule from the metrics, handoff
	// waits, postmortem actions and problems; mailed through notify's outbox.
	cs.Reviews = reviews.New(d, dk, cs.Reports, cs.Handoffs, cs.Postmortems, cs.Notify, c, log)
	return cs
}

// New builds the services on an already migrated store.
func New(d *db.DB, opt Options) (*App, error) {
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	schema, err := DeskSchema()
	if err != nil {
		return nil, err
	}
	a := &App{DB: d, Clock: opt.Clock, Log: opt.Logger, Desk: desk.NewService(d, desk.WithSchema(schema))}
	a.Bus = events.New(d, a.Clock, a.Log, opt.Events)
	if opt.Webhook.URL != "" {
		wh, err := events.NewWebhook(opt.Webhook, a.Clock)
		if err != nil {
			return nil, err
		}
		a.Bus.Subscribe(events.WebhookSubscriber, wh.Deliver, wh.SubscriberOptions())
	}
	a.Capabilities = Wire(d, a.Desk, a.Clock, a.Log, a.Bus)
	a.Live = live.New(d, a.Bus, a.Cases, a.Clock, a.Log, opt.Live)
	a.Prefs = prefs.New(d, a.Clock)
	a.Attachments.Configure(opt.Attachments)
	a.mail = opt.Mail
	reg := jobs.NewRegistry()
	cases.RegisterJobs(reg, d, a.Clock)
	idempotency.Register(reg, d, a.Clock)
	a.Suggest.RegisterJobs(reg) // retrain the category model periodically
	q, err := jobs.New(d, reg, jobs.Options{Work: opt.Work, Logger: a.Log})
	if err != nil {
		return nil, err
	}
	a.Jobs = q
	return a, nil
}

// Start starts background work: the job queue's workers, the search
// indexer, and the SLA and escalation deadline timers.
func (a *App) Start(ctx context.Context) error {
	// The report facts of cases written before they were kept (once, after
	// migration 00029; a no-op after).
	if n, err := a.Reports.SyncFacts(ctx); err != nil {
		return err
	} else if n > 0 {
		a.Log.Info("report facts written", "cases", n)
	}
	if err := a.Jobs.Start(ctx); err != nil {
		return err
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.stopLoops = cancel
	a.loops.Go(func() { a.Cases.RunSearchIndexer(lctx, 2*time.Second) })
	a.loops.Go(func() { a.Cases.RunSLATimer(lctx) })
	a.loops.Go(func() { a.Escalation.RunTimer(lctx) })
	a.loops.Go(func() { a.Incidents.RunTimer(lctx) })
	a.loops.Go(func() { a.Postmortems.RunTimer(lctx) })
	a.loops.Go(func() { a.Bus.Run(lctx) })
	a.loops.Go(func() { a.Notify.Run(lctx) })
	a.loops.Go(func() { a.Signals.Run(lctx) })
	a.loops.Go(func() { a.Live.Run(lctx) }) // other nodes' events for this node's streams
	a.loops.Go(func() { a.Reviews.Run(lctx) })
	a.loops.Go(func() { // the first report after a start need not read its facts
		if err := a.Reports.Warm(lctx); err != nil && lctx.Err() == nil {
			a.Log.Warn("report facts not read ahead", "err", err)
		}
	})
	stopMail, err := a.Mail.Start(lctx, a.mail) // the SMTP listener and the IMAP poller, when set
	if err != nil {
		cancel()
		a.loops.Wait()
		return err
	}
	a.stopMail = stopMail
	return nil
}

// Stop stops the background loops and lets running jobs finish.
func (a *App) Stop(ctx context.Context) error {
	if a.stopMail != nil {
		a.stopMail()
	}
	if a.stopLoops != nil {
		a.stopLoops()
		a.loops.Wait()
	}
	return a.Jobs.Stop(ctx)
}

// portalSubmitter opens the portal's requests through intake: channel
// "internal", key "portal", the form's token as the sender's id.
func portalSubmitter(cs Capabilities) portal.Submitter {
	return func(ctx context.Context, a auth.Actor, sub portal.Submission) (*portal.Submitted, error) {
		in := intake.Submission{Source: intake.Source{Channel: portal.Channel, Key: portal.SourceKey, ExternalID: sub.Token},
			Case: sub.Case, RequireFields: true}
		if sub.Then != nil {
			in.Then = func(ctx context.Context, tx *db.Tx, r *intake.Result) error { return sub.Then(ctx, tx, r.Case) }
		}
		r, err := cs.Intake.Submit(ctx, a, in)
		if err != nil {
			return nil, err
		}
		return &portal.Submitted{Case: r.Case, Outcome: string(r.Outcome), RepeatOf: r.RepeatOf}, nil
	}
}
