package web

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
	am "github.com/flare-desk/flare/internal/intake/alertmanager"
	"github.com/flare-desk/flare/internal/intake/webhook"
)

// Test endpoints of the intake channels and their secrets.
var (
	testPartner = webhook.Endpoint{Key: "partner", Channel: "external",
		Auth:       webhook.Auth{Type: "hmac", SecretEnv: "FLARE_TEST_PARTNER", Header: "X-Partner-Signature", Prefix: "sha256="},
		ExternalID: "{{/ticket/id}}",
		Map: webhook.Mapping{Title: "{{/ticket/subject}}", Description: "{{/ticket/body}}", SellerID: "{{?/seller}}",
			RequesterEmail: "{{?/ticket/reporter}}", Tags: []string{"partner"}},
		Defaults: webhook.Defaults{Category: "logistics/lost_parcel", Market: "GB"}, MaxBody: 2048}
	testAlertmanager = am.Endpoint{Key: "prod", Auth: webhook.Auth{Type: "bearer", SecretEnv: "FLARE_TEST_AM"},
		Category: "payments/payout_failed", Market: "GB", ResolveCase: true}
	testSecrets = map[string]string{"FLARE_TEST_PARTNER": "partner-secret", "FLARE_TEST_AM": "am-token"}
)

// withIntakeEndpoints applies the example desk with the test endpoints.
func withIntakeEndpoints(t testing.TB, a *app.App) {
	t.Helper()
	cfg, err := a.Desk.Schema().Example()
	if err != nil {
		t.Fatal(err)
	}
	desk.Set(cfg, webhook.EndpointsKey, []webhook.Endpoint{testPartner})
	desk.Set(cfg, am.EndpointsKey, []am.Endpoint{testAlertmanager})
	if _, err := a.Desk.Apply(context.Background(), auth.System("test"), a.Clock.Now(), cfg); err != nil {
		t.Fatal(err)
	}
	lookup := func(name string) string { return testSecrets[name] }
	a.Webhooks.UseSecrets(lookup)
	a.Alertmanager.UseSecrets(lookup)
}

func partnerSig(body string) string {
	return testPartner.Auth.Canonical().Sign([]byte(body), "partner-secret", 0)
}

func TestWebhookIntakeAPI(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		withIntakeEndpoints(t, e.app)
		body := `{"ticket": {"id": "T-77", "subject": "Parcel stuck at the hub", "body": "Tracking has not moved in 9 days.", "reporter": "ops@partner.example"}}`
		post := func(key, body string, hdr ...string) reply {
			return e.do("anonymous", "POST", "/api/v1/intake/"+key, body, hdr...)
		}
		r := post("partner", body, "X-Partner-Signature", partnerSig(body))
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		var got intakeReceipt
		_ = json.Unmarshal(r.body, &got)
		if got.Outcome != "created" || got.Case == "" {
			t.Fatalf("receipt %s", r.body)
		}
		c, err := e.app.Cases.Get(context.Background(), auth.System("test"), got.Case)
		if err != nil || c.Channel != "external" || c.Title != "Parcel stuck at the hub" || c.Requester.Email != "ops@partner.example" {
			t.Fatalf("case %+v %v", c, err)
		}
		if r := post("partner", body, "X-Partner-Signature", partnerSig(body)); r.status != 200 || !strings.Contains(string(r.body), `"duplicate"`) ||
			!strings.Contains(string(r.body), got.Case) {
			t.Fatalf("again: %d %s", r.status, r.body)
		}
		for _, tc := range []struct {
			name, key, body, sig string
			status               int
			contains             string
		}{
			{"unsigned", "partner", body, "", 401, "X-Partner-Signature"},
			{"bad signature", "partner", body, partnerSig(body + "x"), 401, "does not match"},
			{"unknown endpoint", "nowhere", body, partnerSig(body), 404, ""},
			{"too large", "partner", strings.Repeat(" ", 3000), "", 413, "2048"},
			{"malformed", "partner", `{"ticket": `, partnerSig(`{"ticket": `), 422, `"body"`},
			{"mapping", "partner", `{"ticket": {"id": "T-78"}}`, partnerSig(`{"ticket": {"id": "T-78"}}`), 422, "/ticket/subject: is not in the payload"},
			{"seller", "partner", `{"seller": "nope", "ticket": {"id": "T-79", "subject": "s", "body": "b"}}`, partnerSig(`{"seller": "nope", "ticket": {"id": "T-79", "subject": "s", "body": "b"}}`), 422, "seller_id"},
		} {
			r := post(tc.key, tc.body, "X-Partner-Signature", tc.sig)
			if r.status != tc.status || !strings.Contains(string(r.body), tc.contains) || r.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s: %d %s", tc.name, r.status, r.body)
			}
		}
		var n int
		if err := d.QueryRow(context.Background(), `SELECT COUNT(*) FROM cases`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d cases, %v", n, err)
		}
	})
}

func TestImportCasesAPI(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		csv := "title,category,market,tags,field.order_id,external_id\nLost parcel,logistics/lost_parcel,GB,a;b,ORD-1,x-1\nBad,logistics/nope,GB,,,x-2\n"
		up := func(q, file string) reply {
			return e.do("admin", "POST", "/api/v1/admin/import/cases"+q, file, "Content-Type", "text/csv")
		}
		if r := up("", csv); r.status != 422 || !strings.Contains(string(r.body), `"line 3: category"`) {
			t.Fatalf("bad row: %d %s", r.status, r.body)
		}
		if r := up("?dry_run=1", csv); r.status != 200 || !strings.Contains(string(r.body), `"valid":1`) {
			t.Fatalf("dry run: %d %s", r.status, r.body)
		}
		if r := up("?partial=1", csv); r.status != 201 || !strings.Contains(string(r.body), `"created":1`) {
			t.Fatalf("partial: %d %s", r.status, r.body)
		}
		if r := up("?partial=1", csv); r.status != 200 || !strings.Contains(string(r.body), `"duplicates":1`) {
			t.Fatalf("again: %d %s", r.status, r.body)
		}
		if r := up("?dry_run=maybe", csv); r.status != 400 {
			t.Fatalf("bad flag: %d %s", r.status, r.body)
		}
		if r := up("", "colour\nred\n"); r.status != 422 || !strings.Contains(string(r.body), "line 1") {
			t.Fatalf("bad header: %d %s", r.status, r.body)
		}
	})
}
