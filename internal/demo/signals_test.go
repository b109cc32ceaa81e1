package demo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/incidents"
	"github.com/flare-desk/flare/internal/signals"
)

// The demo's signals have two weeks of history and a past carrier outage
// whose alert declared a logistics incident — on whatever day and at
// whatever hour the demo starts (a weekday and two weekend times that
// used to miss the outage), with `flare demo`'s cases.
func TestDemoSignals(t *testing.T) {
	for _, now := range []time.Time{testNow, time.Date(2026, 12, 5, 21, 7, 0, 0, time.UTC), time.Date(2026, 12, 6, 9, 7, 0, 0, time.UTC)} {
		t.Run(now.Format("Mon15h04"), func(t *testing.T) { demoSignalsAt(t, now) })
	}
}

func demoSignalsAt(t *testing.T, now time.Time) {
	ctx := context.Background()
	d := dbtest.SQLite(t, app.Migrate)
	// The signals score up to the app's clock: the demo's present.
	a, err := app.New(d, app.Options{Clock: clock.NewFake(now)})
	if err != nil {
		t.Fatal(err)
	}
	// The signals come from the generated cases' mix; writing the cases
	// (Replay) would only make the test slow.
	p, err := Prepare(ctx, a, Options{Seed: 1, Cases: DefaultCases, Portal: true, Showcase: true, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := seedSignals(ctx, a, p.Specs, p.now); err != nil {
		t.Fatal(err)
	}
	t.Logf("signals seeded and scored in %s", time.Since(start).Round(time.Millisecond))
	admin := auth.System("test")
	list, err := a.Signals.List(ctx, admin)
	if err != nil || len(list) != 10 {
		t.Fatalf("%d signals, %v", len(list), err)
	}
	al, err := a.Signals.Alerts(ctx, admin, signals.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var outage *signals.Alert
	for i, x := range al {
		t.Logf("alert %s at %s: %.0f vs %.1f, %.2f", x.Series.Key, x.WindowStart, x.Observed, x.Expected, x.Score)
		if strings.HasPrefix(x.Series.Dims["category"], "logistics/") && x.Observed >= 3*x.Expected+10 && x.Incident != "" {
			outage = al[i]
		}
	}
	if outage == nil || len(al) > 3 {
		t.Fatalf("want the outage's alert with its incident (and little noise), got %d alerts", len(al))
	}
	if at := outage.WindowStart.UTC(); at.Hour() != 10 || at.Weekday() == time.Saturday || at.Weekday() == time.Sunday ||
		now.UTC().Truncate(24*time.Hour).Sub(at.Truncate(24*time.Hour)) < 3*24*time.Hour {
		t.Fatalf("the outage's alert starts at %s, want 10:00 UTC on a weekday three or more days before today", at)
	}
	inc, err := a.Incidents.Get(ctx, admin, outage.Incident)
	if err != nil || inc.Type != incidents.TypeLogisticsDisruption || p.now.Sub(inc.CreatedAt) < 2*24*time.Hour {
		t.Fatalf("incident %+v %v", inc, err)
	}
}
