package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/incidents"
	am "github.com/flare-desk/flare/internal/intake/alertmanager"
	"github.com/flare-desk/flare/internal/intake/webhook"
)

// The demo desk's intake channels: a social-media monitor (HMAC-signed
// webhooks), a marketplace partner's feed (a bearer token) and the
// payments platform's Alertmanager, with a few cases that arrived through
// them. Their secrets are public demo values, used when the server's
// environment does not set the variables the desk names; a real desk's
// secrets are only ever in the environment.

// DemoSecrets are the demo endpoints' secrets, by environment variable.
var DemoSecrets = map[string]string{
	"FLARE_INTAKE_SOCIAL_SECRET":      "demo-social-secret",
	"FLARE_INTAKE_PARTNER_TOKEN":      "demo-partner-token",
	"FLARE_INTAKE_ALERTMANAGER_TOKEN": "demo-alertmanager-token",
}

var (
	socialMonitor = webhook.Endpoint{Key: "social-monitor", Name: "Social listening (brand monitor)", Channel: "social",
		Auth: webhook.Auth{Type: webhook.AuthHMAC, SecretEnv: "FLARE_INTAKE_SOCIAL_SECRET", Header: "X-Signature-256", Prefix: "sha256=",
			TimestampHeader: "X-Signature-Timestamp", Tolerance: "5m"},
		ExternalID: "{{/network}}:{{/post/id}}",
		Map: webhook.Mapping{Title: "{{/author/handle}} on {{/network}}: {{/post/text}}", Description: "{{/post/text}}\n\n{{?/post/url}}",
			Category: "{{?/topic}}", Market: "{{?/country}}", RequesterName: "{{/author/name}}",
			HighRisk: "{{?/flags/viral}}", Tags: []string{"social", "{{/network}}"}},
		Defaults: webhook.Defaults{Category: "safety/counterfeit", Market: "GB"}}
	partnerFeed = webhook.Endpoint{Key: "partner-feed", Name: "Carrier partner incidents (ParcelNet)", Channel: "external",
		Auth:       webhook.Auth{Type: webhook.AuthBearer, SecretEnv: "FLARE_INTAKE_PARTNER_TOKEN"},
		ExternalID: "{{/incident/ref}}",
		Map: webhook.Mapping{Title: "ParcelNet {{/incident/ref}}: {{/incident/summary}}", Description: "{{/incident/details}}",
			Category: "{{?/incident/category}}", Market: "{{/incident/market}}", RequesterName: "{{?/contact/name}}",
			RequesterEmail: "{{?/contact/email}}", Tags: []string{"partner", "parcelnet"},
			Fields: map[string]string{"order_id": "{{?/incident/order_id}}", "tracking_number": "{{?/incident/tracking}}"}},
		Defaults: webhook.Defaults{Category: "logistics/lost_parcel"}}
	paymentsAlerts = am.Endpoint{Key: "payments-prod", Name: "Payments platform (production Alertmanager)",
		Auth:     webhook.Auth{Type: webhook.AuthBearer, SecretEnv: "FLARE_INTAKE_ALERTMANAGER_TOKEN"},
		Category: "payments/payout_delayed", Market: "GB", Labels: am.Labels{Market: "market"},
		HighRisk: am.HighRisk{Label: "severity", Values: []string{"critical"}}, ResolveCase: true,
		// Checkout errors are an incident, not just a case (README: the group the example sends declares one).
		Incidents: []am.DeclareRule{{Name: "checkout-errors", Match: map[string]string{"alertname": "CheckoutErrors"},
			Type: incidents.TypeService, Severity: incidents.SEV2, Title: "Checkout errors in {{.Labels.market}}: {{.Annotations.summary}}",
			Summary: "Declared from the payments platform's Alertmanager: {{.Annotations.summary}}."}}}
)

// intakeChannelsDesk adds the endpoints to the demo desk.
func intakeChannelsDesk(cfg *desk.Config) {
	desk.Set(cfg, webhook.EndpointsKey, []webhook.Endpoint{socialMonitor, partnerFeed})
	desk.Set(cfg, am.EndpointsKey, []am.Endpoint{paymentsAlerts})
}

// DemoSecret reads a secret from getenv, else the demo's own.
func DemoSecret(getenv func(string) string) func(string) string {
	return func(name string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return DemoSecrets[name]
	}
}

// useDemoSecrets lets the demo endpoints take their documented secrets.
func useDemoSecrets(a *app.App) {
	a.Webhooks.UseSecrets(DemoSecret(os.Getenv))
	a.Alertmanager.UseSecrets(DemoSecret(os.Getenv))
}

// intakeSeedCases is how many cases seedIntakeChannels opens.
const intakeSeedCases = 6

