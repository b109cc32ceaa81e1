package cases_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/sla"
)

// slaApp is an app on the example desk with a fake clock at t0 (Monday
// 2 Nov 2026, 09:00 London) and job workers off: tests run the SLA job's
// work themselves at the instants they choose.
func slaApp(t *testing.T, d *db.DB) (*app.App, *fixture) {
	t.Helper()
	f := newFixture(t, d)
	return f.App, f
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

func safetyCase() cases.CreateInput {
	return cases.CreateInput{Title: "Charger caught fire", Category: "safety/product_safety", Market: "GB"}
}

func countSLAEvents(t *testing.T, d *db.DB, kind string) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), `SELECT COUNT(*) FROM sla_events WHERE kind = ?`, kind).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// slaIdleLook is how long the SLA timer sleeps with no deadline nearer
// (README: "Idle, it looks once every 30 s").
const slaIdleLook = 30 * time.Second

// waitCtx bounds a test's waits on the fake clock's timers, so that a
// timer that is never armed fails the test rather than hanging it.
func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// A case moved through reply, pause, resume, resolve and reopen ends with
// the right elapsed times (the safety policy counts 24/7).
func TestSLAClocksThroughALifecycle(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a, f := slaApp(t, d)
		admin := f.actor("amelia.clarke")
		c, err := a.Cases.Create(ctx, admin, safetyCase(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if ck := clockOf(t, c, sla.FirstResponse); ck.Policy != "Safety emergencies" || ck.DueAt == nil || !ck.DueAt.Equal(t0.Add(30*time.Minute)) {
			t.Fatalf("first response at creation: %+v", ck)
		}
		step := func(at time.Duration, do func() error) {
			t.Helper()
			f.clock.Set(t0.Add(at))
			if err := do(); err != nil {
				t.Fatal(err)
			}
		}
		to := func(st cases.Status, res string) func() error {
			return func() error {
				note := ""
				if res != "" {
					note = "done"
				}
				_, err := a.Cases.Transition(ctx, admin, c.Number, cases.TransitionInput{To: st, Resolution: res, Note: note})
				return err
			}
		}
		step(5*time.Minute, to(cases.StatusOpen, ""))
		step(10*time.Minute, func() error {
			_, err := a.Cases.AddComment(ctx, admin, c.Number, cases.CommentInput{Body: "We have pulled the listing."})
			return err
		})
		step(1*time.Hour, to(cases.StatusPendingRequester, ""))
		step(3*time.Hour, to(cases.StatusOpen, ""))
		step(5*time.Hour, to(cases.StatusResolved, "fixed"))
		step(6*time.Hour, to(cases.StatusOpen, ""))
		f.clock.Set(t0.Add(7 * time.Hour))
		got, err := a.Cases.Get(ctx, admin, c.Number)
		if err != nil {
			t.Fatal(err)
		}
		fr := clockOf(t, got, sla.FirstResponse)
		if fr.State != "met" || fr.MetAt == nil || !fr.MetAt.Equal(t0.Add(10*time.Minute)) || fr.ElapsedSeconds != 600 {
			t.Fatalf("first response: %+v", fr)
		}
		// Resolution counted 0–1h, 3h–5h (pending_requester paused it) and 6h–7h after the reopen.
		res := clockOf(t, got, sla.Resolution)
		if res.State != "running" || res.Elapsed != "4h0m0s" || res.Remaining != "20h0m0s" || !res.DueAt.Equal(t0.Add(27*time.Hour)) {
			t.Fatalf("resolution: %+v", res)
		}
		if countSLAEvents(t, d, "breach") != 0 {
			t.Fatal("no clock has breached")
		}
	})
}

