// Command intake measures case intake through the HTTP API against a
// direct-insert baseline in the same run, and the latency of a team queue
// (GET /cases) with a large case table. See bench/BENCHMARKS.md.
//
//	go run ./bench/intake -db sqlite -n 20000
//	go run ./bench/intake -db postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable -n 20000
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flare-desk/flare/bench/internal/benchstore"
	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/demo"
	"github.com/flare-desk/flare/internal/web"
)

func main() {
	dbFlag := flag.String("db", "sqlite", "sqlite, or a postgres:// server URL (a scratch database is created on it)")
	n := flag.Int("n", 20000, "cases per intake measurement")
	clients := flag.Int("clients", 16, "concurrent HTTP clients (and baseline writers)")
	queueCases := flag.Int("queue-cases", 500000, "cases in the store for the queue latency measurement (0 skips it)")
	queueReqs := flag.Int("queue-requests", 2000, "GET /cases requests for the latency measurement")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to FILE")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "intake:", err)
			os.Exit(1)
		}
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if err := run(context.Background(), *dbFlag, *n, *clients, *queueCases, *queueReqs); err != nil {
		fmt.Fprintln(os.Stderr, "intake:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

type env struct {
	a       *app.App
	url     string
	token   string
	admin   auth.Actor
	inputs  []cases.CreateInput
	bodies  [][]byte
	cleanup func()
}

func setup(ctx context.Context, which string, n int) (*env, error) {
	d, cleanup, err := benchstore.Open(ctx, which)
	if err != nil {
		return nil, err
	}
	a, err := app.New(d, app.Options{Logger: slog.New(slog.DiscardHandler), Work: true})
	if err != nil {
		return nil, err
	}
	now := a.Clock.Now()
	cfg := demo.Desk(1)
	if _, err := a.Desk.Apply(ctx, auth.System("bench"), now, cfg); err != nil {
		return nil, err
	}
	e := &env{a: a, cleanup: cleanup}
	users, err := auth.ListUsers(ctx, d)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.Role == auth.RoleAdmin {
			e.admin = auth.ActorFor(u)
			break
		}
	}
	err = d.InTx(ctx, func(tx *db.Tx) error {
		e.token, _, err = auth.CreateToken(ctx, tx, now, e.admin.UserID, "bench")
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, spec := range demo.Generate(cfg, 7, n, now) {
		in := spec.Input
		in.At = time.Time{}
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		e.inputs = append(e.inputs, in)
		e.bodies = append(e.bodies, b)
	}
	// No rate limits: the benchmark measures the pipeline, from one token and one address.
	srv, err := web.New(a, web.Options{Limits: &web.Limits{}})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() { _ = http.Serve(ln, srv.Handler()) }()
	e.url = "http://" + ln.Addr().String()
	if err := a.Start(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// result is one measured run.
type result struct {
	n       int
	elapsed time.Duration
	lat     []time.Duration
}

func (r result) rate() float64 { return float64(r.n) / r.elapsed.Seconds() }

func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	s := slices.Clone(r.lat)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// parallel runs f(i) for i in [0,n) on k workers and times each call.
func parallel(n, k int, f func(i int) error) (result, error) {
	var next atomic.Int64
	lat := make([]time.Duration, n)
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
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
		return result{}, err
	}
	return result{n: n, elapsed: time.Since(start), lat: lat}, nil
}

func run(ctx context.Context, which string, n, clients, queueCases, queueReqs int) error {
	label := "SQLite"
	if which != "sqlite" {
		label = "PostgreSQL"
	}
	e, err := setup(ctx, which, n)
	if err != nil {
		return err
	}
	defer e.cleanup()
	fmt.Printf("## %s — %d cases, %d clients\n\n", label, n, clients)

	// Baseline: the same rows (case, first event, audit record), prepared up
	// front, each written in its own transaction by the store layer.
	prepared := make([]*cases.Case, n)
	for i, in := range e.inputs {
		if prepared[i], err = e.a.Cases.Prepare(ctx, e.admin, in); err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
	}
	base, err := parallel(n, clients, func(i int) error {
		return e.a.DB.InTx(ctx, func(tx *db.Tx) error { return cases.WriteNew(ctx, tx, e.admin, prepared[i]) })
	})
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients * 2}}
	post := func(i int) error {
		req, _ := http.NewRequestWithContext(ctx, "POST", e.url+"/api/v1/cases", bytes.NewReader(e.bodies[i]))
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
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
	api, err := parallel(n, clients, post)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	fmt.Printf("| intake | cases/s | p50 | p99 |\n|---|---:|---:|---:|\n")
	fmt.Printf("| direct insert (baseline) | %.0f | %s | %s |\n", base.rate(), ms(base.pct(.5)), ms(base.pct(.99)))
	fmt.Printf("| POST /api/v1/cases | %.0f | %s | %s |\n", api.rate(), ms(api.pct(.5)), ms(api.pct(.99)))
	fmt.Printf("\nAPI / baseline: **%.0f%%**\n\n", 100*api.rate()/base.rate())

	if queueCases > 0 {
		if err := queue(ctx, e, client, queueCases, queueReqs); err != nil {
			return err
		}
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// queue fills the store to queueCases cases and measures a team queue.
func queue(ctx context.Context, e *env, client *http.Client, total, reqs int) error {
	var have int
	if err := e.a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM cases`).Scan(&have); err != nil {
		return err
	}
	start := time.Now()
	const batch = 2000
	// Bulk fill: older cases are mostly resolved or closed, as on a real desk.
	statuses := []cases.Status{cases.StatusClosed, cases.StatusClosed, cases.StatusClosed, cases.StatusResolved,
		cases.StatusClosed, cases.StatusClosed, cases.StatusClosed, cases.StatusClosed, cases.StatusOpen, cases.StatusNew}
	for have < total {
		k := min(batch, total-have)
		err := e.a.DB.InTx(ctx, func(tx *db.Tx) error {
			for j := range k {
				in := e.inputs[(have+j)%len(e.inputs)]
				c, err := e.a.Cases.Prepare(ctx, e.admin, in)
				if err != nil {
					return err
				}
				c.Status = statuses[(have+j)%len(statuses)]
				if err := cases.WriteNew(ctx, tx, e.admin, c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("fill: %w", err)
		}
		have += k
	}
	if e.a.DB.Dialect() == db.Postgres {
		if _, err := e.a.DB.Exec(ctx, "ANALYZE"); err != nil {
			return err
		}
	} else if _, err := e.a.DB.Exec(ctx, "ANALYZE"); err != nil {
		return err
	}
	var team string
	var teamCases, active int
	if err := e.a.DB.QueryRow(ctx, `SELECT team, COUNT(*) FROM cases GROUP BY team ORDER BY COUNT(*) DESC LIMIT 1`).Scan(&team, &teamCases); err != nil {
		return err
	}
	if err := e.a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE team = ? AND status IN ('new','open','pending_internal','pending_requester')`, team).Scan(&active); err != nil {
		return err
	}
	fmt.Printf("Queue: %d cases in the store (filled in %s); team %s holds %d, %d of them active.\n\n", total, time.Since(start).Round(time.Second), team, teamCases, active)

	path := "/api/v1/cases?team=" + team + "&status=new,open,pending_internal,pending_requester&sort=priority&limit=50"
	get := func(int) error {
		req, _ := http.NewRequestWithContext(ctx, "GET", e.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+e.token)
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			return fmt.Errorf("GET /cases: %d", res.StatusCode)
		}
		return nil
	}
	// Baseline: the same page read straight from the store layer.
	f := cases.ListFilter{Team: []string{team}, Status: cases.ActiveStatuses, Sort: "priority", Limit: 50}
	direct := func(int) error { _, err := e.a.Cases.List(ctx, e.admin, f); return err }
	for range 50 { // warm caches
		_ = get(0)
	}
	base, err := parallel(reqs, 1, direct)
	if err != nil {
		return err
	}
	api, err := parallel(reqs, 1, get)
	if err != nil {
		return err
	}
	apiLoaded, err := parallel(reqs, 4, get)
	if err != nil {
		return err
	}
	fmt.Printf("| team queue, first page of 50 by priority | p50 | p99 |\n|---|---:|---:|\n")
	fmt.Printf("| store-layer List (baseline) | %s | %s |\n", ms(base.pct(.5)), ms(base.pct(.99)))
	fmt.Printf("| GET /api/v1/cases, 1 client | %s | %s |\n", ms(api.pct(.5)), ms(api.pct(.99)))
	fmt.Printf("| GET /api/v1/cases, 4 clients | %s | %s |\n", ms(apiLoaded.pct(.5)), ms(apiLoaded.pct(.99)))
	fmt.Printf("\nAPI p99 / baseline p99: **%.2f×**\n\n", float64(api.pct(.99))/float64(max(base.pct(.99), 1)))
	return nil
}
