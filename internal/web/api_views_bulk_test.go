package web

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

// countViews is countRows with the saved views.
func countViews(t *testing.T, d *db.DB) string {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM saved_views").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s saved_views=%d", countRows(t, d), n)
}

// wantProblem fails unless r is a problem document with status and, when
// field is not empty, an error for that field.
func wantProblem(t *testing.T, name string, r reply, status int, field string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: %d, want %d: %.300s", name, r.status, status, r.body)
		return
	}
	if r.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("%s: not problem JSON: %s", name, r.body)
	}
	if field != "" && !strings.Contains(string(r.body), `"field":"`+field+`"`) {
		t.Errorf("%s: the problem does not name %s: %s", name, field, r.body)
	}
}

func TestSavedViewsAPI(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		for i := 0; i < 3; i++ {
			e.newCase("")
		}
		// The lead (logistics) shares a view with logistics; the agent (a
		// member) sees it with its count but may not change it.
		r := e.do("lead", "POST", "/api/v1/views", map[string]any{"name": "GB parcels", "shared_team": "logistics",
			"filter": map[string]any{"market": []string{"gb"}, "status": []string{"new", "open"}, "sort": "priority"}})
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		v := r.json(t)
		id := int(v["id"].(float64))
		if v["count"].(float64) < 3 || v["mine"] != true || v["shared_team"] != "logistics" {
			t.Fatalf("created: %s", r.body)
		}
		path := fmt.Sprintf("/api/v1/views/%d", id)
		r = e.do("agent", "GET", "/api/v1/views", nil)
		if r.status != 200 || !strings.Contains(string(r.body), `"name":"GB parcels"`) || !strings.Contains(string(r.body), `"mine":false`) {
			t.Fatalf("the agent's views: %d %s", r.status, r.body)
		}
		wantProblem(t, "a teammate changes it", e.do("agent", "PUT", path, map[string]any{"name": "Mine now"}), 403, "")
		wantProblem(t, "a teammate deletes it", e.do("agent", "DELETE", path, nil), 403, "")
		// Outside the team it does not exist.
		wantProblem(t, "another team reads it", e.do("account_manager", "GET", path, nil), 404, "")
		if r := e.do("account_manager", "GET", "/api/v1/views", nil); strings.Contains(string(r.body), "GB parcels") {
			t.Fatalf("another team lists it: %s", r.body)
		}

		// Bad input: a 4xx problem naming the field, and nothing written.
		before := countViews(t, d)
		for _, c := range []struct {
			name, method, path string
			body               any
			status             int
			field              string
		}{
			{"no name", "POST", "/api/v1/views", map[string]any{"name": " "}, 422, "name"},
			{"unknown status", "POST", "/api/v1/views", map[string]any{"name": "x", "filter": map[string]any{"status": []string{"done"}}}, 422, "filter.status"},
			{"unknown team", "POST", "/api/v1/views", map[string]any{"name": "x", "filter": map[string]any{"team": []string{"nope"}}}, 422, "filter.team"},
			{"bad sort", "POST", "/api/v1/views", map[string]any{"name": "x", "filter": map[string]any{"sort": "colour"}}, 422, "filter.sort"},
			{"shared with a team not one's own", "POST", "/api/v1/views", map[string]any{"name": "x", "shared_team": "trust_safety"}, 422, "shared_team"},
			{"unknown field", "POST", "/api/v1/views", `{"name":"x","colour":"red"}`, 400, "colour"},
			{"unknown filter field", "POST", "/api/v1/views", `{"name":"x","filter":{"colour":"red"}}`, 400, ""},
			{"malformed", "POST", "/api/v1/views", `{"name":`, 400, ""},
			{"update bad filter", "PUT", path, map[string]any{"name": "x", "filter": map[string]any{"priority": []string{"P9"}}}, 422, "filter.priority"},
			{"update no name", "PUT", path, map[string]any{"name": ""}, 422, "name"},
			{"id not a number", "GET", "/api/v1/views/abc", nil, 404, ""},
			{"id zero", "DELETE", "/api/v1/views/0", nil, 404, ""},
		} {
			wantProblem(t, c.name, e.do("lead", c.method, c.path, c.body), c.status, c.field)
		}
		if after := countViews(t, d); after != before {
			t.Fatalf("bad requests wrote rows: before %s after %s", before, after)
		}

		// The owner changes and deletes it; every write is audited.
		r = e.do("lead", "PUT", path, map[string]any{"name": "GB P1", "shared_team": "logistics", "filter": map[string]any{"priority": []string{"P1"}}})
		if r.status != 200 || r.json(t)["name"] != "GB P1" {
			t.Fatalf("update: %d %s", r.status, r.body)
		}
		if r := e.do("lead", "DELETE", path, nil); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		wantProblem(t, "deleted", e.do("lead", "GET", path, nil), 404, "")
		r = e.do("admin", "GET", fmt.Sprintf("/api/v1/audit?object_type=saved_view&object_id=%d", id), nil)
		body := string(r.body)
		if r.status != 200 || strings.Count(body, `"seq"`) != 3 || !strings.Contains(body, `"action":"view.create"`) ||
			!strings.Contains(body, `"action":"view.update"`) || !strings.Contains(body, `"action":"view.delete"`) {
			t.Fatalf("audit of the view: %d %s", r.status, body)
		}
	})
}

