package clock_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/clock"
)

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// ctxT bounds a test's waits on the fake clock, so that a broken
// synchronisation fails the test instead of hanging it.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fired reports the value a timer has sent, if any, without blocking.
func fired(tm clock.Timer) (time.Time, bool) {
	select {
	case v := <-tm.C():
		return v, true
	default:
		return time.Time{}, false
	}
}

func TestRealNowIsUTCMicroseconds(t *testing.T) {
	now := clock.Real{}.Now()
	if now.Location() != time.UTC || now.Nanosecond()%1000 != 0 {
		t.Fatalf("Now() = %v, want UTC with microsecond precision", now)
	}
}

// Real's timers are the time package's; d <= 0 fires at once, so this
// needs no waiting.
func TestRealTimers(t *testing.T) {
	var c clock.Clock = clock.Real{}
	tm := c.NewTimer(0)
	<-tm.C()
	if tm.Stop() {
		t.Fatal("Stop after the value was received reported true")
	}
	long := c.NewTimer(time.Hour)
	if !long.Stop() || long.Stop() {
		t.Fatal("Stop of an armed timer: want true, then false")
	}
	<-c.After(0)
	done := make(chan struct{})
	c.AfterFunc(0, func() { close(done) })
	<-done
}

func TestFakeNow(t *testing.T) {
	f := clock.NewFake(time.Date(2026, 11, 2, 10, 0, 0, 1234567, time.FixedZone("CET", 3600)))
	if got, want := f.Now(), t0.Add(1234*time.Microsecond); !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("Now() = %v, want %v in UTC", got, want)
	}
	f.Advance(time.Hour)
	if !f.Now().Equal(t0.Add(time.Hour + 1234*time.Microsecond)) {
		t.Fatalf("after Advance: %v", f.Now())
	}
}

// A timer fires when the clock reaches its deadline, not a microsecond
// before, and sends the deadline.
func TestFakeTimerFiresAtItsDeadline(t *testing.T) {
	f := clock.NewFake(t0)
	tm := f.NewTimer(10 * time.Minute)
	f.Advance(10*time.Minute - time.Microsecond)
	if _, ok := fired(tm); ok {
		t.Fatal("fired before its deadline")
	}
	f.Advance(time.Microsecond)
	v, ok := fired(tm)
	if !ok || !v.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("at the deadline: fired %v, value %v", ok, v)
	}
	f.Advance(time.Hour)
	if _, ok := fired(tm); ok {
		t.Fatal("a timer fires once")
	}
	if len(f.Waiting()) != 0 {
		t.Fatalf("armed after firing: %v", f.Waiting())
	}
}

// Advancing past several deadlines fires each due timer once, earliest
// first, with ties in the order the timers were armed; later ones wait.
func TestFakeAdvancePastSeveralInDeadlineOrder(t *testing.T) {
	f := clock.NewFake(t0)
	var order []string
	at := func(name string, d time.Duration) clock.Timer {
		return f.AfterFunc(d, func() { order = append(order, name) })
	}
	at("c", 3*time.Minute)
	at("a", 1*time.Minute)
	at("b1", 2*time.Minute) // b1 and b2 are due at the same instant
	at("b2", 2*time.Minute)
	at("late", time.Hour)
	ch := f.NewTimer(90 * time.Second)
	f.Advance(5 * time.Minute)
	if want := []string{"a", "b1", "b2", "c"}; !slices.Equal(order, want) {
		t.Fatalf("fired %v, want %v", order, want)
	}
	if v, ok := fired(ch); !ok || !v.Equal(t0.Add(90*time.Second)) {
		t.Fatalf("channel timer: fired %v, value %v", ok, v)
	}
	if w := f.Waiting(); len(w) != 1 || !w[0].Equal(t0.Add(time.Hour)) {
		t.Fatalf("still armed: %v, want the 10:00 timer", w)
	}
	f.Set(t0.Add(time.Hour))
	if order[len(order)-1] != "late" {
		t.Fatalf("Set did not fire the due timer: %v", order)
	}
}

