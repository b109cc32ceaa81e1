package demo

import (
	"context"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/portal"
)

// The demo's account manager signs in to a portal with a story: answered
// requests, one where the desk waits for her, one nobody has picked up, a
// repeat contact merged into her request.
func TestPortalStory(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a, err := app.New(d, app.Options{})
		if err != nil {
			t.Fatal(err)
		}
		logins, err := Load(ctx, a, Options{Seed: 1, Cases: 100, Now: testNow, Portal: true})
		if err != nil {
			t.Fatal(err)
		}
		var n int // the story's cases count among the 100: the next is the 101st
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM cases`).Scan(&n); err != nil || n != 100 {
			t.Errorf("%d cases, want 100 (%v)", n, err)
		}
		var am auth.Actor
		for _, l := range logins {
			if l.Role == auth.RoleAccountManager {
				u, err := auth.UserByEmail(ctx, d, l.Email)
				if err != nil {
					t.Fatal(err)
				}
				am = auth.ActorFor(u)
			}
		}
		if am.Email != PortalManager {
			t.Fatalf("the account-manager login is %q, the story is %s's", am.Email, PortalManager)
		}
		mine, err := a.Portal.List(ctx, am, portal.ListMine)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range mine {
			got = append(got, it.StatusText)
		}
		want := "Received, not picked up yet|Resolved (parcel located)|Waiting for your answer|Resolved (parcel located)"
		if !strings.HasPrefix(strings.Join(got, "|"), want) { // and the generated desk's older ones
			t.Errorf("her requests, newest first: %q, want %q first", strings.Join(got, "|"), want)
		}
		delay := mine[1]
		info, err := a.Merge.ForCase(ctx, auth.System("test"), delay.Number)
		if err != nil || len(info.MergedFrom) != 1 {
			t.Fatalf("merged into %s: %+v %v", delay.Number, info, err)
		}
		links, err := a.Intake.Links(ctx, mustID(t, a, delay.Number))
		if err != nil || len(links) != 1 || links[0].Case != info.MergedFrom[0].Case || links[0].Direction != "repeated_by" {
			t.Errorf("repeat links of %s: %+v %v", delay.Number, links, err)
		}
	})
}

func mustID(t *testing.T, a *app.App, ref string) int64 {
	t.Helper()
	c, err := a.Cases.Get(context.Background(), auth.System("test"), ref)
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}
