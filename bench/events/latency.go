package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// latency sends cases at a fixed rate — each request at its scheduled
// instant, whether or not earlier ones have been answered (open loop) —
// and measures, for every event, the subscriber's receipt time minus the
// event's At.
func latency(ctx context.Context, c config) error {
	total := int(float64(c.rate) * c.duration.Seconds())
	s, err := openStore(ctx, c.db, total)
	if err != nil {
		return err
	}
	defer s.cleanup()
	const senders = 256 // enough in flight to hold the schedule through a slow patch
	p := newPoster(s.token, senders)
	fmt.Printf("### Delivery latency — %d cases/s for %s, open loop\n\n", c.rate, c.duration)
	fmt.Printf("| subscriber | cases sent | sent on time (≤ 50 ms late) | POST p50 / p99 | events | latency p50 | p99 | max | within 1 s |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, kind := range c.latency {
		v, err := startVariant(ctx, s, kind, true)
		if err != nil {
			return err
		}
		var next, late, failed atomic.Int64
		post := make([]time.Duration, total)
		var wg sync.WaitGroup
		interval := time.Second / time.Duration(c.rate)
		start := time.Now().Add(100 * time.Millisecond)
		for range senders {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= total {
						return
					}
					at := start.Add(time.Duration(i) * interval)
					time.Sleep(time.Until(at))
					if time.Since(at) > 50*time.Millisecond {
						late.Add(1)
					}
					t := time.Now()
					if err := p.post(ctx, v.url, s.bodies[i]); err != nil {
						failed.Add(1)
						continue
					}
					post[i] = time.Since(t)
				}
			})
		}
		wg.Wait()
		sent := time.Since(start)
		drained, err := v.drain(ctx, time.Minute)
		if err != nil {
			return err
		}
		lat := v.got.sorted()
		if len(lat) == 0 {
			return fmt.Errorf("%s: no event delivered", kind)
		}
		within := 0
		for _, d := range lat {
			if d <= time.Second {
				within++
			}
		}
		slices.Sort(post)
		name := map[string]string{"outbox": "outbox, in-process subscriber", "webhook": "outbox, webhook (signed POST to a local receiver)",
			"river": "River job per event (insert in the write, 8 workers)"}[kind]
		fmt.Printf("| %s | %d (%.0f/s) | %.1f %% | %s / %s | %d | %s | **%s** | %s | %.2f %% |\n", name, total-int(failed.Load()),
			float64(total)/sent.Seconds(), 100*float64(total-int(late.Load()))/float64(total), ms(pct(post, .5)), ms(pct(post, .99)),
			len(lat), ms(pct(lat, .5)), ms(pct(lat, .99)), ms(lat[len(lat)-1]), 100*float64(within)/float64(max(1, len(lat))))
		if failed.Load() > 0 {
			fmt.Printf("<!-- %s: %d POSTs failed -->\n", kind, failed.Load())
		}
		fmt.Printf("<!-- %s: drained %s after the last request -->\n", kind, drained.Round(time.Millisecond))
		if err := v.stop(ctx); err != nil {
			return err
		}
	}
	fmt.Println()
	return nil
}
