package handoffs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/handoffs"
	"github.com/flare-desk/flare/internal/sla"
)

var handoffEvents = []events.Type{events.HandoffRequested, events.HandoffAccepted, events.HandoffAnswered,
	events.HandoffCompleted, events.HandoffDeclined, events.HandoffCancelled}

var t0 = apptest.T0

type fixture struct {
	*apptest.Fixture
	svc   *cases.Service
	ho    *handoffs.Service
	clock *clock.Fake
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	fx := apptest.New(t, d)
	return &fixture{Fixture: fx, svc: fx.App.Cases, ho: fx.App.Handoffs, clock: fx.Clock}
}

func (f *fixture) actor(name string) auth.Actor { return f.Actor(name) }

func slaApp(t *testing.T, d *db.DB) (*app.App, *fixture) {
	f := newFixture(t, d)
	return f.App, f
}

var suspension = apptest.Suspension

func ownedCase(t *testing.T, f *fixture, in cases.CreateInput) *cases.Case { return f.OwnedCase(t, in) }

func eventTypes(t *testing.T, f *fixture, ref string) []string {
	t.Helper()
	evs, err := f.svc.Events(context.Background(), f.actor("amelia.clarke"), ref)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		s := e.Type
		if e.Type == "status" {
			s += fmt.Sprintf(":%v>%v", e.Data["from"], e.Data["to"])
		}
		out = append(out, s)
	}
	return out
}

func wantConflict(t *testing.T, err error, allowed ...string) {
	t.Helper()
	var hc *handoffs.Conflict
	var cf *apperr.Conflict
	if !errors.As(err, &hc) || !errors.As(err, &cf) {
		t.Fatalf("want a handoff conflict, got %v", err)
	}
	if !slices.Equal(hc.Allowed, allowed) && !(len(allowed) == 0 && len(hc.Allowed) == 0) {
		t.Fatalf("conflict allows %v, want %v", hc.Allowed, allowed)
	}
}

var wantInvalid = apptest.WantInvalid

