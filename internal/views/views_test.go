package views_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/views"
)

func TestSavedViews(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		vs := f.App.Views
		priya, jonas, marcus := f.Actor("priya.shah"), f.Actor("jonas.weber"), f.Actor("marcus.reed")
		for i := 0; i < 3; i++ {
			f.OwnedCase(t, apptest.Suspension())
		}

		// Priya's own view and one shared with logistics (her team).
		own, err := vs.Create(ctx, priya, views.Input{Name: "  Mine open ", Filter: views.Filter{Owner: "me", Sort: "priority"}})
		if err != nil {
			t.Fatal(err)
		}
		if own.Name != "Mine open" || !own.Mine || own.Count == nil {
			t.Fatalf("created view: %+v", own)
		}
		all, err := vs.Create(ctx, jonas, views.Input{Name: "All active", SharedTeam: "logistics",
			Filter: views.Filter{Status: []string{"new", "open"}}})
		if err != nil {
			t.Fatal(err)
		}
		if all.Count == nil || *all.Count < 3 {
			t.Fatalf("a view counts its cases: %+v", all.Count)
		}

		// Bad input is refused, field by field, and nothing is saved.
		for _, tc := range []struct {
			in    views.Input
			field string
		}{
			{views.Input{Name: "", Filter: views.Filter{}}, "name"},
			{views.Input{Name: "x", Filter: views.Filter{Status: []string{"nope"}}}, "filter.status"},
			{views.Input{Name: "x", Filter: views.Filter{Team: []string{"nope"}}}, "filter.team"},
			{views.Input{Name: "x", Filter: views.Filter{Sort: "title"}}, "filter.sort"},
			{views.Input{Name: "x", SharedTeam: "payments"}, "shared_team"}, // not her team
		} {
			_, err := vs.Create(ctx, priya, tc.in)
			apptest.WantInvalid(t, err, tc.field)
		}

		// Who sees what: Priya sees her own and her team's; Marcus (not in
		// logistics) neither; a shared view is changed only by its owner.
		names := func(a string) []string {
			t.Helper()
			l, err := vs.List(ctx, f.Actor(a))
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, v := range l {
				out = append(out, v.Name)
			}
			return out
		}
		if got := names("priya.shah"); len(got) != 2 || got[0] != "Mine open" || got[1] != "All active" {
			t.Fatalf("priya's views: %v", got)
		}
		if got := names("marcus.reed"); len(got) != 0 {
			t.Fatalf("marcus sees %v", got)
		}
		if _, err := vs.Get(ctx, marcus, all.ID); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("a view of another team: %v", err)
		}
		var fb *apperr.Forbidden
		if err := vs.Delete(ctx, priya, all.ID); !errors.As(err, &fb) {
			t.Fatalf("a teammate deletes the owner's shared view: %v", err)
		}
		if _, err := vs.Update(ctx, priya, all.ID, views.Input{Name: "Hijack"}); !errors.As(err, &fb) {
			t.Fatalf("a teammate renames the owner's shared view: %v", err)
		}
		// The owner renames and re-filters; counts follow.
		up, err := vs.Update(ctx, jonas, all.ID, views.Input{Name: "Logistics P1", SharedTeam: "logistics",
			Filter: views.Filter{Priority: []string{"P1"}, Team: []string{"logistics"}}})
		if err != nil {
			t.Fatal(err)
		}
		if up.Name != "Logistics P1" || up.Filter.Priority[0] != "P1" || *up.Count != 0 {
			t.Fatalf("updated view: %+v count %d", up, *up.Count)
		}
		if err := vs.Delete(ctx, priya, own.ID); err != nil {
			t.Fatal(err)
		}
		if got := names("priya.shah"); len(got) != 1 || got[0] != "Logistics P1" {
			t.Fatalf("after delete: %v", got)
		}
		// The count is as the viewer sees: an account manager counts only her sellers' cases.
		p, err := f.App.Cases.List(ctx, f.Actor("sophie.martin"), cases.ListFilter{Count: true})
		if err != nil {
			t.Fatal(err)
		}
		sv, err := vs.Create(ctx, f.Actor("sophie.martin"), views.Input{Name: "Everything"})
		if err != nil {
			t.Fatal(err)
		}
		if *sv.Count != *p.Total {
			t.Fatalf("view count %d, list total %d", *sv.Count, *p.Total)
		}

		// Every write is in the hash-chained audit log, before → after;
		// refused writes left nothing there.
		recs, err := audit.List(ctx, d, audit.Filter{ObjectType: "saved_view"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i := len(recs) - 1; i >= 0; i-- {
			r := recs[i]
			got = append(got, r.Action+" "+r.ObjectID+" "+r.Actor)
		}
		id := func(v *views.View) string { return strconv.FormatInt(v.ID, 10) }
		want := []string{"view.create " + id(own), "view.create " + id(all), "view.update " + id(all),
			"view.delete " + id(own), "view.create " + id(sv)}
		if len(got) != len(want) {
			t.Fatalf("audit records %v, want %v", got, want)
		}
		for i := range want {
			if !strings.HasPrefix(got[i], want[i]+" ") {
				t.Fatalf("audit record %d: %q, want %q…", i, got[i], want[i])
			}
		}
		upd := recs[len(recs)-3]
		if !strings.Contains(string(upd.Before), `"All active"`) || !strings.Contains(string(upd.After), `"Logistics P1"`) ||
			upd.ActorID != jonas.UserID {
			t.Fatalf("update record: before %s after %s actor %d", upd.Before, upd.After, upd.ActorID)
		}
		if del := recs[1]; del.Before == nil || del.After != nil || !strings.Contains(string(del.Before), `"Mine open"`) {
			t.Fatalf("delete record: before %s after %s", del.Before, del.After)
		}
		if v, err := audit.Verify(ctx, d); err != nil || !v.OK {
			t.Fatalf("audit chain: %+v %v", v, err)
		}
	})
}
