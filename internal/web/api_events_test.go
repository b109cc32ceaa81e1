package web

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/events"
)

// An admin sees a durable subscriber fall behind, its dead letter, and
// replays it; nobody else sees deliveries.
func TestEventDeliveriesAdmin(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		ctx := context.Background()
		down := true
		var got []string
		e.app.Bus.Subscribe("crm", func(_ context.Context, ev events.Event) error {
			if down {
				return errors.New("crm answered 503")
			}
			got = append(got, string(ev.Type))
			return nil
		}, events.SubscriberOptions{MaxAttempts: 1, Types: []events.Type{events.CaseCreated}})
		r := e.do("agent", "POST", "/api/v1/cases", lostParcelCase())
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		if _, err := e.app.Bus.Deliver(ctx, "crm"); err != nil {
			t.Fatal(err)
		}
		for _, role := range []string{"lead", "agent", "account_manager", "qa", "viewer"} {
			for _, p := range []string{"/api/v1/admin/subscribers", "/api/v1/admin/deliveries"} {
				if r := e.do(role, "GET", p, nil); r.status != 403 {
					t.Errorf("%s as %s: %d", p, role, r.status)
				}
			}
			if r := e.do(role, "POST", "/api/v1/admin/deliveries/replay", map[string]any{"subscriber": "crm"}); r.status != 403 {
				t.Errorf("replay as %s: %d", role, r.status)
			}
		}
		r = e.do("admin", "GET", "/api/v1/admin/subscribers", nil)
		if r.status != 200 || !strings.Contains(string(r.body), `"name":"crm"`) || !strings.Contains(string(r.body), `"dead":1`) ||
			!strings.Contains(string(r.body), `"last_error":"crm answered 503"`) {
			t.Fatalf("subscribers: %d %s", r.status, r.body)
		}
		r = e.do("admin", "GET", "/api/v1/admin/deliveries?subscriber=crm", nil)
		if r.status != 200 || !strings.Contains(string(r.body), `"state":"dead"`) || !strings.Contains(string(r.body), `"type":"case.created"`) {
			t.Fatalf("deliveries: %d %s", r.status, r.body)
		}
		for _, bad := range []string{"?state=lost", "?limit=0", "?before=x", "?colour=red"} {
			if r := e.do("admin", "GET", "/api/v1/admin/deliveries"+bad, nil); r.status != 422 {
				t.Errorf("deliveries%s: %d %s", bad, r.status, r.body)
			}
		}
		if r := e.do("admin", "POST", "/api/v1/admin/deliveries/replay", map[string]any{}); r.status != 422 {
			t.Errorf("empty replay: %d %s", r.status, r.body)
		}
		down = false
		r = e.do("admin", "POST", "/api/v1/admin/deliveries/replay", map[string]any{"subscriber": "crm"})
		if r.status != 200 || !strings.Contains(string(r.body), `"replayed":1`) {
			t.Fatalf("replay: %d %s", r.status, r.body)
		}
		if _, err := e.app.Bus.Deliver(ctx, "crm"); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0] != "case.created" {
			t.Fatalf("after replay the subscriber got %v", got)
		}
	})
}
