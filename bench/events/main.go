// Command events measures the domain event stream's outbox: what it costs
// case intake (against the same intake without a durable subscriber,
// interleaved in one run), how late its deliveries are under a steady
// 1,000 cases/s, and whether a killed `flare serve` loses or invents an
// event. See bench/BENCHMARKS.md, "Events and the outbox".
//
//	go run ./bench/events -db sqlite
//	go run ./bench/events -db postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"time"
)

type config struct {
	db        string
	phases    map[string]bool
	n         int           // cases per intake measurement
	rounds    int           // intake measurements per variant
	clients   int           // concurrent HTTP clients (intake)
	variants  []string      // intake variants
	rate      int           // paced intake, cases/s (latency)
	riverRate int           // River's second latency run, cases/s
	duration  time.Duration // of the paced intake
	latency   []string      // latency variants
	kills     int           // crash rounds
	crashCli  int           // clients during the crash rounds
	lease     time.Duration // FLARE_EVENTS_LEASE of the crash rounds (0: the default, 60 s)
	seed      int64
}

func main() {
	var c config
	phases := flag.String("phases", "intake,latency,crash", "what to measure: intake, latency, crash")
	variants := flag.String("variants", "none,outbox,river", "intake variants, interleaved: none (no durable subscriber), outbox, river (a River job per event, inserted in the write)")
	latency := flag.String("latency-variants", "outbox,webhook,river", "latency variants: outbox (in-process subscriber), webhook (POST to a receiver in this process), river")
	flag.StringVar(&c.db, "db", "sqlite", "sqlite, or a postgres:// server URL (scratch databases are created on it)")
	flag.IntVar(&c.n, "n", 6000, "cases per intake measurement")
	flag.IntVar(&c.rounds, "rounds", 5, "intake measurements per variant")
	flag.IntVar(&c.clients, "clients", 16, "concurrent HTTP clients for intake")
	flag.IntVar(&c.rate, "rate", 1000, "paced intake for the latency measurement, cases/s")
	flag.IntVar(&c.riverRate, "river-rate", 100, "a second River latency run at this rate, one it can follow (0: none)")
	flag.DurationVar(&c.duration, "duration", 25*time.Second, "length of the paced intake")
	flag.IntVar(&c.kills, "kills", 5, "SIGKILLs of flare serve in the crash measurement")
	flag.IntVar(&c.crashCli, "crash-clients", 32, "concurrent HTTP clients during the crash rounds")
	flag.DurationVar(&c.lease, "lease", 0, "FLARE_EVENTS_LEASE for the crash rounds (default: 60 s on SQLite, where a restart hands leases back, 5 s on PostgreSQL)")
	flag.Int64Var(&c.seed, "seed", 1, "seed of the kill times")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to FILE")
	flag.Parse()
	c.phases = map[string]bool{}
	for _, p := range strings.Split(*phases, ",") {
		c.phases[strings.TrimSpace(p)] = true
	}
	c.variants = splitList(*variants)
	c.latency = splitList(*latency)
	if c.lease == 0 && c.db != "sqlite" {
		c.lease = 5 * time.Second
	}
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "events:", err)
			os.Exit(1)
		}
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if err := run(context.Background(), c); err != nil {
		fmt.Fprintln(os.Stderr, "events:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func run(ctx context.Context, c config) error {
	label := "SQLite"
	if c.db != "sqlite" {
		label = "PostgreSQL"
	}
	fmt.Printf("## %s\n\n", label)
	if c.phases["intake"] {
		if err := intake(ctx, c); err != nil {
			return fmt.Errorf("intake: %w", err)
		}
	}
	if c.phases["latency"] {
		if err := latency(ctx, c); err != nil {
			return fmt.Errorf("latency: %w", err)
		}
	}
	if c.phases["crash"] {
		if err := crash(ctx, c); err != nil {
			return fmt.Errorf("crash: %w", err)
		}
	}
	return nil
}
