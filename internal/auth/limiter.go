package auth

import (
	"sync"
	"time"

	"github.com/flare-desk/flare/internal/clock"
)

// Login limits: attempts that did not succeed, counted over a sliding
// window per email (against guessing one user's password) and per client IP
// (against spraying many users from one place).
const (
	loginWindow       = 15 * time.Minute
	maxEmailFailures  = 5
	maxIPFailures     = 20
	maxLimiterKeys    = 50_000 // per map; bounds memory under a flood of distinct keys
	limiterPruneEvery = time.Minute
	maxEmailKey       = 254
)

// LoginLimiter throttles sign-ins in memory, per process. An attempt counts
// from its start (Begin) and stays counted unless it succeeds. Each key
// keeps at most its limit of attempt times, keys are at most a valid email's
// length, and keys with nothing in the window are pruned, so memory stays
// bounded.
type LoginLimiter struct {
	clock clock.Clock

	mu        sync.Mutex
	byEmail   map[string][]time.Time // times of attempts not succeeded, oldest first
	byIP      map[string][]time.Time
	lastPrune time.Time
}

// NewLoginLimiter returns a limiter that reads time from c.
func NewLoginLimiter(c clock.Clock) *LoginLimiter {
	return &LoginLimiter{clock: c, byEmail: map[string][]time.Time{}, byIP: map[string][]time.Time{}}
}

// LoginAttempt is a sign-in attempt counted by Begin. It stays counted as a
// failure unless Succeeded or Abandon takes it back.
type LoginAttempt struct {
	l         *LoginLimiter
	ip, email string
	at        time.Time
}

// Begin counts a sign-in attempt for email from ip before its password is
// checked, so that concurrent attempts cannot all pass a check that only
// their later failures would close. When the email or the ip is at its
// limit it returns nil and how long until an attempt may be made.
func (l *LoginLimiter) Begin(ip, email string) (a *LoginAttempt, retryAfter time.Duration) {
	now := l.clock.Now()
	email = NormaliseEmail(email)
	if len(email) > maxEmailKey { // no valid address is longer; bounds the key's memory
		email = email[:maxEmailKey]
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.maybePrune(now)
	wait := max(blockedFor(l.byEmail, email, maxEmailFailures, now),
		blockedFor(l.byIP, ip, maxIPFailures, now))
	if wait > 0 {
		return nil, wait
	}
	record(l.byEmail, email, maxEmailFailures, now)
	record(l.byIP, ip, maxIPFailures, now)
	return &LoginAttempt{l: l, ip: ip, email: email, at: now}, 0
}

// Succeeded takes the attempt back and clears the email's failures; the
// IP's other failures stay, so one good account cannot launder a spraying IP.
func (a *LoginAttempt) Succeeded() {
	a.l.mu.Lock()
	defer a.l.mu.Unlock()
	delete(a.l.byEmail, a.email)
	unrecord(a.l.byIP, a.ip, a.at)
}

// Abandon takes the attempt back: the password was never checked (the
// server was busy or the store failed).
func (a *LoginAttempt) Abandon() {
	a.l.mu.Lock()
	defer a.l.mu.Unlock()
	unrecord(a.l.byEmail, a.email, a.at)
	unrecord(a.l.byIP, a.ip, a.at)
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

// unrecord removes one failure recorded at at, if it is still kept.
func unrecord(m map[string][]time.Time, key string, at time.Time) {
	times := m[key]
	for i := len(times) - 1; i >= 0; i-- {
		if times[i].Equal(at) {
			times = append(times[:i:i], times[i+1:]...)
			break
		}
	}
	if len(times) == 0 {
		delete(m, key)
	} else {
		m[key] = times
	}
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
