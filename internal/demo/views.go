package demo

import (
	"context"
	"fmt"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/views"
)

// loadViews gives the demo logins a few saved views: the lead's shared with
// their team, the agent's own.
func loadViews(ctx context.Context, a *app.App, actors map[string]auth.Actor) error {
	lead, agent := actors[personByKey("daniel").email()], actors[personByKey("jonas").email()]
	active := []string{"new", "open", "pending_internal", "pending_requester"}
	type v struct {
		who auth.Actor
		in  views.Input
	}
	var vs []v
	if len(lead.Teams) > 0 {
		team := lead.Teams[0]
		vs = append(vs,
			v{lead, views.Input{Name: "Unassigned P1/P2", SharedTeam: team, Filter: views.Filter{Status: active, Priority: []string{"P1", "P2"}, Owner: "none", Sort: "due"}}},
			v{lead, views.Input{Name: "Team backlog, oldest first", SharedTeam: team, Filter: views.Filter{Status: active, Team: []string{team}, Sort: "created_at"}}})
	}
	vs = append(vs,
		v{agent, views.Input{Name: "My open cases", Filter: views.Filter{Status: active, Owner: "me", Sort: "due"}}},
		v{agent, views.Input{Name: "Damaged parcels", Filter: views.Filter{Q: "damaged", Sort: "newest"}}})
	for _, x := range vs {
		if x.who.UserID == 0 {
			continue
		}
		if _, err := a.Views.Create(ctx, x.who, x.in); err != nil {
			return fmt.Errorf("demo views: %s: %w", x.in.Name, err)
		}
	}
	return nil
}
