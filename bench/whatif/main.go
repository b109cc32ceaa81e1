// Command whatif measures the what-if of a desk change
// (reports.Service.Impact, `flare desk impact`): the cases of the last 30
// days replayed through today's desk document and through a proposed one
// (every SLA target tightened by a quarter, one category moved to another
// team), at -cases cases created in those 30 days (bench/internal/history).
// Baselines measured in the same run on the same store: the plain metrics
// report of the same 30 days (the rows read and reports.Compute), and one
// replay pass (cases.Replay through today's document). Target: under 30 s
// at 100,000 cases. See bench/BENCHMARKS.md.
//
//	go run ./bench/whatif -cases 100000
//
// -store FILE keeps the filled SQLite store in FILE, and reuses it when it
// exists (a 100,000-case fill takes minutes); -cpuprofile FILE profiles the
// timed phases.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/flare-desk/flare/bench/internal/benchstore"
	"github.com/flare-desk/flare/bench/internal/history"
	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/demo"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/reports"
	"github.com/flare-desk/flare/internal/sla"
)

func main() {
	n := flag.Int("cases", 100000, "cases created in the 30 days replayed")
	which := flag.String("db", "sqlite", "sqlite, or a postgres:// URL to make a scratch database on")
	store := flag.String("store", "", "keep the filled SQLite store in FILE, and reuse it if it exists (same -cases)")
	prof := flag.String("cpuprofile", "", "write a CPU profile of the timed phases to FILE")
	flag.Parse()
	if err := run(context.Background(), *n, *which, *store, *prof); err != nil {
		fmt.Fprintln(os.Stderr, "whatif:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, n int, which, store, prof string) error {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	d, reused, markFilled, cleanup, err := benchstore.OpenStore(ctx, which, store, history.Recipe(n, 30, 1, now)+" timeline")
	if err != nil {
		return err
	}
	defer cleanup()
	a, err := app.New(d, app.Options{Clock: clock.NewFake(now), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	if reused {
		fmt.Printf("history: reused %s\n", store)
	} else {
		cfg := demo.Desk(1)
		if _, err := a.Desk.Apply(ctx, auth.System("bench"), now, cfg); err != nil {
			return err
		}
		t0 := time.Now()
		st, err := history.Fill(ctx, d, cfg, history.Options{Cases: n, End: now, Days: 30, Seed: 1, Timeline: true})
		if err != nil {
			return err
		}
		fmt.Printf("history: %d cases over 30 days written in %s\n", st.Cases, time.Since(t0).Round(time.Second))
		if err := markFilled(); err != nil {
			return err
		}
	}
	// The history is written by bulk INSERTs, past the case service: the
	// report facts the baseline report reads are written here (a kept store
	// that has them already writes none).
	if _, err := a.Reports.SyncFacts(ctx); err != nil {
		return err
	}
	stopProfile, err := benchstore.CPUProfile(prof)
	if err != nil {
		return err
	}
	defer stopProfile()
	load0 := benchstore.LoadAvg()
	current, err := a.Desk.Config(ctx)
	if err != nil {
		return err
	}
	proposed := propose(current) // valid by construction (a stored document has no users to validate against)
	sys := auth.System("bench")

	t, c := time.Now(), cpu()
	if _, err := a.Reports.Report(ctx, sys, reports.Filter{Period: reports.Period{From: now.AddDate(0, 0, -30), To: now}}); err != nil {
		return err
	}
	report, reportCPU := time.Since(t), cpu()-c
	t, c = time.Now(), cpu()
	replayed := 0
	if err := a.Cases.Replay(ctx, current, now.AddDate(0, 0, -30), now, func(cases.Replayed) error { replayed++; return nil }); err != nil {
		return err
	}
	one, oneCPU := time.Since(t), cpu()-c
	t, c = time.Now(), cpu()
	im, err := a.Reports.Impact(ctx, sys, proposed, 30)
	if err != nil {
		return err
	}
	impact, impactCPU := time.Since(t), cpu()-c
	fmt.Printf("replayed %d cases: changed_team=%d changed_priority=%d breaches %d→%d, first responses met %d of %d → %d of %d\n",
		im.Cases, im.ChangedTeam, im.ChangedPriority, total(im.Current.Breaches), total(im.Proposed.Breaches),
		im.Current.SLA["first_response"].Count, im.Current.SLA["first_response"].Of,
		im.Proposed.SLA["first_response"].Count, im.Proposed.SLA["first_response"].Of)
	fmt.Printf("baseline  metrics report of the 30 days (rows + Compute): %s\n", report.Round(time.Millisecond))
	fmt.Printf("baseline  one replay pass (%d cases):                     %s (%.0f cases/s)\n", replayed, one.Round(time.Millisecond),
		float64(replayed)/one.Seconds())
	fmt.Printf("what-if   two replays and the comparison:                 %s (%.2f× one pass, %.1f× the report)\n", impact.Round(time.Millisecond),
		impact.Seconds()/one.Seconds(), impact.Seconds()/report.Seconds())
	fmt.Printf("CPU time (this process): report %s, one pass %s, what-if %s (%.2f× one pass)\n", reportCPU.Round(time.Millisecond),
		oneCPU.Round(time.Millisecond), impactCPU.Round(time.Millisecond), impactCPU.Seconds()/oneCPU.Seconds())
	fmt.Printf("load average at start %s, at end %s\n", load0, benchstore.LoadAvg())
	verdict := "met"
	if impact >= 30*time.Second {
		verdict = "NOT met"
	}
	fmt.Printf("target: the 30-day what-if over %d cases in under 30 s: %s (%s)\n", im.Cases, verdict, impact.Round(time.Millisecond))
	return nil
}

// cpu is the user and system time this process has used.
func cpu() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// propose is today's document with every SLA target a quarter shorter and
// the first category routed to the second category's team.
func propose(c *desk.Config) *desk.Config {
	p := *c
	p.SLAPolicies = slices.Clone(c.SLAPolicies)
	for i, pol := range p.SLAPolicies {
		ts := map[sla.Metric]sla.Target{}
		for m, tg := range pol.Targets {
			if d, err := sla.ParseDuration(tg.Within); err == nil {
				tg.Within = fmt.Sprintf("%dm", int((d * 3 / 4).Minutes()))
			}
			ts[m] = tg
		}
		p.SLAPolicies[i].Targets = ts
	}
	p.Categories = slices.Clone(c.Categories)
	for i := 1; i < len(p.Categories); i++ {
		if p.Categories[i].Team != p.Categories[0].Team {
			p.Categories[0].Team = p.Categories[i].Team
			break
		}
	}
	return &p
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
