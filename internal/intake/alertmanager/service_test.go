package alertmanager_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
	am "github.com/flare-desk/flare/internal/intake/alertmanager"
	"github.com/flare-desk/flare/internal/intake/webhook"
)

const token = "am-test-token"

var prod = am.Endpoint{Key: "prod", Name: "Production", Auth: webhook.Auth{Type: "bearer", SecretEnv: "FLARE_TEST_AM_TOKEN"},
	Category: "payments/payout_failed", Market: "GB", Labels: am.Labels{Market: "market"},
	HighRisk: am.HighRisk{Label: "severity", Values: []string{"critical"}}, ResolveCase: true}

func setup(t *testing.T, d *db.DB, e am.Endpoint) (*apptest.Fixture, *am.Service) {
	t.Helper()
	f := apptest.New(t, d)
	f.Reapply(t, func(c *desk.Config) { desk.Set(c, am.EndpointsKey, []am.Endpoint{e}) })
	s := f.App.Alertmanager
	s.UseSecrets(func(name string) string {
		if name == "FLARE_TEST_AM_TOKEN" {
			return token
		}
		return ""
	})
	return f, s
}

var t0 = apptest.T0

func alert(fp, status string, starts time.Time) am.Alert {
	a := am.Alert{Fingerprint: fp, Status: status, StartsAt: starts,
		Labels:      map[string]string{"alertname": "PayoutsFailing", "market": "DE", "severity": "critical", "instance": fp},
		Annotations: map[string]string{"summary": "Payouts to DE sellers are failing"}}
	if status == am.Resolved {
		a.EndsAt = starts.Add(time.Hour)
	}
	return a
}

