package postmortems_test

import (
	"context"
	"errors"
	"strings"
	"sync"
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
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/incidents"
	"github.com/flare-desk/flare/internal/postmortems"
)

var t0 = apptest.T0 // Monday 2 November 2026, 09:00 UTC

type fixture struct {
	*apptest.Fixture
	pm  *postmortems.Service
	ctx context.Context
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	fx := apptest.New(t, d)
	fx.Reapply(t, func(c *desk.Config) {
		desk.Set(c, incidents.SettingsKey, incidents.Settings{CommanderTeam: "trust_safety"})
	})
	return &fixture{Fixture: fx, pm: fx.App.Postmortems, ctx: context.Background()}
}

func (f *fixture) declare(t *testing.T, sev incidents.Severity) *incidents.Incident {
	t.Helper()
	inc, err := f.App.Incidents.Declare(f.ctx, f.Actor("amelia.clarke"), incidents.DeclareInput{Title: "Payouts held in error",
		Type: incidents.TypeService, Severity: sev, Markets: []string{"GB", "DE"}, Commander: "amelia.clarke@flare.example"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

func (f *fixture) newCase(t *testing.T, in cases.CreateInput) *cases.Case {
	t.Helper()
	c, err := f.App.Cases.Create(f.ctx, auth.System("test"), in, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fundsHeld(market, seller, amount string) cases.CreateInput {
	return cases.CreateInput{Title: "Payout held for " + seller, Category: "payments/funds_held", Market: market, SellerID: seller,
		Fields: map[string]any{"amount_held": map[string]any{"amount": amount, "currency": "EUR"}}}
}

// link links three cases, counted by hand: two funds held (EUR 1,250.00
// for Thames Home Goods, tier 1, GB; EUR 99.95 for Bayern Elektronik,
// tier 2, DE) and a lost parcel in GB without a seller: 3 cases, GB 2,
// DE 1, 2 sellers of which 1 tier 1, EUR 1,349.95 over 2 cases.
func (f *fixture) link(t *testing.T, inc *incidents.Incident) {
	t.Helper()
	a := f.newCase(t, fundsHeld("GB", "S-1001", "1250.00"))
	b := f.newCase(t, fundsHeld("DE", "S-2001", "99.95"))
	c := f.newCase(t, cases.CreateInput{Title: "Parcel lost", Category: "logistics/lost_parcel", Market: "GB",
		Fields: map[string]any{"order_id": "ORD-1", "tracking_number": "TRK1", "carrier": "DPD"}})
	if _, err := f.App.Incidents.Link(f.ctx, f.Actor("amelia.clarke"), inc.Number,
		incidents.LinkInput{Cases: []string{a.Number, b.Number, c.Number}}); err != nil {
		t.Fatal(err)
	}
}

func isConflict(err error, want string) bool {
	var c *apperr.Conflict
	return errors.As(err, &c) && strings.Contains(c.Detail, want)
}

// A SEV2 cannot close until its postmortem is published; the figures come
// from the linked cases and are kept as published.
func TestPostmortemGatesClose(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		amelia, jonas, priya := f.Actor("amelia.clarke"), f.Actor("jonas.weber"), f.Actor("priya.shah")
		inc := f.declare(t, incidents.SEV2)
		f.link(t, inc)
		facts := postmortems.IncidentFacts{ID: inc.ID, Number: inc.Number, Severity: "SEV2"}
		if p, err := f.pm.Get(f.ctx, amelia, inc.Number); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("before it starts: %+v %v", p, err)
		}

		if _, err := f.App.Incidents.Transition(f.ctx, amelia, inc.Number, incidents.TransitionInput{To: incidents.Resolved}); err != nil {
			t.Fatal(err)
		}
		closeIt := func() error {
			_, err := f.App.Incidents.Transition(f.ctx, amelia, inc.Number, incidents.TransitionInput{To: incidents.Closed})
			return err
		}
		if err := closeIt(); !isConflict(err, "has none yet") {
			t.Fatalf("close without a postmortem: %v", err)
		}
		p, err := f.pm.Start(f.ctx, priya, inc.Number, nil)
		if err != nil {
			t.Fatal(err)
		}
		im := p.Impact
		if im.Cases != 3 || im.MarketsLine() != "GB (2), DE (1)" || im.Sellers != 2 || im.KeySellers != 1 ||
			im.MoneyLine() != "EUR 1,349.95 over 2 cases" || im.Open != 3 {
			t.Fatalf("impact %+v", im)
		}
		ci, _ := p.Sections.Section("customer_impact")
		if !strings.Contains(ci.Body, "**3** linked cases in GB (2), DE (1)") || !strings.Contains(ci.Body, "EUR 1,349.95") {
			t.Errorf("customer impact pre-filled as %q", ci.Body)
		}
		si, _ := p.Sections.Section("seller_impact")
		if !strings.Contains(si.Body, "Thames Home Goods Ltd (GB, tier 1): 1 cases") {
			t.Errorf("seller impact pre-filled as %q", si.Body)
		}
		if tl, _ := p.Sections.Section("timeline"); !strings.Contains(tl.Body, "Declared") {
			t.Errorf("timeline pre-filled as %q", tl.Body)
		}
		if _, err := f.pm.Start(f.ctx, priya, inc.Number, nil); !isConflict(err, "has a postmortem already") {
			t.Errorf("second start: %v", err)
		}
		if err := closeIt(); !isConflict(err, "the postmortem is draft — write Summary, Root cause, then send it for review") {
			t.Fatalf("close with a draft: %v", err)
		}

		// Submitted blank, it cannot be published; the lead sends it back.
		if _, err := f.pm.Transition(f.ctx, priya, inc.Number, postmortems.TransitionInput{To: postmortems.InReview}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.pm.Transition(f.ctx, priya, inc.Number, postmortems.TransitionInput{To: postmortems.Published}); err == nil {
			t.Fatal("an agent published")
		}
		if _, err := f.pm.Transition(f.ctx, jonas, inc.Number, postmortems.TransitionInput{To: postmortems.Published}); !isConflict(err, "write Summary, Root cause") {
			t.Fatalf("published blank: %v", err)
		}
		p, err = f.pm.Transition(f.ctx, jonas, inc.Number, postmortems.TransitionInput{To: postmortems.Draft, Note: "root cause?"})
		if err != nil || p.State != postmortems.Draft || p.ReviewNote != "root cause?" {
			t.Fatalf("returned: %+v %v", p, err)
		}

		// An edit names the version it read: a stale one is refused.
		edit := postmortems.EditInput{Version: p.Version, Sections: map[string]string{
			"summary": "Payouts were held for **six hours**.", "root_cause": "A risk rule shipped without its allow-list."}}
		if _, err := f.pm.Edit(f.ctx, priya, inc.Number, postmortems.EditInput{Version: p.Version - 1, Sections: edit.Sections}); !isConflict(err, "changed since version") {
			t.Fatalf("stale edit: %v", err)
		}
		if _, err := f.pm.Edit(f.ctx, priya, inc.Number, postmortems.EditInput{Version: p.Version, Sections: map[string]string{"nope": "x"}}); err == nil {
			t.Fatal("edited a section that does not exist")
		}
		if p, err = f.pm.Edit(f.ctx, priya, inc.Number, edit); err != nil {
			t.Fatal(err)
		}
		if s, _ := p.Sections.Section("summary"); !strings.Contains(s.HTML, "<strong>six hours</strong>") {
			t.Errorf("summary html %q", s.HTML)
		}
		if len(p.Missing) != 0 {
			t.Errorf("missing %v", p.Missing)
		}
		if _, err := f.pm.Transition(f.ctx, priya, inc.Number, postmortems.TransitionInput{To: postmortems.InReview}); err != nil {
			t.Fatal(err)
		}
		if err := f.pm.CloseCheck(f.ctx, d, facts); !isConflict(err, "a lead or admin publishes it") {
			t.Fatalf("close in review: %v", err)
		}
		if p, err = f.pm.Transition(f.ctx, jonas, inc.Number, postmortems.TransitionInput{To: postmortems.Published}); err != nil {
			t.Fatal(err)
		}
		if p.State != postmortems.Published || p.PublishedBy == nil || *p.PublishedBy != "jonas.weber@flare.example" {
			t.Fatalf("published: %+v", p)
		}
		if _, err := f.pm.Edit(f.ctx, amelia, inc.Number, postmortems.EditInput{Version: p.Version, Sections: edit.Sections}); !isConflict(err, "published") {
			t.Errorf("edited once published: %v", err)
		}
		// A case linked afterwards does not change the published figures.
		late := f.newCase(t, fundsHeld("GB", "S-1002", "10.00"))
		if _, err := f.App.Incidents.Link(f.ctx, amelia, inc.Number, incidents.LinkInput{Cases: []string{late.Number}}); err != nil {
			t.Fatal(err)
		}
		if p, err = f.pm.Get(f.ctx, amelia, inc.Number); err != nil || p.Impact.Cases != 3 {
			t.Fatalf("published impact %+v %v", p.Impact, err)
		}
		if err := closeIt(); err != nil {
			t.Fatalf("close once published: %v", err)
		}
		if _, err := f.pm.Get(f.ctx, f.Actor("sophie.martin"), inc.Number); err == nil {
			t.Error("an account manager read the postmortem")
		}

		// A SEV3 closes without one.
		minor := f.declare(t, incidents.SEV3)
		if err := f.pm.CloseCheck(f.ctx, d, postmortems.IncidentFacts{ID: minor.ID, Number: minor.Number, Severity: "SEV3"}); err != nil {
			t.Errorf("SEV3 close: %v", err)
		}
	})
}

const look = 45 * time.Second // the reminders timer's longest sleep

func runTimer(s *postmortems.Service) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.RunTimer(ctx) }()
	return func() { cancel(); <-done }
}

// reminders counts the action-item events published on the buses.
type reminders struct {
	mu  sync.Mutex
	got map[events.Type]int
}

func (r *reminders) listen(bus *events.Bus) {
	bus.OnTx("test", func(_ context.Context, _ *db.Tx, e events.Event) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got[e.Type]++
		return nil
	}, events.ActionItemAssigned, events.ActionItemDueSoon, events.ActionItemOverdue)
}