// A full cycle: the owner asks logistics on a Friday afternoon, logistics
// accepts, answers and completes on Monday, the owner is told and the case
// is back with the owner.
func TestHandoffFullCycle(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a, f := slaApp(t, d)
		var told []string
		a.Bus.OnTx("test", func(ctx context.Context, tx *db.Tx, e events.Event) error {
			told = append(told, fmt.Sprintf("%s %s %s owner=%d", strings.TrimPrefix(string(e.Type), "handoff."), e.Case.Number,
				e.Data.(*events.Handoff).Status, e.Case.OwnerID))
			return nil
		}, handoffEvents...)
		amelia, priya := f.actor("amelia.clarke"), f.actor("priya.shah")
		c := ownedCase(t, f, suspension())

		// Friday 6 Nov 2026, 15:30 London (GMT). Logistics has 4 business hours
		// on emea_business (Fri 09:00–17:00, Mon 09:00–18:00): 1h30 on Friday,
		// 2h30 on Monday → due Monday 11:30.
		f.clock.Set(time.Date(2026, 11, 6, 15, 30, 0, 0, time.UTC))
		h, err := a.Handoffs.Create(ctx, amelia, c.Number, handoffs.Input{Team: "logistics",
			Request: "  Please confirm the carrier scans for the 14 late orders.  "}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2026, 11, 9, 11, 30, 0, 0, time.UTC); !h.DueAt.Equal(want) {
			t.Fatalf("default due %v, want %v", h.DueAt, want)
		}
		if h.Status != handoffs.Open || h.FromTeam != "governance" || h.ToTeam != "logistics" || !h.Hold ||
			h.Request != "Please confirm the carrier scans for the 14 late orders." || h.RequestedBy == nil || *h.RequestedBy != amelia.Email {
			t.Fatalf("new handoff: %+v", h)
		}
		got, err := a.Cases.Get(ctx, amelia, c.Number)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != cases.StatusPendingInternal || got.Owner == nil || *got.Owner != amelia.Email {
			t.Fatalf("case while the handoff is open: status %s owner %v", got.Status, got.Owner)
		}
		// The Standard policy pauses resolution while pending_internal.
		if ck := clockOf(t, got, sla.Resolution); ck.State != "paused" {
			t.Fatalf("resolution clock while pending_internal: %+v", ck)
		}

		// Priya (logistics) cannot see the restricted governance case, but sees the handoff.
		if _, err := a.Cases.Get(ctx, priya, c.Number); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("priya sees the restricted case: %v", err)
		}
		if _, err := a.Handoffs.Get(ctx, priya, h.ID); err != nil {
			t.Fatalf("receiving team reads its handoff: %v", err)
		}
		page, err := a.Handoffs.List(ctx, priya, handoffs.Filter{Team: []string{"logistics"}, Status: handoffs.ActiveStatuses})
		if err != nil || len(page.Handoffs) != 1 || page.Handoffs[0].CaseTitle != c.Title {
			t.Fatalf("logistics queue: %+v %v", page, err)
		}
		// Marcus (trust & safety, US) and Sophie (account manager) see nothing.
		for _, who := range []string{"marcus.reed", "sophie.martin"} {
			if _, err := a.Handoffs.Accept(ctx, f.actor(who), h.ID); !errors.Is(err, apperr.ErrNotFound) {
				t.Fatalf("%s accepting: %v", who, err)
			}
			if _, err := a.Handoffs.Get(ctx, f.actor(who), h.ID); !errors.Is(err, apperr.ErrNotFound) {
				t.Fatalf("%s reading: %v", who, err)
			}
		}
		// The receiving team cannot cancel; the owner's side cannot accept.
		var fb *apperr.Forbidden
		if _, err := a.Handoffs.Cancel(ctx, priya, h.ID, ""); !errors.As(err, &fb) {
			t.Fatalf("priya cancelling: %v", err)
		}
		if _, err := a.Handoffs.Accept(ctx, f.actor("sophie.martin"), h.ID); err == nil {
			t.Fatal("an account manager accepted")
		}

		// Monday 09:20: priya accepts.
		f.clock.Set(time.Date(2026, 11, 9, 9, 20, 0, 0, time.UTC))
		if h, err = a.Handoffs.Accept(ctx, priya, h.ID); err != nil {
			t.Fatal(err)
		}
		if h.Status != handoffs.Accepted || h.AcceptedBy == nil || *h.AcceptedBy != priya.Email || !h.AcceptedAt.Equal(f.clock.Now()) {
			t.Fatalf("accepted: %+v", h)
		}
		_, err = a.Handoffs.Accept(ctx, priya, h.ID)
		wantConflict(t, err, "answer", "complete", "decline", "cancel")

		// 10:00: an answer; the handoff stays accepted and the owner has news.
		f.clock.Set(time.Date(2026, 11, 9, 10, 0, 0, 0, time.UTC))
		_, err = a.Handoffs.Answer(ctx, priya, h.ID, "  ")
		wantInvalid(t, err, "answer")
		if h, err = a.Handoffs.Answer(ctx, priya, h.ID, "12 of 14 scanned at the Croydon hub; 2 still missing."); err != nil {
			t.Fatal(err)
		}
		if h.Status != handoffs.Accepted || h.Answer != "12 of 14 scanned at the Croydon hub; 2 still missing." || !h.Unread {
			t.Fatalf("answered: %+v", h)
		}
		if n, _ := a.Handoffs.News(ctx, amelia, 0); n != 1 {
			t.Fatalf("owner's news after an answer: %d", n)
		}
		if n, _ := a.Handoffs.News(ctx, priya, 0); n != 0 {
			t.Fatalf("news are the owner's only: %d", n)
		}
		if n, err := a.Handoffs.MarkRead(ctx, priya, c.ID); err != nil || n != 0 {
			t.Fatalf("only the owner reads the news: %d %v", n, err)
		}
		if n, err := a.Handoffs.MarkRead(ctx, amelia, c.ID); err != nil || n != 1 {
			t.Fatalf("owner reads: %d %v", n, err)
		}
		if n, _ := a.Handoffs.News(ctx, amelia, 0); n != 0 {
			t.Fatalf("news after reading: %d", n)
		}
		if got, _ := a.Cases.Get(ctx, amelia, c.Number); got.Status != cases.StatusPendingInternal {
			t.Fatalf("an answer does not end the wait: %s", got.Status)
		}

		// 11:00: complete (the answer given before is kept when none is sent).
		f.clock.Set(time.Date(2026, 11, 9, 11, 0, 0, 0, time.UTC))
		if h, err = a.Handoffs.Complete(ctx, priya, h.ID, "All 14 found; the 2 missing were mis-sorted and are out for delivery."); err != nil {
			t.Fatal(err)
		}
		if h.Status != handoffs.Completed || h.ClosedAt == nil || h.Overdue || !h.Unread ||
			h.Answer != "All 14 found; the 2 missing were mis-sorted and are out for delivery." || len(h.Allowed) != 0 {
			t.Fatalf("completed: %+v", h)
		}
		got, _ = a.Cases.Get(ctx, amelia, c.Number)
		if got.Status != cases.StatusOpen || *got.Owner != amelia.Email {
			t.Fatalf("after the last handoff closed: %s owner %v", got.Status, got.Owner)
		}
		if ck := clockOf(t, got, sla.Resolution); ck.State == "paused" {
			t.Fatalf("resolution clock after the handoff: %+v", ck)
		}
		if n, _ := a.Handoffs.News(ctx, amelia, 0); n != 1 {
			t.Fatalf("completion is news: %d", n)
		}
		_, err = a.Handoffs.Complete(ctx, priya, h.ID, "again")
		wantConflict(t, err)

		want := []string{"created", "update", "status:new>open", "handoff_requested", "status:open>pending_internal",
			"handoff_accepted", "handoff_answered", "handoff_completed", "status:pending_internal>open"}
		// (The first response clock warned and breached over the weekend.)
		got2 := slices.DeleteFunc(eventTypes(t, f, c.Number), func(s string) bool { return strings.HasPrefix(s, "sla_") })
		if got := got2; !slices.Equal(got, want) {
			t.Fatalf("timeline %v\nwant     %v", got, want)
		}
		full, err := a.Handoffs.Get(ctx, priya, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		var hist []string
		for _, e := range full.Events {
			hist = append(hist, e.Type+" "+who(e))
		}
		if fmt.Sprint(hist) != "[handoff_requested amelia.clarke@flare.example handoff_accepted priya.shah@flare.example "+
			"handoff_answered priya.shah@flare.example handoff_completed priya.shah@flare.example]" {
			t.Fatalf("handoff history: %v", hist)
		}
		if full.Events[2].Data["answer"] != "12 of 14 scanned at the Croydon hub; 2 still missing." {
			t.Fatalf("answer on the timeline: %v", full.Events[2].Data)
		}
		if fmt.Sprint(told) != fmt.Sprintf("[requested %[1]s open owner=%[2]d accepted %[1]s accepted owner=%[2]d "+
			"answered %[1]s accepted owner=%[2]d completed %[1]s completed owner=%[2]d]", c.Number, amelia.UserID) {
			t.Fatalf("subscriber told: %v", told)
		}
		if res, err := audit.Verify(ctx, d); err != nil || !res.OK {
			t.Fatalf("audit: %+v %v", res, err)
		}
		var audited int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE object_type = 'handoff'`).Scan(&audited); err != nil || audited != 4 {
			t.Fatalf("handoff audit records: %d %v", audited, err)
		}
	})
}

func who(e cases.Event) string {
	if e.Actor == nil {
		return "flare"
	}
	return *e.Actor
}

// Two handoffs hold the case until both are closed; one that does not hold
// leaves the status alone; a decline needs its reason.
func TestTwoHandoffsAndDecline(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		amelia, priya, jonas := f.actor("amelia.clarke"), f.actor("priya.shah"), f.actor("jonas.weber")
		c := ownedCase(t, f, suspension())
		h1, err := f.ho.Create(ctx, amelia, c.Number, handoffs.Input{Team: "logistics", Request: "Carrier scans", DueWithin: "2h"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !h1.DueAt.Equal(t0.Add(2 * time.Hour)) { // Monday 09:00 + 2 business hours
			t.Fatalf("due within 2h: %v", h1.DueAt)
		}
		h2, err := f.ho.Create(ctx, amelia, c.Number, handoffs.Input{Team: "payments", Request: "Is a payout held?",
			DueAt: "2026-11-03T12:00:00Z"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !h2.DueAt.Equal(time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)) {
			t.Fatalf("explicit due: %v", h2.DueAt)
		}
		no := false
		h3, err := f.ho.Create(ctx, amelia, c.Number, handoffs.Input{Team: "trust_safety", Request: "FYI: check the listings", Hold: &no}, nil)
		if err != nil || h3.Hold {
			t.Fatalf("non-holding handoff: %+v %v", h3, err)
		}
		// trust_safety counts 24/7 and has the default target of 9 hours.
		if !h3.DueAt.Equal(t0.Add(9 * time.Hour)) {
			t.Fatalf("default due on a 24/7 calendar: %v", h3.DueAt)
		}
		status := func() cases.Status {
			t.Helper()
			got, err := f.svc.Get(ctx, amelia, c.Number)
			if err != nil {
				t.Fatal(err)
			}
			return got.Status
		}
		if st := status(); st != cases.StatusPendingInternal {
			t.Fatalf("with two handoffs: %s", st)
		}
		f.clock.Advance(time.Hour)
		// Completing an open handoff accepts it on the way.
		h1, err = f.ho.Complete(ctx, priya, h1.ID, "Scans confirmed")
		if err != nil || h1.AcceptedAt == nil || h1.AcceptedBy == nil || *h1.AcceptedBy != priya.Email {
			t.Fatalf("complete an open handoff: %+v %v", h1, err)
		}
		if st := status(); st != cases.StatusPendingInternal {
			t.Fatalf("one of two closed: %s", st)
		}
		// Priya is not in payments; Jonas (lead, payments) may decline, with a reason.
		if _, err := f.ho.Decline(ctx, priya, h2.ID, "not ours"); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("priya declining a payments handoff: %v", err)
		}
		_, err = f.ho.Decline(ctx, jonas, h2.ID, "   ")
		wantInvalid(t, err, "reason")
		if h2, err = f.ho.Decline(ctx, jonas, h2.ID, "No payout is held for this seller; ask governance ops."); err != nil {
			t.Fatal(err)
		}
		if h2.Status != handoffs.Declined || h2.DeclineReason == "" || !h2.Unread {
			t.Fatalf("declined: %+v", h2)
		}
		if st := status(); st != cases.StatusOpen {
			t.Fatalf("both holding handoffs closed: %s", st)
		}
		if n, _ := f.ho.News(ctx, amelia, 0); n != 2 {
			t.Fatalf("owner's news: %d", n)
		}
		// The owner cancels the non-holding one; status untouched; illegal moves afterwards.
		if h3, err = f.ho.Cancel(ctx, amelia, h3.ID, "sorted it myself"); err != nil || h3.Status != handoffs.Cancelled {
			t.Fatalf("cancel: %+v %v", h3, err)
		}
		_, err = f.ho.Accept(ctx, f.actor("marcus.reed"), h3.ID) // trust & safety: may act, but it is closed
		wantConflict(t, err)
		if st := status(); st != cases.StatusOpen {
			t.Fatalf("after cancelling a non-holding handoff: %s", st)
		}
		// A new holding handoff on a pending_requester case moves it to pending_internal.
		if _, err := f.svc.Transition(ctx, amelia, c.Number, cases.TransitionInput{To: cases.StatusPendingRequester}); err != nil {
			t.Fatal(err)
		}
		h4, err := f.ho.Create(ctx, amelia, c.Number, handoffs.Input{Team: "logistics", Request: "One more scan"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if st := status(); st != cases.StatusPendingInternal {
			t.Fatalf("from pending_requester: %s", st)
		}
		if _, err := f.ho.Cancel(ctx, amelia, h4.ID, ""); err != nil {
			t.Fatal(err)
		}
		if st := status(); st != cases.StatusOpen {
			t.Fatalf("after cancelling the last: %s", st)
		}
		list, err := f.ho.ForCase(ctx, amelia, c.Number)
		if err != nil || len(list) != 4 {
			t.Fatalf("case handoffs: %d %v", len(list), err)
		}
		var sts []string
		for _, h := range list {
			sts = append(sts, string(h.Status))
		}
		if fmt.Sprint(sts) != "[completed declined cancelled cancelled]" {
			t.Fatalf("statuses: %v", sts)
		}
	})
}

// Bad input and illegal requests write nothing.
func TestHandoffValidation(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		amelia := f.actor("amelia.clarke")
		c := ownedCase(t, f, suspension())
		count := func() string {
			var h, e, a int
			if err := d.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM handoffs), (SELECT COUNT(*) FROM case_events),
				(SELECT COUNT(*) FROM audit_log)`).Scan(&h, &e, &a); err != nil {
				t.Fatal(err)
			}
			return fmt.Sprint(h, e, a)
		}
		before := count()
		for _, tc := range []struct {
			in    handoffs.Input
			field string
		}{
			{handoffs.Input{Team: "warehouse", Request: "x"}, "team"},
			{handoffs.Input{Request: "x"}, "team"},
			{handoffs.Input{Team: "logistics"}, "request"},
			{handoffs.Input{Team: "logistics", Request: "x", DueAt: "tomorrow"}, "due_at"},
			{handoffs.Input{Team: "logistics", Request: "x", DueAt: "2026-11-02T08:00:00Z"}, "due_at"},
			{handoffs.Input{Team: "logistics", Request: "x", DueWithin: "soon"}, "due_within"},
			{handoffs.Input{Team: "logistics", Request: "x", DueWithin: "0m"}, "due_within"},
			{handoffs.Input{Team: "logistics", Request: "x", DueWithin: "2h", DueAt: "2026-11-03T12:00:00Z"}, "due_within"},
			{handoffs.Input{Team: "governance", Request: "x"}, "team"}, // the case's own team
		} {
			_, err := f.ho.Create(ctx, amelia, c.Number, tc.in, nil)
			wantInvalid(t, err, tc.field)
		}
		// Roles and visibility.
		var fb *apperr.Forbidden
		if _, err := f.ho.Create(ctx, f.actor("sophie.martin"), c.Number, handoffs.Input{Team: "logistics", Request: "x"}, nil); !errors.As(err, &fb) {
			t.Fatalf("account manager asking: %v", err)
		}
		if _, err := f.ho.Create(ctx, f.actor("priya.shah"), c.Number, handoffs.Input{Team: "logistics", Request: "x"}, nil); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("agent who cannot see the case: %v", err)
		}
		if _, err := f.ho.Accept(ctx, amelia, 999); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("no such handoff: %v", err)
		}
		// A resolved case takes no handoffs.
		if _, err := f.svc.Transition(ctx, amelia, c.Number, cases.TransitionInput{To: cases.StatusResolved, Resolution: "fixed", Note: "done"}); err != nil {
			t.Fatal(err)
		}
		before = count()
		_, err := f.ho.Create(ctx, amelia, c.Number, handoffs.Input{Team: "logistics", Request: "x"}, nil)
		var cf *apperr.Conflict
		if !errors.As(err, &cf) {
			t.Fatalf("handoff on a resolved case: %v", err)
		}
		if after := count(); after != before {
			t.Fatalf("rejected requests wrote: %s → %s", before, after)
		}
		_, err = f.ho.List(ctx, amelia, handoffs.Filter{Status: []handoffs.Status{"done"}, Owner: "you", Cursor: "zz", Limit: 500})
		for _, field := range []string{"status", "owner", "cursor", "limit"} {
			wantInvalid(t, err, field)
		}
	})
}

