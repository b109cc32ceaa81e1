package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/handoffs"
)

// ownedCase creates a case as Flare and gives it to owner; it returns its number.
func (e *apiEnv) ownedCase(in cases.CreateInput, owner string) string {
	e.t.Helper()
	ctx := context.Background()
	c, err := e.app.Cases.Create(ctx, auth.System("test"), in, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.app.Cases.Update(ctx, auth.System("test"), c.Number, cases.UpdateInput{Owner: &owner}); err != nil {
		e.t.Fatal(err)
	}
	return c.Number
}

func governanceCase() cases.CreateInput {
	return cases.CreateInput{Title: "Seller suspended for late shipments", Category: "governance/account_suspension",
		Market: "GB", Fields: map[string]any{"policy": "late_shipment_rate"}}
}

func lostParcelCase() cases.CreateInput {
	return cases.CreateInput{Title: "Parcel lost", Category: "logistics/lost_parcel", Market: "GB", SellerID: "S-1001",
		Fields: map[string]any{"order_id": "ORD-1"}}
}

// A handoff's round trip over the API: ask, queue, accept, answer, complete.
func TestHandoffAPIRoundTrip(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		ref := e.ownedCase(governanceCase(), "amelia.clarke@flare.example")
		body := map[string]any{"team": "logistics", "request": "Confirm the carrier scans for the late orders."}
		r := e.do("admin", "POST", "/api/v1/cases/"+ref+"/handoffs", body, "Idempotency-Key", "h-1")
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		h := r.json(t)
		id := strconv.Itoa(int(h["id"].(float64)))
		// Monday 09:00 London + 4 business hours on emea_business.
		if h["status"] != "open" || h["due_at"] != "2026-11-02T13:00:00Z" || h["to_team"] != "logistics" ||
			h["from_team"] != "governance" || h["hold"] != true || r.header.Get("Location") != "/api/v1/handoffs/"+id {
			t.Fatalf("created: %s %v", r.body, r.header)
		}
		again := e.do("admin", "POST", "/api/v1/cases/"+ref+"/handoffs", body, "Idempotency-Key", "h-1")
		if again.status != 201 || !bytes.Equal(again.body, r.body) || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay: %d %s", again.status, again.body)
		}
		if c := e.do("admin", "GET", "/api/v1/cases/"+ref, nil).json(t); c["status"] != "pending_internal" || c["owner"] != "amelia.clarke@flare.example" {
			t.Fatalf("case: %v %v", c["status"], c["owner"])
		}
		// The logistics agent cannot open the governance case, but has it in the team's queue.
		if r := e.do("agent", "GET", "/api/v1/cases/"+ref, nil); r.status != 404 {
			t.Fatalf("agent reads the case: %d", r.status)
		}
		r = e.do("agent", "GET", "/api/v1/handoffs?team=logistics&status=active", nil)
		if r.status != 200 || !strings.Contains(string(r.body), `"case":"`+ref+`"`) || !strings.Contains(string(r.body), `"case_title":"Seller suspended`) {
			t.Fatalf("queue: %d %s", r.status, r.body)
		}
		e.app.Clock.(*clock.Fake).Advance(20 * time.Minute)
		if r := e.do("agent", "POST", "/api/v1/handoffs/"+id+"/accept", nil); r.status != 200 || r.json(t)["status"] != "accepted" {
			t.Fatalf("accept: %d %s", r.status, r.body)
		}
		r = e.do("agent", "POST", "/api/v1/handoffs/"+id+"/accept", nil)
		if r.status != 409 || r.header.Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(string(r.body), `"allowed":["answer","complete","decline","cancel"]`) {
			t.Fatalf("accept twice: %d %s", r.status, r.body)
		}
		if r := e.do("agent", "POST", "/api/v1/handoffs/"+id+"/answer", map[string]any{"answer": " "}); r.status != 422 ||
			!strings.Contains(string(r.body), `"field":"answer"`) {
			t.Fatalf("empty answer: %d %s", r.status, r.body)
		}
		r = e.do("agent", "POST", "/api/v1/handoffs/"+id+"/answer", map[string]any{"answer": "12 of 14 scanned."})
		if r.status != 200 || r.json(t)["status"] != "accepted" || r.json(t)["unread"] != true {
			t.Fatalf("answer: %d %s", r.status, r.body)
		}
		if r := e.do("admin", "GET", "/api/v1/handoffs?owner=me&unread=true", nil); !strings.Contains(string(r.body), `"id":`+id) {
			t.Fatalf("owner's unread: %s", r.body)
		}
		e.app.Clock.(*clock.Fake).Advance(time.Hour)
		r = e.do("agent", "POST", "/api/v1/handoffs/"+id+"/complete", map[string]any{"answer": "All 14 delivered."})
		if r.status != 200 || r.json(t)["status"] != "completed" || r.json(t)["answer"] != "All 14 delivered." {
			t.Fatalf("complete: %d %s", r.status, r.body)
		}
		if r := e.do("agent", "POST", "/api/v1/handoffs/"+id+"/decline", map[string]any{"reason": "late"}); r.status != 409 ||
			!strings.Contains(string(r.body), "nothing more can be done") {
			t.Fatalf("decline a completed handoff: %d %s", r.status, r.body)
		}
		if c := e.do("admin", "GET", "/api/v1/cases/"+ref, nil).json(t); c["status"] != "open" {
			t.Fatalf("case after completion: %v", c["status"])
		}
		r = e.do("agent", "GET", "/api/v1/handoffs/"+id, nil)
		if r.status != 200 || strings.Count(string(r.body), `"type":"handoff_`) != 4 {
			t.Fatalf("get with history: %d %s", r.status, r.body)
		}
		r = e.do("admin", "GET", "/api/v1/cases/"+ref+"/handoffs", nil)
		if r.status != 200 || strings.Count(string(r.body), `"status":"completed"`) != 1 {
			t.Fatalf("case handoffs: %d %s", r.status, r.body)
		}
		r = e.do("lead", "GET", "/api/v1/handoffs/stats?from=2026-11-01T00:00:00Z&to=2026-11-03T00:00:00Z", nil)
		if r.status != 200 || !strings.Contains(string(r.body), `"team":"logistics","team_name":"Logistics","requested":1,"completed":1`) ||
			!strings.Contains(string(r.body), `"wait_median_hours":1.33`) {
			t.Fatalf("stats: %d %s", r.status, r.body)
		}
		r = e.do("admin", "GET", "/api/v1/cases/"+ref+"/events", nil)
		for _, typ := range []string{"handoff_requested", "handoff_accepted", "handoff_answered", "handoff_completed"} {
			if !strings.Contains(string(r.body), `"type":"`+typ+`"`) {
				t.Fatalf("timeline lacks %s: %s", typ, r.body)
			}
		}
	})
}