// seedIntakeChannels sends a few posts, partner incidents and an alert
// group through the endpoints, as their senders would: through the same
// authentication, mapping and intake as live traffic. Re-running sends
// the same ids again, which the intake recognises.
func seedIntakeChannels(ctx context.Context, a *app.App) error {
	now := a.Clock.Now().UTC()
	posts := []map[string]any{
		{"network": "x", "post": map[string]any{"id": "1861200000000000001", "text": "Bought 'Anker' chargers from a Larkspur seller, clearly fake and one melted overnight. @Larkspur do something", "url": "https://x.example/jules/1861200000000000001"},
			"author": map[string]any{"handle": "@jules_makes", "name": "Jules Martin"}, "country": "FR", "topic": "safety/counterfeit", "flags": map[string]any{"viral": true}},
		{"network": "instagram", "post": map[string]any{"id": "C9x2LkPq", "text": "Third week waiting for my payout from Larkspur. Small sellers are being ignored #sellerlife"},
			"author": map[string]any{"handle": "@kiln_and_clay", "name": "Hanna Berg"}, "country": "DE", "topic": "payments/payout_delayed"},
		{"network": "tiktok", "post": map[string]any{"id": "7312455001", "text": "This kids' toy from Larkspur has tiny magnets that fall out, please check before buying"},
			"author": map[string]any{"handle": "@mumof3_uk", "name": "Priya K."}, "topic": "safety/product_safety", "flags": map[string]any{"viral": false}},
	}
	for _, p := range posts {
		body, _ := json.Marshal(p)
		h := http.Header{}
		ts := now.Unix()
		h.Set("X-Signature-Timestamp", fmt.Sprint(ts))
		h.Set("X-Signature-256", socialMonitor.Auth.Canonical().Sign(body, DemoSecrets["FLARE_INTAKE_SOCIAL_SECRET"], ts))
		if _, err := a.Webhooks.Receive(ctx, socialMonitor.Key, h, strings.NewReader(string(body))); err != nil {
			return fmt.Errorf("demo social post: %w", err)
		}
	}
	incidents := []map[string]any{
		{"incident": map[string]any{"ref": "PN-48213", "summary": "Trailer fire at the Leipzig hub, 312 parcels affected", "market": "DE",
			"details":  "A trailer caught fire at the Leipzig sorting hub at 04:10. Parcels on it are presumed destroyed; the list follows by SFTP.",
			"tracking": "PN48213000DE"}, "contact": map[string]any{"name": "ParcelNet Incident Desk", "email": "incidents@parcelnet.example"}},
		{"incident": map[string]any{"ref": "PN-48230", "summary": "Parcel misrouted to Rotterdam, customs hold", "market": "NL", "category": "logistics/delayed_delivery",
			"details":  "A high-value parcel was misrouted and is held by customs; the seller must provide a commercial invoice.",
			"order_id": "LS-2026-0088412"}, "contact": map[string]any{"name": "ParcelNet Incident Desk", "email": "incidents@parcelnet.example"}},
	}
	for _, in := range incidents {
		body, _ := json.Marshal(in)
		h := http.Header{}
		h.Set("Authorization", "Bearer "+DemoSecrets["FLARE_INTAKE_PARTNER_TOKEN"])
		if _, err := a.Webhooks.Receive(ctx, partnerFeed.Key, h, strings.NewReader(string(body))); err != nil {
			return fmt.Errorf("demo partner incident: %w", err)
		}
	}
	// An alert group that fired, then gained a second alert.
	starts := now.Add(-40 * time.Minute).Truncate(time.Second)
	alert := func(fp, instance string, at time.Time) am.Alert {
		return am.Alert{Status: am.Firing, Fingerprint: fp, StartsAt: at, GeneratorURL: "https://prometheus.payments.example/graph?g0.expr=payout_batch_failures",
			Labels:      map[string]string{"alertname": "PayoutBatchFailing", "market": "GB", "severity": "critical", "instance": instance},
			Annotations: map[string]string{"summary": "Payout batches to GB sellers are failing", "runbook": "https://runbooks.payments.example/payouts"}}
	}
	for _, alerts := range [][]am.Alert{
		{alert("4f1c2e9a7b", "payouts-1", starts)},
		{alert("4f1c2e9a7b", "payouts-1", starts), alert("9a0b7c3d21", "payouts-2", starts.Add(12*time.Minute))},
	} {
		body, _ := json.Marshal(am.Payload{Version: "4", GroupKey: `{}:{alertname="PayoutBatchFailing"}`, Status: am.Firing, Receiver: "flare",
			GroupLabels: map[string]string{"alertname": "PayoutBatchFailing"}, CommonLabels: map[string]string{"alertname": "PayoutBatchFailing", "market": "GB", "severity": "critical"},
			CommonAnnotations: map[string]string{"summary": "Payout batches to GB sellers are failing"}, ExternalURL: "https://alertmanager.payments.example", Alerts: alerts})
		h := http.Header{}
		h.Set("Authorization", "Bearer "+DemoSecrets["FLARE_INTAKE_ALERTMANAGER_TOKEN"])
		if _, err := a.Alertmanager.Receive(ctx, paymentsAlerts.Key, h, strings.NewReader(string(body))); err != nil {
			return fmt.Errorf("demo alert: %w", err)
		}
	}
	return nil
}
