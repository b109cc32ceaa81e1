// Package clock gives Flare's code its notion of "now" and its timers, so
// that tests can use a fake clock instead of sleeping.
package clock

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Clock tells the time and makes timers that fire by it.
type Clock interface {
	// Now is the current instant, UTC with microsecond precision.
	Now() time.Time
	// NewTimer returns a timer that sends on its channel once d has
	// passed on this clock; d <= 0 fires it at once.
	NewTimer(d time.Duration) Timer
	// After is NewTimer(d).C(), for waits that are never stopped.
	After(d time.Duration) <-chan time.Time
	// AfterFunc returns a timer that calls fn once d has passed; its C
	// is nil.
	AfterFunc(d time.Duration, fn func()) Timer
}

// Timer is a one-shot timer of a Clock, with the semantics of a
// *time.Timer since Go 1.23: after Stop or Reset returns, no value sent
// before the call is received from C.
type Timer interface {
	// C is the channel the timer sends on when it fires; always the same
	// channel (nil for AfterFunc).
	C() <-chan time.Time
	// Stop stops the timer. It reports whether it stopped it before it
	// took effect: false if its value had been received (or its function
	// called) or it was stopped already.
	Stop() bool
	// Reset stops the timer and arms it to fire d from now, reporting
	// what Stop would have.
	Reset(d time.Duration) bool
}

// Real is the system clock. Instants are UTC with microsecond precision, the
// precision the store keeps, so values compare equal after a round trip.
type Real struct{}

// Now implements Clock.
func (Real) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// NewTimer implements Clock with a *time.Timer.
func (Real) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

// After implements Clock with time.After.
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }

// AfterFunc implements Clock with time.AfterFunc: fn runs in its own
// goroutine.
func (Real) AfterFunc(d time.Duration, fn func()) Timer { return realTimer{time.AfterFunc(d, fn)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }

// Fake is a settable clock for tests. Time moves only by Advance and Set:
// the clock jumps to the new time, then every timer that has come due
// fires, earliest deadline first and timers due at the same instant in the
// order they were armed. A channel timer sends its deadline; an AfterFunc
// function is called on the goroutine that moved the clock, one after the
// other, so their order is the deadlines' order.
//
// Because the clock has jumped, a timer re-armed by the code it woke counts
// from the new time: a loop that waits 1s fires once, not five times, on
// Advance(5s); advance in steps to see each.
//
// Tests synchronise with the code under test through the timers it waits
// on: BlockUntil and BlockUntilDeadline return once that code has armed its
// timer, so no test needs to sleep.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiting []*fakeTimer  // armed timers, in no order
	seq     uint64        // arming order, to break deadline ties
	changed chan struct{} // closed and replaced when waiting changes
}

// NewFake returns a fake clock set to t.
func NewFake(t time.Time) *Fake { return &Fake{now: t.UTC().Truncate(time.Microsecond)} }

// Now implements Clock.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the clock forward by d and fires the timers due by then.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.fireDue()
	f.mu.Unlock()
}

// Set moves the clock to t and fires the timers due by then. Moving it
// back fires nothing; armed timers keep their deadlines.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.now = t.UTC().Truncate(time.Microsecond)
	f.fireDue()
	f.mu.Unlock()
}

// NewTimer implements Clock.
func (f *Fake) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{f: f, c: make(chan time.Time, 1)}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.arm(t, d)
	return t
}

// After implements Clock.
func (f *Fake) After(d time.Duration) <-chan time.Time { return f.NewTimer(d).C() }

// AfterFunc implements Clock. With d <= 0, fn runs at once in its own
// goroutine, as with time.AfterFunc; otherwise Advance or Set calls it.
func (f *Fake) AfterFunc(d time.Duration, fn func()) Timer {
	t := &fakeTimer{f: f, fn: fn}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.arm(t, d)
	return t
}

// Waiting returns the deadlines of the armed timers, earliest first.
func (f *Fake) Waiting() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.deadlines()
}