func notify(t *testing.T, s *am.Service, status string, alerts ...am.Alert) *am.Receipt {
	t.Helper()
	r, err := send(s, status, alerts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const groupKey = `{}/{severity="critical"}:{alertname="PayoutsFailing"}`

func send(s *am.Service, status string, alerts ...am.Alert) (*am.Receipt, error) {
	return sendTo(s, groupKey, status, alerts...)
}

func sendTo(s *am.Service, gk, status string, alerts ...am.Alert) (*am.Receipt, error) {
	p := am.Payload{Version: "4", GroupKey: gk, Status: status, Receiver: "flare",
		GroupLabels: map[string]string{"alertname": "PayoutsFailing"}, CommonLabels: map[string]string{"alertname": "PayoutsFailing", "market": "DE"},
		CommonAnnotations: map[string]string{"summary": "Payouts to DE sellers are failing"}, ExternalURL: "http://alertmanager:9093", Alerts: alerts}
	body, _ := json.Marshal(p)
	h := http.Header{}
	h.Set("Authorization", "Bearer "+token)
	return s.Receive(context.Background(), "prod", h, strings.NewReader(string(body)))
}

func timeline(t *testing.T, f *apptest.Fixture, ref string) []cases.Event {
	t.Helper()
	evs, err := f.App.Cases.Events(context.Background(), auth.System("test"), ref)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func count(t *testing.T, d *db.DB, table string) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestGroupOpensUpdatesAndResolvesOneCase(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f, s := setup(t, d, prod)
		first := notify(t, s, am.Firing, alert("aa01", am.Firing, t0))
		if first.Outcome != am.OutcomeCreated || first.Case == "" {
			t.Fatalf("first: %+v", first)
		}
		c, err := f.App.Cases.Get(ctx, auth.System("test"), first.Case)
		if err != nil {
			t.Fatal(err)
		}
		if c.Channel != "alert" || c.Market != "DE" || !c.HighRisk || c.Category != "payments/payout_failed" ||
			c.Title != "PayoutsFailing: Payouts to DE sellers are failing" || !strings.Contains(c.Description, "aa01") {
			t.Fatalf("case %+v", c)
		}
		// Alertmanager repeats the notification: nothing changes.
		if r := notify(t, s, am.Firing, alert("aa01", am.Firing, t0)); r.Outcome != am.OutcomeUnchanged || r.Case != c.Number {
			t.Fatalf("repeat: %+v", r)
		}
		entries := len(timeline(t, f, c.Number))
		// A second alert joins the group: one timeline entry naming it.
		r := notify(t, s, am.Firing, alert("aa01", am.Firing, t0), alert("bb02", am.Firing, t0.Add(time.Minute)))
		if r.Outcome != am.OutcomeUpdated || r.Case != c.Number || r.Changes != 1 {
			t.Fatalf("update: %+v", r)
		}
		evs := timeline(t, f, c.Number)
		if len(evs) <= entries {
			t.Fatalf("no timeline entry for the new alert")
		}
		// Both resolve: the case is resolved, with the resolution on the timeline.
		r = notify(t, s, am.Resolved, alert("aa01", am.Resolved, t0), alert("bb02", am.Resolved, t0.Add(time.Minute)))
		if r.Outcome != am.OutcomeResolved || r.Changes != 2 {
			t.Fatalf("resolve: %+v", r)
		}
		c, _ = f.App.Cases.Get(ctx, auth.System("test"), c.Number)
		if c.Status != cases.StatusResolved || c.Resolution != "fixed" {
			t.Fatalf("case is %s (%s)", c.Status, c.Resolution)
		}
		if r := notify(t, s, am.Resolved, alert("aa01", am.Resolved, t0), alert("bb02", am.Resolved, t0.Add(time.Minute))); r.Outcome != am.OutcomeUnchanged {
			t.Fatalf("repeated resolve: %+v", r)
		}
		// It fires again later: a new case, not the resolved one.
		again := notify(t, s, am.Firing, alert("aa01", am.Firing, t0.Add(3*time.Hour)))
		if again.Outcome != am.OutcomeCreated || again.Case == c.Number {
			t.Fatalf("fires again: %+v", again)
		}
		if n := count(t, d, "cases"); n != 2 {
			t.Fatalf("%d cases, want 2", n)
		}
	})
}

func TestResolvedWithoutResolveCaseKeepsTheCaseOpen(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := prod
		e.ResolveCase = false
		f, s := setup(t, d, e)
		first := notify(t, s, am.Firing, alert("aa01", am.Firing, t0))
		r := notify(t, s, am.Resolved, alert("aa01", am.Resolved, t0))
		if r.Outcome != am.OutcomeUpdated || r.Case != first.Case {
			t.Fatalf("resolved: %+v", r)
		}
		c, _ := f.App.Cases.Get(context.Background(), auth.System("test"), first.Case)
		if !c.Status.Active() {
			t.Fatalf("case is %s", c.Status)
		}
		// Resolved alerts of a group never seen firing open nothing.
		if r, err := sendTo(s, "{}:{alertname=\"Other\"}", am.Resolved, alert("cc03", am.Resolved, t0)); err != nil || r.Outcome != am.OutcomeIgnored {
			t.Fatalf("%+v %v", r, err)
		}
	})
}

func TestBadNotificationsWriteNothing(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		_, s := setup(t, d, prod)
		h := http.Header{}
		h.Set("Authorization", "Bearer "+token)
		var inv *apperr.Invalid
		if _, err := s.Receive(ctx, "prod", h, strings.NewReader(`{"version":"4","status":"firing","alerts":[]}`)); !errors.As(err, &inv) {
			t.Fatalf("empty group: %v", err)
		}
		var ae *webhook.AuthError
		if _, err := s.Receive(ctx, "prod", http.Header{}, strings.NewReader(`{}`)); !errors.As(err, &ae) {
			t.Fatalf("no token: %v", err)
		}
		if _, err := s.Receive(ctx, "staging", h, strings.NewReader(`{}`)); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("unknown endpoint: %v", err)
		}
		if n := count(t, d, "cases") + count(t, d, "intake_alert_groups"); n != 0 {
			t.Fatalf("%d rows written", n)
		}
	})
}
