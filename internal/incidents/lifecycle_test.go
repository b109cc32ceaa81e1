package incidents_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/incidents"
)

func TestCheckTransition(t *testing.T) {
	ok := [][2]incidents.Status{
		{incidents.Investigating, incidents.Identified}, {incidents.Investigating, incidents.Resolved},
		{incidents.Monitoring, incidents.Investigating}, {incidents.Resolved, incidents.Monitoring}, {incidents.Resolved, incidents.Closed},
	}
	bad := [][2]incidents.Status{
		{incidents.Investigating, incidents.Investigating}, {incidents.Investigating, incidents.Closed},
		{incidents.Closed, incidents.Investigating}, {incidents.Monitoring, "done"},
	}
	for _, p := range ok {
		if err := incidents.CheckTransition(p[0], p[1]); err != nil {
			t.Errorf("%s → %s: %v", p[0], p[1], err)
		}
	}
	for _, p := range bad {
		if incidents.CheckTransition(p[0], p[1]) == nil {
			t.Errorf("%s → %s allowed", p[0], p[1])
		}
	}
	if !incidents.Reopens(incidents.Resolved, incidents.Identified) || incidents.Reopens(incidents.Monitoring, incidents.Identified) {
		t.Error("Reopens")
	}
}

// The life of an incident: monitoring sets mitigated, resolved sets
// resolved, a reopen needs a reason and clears resolved, and a close asks
// the registered guards — here a stand-in that refuses until the incident
// is written up (a SEV3: the postmortems' own guard, which a SEV1/SEV2
// meets, is tested in internal/postmortems).
func TestLifecycleAndCloseGuard(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		var asked []string
		written := false
		f.inc.SetCloseGuard(func(ctx context.Context, tx *db.Tx, inc *incidents.Incident) error {
			asked = append(asked, inc.Number)
			if !written {
				return &apperr.Conflict{Detail: inc.Number + " is not written up yet"}
			}
			return nil
		})
		amelia := f.Actor("amelia.clarke")
		inc := f.declare(t, "amelia.clarke", incidents.DeclareInput{Title: "Payments API errors", Type: incidents.TypeService,
			Severity: incidents.SEV3, Commander: "amelia.clarke@flare.example"})
		if inc.Paging != nil || inc.Commander() != "amelia.clarke@flare.example" {
			t.Fatalf("a named commander is not paged: %+v", inc)
		}
		step := func(d time.Duration, to incidents.Status, reason string) (*incidents.Incident, error) {
			f.Clock.Advance(d)
			return f.inc.Transition(f.ctx, amelia, inc.Number, incidents.TransitionInput{To: to, Reason: reason})
		}
		if _, err := step(0, incidents.Closed, ""); err == nil {
			t.Fatal("closed an open incident")
		}
		if _, err := step(10*time.Minute, incidents.Identified, ""); err != nil {
			t.Fatal(err)
		}
		got, err := step(20*time.Minute, incidents.Monitoring, "")
		if err != nil {
			t.Fatal(err)
		}
		if !got.Moments.Mitigated.Equal(t0.Add(30 * time.Minute)) {
			t.Fatalf("mitigated %v", got.Moments.Mitigated)
		}
		if got, err = step(30*time.Minute, incidents.Resolved, ""); err != nil || !got.Moments.Resolved.Equal(t0.Add(time.Hour)) ||
			got.NextUpdateAt != nil {
			t.Fatalf("resolved: %+v %v", got, err)
		}
		_, err = step(0, incidents.Monitoring, "")
		apptestWantInvalid(t, err, "reason")
		if got, err = step(5*time.Minute, incidents.Monitoring, "errors are back"); err != nil || got.Moments.Resolved != nil ||
			!got.Moments.Mitigated.Equal(t0.Add(30*time.Minute)) || got.NextUpdateAt == nil {
			t.Fatalf("reopened: %+v %v", got, err)
		}
		if _, err := step(10*time.Minute, incidents.Resolved, ""); err != nil {
			t.Fatal(err)
		}
		_, err = step(time.Hour, incidents.Closed, "")
		var cf *apperr.Conflict
		if !errors.As(err, &cf) || len(asked) != 1 {
			t.Fatalf("close without postmortem: %v (asked %v)", err, asked)
		}
		written = true
		if got, err = step(0, incidents.Closed, ""); err != nil || got.Status != incidents.Closed || got.ClosedAt == nil {
			t.Fatalf("close: %+v %v", got, err)
		}
		if _, err := step(0, incidents.Investigating, "again"); err == nil {
			t.Fatal("reopened a closed incident")
		}
		tl, err := f.inc.Timeline(f.ctx, amelia, inc.Number)
		if err != nil {
			t.Fatal(err)
		}
		var statuses []string
		for _, e := range tl {
			if e.Kind == "status" {
				statuses = append(statuses, e.Data["to"].(string))
			}
		}
		want := "identified monitoring resolved monitoring resolved closed"
		if got := joinStrings(statuses); got != want {
			t.Fatalf("timeline statuses %q, want %q", got, want)
		}
	})
}

