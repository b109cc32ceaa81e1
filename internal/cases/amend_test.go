package cases_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/events"
)

// A subscriber of case.created that changes the new case amends it inside
// its create (amend.go). What that writes must be what the same change
// makes right after the create, in a transaction of its own: the row, the
// clocks, the timeline, the audit record and the events.
func TestSubscriberAmendsTheCaseItCreates(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		priya := f.actor("priya.shah")
		bot := auth.System("test")
		// The amendment: the level raised, the priority made P1 (which moves the
		// clocks) and a tag added, with a timeline entry of its own.
		amendment := func(c *cases.Case) ([]cases.Entry, error) {
			c.EscalationLevel = 2
			c.Priority = "P1"
			c.Tags = append(c.Tags, "amended")
			return []cases.Entry{{Type: "amended", Data: map[string]any{"by": "test"}},
				{Type: "update", Data: map[string]any{"changes": []cases.Change{{Field: "priority", Old: "P3", New: "P1"}}}}}, nil
		}
		var seen []string // the case each change saw, as its events carry it
		f.App.Bus.OnTx("test-amend", func(ctx context.Context, tx *db.Tx, e events.Event) error {
			if !strings.Contains(e.Case.Title, "[amend]") {
				return nil
			}
			c, err := f.svc.ChangeInTx(ctx, tx, bot, e.Case.Number, auth.PermCaseWrite, amendment)
			if err != nil {
				return err
			}
			seen = append(seen, fmt.Sprintf("%s v%d L%d", c.Number, c.Version, c.EscalationLevel))
			return nil
		}, events.CaseCreated)
		var changed []string
		f.App.Bus.OnTx("test-changed", func(_ context.Context, _ *db.Tx, e events.Event) error {
			changed = append(changed, fmt.Sprintf("%s %s L%d %s", e.Type, e.Case.Number, e.Case.EscalationLevel, e.Case.Priority))
			return nil
		}, events.CaseChanged, events.CaseCreated)

		in := lostParcel()
		in.Title = "Parcel never arrived [amend]"
		amended, err := f.svc.Create(ctx, priya, in, nil)
		if err != nil {
			t.Fatal(err)
		}
		in.Title = "Parcel never arrived [after]"
		plain, err := f.svc.Create(ctx, priya, in, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			_, err := f.svc.ChangeInTx(ctx, tx, bot, plain.Number, auth.PermCaseWrite, amendment)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if want := []string{amended.Number + " v2 L2"}; fmt.Sprint(seen) != fmt.Sprint(want) {
			t.Fatalf("the subscriber's change returned %q, want %q", seen, want)
		}
		if amended.EscalationLevel != 2 || amended.Priority != "P1" || amended.Version != 2 || !contains(strings.Join(amended.Tags, ","), "amended") {
			t.Fatalf("Create returned the case before its amendment: %+v", amended)
		}
		a, err := f.svc.Get(ctx, priya, amended.Number)
		if err != nil {
			t.Fatal(err)
		}
		p, err := f.svc.Get(ctx, priya, plain.Number)
		if err != nil {
			t.Fatal(err)
		}
		// Create returns the case in hand, amended, without reading it back:
		// the same as a read of it.
		if got, want := mustJSON(t, amended), mustJSON(t, a); got != want {
			t.Fatalf("Create returned\n%s\na read gives\n%s", got, want)
		}
		// The row: as the later change left the other case.
		if a.EscalationLevel != p.EscalationLevel || a.Priority != p.Priority || a.Version != p.Version ||
			fmt.Sprint(a.Tags) != fmt.Sprint(p.Tags) || a.Title == p.Title {
			t.Fatalf("amended %+v\nlater change %+v", a, p)
		}
		// The clocks: re-evaluated for P1 (the fake clock stood still).
		clocks := func(c *cases.Case) string {
			var out []string
			for _, ck := range c.SLA {
				out = append(out, fmt.Sprintf("%s %s %s %v", ck.Metric, ck.Policy, ck.Target, ck.DueAt))
			}
			return strings.Join(out, "; ")
		}
		if clocks(a) != clocks(p) || clocks(a) == "" {
			t.Fatalf("clocks of the amended case: %s\nof the case changed later: %s", clocks(a), clocks(p))
		}
		// The timeline: created, then the amendment's entries.
		types := func(c *cases.Case) string {
			evs, err := f.svc.Events(ctx, priya, c.Number)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range evs {
				out = append(out, e.Type)
			}
			return strings.Join(out, ",")
		}
		if types(a) != types(p) || !contains(types(a), "amended") {
			t.Fatalf("timeline of the amended case %s, of the case changed later %s", types(a), types(p))
		}
		// The audit: the create, then the change from the case as created to
		// the case as amended; the same records as the later change's, but for
		// what tells the two cases apart.
		records := func(c *cases.Case) []string {
			recs, err := audit.List(ctx, d, audit.Filter{ObjectType: "case", ObjectID: c.Number})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for i := len(recs) - 1; i >= 0; i-- {
				r := recs[i]
				out = append(out, r.Action+" "+neutral(t, r.Before)+" → "+neutral(t, r.After))
			}
			return out
		}
		ra, rp := records(a), records(p)
		if len(ra) != 2 || strings.Join(ra, "\n") != strings.Join(rp, "\n") || !strings.HasPrefix(ra[1], "case.amended ") {
			t.Fatalf("audit of the amended case:\n%s\nof the case changed later:\n%s", strings.Join(ra, "\n"), strings.Join(rp, "\n"))
		}
		// The amendment's record before is the case as created, with its id
		// and number (the create's record was made before it had them).
		recs, err := audit.List(ctx, d, audit.Filter{ObjectType: "case", ObjectID: a.Number})
		if err != nil {
			t.Fatal(err)
		}
		var before struct {
			ID     int64  `json:"id"`
			Number string `json:"number"`
		}
		if err := json.Unmarshal(recs[0].Before, &before); err != nil || before.ID != a.ID || before.Number != a.Number {
			t.Fatalf("the amendment's record before: %s (%v)", recs[0].Before, err)
		}
		// The events: case.changed published for the amendment as for the change.
		// (The amendment's event reaches subscribers inside the create's round.)
		want := []string{"case.changed " + amended.Number + " L2 P1", "case.created " + amended.Number + " L1 P3",
			"case.created " + plain.Number + " L1 P3", "case.changed " + plain.Number + " L2 P1"}
		if fmt.Sprint(changed) != fmt.Sprint(want) {
			t.Fatalf("events: %q", changed)
		}
		if res, err := audit.Verify(ctx, d); err != nil || !res.OK {
			t.Fatalf("audit chain: %+v %v", res, err)
		}
	})
}

