package web

import (
	"context"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/handoffs"
)

// Account managers see the public side of their sellers' cases: status,
// public replies and the resolution — not internal notes, handoffs or the
// desk's workflow entries. And they cannot raise a case they could not see.
func TestAccountManagerSeesThePublicSide(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		ctx := context.Background()
		ref := e.ownedCase(lostParcelCase(), "priya.shah@flare.example") // seller S-1001: sophie's
		priya := e.actors["agent"]
		if _, err := e.app.Handoffs.Create(ctx, priya, ref, handoffs.Input{Team: "payments",
			Request: "SECRET handoff text: check the seller's payout hold"}, nil); err != nil {
			t.Fatal(err)
		}
		for _, c := range []cases.CommentInput{{Body: "SECRET internal note", Internal: true}, {Body: "We are on it."}} {
			if _, err := e.app.Cases.AddComment(ctx, priya, ref, c); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.app.Cases.Transition(ctx, auth.System("test"), ref, cases.TransitionInput{To: cases.StatusResolved,
			Resolution: "refunded", Note: "Refunded the buyer in full."}); err != nil {
			t.Fatal(err)
		}
		r := e.do("account_manager", "GET", "/api/v1/cases/"+ref+"/events", nil)
		if r.status != 200 {
			t.Fatalf("events: %d %s", r.status, r.body)
		}
		body := string(r.body)
		for _, hidden := range []string{"SECRET", "handoff_", `"type":"assigned"`, `"type":"update"`, "waiting on a handoff"} {
			if strings.Contains(body, hidden) {
				t.Errorf("account manager's timeline shows %q: %s", hidden, body)
			}
		}
		for _, shown := range []string{`"type":"created"`, "We are on it.", "Refunded the buyer in full.", `"resolution":"refunded"`} {
			if !strings.Contains(body, shown) {
				t.Errorf("account manager's timeline lacks %q: %s", shown, body)
			}
		}
		if r := e.do("account_manager", "GET", "/api/v1/cases/"+ref+"/handoffs", nil); r.status != 200 || strings.Contains(string(r.body), "SECRET") {
			t.Errorf("case handoffs for an account manager: %d %s", r.status, r.body)
		}
		// Raising a restricted case: refused, nothing written.
		body2 := lostParcelBody()
		body2["sensitivity"] = "restricted"
		r = e.do("account_manager", "POST", "/api/v1/cases", body2)
		if r.status != 422 || !strings.Contains(string(r.body), `"field":"sensitivity"`) {
			t.Fatalf("restricted case by an account manager: %d %s", r.status, r.body)
		}
		if r := e.do("account_manager", "POST", "/api/v1/cases", lostParcelBody()); r.status != 201 {
			t.Fatalf("normal case by an account manager: %d %s", r.status, r.body)
		}
	})
}

// A restricted case is need-to-know: an agent outside its team who raised
// it does not keep reading it.
func TestRestrictedCaseNotForItsCreatorOutsideTheTeam(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		body := map[string]any{"title": "Colleague takes payouts", "category": "payments/payout_failed", "market": "GB",
			"sensitivity": "restricted"}
		r := e.do("agent", "POST", "/api/v1/cases", body) // priya is in logistics, not payments
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		ref := r.json(t)["number"].(string)
		if r := e.do("agent", "GET", "/api/v1/cases/"+ref, nil); r.status != 404 {
			t.Fatalf("creator reads the restricted case: %d", r.status)
		}
		r = e.do("agent", "GET", "/api/v1/cases?q="+ref, nil)
		if r.status != 200 || strings.Contains(string(r.body), ref) {
			t.Fatalf("creator finds the restricted case in a list: %d %s", r.status, r.body)
		}
		if r := e.do("lead", "GET", "/api/v1/cases/"+ref, nil); r.status != 200 {
			t.Fatalf("lead reads the restricted case: %d", r.status)
		}
	})
}

// Pinning the priority to the value it has, changing the pin's reason and
// unpinning are each stored, on the timeline and in the audit log.
func TestPinningThePriorityIsStored(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		ref := e.newCase("normal")
		c := e.do("admin", "GET", "/api/v1/cases/"+ref, nil).json(t)
		prio := c["priority"].(string)
		reasonOf := func() string {
			c := e.do("admin", "GET", "/api/v1/cases/"+ref, nil).json(t)
			rs := c["priority_reasons"].([]any)
			if len(rs) == 0 {
				return ""
			}
			r := rs[0].(map[string]any)
			if r["factor"] != "override" {
				return ""
			}
			return r["detail"].(string)
		}
		for _, step := range []struct {
			body   map[string]any
			reason string
		}{
			{map[string]any{"priority": prio, "priority_reason": "Key account: keep it here"}, "Key account: keep it here"},
			{map[string]any{"priority": prio, "priority_reason": "Board asked to keep it here"}, "Board asked to keep it here"},
			{map[string]any{"priority": "auto"}, ""},
		} {
			if r := e.do("admin", "PATCH", "/api/v1/cases/"+ref, step.body); r.status != 200 {
				t.Fatalf("PATCH %v: %d %s", step.body, r.status, r.body)
			}
			if got := reasonOf(); got != step.reason {
				t.Fatalf("after %v the pin's reason is %q, want %q", step.body, got, step.reason)
			}
		}
		evs := string(e.do("admin", "GET", "/api/v1/cases/"+ref+"/events", nil).body)
		if n := strings.Count(evs, `"field":"priority_reason"`); n != 3 {
			t.Fatalf("timeline records %d priority_reason changes, want 3: %s", n, evs)
		}
		audit := string(e.do("admin", "GET", "/api/v1/audit?object_type=case&object_id="+ref, nil).body)
		if n := strings.Count(audit, `"action":"case.update"`); n != 3 {
			t.Fatalf("audit has %d updates, want 3", n)
		}
	})
}
