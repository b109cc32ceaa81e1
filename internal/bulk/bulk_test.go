package bulk_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/bulk"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/incidents"
)

func TestBulkPartialRefusals(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		b, cs := f.App.Bulk, f.App.Cases
		jonas := f.Actor("jonas.weber") // a lead
		var refs []string
		for i := 0; i < 3; i++ {
			refs = append(refs, f.OwnedCase(t, apptest.Suspension()).Number)
		}
		events := func(ref string) int {
			t.Helper()
			es, err := cs.Events(ctx, jonas, ref)
			if err != nil {
				t.Fatal(err)
			}
			return len(es)
		}

		// Assign: three cases and one that does not exist.
		me := "me"
		res, err := b.Apply(ctx, jonas, bulk.Input{Action: bulk.Assign, Owner: &me, Cases: append(slices.Clone(refs), "ESC-99999")})
		if err != nil {
			t.Fatal(err)
		}
		if res.Changed != 3 || res.Refused != 1 || res.Outcomes[3].Status != 404 {
			t.Fatalf("assign: %+v", res)
		}
		if want := "3 cases assigned; 1 refused (ESC-99999: no such case, or not one you can see)."; res.Summary != want {
			t.Fatalf("summary %q", res.Summary)
		}
		for _, ref := range refs {
			c, _ := cs.Get(ctx, jonas, ref)
			if c.Owner == nil || *c.Owner != jonas.Email {
				t.Fatalf("%s owner %v", ref, c.Owner)
			}
		}

		// Status: resolving needs a resolution: every case refused whole,
		// nothing written to any (the same rule as one transition).
		before := events(refs[0])
		res, err = b.Apply(ctx, jonas, bulk.Input{Action: bulk.Status, To: "resolved", Cases: refs})
		if err != nil {
			t.Fatal(err)
		}
		if res.Changed != 0 || res.Refused != 3 || res.Outcomes[0].Status != 422 || len(res.Outcomes[0].Errors) == 0 {
			t.Fatalf("resolve without resolution: %+v", res)
		}
		if events(refs[0]) != before {
			t.Fatal("a refused case was written to")
		}
		// Resolve one, then move all three back to open: the resolved one
		// reopens, the others are already open (refused with the reason).
		if _, err := cs.Transition(ctx, jonas, refs[2], cases.TransitionInput{To: cases.StatusResolved, Resolution: "refunded", Note: "Refunded in full"}); err != nil {
			t.Fatal(err)
		}
		res, err = b.Apply(ctx, jonas, bulk.Input{Action: bulk.Status, To: "pending_requester", Cases: refs})
		if err != nil {
			t.Fatal(err)
		}
		if res.Changed != 2 || res.Refused != 1 || res.Outcomes[2].Status != 409 || !strings.Contains(res.Summary, refs[2]) {
			t.Fatalf("status: %+v", res)
		}

		// Tag: added to each case's own tags; a case already tagged stays as it is.
		res, err = b.Apply(ctx, jonas, bulk.Input{Action: bulk.Tag, Tags: []string{"Recall"}, Cases: refs[:2]})
		if err != nil || res.Changed != 2 {
			t.Fatalf("tag: %+v %v", res, err)
		}
		c, _ := cs.Get(ctx, jonas, refs[0])
		if !slices.Contains(c.Tags, "recall") {
			t.Fatalf("tags %v", c.Tags)
		}
		// Tagging again: the two already tagged are unchanged (not
		// counted as changed, nothing written), the third is tagged.
		before = events(refs[0])
		res, err = b.Apply(ctx, jonas, bulk.Input{Action: bulk.Tag, Tags: []string{" recall", "RECALL"}, Cases: refs})
		if err != nil || res.Changed != 1 || res.Unchanged != 2 || res.Refused != 0 {
			t.Fatalf("tag again: %+v %v", res, err)
		}
		if o := res.Outcomes[0]; o.Changed || !o.Unchanged || o.Status != 200 || o.Reason != "already tagged" {
			t.Fatalf("an already tagged case's outcome: %+v", o)
		}
		if want := "1 case tagged, 2 unchanged (" + refs[0] + ", " + refs[1] + ": already tagged)."; res.Summary != want {
			t.Fatalf("summary %q, want %q", res.Summary, want)
		}
		if events(refs[0]) != before {
			t.Fatal("an already tagged case was written to")
		}
		if c, _ := cs.Get(ctx, jonas, refs[2]); !slices.Equal(c.Tags[len(c.Tags)-1:], []string{"recall"}) || slices.Index(c.Tags, "recall") != len(c.Tags)-1 {
			t.Fatalf("the third case's tags %v", c.Tags)
		}

		// Priority: the reason is required per case, as for one change.
		res, err = b.Apply(ctx, jonas, bulk.Input{Action: bulk.Priority, Priority: "P1", Cases: refs[:1]})
		if err != nil || res.Refused != 1 || res.Outcomes[0].Errors[0].Field != "priority_reason" {
			t.Fatalf("priority without reason: %+v %v", res, err)
		}
		res, err = b.Apply(ctx, jonas, bulk.Input{Action: bulk.Priority, Priority: "P1", Reason: "Safety recall", Cases: refs[:1]})
		if err != nil || res.Changed != 1 {
			t.Fatalf("priority: %+v %v", res, err)
		}

		// Link to an incident; a case already linked is refused as such.
		inc, err := f.App.Incidents.Declare(ctx, jonas, incidents.DeclareInput{Title: "Recall", Type: incidents.TypeService, Severity: incidents.SEV3, Markets: []string{"GB"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Apply(ctx, jonas, bulk.Input{Action: bulk.Link, Incident: inc.Number, Cases: refs[:1]}); err != nil {
			t.Fatal(err)
		}
		res, err = b.Apply(ctx, jonas, bulk.Input{Action: bulk.Link, Incident: inc.Number, Cases: refs})
		if err != nil || res.Changed != 2 || res.Refused != 1 || !strings.Contains(res.Outcomes[0].Reason, "already linked") {
			t.Fatalf("link: %+v %v", res, err)
		}

		// A bad request as a whole touches nothing.
		for _, in := range []bulk.Input{{Action: "delete", Cases: refs}, {Action: bulk.Assign, Cases: refs}, {Action: bulk.Tag, Tags: []string{"x"}}} {
			_, err := b.Apply(ctx, jonas, in)
			if _, ok := err.(interface{ What() string }); !ok {
				t.Fatalf("%+v: %v", in, err)
			}
		}
		// A viewer may not change cases at all.
		if _, err := b.Apply(ctx, f.Actor("sophie.martin"), bulk.Input{Action: bulk.Assign, Owner: &me, Cases: refs}); err == nil {
			t.Fatal("an account manager bulk-assigned")
		}
	})
}
