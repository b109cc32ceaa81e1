package cases

import (
	"context"
	"strings"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/desk"
)

// Who sees which case:
//   - admins, leads and Flare itself: every case;
//   - agents: cases they own or created, and cases of their teams in the
//     markets they cover (restricted cases therefore only in their teams);
//   - account managers: normal cases of the sellers they manage, and cases they raised;
//   - QA and viewers: every normal case.

// canSee is the rule for one case; scope is the same rule as SQL.
func (s *Service) canSee(ctx context.Context, a auth.Actor, c *Case) bool {
	switch a.Role {
	case auth.RoleAdmin, auth.RoleLead:
		return true
	case auth.RoleAgent:
		return c.OwnerID == a.UserID || c.CreatedBy == a.UserID || (a.InTeam(c.Team) && a.CoversMarket(c.Market))
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

// scope returns a SQL condition (on alias c) limiting cases to what a sees.
func scope(a auth.Actor) (string, []any) {
	switch a.Role {
	case auth.RoleAdmin, auth.RoleLead:
		return "", nil
	case auth.RoleAgent:
		cond, args := "c.owner_id = ? OR c.created_by = ?", []any{a.UserID, a.UserID}
		if len(a.Teams) > 0 {
			team := "c.team IN (" + placeholders(len(a.Teams)) + ")"
			for _, t := range a.Teams {
				args = append(args, t)
			}
			if len(a.Markets) > 0 {
				team += " AND c.market IN (" + placeholders(len(a.Markets)) + ")"
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

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
