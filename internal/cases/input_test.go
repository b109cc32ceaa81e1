package cases_test

import (
	"context"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/assignment"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/handoffs"
)

// The case service applies the input rules itself, whoever calls it (the
// API, the UI, imports): NUL, control characters, bidi overrides in
// one-line fields and over-long text are refused and nothing is written.
func TestServiceRefusesBadText(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		amelia := f.actor("amelia.clarke")
		c := ownedCase(t, f, suspension())
		str := func(s string) *string { return &s }

		for field, edit := range map[string]func(*cases.CreateInput){
			"title":          func(in *cases.CreateInput) { in.Title = "\x1b[31mURGENT" },
			"description":    func(in *cases.CreateInput) { in.Description = "a\x00b" },
			"requester.name": func(in *cases.CreateInput) { in.Requester.Name = "Sam\u202e" },
			"language":       func(in *cases.CreateInput) { in.Language = "english" },
		} {
			in := lostParcel()
			edit(&in)
			_, err := f.svc.Create(ctx, amelia, in, nil)
			wantInvalid(t, err, field)
		}
		p1, fiftyOne := "P1", make([]string, 51)
		for field, in := range map[string]cases.UpdateInput{
			"title":           {Title: str("one\ntwo")},
			"description":     {Description: str("tab\tok but \x07 bell")},
			"priority_reason": {Priority: &p1, PriorityReason: str(strings.Repeat("x", 3_000_000))},
			"watchers":        {Watchers: &fiftyOne},
		} {
			_, err := f.svc.Update(ctx, amelia, c.Number, in)
			wantInvalid(t, err, field)
		}
		_, err := f.svc.AddComment(ctx, amelia, c.Number, cases.CommentInput{Body: "fine\nthen \u202ereversed"})
		wantInvalid(t, err, "body")
		_, err = f.svc.Transition(ctx, amelia, c.Number, cases.TransitionInput{To: cases.StatusPendingRequester, Note: "\x1b]0;title\x07"})
		wantInvalid(t, err, "note")
		_, err = f.App.Handoffs.Create(ctx, amelia, c.Number, handoffs.Input{Team: "logistics", Request: "scan\x00"}, nil)
		wantInvalid(t, err, "request")
		err = f.App.Assignment.SetAway(ctx, f.actor("priya.shah"), "priya.shah@flare.example", assignment.AwayInput{Away: true, Note: "\x00"})
		wantInvalid(t, err, "note")

		got, err := f.svc.Get(ctx, amelia, c.Number)
		if err != nil {
			t.Fatal(err)
		}
		if got.Title != c.Title || got.Priority != c.Priority || got.UpdatedAt != c.UpdatedAt {
			t.Fatalf("a refused change was written: %+v", got)
		}

		// What passes: a priority reason at its limit, multi-line text with
		// tabs and a closed isolate, a language tag in any case.
		reason := strings.Repeat("r", 1_000)
		if _, err := f.svc.Update(ctx, amelia, c.Number, cases.UpdateInput{Priority: &p1, PriorityReason: &reason, Language: str("EN-gb")}); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.svc.Get(ctx, amelia, c.Number); got.Language != "en-GB" {
			t.Fatalf("language stored as %q", got.Language)
		}
		if _, err := f.svc.AddComment(ctx, amelia, c.Number, cases.CommentInput{Body: "name:\t\u2067مرحبا\u2069\nok"}); err != nil {
			t.Fatal(err)
		}
	})
}
