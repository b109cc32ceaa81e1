package auth

import (
	"fmt"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/clock"
)

func TestLoginLimiterPerEmail(t *testing.T) {
	c := clock.NewFake(t0)
	l := NewLoginLimiter(c)
	for i := range 5 {
		if ok, _ := l.Allow("10.0.0.1", "ann@example.com"); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
		l.Failure("10.0.0.1", "ann@example.com")
		c.Advance(time.Minute)
	}
	// Failures at t0, +1m … +4m; now +5m. The first leaves the window at +15m.
	ok, wait := l.Allow("10.0.0.2", " ANN@example.com")
	if ok || wait != 10*time.Minute {
		t.Fatalf("6th attempt: ok=%v wait=%v, want refused for 10m", ok, wait)
	}
	if ok, _ := l.Allow("10.0.0.1", "bob@example.com"); !ok {
		t.Fatal("another email from the same IP refused")
	}
	c.Advance(10*time.Minute - time.Microsecond)
	if ok, _ := l.Allow("10.0.0.1", "ann@example.com"); ok {
		t.Fatal("allowed before the oldest failure left the window")
	}
	c.Advance(time.Microsecond)
	if ok, _ := l.Allow("10.0.0.1", "ann@example.com"); !ok {
		t.Fatal("still refused after the oldest failure left the window")
	}
	l.Failure("10.0.0.1", "ann@example.com") // 5 in window again
	if ok, _ := l.Allow("10.0.0.1", "ann@example.com"); ok {
		t.Fatal("allowed at the limit")
	}
	l.Success("10.0.0.1", "ann@example.com")
	if ok, _ := l.Allow("10.0.0.1", "ann@example.com"); !ok {
		t.Fatal("success did not reset the email counter")
	}
}

func TestLoginLimiterPerIP(t *testing.T) {
	c := clock.NewFake(t0)
	l := NewLoginLimiter(c)
	for i := range 20 {
		email := fmt.Sprintf("user%d@example.com", i)
		if ok, _ := l.Allow("10.0.0.9", email); !ok {
			t.Fatalf("attempt %d refused", i+1)
		}
		l.Failure("10.0.0.9", email)
	}
	ok, wait := l.Allow("10.0.0.9", "fresh@example.com")
	if ok || wait != 15*time.Minute {
		t.Fatalf("spraying IP: ok=%v wait=%v", ok, wait)
	}
	// A success on one account does not clear the IP.
	l.Success("10.0.0.9", "user0@example.com")
	if ok, _ := l.Allow("10.0.0.9", "fresh@example.com"); ok {
		t.Fatal("success cleared the IP counter")
	}
	if ok, _ := l.Allow("10.0.0.10", "fresh@example.com"); !ok {
		t.Fatal("another IP refused")
	}
	c.Advance(15 * time.Minute)
	if ok, _ := l.Allow("10.0.0.9", "fresh@example.com"); !ok {
		t.Fatal("IP still refused after the window")
	}
}

func TestLoginLimiterMemoryBounded(t *testing.T) {
	c := clock.NewFake(t0)
	l := NewLoginLimiter(c)
	for i := range 100 {
		l.Failure("10.0.0.1", fmt.Sprintf("u%d@example.com", i))
	}
	for range 50 { // more failures than any limit keep only the limit
		l.Failure("10.0.0.1", "u0@example.com")
	}
	if n := len(l.byEmail["u0@example.com"]); n != maxEmailFailures {
		t.Fatalf("kept %d failure times for one email, want %d", n, maxEmailFailures)
	}
	if n := len(l.byIP["10.0.0.1"]); n != maxIPFailures {
		t.Fatalf("kept %d failure times for one IP, want %d", n, maxIPFailures)
	}
	c.Advance(loginWindow + limiterPruneEvery)
	l.Allow("10.0.0.2", "someone@example.com")
	if len(l.byEmail) != 0 || len(l.byIP) != 0 {
		t.Fatalf("old entries not pruned: %d emails, %d IPs", len(l.byEmail), len(l.byIP))
	}
	for i := range maxLimiterKeys + 10 {
		l.Failure(fmt.Sprintf("ip%d", i), "x@example.com")
	}
	if len(l.byIP) > maxLimiterKeys {
		t.Fatalf("%d IP keys kept, cap is %d", len(l.byIP), maxLimiterKeys)
	}
}
