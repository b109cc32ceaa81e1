package incidents_test

import (
	"context"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/incidents"
)

func TestAutoLinkRule(t *testing.T) {
	r := incidents.AutoLinkRule{Name: "x", Categories: []string{"logistics/"}, Markets: []string{"GB"}, Keywords: []string{"Tracking"}}
	f := incidents.CaseFacts{Category: "logistics/lost_parcel", Market: "GB", Text: "No tracking update for 5 days"}
	if !r.Matches(f) {
		t.Fatal("should match")
	}
	for _, g := range []incidents.CaseFacts{
		{Category: "payments/funds_held", Market: "GB", Text: "tracking"},
		{Category: "logistics/lost_parcel", Market: "DE", Text: "tracking"},
		{Category: "logistics/lost_parcel", Market: "GB", Text: "parcel lost"},
	} {
		if r.Matches(g) {
			t.Errorf("matches %+v", g)
		}
	}
	open := []*incidents.Incident{
		{ID: 1, Type: incidents.TypeLogisticsDisruption, Status: incidents.Investigating, Markets: []string{"GB"}},
		{ID: 2, Type: incidents.TypeLogisticsDisruption, Status: incidents.Investigating, Markets: []string{"DE"}},
		{ID: 3, Type: incidents.TypeService, Status: incidents.Investigating},
		{ID: 4, Type: incidents.TypeLogisticsDisruption, Status: incidents.Resolved},
	}
	r.Types = []incidents.Type{incidents.TypeLogisticsDisruption}
	got := incidents.AutoLinks([]incidents.AutoLinkRule{r}, open, f)
	if len(got) != 1 || got[1] != "x" {
		t.Fatalf("links %v", got)
	}
}

// While an incident is open, new cases its auto-link rule takes are linked
// in the creating transaction, with an entry on their timeline; by hand and
// by a search too; the counts by market and status follow.
func TestLinking(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		amelia := f.Actor("amelia.clarke")
		inc := f.declare(t, "amelia.clarke", incidents.DeclareInput{Title: "DPD outage", Type: incidents.TypeLogisticsDisruption,
			Severity: incidents.SEV3, Markets: []string{"GB"}})
		hit := f.newCase(t, lostParcel("No tracking since Monday"))
		miss := f.newCase(t, lostParcel("Parcel damaged"))
		de := lostParcel("tracking stuck")
		de.Market = "DE"
		other := f.newCase(t, de)
		got, _ := f.inc.Get(f.ctx, amelia, inc.Number)
		if got.LinkedCases != 1 {
			t.Fatalf("auto-linked %d", got.LinkedCases)
		}
		evs, err := f.App.Cases.Events(f.ctx, amelia, hit.Number)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range evs {
			found = found || (e.Type == "incident_linked" && e.Data["via"] == "rule:Carrier outage")
		}
		if !found {
			t.Fatalf("no timeline entry on %s: %+v", hit.Number, evs)
		}
		res, err := f.inc.Link(f.ctx, amelia, inc.Number, incidents.LinkInput{Cases: []string{miss.Number, hit.Number}})
		if err != nil || res.Linked != 1 || res.Matched != 2 {
			t.Fatalf("link: %+v %v", res, err)
		}
		res, err = f.inc.Link(f.ctx, amelia, inc.Number, incidents.LinkInput{Filter: &cases.ListFilter{Market: []string{"DE"}}})
		if err != nil || res.Linked != 1 {
			t.Fatalf("link by search: %+v %v", res, err)
		}
		_, err = f.inc.Link(f.ctx, amelia, inc.Number, incidents.LinkInput{Cases: []string{"ESC-999"}})
		apptestWantInvalid(t, err, "cases[0]")
		lp, err := f.inc.Linked(f.ctx, amelia, inc.Number, "", 2)
		if err != nil {
			t.Fatal(err)
		}
		if lp.Summary.Cases != 3 || lp.Summary.ByMarket["GB"] != 2 || lp.Summary.ByMarket["DE"] != 1 || len(lp.Cases) != 2 ||
			lp.NextCursor == "" || lp.Cases[0].Number != other.Number {
			t.Fatalf("linked: %+v", lp)
		}
		if err := f.inc.Unlink(f.ctx, amelia, inc.Number, other.Number); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.inc.Get(f.ctx, amelia, inc.Number); got.LinkedCases != 2 {
			t.Fatalf("after unlink %d", got.LinkedCases)
		}
	})
}

