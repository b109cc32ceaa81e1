package demo

import (
	"context"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

// The demo's follow-the-sun schedules have someone on call every hour of a
// year, through all four clock changes, and the demo's overrides are in
// the coming days.
func TestDemoOnCall(t *testing.T) {
	ctx := context.Background()
	d := dbtest.SQLite(t, app.Migrate)
	a, err := app.New(d, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Prepare(ctx, a, Options{Seed: 1, Cases: -1, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	lead := p.actors[personByKey("rachel").email()]
	for _, team := range []string{"trust_safety", "escalations"} {
		from := time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC)
		for at := from; at.Before(from.AddDate(1, 0, 0)); at = at.Add(time.Hour) {
			who, err := a.OnCall.OnCallAt(ctx, team, at)
			if err != nil || len(who) != 1 {
				t.Fatalf("%s at %s: %v %v", team, at, who, err)
			}
		}
		os, err := a.OnCall.Overrides(ctx, lead, team, time.Time{}, time.Time{})
		if err != nil || len(os) != 1 || os[0].CreatedBy == nil || *os[0].CreatedBy != lead.Email {
			t.Errorf("%s overrides: %+v %v", team, os, err)
		}
	}
	ans, err := a.OnCall.Who(ctx, lead, nil, time.Time{})
	if err != nil || ans.Teams[0].OnCall == nil || ans.Teams[1].OnCall == nil {
		t.Fatalf("who: %+v %v", ans, err)
	}
}
