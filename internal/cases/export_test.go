package cases

import (
	"context"
	"slices"
	"time"

	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/routing"
	"github.com/flare-desk/flare/internal/sla"
)

// ReplayManyInChunks is ReplayMany reading size cases at a time.
func (s *Service) ReplayManyInChunks(ctx context.Context, size int, cfgs []*desk.Config, since, now time.Time, fn func([]Replayed) error) error {
	return s.replayMany(ctx, cfgs, since, now, size, fn)
}

// ReplayOneAtATime is Replay as it was before ReplayMany: one document per
// pass, each case's seller and repeat contacts read by factsFor's own
// queries, case by case. It is the reference the batched path is tested
// against.
func (s *Service) ReplayOneAtATime(ctx context.Context, cfg *desk.Config, since, now time.Time, fn func(Replayed) error) error {
	sellers := map[string]*desk.Seller{}
	after := int64(0)
	for {
		ids, err := s.replayIDs(ctx, since, after, replayBatch)
		if err != nil || len(ids) == 0 {
			return err
		}
		after = ids[len(ids)-1]
		cs, err := s.loadMany(ctx, s.db, ids)
		if err != nil {
			return err
		}
		hs, err := histories(ctx, s.db, ids)
		if err != nil {
			return err
		}
		for _, stored := range cs {
			var sl *desk.Seller
			if stored.SellerID != nil {
				if err := s.cacheSellers(ctx, sellers, []*Case{stored}); err != nil {
					return err
				}
				sl = sellers[*stored.SellerID]
			}
			r, err := s.replayOneOld(ctx, cfg, stored, sl, hs[stored.ID], now)
			if err != nil {
				return err
			}
			if err := fn(r); err != nil {
				return err
			}
		}
	}
}

// replayOneOld is the per-case replay before ReplayMany, verbatim.
func (s *Service) replayOneOld(ctx context.Context, cfg *desk.Config, stored *Case, sl *desk.Seller, h sla.History, now time.Time) (Replayed, error) {
	c := *stored
	c.Tags, c.PriorityReasons, c.SLAPolicy, c.Priority = slices.Clone(stored.Tags), nil, "", ""
	c.slaStored = nil // as on create: no clock yet
	if cat, ok := cfg.Category(c.Category); ok {
		c.Team = cat.Team // where the document sends the category, before its rules
	}
	f, err := factsFor(ctx, s.db, cfg, &c, sl, c.CreatedAt)
	if err != nil {
		return Replayed{}, err
	}
	f.PriorityOverridden = false
	assess(cfg, &c, f, routing.EventCreate, false)
	tier := 0
	if sl != nil {
		tier = sl.Tier
	}
	evaluateSLA(cfg, &c, tier, h, now)
	r := Replayed{Number: c.Number, Market: c.Market, Category: c.Category, Team: c.Team, Priority: c.Priority,
		Open: c.Status.Active()}
	for _, ck := range c.slaStored {
		late := ck.State == string(sla.ClockBreached) || (ck.State == string(sla.ClockMet) && ck.ElapsedS > ck.TargetS)
		r.Clocks = append(r.Clocks, ReplayedClock{Metric: ck.Metric, Breached: late,
			Decided: late || ck.State == string(sla.ClockMet)})
	}
	return r, nil
}

// RepeatContacts counts the repeat contacts of the cases created since,
// by number: batched as ReplayMany does, and one case at a time by
// factsFor.
func (s *Service) RepeatContacts(ctx context.Context, cfg *desk.Config, since time.Time) (batched, single map[string]int, err error) {
	batched, single = map[string]int{}, map[string]int{}
	ids, err := s.replayIDs(ctx, since, 0, replayBatch)
	if err != nil {
		return nil, nil, err
	}
	cs, err := s.loadMany(ctx, s.db, ids)
	if err != nil {
		return nil, nil, err
	}
	sellers := map[string]*desk.Seller{}
	if err := s.cacheSellers(ctx, sellers, cs); err != nil {
		return nil, nil, err
	}
	counts, err := repeatContacts(ctx, s.db, cs, sellers)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range cs {
		var sl *desk.Seller
		if c.SellerID != nil {
			sl = sellers[*c.SellerID]
		}
		f, err := factsFor(ctx, s.db, cfg, c, sl, c.CreatedAt)
		if err != nil {
			return nil, nil, err
		}
		batched[c.Number], single[c.Number] = counts[c.ID], f.RepeatContacts
	}
	return batched, single, nil
}
