package limit

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
)

// ErrBusy is returned by Gate.Acquire when no slot is free and the wait
// queue is full, or when the caller's context ends while it waits.
var ErrBusy = errors.New("busy")

// Gate bounds how many expensive operations run at once (a password hash
// holds 64 MiB; an export a large result). Callers beyond the slots wait in
// a bounded queue and beyond the queue are refused at once, so a burst costs
// neither memory nor a pile of waiting goroutines.
type Gate struct {
	slots   chan struct{}
	queue   int64
	waiting atomic.Int64
}

// NewGate returns a gate with slots operations at once (at least 1) and at
// most queue callers waiting for one.
func NewGate(slots, queue int) *Gate {
	return &Gate{slots: make(chan struct{}, max(slots, 1)), queue: int64(max(queue, 0))}
}

// Acquire takes a slot, waiting while ctx allows, and returns the function
// that gives it back (call it exactly once). The error wraps ErrBusy.
func (g *Gate) Acquire(ctx context.Context) (release func(), err error) {
	select {
	case g.slots <- struct{}{}:
		return g.release, nil
	default:
	}
	if g.waiting.Add(1) > g.queue {
		g.waiting.Add(-1)
		return nil, fmt.Errorf("gate: %d running, %d waiting: %w", cap(g.slots), g.queue, ErrBusy)
	}
	defer g.waiting.Add(-1)
	select {
	case g.slots <- struct{}{}:
		return g.release, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("gate: %w while waiting: %w", ctx.Err(), ErrBusy)
	}
}

func (g *Gate) release() { <-g.slots }

// Slots is the number of operations the gate lets run at once.
func (g *Gate) Slots() int { return cap(g.slots) }

// Running is the number of slots taken now.
func (g *Gate) Running() int { return len(g.slots) }

// Waiting is the number of callers waiting for a slot now.
func (g *Gate) Waiting() int { return int(g.waiting.Load()) }