func TestBulkAPI(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		open := []string{e.newCase(""), e.newCase(""), e.newCase("")}
		restricted := e.newCase("restricted") // payments: not the agent's to see

		// Bad requests as a whole: a 4xx problem, and no case touched.
		many := make([]string, 501)
		for i := range many {
			many[i] = open[0]
		}
		before := countRows(t, d)
		for _, c := range []struct {
			name   string
			body   any
			status int
			field  string
		}{
			{"unknown action", map[string]any{"cases": open, "action": "delete"}, 422, "action"},
			{"no cases", map[string]any{"cases": []string{}, "action": "tag", "tags": []string{"x"}}, 422, "cases"},
			{"too many cases", map[string]any{"cases": many, "action": "tag", "tags": []string{"x"}}, 422, "cases"},
			{"a blank case", map[string]any{"cases": []string{open[0], " "}, "action": "tag", "tags": []string{"x"}}, 422, "cases[1]"},
			{"assign without owner", map[string]any{"cases": open, "action": "assign"}, 422, "owner"},
			{"tag without tags", map[string]any{"cases": open, "action": "tag"}, 422, "tags"},
			{"unknown status", map[string]any{"cases": open, "action": "status", "to": "done"}, 422, "to"},
			{"priority without priority", map[string]any{"cases": open, "action": "priority"}, 422, "priority"},
			{"link without incident", map[string]any{"cases": open, "action": "link_incident"}, 422, "incident"},
			{"unknown field", `{"cases":["ESC-1"],"action":"tag","tags":["x"],"colour":"red"}`, 400, "colour"},
			{"wrong type", `{"cases":"ESC-1","action":"tag"}`, 400, "cases"},
			{"malformed", `{"cases":[`, 400, ""},
		} {
			wantProblem(t, c.name, e.do("agent", "POST", "/api/v1/cases/bulk", c.body), c.status, c.field)
		}
		if after := countRows(t, d); after != before {
			t.Fatalf("bad bulk requests wrote rows: before %s after %s", before, after)
		}

		// A refused case among accepted ones: the others change, the
		// refused one is named with why, and is not written to.
		restrictedBefore := e.do("admin", "GET", "/api/v1/cases/"+restricted+"/events", nil).body
		r := e.do("agent", "POST", "/api/v1/cases/bulk", map[string]any{"cases": append([]string{restricted}, open...),
			"action": "assign", "owner": "me"})
		res := r.json(t)
		if r.status != 200 || res["changed"].(float64) != 3 || res["refused"].(float64) != 1 {
			t.Fatalf("assign: %d %s", r.status, r.body)
		}
		outs := res["outcomes"].([]any)
		if o := outs[0].(map[string]any); o["changed"] != false || o["status"].(float64) != 404 {
			t.Fatalf("the restricted case's outcome: %v", o)
		}
		if want := "3 cases assigned; 1 refused (" + restricted + ": no such case, or not one you can see)."; res["summary"] != want {
			t.Fatalf("summary %q, want %q", res["summary"], want)
		}
		for _, ref := range open {
			if c := e.do("agent", "GET", "/api/v1/cases/"+ref, nil).json(t); c["owner"] != "priya.shah@flare.example" {
				t.Fatalf("%s owner %v", ref, c["owner"])
			}
		}
		if after := e.do("admin", "GET", "/api/v1/cases/"+restricted+"/events", nil).body; string(after) != string(restrictedBefore) {
			t.Fatal("the refused case was written to")
		}

		// Tag twice: the second time the tagged cases are unchanged.
		r = e.do("agent", "POST", "/api/v1/cases/bulk", map[string]any{"cases": open[:2], "action": "tag", "tags": []string{"recall"}})
		if res := r.json(t); r.status != 200 || res["changed"].(float64) != 2 {
			t.Fatalf("tag: %d %s", r.status, r.body)
		}
		r = e.do("agent", "POST", "/api/v1/cases/bulk", map[string]any{"cases": open, "action": "tag", "tags": []string{"recall"}})
		res = r.json(t)
		if r.status != 200 || res["changed"].(float64) != 1 || res["unchanged"].(float64) != 2 || res["refused"].(float64) != 0 {
			t.Fatalf("tag again: %d %s", r.status, r.body)
		}
	})
}