// neutral is an audit snapshot with what differs between the two cases
// (their id, number and title, and the second's repeat-contact reason)
// taken out; the fake clock stands still.
func neutral(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	if len(raw) == 0 || string(raw) == "null" {
		return "null"
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "number", "title", "priority_reasons"} { // the second is a repeat contact
		delete(m, k)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// A change that adds no entry saves nothing; amending, it leaves the case
// being created as it was, like a change that drops the copy it loaded.
func TestAmendmentWithoutEntriesChangesNothing(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		f.App.Bus.OnTx("test-noop", func(ctx context.Context, tx *db.Tx, e events.Event) error {
			_, err := f.svc.ChangeInTx(ctx, tx, auth.System("test"), e.Case.Number, auth.PermCaseWrite, func(c *cases.Case) ([]cases.Entry, error) {
				c.Priority, c.EscalationLevel = "P1", 4 // and then decides against it
				return nil, nil
			})
			return err
		}, events.CaseCreated)
		c, err := f.svc.Create(ctx, f.actor("priya.shah"), lostParcel(), nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.Get(ctx, f.actor("priya.shah"), c.Number)
		if err != nil {
			t.Fatal(err)
		}
		if c.Priority == "P1" || c.EscalationLevel == 4 || c.Version != 1 || got.Priority != c.Priority || got.Version != 1 {
			t.Fatalf("created %s %s L%d v%d, stored %s L%d v%d", c.Number, c.Priority, c.EscalationLevel, c.Version,
				got.Priority, got.EscalationLevel, got.Version)
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
