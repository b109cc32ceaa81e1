package demo

import (
	"context"
	"fmt"
	"sort"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/prefs"
)

// seedTimeZones gives the demo's people the time zone of their desk
// profile as their display setting, so each sees times as at their desk
// (Settings changes it; an empty setting follows the browser).
func seedTimeZones(ctx context.Context, a *app.App, actors map[string]auth.Actor) error {
	cfg, err := a.Desk.Config(ctx)
	if err != nil {
		return err
	}
	emails := make([]string, 0, len(actors))
	for e := range actors {
		emails = append(emails, e)
	}
	sort.Strings(emails) // deterministic order
	for _, e := range emails {
		p, ok := cfg.Profiles[e]
		if !ok || p.Timezone == "" || actors[e].UserID == 0 {
			continue
		}
		if _, err := a.Prefs.Set(ctx, actors[e].UserID, prefs.Prefs{TimeZone: p.Timezone}); err != nil {
			return fmt.Errorf("demo: time zone of %s: %w", e, err)
		}
	}
	return nil
}
