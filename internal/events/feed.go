package events

import (
	"sync"
	"sync/atomic"
)

// Feed hands committed events to listeners in this process, for live
// screens: best effort and never in the writer's way. A listener that falls
// behind loses events and is told so (Lagged), and reloads what it shows.
//
// Several nodes on PostgreSQL: the feed is fed by Publish's after-commit
// hook, so it sees this node's writes only. Spanning nodes needs one
// addition, not a new design: Publish also sends NOTIFY flare_events with
// the events' seqs inside the transaction (PostgreSQL delivers it at
// commit), and one LISTEN connection per node reads the notified events
// from the events table into its feed.
type Feed struct {
	mu   sync.RWMutex
	subs map[*Listener]struct{}
}

func newFeed() *Feed { return &Feed{subs: map[*Listener]struct{}{}} }

// Listener receives events from the feed.
type Listener struct {
	c      chan Event
	filter func(Event) bool
	lagged atomic.Bool
	feed   *Feed
	once   sync.Once
}

// Listen adds a listener with room for buf events that receives the events
// filter accepts (nil: all). Close it when done.
func (f *Feed) Listen(buf int, filter func(Event) bool) *Listener {
	if buf < 1 {
		buf = 1
	}
	l := &Listener{c: make(chan Event, buf), filter: filter, feed: f}
	f.mu.Lock()
	f.subs[l] = struct{}{}
	f.mu.Unlock()
	return l
}

// C is the listener's channel; it is closed by Close.
func (l *Listener) C() <-chan Event { return l.c }

// Lagged reports (and clears) whether events were dropped because the
// listener's buffer was full.
func (l *Listener) Lagged() bool { return l.lagged.Swap(false) }

// Close removes the listener from the feed and closes its channel.
func (l *Listener) Close() {
	l.once.Do(func() {
		l.feed.mu.Lock()
		delete(l.feed.subs, l)
		l.feed.mu.Unlock()
		close(l.c)
	})
}

func (f *Feed) publish(evs []Event) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	for l := range f.subs {
		for _, e := range evs {
			if l.filter != nil && !l.filter(e) {
				continue
			}
			select {
			case l.c <- e:
			default:
				l.lagged.Store(true)
			}
		}
	}
}
