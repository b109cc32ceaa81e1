package problems_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/problems"
)

// labelled is a small labelled set: three defects reported in different
// words, and unrelated cases of the same category.
var labelled = []struct {
	cluster, title, desc, carrier string
}{
	{"charger", "Charger overheats and melts", "The USB-C charger got very hot and the plastic melted near the plug.", "DPD"},
	{"charger", "Melted charger plug", "After an hour of charging the charger plug melted and smelled of burnt plastic.", "DPD"},
	{"charger", "Charger plug hot, plastic melting", "Customer says the charger overheats, the plug plastic is melting.", "DPD"},
	{"locker", "Parcel locker code rejected", "The parcel locker keeps rejecting the collection code from the SMS.", "DHL"},
	{"locker", "Locker collection code invalid", "Collection code for the parcel locker is invalid, locker will not open.", "DHL"},
	{"locker", "Cannot open parcel locker with code", "The locker says the code is invalid; parcel stuck in the locker.", "DHL"},
	{"scan", "Tracking stuck at depot scan", "Tracking shows the last depot scan five days ago, no movement since.", "Royal Mail"},
	{"scan", "No movement after depot scan", "Parcel scanned at the depot, tracking has not moved for days.", "Royal Mail"},
	{"", "Wrong colour sofa delivered", "Ordered a grey sofa and a green one arrived.", "UPS"},
	{"", "Invoice address misspelt", "The invoice shows the street name misspelt.", "FedEx"},
}

