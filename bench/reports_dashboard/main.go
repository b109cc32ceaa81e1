// Command reports_dashboard measures the dashboard endpoints over a large
// history: it fills a SQLite (or PostgreSQL) store with -cases cases over
// -days days (bench/internal/history, the demo desk's markets, teams,
// categories and sellers), serves Flare's real HTTP handler, and requests
// each report endpoint -n times, printing p50 / p99 / max beside a
// baseline measured in the same run: the case queue's first page
// (GET /api/v1/cases?limit=25), an ordinary indexed read.
//
//	go run ./bench/reports_dashboard -cases 1000000
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flare-desk/flare/bench/internal/benchload"
	"github.com/flare-desk/flare/bench/internal/benchstore"
	"github.com/flare-desk/flare/bench/internal/history"
	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/demo"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/reports"
	"github.com/flare-desk/flare/internal/web"
)

func main() {
	n := flag.Int("cases", 1_000_000, "cases in the history")
	days := flag.Int("days", 365, "days the history spans")
	reqs := flag.Int("n", 60, "requests per endpoint")
	which := flag.String("db", "sqlite", `"sqlite" or a postgres:// URL`)
	prof := flag.String("cpuprofile", "", "write a CPU profile of the requests to this file")
	writes := flag.Int("writes", 10, "case writes per second during the requests (half new cases, half resolutions of open ones), 0 for none")
	store := flag.String("store", "", "keep the filled SQLite store in this file and reuse it (filled once if absent; shared with bench/pack)")
	flag.Parse()
	cpuProfile = *prof
	if err := run(*which, *store, *n, *days, *reqs, *writes); err != nil {
		fmt.Fprintln(os.Stderr, "reports_dashboard:", err)
		os.Exit(1)
	}
}

var cpuProfile string

// budget bounds the time spent on one endpoint.
const budget = 60 * time.Second

