package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// latency sends cases at a fixed rate — each request at its scheduled
// instant, whether or not earlier ones have been answered (open loop) —
// and measures, for every event, the subscriber's receipt time minus the
// event's At. River runs twice: at the same rate, and at one it can follow.
func latency(ctx context.Context, c config) error {
	type run struct {
		kind string
		rate int
	}
	var runs []run
	for _, k := range c.latency {
		runs = append(runs, run{k, c.rate})
		if k == "river" && c.riverRate > 0 && c.riverRate != c.rate {
			runs = append(runs, run{k, c.riverRate})
		}
	}
	total := int(float64(c.rate) * c.duration.Seconds())
	s, err := openStore(ctx, c.db, total)
	if err != nil {
		return err
	}
	defer s.cleanup()
	const senders = 256 // enough in flight to hold the schedule through a slow patch
	p := newPoster(s.token, senders)
	fmt.Printf("### Delivery latency — paced intake for %s, open loop\n\n", c.duration)
	fmt.Printf("| subscriber | cases/s scheduled → sent | sent on time (≤ 50 ms late) | POST p50 / p99 | events | latency p50 | p99 | max | within 1 s |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range runs {
		if err := paced(ctx, s, p, r.kind, r.rate, c.duration, senders); err != nil {
			return err
		}
	}
	fmt.Println()
	return nil
}

func paced(ctx context.Context, s *store, p *poster, kind string, rate int, duration time.Duration, senders int) error {
	v, err := startVariant(ctx, s, kind, true)
	if err != nil {
		return err
	}
	defer v.stop(ctx)
	total := int(float64(rate) * duration.Seconds())
	var next, late, failed atomic.Int64
	post := make([]time.Duration, total)
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rate)
	start := time.Now().Add(100 * time.Millisecond)
	for range senders {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				at := start.Add(time.Duration(i) * interval)
				time.Sleep(time.Until(at)) // the schedule, not the answers, sets the pace
				if time.Since(at) > 50*time.Millisecond {
					late.Add(1)
				}
				t := time.Now()
				if err := p.post(ctx, v.url, s.bodies[i%len(s.bodies)]); err != nil {
					failed.Add(1)
					continue
				}
				post[i] = time.Since(t)
			}
		})
	}
	wg.Wait()
	sent := time.Since(start)
	// Whatever is still undelivered a minute after the last request counts
	// as later than that: the percentiles are over every event published.
	const patience = time.Minute
	drained, drainErr := v.drain(ctx, patience)
	left, err := v.backlog(ctx)
	if err != nil {
		return err
	}
	lat := v.got.sorted()
	n := len(lat) + left
	within := 0
	for _, d := range lat {
		if d <= time.Second {
			within++
		}
	}
	q := func(p float64) string {
		i := min(n-1, int(float64(n)*p))
		if i >= len(lat) {
			return fmt.Sprintf("> %.0f s", (patience + sent - duration).Seconds())
		}
		return ms(lat[i])
	}
	slices.Sort(post)
	name := map[string]string{"outbox": "outbox, in-process subscriber", "webhook": "outbox, webhook (signed POST to a receiver in the bench)",
		"river": "River job per event (inserted in the write, 8 workers, 250 ms poll)"}[kind]
	maxLat := "—"
	if left > 0 {
		maxLat = q(1)
	} else if len(lat) > 0 {
		maxLat = ms(lat[len(lat)-1])
	}
	fmt.Printf("| %s | %d → %.0f | %.1f %% | %s / %s | %d | %s | **%s** | %s | %.1f %% |\n", name, rate,
		float64(total)/sent.Seconds(), 100*float64(total-int(late.Load()))/float64(total), ms(pct(post, .5)), ms(pct(post, .99)),
		n, q(.5), q(.99), maxLat, 100*float64(within)/math.Max(1, float64(n)))
	if failed.Load() > 0 {
		fmt.Printf("<!-- %s at %d/s: %d POSTs failed -->\n", kind, rate, failed.Load())
	}
	if drainErr != nil {
		fmt.Printf("<!-- %s at %d/s: %d of %d events undelivered %s after the last request -->\n", kind, rate, left, n, patience)
	} else {
		fmt.Printf("<!-- %s at %d/s: drained %s after the last request -->\n", kind, rate, drained.Round(time.Millisecond))
	}
	if _, err := v.a.Cases.SyncSearch(ctx); err != nil { // the next run starts with the index caught up
		return err
	}
	return v.stop(ctx)
}
