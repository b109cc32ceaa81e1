// Package auth owns Flare's users, roles, passwords, browser sessions and API
// tokens, and answers "who is calling and what may they do".
package auth

import "slices"

// Role is a user's role on the desk.
type Role string

const (
	RoleAdmin          Role = "admin"
	RoleLead           Role = "lead"
	RoleAgent          Role = "agent"
	RoleAccountManager Role = "account_manager"
	RoleQA             Role = "qa"
	RoleViewer         Role = "viewer"
)

// Roles lists every role, most powerful first.
var Roles = []Role{RoleAdmin, RoleLead, RoleAgent, RoleAccountManager, RoleQA, RoleViewer}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Actor is whoever performs an action: a signed-in user, an API client
// acting as a user, or the system itself (UserID 0).
type Actor struct {
	UserID  int64
	Email   string
	Name    string
	Role    Role
	Teams   []string // team keys the user is a member of
	Markets []string // market codes the user covers; empty means all
	TokenID int64    // the API token the request came with; 0 otherwise
}

// System is the actor for work Flare does on its own (jobs, CLI set-up).
func System(name string) Actor { return Actor{Name: name, Role: RoleAdmin} }

// IsSystem reports whether the actor is Flare itself rather than a user.
func (a Actor) IsSystem() bool { return a.UserID == 0 }

// InTeam reports whether the actor is a member of team.
func (a Actor) InTeam(team string) bool { return slices.Contains(a.Teams, team) }

// CoversMarket reports whether the actor works the market (no markets: all).
func (a Actor) CoversMarket(market string) bool {
	return len(a.Markets) == 0 || slices.Contains(a.Markets, market)
}
