package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/flare-desk/flare/internal/db"
)

// measurement is one intake run of one variant.
type measurement struct {
	variant string
	round   int
	rate    float64
	cpu     time.Duration // this process's CPU per case (SQLite: server, store and clients; PostgreSQL: without the database server)
	dbCPU   time.Duration // PostgreSQL: its backends' CPU per case (the bench's own connections)
	p50     time.Duration
	p99     time.Duration
	events  int64         // delivered while the intake ran (outbox)
	backlog int           // still pending when the intake ended (outbox)
	drain   time.Duration // until nothing was pending (outbox)
}

// intake posts the same case bodies through the API with every variant,
// interleaved (the order rotates each round so that none is always first),
// on one store, and compares medians.
func intake(ctx context.Context, c config) error {
	s, err := openStore(ctx, c.db, c.n)
	if err != nil {
		return err
	}
	defer s.cleanup()
	p := newPoster(s.token, c.clients*2)
	var all []measurement
	for round := range c.rounds {
		for k := range c.variants {
			kind := c.variants[(k+round)%len(c.variants)]
			m, err := intakeOnce(ctx, s, p, kind, c.clients)
			if err != nil {
				return fmt.Errorf("%s, round %d: %w", kind, round+1, err)
			}
			m.round = round + 1
			all = append(all, m)
			fmt.Printf("<!-- round %d %-7s %6.0f cases/s  CPU %4.0f+%.0f µs/case  p50 %s  p99 %s  delivered during %d, backlog %d, drained in %s -->\n",
				m.round, kind, m.rate, float64(m.cpu.Microseconds()), float64(m.dbCPU.Microseconds()), ms(m.p50), ms(m.p99), m.events, m.backlog, m.drain.Round(time.Millisecond))
		}
	}
	fmt.Printf("\n### Intake with and without the outbox — %d cases × %d rounds per variant, %d clients, interleaved\n\n", c.n, c.rounds, c.clients)
	fmt.Printf("| variant | median cases/s | runs, cases/s | median p50 / p99 | vs none (ratio of medians) | vs none (median of paired rounds) | CPU µs/case: this process + PostgreSQL backends |\n|---|---:|---|---:|---:|---:|---:|\n")
	base := medianRate(all, "none")
	for _, kind := range c.variants {
		ms_ := byVariant(all, kind)
		var runs []string
		var p50s, p99s, cpus, dcpus []time.Duration
		for _, m := range ms_ {
			runs = append(runs, fmt.Sprintf("%.0f", m.rate))
			p50s, p99s, cpus, dcpus = append(p50s, m.p50), append(p99s, m.p99), append(cpus, m.cpu), append(dcpus, m.dbCPU)
		}
		vs, paired := "—", "—"
		if base > 0 && kind != "none" {
			vs = fmt.Sprintf("%.1f %%", 100*medianRate(all, kind)/base)
			paired = fmt.Sprintf("%.1f %%", 100*pairedRatio(all, kind))
		}
		fmt.Printf("| %s | **%.0f** | %s | %s / %s | %s | %s | %.0f + %.0f |\n", kind, medianRate(all, kind), strings.Join(runs, ", "),
			ms(medianDur(p50s)), ms(medianDur(p99s)), vs, paired, float64(medianDur(cpus).Microseconds()), float64(medianDur(dcpus).Microseconds()))
	}
	if ob := byVariant(all, "outbox"); len(ob) > 0 {
		var backlog []int
		var drains []time.Duration
		for _, m := range ob {
			backlog, drains = append(backlog, m.backlog), append(drains, m.drain)
		}
		slices.Sort(backlog)
		fmt.Printf("\nOutbox: events still pending when an intake run ended, median %d (max %d); drained %s (median) after it.\n\n",
			backlog[len(backlog)/2], backlog[len(backlog)-1], medianDur(drains).Round(time.Millisecond))
	}
	return nil
}

func intakeOnce(ctx context.Context, s *store, p *poster, kind string, clients int) (measurement, error) {
	v, err := startVariant(ctx, s, kind, false)
	if err != nil {
		return measurement{}, err
	}
	defer v.stop(ctx)
	// Warm the connections and caches, untimed.
	for i := range clients {
		if err := p.post(ctx, v.url, s.bodies[i]); err != nil {
			return measurement{}, err
		}
	}
	if kind == "outbox" {
		if _, err := v.drain(ctx, time.Minute); err != nil {
			return measurement{}, err
		}
	}
	before := v.got.n.Load()
	n := len(s.bodies)
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var first atomic.Value
	var wg sync.WaitGroup
	c0, d0 := cpuTime(), backendCPU(ctx, s.d)
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t := time.Now()
				if err := p.post(ctx, v.url, s.bodies[i]); err != nil {
					first.CompareAndSwap(nil, err)
					return
				}
				lat[i] = time.Since(t)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu, dcpu := cpuTime()-c0, backendCPU(ctx, s.d)-d0
	if err, ok := first.Load().(error); ok {
		return measurement{}, err
	}
	m := measurement{variant: kind, rate: float64(n) / elapsed.Seconds(), cpu: cpu / time.Duration(n), dbCPU: dcpu / time.Duration(n)}
	m.events = v.got.n.Load() - before
	if kind == "outbox" {
		if m.backlog, err = v.backlog(ctx); err != nil {
			return m, err
		}
		if m.drain, err = v.drain(ctx, 2*time.Minute); err != nil {
			return m, err
		}
	}
	slices.Sort(lat)
	m.p50, m.p99 = pct(lat, .5), pct(lat, .99)
	// Untimed: the search index catches up (SQLite), so that the next
	// measurement does not index this one's cases.
	if _, err := v.a.Cases.SyncSearch(ctx); err != nil {
		return m, err
	}
	return m, v.stop(ctx)
}

func byVariant(all []measurement, kind string) []measurement {
	var out []measurement
	for _, m := range all {
		if m.variant == kind {
			out = append(out, m)
		}
	}
	return out
}

func medianRate(all []measurement, kind string) float64 {
	var r []float64
	for _, m := range byVariant(all, kind) {
		r = append(r, m.rate)
	}
	return median(r)
}

// pairedRatio is the median over rounds of kind's rate / none's rate in
// the same round.
func pairedRatio(all []measurement, kind string) float64 {
	base := map[int]float64{}
	for _, m := range byVariant(all, "none") {
		base[m.round] = m.rate
	}
	var r []float64
	for _, m := range byVariant(all, kind) {
		if b := base[m.round]; b > 0 {
			r = append(r, m.rate/b)
		}
	}
	return median(r)
}

func median(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := slices.Clone(x)
	slices.Sort(s)
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

func medianDur(x []time.Duration) time.Duration {
	f := make([]float64, len(x))
	for i, d := range x {
		f[i] = float64(d)
	}
	return time.Duration(median(f))
}

// cpuTime is this process's user and system CPU so far.
func cpuTime() time.Duration {
	var r syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

// backendCPU is the CPU used so far by the PostgreSQL backends serving
// this store's database (zero on SQLite): the server runs on this machine,
// and on a shared machine CPU per case is steadier than cases per second.
func backendCPU(ctx context.Context, d *db.DB) time.Duration {
	if d.Dialect() != db.Postgres {
		return 0
	}
	rows, err := d.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return 0
	}
	defer rows.Close()
	var total time.Duration
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(ut+st) * time.Second / 100 // clock ticks (USER_HZ = 100)
	}
	return total
}