// BlockUntil returns once at least n timers are armed, or with ctx's error.
func (f *Fake) BlockUntil(ctx context.Context, n int) error {
	return f.blockUntil(ctx, func(w []time.Time) bool { return len(w) >= n },
		func() string { return fmt.Sprintf("%d armed timers", n) })
}

// BlockUntilDeadline returns once a timer is armed to fire at exactly at,
// or with ctx's error: the way to wait until code has armed its timer for a
// deadline it computed.
func (f *Fake) BlockUntilDeadline(ctx context.Context, at time.Time) error {
	return f.blockUntil(ctx, func(w []time.Time) bool { return slices.ContainsFunc(w, at.Equal) },
		func() string { return "a timer armed for " + at.Format(time.RFC3339Nano) })
}

func (f *Fake) blockUntil(ctx context.Context, ok func([]time.Time) bool, what func() string) error {
	for {
		f.mu.Lock()
		w := f.deadlines()
		if f.changed == nil {
			f.changed = make(chan struct{})
		}
		ch := f.changed
		f.mu.Unlock()
		if ok(w) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("fake clock: waiting for %s (armed: %v): %w", what(), w, ctx.Err())
		}
	}
}

// fakeTimer is a Fake's timer; its fields are guarded by f.mu. A channel
// timer's channel has room for one value so that firing never blocks the
// clock; Stop and Reset drain it, as the runtime does for time.Timer.
type fakeTimer struct {
	f     *Fake
	c     chan time.Time // nil for AfterFunc
	fn    func()
	at    time.Time
	seq   uint64
	armed bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	return t.f.disarm(t)
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	was := t.f.disarm(t)
	t.f.arm(t, d)
	return was
}

// arm sets t to fire d from now, at once if that is not in the future.
// f.mu is held.
func (f *Fake) arm(t *fakeTimer, d time.Duration) {
	f.seq++
	t.at, t.seq = f.now.Add(d), f.seq
	if !t.at.After(f.now) {
		if t.fn != nil {
			go t.fn()
			return
		}
		t.c <- f.now // empty: disarm drained it
		return
	}
	t.armed = true
	f.waiting = append(f.waiting, t)
	f.notify()
}

// disarm stops t and drops a value it sent that was not received,
// reporting whether either was pending. f.mu is held.
func (f *Fake) disarm(t *fakeTimer) bool {
	was := t.armed
	if t.armed {
		f.remove(t)
	}
	select {
	case <-t.c: // never ready for AfterFunc's nil channel
		was = true
	default:
	}
	return was
}

// fireDue fires the armed timers due by now, earliest first. f.mu is held
// and released while a function runs, so that it may use the clock.
func (f *Fake) fireDue() {
	for {
		var next *fakeTimer
		for _, t := range f.waiting {
			if t.at.After(f.now) {
				continue
			}
			if next == nil || t.at.Before(next.at) || t.at.Equal(next.at) && t.seq < next.seq {
				next = t
			}
		}
		if next == nil {
			return
		}
		f.remove(next)
		if next.fn == nil {
			next.c <- next.at // empty: arming drained it
			continue
		}
		f.mu.Unlock()
		next.fn()
		f.mu.Lock()
	}
}

// remove takes t off the armed list. f.mu is held.
func (f *Fake) remove(t *fakeTimer) {
	if i := slices.Index(f.waiting, t); i >= 0 {
		f.waiting = slices.Delete(f.waiting, i, i+1)
	}
	t.armed = false
	f.notify()
}

// notify wakes the BlockUntil callers. f.mu is held.
func (f *Fake) notify() {
	if f.changed != nil {
		close(f.changed)
		f.changed = nil
	}
}

// deadlines lists the armed timers' deadlines, earliest first. f.mu is held.
func (f *Fake) deadlines() []time.Time {
	out := make([]time.Time, 0, len(f.waiting))
	for _, t := range f.waiting {
		out = append(out, t.at)
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}
