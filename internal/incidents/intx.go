package incidents

import (
	"context"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
)

// In-transaction entry points for capabilities that act on incidents from
// their own writes (an Alertmanager group's rule declares one in the
// notification's transaction; Declare joins it through db.Join).

// ByIDInTx reads incident id in tx.
func (s *Service) ByIDInTx(ctx context.Context, tx *db.Tx, id int64) (*Incident, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	return s.byID(ctx, tx, cfg, id)
}

// LinkInTx links case c to incident id in tx, via a named source ("alert
// group"), as a link by hand would; it reports whether c was newly linked.
// A closed incident takes no cases.
func (s *Service) LinkInTx(ctx context.Context, tx *db.Tx, actor auth.Actor, id int64, c *cases.Case, via string) (bool, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return false, err
	}
	inc, err := s.lock(ctx, tx, cfg, id)
	if err != nil || inc.Status == Closed {
		return false, err
	}
	n, err := s.link(ctx, tx, actor, inc, []*cases.Case{c}, via, s.clock.Now())
	return n > 0, err
}

// RecordInTx adds an entry of kind to incident id's timeline in tx (what
// an outside source reported: an alert group resolved).
func (s *Service) RecordInTx(ctx context.Context, tx *db.Tx, actor auth.Actor, id int64, kind, body string, data map[string]any) error {
	now := s.clock.Now()
	if err := addEntry(ctx, tx, id, actor, now, kind, body, data); err != nil {
		return err
	}
	return s.touch(ctx, tx, id, now)
}
