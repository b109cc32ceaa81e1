package incidents

import (
	"context"

	"github.com/flare-desk/flare/internal/desk"
)

func (s *Service) fireReminders(ctx context.Context, cfg *desk.Config) error { return nil }
func (s *Service) fireBulk(ctx context.Context) error                        { return nil }