// Each handoff endpoint against each role.
func TestHandoffEndpointRoles(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		roles := []string{"admin", "lead", "agent", "account_manager", "qa", "viewer", "anonymous"}
		// A lost parcel case (logistics, seller S-1001: the agent and the
		// account manager see it) asking payments (the lead is a member).
		newHandoff := func() (string, string) {
			ref := e.ownedCase(lostParcelCase(), "priya.shah@flare.example")
			h, err := e.app.Handoffs.Create(context.Background(), auth.System("test"), ref,
				handoffs.Input{Team: "payments", Request: "Is a payout held?"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return ref, strconv.FormatInt(h.ID, 10)
		}
		type row struct {
			name, method, path string // {case} and {id} are replaced
			body               any
			want               []int
		}
		ask := map[string]any{"team": "payments", "request": "Is a payout held?"}
		rows := []row{
			{"create", "POST", "/api/v1/cases/{case}/handoffs", ask, []int{201, 201, 201, 403, 403, 403, 401}},
			{"case list", "GET", "/api/v1/cases/{case}/handoffs", nil, []int{200, 200, 200, 200, 200, 200, 401}},
			// Account managers never see handoffs (the desk's internal work): the
			// case's list is empty for them, the rest is not there.
			{"list", "GET", "/api/v1/handoffs?team=payments", nil, []int{200, 200, 200, 403, 200, 200, 401}},
			{"get", "GET", "/api/v1/handoffs/{id}", nil, []int{200, 200, 200, 404, 200, 200, 401}},
			{"accept", "POST", "/api/v1/handoffs/{id}/accept", nil, []int{200, 200, 403, 404, 403, 403, 401}},
			{"answer", "POST", "/api/v1/handoffs/{id}/answer", map[string]any{"answer": "yes"}, []int{200, 200, 403, 404, 403, 403, 401}},
			{"complete", "POST", "/api/v1/handoffs/{id}/complete", map[string]any{"answer": "yes"}, []int{200, 200, 403, 404, 403, 403, 401}},
			{"decline", "POST", "/api/v1/handoffs/{id}/decline", map[string]any{"reason": "no"}, []int{200, 200, 403, 404, 403, 403, 401}},
			{"cancel", "POST", "/api/v1/handoffs/{id}/cancel", map[string]any{}, []int{200, 200, 200, 404, 403, 403, 401}},
			{"stats", "GET", "/api/v1/handoffs/stats", nil, []int{200, 200, 200, 403, 200, 200, 401}},
		}
		for _, r := range rows {
			for i, role := range roles {
				ref, id := newHandoff()
				got := e.do(role, r.method, strings.NewReplacer("{case}", ref, "{id}", id).Replace(r.path), r.body)
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

// Bad input is a 4xx problem naming the field, and writes nothing.
func TestHandoffBadInput(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		ref := e.ownedCase(governanceCase(), "amelia.clarke@flare.example")
		closed := e.ownedCase(lostParcelCase(), "priya.shah@flare.example")
		h, err := e.app.Handoffs.Create(context.Background(), auth.System("test"), ref,
			handoffs.Input{Team: "logistics", Request: "Carrier scans"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.app.Cases.Transition(context.Background(), auth.System("test"), closed,
			cases.TransitionInput{To: cases.StatusResolved, Resolution: "fixed", Note: "done"}); err != nil {
			t.Fatal(err)
		}
		id := strconv.FormatInt(h.ID, 10)
		create := "/api/v1/cases/" + ref + "/handoffs"
		tests := []struct {
			name, method, path string
			body               any
			hdr                []string
			status             int
			field              string
		}{
			{"malformed", "POST", create, `{"team": `, nil, 400, ""},
			{"unknown field", "POST", create, `{"team":"logistics","request":"x","colour":"red"}`, nil, 400, "colour"},
			{"wrong type", "POST", create, `{"team":"logistics","request":"x","hold":"yes"}`, nil, 400, "hold"},
			{"form body", "POST", create, `team=logistics`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, ""},
			{"unknown team", "POST", create, `{"team":"warehouse","request":"x"}`, nil, 422, "team"},
			{"own team", "POST", create, `{"team":"governance","request":"x"}`, nil, 422, "team"},
			{"no request", "POST", create, `{"team":"logistics","request":"  "}`, nil, 422, "request"},
			{"due in the past", "POST", create, `{"team":"logistics","request":"x","due_at":"2026-11-01T09:00:00Z"}`, nil, 422, "due_at"},
			{"due garbage", "POST", create, `{"team":"logistics","request":"x","due_at":"friday"}`, nil, 422, "due_at"},
			{"due twice", "POST", create, `{"team":"logistics","request":"x","due_at":"2026-11-05T09:00:00Z","due_within":"2h"}`, nil, 422, "due_within"},
			{"resolved case", "POST", "/api/v1/cases/" + closed + "/handoffs", `{"team":"payments","request":"x"}`, nil, 409, ""},
			{"missing case", "POST", "/api/v1/cases/ESC-9999/handoffs", `{"team":"payments","request":"x"}`, nil, 404, ""},
			{"accept with a body field", "POST", "/api/v1/handoffs/" + id + "/accept", `{"note":"hi"}`, nil, 400, "note"},
			{"decline without a reason", "POST", "/api/v1/handoffs/" + id + "/decline", `{}`, nil, 422, "reason"},
			{"decline without a body", "POST", "/api/v1/handoffs/" + id + "/decline", ``, nil, 400, ""},
			{"answer as a reason", "POST", "/api/v1/handoffs/" + id + "/answer", `{"reason":"x"}`, nil, 400, "reason"},
			{"no such handoff", "POST", "/api/v1/handoffs/99999/accept", nil, nil, 404, ""},
			{"garbage id", "GET", "/api/v1/handoffs/abc", nil, nil, 404, ""},
			{"bad filter", "GET", "/api/v1/handoffs?status=done&unread=maybe&colour=red&limit=0", nil, nil, 422, "status"},
			{"bad stats period", "GET", "/api/v1/handoffs/stats?from=2026-11-03T00:00:00Z&to=2026-11-01T00:00:00Z", nil, nil, 422, "to"},
			{"bad stats instant", "GET", "/api/v1/handoffs/stats?from=monday", nil, nil, 422, "from"},
			{"wrong method", "DELETE", "/api/v1/handoffs/" + id, nil, nil, 405, ""},
		}
		count := func() string {
			var out []string
			for _, table := range []string{"handoffs", "case_events", "audit_log", "idempotency_keys"} {
				var n int
				if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
					t.Fatal(err)
				}
				out = append(out, fmt.Sprintf("%s=%d", table, n))
			}
			return strings.Join(out, " ")
		}
		before := count()
		for _, c := range tests {
			r := e.do("admin", c.method, c.path, c.body, c.hdr...)
			if r.status != c.status {
				t.Errorf("%s: %d, want %d: %.300s", c.name, r.status, c.status, r.body)
				continue
			}
			p := r.json(t)
			if r.header.Get("Content-Type") != "application/problem+json" || p["title"] == "" || int(p["status"].(float64)) != c.status {
				t.Errorf("%s: not a problem document: %s", c.name, r.body)
			}
			if c.field != "" && !strings.Contains(string(r.body), `"field":"`+c.field+`"`) {
				t.Errorf("%s: problem does not name field %s: %s", c.name, c.field, r.body)
			}
		}
		if after := count(); after != before {
			t.Fatalf("bad requests wrote rows: before %v after %v", before, after)
		}
	})
}

// The handoff pages and forms over plain HTTP: refusals re-render the page
// with the reason and the user's input, and nothing is written.
func TestHandoffPagesHTTP(t *testing.T) {
	e := newUIEnv(t)
	ctx := context.Background()
	sys := auth.System("test")
	c, err := e.app.Cases.Create(ctx, sys, cases.CreateInput{Title: "Seller suspended in error", Category: "governance/account_suspension",
		Market: "GB"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	owner := uiTestEmail
	if _, err := e.app.Cases.Update(ctx, sys, c.Number, cases.UpdateInput{Owner: &owner}); err != nil {
		t.Fatal(err)
	}
	cl := e.client(t)
	if resp, _ := e.get(t, cl, "/handoffs"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Fhandoffs" {
		t.Fatalf("signed out: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	e.signIn(t, cl, "/cases")

	// An empty request: the case page again, 422, the message and the chosen team kept.
	resp, body := e.postForm(t, cl, "/cases/"+c.Number+"/handoffs", url.Values{"team": {"payments"}, "request": {" "},
		"hold_shown": {"1"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="handoff-error"`) ||
		!strings.Contains(body, "Request: is required.") || !strings.Contains(body, `<option value="payments" selected>`) ||
		strings.Contains(body, `id="handoff-hold" checked`) {
		t.Fatalf("invalid ask: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = e.postForm(t, cl, "/cases/"+c.Number+"/handoffs", url.Values{"team": {"payments"}, "request": {"Is a payout held?"},
		"due_at": {"2020-01-01T10:00"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("due in the past: %d", resp.StatusCode)
	}
	if hs, _ := e.app.Handoffs.ForCase(ctx, e.lead, c.Number); len(hs) != 0 {
		t.Fatalf("refused forms wrote %d handoffs", len(hs))
	}
	resp, _ = e.postForm(t, cl, "/cases/"+c.Number+"/handoffs", url.Values{"team": {"payments"}, "request": {"Is a payout held?"},
		"due_within": {"2h"}, "hold_shown": {"1"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/cases/"+c.Number {
		t.Fatalf("ask: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	hs, err := e.app.Handoffs.ForCase(ctx, e.lead, c.Number)
	if err != nil || len(hs) != 1 || hs[0].Hold || !hs[0].DueAt.Equal(hs[0].CreatedAt.Add(2*time.Hour)) {
		t.Fatalf("asked with the hold unticked, due within 2h: %+v %v", hs, err)
	}
	id := strconv.FormatInt(hs[0].ID, 10)

	// Declining without a reason from the case page: the case page with the reason why.
	resp, body = e.postForm(t, cl, "/handoffs/"+id, url.Values{"action": {"decline"}, "id": {id}, "next": {"/cases/" + c.Number + "#handoffs"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="handoff-error"`) || !strings.Contains(body, "reason") ||
		!strings.Contains(body, `<details class="ho-respond" open>`) {
		t.Fatalf("decline without a reason: %d\n%s", resp.StatusCode, body)
	}
	// A refused action from the handoff's page: that page with the reason; an off-site next is ignored.
	resp, _ = e.postForm(t, cl, "/handoffs/"+id, url.Values{"action": {"cancel"}, "next": {"https://evil.example/"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/cases" {
		t.Fatalf("cancel with an off-site next: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = e.postForm(t, cl, "/handoffs/"+id, url.Values{"action": {"accept"}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, `id="handoff-error"`) || !strings.Contains(body, "cancelled") {
		t.Fatalf("accept a cancelled handoff: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = e.postForm(t, cl, "/handoffs/"+id, url.Values{"action": {"explode"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("unknown action: %d", resp.StatusCode)
	}
	for path, want := range map[string]int{"/handoffs": 200, "/handoffs?view=mine": 200, "/handoffs?status=all&team=payments": 200,
		"/handoffs?team=warehouse": 400, "/handoffs/" + id: 200, "/handoffs/999": 404, "/handoffs/x": 404} {
		if resp, body := e.get(t, cl, path); resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d\n%.400s", path, resp.StatusCode, want, body)
		}
	}
	if resp, _ := e.get(t, cl, "/cases/"+c.Number+"/handoffs"); resp.StatusCode != http.StatusSeeOther ||
		resp.Header.Get("Location") != "/cases/"+c.Number+"#handoffs" {
		t.Fatalf("GET of the form address: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}
