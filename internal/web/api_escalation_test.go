package web

import (
	"fmt"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

// TestEscalationAPI escalates a case by hand, lists it, acknowledges it as
// each role, and checks that the case's PATCH no longer sets the level.
func TestEscalationAPI(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		ref := e.newCase("")
		if r := e.do("agent", "POST", "/api/v1/cases/"+ref+"/escalations", map[string]any{"level": 2}); r.status != 422 ||
			!strings.Contains(string(r.body), `"reason"`) {
			t.Fatalf("escalate without a reason: %d %s", r.status, r.body)
		}
		r := e.do("agent", "POST", "/api/v1/cases/"+ref+"/escalations", map[string]any{"reason": "Seller's flagship order lost", "level": 3})
		if r.status != 201 {
			t.Fatalf("escalate: %d %s", r.status, r.body)
		}
		esc := r.json(t)
		id := int64(esc["id"].(float64))
		if esc["level"] != 3.0 || esc["state"] != "open" || esc["reason"] != "Seller's flagship order lost" || esc["level_name"] != "L3 Specialist team / team lead" {
			t.Fatalf("escalation: %v", esc)
		}
		if c := e.do("admin", "GET", "/api/v1/cases/"+ref, nil).json(t); c["escalation_level"] != 3.0 {
			t.Fatalf("case level %v", c["escalation_level"])
		}
		list := e.do("lead", "GET", "/api/v1/escalations?state=open", nil).json(t)
		if items := list["escalations"].([]any); len(items) != 1 || items[0].(map[string]any)["case"] != ref {
			t.Fatalf("open escalations: %v", list)
		}
		if r := e.do("lead", "GET", "/api/v1/escalations?state=later&colour=red", nil); r.status != 422 ||
			!strings.Contains(string(r.body), "colour") || !strings.Contains(string(r.body), "later") {
			t.Fatalf("bad filters: %d %s", r.status, r.body)
		}

		// The level is not PATCHed any more: a 422 that says where to go.
		if r := e.do("admin", "PATCH", "/api/v1/cases/"+ref, map[string]any{"escalation_level": 5}); r.status != 422 ||
			!strings.Contains(string(r.body), "/api/v1/cases/"+ref+"/escalations") {
			t.Fatalf("PATCH escalation_level: %d %s", r.status, r.body)
		}

		ack := fmt.Sprintf("/api/v1/cases/%s/escalations/%d/ack", ref, id)
		for role, want := range map[string]int{"anonymous": 401, "account_manager": 403, "qa": 403, "viewer": 403} {
			if r := e.do(role, "POST", ack, nil); r.status != want {
				t.Errorf("ack as %s: %d, want %d: %s", role, r.status, want, r.body)
			}
		}
		if r := e.do("agent", "POST", fmt.Sprintf("/api/v1/cases/%s/escalations/%d/ack", e.newCase(""), id), nil); r.status != 404 {
			t.Errorf("ack through another case: %d", r.status)
		}
		if r := e.do("agent", "POST", ack, map[string]any{"by": "me"}); r.status != 400 {
			t.Errorf("ack with an unknown member: %d", r.status)
		}
		r = e.do("agent", "POST", ack, nil)
		if got := r.json(t); r.status != 200 || got["state"] != "acknowledged" || got["acked_by"] != "priya.shah@flare.example" || got["due_at"] != nil {
			t.Fatalf("ack: %d %v", r.status, got)
		}
		if r := e.do("lead", "POST", ack, map[string]any{}); r.status != 409 {
			t.Errorf("second ack: %d %s", r.status, r.body)
		}
		v := e.do("viewer", "GET", "/api/v1/cases/"+ref+"/escalations", nil).json(t)
		if v["level"] != 3.0 || len(v["levels"].([]any)) != 5 || len(v["escalations"].([]any)) != 1 {
			t.Fatalf("case escalations: %v", v)
		}
		r = e.do("lead", "POST", "/api/v1/cases/"+ref+"/deescalate", map[string]any{"reason": "Parcel found", "level": 1})
		if got := r.json(t); r.status != 200 || got["level"] != 1.0 ||
			got["escalations"].([]any)[0].(map[string]any)["state"] != "closed" {
			t.Fatalf("deescalate: %d %v", r.status, got)
		}
	})
}
