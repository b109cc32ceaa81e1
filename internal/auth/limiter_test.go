package auth

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/clock"
)

func TestLoginLimiterPerEmail(t *testing.T) {
	c := clock.NewFake(t0)
	l := NewLoginLimiter(c)
	for i := range 5 {
		if a, _ := l.Begin("10.0.0.1", "ann@example.com"); a == nil {
			t.Fatalf("attempt %d refused", i+1)
		}
		c.Advance(time.Minute)
	}
	// Attempts at t0, +1m … +4m; now +5m. The first leaves the window at +15m.
	a, wait := l.Begin("10.0.0.2", " ANN@example.com")
	if a != nil || wait != 10*time.Minute {
		t.Fatalf("6th attempt: %v wait=%v, want refused for 10m", a, wait)
	}
	if a, _ := l.Begin("10.0.0.1", "bob@example.com"); a == nil {
		t.Fatal("another email from the same IP refused")
	}
	c.Advance(10*time.Minute - time.Microsecond)
	if a, _ := l.Begin("10.0.0.1", "ann@example.com"); a != nil {
		t.Fatal("allowed before the oldest attempt left the window")
	}
	c.Advance(time.Microsecond)
	a, _ = l.Begin("10.0.0.1", "ann@example.com") // 5 in the window again
	if a == nil {
		t.Fatal("still refused after the oldest attempt left the window")
	}
	a.Succeeded()
	for i := range 5 {
		if a, _ := l.Begin("10.0.0.1", "ann@example.com"); a == nil {
			t.Fatalf("after a success, attempt %d refused: success did not clear the email", i+1)
		}
	}
}

func TestLoginLimiterPerIP(t *testing.T) {
	c := clock.NewFake(t0)
	l := NewLoginLimiter(c)
	var last *LoginAttempt
	for i := range 20 {
		a, _ := l.Begin("10.0.0.9", fmt.Sprintf("user%d@example.com", i))
		if a == nil {
			t.Fatalf("attempt %d refused", i+1)
		}
		last = a
	}
	a, wait := l.Begin("10.0.0.9", "fresh@example.com")
	if a != nil || wait != 15*time.Minute {
		t.Fatalf("spraying IP: %v wait=%v", a, wait)
	}
	// A success takes back only its own attempt, not the IP's failures.
	last.Succeeded()
	a, _ = l.Begin("10.0.0.9", "fresh@example.com")
	if a == nil {
		t.Fatal("a success did not take back its own attempt")
	}
	if b, _ := l.Begin("10.0.0.9", "other@example.com"); b != nil {
		t.Fatal("a success cleared the IP's failures")
	}
	if b, _ := l.Begin("10.0.0.10", "fresh2@example.com"); b == nil {
		t.Fatal("another IP refused")
	}
	c.Advance(15 * time.Minute)
	if b, _ := l.Begin("10.0.0.9", "fresh3@example.com"); b == nil {
		t.Fatal("IP still refused after the window")
	}
}

// The regression: the limit was checked before the password hash and the
// failure recorded after it, so concurrent wrong passwords all got through.
func TestLoginLimiterCountsConcurrentAttempts(t *testing.T) {
	l := NewLoginLimiter(clock.NewFake(t0))
	var mu sync.Mutex
	began, refused := 0, 0
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			a, wait := l.Begin(fmt.Sprintf("10.0.1.%d", i), "ann@example.com")
			mu.Lock()
			defer mu.Unlock()
			if a == nil {
				if wait <= 0 {
					t.Error("refused without a wait")
				}
				refused++
				return
			}
			began++
		})
	}
	wg.Wait()
	if began != maxEmailFailures || refused != 40-maxEmailFailures {
		t.Fatalf("40 concurrent attempts: %d began, %d refused; want %d and %d", began, refused, maxEmailFailures, 40-maxEmailFailures)
	}
}

func TestLoginLimiterAbandon(t *testing.T) {
	l := NewLoginLimiter(clock.NewFake(t0))
	for range 50 { // never checked, never counted
		a, _ := l.Begin("10.0.0.1", "ann@example.com")
		if a == nil {
			t.Fatal("abandoned attempts were counted")
		}
		a.Abandon()
	}
	if len(l.byEmail) != 0 || len(l.byIP) != 0 {
		t.Fatalf("abandoned attempts left keys: %d emails, %d IPs", len(l.byEmail), len(l.byIP))
	}
}

func TestLoginLimiterMemoryBounded(t *testing.T) {
	c := clock.NewFake(t0)
	l := NewLoginLimiter(c)
	for i := range 100 {
		l.Begin("10.0.0.1", fmt.Sprintf("u%d@example.com", i))
	}
	for range 50 { // more attempts than any limit keep only the limit
		l.Begin("10.0.0.2", "u0@example.com")
	}
	if n := len(l.byEmail["u0@example.com"]); n != maxEmailFailures {
		t.Fatalf("kept %d attempt times for one email, want %d", n, maxEmailFailures)
	}
	if n := len(l.byIP["10.0.0.1"]); n != maxIPFailures {
		t.Fatalf("kept %d attempt times for one IP, want %d", n, maxIPFailures)
	}
	l.Begin("10.0.0.3", strings.Repeat("x", 60_000)+"@example.com")
	for k := range l.byEmail {
		if len(k) > maxEmailKey {
			t.Fatalf("an email key of %d bytes is kept", len(k))
		}
	}
	c.Advance(loginWindow + limiterPruneEvery)
	l.Begin("10.0.0.4", "someone@example.com")
	if len(l.byEmail) != 1 || len(l.byIP) != 1 {
		t.Fatalf("old entries not pruned: %d emails, %d IPs", len(l.byEmail), len(l.byIP))
	}
	for i := range maxLimiterKeys + 10 {
		l.Begin(fmt.Sprintf("ip%d", i), fmt.Sprintf("x%d@example.com", i))
	}
	if len(l.byIP) > maxLimiterKeys || len(l.byEmail) > maxLimiterKeys {
		t.Fatalf("%d IP and %d email keys kept, cap is %d", len(l.byIP), len(l.byEmail), maxLimiterKeys)
	}
}