func (r *reminders) count(t events.Type) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[t]
}

// The owner is reminded two days before the due date and when it passes,
// once each, across a restart with two servers on the store.
func TestActionItemReminders(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		wait, cancel := context.WithTimeout(f.ctx, 20*time.Second)
		defer cancel()
		rs := &reminders{got: map[events.Type]int{}}
		rs.listen(f.App.Cases.Bus())
		inc := f.declare(t, incidents.SEV2)
		stop := runTimer(f.pm)
		if err := f.Clock.BlockUntilDeadline(wait, t0.Add(look)); err != nil {
			t.Fatal(err)
		}
		// Priya is in London (GMT in November): due at the end of Friday 6th.
		it, err := f.pm.CreateItem(f.ctx, f.Actor("amelia.clarke"), inc.Number, postmortems.ItemInput{
			Title: "Add the allow-list check to the rule release", Owner: "priya.shah@flare.example", DueDate: "2026-11-06"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		due := time.Date(2026, 11, 7, 0, 0, 0, 0, time.UTC)
		soon := due.Add(-postmortems.DefaultRemindBefore)
		if !it.DueAt.Equal(due) || it.RemindAt == nil || !it.RemindAt.Equal(soon) || it.Team != "logistics" || it.Status != postmortems.Open {
			t.Fatalf("item %+v", it)
		}
		step := func(to, nextArm time.Time) {
			t.Helper()
			f.Clock.Set(to)
			if err := f.Clock.BlockUntilDeadline(wait, nextArm); err != nil {
				t.Fatalf("at %s: %v", to, err)
			}
		}
		step(soon.Add(-time.Microsecond), soon)
		if n := rs.count(events.ActionItemDueSoon); n != 0 {
			t.Fatalf("due soon before its time: %d", n)
		}
		step(soon, soon.Add(look))
		step(soon.Add(10*time.Minute), soon.Add(10*time.Minute+look))
		if n := rs.count(events.ActionItemDueSoon); n != 1 {
			t.Fatalf("due soon sent %d times", n)
		}
		stop()

		// Nobody runs while the due date passes; two servers start.
		f.Clock.Set(due.Add(time.Hour))
		a2, err := app.New(d, app.Options{Clock: f.Clock})
		if err != nil {
			t.Fatal(err)
		}
		rs.listen(a2.Cases.Bus())
		stop1, stop2 := runTimer(f.pm), runTimer(a2.Postmortems)
		defer stop1()
		defer stop2()
		if err := f.Clock.BlockUntil(wait, 2); err != nil {
			t.Fatal(err)
		}
		for _, w := range f.Clock.Waiting() {
			if w.Before(f.Clock.Now().Add(look)) {
				t.Fatalf("a timer still waits for %v", w)
			}
		}
		got, err := f.pm.Item(f.ctx, f.Actor("priya.shah"), it.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Overdue || got.RemindAt != nil || got.RemindedOverdueAt == nil || !got.RemindedOverdueAt.Equal(due.Add(time.Hour)) {
			t.Fatalf("after the restart: %+v", got)
		}
		if n := rs.count(events.ActionItemOverdue); n != 1 {
			t.Fatalf("overdue sent %d times", n)
		}
		// An item made inside the window gets no "due soon", only "overdue".
		tomorrow, err := f.pm.CreateItem(f.ctx, f.Actor("amelia.clarke"), inc.Number, postmortems.ItemInput{
			Title: "Write the customer note", Owner: "jonas.weber@flare.example", Team: "payments", DueDate: "2026-11-08"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tomorrow.RemindAt == nil || !tomorrow.RemindAt.Equal(tomorrow.DueAt) {
			t.Fatalf("inside the window: %+v", tomorrow)
		}
		if rs.count(events.ActionItemAssigned) != 2 {
			t.Errorf("assigned %d", rs.count(events.ActionItemAssigned))
		}
	})
}

// Items are listed per team and owner, open, overdue or done; the owner
// moves their own item's status, an account manager reads none.
func TestActionItemsPerTeam(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		amelia := f.Actor("amelia.clarke")
		inc := f.declare(t, incidents.SEV1)
		mk := func(title, owner, team, date string) *postmortems.ActionItem {
			t.Helper()
			it, err := f.pm.CreateItem(f.ctx, amelia, inc.Number, postmortems.ItemInput{Title: title, Owner: owner + "@flare.example",
				Team: team, DueDate: date}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return it
		}
		a := mk("Carrier status feed alert", "priya.shah", "logistics", "2026-11-03")
		b := mk("Runbook for carrier outages", "jonas.weber", "logistics", "2026-11-20")
		c := mk("Refund policy for held payouts", "jonas.weber", "payments", "2026-11-04")

		if _, err := f.pm.CreateItem(f.ctx, amelia, inc.Number, postmortems.ItemInput{Title: "x", Owner: "sophie.martin@flare.example",
			DueDate: "2026-10-01"}, nil); err == nil {
			t.Fatal("an account manager owns an item due in the past")
		} else {
			apptest.WantInvalid(t, err, "owner")
		}
		if _, err := f.pm.CreateItem(f.ctx, amelia, inc.Number, postmortems.ItemInput{Title: "x", Owner: "priya.shah@flare.example",
			DueDate: "2026-10-01"}, nil); err == nil {
			t.Fatal("an item due in the past")
		} else {
			apptest.WantInvalid(t, err, "due_date")
		}

		f.Clock.Set(time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC)) // a and c are past due
		ids := func(items []postmortems.ActionItem) []int64 {
			var out []int64
			for _, it := range items {
				out = append(out, it.ID)
			}
			return out
		}
		list := func(fl postmortems.Filter) []int64 {
			t.Helper()
			items, err := f.pm.ListItems(f.ctx, amelia, fl)
			if err != nil {
				t.Fatal(err)
			}
			return ids(items)
		}
		eq := func(got []int64, want ...int64) bool {
			if len(got) != len(want) {
				return false
			}
			for i := range got {
				if got[i] != want[i] {
					return false
				}
			}
			return true
		}
		if got := list(postmortems.Filter{Team: "logistics"}); !eq(got, a.ID, b.ID) {
			t.Errorf("logistics open: %v", got)
		}
		if got := list(postmortems.Filter{Team: "logistics", State: "overdue"}); !eq(got, a.ID) {
			t.Errorf("logistics overdue: %v", got)
		}
		if got := list(postmortems.Filter{State: "overdue"}); !eq(got, a.ID, c.ID) {
			t.Errorf("overdue: %v", got)
		}
		if got := list(postmortems.Filter{Owner: "jonas.weber@flare.example"}); !eq(got, c.ID, b.ID) {
			t.Errorf("jonas's: %v", got)
		}

		// Priya finishes hers.
		done := postmortems.Done
		got, err := f.pm.UpdateItem(f.ctx, f.Actor("priya.shah"), a.ID, postmortems.ItemPatch{Status: &done})
		if err != nil || got.Status != postmortems.Done || got.FinishedAt == nil || got.Overdue || got.RemindAt != nil {
			t.Fatalf("done: %+v %v", got, err)
		}
		if got := list(postmortems.Filter{Team: "logistics", State: "overdue"}); len(got) != 0 {
			t.Errorf("overdue after done: %v", got)
		}
		if got := list(postmortems.Filter{Team: "logistics", State: "done"}); !eq(got, a.ID) {
			t.Errorf("done: %v", got)
		}
		// The review packs' query: done since Monday, for the team.
		items, err := f.pm.Query(f.ctx, postmortems.Filter{Team: "logistics", State: postmortems.StateAll, FinishedSince: t0})
		if err != nil || !eq(ids(items), a.ID) {
			t.Errorf("finished since: %v %v", ids(items), err)
		}
		if _, err := f.pm.ListItems(f.ctx, f.Actor("sophie.martin"), postmortems.Filter{}); err == nil {
			t.Error("an account manager listed action items")
		}
		if _, err := f.pm.ListItems(f.ctx, amelia, postmortems.Filter{State: "late"}); err == nil {
			t.Error("unknown state")
		}
		// Moving the due date starts the reminders anew.
		if got, err := f.pm.UpdateItem(f.ctx, amelia, c.ID, postmortems.ItemPatch{DueDate: ptr("2026-11-30")}); err != nil ||
			got.Overdue || got.RemindAt == nil || !got.RemindAt.Equal(time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("moved: %+v %v", got, err)
		}
	})
}

func ptr[T any](v T) *T { return &v }