// Lists page by due time and respect visibility.
func TestHandoffListPaging(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		amelia := f.actor("amelia.clarke")
		c := ownedCase(t, f, suspension())
		var ids []int64
		for i, within := range []string{"5h", "1h", "3h", "2h", "4h"} {
			h, err := f.ho.Create(ctx, amelia, c.Number, handoffs.Input{Team: "logistics", Request: fmt.Sprint("job ", i), DueWithin: within}, nil)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, h.ID)
		}
		var walked []int64
		lf := handoffs.Filter{Team: []string{"logistics"}, Limit: 2}
		for {
			p, err := f.ho.List(ctx, f.actor("priya.shah"), lf)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range p.Handoffs {
				walked = append(walked, h.ID)
			}
			if p.NextCursor == "" {
				break
			}
			lf.Cursor = p.NextCursor
		}
		if want := []int64{ids[1], ids[3], ids[2], ids[4], ids[0]}; !slices.Equal(walked, want) {
			t.Fatalf("by due: %v, want %v", walked, want)
		}
		// Marcus (trust & safety, US) sees none of them; the owner's view finds them all.
		if p, _ := f.ho.List(ctx, f.actor("marcus.reed"), handoffs.Filter{}); len(p.Handoffs) != 0 {
			t.Fatalf("marcus sees %d handoffs", len(p.Handoffs))
		}
		if p, _ := f.ho.List(ctx, amelia, handoffs.Filter{Owner: "me", Case: c.Number, Limit: 10}); len(p.Handoffs) != 5 {
			t.Fatalf("owner's handoffs: %d", len(p.Handoffs))
		}
		f.clock.Advance(90 * time.Minute)
		if p, _ := f.ho.List(ctx, amelia, handoffs.Filter{Overdue: true}); len(p.Handoffs) != 1 || p.Handoffs[0].ID != ids[1] || !p.Handoffs[0].Overdue {
			t.Fatalf("overdue: %+v", p.Handoffs)
		}
	})
}

