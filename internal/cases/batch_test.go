package cases_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

// A batched transition leaves each case as TransitionInTx leaves it: the
// same timeline entries, SLA outcome, events and audit record per case;
// the cases it refuses keep their state and their error.
func TestTransitionManyMatchesOneByOne(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		priya := f.actor("priya.shah")
		var cs []*cases.Case
		for range 4 {
			c, err := f.svc.Create(ctx, priya, lostParcel(), nil)
			if err != nil {
				t.Fatal(err)
			}
			cs = append(cs, c)
		}
		f.clock.Advance(20 * time.Minute) // before any SLA warning: the timer must not race the changes
		resolve := func(c *cases.Case) cases.TransitionInput {
			return cases.TransitionInput{To: cases.StatusResolved, Resolution: "fixed", Note: "carrier recovered",
				Reply: "Hello, " + c.Number + " is sorted."}
		}
		// cs[0] one by one; cs[1] and cs[2] batched, with cs[3] refused (no note) and a case that does not exist.
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			_, err := f.svc.TransitionInTx(ctx, tx, priya, cs[0].Number, resolve(cs[0]))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		bad := resolve(cs[3])
		bad.Note = ""
		var moved []*cases.Case
		var errs []error
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			var err error
			moved, errs, err = f.svc.TransitionManyInTx(ctx, tx, priya, []cases.TransitionItem{
				{ID: cs[1].ID, In: resolve(cs[1])}, {ID: cs[2].ID, In: resolve(cs[2])}, {ID: cs[3].ID, In: bad}, {ID: 999_999, In: resolve(cs[0])}})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var inv *apperr.Invalid
		if len(moved) != 2 || errs[0] != nil || errs[1] != nil || !errors.As(errs[2], &inv) || !errors.Is(errs[3], apperr.ErrNotFound) {
			t.Fatalf("moved %d, errs %v", len(moved), errs)
		}
		shape := func(ref string) string {
			c, err := f.svc.Get(ctx, priya, ref)
			if err != nil {
				t.Fatal(err)
			}
			evs, err := f.svc.Events(ctx, priya, ref)
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, e := range evs {
				types = append(types, e.Type)
			}
			var clocks []string
			for _, k := range c.SLA {
				clocks = append(clocks, fmt.Sprintf("%s:%s", k.Metric, k.State))
			}
			recs, err := audit.List(ctx, d, audit.Filter{ObjectType: "case", ObjectID: c.Number})
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, r := range recs {
				actions = append(actions, r.Action)
			}
			slices.Sort(actions)
			rows, err := d.Query(ctx, `SELECT type FROM events WHERE stream = ? ORDER BY seq`, fmt.Sprintf("case:%d", c.ID))
			if err != nil {
				t.Fatal(err)
			}
			outbox, err := db.Collect(rows, func(r db.Scanner) (string, error) {
				var s string
				return s, r.Scan(&s)
			})
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("%s %s first=%v entries=%v clocks=%v audit=%v events=%v", c.Status, c.Resolution,
				c.FirstResponseAt != nil, types, clocks, actions, outbox)
		}
		want := shape(cs[0].Number)
		for _, c := range cs[1:3] {
			if got := shape(c.Number); got != want {
				t.Fatalf("batched %s:\n %s\none by one:\n %s", c.Number, got, want)
			}
		}
		if c, _ := f.svc.Get(ctx, priya, cs[3].Number); c.Status.Active() == false {
			t.Fatalf("refused case is %s", c.Status)
		}
	})
}