// Warnings and breaches fire at their instants, once, and reschedule the
// case's deadline job.
func TestSLAWarningAndBreachFireOnce(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a, f := slaApp(t, d)
		c, err := a.Cases.Create(ctx, f.actor("amelia.clarke"), safetyCase(), nil)
		if err != nil {
			t.Fatal(err)
		}
		// Subscribers see each warning and breach once, in the recording transaction.
		var hooked []string
		a.Bus.OnTx("test", func(ctx context.Context, tx *db.Tx, e events.Event) error {
			d := e.Data.(*events.SLA)
			hooked = append(hooked, string(e.Type)+" "+d.Metric+" "+e.Case.Number+" "+d.At.Format(time.TimeOnly))
			return nil
		}, events.SLAWarning, events.SLABreached)
		// The case's deadline is its first: the warning at 75% of 30 minutes.
		dueAt := func() time.Time {
			var at db.Time
			if err := d.QueryRow(ctx, `SELECT sla_due_at FROM cases WHERE id = ?`, c.ID).Scan(&at); err != nil {
				t.Fatal(err)
			}
			return at.Time
		}
		if at := dueAt(); !at.Equal(t0.Add(22*time.Minute + 30*time.Second)) {
			t.Fatalf("deadline %v, want the warning instant", at)
		}
		f.clock.Set(t0.Add(22*time.Minute + 29*time.Second))
		if err := a.Cases.CheckSLA(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if countSLAEvents(t, d, "warning") != 0 {
			t.Fatal("warned a second early")
		}
		f.clock.Set(t0.Add(22*time.Minute + 30*time.Second))
		if err := a.Cases.CheckSLA(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if countSLAEvents(t, d, "warning") != 1 {
			t.Fatal("no warning at the warning instant")
		}
		if at := dueAt(); !at.Equal(t0.Add(30 * time.Minute)) {
			t.Fatalf("after the warning, the deadline is %v, want the breach instant", at)
		}
		f.clock.Set(t0.Add(30 * time.Minute))
		if _, err := a.Cases.FireSLA(ctx); err != nil { // the timer's round finds it due
			t.Fatal(err)
		}
		for range 2 { // another node finds it recorded
			if err := a.Cases.CheckSLA(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
		}
		if at := dueAt(); !at.After(t0.Add(30 * time.Minute)) {
			t.Fatalf("after the breach, the deadline is %v, want the resolution clock's next", at)
		}
		if countSLAEvents(t, d, "breach") != 1 || countSLAEvents(t, d, "warning") != 1 {
			t.Fatal("breach must be recorded exactly once")
		}
		evs, err := a.Cases.Events(ctx, f.actor("amelia.clarke"), c.Number)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, e := range evs {
			if e.Type == "sla_warning" || e.Type == "sla_breach" {
				kinds = append(kinds, e.Type)
			}
		}
		if len(kinds) != 2 || kinds[0] != "sla_warning" || kinds[1] != "sla_breach" {
			t.Fatalf("timeline: %v", kinds)
		}
		want := []string{"sla.warning first_response " + c.Number + " 09:22:30", "sla.breached first_response " + c.Number + " 09:30:00"}
		if len(hooked) != 2 || hooked[0] != want[0] || hooked[1] != want[1] {
			t.Fatalf("hooks saw %q, want %q", hooked, want)
		}
	})
}

// A deadline that passed while no server ran fires when one starts, once.
func TestSLAMissedDeadlineFiresOnceOnStart(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		wait := waitCtx(t)
		a, f := slaApp(t, d)
		// A standard lost-parcel case: first response 4h in emea_business (Mon 09:00 London + 4h = 13:00).
		c, err := a.Cases.Create(ctx, f.actor("priya.shah"), lostParcel(), nil)
		if err != nil {
			t.Fatal(err)
		}
		// The server was down past the deadline; a node starts at 14:00.
		start := t0.Add(5 * time.Hour)
		f.clock.Set(start)
		srv, err := app.New(d, app.Options{Clock: f.clock, Work: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer srv.Stop(ctx)
		// Its timer's first round fires what is overdue, then sleeps until
		// its next look, 30 s on.
		if err := f.clock.BlockUntilDeadline(wait, start.Add(slaIdleLook)); err != nil {
			t.Fatal(err)
		}
		var due, fired db.Time
		if err := d.QueryRow(ctx, `SELECT due_at, fired_at FROM sla_events WHERE kind = 'breach' AND case_id = ?`, c.ID).Scan(&due, &fired); err != nil {
			t.Fatalf("no breach after the first round: %v", err)
		}
		if !due.Equal(t0.Add(4*time.Hour)) || !fired.Equal(start) {
			t.Fatalf("breach due at %v fired at %v, want due 13:00 London, fired on start", due.Time, fired.Time)
		}
		// Later rounds find it recorded.
		f.clock.Advance(slaIdleLook)
		if err := f.clock.BlockUntilDeadline(wait, start.Add(2*slaIdleLook)); err != nil {
			t.Fatal(err)
		}
		if countSLAEvents(t, d, "breach") != 1 || countSLAEvents(t, d, "warning") != 1 {
			t.Fatalf("breaches %d warnings %d, want one each", countSLAEvents(t, d, "breach"), countSLAEvents(t, d, "warning"))
		}
	})
}

// A category change re-selects the policy and recomputes from the case's start.
func TestSLAPolicyFollowsTheCase(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a, f := slaApp(t, d)
		admin := f.actor("amelia.clarke")
		c, err := a.Cases.Create(ctx, admin, lostParcel(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if ck := clockOf(t, c, sla.FirstResponse); ck.Policy != "Standard" || !ck.DueAt.Equal(t0.Add(4*time.Hour)) {
			t.Fatalf("standard: %+v", ck)
		}
		f.clock.Set(t0.Add(10 * time.Minute))
		cat := "safety/product_safety"
		c, err = a.Cases.Update(ctx, admin, c.Number, cases.UpdateInput{Category: &cat})
		if err != nil {
			t.Fatal(err)
		}
		if ck := clockOf(t, c, sla.FirstResponse); ck.Policy != "Safety emergencies" || !ck.DueAt.Equal(t0.Add(30*time.Minute)) || ck.ElapsedSeconds != 600 {
			t.Fatalf("after the category change: %+v", ck)
		}
	})
}

// Two nodes checking the same overdue case at once record its breach once.
func TestSLABreachOnceAcrossNodes(t *testing.T) {
	d := dbtest.Postgres(t, app.Migrate)
	ctx := context.Background()
	a, f := slaApp(t, d)
	c, err := a.Cases.Create(ctx, f.actor("amelia.clarke"), safetyCase(), nil)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := db.Open(ctx, d.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	b, err := app.New(d2, app.Options{Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Set(t0.Add(time.Hour))
	errs := make(chan error, 10)
	for i := range 10 {
		node := a
		if i%2 == 1 {
			node = b
		}
		go func() { // a change on one node, the timer's round on another
			if i%4 < 2 {
				errs <- node.Cases.CheckSLA(ctx, c.ID)
				return
			}
			_, err := node.Cases.FireSLA(ctx)
			errs <- err
		}()
	}
	for range 10 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if countSLAEvents(t, d, "breach") != 1 || countSLAEvents(t, d, "warning") != 1 {
		t.Fatalf("breaches %d, warnings %d", countSLAEvents(t, d, "breach"), countSLAEvents(t, d, "warning"))
	}
	var timeline int
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM case_events WHERE type = 'sla_breach'`).Scan(&timeline); err != nil || timeline != 1 {
		t.Fatalf("timeline breach events: %d %v", timeline, err)
	}
}

// The running timer wakes for a deadline a write sets, rather than at its
// next look (30 s away), and fires it at its instant, not before.
func TestSLATimerFiresAtTheInstant(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		wait := waitCtx(t)
		a, f := slaApp(t, d)
		tctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); a.Cases.RunSLATimer(tctx) }()
		defer func() { stop(); <-done }()
		// The timer has looked, found nothing due and sleeps until its next look.
		if err := f.clock.BlockUntilDeadline(wait, t0.Add(slaIdleLook)); err != nil {
			t.Fatal(err)
		}

		// A safety case (30 min, 24/7) opened 29m58s ago: its warning is
		// overdue and its breach 2 s away, before the timer's next look.
		in := safetyCase()
		in.At = t0.Add(-30*time.Minute + 2*time.Second)
		c, err := a.Cases.Create(ctx, auth.System("import"), in, nil)
		if err != nil {
			t.Fatal(err)
		}
		breach := t0.Add(2 * time.Second)
		if err := f.clock.BlockUntilDeadline(wait, breach); err != nil {
			t.Fatalf("the write did not wake the timer for the breach: %v", err)
		}
		if countSLAEvents(t, d, "warning") != 1 {
			t.Fatal("the overdue warning did not fire on waking")
		}

		f.clock.Set(breach.Add(-time.Microsecond))
		if countSLAEvents(t, d, "breach") != 0 {
			t.Fatal("breached before the instant")
		}
		f.clock.Set(breach)
		// The round at the breach fires it, then sleeps until its next look.
		if err := f.clock.BlockUntilDeadline(wait, breach.Add(slaIdleLook)); err != nil {
			t.Fatal(err)
		}
		var due, fired db.Time
		if err := d.QueryRow(ctx, `SELECT due_at, fired_at FROM sla_events WHERE case_id = ? AND kind = 'breach'`, c.ID).Scan(&due, &fired); err != nil {
			t.Fatalf("no breach at the instant: %v", err)
		}
		if !due.Equal(breach) || !fired.Equal(breach) {
			t.Fatalf("breach due %v fired %v, want both %v", due.Time, fired.Time, breach)
		}
	})
}

// An in-transaction subscriber that fails rolls the recording back; the
// deadline fires again and the event is recorded once it succeeds.
func TestSLASubscriberFailureRetries(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a, f := slaApp(t, d)
		var mu sync.Mutex // on PostgreSQL several loops fire at once
		fail, told := true, 0
		a.Bus.OnTx("notifier", func(ctx context.Context, tx *db.Tx, e events.Event) error {
			mu.Lock()
			defer mu.Unlock()
			if fail {
				return errors.New("notifier down")
			}
			told++
			return nil
		}, events.SLAWarning, events.SLABreached)
		if _, err := a.Cases.Create(ctx, f.actor("amelia.clarke"), safetyCase(), nil); err != nil {
			t.Fatal(err)
		}
		f.clock.Set(t0.Add(25 * time.Minute))
		if _, err := a.Cases.FireSLA(ctx); err == nil || !strings.Contains(err.Error(), "notifier down") {
			t.Fatalf("FireSLA: %v, want the hook's error", err)
		}
		if countSLAEvents(t, d, "warning") != 0 {
			t.Fatal("the warning was recorded although its hook failed")
		}
		mu.Lock()
		fail = false
		mu.Unlock()
		next, err := a.Cases.FireSLA(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if countSLAEvents(t, d, "warning") != 1 || told != 1 {
			t.Fatalf("warnings %d, hooks told %d times", countSLAEvents(t, d, "warning"), told)
		}
		if !next.Equal(t0.Add(30 * time.Minute)) {
			t.Fatalf("next deadline %v, want the breach", next)
		}
	})
}

// A seller that cannot be read fails the evaluation instead of counting as
// tier 0, which could choose another SLA policy.
func TestSLASellerReadErrorSurfaces(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a, f := slaApp(t, d)
		c, err := a.Cases.Create(ctx, f.actor("amelia.clarke"), lostParcel(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Exec(ctx, `ALTER TABLE sellers RENAME TO sellers_away`); err != nil {
			t.Fatal(err)
		}
		if err := a.Cases.CheckSLA(ctx, c.ID); err == nil || !strings.Contains(err.Error(), "seller") {
			t.Fatalf("CheckSLA with the sellers unreadable: %v, want the seller error", err)
		}
	})
}
