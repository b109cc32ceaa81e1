package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/notify"
)

// deliverNotify hands the outbox to notify and sends what is due, as the
// server's loops do.
func deliverNotify(t *testing.T, a *app.App) {
	t.Helper()
	ctx := context.Background()
	for {
		n, err := a.Bus.Deliver(ctx, notify.Subscriber)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if _, err := a.Notify.Fire(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestNotificationsAPI(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		num := e.newCase("")
		r := e.do("admin", "PATCH", "/api/v1/cases/"+num, map[string]any{"owner": "priya.shah@flare.example"})
		if r.status != 200 {
			t.Fatalf("assign: %d %s", r.status, r.body)
		}
		deliverNotify(t, e.app)
		r = e.do("agent", "GET", "/api/v1/notifications", nil)
		in := r.json(t)
		list, _ := in["notifications"].([]any)
		if r.status != 200 || in["unread"] != float64(1) || len(list) != 1 {
			t.Fatalf("priya's notifications: %d %s", r.status, r.body)
		}
		n := list[0].(map[string]any)
		if n["kind"] != "assigned" || n["case"] != num || !strings.Contains(n["title"].(string), "assigned to you") {
			t.Fatalf("notification %v", n)
		}
		if r = e.do("admin", "GET", "/api/v1/notifications", nil); r.json(t)["unread"] != float64(0) {
			t.Fatalf("the admin sees priya's: %s", r.body)
		}
		r = e.do("agent", "POST", "/api/v1/notifications/read", map[string]any{"ids": []int64{int64(n["id"].(float64))}})
		if got := r.json(t); r.status != 200 || got["marked"] != float64(1) || got["unread"] != float64(0) {
			t.Fatalf("mark read: %d %s", r.status, r.body)
		}
		if r = e.do("agent", "POST", "/api/v1/notifications/read", map[string]any{}); r.status != 422 {
			t.Fatalf("mark nothing read: %d", r.status)
		}

		// Preferences: every kind spelled out; bad input names its field.
		r = e.do("agent", "PUT", "/api/v1/notifications/preferences", map[string]any{
			"channels": map[string]any{"assigned": []string{"in_app"}}, "quiet_hours": map[string]any{"start": "22:00", "end": "07:00"}})
		p := r.json(t)
		chs, _ := p["channels"].(map[string]any)
		if r.status != 200 || len(chs) != len(notify.Kinds) || len(chs["assigned"].([]any)) != 1 || p["timezone"] != "Europe/London" {
			t.Fatalf("put preferences: %d %s", r.status, r.body)
		}
		r = e.do("agent", "PUT", "/api/v1/notifications/preferences", map[string]any{
			"channels": map[string]any{"assigned": []string{"sms"}}, "quiet_hours": map[string]any{"start": "9pm", "end": "07:00"}})
		if r.status != 422 || !strings.Contains(string(r.body), "channels.assigned[0]") || !strings.Contains(string(r.body), "quiet_hours.start") {
			t.Fatalf("bad preferences: %d %s", r.status, r.body)
		}
		if r = e.do("agent", "PUT", "/api/v1/notifications/preferences", map[string]any{"quiet": true}); r.status != 400 {
			t.Fatalf("unknown member: %d", r.status)
		}

		// Webhooks: the secret once; the log.
		r = e.do("admin", "POST", "/api/v1/admin/webhooks", map[string]any{"name": "Ops", "url": "https://hooks.invalid/flare",
			"format": "slack", "event_types": []string{"case.assigned"}})
		w := r.json(t)
		if r.status != 201 || !strings.HasPrefix(w["secret"].(string), "whsec_") || r.header.Get("Location") == "" {
			t.Fatalf("create webhook: %d %s", r.status, r.body)
		}
		r = e.do("admin", "GET", "/api/v1/admin/webhooks", nil)
		if r.status != 200 || strings.Contains(string(r.body), w["secret"].(string)) {
			t.Fatalf("the list shows the secret: %s", r.body)
		}
		if r = e.do("admin", "POST", "/api/v1/admin/webhooks", map[string]any{"name": "x", "url": "javascript:alert(1)"}); r.status != 422 {
			t.Fatalf("a bad URL: %d", r.status)
		}
		r = e.do("admin", "GET", "/api/v1/admin/notification-deliveries?channel=email&log=true", nil)
		if r.status != 200 {
			t.Fatalf("deliveries: %d %s", r.status, r.body)
		}
		if r = e.do("admin", "GET", "/api/v1/admin/notification-deliveries?state=lost", nil); r.status != 422 {
			t.Fatalf("an unknown state: %d", r.status)
		}
	})
}

// The bell and the notifications page: the count in the top bar; opening
// a notification marks it read and goes to its case; preferences save.
func TestUINotifications(t *testing.T) {
	e := newUIEnv(t) // Alice: a lead in escalations and logistics
	ctx := context.Background()
	bob, err := auth.UserByEmail(ctx, e.app.DB, "bob@flare.test")
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.app.Cases.Create(ctx, auth.ActorFor(bob), cases.CreateInput{Title: "Parcel stuck in depot", Category: "logistics/lost_parcel",
		Market: "GB", Fields: map[string]any{"order_id": "ORD-1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Cases.AddComment(ctx, auth.ActorFor(bob), c.Number, cases.CommentInput{Body: "@alice can you look?", Internal: true}); err != nil {
		t.Fatal(err)
	}
	deliverNotify(t, e.app)
	cl := e.client(t)
	e.signIn(t, cl, "/cases")
	_, body := e.get(t, cl, "/cases")
	if !strings.Contains(body, `id="nav-bell"`) || !strings.Contains(body, `<span class="nav-count" id="bell-count">1</span>`) {
		t.Fatalf("no bell with 1 unread in the top bar")
	}
	_, body = e.get(t, cl, "/notifications")
	if !strings.Contains(body, "Bob Fischer mentioned you in an internal note on "+c.Number) || !strings.Contains(body, `class="nt-item nt-unread`) {
		t.Fatalf("notifications page:\n%s", body)
	}
	list, err := e.app.Notify.List(ctx, e.lead, notify.InboxFilter{})
	if err != nil || len(list.Notifications) != 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	resp, _ := e.postForm(t, cl, "/notifications/read", url.Values{"id": {itoa(list.Notifications[0].ID)}, "next": {"/cases/" + c.Number}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/cases/"+c.Number {
		t.Fatalf("open: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body = e.get(t, cl, "/cases"); strings.Contains(body, `id="bell-count"`) {
		t.Fatal("the bell still counts a read notification")
	}
	form := url.Values{"ch.mention": {"in_app"}, "quiet": {"1"}, "quiet_start": {"21:30"}, "quiet_end": {"06:45"}}
	resp, _ = e.postForm(t, cl, "/notifications/preferences", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save preferences: %d", resp.StatusCode)
	}
	p, err := e.app.Notify.Preferences(ctx, e.lead)
	if err != nil || p.Quiet == nil || p.Quiet.Start != "21:30" || len(p.Channels[notify.KindMention]) != 1 || len(p.Channels[notify.KindAssigned]) != 0 {
		t.Fatalf("saved: %+v %v", p, err)
	}
	form.Set("quiet_start", "25:00")
	if resp, body = e.postForm(t, cl, "/notifications/preferences", form); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "quiet_hours.start") {
		t.Fatalf("bad quiet hours: %d", resp.StatusCode)
	}
	// Webhooks are for admins.
	if resp, _ := e.get(t, cl, "/admin/webhooks"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a lead opens the webhooks page: %d", resp.StatusCode)
	}
}

// An admin makes a webhook on its page, sees the secret once, and its
// delivery log with each attempt's status.
func TestUIWebhooks(t *testing.T) {
	e := newUIEnv(t)
	ctx := context.Background()
	admin, err := auth.UserByEmail(ctx, e.app.DB, "admin@flare.test")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.app.DB.InTx(ctx, func(tx *db.Tx) error { return auth.SetPassword(ctx, tx, time.Now(), admin.ID, uiTestPassword) }); err != nil {
		t.Fatal(err)
	}
	e.email = admin.Email
	var hits int
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if hits++; hits == 1 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer rcv.Close()
	cl := e.client(t)
	e.signIn(t, cl, "/admin/webhooks")
	_, body := e.get(t, cl, "/admin/webhooks")
	if !strings.Contains(body, "No webhooks yet") || !strings.Contains(body, `value="case.created"`) {
		t.Fatalf("empty webhooks page:\n%s", body)
	}
	resp, body := e.postForm(t, cl, "/admin/webhooks", url.Values{"name": {"Ops"}, "url": {rcv.URL}, "format": {"json"},
		"event_types": {"case.created"}})
	if resp.StatusCode != http.StatusCreated || !strings.Contains(body, `id="webhook-secret"`) || !strings.Contains(body, "whsec_") {
		t.Fatalf("create: %d\n%s", resp.StatusCode, body)
	}
	hooks, err := e.app.Notify.Webhooks(ctx, auth.ActorFor(admin))
	if err != nil || len(hooks) != 1 {
		t.Fatalf("hooks %v %v", hooks, err)
	}
	if _, err := e.app.Cases.Create(ctx, e.lead, cases.CreateInput{Title: "Parcel stuck in depot", Category: "logistics/lost_parcel",
		Market: "GB", Fields: map[string]any{"order_id": "ORD-1"}}, nil); err != nil {
		t.Fatal(err)
	}
	deliverNotify(t, e.app)
	page := "/admin/webhooks/" + itoa(hooks[0].ID)
	_, body = e.get(t, cl, page)
	if !strings.Contains(body, `id="delivery-log"`) || !strings.Contains(body, "500 · ") || strings.Contains(body, "whsec_") {
		t.Fatalf("webhook page after one failed attempt:\n%s", body)
	}
	resp, _ = e.postForm(t, cl, page, url.Values{"action": {"disable"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", resp.StatusCode)
	}
	if _, body = e.get(t, cl, "/admin/webhooks"); !strings.Contains(body, "Disabled") {
		t.Fatal("not shown disabled")
	}
	resp, _ = e.postForm(t, cl, page, url.Values{"action": {"delete"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/webhooks" {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
}
