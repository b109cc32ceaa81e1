package demo

import (
	"context"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/problems"
)

// The showcase: two problems with their cases (a known error with its
// root cause, a fix in progress with its action), similar open cases left
// to link, and suggestions on the mails filed under the catch-all.
func TestShowcaseProblems(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a, err := app.New(d, app.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Load(ctx, a, Options{Seed: 1, Cases: 300, Now: testNow, Showcase: true}); err != nil {
			t.Fatal(err)
		}
		var total int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM cases`).Scan(&total); err != nil || total != 300 {
			t.Errorf("cases: %d %v", total, err) // the showcase's cases make up the count
		}
		lead := auth.System("test")
		ps, err := a.Problems.List(ctx, lead, problems.Filter{})
		if err != nil || len(ps) != 2 {
			t.Fatalf("problems: %+v %v", ps, err)
		}
		byStatus := map[problems.Status]*problems.Problem{}
		for _, p := range ps {
			byStatus[p.Status] = p
		}
		if p := byStatus[problems.KnownError]; p == nil || p.RootCause == "" || p.CaseCount != 5 {
			t.Errorf("known error: %+v", p)
		}
		if p := byStatus[problems.FixInProgress]; p == nil || p.Action.Owner == nil || p.Action.Due == "" || p.CaseCount != 4 {
			t.Errorf("fix in progress: %+v", p)
		}
		// An unlinked depot case finds its problem.
		p, _ := a.Problems.Get(ctx, lead, byStatus[problems.KnownError].ID)
		var unlinked string
		if err := d.QueryRow(ctx, `SELECT c.number FROM cases c WHERE c.title = ?`, depotCases[6].title).Scan(&unlinked); err != nil {
			t.Fatal(err)
		}
		v, err := a.Problems.Similar(ctx, lead, "ESC-"+unlinked)
		if err != nil || v.Likely == nil || v.Likely.ID != p.ID {
			t.Errorf("likely problem of %s: %+v %v", unlinked, v, err)
		}
		shown := 0
		rows, err := d.Query(ctx, `SELECT number FROM cases WHERE category = ? AND channel IN ('email', 'external')`, catchAll)
		if err != nil {
			t.Fatal(err)
		}
		nums, err := db.Collect(rows, func(s db.Scanner) (string, error) { var n string; return n, s.Scan(&n) })
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nums {
			if sg, err := a.Suggest.For(ctx, lead, "ESC-"+n); err == nil && sg != nil {
				shown++
				t.Logf("ESC-%s: %s %.2f", n, sg.Category, sg.Confidence)
			}
		}
		if shown < 2 {
			t.Errorf("suggestions on %d of %d unsorted mails", shown, len(nums))
		}
	})
}
