// Package benchload is what the HTTP intake benchmarks share: a wired
// Flare on a fresh store served over loopback with an admin token, the
// demo generator's cases as request bodies, a closed-loop load of k
// clients, and the process's CPU time (getrusage), which on a shared
// machine is steadier than throughput.
package benchload

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/flare-desk/flare/bench/internal/benchstore"
	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/demo"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/web"
)

// Env is a running Flare on a scratch store.
type Env struct {
	App   *app.App
	Desk  *desk.Config
	URL   string
	Token string
	Admin auth.Actor
	Close func()
}

// Start opens a scratch store (benchstore.Open), applies the demo desk
// (demo.Desk(1)) after configure has had its say, creates an admin token
// and serves the API without rate limits (one sender, one address) with
// the background loops running.
func Start(ctx context.Context, which string, configure func(*app.App, *desk.Config)) (*Env, error) {
	d, cleanup, err := benchstore.Open(ctx, which)
	if err != nil {
		return nil, err
	}
	e, err := start(ctx, d, configure)
	if err != nil {
		cleanup()
		return nil, err
	}
	stop := e.Close
	e.Close = func() { stop(); cleanup() }
	return e, nil
}

func start(ctx context.Context, d *db.DB, configure func(*app.App, *desk.Config)) (*Env, error) {
	a, err := app.New(d, app.Options{Logger: slog.New(slog.DiscardHandler), Work: true})
	if err != nil {
		return nil, err
	}
	e := &Env{App: a, Desk: demo.Desk(1), Close: func() {}}
	if configure != nil {
		configure(a, e.Desk)
	}
	now := a.Clock.Now()
	if _, err := a.Desk.Apply(ctx, auth.System("bench"), now, e.Desk); err != nil {
		return nil, err
	}
	users, err := auth.ListUsers(ctx, d)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.Role == auth.RoleAdmin {
			e.Admin = auth.ActorFor(u)
			break
		}
	}
	if err := d.InTx(ctx, func(tx *db.Tx) error {
		e.Token, _, err = auth.CreateToken(ctx, tx, now, e.Admin.UserID, "bench")
		return err
	}); err != nil {
		return nil, err
	}
	srv, err := web.New(a, web.Options{Limits: &web.Limits{}})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: srv.Handler()}
	go func() { _ = hs.Serve(ln) }()
	e.URL = "http://" + ln.Addr().String()
	if err := a.Start(ctx); err != nil {
		_ = hs.Close()
		return nil, err
	}
	e.Close = func() { _ = hs.Close(); _ = a.Stop(context.Background()) }
	return e, nil
}

// Cases is n cases of the demo generator (seed 7) for the desk, without
// their arrival instants (the server stamps them), with their API bodies.
func Cases(cfg *desk.Config, n int, now time.Time) ([]cases.CreateInput, [][]byte, error) {
	var ins []cases.CreateInput
	var bodies [][]byte
	for _, spec := range demo.Generate(cfg, 7, n, now) {
		in := spec.Input
		in.At = time.Time{}
		b, err := json.Marshal(in)
		if err != nil {
			return nil, nil, err
		}
		ins, bodies = append(ins, in), append(bodies, b)
	}
	return ins, bodies, nil
}

// Result is one measured run.
type Result struct {
	N       int
	Elapsed time.Duration
	CPU     time.Duration // the process's user+system time over the run (and its drain)
	Drained time.Duration // how long the outbox took to drain after the run (Env.Drain)
	Lat     []time.Duration
}

// Rate is calls per second.
func (r Result) Rate() float64 { return float64(r.N) / r.Elapsed.Seconds() }

// CPUPer is the process's CPU time per call, in microseconds.
func (r Result) CPUPer() float64 { return float64(r.CPU.Microseconds()) / float64(max(r.N, 1)) }

// Pct is the p-quantile of the calls' latencies.
func (r Result) Pct(p float64) time.Duration {
	if len(r.Lat) == 0 {
		return 0
	}
	s := slices.Clone(r.Lat)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// Parallel runs f(i) for i in [0,n) on k workers and times each call;
// the first error stops the run.
func Parallel(n, k int, f func(i int) error) (Result, error) {
	var next atomic.Int64
	lat := make([]time.Duration, n)
	var firstErr atomic.Value
	var wg sync.WaitGroup
	cpu0, start := CPUTime(), time.Now()
	for range k {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t := time.Now()
				if err := f(i); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				lat[i] = time.Since(t)
			}
		})
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return Result{}, err
	}
	return Result{N: n, Elapsed: time.Since(start), CPU: CPUTime() - cpu0, Lat: lat}, nil
}

// CPUTime is the user and system CPU time the process has used.
func CPUTime() time.Duration {
	var r syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

// Ms formats a duration in milliseconds.
func Ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// Drain waits until the outbox has delivered everything (event_deliveries
// empty) and adds the CPU time that took to r: the durable subscribers'
// work belongs to the cases that caused it.
func (e *Env) Drain(ctx context.Context, r *Result, limit time.Duration) error {
	cpu0, start := CPUTime(), time.Now()
	for {
		var n int
		if err := e.App.DB.QueryRow(ctx, `SELECT COUNT(*) FROM event_deliveries`).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			r.CPU += CPUTime() - cpu0
			r.Drained = time.Since(start)
			return nil
		}
		if time.Since(start) > limit {
			return fmt.Errorf("%d deliveries still pending after %s", n, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
