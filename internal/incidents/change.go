package incidents

import (
	"context"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
)

// The one skeleton of a change to an incident (status, severity, moments,
// roles, acknowledging a page): who may, the desk, the incident named;
// then refusals checked against the incident as it stands outside any
// transaction (a refusal costs none and fails no other write committed
// with it, db.InTx), and again under its lock; the writes; the incident
// re-read, audited and its event published.

// target is what every change starts from: the desk and the incident's id.
func (s *Service) target(ctx context.Context, actor auth.Actor, ref, what string) (*desk.Config, int64, error) {
	if err := mayWrite(actor, what); err != nil {
		return nil, 0, err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, 0, err
	}
	id, ok := ParseRef(ref)
	if !ok {
		return nil, 0, apperr.ErrNotFound
	}
	return cfg, id, nil
}

// change is one change to an incident.
type change struct {
	check func(inc *Incident) error // the refusals (nil: none)
	// write makes the change in tx and returns its event's data (nil with event "").
	write  func(ctx context.Context, tx *db.Tx, before *Incident, now time.Time) (*events.Incident, error)
	action string      // the audit record's action
	event  events.Type // "": none
}

// change runs ch on incident id and returns the incident after it.
func (s *Service) change(ctx context.Context, actor auth.Actor, cfg *desk.Config, id int64, ch change) (*Incident, error) {
	check := ch.check
	if check == nil {
		check = func(*Incident) error { return nil }
	}
	if inc, err := s.byID(ctx, s.db, cfg, id); err != nil {
		return nil, err
	} else if err := check(inc); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var out *Incident
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		before, err := s.lock(ctx, tx, cfg, id)
		if err != nil {
			return err
		}
		if err := check(before); err != nil {
			return err
		}
		p, err := ch.write(ctx, tx, before, now)
		if err != nil {
			return err
		}
		if out, err = s.byID(ctx, tx, cfg, id); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, actor, ch.action, out, before, now); err != nil {
			return err
		}
		if ch.event == "" {
			return nil
		}
		return s.publish(ctx, tx, actor, ch.event, out, p, now)
	})
	return out, err
}
