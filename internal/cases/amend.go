package cases

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
)

// Amending a case inside its create. An in-transaction subscriber of a new
// case's events may change that case through ChangeInTx (an escalation
// started by a high-risk case raises its level). The case is in hand in
// Write: changeTx then amends it there instead of making a second full
// change. It does not read the row back, snapshots the case for the audit
// once (the record before is the one the create or the last amendment
// made), and re-evaluates the clocks only when the amendment moved one of
// their inputs. What the change writes and publishes is the same: the row
// saved, its timeline entries, its events (to subscribers and the outbox)
// and an audit record of it.

type creatingKey struct{}

// creating is the case Write is writing in tx.
type creating struct {
	tx       *db.Tx
	c        *Case
	recorded recorded        // the case as its create's audit record has it (none: changed since)
	snap     audit.Canonical // the case as the last amendment's audit record has it
	nest     *nested         // changes made to it by other means than amend (reloaded then)
}

// recorded is a case's snapshot in its create's audit record.
type recorded struct {
	snap       audit.Canonical
	unnumbered bool // made before the case had its id and number (Prepare)
}

// before is the audit snapshot of the case as it stands before an
// amendment: the last record made of it, or a snapshot of c.
func (cr *creating) before(c *Case) (audit.Canonical, error) {
	switch r := cr.recorded; {
	case cr.snap != nil:
		return cr.snap, nil
	case r.snap != nil && r.unnumbered:
		return r.snap.With(map[string]any{"id": c.ID, "number": c.Number})
	case r.snap != nil:
		return r.snap, nil
	}
	return snapshot(c), nil
}

// withCreating returns ctx in which changes to c in tx amend it.
func withCreating(ctx context.Context, tx *db.Tx, c *Case) (context.Context, *creating) {
	ctx, nest := watchNested(ctx)
	cr := &creating{tx: tx, c: c, nest: nest}
	return context.WithValue(ctx, creatingKey{}, cr), cr
}

// creatingIn is the case being created in tx that ref names, if any.
func creatingIn(ctx context.Context, tx *db.Tx, ref string) *creating {
	cr, _ := ctx.Value(creatingKey{}).(*creating)
	if cr == nil || cr.tx != tx || cr.c.ID == 0 {
		return nil
	}
	id, number, ok := ParseRef(ref)
	switch {
	case !ok:
		return nil
	case number > 0 && FormatNumber(number) == cr.c.Number, number == 0 && id == cr.c.ID:
		return cr
	}
	return nil
}

// amend is changeTx for the case being created: fn changes it in place.
func (s *Service) amend(ctx context.Context, tx *db.Tx, cfg *desk.Config, cr *creating, actor auth.Actor, perm auth.Permission,
	fn func(tx *db.Tx, c *Case) ([]eventRec, error)) (*Case, error) {
	if cr.nest.take(cr.c.ID) { // changed by a path that does not amend (a batch): start from the row
		fresh, err := s.load(ctx, tx, strconv.FormatInt(cr.c.ID, 10), false)
		if err != nil {
			return nil, err
		}
		*cr.c, cr.snap, cr.recorded = *fresh, nil, recorded{}
	}
	c := cr.c
	if !s.CanSee(ctx, actor, c) {
		return nil, apperr.ErrNotFound
	}
	if !actor.Can(perm) {
		return nil, &apperr.Forbidden{Detail: "your role cannot change this case"}
	}
	// fn changes the creator's case: its lists must not be shared with the
	// input a re-run of the transaction starts again from.
	c.Tags, c.PriorityReasons, c.Watchers = slices.Clone(c.Tags), slices.Clone(c.PriorityReasons), slices.Clone(c.Watchers)
	c.Fields = maps.Clone(c.Fields)
	before, stored := *c, saveArgs(c)
	prev, err := cr.before(&before)
	if err != nil {
		return nil, fmt.Errorf("audit snapshot of %s: %w", c.Number, err)
	}
	recs, err := fn(tx, c)
	if err != nil || len(recs) == 0 {
		// Nothing to save: the creator's case stays as it was (changeTx drops
		// its loaded copy then).
		*c = before
		if err != nil {
			return nil, err
		}
		out := *c
		return &out, nil
	}
	now := s.clock.Now()
	c.UpdatedAt = now
	if err := saveChanged(ctx, tx, stored, c); err != nil {
		return nil, err
	}
	// Not noted as a nested change (noteChange): the creator holds the case
	// amended and need not read it back, and no change this create runs
	// inside holds a copy of it.
	for _, e := range recs {
		if err := addEvent(ctx, tx, c.ID, actor, now, e.typ, e.data); err != nil {
			return nil, err
		}
	}
	if err := s.publishChange(ctx, tx, actor, &before, c, recs, now); err != nil {
		return nil, err
	}
	if clocksMoved(&before, c, recs) {
		if err := s.syncSLA(ctx, tx, cfg, c, now); err != nil {
			return nil, err
		}
		s.attachSLA(cfg, []*Case{c}) // the clocks as a read of the case shows them
	}
	cr.snap = snapshot(c)
	if err := audit.Append(ctx, tx, now, auditEntry(actor, "case."+recs[0].typ, c, prev, cr.snap)); err != nil {
		return nil, err
	}
	out := *c
	return &out, nil
}

// clocksMoved reports whether a change from before to c touched what a
// case's SLA clocks are computed from (sla.go: policyFor, histories).
func clocksMoved(before, c *Case, recs []eventRec) bool {
	for _, r := range recs {
		if r.typ == "status" || r.typ == "comment" {
			return true
		}
	}
	return before.Status != c.Status || before.Priority != c.Priority || before.Category != c.Category ||
		before.Market != c.Market || before.Channel != c.Channel || before.Team != c.Team ||
		before.SLAPolicy != c.SLAPolicy || deref(before.SellerID) != deref(c.SellerID) ||
		!timeEqual(before.FirstResponseAt, c.FirstResponseAt)
}

func timeEqual(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
