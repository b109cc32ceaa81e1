package cases

import (
	"context"
	"errors"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/desk"
)

// SellerInfo is a case's seller as the case page shows it.
type SellerInfo struct {
	desk.Seller
	AccountManagerName string // "" when the account manager is not a user
}

// Seller reads the seller id with their account manager's name; ok is
// false for an id that names no seller.
func (s *Service) Seller(ctx context.Context, id string) (SellerInfo, bool, error) {
	sl, ok, err := desk.SellerByID(ctx, s.db, id)
	if err != nil || !ok {
		return SellerInfo{}, ok, err
	}
	info := SellerInfo{Seller: sl}
	if sl.AccountManager != "" {
		u, err := auth.UserByEmail(ctx, s.db, sl.AccountManager)
		switch {
		case err == nil:
			info.AccountManagerName = u.Name
		case !errors.Is(err, auth.ErrNotFound):
			return SellerInfo{}, false, err
		}
	}
	return info, true, nil
}
