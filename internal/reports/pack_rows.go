package reports

import (
	"context"
	"time"
)

// Rows reads every case that can count in a report of [from, to) — the
// rows Report computes on — for readers that compute several figures from
// one read (the review packs, internal/reviews) and decide themselves who
// reads them: no permission check.
func (s *Service) Rows(ctx context.Context, from, to time.Time) ([]*Row, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	return s.rows(ctx, cfg, Filter{}, from, to, true)
}
