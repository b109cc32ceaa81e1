package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/flare-desk/flare/bench/internal/benchstore"
	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/demo"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/jobs"
	"github.com/flare-desk/flare/internal/web"
)

var quiet = slog.New(slog.DiscardHandler)

// store is a scratch store with the demo desk, an admin token and case
// bodies from the demo generator.
type store struct {
	d       *db.DB
	token   string
	bodies  [][]byte
	cleanup func()
}

func openStore(ctx context.Context, which string, n int) (*store, error) {
	d, cleanup, err := benchstore.Open(ctx, which)
	if err != nil {
		return nil, err
	}
	s := &store{d: d, cleanup: cleanup}
	a, err := app.New(d, app.Options{Logger: quiet})
	if err != nil {
		cleanup()
		return nil, err
	}
	now := a.Clock.Now()
	cfg := demo.Desk(1)
	if _, err := a.Desk.Apply(ctx, auth.System("bench"), now, cfg); err != nil {
		cleanup()
		return nil, err
	}
	users, err := auth.ListUsers(ctx, d)
	if err != nil {
		cleanup()
		return nil, err
	}
	var admin auth.Actor
	for _, u := range users {
		if u.Role == auth.RoleAdmin {
			admin = auth.ActorFor(u)
			break
		}
	}
	err = d.InTx(ctx, func(tx *db.Tx) error {
		s.token, _, err = auth.CreateToken(ctx, tx, now, admin.UserID, "bench")
		return err
	})
	if err != nil {
		cleanup()
		return nil, err
	}
	for _, spec := range demo.Generate(cfg, 7, n, now) {
		in := spec.Input
		in.At = time.Time{}
		b, err := json.Marshal(in)
		if err != nil {
			cleanup()
			return nil, err
		}
		s.bodies = append(s.bodies, b)
	}
	return s, nil
}

// receipts records when a subscriber got each event, against the event's
// At (the case's creation instant, taken just before its transaction).
type receipts struct {
	mu  sync.Mutex
	lat []time.Duration
	n   atomic.Int64
}

func (r *receipts) record(at time.Time) {
	d := time.Since(at)
	r.mu.Lock()
	r.lat = append(r.lat, d)
	r.mu.Unlock()
	r.n.Add(1)
}

func (r *receipts) handle(_ context.Context, e events.Event) error {
	r.record(e.At)
	return nil
}

func (r *receipts) sorted() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := slices.Clone(r.lat)
	slices.Sort(s)
	return s
}

// eventJob is an event as a River job: the job queue as the outbox.
type eventJob struct {
	Event json.RawMessage `json:"event"`
}

func (eventJob) Kind() string { return "bench_event" }

// benchQueue keeps the jobs away from the app's own workers.
const benchQueue = "bench_events"

type eventWorker struct {
	river.WorkerDefaults[eventJob]
	r *receipts
}

func (w *eventWorker) Work(_ context.Context, j *river.Job[eventJob]) error {
	var e struct {
		At time.Time `json:"at"`
	}
	if err := json.Unmarshal(j.Args.Event, &e); err != nil {
		return err
	}
	w.r.record(e.At)
	return nil
}

// variant is a running Flare — app, workers, HTTP server — wired one of
// the ways under test:
//
//	none     no durable subscriber: Publish writes no outbox rows
//	outbox   one durable subscriber that records receipt, its loop running
//	webhook  the webhook subscriber, POSTing to a receiver in this process
//	river    an in-transaction subscriber inserting a River job per event
//	         (work: false — the write path only; true — River workers too)
type variant struct {
	kind   string
	a      *app.App
	url    string
	sub    string // durable subscriber's name
	got    *receipts
	srv    *http.Server
	sink   *http.Server
	worker *river.Client[*sql.Tx]

	stopOnce sync.Once
	stopErr  error
}

var instances atomic.Int64

