package cases

import (
	"context"
	"strings"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
)

// Who sees which case — the one visibility rule, applied by every read
// path (cases, lists, search, timelines, handoffs, breaches, and the
// capabilities that show cases):
//   - admins, leads and Flare itself: every case;
//   - agents: cases they own, cases of their teams in the markets they
//     cover, and normal cases they raised. A restricted case is need-to-know:
//     its team, its owner, leads and admins — not whoever raised it, who
//     may have reported on a colleague or a seller under investigation;
//   - account managers: the public side (status, public replies,
//     resolution; not internal notes, handoffs or workflow entries) of
//     normal cases of the sellers they manage and of normal cases they
//     raised. They cannot raise restricted cases;
//   - QA and viewers: every normal case.

// CanSee is the rule for one case; Scope is the same rule as SQL.
func (s *Service) CanSee(ctx context.Context, a auth.Actor, c *Case) bool {
	switch a.Role {
	case auth.RoleAdmin, auth.RoleLead:
		return true
	case auth.RoleAgent:
		return c.OwnerID == a.UserID || (c.CreatedBy == a.UserID && c.Sensitivity == "normal") ||
			(a.InTeam(c.Team) && a.CoversMarket(c.Market))
	case auth.RoleAccountManager:
		if c.Sensitivity != "normal" {
			return false
		}
		if c.CreatedBy == a.UserID {
			return true
		}
		if c.SellerID == nil {
			return false
		}
		seller, ok, err := desk.SellerByID(ctx, s.db, *c.SellerID)
		return err == nil && ok && strings.EqualFold(seller.AccountManager, a.Email)
	case auth.RoleQA, auth.RoleViewer:
		return c.Sensitivity == "normal"
	}
	return false
}

// PublicOnly reports whether a sees only the public side of the cases it
// may see (account managers).
func PublicOnly(a auth.Actor) bool { return a.Role == auth.RoleAccountManager }

// Scope returns a SQL condition (on alias c) limiting cases to what a sees.
func Scope(a auth.Actor) (string, []any) {
	switch a.Role {
	case auth.RoleAdmin, auth.RoleLead:
		return "", nil
	case auth.RoleAgent:
		cond, args := "c.owner_id = ? OR (c.created_by = ? AND c.sensitivity = 'normal')", []any{a.UserID, a.UserID}
		if len(a.Teams) > 0 {
			team := "c.team IN (" + db.Placeholders(len(a.Teams)) + ")"
			for _, t := range a.Teams {
				args = append(args, t)
			}
			if len(a.Markets) > 0 {
				team += " AND c.market IN (" + db.Placeholders(len(a.Markets)) + ")"
				for _, m := range a.Markets {
					args = append(args, m)
				}
			}
			cond += " OR (" + team + ")"
		}
		return "(" + cond + ")", args
	case auth.RoleAccountManager:
		return `(c.sensitivity = 'normal' AND (c.created_by = ? OR c.seller_id IN
			(SELECT external_id FROM sellers WHERE account_manager = ?)))`, []any{a.UserID, a.Email}
	case auth.RoleQA, auth.RoleViewer:
		return "c.sensitivity = 'normal'", nil
	}
	return "1 = 0", nil
}