// Timers created at the same instant for the same deadline fire together
// in creation order, and stopping one leaves the others.
func TestFakeTimersCreatedAtTheSameInstant(t *testing.T) {
	f := clock.NewFake(t0)
	var order []int
	var ts []clock.Timer
	for i := range 4 {
		ts = append(ts, f.AfterFunc(time.Second, func() { order = append(order, i) }))
	}
	a, b := f.NewTimer(time.Second), f.NewTimer(time.Second)
	ts[2].Stop()
	b.Stop()
	f.Advance(time.Second)
	if !slices.Equal(order, []int{0, 1, 3}) {
		t.Fatalf("fired %v, want [0 1 3]", order)
	}
	if _, ok := fired(a); !ok {
		t.Fatal("the other channel timer did not fire")
	}
	if _, ok := fired(b); ok {
		t.Fatal("the stopped channel timer fired")
	}
}

// Re-arming moves a timer to the back of its new instant's ties.
func TestFakeResetReordersTies(t *testing.T) {
	f := clock.NewFake(t0)
	var order []string
	first := f.AfterFunc(time.Minute, func() { order = append(order, "first") })
	f.AfterFunc(time.Minute, func() { order = append(order, "second") })
	first.Reset(time.Minute)
	f.Advance(time.Minute)
	if !slices.Equal(order, []string{"second", "first"}) {
		t.Fatalf("fired %v", order)
	}
}

func TestFakeStop(t *testing.T) {
	f := clock.NewFake(t0)
	tm := f.NewTimer(time.Minute)
	if !tm.Stop() {
		t.Fatal("Stop of an armed timer reported false")
	}
	if tm.Stop() {
		t.Fatal("second Stop reported true")
	}
	f.Advance(time.Hour)
	if _, ok := fired(tm); ok {
		t.Fatal("a stopped timer fired")
	}

	// Fired but not received: Stop still stops it, and the stale value is
	// gone (the time.Timer guarantee since Go 1.23).
	tm = f.NewTimer(time.Minute)
	f.Advance(time.Minute)
	if !tm.Stop() {
		t.Fatal("Stop before the value was received reported false")
	}
	if _, ok := fired(tm); ok {
		t.Fatal("a stale value was received after Stop")
	}

	// Received: too late to stop.
	tm = f.NewTimer(time.Minute)
	f.Advance(time.Minute)
	<-tm.C()
	if tm.Stop() {
		t.Fatal("Stop after the value was received reported true")
	}

	called := false
	fn := f.AfterFunc(time.Minute, func() { called = true })
	if !fn.Stop() {
		t.Fatal("Stop of an armed AfterFunc reported false")
	}
	f.Advance(time.Hour)
	if called || fn.Stop() {
		t.Fatalf("stopped AfterFunc: called %v", called)
	}
}

func TestFakeReset(t *testing.T) {
	f := clock.NewFake(t0)
	tm := f.NewTimer(time.Hour)
	f.Advance(10 * time.Minute)
	if !tm.Reset(5 * time.Minute) { // earlier than before, counted from now
		t.Fatal("Reset of an armed timer reported false")
	}
	if w := f.Waiting(); len(w) != 1 || !w[0].Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("armed for %v, want 09:15", w)
	}
	f.Advance(5 * time.Minute)
	if v, ok := fired(tm); !ok || !v.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("after Reset: fired %v at %v", ok, v)
	}
	if tm.Reset(time.Minute) {
		t.Fatal("Reset of a fired, received timer reported true")
	}
	f.Advance(time.Minute)
	if _, ok := fired(tm); !ok {
		t.Fatal("a timer reset after firing fires again")
	}

	// Reset of a timer whose value was not received drops that value.
	tm = f.NewTimer(time.Minute)
	f.Advance(time.Minute)
	if !tm.Reset(time.Minute) {
		t.Fatal("Reset before the value was received reported false")
	}
	if _, ok := fired(tm); ok {
		t.Fatal("the value from before Reset was received")
	}
	f.Advance(time.Minute)
	if v, ok := fired(tm); !ok || !v.Equal(f.Now()) {
		t.Fatalf("re-armed timer: fired %v at %v", ok, v)
	}
}

