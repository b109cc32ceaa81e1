package merge_test

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
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/merge"
)

func suspension(title string) cases.CreateInput {
	return cases.CreateInput{Title: title, Category: "governance/account_suspension", Market: "GB", SellerID: "S-1001",
		Fields: map[string]any{"policy": "late_shipment_rate"}}
}

func comment(t *testing.T, f *apptest.Fixture, a auth.Actor, ref, body string, internal bool) {
	t.Helper()
	f.Clock.Advance(10 * time.Minute)
	if _, err := f.App.Cases.AddComment(context.Background(), a, ref, cases.CommentInput{Body: body, Internal: internal}); err != nil {
		t.Fatal(err)
	}
}

func TestMerge(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		amelia, sophie := f.Actor("amelia.clarke"), f.Actor("sophie.martin")
		var published []events.Event
		f.App.Cases.Bus().OnTx("test", func(_ context.Context, _ *db.Tx, e events.Event) error {
			published = append(published, e)
			return nil
		}, events.CaseMerged)

		a := f.OwnedCase(t, suspension("Thames Home Goods suspended for late shipments"))
		f.Clock.Advance(time.Minute)
		b, err := f.App.Cases.Create(ctx, sophie, cases.CreateInput{Title: "Why is Thames Home Goods suspended?",
			Category: "governance/account_suspension", Market: "GB", SellerID: "S-1001",
			Fields: map[string]any{"policy": "late_shipment_rate"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		comment(t, f, amelia, a.Number, "Checking the shipment data.", false)       // A +10m
		comment(t, f, amelia, b.Number, "Same as the other case, I think.", true)   // B +20m, internal
		comment(t, f, sophie, b.Number, "The seller is calling me daily.", false)   // B +30m
		comment(t, f, amelia, a.Number, "Carrier data confirms the delays.", false) // A +40m
		f.Clock.Advance(time.Minute)

		res, err := f.App.Merge.Merge(ctx, amelia, b.Number, merge.Input{Into: a.Number, Reason: "Same suspension, raised twice"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Merged.Status != cases.StatusClosed || res.Merged.Resolution != merge.Resolution ||
			!strings.Contains(res.Merged.ResolutionNote, a.Number) {
			t.Fatalf("merged case: %s %s %q", res.Merged.Status, res.Merged.Resolution, res.Merged.ResolutionNote)
		}
		if !slices.Contains(res.Target.Watchers, sophie.Email) {
			t.Errorf("who raised %s does not watch %s: %v", b.Number, a.Number, res.Target.Watchers)
		}
		if res.Requester != nil && res.Requester.Email != "" && res.Requester.Email != b.Requester.Email {
			t.Errorf("requester %+v", res.Requester)
		}

		// A's timeline: B's entries among its own, in time order, from B.
		evs, err := f.App.Cases.Events(ctx, amelia, a.Number)
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for i, e := range evs {
			if i > 0 && e.At.Before(evs[i-1].At) {
				t.Errorf("timeline out of time order at %d: %v after %v", i, e.At, evs[i-1].At)
			}
			switch {
			case e.Type == "comment":
				order = append(order, "A:"+e.Data["body"].(string))
			case e.Type == merge.EntryCopied && e.Data["type"] == "comment":
				if e.Data["from"] != b.Number {
					t.Errorf("copy without its origin: %v", e.Data)
				}
				tag := "B:"
				if e.Data["internal"] == true {
					tag = "B(internal):"
				}
				order = append(order, tag+e.Data["body"].(string))
			}
		}
		want := []string{"A:Checking the shipment data.", "B(internal):Same as the other case, I think.",
			"B:The seller is calling me daily.", "A:Carrier data confirms the delays."}
		if !slices.Equal(order, want) {
			t.Errorf("A's conversation:\n got %q\nwant %q", order, want)
		}
		if n := countType(evs, merge.EntryFrom); n != 1 {
			t.Errorf("%d merged_from entries on A", n)
		}
		// The account manager reads A's public side: no copies, so B's internal note stays hidden.
		pub, err := f.App.Cases.Events(ctx, sophie, a.Number)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range pub {
			if e.Type == merge.EntryCopied || (e.Type == "comment" && e.Data["internal"] == true) {
				t.Errorf("account manager sees %s %v", e.Type, e.Data)
			}
		}
		bevs, err := f.App.Cases.Events(ctx, amelia, b.Number)
		if err != nil {
			t.Fatal(err)
		}
		if countType(bevs, merge.EntryInto) != 1 {
			t.Errorf("no pointer on %s's timeline", b.Number)
		}

		info, err := f.App.Merge.ForCase(ctx, amelia, b.Number)
		if err != nil || info.MergedInto != a.Number {
			t.Fatalf("merge info of B: %+v %v", info, err)
		}
		if info, err = f.App.Merge.ForCase(ctx, amelia, a.Number); err != nil || len(info.MergedFrom) != 1 || info.MergedFrom[0].Case != b.Number {
			t.Fatalf("merge info of A: %+v %v", info, err)
		}

		if len(published) != 1 || published[0].Case.Number != b.Number || published[0].Data.(*events.Merged).Into != a.Number {
			t.Errorf("published %+v", published)
		}
		recs, err := audit.List(ctx, d, audit.Filter{ObjectType: "case", ObjectID: b.Number})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(recs, func(r audit.Record) bool { return r.Action == "case.merge" }) {
			t.Errorf("no case.merge audit record for %s", b.Number)
		}
		if v, err := audit.Verify(ctx, d); err != nil || !v.OK {
			t.Fatalf("audit chain: %+v %v", v, err)
		}
	})
}

func countType(evs []cases.Event, typ string) int {
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func TestMergeRefused(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		amelia, sophie, marcus := f.Actor("amelia.clarke"), f.Actor("sophie.martin"), f.Actor("marcus.reed")
		a := f.OwnedCase(t, suspension("First"))
		b := f.OwnedCase(t, suspension("Second"))
		c := f.OwnedCase(t, suspension("Third"))
		restricted := f.OwnedCase(t, apptest.Suspension())
		in := func(into string) merge.Input { return merge.Input{Into: into, Reason: "duplicate"} }

		_, err := f.App.Merge.Merge(ctx, amelia, a.Number, in(a.Number))
		apptest.WantInvalid(t, err, "into")
		_, err = f.App.Merge.Merge(ctx, amelia, a.Number, merge.Input{Into: b.Number})
		apptest.WantInvalid(t, err, "reason")
		_, err = f.App.Merge.Merge(ctx, amelia, a.Number, in("nonsense"))
		apptest.WantInvalid(t, err, "into")
		_, err = f.App.Merge.Merge(ctx, sophie, a.Number, in(b.Number))
		var fb *apperr.Forbidden
		if !errors.As(err, &fb) {
			t.Errorf("account manager merges: %v", err)
		}
		if _, err = f.App.Merge.Merge(ctx, marcus, restricted.Number, in(a.Number)); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("merging a case one cannot see: %v", err)
		}
		_, err = f.App.Merge.Merge(ctx, amelia, a.Number, in(restricted.Number))
		if err != nil {
			t.Fatalf("admin merges into a restricted case: %v", err)
		}
		var cf *apperr.Conflict
		if _, err = f.App.Merge.Merge(ctx, amelia, a.Number, in(b.Number)); !errors.As(err, &cf) {
			t.Errorf("merging a merged case again: %v", err)
		}
		if _, err = f.App.Merge.Merge(ctx, amelia, c.Number, in(a.Number)); !errors.As(err, &cf) || !strings.Contains(cf.Detail, "merged") {
			t.Errorf("merging into a merged case: %v", err)
		}
		// Nothing of the refused merges was written.
		info, err := f.App.Merge.ForCase(ctx, amelia, b.Number)
		if err != nil || info.MergedInto != "" || len(info.MergedFrom) != 0 {
			t.Errorf("b: %+v %v", info, err)
		}
	})
}
