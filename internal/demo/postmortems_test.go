package demo

import (
	"context"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/postmortems"
)

// The demo's two past major incidents have postmortems (one published, one
// in review) with figures from linked cases and action items, some
// overdue, one of them the first admin's.
func TestDemoPostmortems(t *testing.T) {
	ctx := context.Background()
	a, err := app.New(dbtest.SQLite(t, app.Migrate), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logins, err := Load(ctx, a, Options{Seed: 1, Cases: 600, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	admin := auth.System("test")
	states := map[postmortems.State]int{}
	for _, ref := range []string{"INC-1", "INC-2"} {
		p, err := a.Postmortems.Get(ctx, admin, ref)
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		states[p.State]++
		if p.Impact.Cases == 0 || len(p.ActionItems) < 3 || len(p.Missing) != 0 {
			t.Errorf("%s: %d cases, %d items, missing %v", ref, p.Impact.Cases, len(p.ActionItems), p.Missing)
		}
	}
	if states[postmortems.Published] != 1 || states[postmortems.InReview] != 1 {
		t.Errorf("states %v", states)
	}
	overdue, err := a.Postmortems.Query(ctx, postmortems.Filter{State: postmortems.StateOverdue})
	if err != nil || len(overdue) < 2 {
		t.Fatalf("overdue %d %v", len(overdue), err)
	}
	mine, err := a.Postmortems.Query(ctx, postmortems.Filter{Owner: logins[0].Email})
	if err != nil || len(mine) == 0 {
		t.Fatalf("the admin's items %d %v", len(mine), err)
	}
}