// A duration of zero or less fires at once, like the time package's.
func TestFakeNonPositiveDurationFiresAtOnce(t *testing.T) {
	f := clock.NewFake(t0)
	for _, d := range []time.Duration{0, -time.Hour} {
		if v, ok := fired(f.NewTimer(d)); !ok || !v.Equal(t0) {
			t.Fatalf("NewTimer(%v): fired %v at %v, want at once, now", d, ok, v)
		}
		select {
		case <-f.After(d):
		default:
			t.Fatalf("After(%v) did not fire at once", d)
		}
	}
	done := make(chan struct{})
	f.AfterFunc(0, func() { close(done) })
	<-done
	if len(f.Waiting()) != 0 {
		t.Fatalf("armed: %v", f.Waiting())
	}
}

// Moving the clock back fires nothing; deadlines stay where they were.
func TestFakeSetBackwards(t *testing.T) {
	f := clock.NewFake(t0)
	tm := f.NewTimer(time.Hour)
	f.Set(t0.Add(-time.Hour))
	f.Advance(90 * time.Minute) // 09:30
	if _, ok := fired(tm); ok {
		t.Fatal("fired before its deadline")
	}
	f.Set(t0.Add(time.Hour))
	if _, ok := fired(tm); !ok {
		t.Fatal("did not fire at its deadline")
	}
}

// A function the clock calls may use the clock; one that re-arms its
// timer counts from the new time, so one Advance fires it once.
func TestFakeAfterFuncUsesTheClock(t *testing.T) {
	f := clock.NewFake(t0)
	var seen []time.Time
	var tm clock.Timer
	tm = f.AfterFunc(time.Second, func() {
		seen = append(seen, f.Now())
		tm.Reset(time.Second)
	})
	f.Advance(5 * time.Second)
	f.Advance(time.Second)
	if want := []time.Time{t0.Add(5 * time.Second), t0.Add(6 * time.Second)}; !slices.Equal(seen, want) {
		t.Fatalf("called at %v, want %v", seen, want)
	}
}

// A goroutine that waits on timers in a loop, the way Flare's background
// loops do, is driven step by step: BlockUntil says when it waits again.
func TestFakeDrivesALoop(t *testing.T) {
	ctx := ctxT(t)
	f := clock.NewFake(t0)
	ticks := make(chan time.Time, 10)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tm := f.NewTimer(time.Minute)
		defer tm.Stop()
		for {
			select {
			case <-stop:
				return
			case v := <-tm.C():
				ticks <- v
				tm.Reset(time.Minute)
			}
		}
	}()
	defer func() { close(stop); <-done }()
	for i := 1; i <= 3; i++ {
		if err := f.BlockUntil(ctx, 1); err != nil {
			t.Fatal(err)
		}
		f.Advance(time.Minute)
		if v := <-ticks; !v.Equal(t0.Add(time.Duration(i) * time.Minute)) {
			t.Fatalf("tick %d at %v", i, v)
		}
	}
	// One jump past several periods wakes the loop once; it re-arms from
	// the new time.
	if err := f.BlockUntilDeadline(ctx, t0.Add(4*time.Minute)); err != nil {
		t.Fatal(err)
	}
	f.Advance(10 * time.Minute)
	<-ticks
	if err := f.BlockUntilDeadline(ctx, t0.Add(14*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if len(ticks) != 0 {
		t.Fatalf("%d extra ticks", len(ticks))
	}
}

func TestFakeBlockUntilGivesUp(t *testing.T) {
	f := clock.NewFake(t0)
	f.NewTimer(time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.BlockUntil(ctx, 1); err != nil {
		t.Fatalf("one timer is armed: %v", err)
	}
	if err := f.BlockUntil(ctx, 2); !errors.Is(err, context.Canceled) {
		t.Fatalf("BlockUntil(2) with one timer: %v", err)
	}
	if err := f.BlockUntilDeadline(ctx, t0.Add(time.Hour)); !errors.Is(err, context.Canceled) {
		t.Fatalf("BlockUntilDeadline for no timer: %v", err)
	}
}
