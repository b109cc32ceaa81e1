package demo

import (
	"context"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/incidents"
)

// The demo desk has past incidents (two resolved awaiting postmortems, two
// closed) and one open SEV2 with linked cases, paged and acknowledged.
func TestDemoIncidents(t *testing.T) {
	ctx := context.Background()
	a, err := app.New(dbtest.SQLite(t, app.Migrate), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Load(ctx, a, Options{Seed: 1, Cases: 600, Now: testNow}); err != nil {
		t.Fatal(err)
	}
	page, err := a.Incidents.List(ctx, auth.System("test"), incidents.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	byStatus := map[incidents.Status]int{}
	for _, inc := range page.Incidents {
		byStatus[inc.Status]++
		if inc.CreatedAt.After(testNow) {
			t.Errorf("%s declared after the desk's present", inc.Number)
		}
	}
	// Five of incidents.go, and the carrier outage the signals declared (signals.go).
	if len(page.Incidents) != 6 || byStatus[incidents.Investigating] != 1 || byStatus[incidents.Resolved] != 2 || byStatus[incidents.Closed] != 2 || byStatus[incidents.Identified] != 1 {
		t.Fatalf("incidents by status: %v", byStatus)
	}
	var open *incidents.Incident // incidents.go's open one
	for _, inc := range page.Incidents {
		if inc.Status == incidents.Identified {
			open = inc
		}
	}
	if open.Severity != incidents.SEV2 || open.LinkedCases == 0 || open.Commander() == "" || open.Moments.Acknowledged == nil || open.SourceCase == "" {
		t.Fatalf("open incident: %+v", open)
	}
	m, err := a.Incidents.Metrics(ctx, auth.System("test"), testNow.AddDate(0, 0, -30), testNow)
	if err != nil || m.Overall.Incidents != 6 || m.Overall.MTTR == nil {
		t.Fatalf("metrics: %+v %v", m, err)
	}
}
