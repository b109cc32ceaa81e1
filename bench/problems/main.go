// Command problems measures the similar-cases lookup (internal/problems'
// index) at -cases cases of the demo generator's text, against a baseline
// measured in the same run: a brute-force scan scoring every case of the
// category with the same TF-IDF cosine. It reports p50/p99 latencies and
// how many of the brute force's top results the index finds. See
// bench/BENCHMARKS.md.
//
//	go run ./bench/problems -cases 100000 -queries 1000
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/flare-desk/flare/internal/demo"
	"github.com/flare-desk/flare/internal/problems"
)

func main() {
	n := flag.Int("cases", 100000, "cases in the index")
	queries := flag.Int("queries", 1000, "lookups per measurement")
	flag.Parse()
	if err := run(*n, *queries); err != nil {
		fmt.Fprintln(os.Stderr, "problems:", err)
		os.Exit(1)
	}
}

func run(n, queries int) error {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	t0 := time.Now()
	// The demo's generator spreads cases over 45 days; its cases are
	// repeated 45 days apart to reach a year's worth at n cases (the 30-day
	// window keeps a lookup to one copy).
	var docs []problems.Doc
	r0 := rand.New(rand.NewPCG(1, 1))
	specs := demo.Generate(demo.Desk(1), 1, min(n, 25000), now)
	for round := 0; len(docs) < n; round++ {
		shift := time.Duration(round) * demo.Window
		for _, s := range specs[:min(len(specs), n-len(docs))] {
			in, at := s.Input, s.At.Add(-shift)
			d := problems.Doc{CaseID: int64(len(docs) + 1), Number: fmt.Sprintf("ESC-%d", len(docs)+1), Title: in.Title,
				Category: in.Category, Seller: in.SellerID, Tags: in.Tags, CreatedAt: at,
				Terms: problems.Terms(in.Title + "\n" + in.Description)}
			// Open: the last 30 days' cases, and one in twenty older ones.
			d.Open = now.Sub(at) < 30*24*time.Hour || r0.IntN(20) == 0
			if c, ok := in.Fields["carrier"].(string); ok {
				d.Carrier = c
			}
			docs = append(docs, d)
		}
	}
	gen := time.Since(t0)
	idx := problems.NewIndex()
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	t1 := time.Now()
	for _, d := range docs {
		idx.Put(d)
	}
	build := time.Since(t1)
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	fmt.Printf("cases=%d generated in %s, indexed in %s (%.0f cases/s), index heap ≈ %d MiB\n", len(docs), gen.Round(time.Millisecond),
		build.Round(time.Millisecond), float64(len(docs))/build.Seconds(), (after.HeapAlloc-before.HeapAlloc)>>20)

	r := rand.New(rand.NewPCG(7, 7))
	// The panel is asked about open cases (the ones agents work on).
	var open []problems.Doc
	for _, d := range docs {
		if d.Open {
			open = append(open, d)
		}
	}
	qs := make([]problems.Query, queries)
	for i := range qs {
		qs[i] = problems.Query{Doc: open[r.IntN(len(open))], Window: 30 * 24 * time.Hour, MinScore: 0.3, Limit: 8}
	}
	fmt.Printf("open cases: %d\n", len(open))
	lat := func(f func(problems.Query) []problems.Match) ([]time.Duration, [][]problems.Match) {
		ds := make([]time.Duration, len(qs))
		out := make([][]problems.Match, len(qs))
		for i, q := range qs {
			t := time.Now()
			out[i] = f(q)
			ds[i] = time.Since(t)
		}
		slices.Sort(ds)
		return ds, out
	}
	bl, bres := lat(idx.BruteForce)
	il, ires := lat(idx.Similar)
	found, total, empty := 0, 0, 0
	for i := range qs {
		want := map[int64]bool{}
		for _, m := range bres[i] {
			want[m.CaseID] = true
		}
		total += len(want)
		for _, m := range ires[i] {
			if want[m.CaseID] {
				found++
			}
		}
		if len(bres[i]) == 0 {
			empty++
		}
	}
	p := func(ds []time.Duration, q float64) time.Duration { return ds[min(len(ds)-1, int(q*float64(len(ds))))] }
	fmt.Printf("brute force: p50 %s p99 %s max %s\n", p(bl, 0.5), p(bl, 0.99), bl[len(bl)-1])
	fmt.Printf("index:       p50 %s p99 %s max %s\n", p(il, 0.5), p(il, 0.99), il[len(il)-1])
	fmt.Printf("recall of the brute force's top 8: %d of %d (%.1f %%); %d queries with no similar case\n", found, total,
		100*float64(found)/float64(max(total, 1)), empty)
	fmt.Printf("speed-up at p99: %.1fx\n", float64(p(bl, 0.99))/float64(p(il, 0.99)))
	return nil
}
