package macros_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/macros"
)

var tracing = macros.Macro{
	Key: "tracing", Name: "Tracing started", Teams: []string{"logistics"},
	Reply:        "Hi {{requester_name}}, we are tracing {{case_number}} with {{ seller_name }}; next update by {{due}}.",
	Translations: map[string]string{"de": "Hallo {{requester_name}}, wir verfolgen {{case_number}}."},
	Status:       cases.StatusPendingRequester, AddTags: []string{"tracing"},
}

func lostParcel(lang string) cases.CreateInput {
	return cases.CreateInput{
		Title: "Parcel never arrived", Description: "Buyer says the parcel never arrived", Category: "logistics/lost_parcel",
		Market: "GB", SellerID: "S-1001", Language: lang, Requester: &cases.Requester{Name: "Sam Buyer", Email: "sam@example.com"},
		Fields: map[string]any{"order_id": "ORD-778812", "tracking_number": "JD0002211", "carrier": "DPD"},
	}
}

func TestRenderAndLanguage(t *testing.T) {
	due := time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)
	v := macros.Values{RequesterName: "Sam Buyer", CaseNumber: "ESC-1042", SellerName: "Thames Home Goods Ltd", Due: &due}
	if got, want := macros.Render(tracing.Reply, v), "Hi Sam Buyer, we are tracing ESC-1042 with Thames Home Goods Ltd; next update by 2026-11-03 14:00 UTC."; got != want {
		t.Fatalf("render:\n got %q\nwant %q", got, want)
	}
	if got := macros.Render("Hi {{requester_name}} ({{seller_name}})", macros.Values{}); got != "Hi  ()" {
		t.Fatalf("missing values leave no braces: %q", got)
	}
	// {{due}} promises the soonest running clock still ahead, never a breached one.
	now := due.Add(-3 * time.Hour)
	past, later := now.Add(-time.Hour), due.Add(time.Hour)
	c := &cases.Case{Number: "ESC-7", Requester: cases.Requester{Email: "sam@example.com"}, SLA: []cases.Clock{
		{State: "breached", DueAt: &past}, {State: "running", DueAt: &later}, {State: "running", DueAt: &due}}}
	if got := macros.ValuesFor(c, nil, now); got.Due == nil || !got.Due.Equal(due) || got.RequesterName != "sam@example.com" {
		t.Errorf("values: %+v", got)
	}
	for lang, want := range map[string]string{"de": "de", "de-AT": "de", "DE": "de", "fr": "", "": ""} {
		text, got := tracing.Text(lang)
		if got != want || (want == "de") != strings.HasPrefix(text, "Hallo") {
			t.Errorf("language %q: chose %q (%q), want %q", lang, got, text, want)
		}
	}
}

func TestSectionValidation(t *testing.T) {
	f := apptest.New(t, dbtest.SQLite(t, app.Migrate))
	schema, err := app.DeskSchema()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := schema.Example()
	if err != nil {
		t.Fatal(err)
	}
	desk.Set(cfg, macros.Key, []macros.Macro{
		{Key: "a", Name: "A", Teams: []string{"nope"}, Reply: "Hi {{requester_nam}}"},
		{Key: "a", Name: "Again"},
		{Key: "r", Name: "Resolve", Status: cases.StatusResolved},
	})
	_, err = f.App.Desk.Apply(context.Background(), f.Actor("amelia.clarke"), apptest.T0, cfg)
	var inv *apperr.Invalid
	if !errors.As(err, &inv) {
		t.Fatalf("bad macros applied: %v", err)
	}
	got := map[string]string{}
	for _, e := range inv.Errors {
		got[e.Field] = e.Message
	}
	for field, want := range map[string]string{
		"macros[0].teams[0]": `unknown team "nope"`, "macros[0].reply": "unknown placeholder {{requester_nam}}",
		"macros[1].key": "is a macro already", "macros[1]": "does nothing", "macros[2].resolution": "resolving needs",
	} {
		if !strings.Contains(got[field], want) {
			t.Errorf("%s: %q, want %q (all: %v)", field, got[field], want, got)
		}
	}
}

// Applying a macro replies in the requester's language, moves the status
// and tags the case in one go; a refused step leaves nothing done.
func TestApply(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		resolve := macros.Macro{Key: "close_dup", Name: "Close as duplicate", Reply: "Closing {{case_number}}.",
			Status: cases.StatusResolved, Resolution: "duplicate", Note: "Duplicate", AddTags: []string{"dup"}}
		f.Reapply(t, func(c *desk.Config) { desk.Set(c, macros.Key, []macros.Macro{tracing, resolve}) })
		amelia := f.Actor("amelia.clarke")
		c := f.OwnedCase(t, lostParcel("de"))

		offered, err := f.App.Macros.ForCase(ctx, amelia, c.Number)
		if err != nil || len(offered) != 2 || offered[0].Language != "de" || offered[0].Text != "Hallo Sam Buyer, wir verfolgen "+c.Number+"." {
			t.Fatalf("offered: %+v %v", offered, err)
		}
		res, err := f.App.Macros.Apply(ctx, amelia, c.Number, "tracing", &c.Version)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Replied || res.Status != "pending_requester" || res.Case.Status != cases.StatusPendingRequester ||
			!strings.Contains(strings.Join(res.Case.Tags, ","), "tracing") {
			t.Fatalf("applied: %+v", res)
		}
		evs, err := f.App.Cases.Events(ctx, amelia, c.Number)
		if err != nil {
			t.Fatal(err)
		}
		var body string
		for _, e := range evs {
			if e.Type == "comment" {
				body, _ = e.Data["body"].(string)
			}
		}
		if !strings.HasPrefix(body, "Hallo Sam Buyer") {
			t.Fatalf("the reply on the timeline: %q (%+v)", body, evs)
		}
		// A stale page: refused, nothing sent.
		if _, err := f.App.Macros.Apply(ctx, amelia, c.Number, "close_dup", &c.Version); !isConflict(err) {
			t.Fatalf("stale macro: %v", err)
		}
		// A step refused after the reply (resolving a closed case) takes
		// the reply back with it: one transaction.
		closed := cases.TransitionInput{To: cases.StatusResolved, Resolution: "duplicate", Note: "dup"}
		if _, err := f.App.Cases.Transition(ctx, amelia, c.Number, closed); err != nil {
			t.Fatal(err)
		}
		if _, err := f.App.Cases.Transition(ctx, amelia, c.Number, cases.TransitionInput{To: cases.StatusClosed}); err != nil {
			t.Fatal(err)
		}
		before, _ := f.App.Cases.Events(ctx, amelia, c.Number)
		if _, err := f.App.Macros.Apply(ctx, amelia, c.Number, "close_dup", nil); err == nil {
			t.Fatal("a macro resolving a closed case applied")
		}
		after, _ := f.App.Cases.Events(ctx, amelia, c.Number)
		if len(after) != len(before) {
			t.Fatalf("a refused macro wrote %d entries", len(after)-len(before))
		}
		// Not offered, nor applied, outside its teams.
		other := f.OwnedCase(t, apptest.Suspension())
		if _, err := f.App.Macros.Apply(ctx, amelia, other.Number, "tracing", nil); !isConflict(err) {
			t.Fatalf("macro of another team: %v", err)
		}
	})
}

func isConflict(err error) bool {
	var cf *apperr.Conflict
	return errors.As(err, &cf)
}
