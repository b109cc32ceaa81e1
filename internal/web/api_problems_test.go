package web

import (
	"fmt"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

// TestProblemEndpointRoles is the role table of the problems API (its own
// server: TestEndpointRoles' is near the per-address burst limit).
// Problems are internal to the desk (not account managers); changing them
// takes case.write.
func TestProblemEndpointRoles(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		roles := []string{"admin", "lead", "agent", "account_manager", "qa", "viewer", "anonymous"}
		rows := []struct {
			name, method, path string // %s is replaced by a fresh case's number
			body               any
			want               []int
		}{
			{"similar cases", "GET", "/api/v1/cases/%s/similar", nil, []int{200, 200, 200, 403, 200, 200, 401}},
			{"suggestion", "GET", "/api/v1/cases/%s/suggestion", nil, []int{200, 200, 200, 200, 200, 200, 401}},
			{"accept suggestion", "POST", "/api/v1/cases/%s/suggestion/accept", map[string]any{}, []int{409, 409, 409, 403, 403, 403, 401}},
			{"problems", "GET", "/api/v1/problems?status=investigating", nil, []int{200, 200, 200, 403, 200, 200, 401}},
			{"problem create", "POST", "/api/v1/problems", map[string]any{"title": "Chargers melting"}, []int{201, 201, 201, 403, 403, 403, 401}},
			{"problem review", "GET", "/api/v1/problems/review?from=2026-10-01", nil, []int{200, 200, 200, 403, 200, 200, 401}},
			{"problem get", "GET", "/api/v1/problems/999999", nil, []int{404, 404, 404, 403, 404, 404, 401}},
			{"problem patch", "PATCH", "/api/v1/problems/999999", map[string]any{"title": "y"}, []int{404, 404, 404, 403, 403, 403, 401}},
			{"problem link", "POST", "/api/v1/problems/999999/cases", map[string]any{"case": "ESC-1"}, []int{404, 404, 404, 403, 403, 403, 401}},
			{"problem unlink", "DELETE", "/api/v1/problems/999999/cases/%s", nil, []int{404, 404, 404, 403, 403, 403, 401}},
		}
		for _, r := range rows {
			for i, role := range roles {
				path := r.path
				if strings.Contains(path, "%s") {
					path = fmt.Sprintf(path, e.newCase(""))
				}
				got := e.do(role, r.method, path, r.body)
				if got.status != r.want[i] {
					t.Errorf("%s as %s: %d, want %d: %s", r.name, role, got.status, r.want[i], got.body)
				}
				if got.status >= 400 && got.header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("%s as %s: error is not problem JSON", r.name, role)
				}
			}
		}
	})
}

// A problem made from similar cases through the API, linked and changed.
func TestProblemAPI(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		a, b := e.newCase(""), e.newCase("")
		r := e.do("agent", "GET", "/api/v1/cases/"+a+"/similar", nil)
		if r.status != 200 || !strings.Contains(string(r.body), `"case":"`+b+`"`) {
			t.Fatalf("similar: %d %s", r.status, r.body)
		}
		r = e.do("agent", "POST", "/api/v1/problems", map[string]any{"title": "Parcels lost at the hub", "cases": []string{a, b}})
		if r.status != 201 || r.header.Get("Location") == "" {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		loc := strings.TrimPrefix(r.header.Get("Location"), "/api/v1")
		r = e.do("agent", "PATCH", "/api/v1"+loc, map[string]any{"status": "known_error"})
		if r.status != 422 || !strings.Contains(string(r.body), "root_cause") {
			t.Fatalf("known error without cause: %d %s", r.status, r.body)
		}
		r = e.do("agent", "PATCH", "/api/v1"+loc, map[string]any{"status": "known_error", "root_cause": "Hub scanner down"})
		if r.status != 200 || !strings.Contains(string(r.body), `"status":"known_error"`) {
			t.Fatalf("known error: %d %s", r.status, r.body)
		}
		r = e.do("agent", "GET", "/api/v1/cases/"+a+"/similar", nil)
		if !strings.Contains(string(r.body), `"problem":{"id":1`) {
			t.Errorf("similar names the problem: %s", r.body)
		}
		if r := e.do("agent", "POST", "/api/v1/problems", map[string]any{"title": "Other", "cases": []string{a}}); r.status != 409 {
			t.Errorf("a case in two problems: %d %s", r.status, r.body)
		}
		if r := e.do("agent", "DELETE", "/api/v1"+loc+"/cases/"+a, nil); r.status != 200 || !strings.Contains(string(r.body), `"case_count":1`) {
			t.Errorf("unlink: %d %s", r.status, r.body)
		}
		if r := e.do("agent", "GET", "/api/v1/problems?status=nope", nil); r.status != 400 && r.status != 422 {
			t.Errorf("bad status filter: %d", r.status)
		}
	})
}
