// Command pack measures the monthly review pack over a large case history
// on SQLite (or PostgreSQL with -db): -cases cases over a year
// (bench/internal/history), then the pack of the last closed month built,
// stored and queued to its audience (reviews.Service.BuildAndSend), against
// a baseline measured in the same run on the same store: the plain
// metrics report of the same month (reports.Service.Report, the rows read
// and reports.Compute, the core of a pack). Target: under 10 s at
// 1,000,000 cases. See bench/BENCHMARKS.md.
//
//	go run ./bench/pack -cases 1000000
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/flare-desk/flare/bench/internal/benchstore"
	"github.com/flare-desk/flare/bench/internal/history"
	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/demo"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/reports"
	"github.com/flare-desk/flare/internal/reviews"
)

func main() {
	n := flag.Int("cases", 1000000, "cases in the history (a year of them)")
	which := flag.String("db", "sqlite", "sqlite, or a postgres:// URL to make a scratch database on")
	runs := flag.Int("runs", 3, "timed builds of each (the best and the median are reported)")
	store := flag.String("store", "", "keep the filled SQLite store in this file and reuse it (filled once if absent; shared with bench/reports_dashboard)")
	prof := flag.String("cpuprofile", "", "write a CPU profile of the timed builds to this file")
	flag.Parse()
	if err := run(context.Background(), *n, *which, *store, *prof, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "pack:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, n int, which, store, prof string, runs int) error {
	// The history ends where bench/reports_dashboard's does (one kept store
	// serves both), the afternoon before the pack is due.
	recipe := history.Recipe(n, 365, 1, history.BenchEnd)
	d, filled, markFilled, cleanup, err := benchstore.OpenStore(ctx, which, store, recipe)
	if err != nil {
		return err
	}
	defer cleanup()
	end := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC) // the monthly pack of November is due
	a, err := app.New(d, app.Options{Clock: clock.NewFake(end), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	cfg := demo.Desk(1)
	c := reviews.Cadence{Key: "monthly_leadership", Name: "Monthly leadership review", Every: reviews.Monthly,
		Audience: reviews.Audience{Teams: []string{"escalations"}, Emails: []string{"leadership@example.com"}}}
	desk.Set(cfg, reviews.SettingsKey, reviews.Settings{Cadences: []reviews.Cadence{c}})
	if _, err := a.Desk.Apply(ctx, auth.System("bench"), end, cfg); err != nil {
		return err
	}
	if filled {
		fmt.Printf("history: reused %s (%s)\n", store, recipe)
	} else {
		t0 := time.Now()
		st, err := history.Fill(ctx, d, cfg, history.Options{Cases: n, End: history.BenchEnd, Days: 365, Seed: 1, Progress: func(done int) {
			if done%200000 == 0 {
				fmt.Fprintf(os.Stderr, "  %d cases written (%s)\n", done, time.Since(t0).Round(time.Second))
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
		fmt.Printf("history: %d cases over 365 days (%d open, %d breaches, %d handoffs, %d escalations) written in %s\n",
			st.Cases, st.Open, st.Breaches, st.Handoffs, st.Escalations, time.Since(t0).Round(time.Second))
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
	stopProfile, err := benchstore.CPUProfile(prof)
	if err != nil {
		return err
	}
	defer stopProfile()
	// Each run stores its own pack under a fresh cadence key, also across
	// runs on a kept store, so that none is a no-op.
	stamp := time.Now().UnixNano()
	var mailsBefore int
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM notify_deliveries WHERE kind = 'review_pack'`).Scan(&mailsBefore); err != nil {
		return err
	}

	p := reviews.PeriodAt(reviews.Monthly, end.AddDate(0, -1, 0), time.UTC)
	lead := auth.System("bench")
	var base, pack, baseCPU, packCPU []time.Duration
	var intake int
	for i := range runs {
		t, c0 := time.Now(), benchstore.CPUTime()
		rep, err := a.Reports.Report(ctx, lead, reports.Filter{Period: reports.Period{From: p.From, To: p.To}})
		if err != nil {
			return err
		}
		base, baseCPU = append(base, time.Since(t)), append(baseCPU, benchstore.CPUTime()-c0)
		intake = rep.Slices[0].Metrics.Intake
		ci := c
		ci.Key = fmt.Sprintf("%s_%d_%d", c.Key, stamp, i)
		t, c0 = time.Now(), benchstore.CPUTime()
		stored, err := a.Reviews.BuildAndSend(ctx, ci, p, "bench", true)
		if err != nil {
			return err
		}
		if !stored {
			return fmt.Errorf("run %d: the pack was not stored", i)
		}
		pack, packCPU = append(pack, time.Since(t)), append(packCPU, benchstore.CPUTime()-c0)
	}
	var mails int
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM notify_deliveries WHERE kind = 'review_pack'`).Scan(&mails); err != nil {
		return err
	}
	mails -= mailsBefore
	bb, bm := best(base), median(base)
	pb, pm := best(pack), median(pack)
	fmt.Printf("month %s: %d cases in; load average after the runs %s\n", p.Label, intake, benchstore.LoadAvg())
	fmt.Printf("baseline  metrics report (rows + Compute):   best %s  median %s\n", bb.Round(time.Millisecond), bm.Round(time.Millisecond))
	fmt.Printf("pack      built, stored, %d mails queued:    best %s  median %s  (%.2f× the baseline)\n", mails/runs,
		pb.Round(time.Millisecond), pm.Round(time.Millisecond), float64(pm)/float64(bm))
	fmt.Printf("CPU time (this process): baseline median %s, pack median %s\n", median(baseCPU).Round(time.Millisecond),
		median(packCPU).Round(time.Millisecond))
	verdict := "met"
	if pm >= 10*time.Second {
		verdict = "NOT met"
	}
	fmt.Printf("target: the monthly pack over %d cases in under 10 s: %s (median %s)\n", n, verdict, pm.Round(time.Millisecond))
	return nil
}

func best(ds []time.Duration) time.Duration {
	b := ds[0]
	for _, d := range ds {
		b = min(b, d)
	}
	return b
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}
