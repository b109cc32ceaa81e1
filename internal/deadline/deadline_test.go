package deadline_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/deadline"
)

// schedule is a toy durable schedule: instants, fired once each.
type schedule struct {
	mu    sync.Mutex
	clock *clock.Fake
	due   []time.Time
	fired chan time.Time
}

func (s *schedule) fire(context.Context) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	var next time.Time
	var left []time.Time
	for _, at := range s.due {
		if !at.After(now) {
			s.fired <- now
			continue
		}
		left = append(left, at)
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	s.due = left
	return next, nil
}

func (s *schedule) add(at time.Time) {
	s.mu.Lock()
	s.due = append(s.due, at)
	s.mu.Unlock()
}

func TestTimerFiresAtTheInstantAndWakesForEarlierOnes(t *testing.T) {
	d := dbtest.SQLite(t, db.Migrate)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	s := &schedule{clock: clk, fired: make(chan time.Time, 10), due: []time.Time{t0.Add(time.Hour)}}
	tm := deadline.New("toy", clk, nil, 30*time.Second, s.fire)
	done := make(chan struct{})
	go func() { tm.Run(ctx); close(done) }()
	// Idle, it looks again after maxSleep at most.
	if err := clk.BlockUntilDeadline(ctx, t0.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	// A write sets an earlier deadline: the timer wakes for it once committed.
	s.add(t0.Add(10 * time.Second))
	if err := d.InTx(ctx, func(tx *db.Tx) error { tm.AfterCommit(tx, t0.Add(10*time.Second)); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := clk.BlockUntilDeadline(ctx, t0.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	clk.Advance(10*time.Second - time.Microsecond)
	select {
	case at := <-s.fired:
		t.Fatalf("fired at %v, before its instant", at)
	default:
	}
	if err := clk.BlockUntilDeadline(ctx, t0.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Microsecond)
	if at := <-s.fired; !at.Equal(t0.Add(10 * time.Second)) {
		t.Fatalf("fired at %v", at)
	}
	cancel()
	<-done
}
