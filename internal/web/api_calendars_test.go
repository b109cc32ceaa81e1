package web

import (
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

// Durations and ranges beyond the 3660-day bound are a 422 naming the
// field, not an instant centuries away or an overflowed sum.
func TestCalendarAPIRefusesAbsurdSpans(t *testing.T) {
	e := newAPIEnv(t, dbtest.SQLite(t, app.Migrate))
	const from = "2026-12-23T17:30:00Z"
	for _, add := range []string{"3661d", "100000d", "200000d", "99999999999999999999d", "87841h"} {
		r := e.do("agent", "GET", "/api/v1/calendars/emea_business/due?from="+from+"&add="+add, nil)
		if r.status != 422 || !strings.Contains(string(r.body), `"field":"add"`) || !strings.Contains(string(r.body), "at most 3660d") {
			t.Fatalf("add=%s: %d %s", add, r.status, r.body)
		}
	}
	// The bound itself is answered: ten years of 45-hour weeks.
	r := e.do("agent", "GET", "/api/v1/calendars/emea_business/due?from="+from+"&add=3660d", nil)
	if due, _ := r.json(t)["due"].(string); r.status != 200 || due < "2060" || due > "2070" {
		t.Fatalf("add=3660d: %d %s", r.status, r.body)
	}
	// A 24/7 calendar cannot run past the year 9999.
	r = e.do("agent", "GET", "/api/v1/calendars/follow_the_sun/due?from=9999-06-01T00:00:00Z&add=365d", nil)
	if r.status != 422 || !strings.Contains(string(r.body), `"field":"add"`) {
		t.Fatalf("due after 9999: %d %s", r.status, r.body)
	}

	for _, tc := range []struct{ from, to, want string }{
		{"0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "at most 3660d after from"},
		{from, "2036-12-30T17:30:01Z", "at most 3660d after from"},
		{from, "2026-12-23T17:29:59Z", "must not be before from"},
	} {
		r := e.do("agent", "GET", "/api/v1/calendars/emea_business/between?from="+tc.from+"&to="+tc.to, nil)
		if r.status != 422 || !strings.Contains(string(r.body), `"field":"to"`) || !strings.Contains(string(r.body), tc.want) {
			t.Fatalf("between %s and %s: %d %s", tc.from, tc.to, r.status, r.body)
		}
	}
	r = e.do("agent", "GET", "/api/v1/calendars/follow_the_sun/between?from="+from+"&to=2036-12-30T17:30:00Z", nil)
	if r.status != 200 || r.json(t)["business"] != "87840h0m0s" {
		t.Fatalf("between at the bound: %d %s", r.status, r.body)
	}
}
