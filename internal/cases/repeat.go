package cases

import (
	"context"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
)

// RecordRepeat counts a later contact as a repeat of the open case ref, in
// the caller's transaction: the case's repeat count rises, which the
// repeat-contacts factor scores, so its priority is re-assessed, and its
// timeline says which contact repeated it and why (internal/intake decides
// what a repeat is).
func (s *Service) RecordRepeat(ctx context.Context, tx *db.Tx, actor auth.Actor, ref, repeat, reason string) (*Case, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	return s.changeTx(ctx, tx, cfg, actor, ref, auth.PermCaseWrite, func(tx *db.Tx, c *Case) ([]eventRec, error) {
		c.RepeatContacts++
		var changes []Change
		set := func(field string, old, new any) { changes = append(changes, Change{Field: field, Old: old, New: new}) }
		var w later
		v := &apperr.Invalid{}
		routed, assessed, err := s.updatePriority(ctx, tx, &w, cfg, v, c, UpdateInput{}, set)
		if err != nil {
			return nil, err
		}
		for _, f := range w {
			if err := f(ctx, tx); err != nil {
				return nil, err
			}
		}
		data := map[string]any{"case": repeat, "reason": reason, "count": c.RepeatContacts}
		if assessed != nil {
			data[assessedKey] = assessed // what the priority was re-scored on (the routing explanation)
		}
		events := []eventRec{{typ: "repeat_contact", data: data}}
		if len(changes) > 0 {
			events = append(events, eventRec{typ: "update", data: map[string]any{"changes": changes}})
		}
		if routed != nil {
			events = append(events, *routed)
		}
		return events, nil
	})
}