func run(which, store string, n, days, reqs, writes int) error {
	ctx := context.Background()
	// The history ends at a fixed instant, so every run reads the same rows.
	now := history.BenchEnd
	recipe := history.Recipe(n, days, 1, now)
	d, filled, markFilled, cleanup, err := benchstore.OpenStore(ctx, which, store, recipe)
	if err != nil {
		return err
	}
	defer cleanup()
	clk := clock.NewFake(now)
	a, err := app.New(d, app.Options{Clock: clk, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	cfg := demo.Desk(1)
	if _, err := a.Desk.Apply(ctx, auth.System("bench"), now, cfg); err != nil {
		return err
	}
	if filled {
		fmt.Printf("history: reused %s (%s)\n", store, recipe)
	} else {
		start := time.Now()
		st, err := history.Fill(ctx, d, cfg, history.Options{Cases: n, End: now, Days: days, Seed: 1,
			Progress: func(done int) {
				if done%200_000 == 0 {
					fmt.Fprintf(os.Stderr, "  %d cases, %s\n", done, time.Since(start).Round(time.Second))
				}
			}})
		if err != nil {
			return err
		}
		if d.Dialect() == db.SQLite {
			if _, err := d.Exec(ctx, `ANALYZE`); err != nil {
				return err
			}
		}
		fmt.Printf("history: %d cases (%d resolved, %d open), %d breaches, %d handoffs, %d escalations, %d repeat links, filled in %s\n",
			st.Cases, st.Resolved, st.Open, st.Breaches, st.Handoffs, st.Escalations, st.Links, st.Took.Round(time.Second))
		if err := markFilled(); err != nil {
			return err
		}
	}

	// The history is written by bulk INSERTs, past the case service: the
	// report facts of its cases are written here (once; a kept store that
	// has them skips this).
	t1 := time.Now()
	nf, err := a.Reports.SyncFacts(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("report facts: %d written in %s\n", nf, time.Since(t1).Round(time.Millisecond))
	users, err := auth.ListUsers(ctx, d)
	if err != nil {
		return err
	}
	var lead auth.Actor
	for _, u := range users {
		if u.Role == auth.RoleAdmin {
			lead = auth.ActorFor(u)
			break
		}
	}
	var token string
	if err := d.InTx(ctx, func(tx *db.Tx) error {
		token, _, err = auth.CreateToken(ctx, tx, now, lead.UserID, "bench")
		return err
	}); err != nil {
		return err
	}
	srv, err := web.New(a, web.Options{Limits: &web.Limits{}})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = http.Serve(ln, srv.Handler()) }()
	base := "http://" + ln.Addr().String()

	month := "from=2026-10-31&to=2026-11-30"
	endpoints := []struct{ name, path string }{
		{"baseline: case queue, first page", "/api/v1/cases?limit=25"},
		{"live dashboard", "/api/v1/reports/live"},
		{"charts, 30 days, whole desk", "/api/v1/reports/charts?" + month},
		{"charts, 30 days, GB", "/api/v1/reports/charts?" + month + "&market=GB"},
		{"summary, 30 days", "/api/v1/reports/summary?" + month},
		{"metrics by team, 7 days", "/api/v1/reports/metrics?from=2026-11-23&to=2026-11-30&by=team"},
		{"staffing, GB, 4 weeks", "/api/v1/reports/staffing?market=GB"},
		{"staffing, all markets", "/api/v1/reports/staffing"},
	}
	// The cold read: the first period report after start reads its facts
	// from the store (the fact cache is empty).
	t0 := time.Now()
	if _, err := a.Reports.Report(ctx, lead, reports.Filter{Period: reports.Period{From: time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC),
		To: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)}}); err != nil {
		return err
	}
	took := time.Since(t0)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("first period report after start (fact cache cold): %s; heap in use after it: %d MB\n",
		took.Round(time.Millisecond), ms.HeapInuse>>20)

	// A desk at work meanwhile: every write moves the facts of its case,
	// so the buckets the reports read are invalidated and read again.
	stopWrites, wrote := startWrites(ctx, a, cfg, lead, now, writes)
	defer stopWrites()

	stopProfile, err := benchstore.CPUProfile(cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	fmt.Printf("load average before the requests: %s\n", benchstore.LoadAvg())
	fmt.Printf("%-36s %6s %9s %9s %9s %8s %10s\n", "endpoint", "reqs", "p50 ms", "p99 ms", "max ms", "p99/base", "CPU ms/req")
	var baseP99 float64
	for i, e := range endpoints {
		var ds []time.Duration
		var cpu time.Duration
		began := time.Now()
		// At most budget per endpoint (but at least 3 measured requests):
		// the slow ones would otherwise take the run for hours.
		for k := 0; k < reqs+2 && (k < 5 || time.Since(began) < budget); k++ {
			req, _ := http.NewRequest(http.MethodGet, base+e.path, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			t0, c0 := time.Now(), benchstore.CPUTime()
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: HTTP %d", e.path, res.StatusCode)
			}
			if k >= 2 { // two warm-up requests
				ds = append(ds, time.Since(t0))
				cpu += benchstore.CPUTime() - c0
			}
		}
		slices.Sort(ds)
		q := func(p float64) float64 {
			return float64(ds[min(len(ds)-1, int(p*float64(len(ds))))].Microseconds()) / 1000
		}
		p99 := q(0.99)
		if i == 0 {
			baseP99 = p99
		}
		fmt.Printf("%-36s %6d %9.1f %9.1f %9.1f %8.1f %10.1f\n", e.name, len(ds), q(0.5), p99, float64(ds[len(ds)-1].Microseconds())/1000, p99/baseP99,
			float64(cpu.Microseconds())/1000/float64(len(ds)))
	}
	fmt.Printf("load average after the requests: %s\n", benchstore.LoadAvg())
	stopWrites()
	fmt.Printf("writes during the requests: %s\n", wrote())
	return nil
}

// startWrites creates a case and resolves an open one of the history,
// alternately, perSecond times a second until stopped.
func startWrites(ctx context.Context, a *app.App, cfg *desk.Config, actor auth.Actor, now time.Time, perSecond int) (stop func(), summary func() string) {
	var created, resolved, failed atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	var once sync.Once
	stop = func() { once.Do(func() { close(done); wg.Wait() }) }
	summary = func() string {
		return fmt.Sprintf("%d created, %d resolved, %d failed", created.Load(), resolved.Load(), failed.Load())
	}
	if perSecond <= 0 {
		return stop, summary
	}
	ins, _, err := benchload.Cases(cfg, 5000, now)
	if err != nil {
		failed.Add(1)
		return stop, summary
	}
	var open []int64
	res, err := a.DB.Query(ctx, `SELECT id FROM cases WHERE status IN ('new', 'open') ORDER BY id LIMIT 5000`)
	if err == nil {
		for res.Next() {
			var id int64
			if res.Scan(&id) == nil {
				open = append(open, id)
			}
		}
		res.Close()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second / time.Duration(perSecond))
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if i%2 == 0 {
				if _, err := a.Cases.Create(ctx, actor, ins[(i/2)%len(ins)], nil); err != nil {
					if failed.Add(1) == 1 {
						fmt.Fprintln(os.Stderr, "create:", err)
					}
				} else {
					created.Add(1)
				}
				continue
			}
			if len(open) == 0 {
				continue
			}
			id := open[0]
			open = open[1:]
			if _, err := a.Cases.Transition(ctx, actor, strconv.FormatInt(id, 10),
				cases.TransitionInput{To: cases.StatusResolved, Resolution: cfg.Resolutions[0], Note: "Resolved during the benchmark."}); err != nil {
				if failed.Add(1) == 1 {
					fmt.Fprintln(os.Stderr, "resolve:", err)
				}
			} else {
				resolved.Add(1)
			}
		}
	}()
	return stop, summary
}
