package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

// apiEnv is a running server on the example desk with a token per role.
type apiEnv struct {
	t      *testing.T
	app    *app.App
	srv    *httptest.Server
	tokens map[string]string // role → token ("" for anonymous)
	actors map[string]auth.Actor
}

func newAPIEnv(t *testing.T, d *db.DB) *apiEnv {
	t.Helper()
	ctx := context.Background()
	a, err := app.New(d, app.Options{Clock: clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := a.Desk.Schema().Example()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Desk.Apply(ctx, auth.System("test"), a.Clock.Now(), cfg); err != nil {
		t.Fatal(err)
	}
	// No rate limits: the role table alone sends more requests than one
	// client address may burst (the limits are tested in protect_test.go).
	s, err := New(a, Options{Limits: &Limits{}})
	if err != nil {
		t.Fatal(err)
	}
	e := &apiEnv{t: t, app: a, srv: httptest.NewServer(s.Handler()), tokens: map[string]string{}, actors: map[string]auth.Actor{}}
	t.Cleanup(e.srv.Close)
	users := map[string]string{"admin": "amelia.clarke@flare.example", "lead": "jonas.weber@flare.example",
		"agent": "priya.shah@flare.example", "account_manager": "sophie.martin@flare.example",
		"qa": "quinn.qa@flare.example", "viewer": "vera.viewer@flare.example"}
	err = d.InTx(ctx, func(tx *db.Tx) error {
		for role, email := range users {
			u, err := auth.UserByEmail(ctx, tx, email)
			if err != nil {
				if u, err = auth.CreateUser(ctx, tx, a.Clock.Now(), auth.User{Email: email, Name: role, Role: auth.Role(role)}, ""); err != nil {
					return err
				}
			}
			tok, _, err := auth.CreateToken(ctx, tx, a.Clock.Now(), u.ID, "test")
			if err != nil {
				return err
			}
			e.tokens[role] = tok
			if u, err = auth.GetUser(ctx, tx, u.ID); err != nil {
				return err
			}
			e.actors[role] = auth.ActorFor(u)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("not JSON (%d): %s", r.status, r.body)
	}
	return m
}

// do sends a request as role; body may be a string (sent as is) or a value (JSON).
func (e *apiEnv) do(role, method, path string, body any, hdr ...string) reply {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok := e.tokens[role]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: b}
}

func lostParcelBody() map[string]any {
	return map[string]any{"title": "Parcel lost", "category": "logistics/lost_parcel", "market": "GB", "seller_id": "S-1001",
		"requester": map[string]any{"name": "Sam", "email": "sam@example.com"}, "fields": map[string]any{"order_id": "ORD-1"}}
}

// newCase creates a case directly as the system and returns its number.
// Restricted cases are in the payments team, which the agent is not in.
func (e *apiEnv) newCase(sensitivity string) string {
	e.t.Helper()
	in := cases.CreateInput{Title: "Parcel lost", Category: "logistics/lost_parcel", Market: "GB", SellerID: "S-1001",
		Sensitivity: sensitivity, Fields: map[string]any{"order_id": "ORD-1"}}
	if sensitivity == "restricted" {
		in.Category, in.Fields = "payments/payout_failed", nil
	}
	c, err := e.app.Cases.Create(context.Background(), auth.System("test"), in, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return c.Number
}

// TestEndpointRoles checks every endpoint against every role.
func TestEndpointRoles(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		deskYAML := e.do("admin", "GET", "/api/v1/desk?format=yaml", nil).body
		roles := []string{"admin", "lead", "agent", "account_manager", "qa", "viewer", "anonymous"}
		type row struct {
			name       string
			method     string
			path       string // %s is replaced by a fresh case's number
			body       any
			want       []int // per role, in the order above
			restricted bool
		}
		rows := []row{
			{"me", "GET", "/api/v1/me", nil, []int{200, 200, 200, 200, 200, 200, 401}, false},
			{"create", "POST", "/api/v1/cases", lostParcelBody(), []int{201, 201, 201, 201, 403, 403, 401}, false},
			{"list", "GET", "/api/v1/cases", nil, []int{200, 200, 200, 200, 200, 200, 401}, false},
			{"get", "GET", "/api/v1/cases/%s", nil, []int{200, 200, 200, 200, 200, 200, 401}, false},
			{"get restricted", "GET", "/api/v1/cases/%s", nil, []int{200, 200, 404, 404, 404, 404, 401}, true},
			{"update", "PATCH", "/api/v1/cases/%s", map[string]any{"tags": []string{"x"}}, []int{200, 200, 200, 403, 403, 403, 401}, false},
			{"transition", "POST", "/api/v1/cases/%s/transitions", map[string]any{"to": "open"}, []int{200, 200, 200, 403, 403, 403, 401}, false},
			{"reply", "POST", "/api/v1/cases/%s/comments", map[string]any{"body": "hi"}, []int{201, 201, 201, 201, 403, 403, 401}, false},
			{"note", "POST", "/api/v1/cases/%s/comments", map[string]any{"body": "hi", "internal": true}, []int{201, 201, 201, 403, 201, 403, 401}, false},
			{"events", "GET", "/api/v1/cases/%s/events", nil, []int{200, 200, 200, 200, 200, 200, 401}, false},
			// bulk actions: whoever changes cases (the refusals per case: TestBulkAPI)
			{"bulk", "POST", "/api/v1/cases/bulk", map[string]any{"cases": []string{"ESC-999999"}, "action": "tag", "tags": []string{"recall"}}, []int{200, 200, 200, 403, 403, 403, 401}, false},
			// saved views: whoever reads cases keeps their own (more in TestSavedViewsAPI)
			{"views", "GET", "/api/v1/views", nil, []int{200, 200, 200, 200, 200, 200, 401}, false},
			{"view create", "POST", "/api/v1/views", map[string]any{"name": "Open", "filter": map[string]any{"status": []string{"open"}}}, []int{201, 201, 201, 201, 201, 201, 401}, false},
			{"view get", "GET", "/api/v1/views/999999", nil, []int{404, 404, 404, 404, 404, 404, 401}, false},
			{"view update", "PUT", "/api/v1/views/999999", map[string]any{"name": "x"}, []int{404, 404, 404, 404, 404, 404, 401}, false},
			{"view delete", "DELETE", "/api/v1/views/999999", nil, []int{404, 404, 404, 404, 404, 404, 401}, false},
			{"desk read", "GET", "/api/v1/desk", nil, []int{200, 200, 403, 403, 403, 403, 401}, false},
			{"desk dry run", "PUT", "/api/v1/desk?dry_run=true", string(deskYAML), []int{200, 403, 403, 403, 403, 403, 401}, false},
			{"desk what-if", "POST", "/api/v1/desk/impact?days=7", string(deskYAML), []int{200, 403, 403, 403, 403, 403, 401}, false},
			{"audit", "GET", "/api/v1/audit", nil, []int{200, 403, 403, 403, 403, 403, 401}, false},
			{"sla breaches", "GET", "/api/v1/sla/breaches?kind=breach", nil, []int{200, 200, 200, 200, 200, 200, 401}, false},
			{"report metrics", "GET", "/api/v1/reports/metrics?from=2026-10-26&to=2026-11-02&by=team", nil, []int{200, 200, 403, 403, 200, 200, 401}, false},
			{"report live", "GET", "/api/v1/reports/live", nil, []int{200, 200, 403, 403, 200, 200, 401}, false},
			{"report charts", "GET", "/api/v1/reports/charts?from=2026-10-26&to=2026-11-02", nil, []int{200, 200, 403, 403, 200, 200, 401}, false},
			{"report summary", "GET", "/api/v1/reports/summary?from=2026-10-26&to=2026-11-02&format=xlsx", nil, []int{200, 200, 403, 403, 200, 200, 401}, false},
			{"report staffing", "GET", "/api/v1/reports/staffing?weeks=2", nil, []int{200, 200, 403, 403, 200, 200, 401}, false},
			{"routing explain", "POST", "/api/v1/routing/explain", lostParcelBody(), []int{200, 200, 403, 403, 403, 403, 401}, false},
			{"take next", "POST", "/api/v1/teams/logistics/take-next", nil, []int{403, 409, 200, 403, 403, 403, 401}, false},
			{"team agents", "GET", "/api/v1/teams/logistics/agents", nil, []int{200, 200, 200, 403, 200, 200, 401}, false},
			{"away", "PUT", "/api/v1/agents/priya.shah@flare.example/away", map[string]any{"away": false}, []int{200, 200, 200, 403, 403, 403, 401}, false},
			{"event subscribers", "GET", "/api/v1/admin/subscribers", nil, []int{200, 403, 403, 403, 403, 403, 401}, false},
			{"event deliveries", "GET", "/api/v1/admin/deliveries", nil, []int{200, 403, 403, 403, 403, 403, 401}, false},
			{"replay deliveries", "POST", "/api/v1/admin/deliveries/replay", map[string]any{"subscriber": "none"}, []int{200, 403, 403, 403, 403, 403, 401}, false},
			// Away status is for people who own cases: QA and viewers cannot set even their own.
			{"away self qa", "PUT", "/api/v1/agents/quinn.qa@flare.example/away", map[string]any{"away": true}, []int{200, 200, 403, 403, 403, 403, 401}, false},
			{"away self viewer", "PUT", "/api/v1/agents/vera.viewer@flare.example/away", map[string]any{"away": true}, []int{200, 200, 403, 403, 403, 403, 401}, false},
			// On-call: the desk's staff see, leads and admins change (more in api_oncall_test.go).
			{"oncall now", "GET", "/api/v1/oncall", nil, []int{200, 200, 200, 403, 200, 200, 401}, false},
			{"oncall shifts", "GET", "/api/v1/oncall/trust_safety/shifts", nil, []int{200, 200, 200, 403, 200, 200, 401}, false},
			{"oncall overrides", "GET", "/api/v1/oncall/trust_safety/overrides", nil, []int{200, 200, 200, 403, 200, 200, 401}, false},
			{"oncall override", "POST", "/api/v1/oncall/trust_safety/overrides", map[string]any{"person": "priya.shah@flare.example",
				"from": "2026-11-02T10:00:00Z", "to": "2026-11-02T11:00:00Z"}, []int{201, 201, 403, 403, 403, 403, 401}, false},
			{"oncall feeds", "GET", "/api/v1/oncall/trust_safety/feeds", nil, []int{200, 200, 403, 403, 403, 403, 401}, false},
			{"oncall feed", "POST", "/api/v1/oncall/trust_safety/feeds", map[string]any{"name": "x"}, []int{201, 201, 403, 403, 403, 403, 401}, false},
			{"oncall calendar", "GET", "/api/v1/oncall/trust_safety.ics", nil, []int{200, 200, 200, 403, 200, 200, 401}, false},
			// attachments (uploads and downloads: TestAttachmentsAPI)
			{"case attachments", "GET", "/api/v1/cases/%s/attachments", nil, []int{200, 200, 200, 200, 200, 200, 401}, false},
			{"case attachments restricted", "GET", "/api/v1/cases/%s/attachments", nil, []int{200, 200, 404, 404, 404, 404, 401}, true},
			// escalation (acknowledging: TestEscalationAPI)
			{"escalate", "POST", "/api/v1/cases/%s/escalations", map[string]any{"reason": "Seller threatens press", "level": 2}, []int{201, 201, 201, 403, 403, 403, 401}, false},
			{"case escalations", "GET", "/api/v1/cases/%s/escalations", nil, []int{200, 200, 200, 404, 200, 200, 401}, false},
			{"deescalate", "POST", "/api/v1/cases/%s/deescalate", map[string]any{"reason": "Calm again"}, []int{422, 422, 422, 403, 403, 403, 401}, false},
			{"escalations", "GET", "/api/v1/escalations?state=open", nil, []int{200, 200, 200, 403, 200, 200, 401}, false},
			{"calendars", "GET", "/api/v1/calendars", nil, []int{200, 200, 200, 200, 200, 200, 401}, false},
			{"calendar due", "GET", "/api/v1/calendars/emea_business/due?from=2026-12-23T17:30:00Z&add=1h", nil, []int{200, 200, 200, 200, 200, 200, 401}, false},
			{"calendar between", "GET", "/api/v1/calendars/emea_business/between?from=2026-12-23T17:30:00Z&to=2026-12-24T17:30:00Z", nil, []int{200, 200, 200, 200, 200, 200, 401}, false},
			// notifications: everyone's own bell and preferences; webhooks and the delivery log for admins
			{"notifications", "GET", "/api/v1/notifications?unread=true", nil, []int{200, 200, 200, 200, 200, 200, 401}, false},
			{"notifications read", "POST", "/api/v1/notifications/read", map[string]any{"all": true}, []int{200, 200, 200, 200, 200, 200, 401}, false},
			{"notification preferences", "GET", "/api/v1/notifications/preferences", nil, []int{200, 200, 200, 200, 200, 200, 401}, false},
			{"notification preferences put", "PUT", "/api/v1/notifications/preferences", map[string]any{"quiet_hours": map[string]any{"start": "22:00", "end": "07:00"}}, []int{200, 200, 200, 200, 200, 200, 401}, false},
			{"webhooks", "GET", "/api/v1/admin/webhooks", nil, []int{200, 403, 403, 403, 403, 403, 401}, false},
			{"webhook create", "POST", "/api/v1/admin/webhooks", map[string]any{"name": "x", "url": "https://hooks.invalid/x", "active": false}, []int{201, 403, 403, 403, 403, 403, 401}, false},
			{"webhook get", "GET", "/api/v1/admin/webhooks/999999", nil, []int{404, 403, 403, 403, 403, 403, 401}, false},
			{"webhook patch", "PATCH", "/api/v1/admin/webhooks/999999", map[string]any{"active": true}, []int{404, 403, 403, 403, 403, 403, 401}, false},
			{"webhook delete", "DELETE", "/api/v1/admin/webhooks/999999", nil, []int{404, 403, 403, 403, 403, 403, 401}, false},
			{"notification deliveries", "GET", "/api/v1/admin/notification-deliveries?channel=webhook", nil, []int{200, 403, 403, 403, 403, 403, 401}, false},
			{"notification delivery", "GET", "/api/v1/admin/notification-deliveries/999999", nil, []int{404, 403, 403, 403, 403, 403, 401}, false},
			{"notification replay", "POST", "/api/v1/admin/notification-deliveries/replay", map[string]any{"webhook_id": 1}, []int{200, 403, 403, 403, 403, 403, 401}, false},
			// signals and alerts: the desk's staff see them, agents, leads and admins acknowledge and close
			{"signals", "GET", "/api/v1/signals", nil, []int{200, 200, 200, 403, 200, 200, 401}, false},
			{"signal", "GET", "/api/v1/signals/999999", nil, []int{404, 404, 404, 403, 404, 404, 401}, false},
			{"alerts", "GET", "/api/v1/alerts?status=active", nil, []int{200, 200, 200, 403, 200, 200, 401}, false},
			{"alert", "GET", "/api/v1/alerts/999999", nil, []int{404, 404, 404, 403, 404, 404, 401}, false},
			{"alert acknowledge", "POST", "/api/v1/alerts/999999/acknowledge", nil, []int{404, 404, 404, 403, 403, 403, 401}, false},
			{"alert close", "POST", "/api/v1/alerts/999999/close", nil, []int{404, 404, 404, 403, 403, 403, 401}, false},
			// incidents: anyone signed in reads them; agents, leads and admins work them (INC-1 is the admin's declare)
			{"incident declare", "POST", "/api/v1/incidents", map[string]any{"title": "Label printing slow", "type": "service", "severity": "SEV4"}, []int{201, 201, 201, 403, 403, 403, 401}, false},
			{"incidents", "GET", "/api/v1/incidents?status=open", nil, []int{200, 200, 200, 200, 200, 200, 401}, false},
			{"incident", "GET", "/api/v1/incidents/INC-1", nil, []int{200, 200, 200, 200, 200, 200, 401}, false},
			{"incident definitions", "GET", "/api/v1/incidents/definitions", nil, []int{200, 200, 200, 200, 200, 200, 401}, false},
			{"incident metrics", "GET", "/api/v1/incidents/metrics", nil, []int{200, 200, 200, 200, 200, 200, 401}, false},
			{"incident transition", "POST", "/api/v1/incidents/INC-1/transitions", map[string]any{"to": "bogus"}, []int{422, 422, 422, 403, 403, 403, 401}, false},
			{"incident severity", "POST", "/api/v1/incidents/INC-1/severity", map[string]any{"severity": "SEV9", "reason": "x"}, []int{422, 422, 422, 403, 403, 403, 401}, false},
			{"incident role", "PUT", "/api/v1/incidents/INC-1/roles/scribe", map[string]any{"email": "nobody@flare.example"}, []int{422, 422, 422, 403, 403, 403, 401}, false},
			{"incident ack", "POST", "/api/v1/incidents/INC-1/ack", nil, []int{409, 409, 409, 403, 403, 403, 401}, false},
			{"incident timeline", "GET", "/api/v1/incidents/INC-1/timeline", nil, []int{200, 200, 200, 200, 200, 200, 401}, false},
			{"incident note", "POST", "/api/v1/incidents/INC-1/timeline", map[string]any{"body": "Carrier confirms", "decision": true}, []int{201, 201, 201, 403, 403, 403, 401}, false},
			{"incident moment", "PUT", "/api/v1/incidents/INC-1/moments/started", map[string]any{"reason": "x"}, []int{422, 422, 422, 403, 403, 403, 401}, false},
			{"incident updates", "GET", "/api/v1/incidents/INC-1/updates", nil, []int{200, 200, 200, 200, 200, 200, 401}, false},
			{"incident update preview", "POST", "/api/v1/incidents/INC-1/updates/preview", map[string]any{"audience": "internal"}, []int{200, 200, 200, 403, 403, 403, 401}, false},
			{"incident subscribe", "PUT", "/api/v1/incidents/INC-1/subscription", nil, []int{204, 204, 204, 204, 204, 204, 401}, false},
			{"incident cases", "GET", "/api/v1/incidents/INC-1/cases", nil, []int{200, 200, 200, 200, 200, 200, 401}, false},
			{"incident link", "POST", "/api/v1/incidents/INC-1/cases", map[string]any{"search": map[string]any{"q": "nothing matches this"}}, []int{200, 200, 200, 403, 403, 403, 401}, false},
			{"incident bulk resolve", "POST", "/api/v1/incidents/INC-1/resolve-cases", map[string]any{"resolution": "fixed", "note": "x"}, []int{409, 409, 403, 403, 403, 403, 401}, false},
			{"incident report", "GET", "/api/v1/incidents/INC-1/report", nil, []int{200, 200, 200, 200, 200, 200, 401}, false},
			{"case incidents", "GET", "/api/v1/cases/%s/incidents", nil, []int{200, 200, 200, 200, 200, 200, 401}, false},
			// postmortems: the desk's people read them (not account managers); writers write; leads and admins publish
			{"postmortem start", "POST", "/api/v1/incidents/INC-1/postmortem", map[string]any{}, []int{201, 409, 409, 403, 403, 403, 401}, false},
			{"postmortem", "GET", "/api/v1/incidents/INC-1/postmortem", nil, []int{200, 200, 200, 403, 200, 200, 401}, false},
			{"postmortem edit", "PATCH", "/api/v1/incidents/INC-1/postmortem", map[string]any{"version": 0}, []int{422, 422, 422, 403, 403, 403, 401}, false},
			{"postmortem publish", "POST", "/api/v1/incidents/INC-1/postmortem/transitions", map[string]any{"to": "published"}, []int{409, 409, 403, 403, 403, 403, 401}, false},
			{"incident action items", "GET", "/api/v1/incidents/INC-1/action-items", nil, []int{200, 200, 200, 403, 200, 200, 401}, false},
			{"action item create", "POST", "/api/v1/incidents/INC-1/action-items", map[string]any{"title": "x", "owner": "nobody@flare.example", "due_date": "2030-01-01"}, []int{422, 422, 422, 403, 403, 403, 401}, false},
			{"action items", "GET", "/api/v1/action-items?state=overdue", nil, []int{200, 200, 200, 403, 200, 200, 401}, false},
			{"action item", "GET", "/api/v1/action-items/999", nil, []int{404, 404, 404, 403, 404, 404, 401}, false},
			{"action item update", "PATCH", "/api/v1/action-items/999", map[string]any{"status": "done"}, []int{404, 404, 404, 403, 404, 404, 401}, false},
			// merge (more in api_merge_test.go) and the account-manager portal (api_portal_test.go)
			{"merge", "POST", "/api/v1/cases/%s/merge", map[string]any{"into": "ESC-999999", "reason": "duplicate"}, []int{422, 422, 422, 403, 403, 403, 401}, false},
			{"merges", "GET", "/api/v1/cases/%s/merges", nil, []int{200, 200, 200, 200, 200, 200, 401}, false},
			{"portal sellers", "GET", "/api/v1/portal/sellers", nil, []int{200, 200, 403, 200, 403, 403, 401}, false},
			{"portal requests", "GET", "/api/v1/portal/requests?list=sellers", nil, []int{200, 200, 403, 200, 403, 403, 401}, false},
			{"portal raise", "POST", "/api/v1/portal/requests", map[string]any{"seller_id": "S-1001", "category": "logistics/lost_parcel",
				"title": "Parcel lost", "fields": map[string]any{"order_id": "ORD-1"}}, []int{201, 201, 403, 201, 403, 403, 401}, false},
			{"portal request", "GET", "/api/v1/portal/requests/%s", nil, []int{200, 200, 403, 200, 403, 403, 401}, false},
			{"portal reply", "POST", "/api/v1/portal/requests/%s/replies", map[string]any{"body": "Any news?"}, []int{201, 201, 403, 201, 403, 403, 401}, false},
			{"csv import", "POST", "/api/v1/admin/import/cases", map[string]any{}, []int{415, 403, 403, 403, 403, 403, 401}, false},
			{"intake webhook", "POST", "/api/v1/intake/nowhere", map[string]any{}, []int{404, 404, 404, 404, 404, 404, 404}, false},
			{"intake alertmanager", "POST", "/api/v1/intake/alertmanager/nowhere", map[string]any{}, []int{404, 404, 404, 404, 404, 404, 404}, false},
		}
		for _, r := range rows {
			// Every row's requests come from one client address: a second
			// of the fake clock per row refills its rate limit's bucket.
			e.app.Clock.(*clock.Fake).Advance(time.Second)
			for i, role := range roles {
				path := r.path
				if strings.Contains(path, "%s") {
					sens := ""
					if r.restricted {
						sens = "restricted"
					}
					path = fmt.Sprintf(path, e.newCase(sens))
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

func TestCreateCaseAPI(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		r := e.do("agent", "POST", "/api/v1/cases", lostParcelBody(), "Idempotency-Key", "k-1")
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		c := r.json(t)
		for _, k := range []string{"id", "number", "status", "priority", "team", "owner", "escalation_level", "created_at", "updated_at", "priority_reasons"} {
			if _, ok := c[k]; !ok {
				t.Errorf("response lacks %s", k)
			}
		}
		if c["number"] != "ESC-1" || c["status"] != "new" || c["team"] != "logistics" {
			t.Fatalf("case: %v", c)
		}
		// A retry returns the original response and writes nothing.
		again := e.do("agent", "POST", "/api/v1/cases", lostParcelBody(), "Idempotency-Key", "k-1")
		if again.status != 201 || !bytes.Equal(again.body, r.body) || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay: %d %s", again.status, again.body)
		}
		other := lostParcelBody()
		other["title"] = "Something else"
		if r := e.do("agent", "POST", "/api/v1/cases", other, "Idempotency-Key", "k-1"); r.status != 422 {
			t.Fatalf("key reuse with another body: %d %s", r.status, r.body)
		}
		// The same key from another user is another request.
		if r := e.do("lead", "POST", "/api/v1/cases", lostParcelBody(), "Idempotency-Key", "k-1"); r.status != 201 || r.json(t)["number"] != "ESC-2" {
			t.Fatalf("other user's key: %d %s", r.status, r.body)
		}
		if r := e.do("admin", "GET", "/api/v1/cases/ESC-1", nil); r.status != 200 || r.json(t)["title"] != "Parcel lost" {
			t.Fatalf("get by number: %d", r.status)
		}
		if r := e.do("admin", "GET", "/api/v1/cases?team=logistics&sort=priority&limit=1", nil); r.status != 200 || r.json(t)["next_cursor"] == nil {
			t.Fatalf("list page: %d %s", r.status, r.body)
		}
		var n int
		if err := d.QueryRow(context.Background(), `SELECT COUNT(*) FROM cases`).Scan(&n); err != nil || n != 2 {
			t.Fatalf("cases written: %d %v", n, err)
		}
	})
}

func TestBadInputIsA4xxProblemAndWritesNothing(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		ref := e.newCase("")
		big := `{"title":"` + strings.Repeat("x", MaxBody) + `"}`
		cases := []struct {
			name, method, path string
			body               any
			hdr                []string
			status             int
			field              string
		}{
			{"malformed", "POST", "/api/v1/cases", `{"title": `, nil, 400, ""},
			{"not an object", "POST", "/api/v1/cases", `[1,2]`, nil, 400, ""},
			{"unknown field", "POST", "/api/v1/cases", `{"title":"x","colour":"red"}`, nil, 400, "colour"},
			{"wrong type", "POST", "/api/v1/cases", `{"title":42}`, nil, 400, "title"},
			{"two values", "POST", "/api/v1/cases", `{"title":"a"} {"title":"b"}`, nil, 400, ""},
			{"empty body", "POST", "/api/v1/cases", ``, nil, 400, ""},
			{"form body", "POST", "/api/v1/cases", `title=x`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, ""},
			{"too large", "POST", "/api/v1/cases", big, nil, 413, ""},
			{"invalid case", "POST", "/api/v1/cases", `{"title":"x","category":"nope/nope","market":"GB"}`, nil, 422, "category"},
			{"NUL in title", "POST", "/api/v1/cases", `{"title":"a\u0000b","category":"payments/payout_failed","market":"GB"}`, nil, 422, "title"},
			{"bad idempotency key", "POST", "/api/v1/cases", lostParcelBody(), []string{"Idempotency-Key", strings.Repeat("k", 300)}, 400, ""},
			{"illegal transition", "POST", "/api/v1/cases/" + ref + "/transitions", `{"to":"closed"}`, nil, 409, ""},
			{"unknown status", "POST", "/api/v1/cases/" + ref + "/transitions", `{"to":"done"}`, nil, 422, "to"},
			{"patch unknown field", "PATCH", "/api/v1/cases/" + ref, `{"stauts":"open"}`, nil, 400, "stauts"},
			{"patch bad owner", "PATCH", "/api/v1/cases/" + ref, `{"owner":"nobody@x.example"}`, nil, 422, "owner"},
			{"empty comment", "POST", "/api/v1/cases/" + ref + "/comments", `{"body":"  "}`, nil, 422, "body"},
			{"missing case", "GET", "/api/v1/cases/ESC-999999", nil, nil, 404, ""},
			{"garbage ref", "GET", "/api/v1/cases/%27;drop", nil, nil, 404, ""},
			{"bad filter", "GET", "/api/v1/cases?status=done&sort=sideways&limit=0&colour=red", nil, nil, 422, "status"},
			{"bad cursor", "GET", "/api/v1/cases?cursor=zzz", nil, nil, 422, "cursor"},
			{"bad desk", "PUT", "/api/v1/desk", "markets: [{code: gb}]\n", []string{"Content-Type", "application/yaml"}, 422, ""},
			{"bad token", "GET", "/api/v1/me", nil, []string{"Authorization", "Bearer flr_nope"}, 401, ""},
			{"wrong method", "DELETE", "/api/v1/cases/" + ref, nil, nil, 405, ""},
			{"no such endpoint", "GET", "/api/v1/nothing", nil, nil, 404, ""},
		}
		before := countRows(t, d)
		for _, c := range cases {
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
			if c.name == "illegal transition" && !strings.Contains(string(r.body), `"allowed":["open","pending_internal","pending_requester","resolved"]`) {
				t.Errorf("409 must name the allowed statuses: %s", r.body)
			}
		}
		if after := countRows(t, d); after != before {
			t.Fatalf("bad requests wrote rows: before %v after %v", before, after)
		}
	})
}

func countRows(t *testing.T, d *db.DB) string {
	t.Helper()
	var out []string
	for _, table := range []string{"cases", "case_events", "case_comments", "audit_log", "desk_config", "idempotency_keys"} {
		var n int
		if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s=%d", table, n))
	}
	return strings.Join(out, " ")
}

// TestOpenAPIMatchesRoutes fails when a route and the document disagree.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	d := dbtest.SQLite(t, app.Migrate)
	a, err := app.New(d, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(a, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var served, documented []string
	for _, r := range s.Routes() {
		served = append(served, strings.ToLower(r.Method)+" "+r.Path)
	}
	for path, ops := range doc.Paths {
		for m := range ops {
			documented = append(documented, m+" "+path)
		}
	}
	sort.Strings(served)
	sort.Strings(documented)
	if strings.Join(served, "\n") != strings.Join(documented, "\n") {
		t.Fatalf("routes and OpenAPI differ:\nserved:\n%s\ndocumented:\n%s", strings.Join(served, "\n"), strings.Join(documented, "\n"))
	}
	r := httptest.NewRecorder()
	s.Handler().ServeHTTP(r, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	if r.Code != 200 || !bytes.Equal(r.Body.Bytes(), openAPI) {
		t.Fatalf("openapi.json not served: %d", r.Code)
	}
}

func TestConcurrentCreatesOverHTTP(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		var wg sync.WaitGroup
		for range 30 {
			wg.Go(func() {
				if r := e.do("agent", "POST", "/api/v1/cases", lostParcelBody()); r.status != 201 {
					t.Errorf("create: %d %s", r.status, r.body)
				}
			})
		}
		wg.Wait()
		var n, distinct int
		if err := d.QueryRow(context.Background(), `SELECT COUNT(*), COUNT(DISTINCT number) FROM cases`).Scan(&n, &distinct); err != nil || n != 30 || distinct != 30 {
			t.Fatalf("%d cases, %d numbers, %v", n, distinct, err)
		}
	})
}

func TestHealthAndMetrics(t *testing.T) {
	e := newAPIEnv(t, dbtest.SQLite(t, app.Migrate))
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := e.do("", "GET", p, nil); r.status != 200 {
			t.Fatalf("%s: %d", p, r.status)
		}
	}
	e.do("admin", "GET", "/api/v1/cases", nil)
	r := e.do("", "GET", "/metrics", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `flare_http_requests_total{code="200",route="GET /api/v1/cases"}`) {
		t.Fatalf("metrics: %d %.500s", r.status, r.body)
	}
}

func TestCalendarAPI(t *testing.T) {
	e := newAPIEnv(t, dbtest.SQLite(t, app.Migrate))
	// Wed 23 Dec 2026 17:30 London + 1h: closed 24th, bank holidays 25th and 28th → Tue 29th 09:30.
	r := e.do("agent", "GET", "/api/v1/calendars/emea_business/due?from=2026-12-23T17:30:00Z&add=1h", nil)
	if r.status != 200 || r.json(t)["due"] != "2026-12-29T09:30:00Z" {
		t.Fatalf("due: %d %s", r.status, r.body)
	}
	r = e.do("agent", "GET", "/api/v1/calendars/emea_business/between?from=2026-12-23T17:30:00Z&to=2026-12-29T09:30:00Z", nil)
	if r.status != 200 || r.json(t)["seconds"] != 3600.0 {
		t.Fatalf("between: %d %s", r.status, r.body)
	}
	if r := e.do("agent", "GET", "/api/v1/calendars", nil); r.status != 200 || !strings.Contains(string(r.body), `"key":"follow_the_sun"`) {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	if r := e.do("agent", "GET", "/api/v1/calendars/mars/due?from=2026-12-23T17:30:00Z&add=1h", nil); r.status != 404 {
		t.Fatalf("unknown calendar: %d", r.status)
	}
	r = e.do("agent", "GET", "/api/v1/calendars/emea_business/due?from=yesterday&add=soon", nil)
	if r.status != 422 || !strings.Contains(string(r.body), `"field":"from"`) || !strings.Contains(string(r.body), `"field":"add"`) {
		t.Fatalf("bad input: %d %s", r.status, r.body)
	}
}

func TestSLABreachesAPI(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		ctx := context.Background()
		// A safety case (first response within 30m, 24/7) left unanswered for an hour.
		c, err := e.app.Cases.Create(ctx, auth.System("test"), cases.CreateInput{Title: "Smoke from charger",
			Category: "safety/product_safety", Market: "GB"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		e.app.Clock.(*clock.Fake).Advance(time.Hour)
		if err := e.app.Cases.CheckSLA(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		r := e.do("lead", "GET", "/api/v1/sla/breaches?team=trust_safety&metric=first_response", nil)
		if r.status != 200 || !strings.Contains(string(r.body), `"case":"`+c.Number+`"`) || !strings.Contains(string(r.body), `"due_at":"2026-11-02T09:30:00Z"`) {
			t.Fatalf("breaches: %d %s", r.status, r.body)
		}
		if r := e.do("lead", "GET", "/api/v1/sla/breaches?team=logistics", nil); r.status != 200 || strings.Contains(string(r.body), c.Number) {
			t.Fatalf("team filter: %s", r.body)
		}
		// The agent is not in trust_safety: the breach is not theirs to see.
		if r := e.do("agent", "GET", "/api/v1/sla/breaches", nil); strings.Contains(string(r.body), c.Number) {
			t.Fatalf("visibility: %s", r.body)
		}
		r = e.do("lead", "GET", "/api/v1/sla/breaches?kind=late&metric=speed&from=never&colour=red", nil)
		for _, f := range []string{"kind", "metric", "from", "colour"} {
			if r.status != 422 || !strings.Contains(string(r.body), `"field":"`+f+`"`) {
				t.Fatalf("bad filter %s: %d %s", f, r.status, r.body)
			}
		}
		// The case JSON carries its clocks.
		r = e.do("lead", "GET", "/api/v1/cases/"+c.Number, nil)
		if !strings.Contains(string(r.body), `"metric":"first_response","state":"breached"`) {
			t.Fatalf("case sla: %s", r.body)
		}
	})
}

// Take-next, agents and away over HTTP, with their errors as problems.
func TestAssignmentAPI(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		num := e.newCase("")
		r := e.do("agent", "POST", "/api/v1/teams/logistics/take-next", nil)
		var c struct {
			Number string `json:"number"`
			Owner  string `json:"owner"`
			Status string `json:"status"`
		}
		if r.status != 200 || json.Unmarshal(r.body, &c) != nil || c.Number != num || c.Owner != "priya.shah@flare.example" || c.Status != "open" {
			t.Fatalf("take next: %d %s", r.status, r.body)
		}
		r = e.do("agent", "POST", "/api/v1/teams/logistics/take-next", nil)
		if r.status != 409 || !strings.Contains(string(r.body), "no unassigned case in team logistics") {
			t.Fatalf("empty queue: %d %s", r.status, r.body)
		}
		for _, tc := range []struct {
			body any
			path string
			want int
			has  string
		}{
			{map[string]any{"away": true, "mood": "sunny"}, "priya.shah@flare.example", 400, "mood"},
			{map[string]any{"away": true, "until": "2020-01-01T00:00:00Z"}, "priya.shah@flare.example", 422, "until"},
			{map[string]any{"away": true}, "nobody@flare.example", 404, ""},
			{map[string]any{"away": true, "note": "Conference", "until": "2026-11-03T09:00:00Z"}, "priya.shah@flare.example", 200, "Conference"},
		} {
			r := e.do("lead", "PUT", "/api/v1/agents/"+tc.path+"/away", tc.body)
			if r.status != tc.want || !strings.Contains(string(r.body), tc.has) {
				t.Errorf("away %v: %d %s", tc.body, r.status, r.body)
			}
		}
		r = e.do("agent", "GET", "/api/v1/teams/logistics/agents", nil)
		if r.status != 200 || !strings.Contains(string(r.body), `"away":true`) || !strings.Contains(string(r.body), `"load":1`) {
			t.Fatalf("agents: %d %s", r.status, r.body)
		}
		if r := e.do("agent", "POST", "/api/v1/teams/logistics/take-next", nil); r.status != 409 || !strings.Contains(string(r.body), "away") {
			t.Fatalf("take next while away: %d %s", r.status, r.body)
		}
		if r := e.do("agent", "GET", "/api/v1/teams/nope/agents", nil); r.status != 404 {
			t.Fatalf("unknown team: %d %s", r.status, r.body)
		}
	})
}

// Explain says what the rules and the score would do, and writes nothing.
func TestRoutingExplainAPI(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		count := func() int {
			var n int
			if err := d.QueryRow(context.Background(), `SELECT COUNT(*) FROM cases`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		body := map[string]any{"title": "Fake chargers", "description": "These are not genuine", "category": "governance/listing_removal",
			"market": "US", "seller_id": "S-3002"}
		r := e.do("lead", "POST", "/api/v1/routing/explain", body)
		var x struct {
			Event    string `json:"event"`
			Priority string `json:"priority"`
			Rules    []struct {
				Name      string   `json:"name"`
				Matched   bool     `json:"matched"`
				Condition string   `json:"condition"`
				Reason    string   `json:"reason"`
				Keywords  []string `json:"keywords"`
			} `json:"rules"`
			Outcome struct {
				Team string `json:"team"`
			} `json:"outcome"`
		}
		if r.status != 200 || json.Unmarshal(r.body, &x) != nil {
			t.Fatalf("explain: %d %s", r.status, r.body)
		}
		if x.Event != "create" || x.Priority != "P2" || x.Outcome.Team != "trust_safety" || len(x.Rules) != 2 ||
			!x.Rules[0].Matched || len(x.Rules[0].Keywords) == 0 || x.Rules[1].Matched || x.Rules[1].Condition != "when.channel" {
			t.Fatalf("explanation: %s", r.body)
		}
		if count() != 0 {
			t.Fatal("explain wrote a case")
		}
		num := e.newCase("")
		if r := e.do("admin", "POST", "/api/v1/routing/explain?case="+num, nil); r.status != 200 || !strings.Contains(string(r.body), `"event":"create"`) {
			t.Fatalf("explain a stored case: %d %s", r.status, r.body)
		}
		if r := e.do("admin", "POST", "/api/v1/routing/explain", map[string]any{"title": "x", "categroy": "x"}); r.status != 400 || !strings.Contains(string(r.body), "categroy") {
			t.Fatalf("unknown field: %d %s", r.status, r.body)
		}
		if r := e.do("admin", "POST", "/api/v1/routing/explain", map[string]any{"title": "x", "category": "nope/nope", "market": "GB"}); r.status != 422 {
			t.Fatalf("unknown category: %d %s", r.status, r.body)
		}
		if r := e.do("admin", "POST", "/api/v1/routing/explain?case=ESC-999", nil); r.status != 404 {
			t.Fatalf("unknown case: %d %s", r.status, r.body)
		}
		if count() != 1 {
			t.Fatal("explain wrote a case")
		}
	})
}
