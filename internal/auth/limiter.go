package auth

import (
	"sync"
	"time"

	"github.com/flare-desk/flare/internal/clock"
)

// Login limits: failures counted over a sliding window, per email (against
// guessing one user's password) and per client IP (against spraying many
// users from one place).
const (
	loginWindow       = 15 * time.Minute
	maxEmailFailures  = 5
	maxIPFailures     = 20
	maxLimiterKeys    = 50_000 // per map; bounds memory under a flood of distinct keys
	limiterPruneEvery = time.Minute
)

// LoginLimiter throttles failed sign-ins in memory, per process. Each key
// keeps at most its limit of failure times, and keys with no failure in the
// window are pruned, so memory stays bounded.
type LoginLimiter struct {
	clock clock.Clock

	mu        sync.Mutex
	byEmail   map[string][]time.Time // failure times, oldest first
	byIP      map[string][]time.Time
	lastPrune time.Time
}

// NewLoginLimiter returns a limiter that reads time from c.
func NewLoginLimiter(c clock.Clock) *LoginLimiter {
	return &LoginLimiter{clock: c, byEmail: map[string][]time.Time{}, byIP: map[string][]time.Time{}}
}

// Allow reports whether a sign-in for email from ip may be attempted now,
// and if not, how long until it may.
func (l *LoginLimiter) Allow(ip, email string) (ok bool, retryAfter time.Duration) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.maybePrune(now)
	wait := max(blockedFor(l.byEmail, NormaliseEmail(email), maxEmailFailures, now),
		blockedFor(l.byIP, ip, maxIPFailures, now))
	return wait == 0, wait
}

// blockedFor returns how long key stays at its limit, or 0.
func blockedFor(m map[string][]time.Time, key string, limit int, now time.Time) time.Duration {
	times := recent(m[key], now)
	if len(times) < limit {
		return 0
	}
	// The oldest counted failure leaving the window frees one attempt.
	return times[len(times)-limit].Add(loginWindow).Sub(now)
}

// recent drops the failure times that have left the window.
func recent(times []time.Time, now time.Time) []time.Time {
	cut := now.Add(-loginWindow)
	i := 0
	for i < len(times) && !times[i].After(cut) {
		i++
	}
	return times[i:]
}

// Failure records a failed sign-in.
func (l *LoginLimiter) Failure(ip, email string) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.maybePrune(now)
	record(l.byEmail, NormaliseEmail(email), maxEmailFailures, now)
	record(l.byIP, ip, maxIPFailures, now)
}

func record(m map[string][]time.Time, key string, limit int, now time.Time) {
	times := recent(m[key], now)
	if len(times) == 0 && len(m) >= maxLimiterKeys {
		// Full: forget one arbitrary key rather than grow without bound.
		for k := range m {
			delete(m, k)
			break
		}
	}
	times = append(times, now)
	if len(times) > limit { // older failures no longer decide anything
		times = append([]time.Time(nil), times[len(times)-limit:]...)
	}
	m[key] = times
}

// Success clears the email's failures; the IP's stay, so one good account
// cannot launder a spraying IP.
func (l *LoginLimiter) Success(ip, email string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.byEmail, NormaliseEmail(email))
}

// maybePrune drops keys whose failures have all left the window.
func (l *LoginLimiter) maybePrune(now time.Time) {
	if now.Sub(l.lastPrune) < limiterPruneEvery {
		return
	}
	l.lastPrune = now
	for _, m := range []map[string][]time.Time{l.byEmail, l.byIP} {
		for k, times := range m {
			if len(recent(times, now)) == 0 {
				delete(m, k)
			}
		}
	}
}
