package sla

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"30m": 30 * time.Minute, "4h30m": 4*time.Hour + 30*time.Minute,
		"2d": 48 * time.Hour, "1d12h": 36 * time.Hour, "0s": 0, "3660d": MaxDuration, "3659d24h": MaxDuration, "87840h": MaxDuration} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "d", "2x", "-1h", "h2d", "1.5d", "2d-1h", "-2d"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Durations beyond MaxDuration are refused as too long, also where the
// arithmetic would overflow a time.Duration (about 106,751 days) rather
// than wrap around to a negative or a small value.
func TestParseDurationRefusesBeyondTheBound(t *testing.T) {
	for _, in := range []string{"3661d", "3660d1m", "3660d1ns", "87841h", "100000d", "106752d", "200000d",
		"99999999999999999999d", "3660d2562047h", "2562047h"} {
		d, err := ParseDuration(in)
		if err == nil || !strings.Contains(err.Error(), "too long (at most 3660d)") {
			t.Errorf("%q: got %v, %v; want too long", in, d, err)
		}
	}
}

func TestValidateRange(t *testing.T) {
	from := time.Date(2026, 12, 23, 17, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		to   time.Time
		want string
	}{
		{from, ""},
		{from.Add(MaxDuration), ""},
		{from.Add(MaxDuration + time.Nanosecond), "at most 3660d after from"},
		{time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), "at most 3660d after from"},
		{from.Add(-time.Second), "must not be before from"},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "must not be before from"},
	} {
		err := ValidateRange(from, tc.to)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("to %v: %v, want %q", tc.to, err, tc.want)
		}
	}
	// The widest range RFC 3339 can write (292 years saturate Sub).
	if err := ValidateRange(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("ten thousand years accepted")
	}
}

// AddChecked answers what Add does, or that there is no instant to show.
func TestAddChecked(t *testing.T) {
	from := time.Date(2026, 12, 23, 17, 30, 0, 0, time.UTC)
	london := mustCompile(t, CalendarSpec{Key: "x", Timezone: "Europe/London", Hours: everyDay("09:00-18:00")})
	if due, ok := london.AddChecked(from, MaxDuration); !ok || !due.Equal(london.Add(from, MaxDuration)) || due.Year() > 2100 {
		t.Fatalf("ten years of business time, 9h a day: %v %v", due, ok)
	}
	// Open one hour a week: ten years of business time take 1,689 years,
	// beyond what Add counts (it would answer 292 years on).
	rare := mustCompile(t, CalendarSpec{Key: "x", Timezone: "Europe/Berlin", Hours: map[string][]string{"sun": {"02:00-03:00"}}})
	if due, ok := rare.AddChecked(from, MaxDuration); ok {
		t.Fatalf("rare calendar: %v", due)
	}
	if due, ok := rare.AddChecked(from, 2*time.Hour); !ok || !due.Equal(rare.Add(from, 2*time.Hour)) {
		t.Fatalf("rare calendar, 2h: %v %v", due, ok)
	}
	always := mustCompile(t, CalendarSpec{Key: "x", Timezone: "UTC", Always: true})
	late := time.Date(9999, 6, 1, 0, 0, 0, 0, time.UTC)
	if due, ok := always.AddChecked(late, 365*24*time.Hour); ok {
		t.Fatalf("past the year 9999: %v", due)
	}
}