// A bulk resolve needs the incident resolved; it queues a reply per open
// linked case and resolves each through cases.Service when the timer fires,
// in batches: exactly one public reply per case, each case with its own
// timeline entries; a case resolved meanwhile is skipped.
func TestBulkResolve(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.inc.BulkBatch = 2
		amelia := f.Actor("amelia.clarke")
		inc := f.declare(t, "amelia.clarke", incidents.DeclareInput{Title: "DPD outage", Type: incidents.TypeLogisticsDisruption,
			Severity: incidents.SEV3, Markets: []string{"GB"}})
		var refs []string
		for _, title := range []string{"tracking a", "tracking b", "tracking c", "tracking d", "tracking e"} {
			refs = append(refs, f.newCase(t, lostParcel(title)).Number)
		}
		if _, err := f.App.Cases.Transition(f.ctx, auth.System("test"), refs[4], cases.TransitionInput{To: cases.StatusResolved,
			Resolution: "fixed", Note: "found"}); err != nil {
			t.Fatal(err)
		}
		in := incidents.BulkInput{Resolution: "fixed", Note: "carrier recovered"}
		if _, err := f.inc.BulkResolve(f.ctx, amelia, inc.Number, in); err == nil {
			t.Fatal("bulk resolve on an open incident")
		}
		if _, err := f.inc.Transition(f.ctx, amelia, inc.Number, incidents.TransitionInput{To: incidents.Resolved}); err != nil {
			t.Fatal(err)
		}
		_, err := f.inc.BulkResolve(f.ctx, f.Actor("priya.shah"), inc.Number, in)
		if err == nil {
			t.Fatal("priya is not the commander")
		}
		_, err = f.inc.BulkResolve(f.ctx, amelia, inc.Number, incidents.BulkInput{Resolution: "nope"})
		apptestWantInvalid(t, err, "resolution")
		apptestWantInvalid(t, err, "note")
		b, err := f.inc.BulkResolve(f.ctx, amelia, inc.Number, in)
		if err != nil {
			t.Fatal(err)
		}
		if b.Total != 4 || b.Pending != 4 || b.Done != 0 {
			t.Fatalf("queued: %+v", b)
		}
		if _, err := f.inc.BulkResolve(f.ctx, amelia, inc.Number, in); err == nil {
			t.Fatal("a second bulk while one runs")
		}
		// Nothing was replied to inline.
		if n := replies(t, f, refs[0]); n != 0 {
			t.Fatalf("%d replies before the timer", n)
		}
		// One of them resolves meanwhile: skipped.
		if _, err := f.App.Cases.Transition(f.ctx, auth.System("test"), refs[3], cases.TransitionInput{To: cases.StatusResolved,
			Resolution: "fixed", Note: "by hand"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.inc.Fire(f.ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := f.inc.Fire(f.ctx); err != nil { // again: nothing twice
			t.Fatal(err)
		}
		b, err = f.inc.LatestBulk(f.ctx, amelia, inc.Number)
		if err != nil || b.Done != 3 || b.Skipped != 1 || b.Pending != 0 || b.FinishedAt == nil {
			t.Fatalf("finished: %+v %v", b, err)
		}
		for i, ref := range refs[:3] {
			c, err := f.App.Cases.Get(f.ctx, amelia, ref)
			if err != nil {
				t.Fatal(err)
			}
			if c.Status != cases.StatusResolved || c.Resolution != "fixed" {
				t.Fatalf("%s is %s", ref, c.Status)
			}
			if n := replies(t, f, ref); n != 1 {
				t.Fatalf("case %d: %d replies", i, n)
			}
		}
		if n := replies(t, f, refs[3]); n != 0 {
			t.Fatalf("skipped case got %d replies", n)
		}
	})
}

// replies counts the public replies on case ref, checking their text.
func replies(t *testing.T, f *fixture, ref string) int {
	t.Helper()
	evs, err := f.App.Cases.Events(context.Background(), f.Actor("amelia.clarke"), ref)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Type == "comment" && e.Data["internal"] == false {
			n++
		}
	}
	var body string
	_ = f.DB.QueryRow(context.Background(), `SELECT COALESCE(MAX(body), '') FROM case_comments cc JOIN cases c ON c.id = cc.case_id
		WHERE c.number = ?`, strings.TrimPrefix(ref, cases.NumberPrefix)).Scan(&body)
	if n > 0 && (!strings.Contains(body, "Hello Sam Buyer") || !strings.Contains(body, ref)) {
		t.Fatalf("reply on %s: %q", ref, body)
	}
	return n
}
