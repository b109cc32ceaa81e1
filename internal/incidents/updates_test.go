package incidents_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/incidents"
	"github.com/flare-desk/flare/internal/notify"
)

// flush delivers the outbox to notify, as the server's loops do.
func (f *fixture) flush(t *testing.T) {
	t.Helper()
	for {
		n, err := f.App.Bus.Deliver(f.ctx, notify.Subscriber)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// bell reports whether name's in-app notifications hold one of type typ.
func (f *fixture) bell(t *testing.T, name string, typ events.Type) bool {
	t.Helper()
	in, err := f.App.Notify.List(f.ctx, f.Actor(name), notify.InboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(in.Notifications, func(n notify.Notification) bool { return n.EventType == string(typ) })
}

// An update is composed from a template, previewed with its recipients,
// sent (kept on the status page, the next update due a cadence later) and
// told to its stakeholders through the event notify delivers. The reminder
// fires when the next update is due, once per cadence.
func TestUpdatesAndReminders(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		amelia := f.Actor("amelia.clarke")
		c := f.newCase(t, cases.CreateInput{Title: "Payouts late", Category: "payments/payout_failed", Market: "GB", SellerID: "S-1001"})
		inc := f.declare(t, "amelia.clarke", incidents.DeclareInput{Title: "Payout run delayed", Type: incidents.TypeService,
			Severity: incidents.SEV1, Commander: "amelia.clarke@flare.example", Case: c.Number})
		if _, err := f.inc.AssignRole(f.ctx, amelia, inc.Number, incidents.RoleComms, incidents.RoleInput{Email: "priya.shah@flare.example"}); err != nil {
			t.Fatal(err)
		}
		if err := f.inc.Subscribe(f.ctx, f.Actor("marcus.reed"), inc.Number, true); err != nil {
			t.Fatal(err)
		}
		priya := f.Actor("priya.shah")
		p, err := f.inc.Compose(f.ctx, priya, inc.Number, incidents.UpdateInput{Audience: incidents.AudienceSellers})
		if err != nil {
			t.Fatal(err)
		}
		// The account manager of S-1001 (the linked case's seller), the commander and the subscriber; not Priya.
		want := []string{"amelia.clarke@flare.example", "marcus.reed@flare.example", "sophie.martin@flare.example"}
		slices.Sort(p.Recipients)
		if !slices.Equal(p.Recipients, want) || !strings.Contains(p.Body, "sellers in GB") || !strings.Contains(p.Body, "09:30 UTC") {
			t.Fatalf("preview: %+v", p)
		}
		_, err = f.inc.Compose(f.ctx, priya, inc.Number, incidents.UpdateInput{Audience: incidents.AudienceSellers, Body: "{{.Nope}}"})
		apptestWantInvalid(t, err, "body")

		f.Clock.Advance(20 * time.Minute)
		up, err := f.inc.PostUpdate(f.ctx, priya, inc.Number, incidents.UpdateInput{Audience: incidents.AudiencePublic})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := f.inc.Get(f.ctx, amelia, inc.Number)
		if !got.NextUpdateAt.Equal(t0.Add(50*time.Minute)) || up.Recipients != 2 {
			t.Fatalf("after update: next %v, recipients %d", got.NextUpdateAt, up.Recipients)
		}
		// Anyone signed in reads the status page; the case shows the banner with the public update.
		ups, err := f.inc.Updates(f.ctx, f.Actor("sophie.martin"), inc.Number)
		if err != nil || len(ups) != 1 {
			t.Fatalf("status page: %v %v", ups, err)
		}
		bs, err := f.inc.ForCase(f.ctx, amelia, c.Number)
		if err != nil || len(bs) != 1 || bs[0].Update != up.Body {
			t.Fatalf("banner: %+v %v", bs, err)
		}
		// Reminders: due at +50m, reminding Priya (comms); again at +80m.
		f.Clock.Advance(29 * time.Minute)
		next, err := f.inc.Fire(f.ctx)
		if err != nil || !next.Equal(t0.Add(50*time.Minute)) {
			t.Fatalf("early: next %v %v", next, err)
		}
		f.Clock.Advance(time.Minute)
		if _, err := f.inc.Fire(f.ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := f.inc.Fire(f.ctx); err != nil { // once
			t.Fatal(err)
		}
		got, _ = f.inc.Get(f.ctx, amelia, inc.Number)
		if !got.NextUpdateAt.Equal(t0.Add(80 * time.Minute)) {
			t.Fatalf("re-armed at %v", got.NextUpdateAt)
		}
		tl, _ := f.inc.Timeline(f.ctx, amelia, inc.Number)
		dues := 0
		for _, e := range tl {
			if e.Kind == "update_due" {
				dues++
				if e.Data["to"] != "priya.shah@flare.example" {
					t.Fatalf("reminded %v", e.Data)
				}
			}
		}
		if dues != 1 {
			t.Fatalf("%d reminders", dues)
		}
		// Resolving stops them.
		if _, err := f.inc.Transition(f.ctx, amelia, inc.Number, incidents.TransitionInput{To: incidents.Resolved}); err != nil {
			t.Fatal(err)
		}
		if got, _ = f.inc.Get(f.ctx, amelia, inc.Number); got.NextUpdateAt != nil {
			t.Fatal("reminder after resolve")
		}
		// notify delivered them: Sophie's bell has the public update? No — she
		// is an account_managers stakeholder, not a public one; Marcus (a
		// subscriber) has it, Priya has the reminder.
		f.flush(t)
		if !f.bell(t, "marcus.reed", events.IncidentUpdatePosted) || f.bell(t, "sophie.martin", events.IncidentUpdatePosted) ||
			!f.bell(t, "priya.shah", events.IncidentUpdateDue) {
			t.Fatal("notifications")
		}
	})
}
