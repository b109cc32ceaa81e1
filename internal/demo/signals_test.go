package demo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/incidents"
	"github.com/flare-desk/flare/internal/signals"
)

// The demo's signals have two weeks of history and one past alert: the
// carrier outage, which declared a logistics incident.
func TestDemoSignals(t *testing.T) {
	ctx := context.Background()
	d := dbtest.SQLite(t, app.Migrate)
	a, err := app.New(d, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Prepare(ctx, a, Options{Seed: 1, Cases: 300, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if err := Replay(ctx, a, p.Specs, p.actors); err != nil {
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
	if len(al) != 1 || !strings.HasPrefix(al[0].Series.Dims["category"], "logistics/") || al[0].Incident == "" {
		for _, x := range al {
			t.Logf("alert %s at %s: %.0f vs %.1f, %.2f", x.Series.Key, x.WindowStart, x.Observed, x.Expected, x.Score)
		}
		t.Fatalf("want the one outage alert with its incident, got %d", len(al))
	}
	inc, err := a.Incidents.Get(ctx, admin, al[0].Incident)
	if err != nil || inc.Type != incidents.TypeLogisticsDisruption || p.now.Sub(inc.CreatedAt) < 2*24*time.Hour {
		t.Fatalf("incident %+v %v", inc, err)
	}
}
