package cases_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

// Two people edit from the same version: the second is refused with who
// changed the case and when, and nothing of theirs is written.
func TestUpdateStaleVersionConflicts(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		amelia, jonas := f.actor("amelia.clarke"), f.actor("jonas.weber")
		c := ownedCase(t, f, lostParcel())
		read := c.Version
		f.clock.Advance(2 * time.Minute)

		title := "Parcel lost in the DPD hub"
		got, err := f.svc.Update(ctx, amelia, c.Number, cases.UpdateInput{Title: &title, Version: &read})
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != read+1 {
			t.Fatalf("version after an edit: %d, want %d", got.Version, read+1)
		}
		f.clock.Advance(2 * time.Minute)

		stale := "Parcel never arrived (buyer chasing)"
		_, err = f.svc.Update(ctx, jonas, c.Number, cases.UpdateInput{Title: &stale, Version: &read})
		var cf *apperr.Conflict
		if !errors.As(err, &cf) {
			t.Fatalf("stale edit: %v, want a conflict", err)
		}
		if !strings.Contains(cf.Detail, "Amelia Clarke changed this case 2 minutes ago") || !strings.Contains(cf.Detail, "reload") {
			t.Fatalf("conflict message: %q", cf.Detail)
		}
		now, err := f.svc.Get(ctx, jonas, c.Number)
		if err != nil {
			t.Fatal(err)
		}
		if now.Title != title || now.Version != read+1 {
			t.Fatalf("a refused edit wrote: %q v%d", now.Title, now.Version)
		}
		// Against the current version the edit goes through; without one
		// (an API client that does not ask) too.
		cur := now.Version
		if _, err := f.svc.Update(ctx, jonas, c.Number, cases.UpdateInput{Title: &stale, Version: &cur}); err != nil {
			t.Fatal(err)
		}
		tags := []string{"chased"}
		if got, err = f.svc.Update(ctx, jonas, c.Number, cases.UpdateInput{Tags: &tags}); err != nil || got.Version != cur+2 {
			t.Fatalf("unversioned edit: %v, version %d", err, got.Version)
		}
		// Any saved change moves the version: a comment too.
		if _, err := f.svc.AddComment(ctx, jonas, c.Number, cases.CommentInput{Body: "Chased DPD"}); err != nil {
			t.Fatal(err)
		}
		if now, _ = f.svc.Get(ctx, jonas, c.Number); now.Version != cur+3 {
			t.Fatalf("version after a comment: %d", now.Version)
		}
	})
}