// Wait times per receiving team: which team holds our cases longest.
func TestHandoffWaitStats(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		amelia, priya, marcus := f.actor("amelia.clarke"), f.actor("priya.shah"), f.actor("marcus.reed")
		c := ownedCase(t, f, suspension())
		ask := func(team string) int64 {
			t.Helper()
			h, err := f.ho.Create(ctx, amelia, c.Number, handoffs.Input{Team: team, Request: "please"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return h.ID
		}
		must := func(_ *handoffs.Handoff, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		// Monday 09:00: two for logistics, three for trust & safety.
		l1, l2 := ask("logistics"), ask("logistics")
		t1, t2 := ask("trust_safety"), ask("trust_safety")
		ask("trust_safety")
		f.clock.Set(t0.Add(30 * time.Minute))
		must(f.ho.Accept(ctx, priya, l1))
		f.clock.Set(t0.Add(2 * time.Hour))
		must(f.ho.Complete(ctx, priya, l1, "done")) // 2h, on time (due 13:00)
		f.clock.Set(t0.Add(6 * time.Hour))
		must(f.ho.Complete(ctx, priya, l2, "done")) // 6h, late
		f.clock.Set(t0.Add(10 * time.Hour))
		must(f.ho.Decline(ctx, marcus, t1, "not ours")) // 10h, late (due 18:00)
		must(f.ho.Cancel(ctx, amelia, t2, ""))
		f.clock.Set(t0.Add(20 * time.Hour)) // t3 still open, overdue
		st, err := f.ho.WaitStats(ctx, f.actor("jonas.weber"), handoffs.StatsFilter{From: t0.Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Teams) != 2 || st.Teams[0].Team != "trust_safety" || st.Teams[1].Team != "logistics" {
			t.Fatalf("teams, longest wait first: %+v", st.Teams)
		}
		ts, lg := st.Teams[0], st.Teams[1]
		f64 := func(p *float64) string {
			if p == nil {
				return "-"
			}
			return fmt.Sprint(*p)
		}
		// Logistics: waits 2h and 6h (median 4, p90 5.6), accepted after 0.5h and
		// (implicitly, by completing) 6h; l1 on time (due 13:00), l2 late.
		if got := fmt.Sprintln(lg.Requested, lg.Completed, lg.Declined, lg.Cancelled, lg.Open, lg.Overdue,
			f64(lg.WaitMedianHours), f64(lg.WaitP90Hours), f64(lg.WaitMedianBusinessHours), f64(lg.AcceptMedianHours),
			f64(lg.OnTimePct), f64(lg.OldestOpenHours)); got != "2 2 0 0 0 1 4 5.6 4 3.25 50 -\n" {
			t.Fatalf("logistics: %s", got)
		}
		// Trust & safety (24/7, 9h target): t1 declined after 10h (late), t2
		// cancelled, t3 open for 20h and overdue.
		if got := fmt.Sprintln(ts.Requested, ts.Completed, ts.Declined, ts.Cancelled, ts.Open, ts.Overdue,
			f64(ts.WaitMedianHours), f64(ts.WaitP90Hours), f64(ts.OnTimePct), f64(ts.OldestOpenHours)); got != "3 0 1 1 1 2 10 10 0 20\n" {
			t.Fatalf("trust & safety: %s", got)
		}
		// A report's slice keeps the handoffs of its cases only.
		for _, tc := range []struct {
			name  string
			f     handoffs.StatsFilter
			teams int
		}{
			{"the case's own slice", handoffs.StatsFilter{Market: c.Market, Team: c.Team, Category: c.Category, Channel: string(c.Channel), Priority: string(c.Priority)}, 2},
			{"another market", handoffs.StatsFilter{Market: "DE"}, 0},
			{"another category", handoffs.StatsFilter{Category: "logistics/lost_parcel"}, 0},
			{"a seller tier (the case has no seller)", handoffs.StatsFilter{Tier: 1}, 0},
		} {
			tc.f.From = t0.Add(-time.Hour)
			st, err := f.ho.WaitStats(ctx, f.actor("jonas.weber"), tc.f)
			if err != nil || len(st.Teams) != tc.teams {
				t.Errorf("%s: %v, %+v; want %d teams", tc.name, err, st, tc.teams)
			}
		}
		var fb *apperr.Forbidden
		if _, err := f.ho.WaitStats(ctx, f.actor("sophie.martin"), handoffs.StatsFilter{}); !errors.As(err, &fb) {
			t.Fatalf("account manager reads stats: %v", err)
		}
		_, err = f.ho.WaitStats(ctx, amelia, handoffs.StatsFilter{From: t0, To: t0.Add(-time.Hour)})
		wantInvalid(t, err, "to")
	})
}

// Concurrent actions on one case's handoffs serialise on the case: the last
// of two concurrent completions moves the case back to open exactly once,
// and of two concurrent accepts of one handoff one wins.
func TestHandoffConcurrentActions(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		amelia, priya, jonas := f.actor("amelia.clarke"), f.actor("priya.shah"), f.actor("jonas.weber")
		for round := range 5 {
			c := ownedCase(t, f, suspension())
			h1, err := f.ho.Create(ctx, amelia, c.Number, handoffs.Input{Team: "logistics", Request: "one"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			h2, err := f.ho.Create(ctx, amelia, c.Number, handoffs.Input{Team: "payments", Request: "two"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			errs := make(chan error, 4)
			var wg sync.WaitGroup
			wg.Go(func() { _, err := f.ho.Complete(ctx, priya, h1.ID, "done"); errs <- err })
			wg.Go(func() { _, err := f.ho.Complete(ctx, jonas, h2.ID, "done"); errs <- err })
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			got := eventTypes(t, f, c.Number)
			if n := slices.Index(got, "status:pending_internal>open"); n < 0 || slices.Index(got[n+1:], "status:pending_internal>open") >= 0 {
				t.Fatalf("round %d: timeline %v", round, got)
			}
			if c, _ := f.svc.Get(ctx, amelia, c.Number); c.Status != cases.StatusOpen {
				t.Fatalf("round %d: case %s", round, c.Status)
			}
		}
		c := ownedCase(t, f, suspension())
		h, err := f.ho.Create(ctx, amelia, c.Number, handoffs.Input{Team: "logistics", Request: "race"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 2)
		var wg sync.WaitGroup
		for _, who := range []auth.Actor{priya, jonas} {
			wg.Go(func() { _, err := f.ho.Accept(ctx, who, h.ID); errs <- err })
		}
		wg.Wait()
		close(errs)
		var ok, conflicts int
		for err := range errs {
			var hc *handoffs.Conflict
			switch {
			case err == nil:
				ok++
			case errors.As(err, &hc):
				conflicts++
			default:
				t.Fatal(err)
			}
		}
		if ok != 1 || conflicts != 1 {
			t.Fatalf("two accepts: %d won, %d conflicts", ok, conflicts)
		}
	})
}

// Resolving a case closes its open handoffs: the receiving team is not
// left working on a case that is done.
func TestResolvingCancelsHandoffs(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		amelia := f.actor("amelia.clarke")
		c := ownedCase(t, f, suspension())
		h, err := f.ho.Create(ctx, amelia, c.Number, handoffs.Input{Team: "logistics", Request: "Carrier scans"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var told []string
		f.App.Bus.OnTx("test", func(ctx context.Context, tx *db.Tx, e events.Event) error {
			told = append(told, string(e.Type))
			return nil
		}, handoffEvents...)
		if _, err := f.svc.Transition(ctx, amelia, c.Number, cases.TransitionInput{To: cases.StatusResolved,
			Resolution: "policy_upheld", Note: "Suspension stands"}); err != nil {
			t.Fatal(err)
		}
		got, err := f.ho.Get(ctx, amelia, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != handoffs.Cancelled || len(told) != 1 || told[0] != "handoff.cancelled" {
			t.Fatalf("handoff %s, hooks told %v", got.Status, told)
		}
		types := eventTypes(t, f, c.Number)
		if last := types[len(types)-2:]; last[0] != "status:pending_internal>resolved" || last[1] != "handoff_cancelled" {
			t.Fatalf("timeline ends %v", last)
		}
	})
}

func clockOf(t *testing.T, c *cases.Case, m sla.Metric) cases.Clock {
	t.Helper()
	for _, ck := range c.SLA {
		if ck.Metric == m {
			return ck
		}
	}
	t.Fatalf("case %s has no %s clock: %+v", c.Number, m, c.SLA)
	return cases.Clock{}
}

// Each action's audit record keeps the handoff as it was before and after.
func TestHandoffAuditBeforeAndAfter(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		amelia := f.actor("amelia.clarke")
		c := ownedCase(t, f, lostParcelCase())
		h, err := f.ho.Create(ctx, amelia, c.Number, handoffs.Input{Team: "payments", Request: "Is a payout held?"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		lead := f.actor("jonas.weber") // a member of payments
		if _, err := f.ho.Accept(ctx, lead, h.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.ho.Complete(ctx, lead, h.ID, "No payout is held."); err != nil {
			t.Fatal(err)
		}
		recs, err := audit.List(ctx, d, audit.Filter{ObjectType: "handoff", ObjectID: strconv.FormatInt(h.ID, 10)})
		if err != nil {
			t.Fatal(err)
		}
		status := func(raw []byte) string {
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil || m == nil {
				return "-"
			}
			return fmt.Sprint(m["status"])
		}
		var got []string
		for i := len(recs) - 1; i >= 0; i-- { // oldest first
			got = append(got, recs[i].Action+" "+status(recs[i].Before)+">"+status(recs[i].After))
		}
		want := []string{"handoff.create ->open", "handoff.accept open>accepted", "handoff.complete accepted>completed"}
		if !slices.Equal(got, want) {
			t.Fatalf("audit %v, want %v", got, want)
		}
	})
}

func lostParcelCase() cases.CreateInput {
	return cases.CreateInput{Title: "Parcel never arrived", Category: "logistics/lost_parcel", Market: "GB", SellerID: "S-1001",
		Fields: map[string]any{"order_id": "ORD-778812", "tracking_number": "JD0002211", "carrier": "DPD"}}
}
