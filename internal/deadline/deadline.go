// Package deadline fires durable deadlines at their instants. The durable
// schedule is a capability's own: an instant on an indexed column (a case's
// next SLA deadline, an escalation step's acknowledgement deadline), written
// in the same transaction as the change that moved it. A Timer per server
// sleeps until the earliest instant, lets the capability fire everything
// that has come due, and sleeps again; a write that sets an earlier instant
// wakes it once committed (AfterCommit). Nothing is lost while no server
// runs: the first round after a start fires what came due meanwhile, and the
// capability records each firing once (a unique key or a state change under
// a row lock), so several servers may fire the same schedule.
package deadline

import (
	"context"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
)

// Fire fires every deadline that has come and returns the earliest one
// still ahead (zero if none).
type Fire func(ctx context.Context) (next time.Time, err error)

// Timer is one schedule's wake-up loop.
type Timer struct {
	name     string
	clock    clock.Clock
	log      *slog.Logger
	fire     Fire
	maxSleep time.Duration

	// next is the loop's next wake-up (Unix ns); MaxInt64 while it works or
	// before it runs, so that every new deadline wakes it then.
	next atomic.Int64
	wake chan struct{}
}

// New returns a timer for the schedule name. It looks at least every
// maxSleep (for deadlines other servers wrote).
func New(name string, c clock.Clock, log *slog.Logger, maxSleep time.Duration, fire Fire) *Timer {
	if log == nil {
		log = slog.Default()
	}
	t := &Timer{name: name, clock: c, log: log, fire: fire, maxSleep: maxSleep, wake: make(chan struct{}, 1)}
	t.next.Store(math.MaxInt64)
	return t
}

// AfterCommit wakes the timer once tx commits if at is sooner than its next
// wake-up. A zero at does nothing.
func (t *Timer) AfterCommit(tx *db.Tx, at time.Time) {
	if at.IsZero() {
		return
	}
	ns := at.UnixNano()
	tx.AfterCommit(func() {
		if ns < t.next.Load() {
			select {
			case t.wake <- struct{}{}:
			default: // a wake-up is pending already
			}
		}
	})
}

// Run fires deadlines at their instants until ctx ends.
func (t *Timer) Run(ctx context.Context) {
	// On the timer's clock, so that tests drive it with the fake one.
	// Stopped until a round arms it: a test waiting for the armed timer
	// then knows a round has run.
	timer := t.clock.NewTimer(t.maxSleep)
	timer.Stop()
	defer timer.Stop()
	for {
		t.next.Store(math.MaxInt64)
		select { // a wake-up from before this round is covered by it
		case <-t.wake:
		default:
		}
		wait := t.maxSleep
		next, err := t.fire(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			t.log.Error(t.name+" timer", "err", err)
			wait = time.Second
		case !next.IsZero():
			wait = min(wait, next.Sub(t.clock.Now()))
		}
		if wait <= 0 {
			continue
		}
		t.next.Store(t.clock.Now().Add(wait).UnixNano())
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C():
		case <-t.wake:
			timer.Stop()
		}
	}
}