// Severity changes need a reason; raising a SEV3 with no commander team
// member in charge to SEV1 pages; the next update follows the new cadence.
func TestSeverityChange(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		inc := f.declare(t, "amelia.clarke", incidents.DeclareInput{Title: "Fake reviews wave", Type: incidents.TypeIntegrity, Severity: incidents.SEV3})
		_, err := f.inc.SetSeverity(f.ctx, f.Actor("amelia.clarke"), inc.Number, incidents.SeverityInput{Severity: incidents.SEV1})
		apptestWantInvalid(t, err, "reason")
		f.Clock.Advance(10 * time.Minute)
		got, err := f.inc.SetSeverity(f.ctx, f.Actor("amelia.clarke"), inc.Number, incidents.SeverityInput{Severity: incidents.SEV1, Reason: "spreading to DE"})
		if err != nil {
			t.Fatal(err)
		}
		// SEV1 updates every 30 minutes from the declaration: due at once (t0+30m is ahead).
		if got.Severity != incidents.SEV1 || !got.NextUpdateAt.Equal(t0.Add(30*time.Minute)) {
			t.Fatalf("severity: %+v", got)
		}
		if got.Paging != nil {
			t.Fatalf("the declarer commands already: no page, got %+v", got.Paging)
		}
	})
}