func TestSimilarCasesCluster(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := apptest.New(t, d)
		ctx := context.Background()
		amelia := f.Actor("amelia.clarke")
		byNumber := map[string]string{}
		var numbers []string
		for i, l := range labelled {
			f.Clock.Advance(time.Hour)
			c, err := f.App.Cases.Create(ctx, amelia, cases.CreateInput{Title: l.title, Description: l.desc,
				Category: "logistics/lost_parcel", Market: "GB",
				Fields: map[string]any{"order_id": "ORD-" + string(rune('A'+i)), "carrier": l.carrier}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			byNumber[c.Number] = l.cluster
			numbers = append(numbers, c.Number)
		}
		// A case of another category with the same words is not similar.
		other, err := f.App.Cases.Create(ctx, amelia, cases.CreateInput{Title: "Charger overheats and melts",
			Description: "The charger got hot and melted.", Category: "safety/product_safety", Market: "GB"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.App.Bus.Deliver(ctx, problems.Subscriber); err != nil {
			t.Fatal(err)
		}
		for _, num := range numbers {
			v, err := f.App.Problems.Similar(ctx, amelia, num)
			if err != nil {
				t.Fatal(err)
			}
			want := byNumber[num]
			var got []string
			for _, s := range v.Similar {
				if s.Number == other.Number {
					t.Errorf("%s: a case of another category is similar: %+v", num, s)
				}
				if byNumber[s.Number] != want || want == "" {
					t.Errorf("%s (%q): %s (%q) is similar, score %.3f, %v", num, want, s.Number, byNumber[s.Number], s.Score, s.Why)
				}
				got = append(got, s.Number)
			}
			for other, c := range byNumber {
				if c == want && want != "" && other != num && !slices.Contains(got, other) {
					t.Errorf("%s (%q): %s of the same defect is not similar: %v", num, want, other, got)
				}
			}
		}
		// The shared carrier is part of why.
		v, _ := f.App.Problems.Similar(ctx, amelia, numbers[0])
		if len(v.Similar) == 0 || !slices.Contains(v.Similar[0].Why, "same carrier DPD") {
			t.Errorf("why: %+v", v.Similar)
		}
		// A resolved case is no longer an open similar case.
		resolve(t, f, numbers[1])
		if _, err := f.App.Bus.Deliver(ctx, problems.Subscriber); err != nil {
			t.Fatal(err)
		}
		v, _ = f.App.Problems.Similar(ctx, amelia, numbers[0])
		for _, s := range v.Similar {
			if s.Number == numbers[1] {
				t.Errorf("resolved %s still listed", s.Number)
			}
		}
	})
}

func resolve(t *testing.T, f *apptest.Fixture, num string) {
	t.Helper()
	ctx := context.Background()
	amelia := f.Actor("amelia.clarke")
	if _, err := f.App.Cases.Transition(ctx, amelia, num, cases.TransitionInput{To: cases.StatusResolved,
		Resolution: "fixed", Note: "done"}); err != nil {
		t.Fatal(err)
	}
}

// A process that starts on a store whose cases were never indexed (made
// before the capability, or by the demo's loader) indexes them on Load,
// and a restarted process finds the index again from similar_docs.
func TestSimilarBackfillAndRestart(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := apptest.New(t, d)
		ctx := context.Background()
		amelia := f.Actor("amelia.clarke")
		var nums []string
		for _, l := range labelled[:3] {
			c, err := f.App.Cases.Create(ctx, amelia, cases.CreateInput{Title: l.title, Description: l.desc,
				Category: "logistics/lost_parcel", Market: "GB", Fields: map[string]any{"order_id": "ORD-1"}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			nums = append(nums, c.Number)
		}
		// No delivery: Similar's Load backfills.
		v, err := f.App.Problems.Similar(ctx, amelia, nums[0])
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Similar) != 2 {
			t.Fatalf("backfilled: %+v", v.Similar)
		}
		var n int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM similar_docs`).Scan(&n); err != nil || n != 3 {
			t.Fatalf("similar_docs: %d %v", n, err)
		}
		restarted, err := app.New(d, app.Options{Clock: f.Clock})
		if err != nil {
			t.Fatal(err)
		}
		v, err = restarted.Problems.Similar(ctx, amelia, nums[2])
		if err != nil || len(v.Similar) != 2 {
			t.Fatalf("after restart: %+v %v", v, err)
		}
	})
}

func TestProblemLifecycle(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := apptest.New(t, d)
		ctx := context.Background()
		amelia, marcus := f.Actor("amelia.clarke"), f.Actor("marcus.reed")
		var nums []string
		for _, l := range labelled[:4] {
			f.Clock.Advance(24 * time.Hour)
			c, err := f.App.Cases.Create(ctx, amelia, cases.CreateInput{Title: l.title, Description: l.desc,
				Category: "logistics/lost_parcel", Market: "GB", Fields: map[string]any{"order_id": "ORD-1"}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			nums = append(nums, c.Number)
		}
		title := "USB-C chargers melting"
		p, err := f.App.Problems.Create(ctx, amelia, problems.Input{Title: &title, Owner: &amelia.Email, Cases: nums[:3]})
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != problems.Investigating || len(p.Cases) != 3 || p.CaseCount != 3 || *p.Owner != amelia.Email {
			t.Fatalf("created: %+v", p)
		}
		if last := p.Trend[len(p.Trend)-1]; last.Day != f.Clock.Now().Format(time.DateOnly) || last.Count != 0 {
			t.Errorf("trend ends %+v", last)
		}
		total := 0
		for _, dc := range p.Trend {
			total += dc.Count
		}
		if total != 3 {
			t.Errorf("trend counts %d cases", total)
		}
		// The similar panel of the fourth names it as the likely problem.
		v, err := f.App.Problems.Similar(ctx, amelia, nums[1])
		if err != nil {
			t.Fatal(err)
		}
		if v.Problem == nil || v.Problem.ID != p.ID {
			t.Errorf("linked case's problem: %+v", v.Problem)
		}

		// A known error needs its root cause; a fix in progress its action.
		ke := problems.KnownError
		_, err = f.App.Problems.Update(ctx, amelia, p.ID, problems.Input{Status: &ke})
		apptest.WantInvalid(t, err, "root_cause")
		rc := "A batch of chargers from one factory lacks thermal cut-off."
		if p, err = f.App.Problems.Update(ctx, amelia, p.ID, problems.Input{Status: &ke, RootCause: &rc}); err != nil {
			t.Fatal(err)
		}
		fip := problems.FixInProgress
		_, err = f.App.Problems.Update(ctx, amelia, p.ID, problems.Input{Status: &fip})
		apptest.WantInvalid(t, err, "action")
		_, err = f.App.Problems.Update(ctx, amelia, p.ID, problems.Input{Action: &problems.ActionInput{Text: "Recall", Due: "soon"}})
		apptest.WantInvalid(t, err, "action.due")
		p, err = f.App.Problems.Update(ctx, amelia, p.ID, problems.Input{Status: &fip,
			Action: &problems.ActionInput{Text: "Recall batch 42 with the seller", Owner: marcus.Email, Due: "2026-11-20"}})
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != problems.FixInProgress || *p.Action.Owner != marcus.Email || p.Action.Due != "2026-11-20" {
			t.Fatalf("fix in progress: %+v", p)
		}
		// Backwards is refused; resolved may come back to investigating.
		inv := problems.Investigating
		_, err = f.App.Problems.Update(ctx, amelia, p.ID, problems.Input{Status: &inv})
		apptest.WantInvalid(t, err, "status")

		// Linking: by hand, a case of another problem is a conflict, unlinking.
		if p, err = f.App.Problems.Link(ctx, amelia, p.ID, nums[3]); err != nil || p.CaseCount != 4 {
			t.Fatalf("link: %+v %v", p, err)
		}
		other := "Locker codes"
		p2, err := f.App.Problems.Create(ctx, amelia, problems.Input{Title: &other})
		if err != nil {
			t.Fatal(err)
		}
		var conflict *apperr.Conflict
		if _, err := f.App.Problems.Link(ctx, amelia, p2.ID, nums[3]); !errors.As(err, &conflict) {
			t.Fatalf("link elsewhere: %v", err)
		}
		if p, err = f.App.Problems.Unlink(ctx, amelia, p.ID, nums[3]); err != nil || p.CaseCount != 3 {
			t.Fatalf("unlink: %+v %v", p, err)
		}
		if _, err := f.App.Problems.Link(ctx, amelia, p2.ID, nums[3]); err != nil {
			t.Fatal(err)
		}
		res := problems.Resolved
		if p, err = f.App.Problems.Update(ctx, amelia, p.ID, problems.Input{Status: &res}); err != nil || p.ResolvedAt == nil {
			t.Fatalf("resolve: %+v %v", p, err)
		}
		if p, err = f.App.Problems.Update(ctx, amelia, p.ID, problems.Input{Status: &inv}); err != nil || p.Status != inv {
			t.Fatalf("reopen: %+v %v", p, err)
		}
		if _, err = f.App.Problems.Update(ctx, amelia, p.ID, problems.Input{Status: &res}); err != nil {
			t.Fatal(err)
		}

		// Account managers do not see problems; viewers cannot change them.
		if _, err := f.App.Problems.List(ctx, f.Actor("sophie.martin"), problems.Filter{}); err == nil {
			t.Error("an account manager lists problems")
		}

		// Audited, and on the event stream.
		recs, err := audit.List(ctx, d, audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]int{}
		for _, r := range recs {
			if r.ObjectType == "problem" {
				actions[r.Action]++
			}
		}
		if actions["problem.create"] != 2 || actions["problem.update"] != 5 || actions["problem.link"] != 2 || actions["problem.unlink"] != 1 {
			t.Errorf("audit: %v", actions)
		}
		// The review pack's query.
		r, err := problems.ReviewFor(ctx, d, apptest.T0, f.Clock.Now().Add(time.Hour), 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Opened) != 2 || len(r.Resolved) != 1 || r.Resolved[0].ID != p.ID || len(r.Top) != 2 || r.Top[0].ID != p.ID ||
			r.Top[0].Cases != 3 {
			t.Errorf("review: %+v", r)
		}
	})
}

// Problem events reach a durable subscriber of the stream.
func TestProblemEvents(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := apptest.New(t, d)
		ctx := context.Background()
		var got []string
		f.App.Bus.Subscribe("test.problems", func(_ context.Context, e events.Event) error {
			p := e.Data.(*events.Problem)
			got = append(got, string(e.Type)+" "+p.Status+" "+p.Case)
			return nil
		}, events.SubscriberOptions{Types: []events.Type{events.ProblemCreated, events.ProblemChanged, events.ProblemCaseLinked,
			events.ProblemCaseUnlinked}})
		amelia := f.Actor("amelia.clarke")
		c, err := f.App.Cases.Create(ctx, amelia, cases.CreateInput{Title: "Parcel lost", Category: "logistics/lost_parcel",
			Market: "GB", Fields: map[string]any{"order_id": "ORD-1"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		title := "Depot scans"
		p, err := f.App.Problems.Create(ctx, amelia, problems.Input{Title: &title})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.App.Problems.Link(ctx, amelia, p.ID, c.Number); err != nil {
			t.Fatal(err)
		}
		rc := "Depot scanner offline"
		ke := problems.KnownError
		if _, err := f.App.Problems.Update(ctx, amelia, p.ID, problems.Input{RootCause: &rc, Status: &ke}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.App.Bus.Deliver(ctx, "test.problems"); err != nil {
			t.Fatal(err)
		}
		want := []string{"problem.created investigating ", "problem.case_linked investigating " + c.Number,
			"problem.changed known_error "}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("events %q, want %q", got, want)
		}
	})
}

// The index re-reads a case for a change of what it indexes, not for a
// change of its priority (or level, owner…): every escalation is one.
func TestReindexOnlyForIndexedFields(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := apptest.New(t, d)
		ctx := context.Background()
		amelia := f.Actor("amelia.clarke")
		c, err := f.App.Cases.Create(ctx, amelia, cases.CreateInput{Title: "Parcel locker code rejected",
			Description: "The parcel locker keeps rejecting the code.", Category: "logistics/lost_parcel", Market: "GB",
			Fields: map[string]any{"order_id": "ORD-1", "carrier": "DHL"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		indexedAt := func() time.Time {
			t.Helper()
			if _, err := f.App.Bus.Deliver(ctx, problems.Subscriber); err != nil {
				t.Fatal(err)
			}
			var at db.Time
			if err := d.QueryRow(ctx, `SELECT indexed_at FROM similar_docs WHERE case_id = ?`, c.ID).Scan(&at); err != nil {
				t.Fatal(err)
			}
			return at.Time
		}
		first := indexedAt()
		f.Clock.Advance(time.Minute)
		p1, reason := "P1", "the whole locker bank is down"
		if _, err := f.App.Cases.Update(ctx, amelia, c.Number, cases.UpdateInput{Priority: &p1, PriorityReason: &reason}); err != nil {
			t.Fatal(err)
		}
		if at := indexedAt(); !at.Equal(first) {
			t.Fatalf("a priority change re-indexed the case (at %v, first %v)", at, first)
		}
		f.Clock.Advance(time.Minute)
		title := "Parcel locker bank offline"
		if _, err := f.App.Cases.Update(ctx, amelia, c.Number, cases.UpdateInput{Title: &title}); err != nil {
			t.Fatal(err)
		}
		if at := indexedAt(); !at.After(first) {
			t.Fatalf("a title change did not re-index the case (at %v)", at)
		}
	})
}
