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
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/pprof"
	"time"

	"github.com/flare-desk/flare/bench/internal/benchload"
	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
)

func main() {
	dbFlag := flag.String("db", "sqlite", "sqlite, or a postgres:// server URL (a scratch database is created on it)")
	n := flag.Int("n", 20000, "cases per intake measurement")
	clients := flag.Int("clients", 16, "concurrent HTTP clients (and baseline writers)")
	queueCases := flag.Int("queue-cases", 500000, "cases in the store for the queue latency measurement (0 skips it)")
	queueReqs := flag.Int("queue-requests", 2000, "GET /cases requests for the latency measurement")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to FILE")
	flag.Parse()
	gc, limit := app.SetRuntimeDefaults() // as flare serves
	fmt.Printf("GC percent %d, memory limit %d MiB\n", gc, limit>>20)
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

func run(ctx context.Context, which string, n, clients, queueCases, queueReqs int) error {
	label := "SQLite"
	if which != "sqlite" {
		label = "PostgreSQL"
	}
	e, err := benchload.Start(ctx, which, nil)
	if err != nil {
		return err
	}
	defer e.Close()
	inputs, bodies, err := benchload.Cases(e.Desk, n, e.App.Clock.Now())
	if err != nil {
		return err
	}
	fmt.Printf("## %s — %d cases, %d clients\n\n", label, n, clients)

	// Baseline: the same rows (case, first event, audit record), prepared up
	// front, each written in its own transaction by the store layer.
	prepared := make([]*cases.Case, n)
	for i, in := range inputs {
		if prepared[i], err = e.App.Cases.Prepare(ctx, e.Admin, in); err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
	}
	base, err := benchload.Parallel(n, clients, func(i int) error {
		return e.App.DB.InTx(ctx, func(tx *db.Tx) error { return cases.WriteNew(ctx, tx, e.Admin, prepared[i]) })
	})
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients * 2}}
	post := func(i int) error {
		req, _ := http.NewRequestWithContext(ctx, "POST", e.URL+"/api/v1/cases", bytes.NewReader(bodies[i]))
		req.Header.Set("Authorization", "Bearer "+e.Token)
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
	api, err := benchload.Parallel(n, clients, post)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	fmt.Printf("| intake | cases/s | p50 | p99 | CPU per case |\n|---|---:|---:|---:|---:|\n")
	fmt.Printf("| direct insert (baseline) | %.0f | %s | %s | %.0f µs |\n", base.Rate(), benchload.Ms(base.Pct(.5)), benchload.Ms(base.Pct(.99)), base.CPUPer())
	fmt.Printf("| POST /api/v1/cases | %.0f | %s | %s | %.0f µs |\n", api.Rate(), benchload.Ms(api.Pct(.5)), benchload.Ms(api.Pct(.99)), api.CPUPer())
	fmt.Printf("\nAPI / baseline: **%.0f%%**\n\n", 100*api.Rate()/base.Rate())

	if queueCases > 0 {
		if err := queue(ctx, e, inputs, client, queueCases, queueReqs); err != nil {
			return err
		}
	}
	return nil
}

// queue fills the store to queueCases cases and measures a team queue.
func queue(ctx context.Context, e *benchload.Env, inputs []cases.CreateInput, client *http.Client, total, reqs int) error {
	var have int
	if err := e.App.DB.QueryRow(ctx, `SELECT COUNT(*) FROM cases`).Scan(&have); err != nil {
		return err
	}
	start := time.Now()
	const batch = 2000
	// Bulk fill: older cases are mostly resolved or closed, as on a real desk.
	statuses := []cases.Status{cases.StatusClosed, cases.StatusClosed, cases.StatusClosed, cases.StatusResolved,
		cases.StatusClosed, cases.StatusClosed, cases.StatusClosed, cases.StatusClosed, cases.StatusOpen, cases.StatusNew}
	for have < total {
		k := min(batch, total-have)
		err := e.App.DB.InTx(ctx, func(tx *db.Tx) error {
			for j := range k {
				in := inputs[(have+j)%len(inputs)]
				c, err := e.App.Cases.Prepare(ctx, e.Admin, in)
				if err != nil {
					return err
				}
				c.Status = statuses[(have+j)%len(statuses)]
				if err := cases.WriteNew(ctx, tx, e.Admin, c); err != nil {
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
	if e.App.DB.Dialect() == db.Postgres {
		if _, err := e.App.DB.Exec(ctx, "ANALYZE"); err != nil {
			return err
		}
	} else if _, err := e.App.DB.Exec(ctx, "ANALYZE"); err != nil {
		return err
	}
	var team string
	var teamCases, active int
	if err := e.App.DB.QueryRow(ctx, `SELECT team, COUNT(*) FROM cases GROUP BY team ORDER BY COUNT(*) DESC LIMIT 1`).Scan(&team, &teamCases); err != nil {
		return err
	}
	if err := e.App.DB.QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE team = ? AND status IN ('new','open','pending_internal','pending_requester')`, team).Scan(&active); err != nil {
		return err
	}
	fmt.Printf("Queue: %d cases in the store (filled in %s); team %s holds %d, %d of them active.\n\n", total, time.Since(start).Round(time.Second), team, teamCases, active)

	path := "/api/v1/cases?team=" + team + "&status=new,open,pending_internal,pending_requester&sort=priority&limit=50"
	get := func(int) error {
		req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+e.Token)
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
	direct := func(int) error { _, err := e.App.Cases.List(ctx, e.Admin, f); return err }
	for range 50 { // warm caches
		_ = get(0)
	}
	base, err := benchload.Parallel(reqs, 1, direct)
	if err != nil {
		return err
	}
	api, err := benchload.Parallel(reqs, 1, get)
	if err != nil {
		return err
	}
	apiLoaded, err := benchload.Parallel(reqs, 4, get)
	if err != nil {
		return err
	}
	fmt.Printf("| team queue, first page of 50 by priority | p50 | p99 |\n|---|---:|---:|\n")
	fmt.Printf("| store-layer List (baseline) | %s | %s |\n", benchload.Ms(base.Pct(.5)), benchload.Ms(base.Pct(.99)))
	fmt.Printf("| GET /api/v1/cases, 1 client | %s | %s |\n", benchload.Ms(api.Pct(.5)), benchload.Ms(api.Pct(.99)))
	fmt.Printf("| GET /api/v1/cases, 4 clients | %s | %s |\n", benchload.Ms(apiLoaded.Pct(.5)), benchload.Ms(apiLoaded.Pct(.99)))
	fmt.Printf("\nAPI p99 / baseline p99: **%.2f×**\n\n", float64(api.Pct(.99))/float64(max(base.Pct(.99), 1)))
	return nil
}
