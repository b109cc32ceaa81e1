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
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/incidents"
	am "github.com/flare-desk/flare/internal/intake/alertmanager"
)

var checkoutRule = am.DeclareRule{Name: "checkout-down", Match: map[string]string{"severity": "critical", "service": "checkout"},
	Type: incidents.TypeService, Severity: incidents.SEV2, Title: "{{.Labels.service}} down in {{.Labels.market}}: {{.Annotations.summary}}"}

// sendGroup notifies group gk with common labels service and severity.
func sendGroup(t *testing.T, s *am.Service, gk, service, status string, alerts ...am.Alert) *am.Receipt {
	t.Helper()
	p := am.Payload{Version: "4", GroupKey: gk, Status: status, Receiver: "flare",
		GroupLabels:       map[string]string{"alertname": "CheckoutErrors"},
		CommonLabels:      map[string]string{"alertname": "CheckoutErrors", "market": "DE", "severity": "critical", "service": service},
		CommonAnnotations: map[string]string{"summary": "Checkout returns 5xx"}, Alerts: alerts}
	body, _ := json.Marshal(p)
	h := http.Header{}
	h.Set("Authorization", "Bearer "+token)
	r, err := s.Receive(context.Background(), "prod", h, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func incidentList(t *testing.T, f *apptest.Fixture) []*incidents.Incident {
	t.Helper()
	page, err := f.App.Incidents.List(context.Background(), auth.System("test"), incidents.Filter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return page.Incidents
}

func kinds(t *testing.T, f *apptest.Fixture, ref string) map[string]int {
	t.Helper()
	tl, err := f.App.Incidents.Timeline(context.Background(), auth.System("test"), ref)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range tl {
		out[e.Kind]++
	}
	return out
}

func TestRuleDeclaresOneIncidentPerFiringGroup(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := prod
		e.Incidents = []am.DeclareRule{checkoutRule}
		f, s := setup(t, d, e)
		const gk = `{}:{alertname="CheckoutErrors"}`
		first := sendGroup(t, s, gk, "checkout", am.Firing, alert("aa01", am.Firing, t0.Add(-10*time.Minute)))
		list := incidentList(t, f)
		if len(list) != 1 {
			t.Fatalf("%d incidents, want 1", len(list))
		}
		inc := list[0]
		if inc.Title != "checkout down in DE: Checkout returns 5xx" || inc.Type != incidents.TypeService || inc.Severity != incidents.SEV2 ||
			!inc.Moments.Started.Equal(t0.Add(-10*time.Minute)) {
			t.Fatalf("incident %+v started %v", inc, inc.Moments.Started)
		}
		linked, err := f.App.Incidents.LinkedCaseIDs(ctx, d, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := f.App.Cases.Get(ctx, auth.System("test"), first.Case)
		if len(linked) != 1 || linked[0] != c.ID {
			t.Fatalf("linked %v, want the group's case %d", linked, c.ID)
		}
		// The same notification again, and a second alert joining: no second incident.
		sendGroup(t, s, gk, "checkout", am.Firing, alert("aa01", am.Firing, t0.Add(-10*time.Minute)))
		sendGroup(t, s, gk, "checkout", am.Firing, alert("aa01", am.Firing, t0.Add(-10*time.Minute)), alert("bb02", am.Firing, t0))
		if n := len(incidentList(t, f)); n != 1 {
			t.Fatalf("%d incidents after repeats, want 1", n)
		}
		// The group resolves (and so does its case): recorded once on the incident's timeline.
		res := []am.Alert{alert("aa01", am.Resolved, t0.Add(-10*time.Minute)), alert("bb02", am.Resolved, t0)}
		sendGroup(t, s, gk, "checkout", am.Resolved, res...)
		sendGroup(t, s, gk, "checkout", am.Resolved, res...)
		if k := kinds(t, f, inc.Number); k["alert_group_resolved"] != 1 {
			t.Fatalf("timeline kinds %v, want one alert_group_resolved", k)
		}
		// It fires again while the incident is open: the new case joins it.
		again := sendGroup(t, s, gk, "checkout", am.Firing, alert("aa01", am.Firing, t0.Add(time.Hour)))
		if again.Case == first.Case || len(incidentList(t, f)) != 1 {
			t.Fatalf("fired again: %+v, %d incidents", again, len(incidentList(t, f)))
		}
		if linked, _ = f.App.Incidents.LinkedCaseIDs(ctx, d, inc.ID); len(linked) != 2 {
			t.Fatalf("linked %v, want both cases", linked)
		}
		// Once the incident is resolved, the next firing declares a new one.
		sendGroup(t, s, gk, "checkout", am.Resolved, alert("aa01", am.Resolved, t0.Add(time.Hour)))
		if _, err := f.App.Incidents.Transition(ctx, auth.System("test"), inc.Number, incidents.TransitionInput{To: incidents.Resolved}); err != nil {
			t.Fatal(err)
		}
		sendGroup(t, s, gk, "checkout", am.Firing, alert("aa01", am.Firing, t0.Add(2*time.Hour)))
		if n := len(incidentList(t, f)); n != 2 {
			t.Fatalf("%d incidents after the first resolved, want 2", n)
		}
		// A group the rule does not match declares nothing.
		sendGroup(t, s, `{}:{alertname="SearchSlow"}`, "search", am.Firing, alert("cc03", am.Firing, t0))
		if n := len(incidentList(t, f)); n != 2 {
			t.Fatalf("%d incidents after another service's group, want 2", n)
		}
	})
}

func TestBadDeclareRulesAreRefused(t *testing.T) {
	f := apptest.New(t, dbtest.SQLite(t, app.Migrate))
	cfg, err := f.App.Desk.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e := prod
	e.Incidents = []am.DeclareRule{{Name: "Bad Name", Type: "outage", Severity: "SEV9", Title: "{{.Labels.service"}}
	desk.Set(cfg, am.EndpointsKey, []am.Endpoint{e})
	_, err = f.App.Desk.Apply(context.Background(), auth.System("test"), apptest.T0, cfg)
	var inv *apperr.Invalid
	if !errors.As(err, &inv) {
		t.Fatalf("applied: %v", err)
	}
	for _, field := range []string{".name", ".match", ".type", ".severity", ".title"} {
		if !strings.Contains(err.Error(), "incidents[0]"+field) {
			t.Errorf("no error for %s in %v", field, err)
		}
	}
}
