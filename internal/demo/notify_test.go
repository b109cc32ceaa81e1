package demo

import (
	"context"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/notify"
)

// The demo users' bells hold realistic notifications; account managers'
// only the public side; no mail is composed (the demo has no SMTP server).
func TestDemoNotifications(t *testing.T) {
	ctx := context.Background()
	d := dbtest.SQLite(t, app.Migrate)
	a, err := app.New(d, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Load(ctx, a, Options{Seed: 1, Cases: 300, Now: testNow}); err != nil {
		t.Fatal(err)
	}
	users, err := auth.ListUsers(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	told := map[auth.Role]int{}
	for _, u := range users {
		in, err := a.Notify.List(ctx, auth.ActorFor(u), notify.InboxFilter{Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		told[u.Role] += len(in.Notifications)
		for _, n := range in.Notifications {
			if u.Role == auth.RoleAccountManager && n.Kind != notify.KindStatus {
				t.Errorf("account manager %s told %s: %s", u.Email, n.Kind, n.Title)
			}
			if n.Title == "" || n.Case == "" {
				t.Errorf("an empty notification: %+v", n)
			}
		}
	}
	if told[auth.RoleAgent] < 10 || told[auth.RoleLead] == 0 || told[auth.RoleAccountManager] == 0 {
		t.Fatalf("notifications by role: %v", told)
	}
	page, err := a.Notify.Deliveries(ctx, auth.System("test"), notify.DeliveryFilter{Channel: "email"})
	if err != nil || len(page.Deliveries) != 0 {
		t.Fatalf("mail composed without an SMTP server: %v %v", page, err)
	}
	hooks, err := a.Notify.Webhooks(ctx, auth.System("test"))
	if err != nil || len(hooks) != 2 {
		t.Fatalf("demo webhooks: %v %v", hooks, err)
	}
	if _, err := Load(ctx, a, Options{Seed: 1, Cases: 10, Now: testNow}); err != nil {
		t.Fatal(err)
	}
	if hooks, _ := a.Notify.Webhooks(ctx, auth.System("test")); len(hooks) != 2 {
		t.Fatalf("a second load adds webhooks: %d", len(hooks))
	}
}
