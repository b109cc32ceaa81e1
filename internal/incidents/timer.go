package incidents

import (
	"context"
	"fmt"
	"time"

	"github.com/flare-desk/flare/internal/db"
)

// Fire does the incidents' durable work that has come due — repeats
// unacknowledged pages, reminds of updates due, runs the batches of bulk
// resolves — and returns the earliest instant still ahead (zero if none).
// Each is an indexed instant re-read here, so a restart loses nothing; each
// is claimed under the incident's lock and re-checked, so it fires once.
func (s *Service) Fire(ctx context.Context) (time.Time, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return time.Time{}, err
	}
	if err := s.firePages(ctx, cfg); err != nil {
		return time.Time{}, err
	}
	if err := s.fireReminders(ctx, cfg); err != nil {
		return time.Time{}, err
	}
	if err := s.fireBulk(ctx); err != nil {
		return time.Time{}, err
	}
	var next time.Time
	for _, q := range []string{
		`SELECT MIN(due_at) FROM incident_pages WHERE due_at IS NOT NULL`,
		`SELECT MIN(next_update_at) FROM incidents WHERE next_update_at IS NOT NULL`,
		`SELECT MIN(due_at) FROM incident_bulk WHERE due_at IS NOT NULL`,
	} {
		var t db.Time
		if err := s.db.QueryRow(ctx, q).Scan(&t); err != nil {
			return time.Time{}, fmt.Errorf("next incident deadline: %w", err)
		}
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t.Time
		}
	}
	return next, nil
}