func startVariant(ctx context.Context, s *store, kind string, work bool) (*variant, error) {
	v := &variant{kind: kind, got: &receipts{}}
	opt := app.Options{Logger: quiet, Work: true}
	// Its own subscriber name each time, so that nothing left by an earlier
	// measurement is delivered in this one.
	v.sub = fmt.Sprintf("bench_%d", instances.Add(1))
	if kind == "webhook" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		v.sink = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var e struct {
				At time.Time `json:"at"`
			}
			if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			v.got.record(e.At)
			w.WriteHeader(http.StatusNoContent)
		})}
		go func() { _ = v.sink.Serve(ln) }()
		opt.Webhook = events.WebhookOptions{URL: "http://" + ln.Addr().String() + "/hook", Secret: "bench"}
		v.sub = events.WebhookSubscriber
	}
	a, err := app.New(s.d, opt)
	if err != nil {
		return nil, err
	}
	v.a = a
	switch kind {
	case "none", "webhook":
	case "outbox":
		a.Bus.Subscribe(v.sub, v.got.handle, events.SubscriberOptions{})
	case "river":
		reg := jobs.NewRegistry()
		river.AddWorker(reg.Workers, &eventWorker{r: v.got})
		q, err := jobs.New(s.d, reg, jobs.Options{Logger: quiet}) // insert-only
		if err != nil {
			return nil, err
		}
		a.Bus.OnTx("bench_river", func(ctx context.Context, tx *db.Tx, e events.Event) error {
			b, err := json.Marshal(e)
			if err != nil {
				return err
			}
			return q.Insert(ctx, tx, eventJob{Event: b}, &river.InsertOpts{Queue: benchQueue})
		})
		if work {
			// Flare's queue settings (internal/jobs): poll every 250 ms, 8 workers.
			var drv riverdriver.Driver[*sql.Tx] = riversqlite.New(s.d.W)
			if s.d.Dialect() == db.Postgres {
				drv = riverdatabasesql.New(s.d.W)
			}
			v.worker, err = river.NewClient(drv, &river.Config{Logger: quiet, Workers: reg.Workers, PollOnly: true,
				Queues: map[string]river.QueueConfig{benchQueue: {MaxWorkers: 8}}, FetchPollInterval: 250 * time.Millisecond,
				FetchCooldown: 100 * time.Millisecond})
			if err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("unknown variant %q", kind)
	}
	srv, err := web.New(a, web.Options{Limits: &web.Limits{}}) // no rate limits: one token, one address
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	v.srv = &http.Server{Handler: srv.Handler()}
	go func() { _ = v.srv.Serve(ln) }()
	v.url = "http://" + ln.Addr().String()
	if err := a.Start(ctx); err != nil {
		return nil, err
	}
	if v.worker != nil {
		if err := v.worker.Start(ctx); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// backlog is what the variant's subscriber has still to get.
func (v *variant) backlog(ctx context.Context) (int, error) {
	var n int
	var err error
	switch v.kind {
	case "outbox", "webhook":
		err = v.a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM event_deliveries WHERE subscriber = ?`, v.sub).Scan(&n)
	case "river":
		err = v.a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM river_job WHERE queue = ? AND state <> 'completed'`, benchQueue).Scan(&n)
	}
	return n, err
}

// drain waits until the subscriber has everything, and reports how long that took.
func (v *variant) drain(ctx context.Context, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	for {
		n, err := v.backlog(ctx)
		if err != nil || n == 0 {
			return time.Since(start), err
		}
		if time.Since(start) > limit {
			return time.Since(start), fmt.Errorf("%s: %d events still undelivered after %s", v.kind, n, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop stops it once; later calls return the first one's error.
func (v *variant) stop(ctx context.Context) error {
	v.stopOnce.Do(func() { v.stopErr = v.shutdown(ctx) })
	return v.stopErr
}

func (v *variant) shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := v.srv.Shutdown(ctx)
	if v.worker != nil {
		err = errors.Join(err, v.worker.Stop(ctx))
	}
	err = errors.Join(err, v.a.Stop(ctx))
	if v.sink != nil {
		err = errors.Join(err, v.sink.Shutdown(ctx))
	}
	if v.kind == "river" { // the next measurement starts without this one's jobs
		_, e := v.a.DB.Exec(ctx, `DELETE FROM river_job WHERE queue = ?`, benchQueue)
		err = errors.Join(err, e)
	}
	return err
}

// poster sends case bodies to a variant's API.
type poster struct {
	client *http.Client
	token  string
}

func newPoster(token string, conns int) *poster {
	return &poster{token: token, client: &http.Client{Timeout: 60 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxIdleConns: conns}}}
}

func (p *poster) post(ctx context.Context, url string, body []byte) error {
	req, _ := http.NewRequestWithContext(ctx, "POST", url+"/api/v1/cases", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := p.client.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST /cases: %d %s", res.StatusCode, b)
	}
	return nil
}

func pct(s []time.Duration, p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