// Key moments are corrected with a reason; the order is kept; the metrics
// follow the corrected times. Hand-computed: three incidents.
func TestMomentsAndMetrics(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		amelia := f.Actor("amelia.clarke")
		mk := func(typ incidents.Type, sev incidents.Severity, markets []string, started, detected, acked, mitigated, resolved time.Duration) {
			t.Helper()
			at := func(d time.Duration) *time.Time { x := t0.Add(d); return &x }
			inc := f.declare(t, "amelia.clarke", incidents.DeclareInput{Title: "x", Type: typ, Severity: sev, Markets: markets,
				StartedAt: at(started), DetectedAt: at(detected)})
			for _, st := range []incidents.Status{incidents.Monitoring, incidents.Resolved} {
				if _, err := f.inc.Transition(f.ctx, amelia, inc.Number, incidents.TransitionInput{To: st}); err != nil {
					t.Fatal(err)
				}
			}
			for _, c := range []struct {
				m incidents.Moment
				d time.Duration
			}{{incidents.Mitigated, mitigated}, {incidents.MomentResolved, resolved}, {incidents.Acknowledged, acked}} {
				if _, err := f.inc.CorrectMoment(f.ctx, amelia, inc.Number, c.m, incidents.MomentInput{At: at(c.d), Reason: "from the chat log"}); err != nil {
					t.Fatal(err)
				}
			}
		}
		f.Clock.Advance(24 * time.Hour)
		// A: started 0, detected 10m, acked 15m, mitigated 1h, resolved 2h → TTA 5m, TTM 60m, TTR 120m.
		mk(incidents.TypeService, incidents.SEV3, []string{"GB"}, 0, 10*time.Minute, 15*time.Minute, time.Hour, 2*time.Hour)
		// B: started 1h, detected 1h, acked 1h20m, mitigated 1h30m, resolved 5h → TTA 20m, TTM 30m, TTR 240m.
		mk(incidents.TypeService, incidents.SEV4, []string{"GB", "DE"}, time.Hour, time.Hour, 80*time.Minute, 90*time.Minute, 5*time.Hour)
		// C: started 2h, detected 3h, acked 3h10m, mitigated 4h, resolved 4h → TTA 10m, TTM 120m, TTR 120m.
		mk(incidents.TypeSafety, incidents.SEV3, []string{"DE"}, 2*time.Hour, 3*time.Hour, 190*time.Minute, 4*time.Hour, 4*time.Hour)

		// Out of order: resolved before mitigated.
		at := t0.Add(30 * time.Minute)
		_, err := f.inc.CorrectMoment(f.ctx, amelia, "INC-1", incidents.MomentResolved, incidents.MomentInput{At: &at, Reason: "typo"})
		apptestWantInvalid(t, err, "at")
		_, err = f.inc.CorrectMoment(f.ctx, amelia, "INC-1", incidents.Started, incidents.MomentInput{At: &at})
		apptestWantInvalid(t, err, "reason")

		m, err := f.inc.Metrics(f.ctx, amelia, t0.Add(-time.Hour), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		minutes := func(v *float64) float64 { return *v / 60 }
		check := func(s incidents.Stat, n int, mtta, mttm, mttr float64) {
			t.Helper()
			if s.Incidents != n || minutes(s.MTTA) != mtta || minutes(s.MTTM) != mttm || minutes(s.MTTR) != mttr {
				t.Errorf("%s: n %d mtta %.2f mttm %.2f mttr %.2f; want %d %.2f %.2f %.2f", s.Key, s.Incidents,
					minutes(s.MTTA), minutes(s.MTTM), minutes(s.MTTR), n, mtta, mttm, mttr)
			}
		}
		check(m.Overall, 3, 35.0/3, 70, 160)
		// A report sliced to a market counts the incidents that touched it: A and B for GB.
		gb, err := f.inc.MetricsOf(f.ctx, amelia, incidents.MetricsFilter{From: t0.Add(-time.Hour), Market: "GB"})
		if err != nil {
			t.Fatal(err)
		}
		check(gb.Overall, 2, 12.5, 45, 180)
		if fr, err := f.inc.MetricsOf(f.ctx, amelia, incidents.MetricsFilter{From: t0.Add(-time.Hour), Market: "FR"}); err != nil || fr.Overall.Incidents != 0 {
			t.Errorf("FR: %v %+v; want no incidents", err, fr)
		}
		if len(m.ByType) != 2 || len(m.BySeverity) != 2 || len(m.ByMarket) != 2 {
			t.Fatalf("groups: %+v", m)
		}
		for _, s := range m.ByType {
			switch s.Key {
			case "safety":
				check(s, 1, 10, 120, 120)
			case "service":
				check(s, 2, 12.5, 45, 180)
			}
		}
		for _, s := range m.BySeverity {
			switch s.Key {
			case "SEV3":
				check(s, 2, 7.5, 90, 120)
			case "SEV4":
				check(s, 1, 20, 30, 240)
			}
		}
		for _, s := range m.ByMarket {
			switch s.Key {
			case "GB":
				check(s, 2, 12.5, 45, 180)
			case "DE":
				check(s, 2, 15, 75, 180)
			}
		}
		tl, _ := f.inc.Timeline(f.ctx, amelia, "INC-1")
		found := false
		for _, e := range tl {
			found = found || (e.Kind == "moment_corrected" && e.Body == "from the chat log")
		}
		if !found {
			t.Fatal("no correction on the timeline")
		}
	})
}
