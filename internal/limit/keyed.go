package limit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/flare-desk/flare/internal/clock"
)

// Rate is a sustained number of events per second with a burst on top.
type Rate struct {
	PerSecond float64 // 0 or less: no limit
	Burst     int     // events allowed at once; at least 1 when PerSecond > 0
}

// Off reports whether r limits nothing.
func (r Rate) Off() bool { return r.PerSecond <= 0 }

// DefaultMaxKeys bounds a Keyed limiter's buckets.
const DefaultMaxKeys = 100_000

// Keyed keeps one token bucket per key (an API token, a client address),
// reading time from a clock so tests can use a fake one. Memory stays
// bounded: a bucket idle long enough to have refilled is dropped (a new one
// would be the same), and at most maxKeys are kept.
type Keyed struct {
	rate    Rate
	clock   clock.Clock
	maxKeys int
	refill  time.Duration // an empty bucket's time to fill up again

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastPrune time.Time
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

// NewKeyed returns a limiter allowing r per key; maxKeys <= 0 means
// DefaultMaxKeys.
func NewKeyed(r Rate, c clock.Clock, maxKeys int) *Keyed {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	r.Burst = max(r.Burst, 1)
	k := &Keyed{rate: r, clock: c, maxKeys: maxKeys, buckets: map[string]*bucket{}}
	if !r.Off() {
		k.refill = time.Duration(float64(r.Burst) / r.PerSecond * float64(time.Second))
	}
	return k
}

// Allow takes one event for key now. When refused, retryAfter is how long
// until one would be allowed.
func (k *Keyed) Allow(key string) (ok bool, retryAfter time.Duration) {
	if k.rate.Off() {
		return true, 0
	}
	now := k.clock.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	if now.Sub(k.lastPrune) >= min(k.refill, time.Minute) {
		k.prune(now)
	}
	b := k.buckets[key]
	if b == nil {
		if len(k.buckets) >= k.maxKeys {
			k.prune(now)
			for victim := range k.buckets { // still full: forget one rather than grow
				if len(k.buckets) < k.maxKeys {
					break
				}
				delete(k.buckets, victim)
			}
		}
		b = &bucket{lim: rate.NewLimiter(rate.Limit(k.rate.PerSecond), k.rate.Burst)}
		k.buckets[key] = b
	}
	b.last = now
	res := b.lim.ReserveN(now, 1)
	if !res.OK() { // cannot happen with Burst >= 1; refuse rather than wait forever
		return false, time.Duration(math.MaxInt64)
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now) // a refused event takes no token
		return false, d
	}
	return true, 0
}

// Len is the number of buckets kept.
func (k *Keyed) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}

func (k *Keyed) prune(now time.Time) {
	k.lastPrune = now
	for key, b := range k.buckets {
		if now.Sub(b.last) >= k.refill {
			delete(k.buckets, key)
		}
	}
}
