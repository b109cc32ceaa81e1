package reports_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/reports"
)

// The report reads what the desk wrote: cases created, answered and
// resolved through the case service, on both stores.
func TestReportFromTheStore(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		agent, lead := f.Actor("priya.shah"), f.Actor("jonas.weber")
		mk := func(title string) *cases.Case {
			c, err := f.App.Cases.Create(ctx, agent, cases.CreateInput{Title: title, Category: "logistics/lost_parcel", Market: "GB",
				Fields: map[string]any{"order_id": "ORD-1"}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		start := f.Clock.Now()
		a := mk("Lost parcel A")
		f.Clock.Advance(30 * time.Minute)
		mk("Lost parcel B")
		f.Clock.Advance(30 * time.Minute)
		// A is answered after 1 h and resolved after 2 h; B stays open.
		if _, err := f.App.Cases.AddComment(ctx, agent, a.Number, cases.CommentInput{Body: "We are on it."}); err != nil {
			t.Fatal(err)
		}
		f.Clock.Advance(time.Hour)
		if _, err := f.App.Cases.Transition(ctx, agent, a.Number, cases.TransitionInput{To: cases.StatusResolved,
			Resolution: "refunded", Note: "Refunded."}); err != nil {
			t.Fatal(err)
		}
		period := reports.Period{From: start.Truncate(24 * time.Hour), To: start.Truncate(24 * time.Hour).Add(24 * time.Hour)}
		rep, err := f.App.Reports.Report(ctx, lead, reports.Filter{Period: period, By: "team"})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Slices) != 1 || rep.Slices[0].Key != a.Team {
			t.Fatalf("slices %+v", rep.Slices)
		}
		m := rep.Slices[0].Metrics
		if m.Intake != 2 || m.Resolved != 1 || m.Backlog != 1 {
			t.Fatalf("intake %d resolved %d backlog %d, want 2 1 1", m.Intake, m.Resolved, m.Backlog)
		}
		if m.FirstResponse != (reports.Durations{Count: 1, Median: 3600, P90: 3600}) ||
			m.Resolution != (reports.Durations{Count: 1, Median: 7200, P90: 7200}) {
			t.Fatalf("first response %+v resolution %+v", m.FirstResponse, m.Resolution)
		}
		if fr := m.SLA["first_response"]; fr.Of != 1 || fr.Count != 1 {
			t.Fatalf("first-response attainment %+v (B's clock is still running)", fr)
		}
		// The previous day has the same slices (to compare), with nothing in them.
		if len(rep.PreviousSlices) != 1 || rep.PreviousSlices[0].Metrics.Intake != 0 || rep.PreviousSlices[0].Metrics.Backlog != 0 {
			t.Fatalf("the previous day had nothing: %+v", rep.PreviousSlices)
		}
		// The CSV gives the same figures.
		var buf bytes.Buffer
		if err := rep.WriteCSV(&buf); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil || len(recs) != 3 || recs[2][0] != "previous" || recs[0][3] != "team" || recs[0][4] != "intake" || recs[1][4] != "2" || recs[1][3] != a.Team {
			t.Fatalf("csv %v %v", recs, err)
		}
		// Agents and account managers do not read the desk's reports.
		_, err = f.App.Reports.Report(ctx, agent, reports.Filter{Period: period})
		if _, ok := err.(*apperr.Forbidden); !ok {
			t.Fatalf("agent: %v", err)
		}
	})
}
