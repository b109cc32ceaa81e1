package limit

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/clock"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func TestKeyedBucket(t *testing.T) {
	c := clock.NewFake(t0)
	k := NewKeyed(Rate{PerSecond: 2, Burst: 3}, c, 0)
	for i := range 3 {
		if ok, _ := k.Allow("a"); !ok {
			t.Fatalf("event %d of the burst refused", i+1)
		}
	}
	ok, wait := k.Allow("a")
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("beyond the burst: ok=%v wait=%v, want refused for 500ms", ok, wait)
	}
	// A refusal takes no token: the wait does not grow with retries.
	if _, again := k.Allow("a"); again != wait {
		t.Fatalf("second refusal waits %v, want %v", again, wait)
	}
	if ok, _ := k.Allow("b"); !ok {
		t.Fatal("another key refused")
	}
	c.Advance(500 * time.Millisecond)
	if ok, _ := k.Allow("a"); !ok {
		t.Fatal("refused after the wait")
	}
	if ok, _ := k.Allow("a"); ok {
		t.Fatal("allowed two events after one refill")
	}
}

func TestKeyedOff(t *testing.T) {
	k := NewKeyed(Rate{}, clock.NewFake(t0), 0)
	for range 1000 {
		if ok, _ := k.Allow("a"); !ok {
			t.Fatal("a limiter without a rate refused")
		}
	}
	if k.Len() != 0 {
		t.Fatalf("an off limiter kept %d buckets", k.Len())
	}
}

func TestKeyedMemoryBounded(t *testing.T) {
	c := clock.NewFake(t0)
	k := NewKeyed(Rate{PerSecond: 10, Burst: 10}, c, 50)
	for i := range 200 {
		k.Allow(fmt.Sprint("ip", i))
	}
	if n := k.Len(); n > 50 {
		t.Fatalf("%d buckets kept, cap is 50", n)
	}
	// Buckets idle long enough to be full again are dropped.
	c.Advance(time.Second)
	k.Allow("fresh")
	if n := k.Len(); n != 1 {
		t.Fatalf("%d buckets after every other one refilled, want 1", n)
	}
}

func TestKeyedConcurrent(t *testing.T) {
	k := NewKeyed(Rate{PerSecond: 1, Burst: 5}, clock.NewFake(t0), 0)
	var mu sync.Mutex
	allowed := 0
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			if ok, _ := k.Allow("tok"); ok {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 5 {
		t.Fatalf("%d of 40 concurrent events allowed, want the burst of 5", allowed)
	}
}

func TestGate(t *testing.T) {
	g := NewGate(2, 1)
	ctx := context.Background()
	r1, err := g.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := g.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if g.Running() != 2 {
		t.Fatalf("running %d, want 2", g.Running())
	}
	// The third waits in the queue; the fourth finds the queue full.
	got := make(chan error, 1)
	go func() {
		r3, err := g.Acquire(ctx)
		if err == nil {
			r3()
		}
		got <- err
	}()
	for g.Waiting() != 1 { // the waiter is about to block on the slots
		runtime.Gosched()
	}
	if _, err := g.Acquire(ctx); !errors.Is(err, ErrBusy) {
		t.Fatalf("with full slots and queue: %v, want ErrBusy", err)
	}
	r1()
	if err := <-got; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	r2()
	if g.Running() != 0 || g.Waiting() != 0 {
		t.Fatalf("after release: running %d, waiting %d", g.Running(), g.Waiting())
	}
}

func TestGateWaitEndsWithContext(t *testing.T) {
	g := NewGate(1, 10)
	release, _ := g.Acquire(context.Background())
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.Acquire(ctx); !errors.Is(err, ErrBusy) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v, want ErrBusy and context.Canceled", err)
	}
	if g.Waiting() != 0 {
		t.Fatalf("a cancelled waiter is still counted")
	}
}

// The gate never lets more than its slots run, whatever the burst.
func TestGateBoundsConcurrency(t *testing.T) {
	g := NewGate(3, 100)
	var mu sync.Mutex
	running, peak := 0, 0
	var wg sync.WaitGroup
	for range 60 {
		wg.Go(func() {
			release, err := g.Acquire(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			running++
			peak = max(peak, running)
			mu.Unlock()
			runtime.Gosched()
			mu.Lock()
			running--
			mu.Unlock()
			release()
		})
	}
	wg.Wait()
	if peak > 3 {
		t.Fatalf("%d ran at once, gate has 3 slots", peak)
	}
}
