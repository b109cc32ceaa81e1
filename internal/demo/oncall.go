package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/oncall"
	"github.com/flare-desk/flare/internal/oncall/rota"
)

// The demo desk's on-call: follow-the-sun for the two emergency-facing
// teams. Europe covers the day from London (07:00–19:00 there, the top
// layer), the US the rest from Los Angeles (10:00 to midnight there):
// they overlap at both ends all year, so the schedule stays continuous in
// the weeks the US has changed its clocks and Europe not yet.

// oncallStart is when the demo rotations began: a Monday.
const oncallStart = "2026-01-05"

// setOncall puts the demo's on-call schedules in cfg.
func setOncall(cfg *desk.Config) { desk.Set(cfg, oncall.SchedulesKey, oncallSchedules()) }

func oncallSchedules() []rota.Schedule {
	us := func(people ...string) rota.Layer {
		return rota.Layer{Name: "US evenings", Rotation: rota.Weekly, Timezone: "America/Los_Angeles", Start: oncallStart,
			Handoff: "10:00", Participants: emails(people...), Window: "10:00-24:00"}
	}
	emea := func(rotation string, people ...string) rota.Layer {
		return rota.Layer{Name: "EMEA days", Rotation: rotation, Timezone: "Europe/London", Start: oncallStart,
			Handoff: "07:00", Participants: emails(people...), Window: "07:00-19:00"}
	}
	return []rota.Schedule{
		{Team: "escalations", Layers: []rota.Layer{us("tyler", "marcus"), emea(rota.Daily, "aoife", "sophie", "rachel")}},
		{Team: "trust_safety", Layers: []rota.Layer{us("marcus", "tyler"), emea(rota.Weekly, "anna", "rachel")}},
	}
}

func emails(keys ...string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = personByKey(k).email()
	}
	return out
}

// loadOncall adds the demo's overrides, made by the teams' lead, in the
// days after the app's now (not the generated window's end, which may be
// past: overrides never rewrite the past): Tyler covers Marcus's evening on
// trust & safety tomorrow, Sophie covers the escalations morning the day
// after.
func loadOncall(ctx context.Context, a *app.App, actors map[string]auth.Actor) error {
	lead := actors[personByKey("rachel").email()]
	day := a.Clock.Now().UTC().Truncate(24 * time.Hour)
	for _, o := range []struct {
		team, who, reason string
		from, to          time.Time
	}{
		{"trust_safety", "tyler", "Swap: Marcus at a conference", day.Add(24*time.Hour + 19*time.Hour), day.Add(48*time.Hour + 3*time.Hour)},
		{"escalations", "sophie", "Cover while the EMEA on-call is in training", day.Add(48*time.Hour + 8*time.Hour), day.Add(48*time.Hour + 12*time.Hour)},
	} {
		_, err := a.OnCall.AddOverride(ctx, lead, o.team, oncall.OverrideInput{Person: personByKey(o.who).email(),
			From: o.from.Format(time.RFC3339), To: o.to.Format(time.RFC3339), Reason: o.reason}, nil)
		if err != nil {
			return fmt.Errorf("demo override: %w", err)
		}
	}
	return nil
}
