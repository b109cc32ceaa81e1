package cases

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/routing"
	"github.com/flare-desk/flare/internal/sla"
)

// Replayed is a stored case as a desk document would have decided it: the
// team and priority its routing gives the case on create, and the SLA
// clocks its policies run over the case's real history. Nothing is written.
type Replayed struct {
	Number   string
	Market   string
	Category string
	Team     string
	Priority string
	Open     bool // still being worked now
	Clocks   []ReplayedClock
}

// ReplayedClock is one SLA clock of a replayed case at now.
type ReplayedClock struct {
	Metric   sla.Metric
	Decided  bool // met or breached (a running clock within target is not yet)
	Breached bool // missed its target (met late counts)
}

// replayBatch bounds the cases read per round trip.
const replayBatch = 500

// Replay runs every case created at or after since through cfg — its
// categories, routing rules, priority weights, SLA policies and calendars —
// and hands each result to fn, in id order. Each case is assessed as it is
// stored now (its text, fields, seller, channel, high-risk flag) as on
// create, and its clocks evaluated at now over its status changes and
// public messages. It reads; it never writes.
func (s *Service) Replay(ctx context.Context, cfg *desk.Config, since, now time.Time, fn func(Replayed) error) error {
	sellers := map[string]*desk.Seller{}
	seller := func(id *string) (*desk.Seller, error) {
		if id == nil {
			return nil, nil
		}
		if sl, ok := sellers[*id]; ok {
			return sl, nil
		}
		sl, ok, err := desk.SellerByID(ctx, s.db, *id)
		if err != nil {
			return nil, err
		}
		var p *desk.Seller
		if ok {
			p = &sl
		}
		sellers[*id] = p
		return p, nil
	}
	after := int64(0)
	for {
		ids, err := s.replayIDs(ctx, since, after)
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
			sl, err := seller(stored.SellerID)
			if err != nil {
				return err
			}
			r, err := s.replayOne(ctx, cfg, stored, sl, hs[stored.ID], now)
			if err != nil {
				return err
			}
			if err := fn(r); err != nil {
				return err
			}
		}
	}
}

func (s *Service) replayIDs(ctx context.Context, since time.Time, after int64) ([]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT id FROM cases WHERE created_at >= ? AND id > ? ORDER BY id LIMIT ?`,
		db.T(since), after, replayBatch)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// replayOne decides one case under cfg, on a copy.
func (s *Service) replayOne(ctx context.Context, cfg *desk.Config, stored *Case, sl *desk.Seller, h sla.History, now time.Time) (Replayed, error) {
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
