// Command sla measures the SLA engine's deadline firing: n running
// first-response clocks across 10 business-hours calendars (open now), with
// deadlines spread over a few minutes, fired by the SLA deadline timer of a
// working server app. It reports the lateness of every warning and breach
// (fired_at - due_at) against a baseline measured in the same process at the
// same time: plain Go timers set for the same instants (the scheduling noise
// of the machine under that load). It also reports the idle CPU of the
// process with nothing due, against an empty-store idle baseline measured in
// the same run. See bench/BENCHMARKS.md.
//
//	go run ./bench/sla -db sqlite
//	go run ./bench/sla -db postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/flare-desk/flare/bench/internal/benchstore"
	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/demo"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/routing/routingdesk"
	"github.com/flare-desk/flare/internal/sla"
)

type opts struct {
	which              string
	n, batch           int
	minT, maxT         int // first-response targets, whole minutes
	idleBase, idleLate time.Duration
	grace              time.Duration // how long to wait past the last deadline
}

func main() {
	var o opts
	flag.StringVar(&o.which, "db", "sqlite", "sqlite, or a postgres:// server URL (a scratch database is created on it)")
	flag.IntVar(&o.n, "n", 100000, "cases (running clocks)")
	flag.IntVar(&o.batch, "batch", 1000, "cases per write transaction")
	flag.IntVar(&o.minT, "min", 4, "shortest first-response target, minutes")
	flag.IntVar(&o.maxT, "max", 8, "longest first-response target, minutes")
	flag.DurationVar(&o.idleBase, "idle", 20*time.Second, "empty-store idle CPU measurement")
	flag.DurationVar(&o.idleLate, "idle-after", 30*time.Second, "idle CPU measurement with every clock breached")
	flag.DurationVar(&o.grace, "grace", 2*time.Minute, "how long to wait for events after the last deadline")
	out := flag.String("out", "bench/sla/RESULTS.md", "also write the markdown here (appended per run); empty: stdout only")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the firing phase to FILE")
	flag.Parse()
	md, err := run(context.Background(), o, *profile)
	fmt.Print(md)
	if md != "" && *out != "" {
		cmd := "go run ./bench/sla " + strings.Join(os.Args[1:], " ")
		f, ferr := os.OpenFile(*out, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if ferr == nil {
			fmt.Fprintf(f, "<!-- %s -->\n\n```sh\n%s\n```\n\n%s\n", time.Now().UTC().Format(time.RFC3339), cmd, md)
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sla:", err)
		os.Exit(1)
	}
}

// cpu returns the process's user+system CPU time so far.
func cpu() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// idle measures the process's CPU use over d, as % of one core.
func idle(d time.Duration) float64 {
	c0, t0 := cpu(), time.Now()
	time.Sleep(d)
	return 100 * float64(cpu()-c0) / float64(time.Since(t0))
}

var zones = []string{"UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "America/New_York",
	"America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney", "Asia/Kolkata", "America/Sao_Paulo"}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func run(ctx context.Context, o opts, profile string) (string, error) {
	var md strings.Builder
	label := "SQLite"
	if o.which != "sqlite" {
		label = "PostgreSQL"
	}
	d, cleanup, err := benchstore.Open(ctx, o.which)
	if err != nil {
		return "", err
	}
	defer cleanup()
	a, err := app.New(d, app.Options{Logger: slog.New(slog.DiscardHandler), Work: true})
	if err != nil {
		return "", err
	}
	now := a.Clock.Now()
	cfg := demo.Desk(1)
	// 10 calendars open around the clock (business hours 00:00–24:00 every
	// day, in 10 zones), and one policy per market on its own calendar.
	days := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	targets := map[string]int{}
	cfg.SLAPolicies = nil                    // the bench's own policies…
	desk.Set(cfg, routingdesk.RulesKey, nil) // …and no rules naming the demo's
	for i, m := range cfg.Markets {
		key := fmt.Sprintf("cal%d", i)
		hours := map[string][]string{}
		for _, dd := range days {
			hours[dd] = []string{"00:00-24:00"}
		}
		cfg.Calendars = append(cfg.Calendars, sla.CalendarSpec{Key: key, Name: "bench " + key, Timezone: zones[i%len(zones)], Hours: hours})
		t := o.minT + i*(o.maxT-o.minT+1)/len(cfg.Markets)
		targets[m.Code] = t
		cfg.SLAPolicies = append(cfg.SLAPolicies, sla.PolicySpec{Name: "bench " + m.Code, Calendar: key, WarnAt: 0.75,
			Match:   sla.PolicyMatch{Markets: []string{m.Code}},
			Targets: map[sla.Metric]sla.Target{sla.FirstResponse: {Within: fmt.Sprintf("%dm", t)}}})
	}
	if _, err := a.Desk.Apply(ctx, auth.System("bench"), now, cfg); err != nil {
		return "", fmt.Errorf("desk: %w", err)
	}
	users, err := auth.ListUsers(ctx, d)
	if err != nil {
		return "", err
	}
	var admin auth.Actor
	for _, u := range users {
		if u.Role == auth.RoleAdmin {
			admin = auth.ActorFor(u)
			break
		}
	}
	gen := demo.Generate(cfg, 7, min(o.n, 20000), now)
	if err := a.Start(ctx); err != nil {
		return "", err
	}
	defer a.Stop(context.WithoutCancel(ctx))

	// 1. Idle baseline: the working server on an empty store.
	time.Sleep(3 * time.Second) // start-up jobs
	logf("idle baseline %s", o.idleBase)
	idle0 := idle(o.idleBase)
	logf("idle baseline: %.3f%% of one core", idle0)

	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return "", err
		}
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}

	// 2. n cases through the store layer, with the real clock.
	var due []time.Time // every expected warning and breach instant
	perMarket := map[string]int{}
	start := time.Now()
	c0 := cpu()
	// Four writers, so that creation (round trips per case on PostgreSQL)
	// ends before the first deadline.
	var mu sync.Mutex
	var next int
	var werr error
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				mu.Lock()
				have := next
				k := min(o.batch, o.n-have)
				next += k
				mu.Unlock()
				if k <= 0 {
					return
				}
				batch := make([]*cases.Case, k)
				for j := range k {
					in := gen[(have+j)%len(gen)].Input
					in.At = time.Time{}
					c, err := a.Cases.Prepare(ctx, admin, in)
					if err != nil {
						mu.Lock()
						werr = fmt.Errorf("prepare: %w", err)
						mu.Unlock()
						return
					}
					batch[j] = c
				}
				err := a.DB.InTx(ctx, func(tx *db.Tx) error {
					for _, c := range batch {
						if err := a.Cases.Write(ctx, tx, admin, c); err != nil {
							return err
						}
					}
					return nil
				})
				mu.Lock()
				if err != nil {
					werr = fmt.Errorf("write: %w", err)
				}
				for _, c := range batch {
					t := time.Duration(targets[c.Market]) * time.Minute
					due = append(due, c.CreatedAt.Add(time.Duration(float64(t)*0.75)), c.CreatedAt.Add(t))
					perMarket[c.Market]++
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if werr != nil {
		return "", werr
	}
	created := time.Since(start)
	createCPU := cpu() - c0
	slices.SortFunc(due, func(x, y time.Time) int { return x.Compare(y) })
	first, last := due[0], due[len(due)-1]
	// The baseline: a plain Go timer for every due instant, in this process.
	timerLate := make([]time.Duration, len(due))
	var timersDone sync.WaitGroup
	for i, at := range due {
		timersDone.Add(1)
		time.AfterFunc(time.Until(at), func() { timerLate[i] = time.Since(at); timersDone.Done() })
	}
	logf("created %d cases in %s (%.0f/s); deadlines %s … %s from start",
		o.n, created.Round(time.Millisecond), float64(o.n)/created.Seconds(),
		first.Sub(start).Round(time.Second), last.Sub(start).Round(time.Second))
	if first.Before(time.Now()) {
		logf("WARNING: creation took longer than the first deadline")
	}

	// 3. Wait for every deadline to pass and its event to be recorded.
	expected := len(due)
	deadline := last.Add(o.grace)
	fireStart := time.Now()
	fc0 := cpu()
	var recorded int
	type sample struct {
		at             time.Duration
		dueSoFar, recd int
	}
	var samples []sample
	for {
		if err := a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM sla_events`).Scan(&recorded); err != nil {
			return "", err
		}
		n := time.Now()
		dueSoFar, _ := slices.BinarySearchFunc(due, n, func(x, t time.Time) int { return x.Compare(t) })
		samples = append(samples, sample{n.Sub(start), dueSoFar, recorded})
		if len(samples)%6 == 1 {
			logf("due so far %d, recorded %d (behind %d)", dueSoFar, recorded, dueSoFar-recorded)
		}
		if recorded >= expected || n.After(deadline) {
			break
		}
		time.Sleep(5 * time.Second)
	}
	fireWall := time.Since(fireStart)
	fireCPU := cpu() - fc0
	pprof.StopCPUProfile()

	// Lateness of every recorded event.
	rows, err := a.DB.Query(ctx, `SELECT kind, due_at, fired_at FROM sla_events`)
	if err != nil {
		return "", err
	}
	var late, lateW, lateB []time.Duration
	var maxFired time.Time
	for rows.Next() {
		var kind string
		var du, fi db.Time
		if err := rows.Scan(&kind, &du, &fi); err != nil {
			rows.Close()
			return "", err
		}
		l := fi.Sub(du.Time)
		late = append(late, l)
		if kind == "warning" {
			lateW = append(lateW, l)
		} else {
			lateB = append(lateB, l)
		}
		if fi.After(maxFired) {
			maxFired = fi.Time
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", err
	}
	missing := expected - len(late)

	// 4. Idle again: every clock breached, nothing due.
	var states string
	_ = a.DB.QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE sla_due_at IS NOT NULL`).Scan(&recorded)
	states = fmt.Sprintf("%d cases with a next deadline left", recorded)
	timersDone.Wait()
	slices.Sort(timerLate)
	time.Sleep(3 * time.Second)
	logf("idle with %d breached clocks, %s (%s)", o.n, o.idleLate, states)
	after := idle(o.idleLate)
	logf("idle after: %.3f%% of one core", after)

	// Report.
	fmt.Fprintf(&md, "## %s — %d running clocks, 10 calendars", label, o.n)
	fmt.Fprintf(&md, "\n\n")
	fmt.Fprintf(&md, "Targets (first response, business time in calendars cal0–cal9 open 00:00–24:00, warn at 0.75):")
	for _, m := range cfg.Markets {
		fmt.Fprintf(&md, " %s %dm (%d cases);", m.Code, targets[m.Code], perMarket[m.Code])
	}
	fmt.Fprintf(&md, "\n\nCreated %d cases through the store layer (`Prepare` + `Write`, %d per transaction, 4 writers) in %s (%.0f cases/s, %.0f%% of one core); "+
		"deadlines %s to %s after the start of creation.\n\n",
		o.n, o.batch, created.Round(time.Millisecond), float64(o.n)/created.Seconds(), 100*createCPU.Seconds()/created.Seconds(),
		first.Sub(start).Round(time.Second), last.Sub(start).Round(time.Second))
	fmt.Fprintf(&md, "| lateness (fired_at − due_at) | events | p50 | p99 | max | ≤ 1 s | p99 / baseline p99 |\n|---|---:|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(&md, "| baseline: a Go timer per instant, same process | %d | %s | %s | %s | — | 1× |\n", len(timerLate),
		sec(pct(timerLate, .5)), sec(pct(timerLate, .99)), sec(pct(timerLate, 1)))
	for _, r := range []struct {
		name string
		l    []time.Duration
		exp  int
	}{{"warnings", lateW, expected / 2}, {"breaches", lateB, expected / 2}, {"all", late, expected}} {
		s := slices.Clone(r.l)
		slices.Sort(s)
		under := 0
		for _, x := range s {
			if x <= time.Second {
				under++
			}
		}
		fmt.Fprintf(&md, "| %s | %d / %d | %s | %s | %s | %.2f%% | %.1f× |\n", r.name, len(s), r.exp, sec(pct(s, .5)), sec(pct(s, .99)),
			sec(pct(s, 1)), 100*float64(under)/float64(max(r.exp, 1)), float64(pct(s, .99))/float64(max(pct(timerLate, .99), time.Microsecond)))
	}
	fmt.Fprintf(&md, "\nNot recorded within %s of the last deadline: **%d** of %d", o.grace, missing, expected)
	if missing > 0 {
		fmt.Fprintf(&md, " (counted as over 1 s in the ≤ 1 s share)")
	}
	fmt.Fprintf(&md, ". Last event fired %s after the last deadline. Firing phase: %s wall, process CPU %.0f%% of one core.\n\n",
		maxFired.Sub(last).Round(time.Millisecond), fireWall.Round(time.Second), 100*fireCPU.Seconds()/fireWall.Seconds())
	// Throughput view: how far behind the due instants the recorder was.
	fmt.Fprintf(&md, "Backlog over time (due so far − recorded), every 30 s: ")
	for i, s := range samples {
		if i%6 == 0 {
			fmt.Fprintf(&md, "%s: %d; ", s.at.Round(time.Second), s.dueSoFar-s.recd)
		}
	}
	fmt.Fprintf(&md, "\n\n| idle server process (nothing due), CPU | %% of one core |\n|---|---:|\n")
	fmt.Fprintf(&md, "| empty store (baseline, %s) | %.3f%% |\n", o.idleBase, idle0)
	fmt.Fprintf(&md, "| %d breached clocks, %s (%s) | **%.3f%%** |\n", o.n, o.idleLate, states, after)
	fmt.Fprintf(&md, "\nIdle with the clocks / empty-store baseline: **%.2f×** (%+.3f points)\n\n", after/max(idle0, 1e-9), after-idle0)
	return md.String(), nil
}

func pct(s []time.Duration, p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func sec(d time.Duration) string { return fmt.Sprintf("%.3f s", d.Seconds()) }
