package reports

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/desk"
)

// The what-if of a desk change: before a lead applies a new desk document,
// the cases of the last days are replayed through it and through today's,
// by the same code, and the two outcomes compared. It reads; it never writes.

// MaxImpactDays bounds the replay.
const MaxImpactDays = 366

// Side is what one desk document makes of the replayed cases.
type Side struct {
	SLA      map[string]Share `json:"sla_attainment"` // per SLA metric, of the decided clocks those met
	Breaches map[string]int   `json:"sla_breaches"`
	ByTeam   []Group          `json:"by_team"`
	ByMarket []Group          `json:"by_market"`
}

// Group is one team's or market's figures.
type Group struct {
	Key      string           `json:"key"`
	Cases    int              `json:"cases"` // replayed cases it gets
	Open     int              `json:"open"`  // of those, still being worked: its load
	SLA      map[string]Share `json:"sla_attainment"`
	Breaches map[string]int   `json:"sla_breaches"`
}

// Impact compares today's desk document with a proposed one.
type Impact struct {
	Days            int            `json:"days"`
	Cases           int            `json:"cases"`
	ChangedTeam     int            `json:"changed_team"`     // cases the proposal routes to another team
	ChangedPriority int            `json:"changed_priority"` // cases it gives another priority
	Moves           map[string]int `json:"moves"`            // "logistics → payments": cases
	Current         Side           `json:"current"`
	Proposed        Side           `json:"proposed"`
}

// Impact replays the cases created in the last days through today's desk
// document and through proposed (validated by the caller) and compares them.
func (s *Service) Impact(ctx context.Context, actor auth.Actor, proposed *desk.Config, days int) (*Impact, error) {
	if !actor.Can(auth.PermReportRead) {
		return nil, &apperr.Forbidden{Detail: "your role cannot read the desk's reports"}
	}
	if days < 1 || days > MaxImpactDays {
		return nil, apperr.InvalidField("days", "must be between 1 and %d", MaxImpactDays)
	}
	current, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	since := now.Add(-time.Duration(days) * 24 * time.Hour)
	var today, next []cases.Replayed
	// One pass: each case read once, decided under both documents.
	err = s.cases.ReplayMany(ctx, []*desk.Config{current, proposed}, since, now, func(rs []cases.Replayed) error {
		today, next = append(today, rs[0]), append(next, rs[1])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("what-if: %w", err)
	}
	return compare(today, next, days), nil
}

// compare is the pure comparison of two replays of the same cases, in the
// same order.
func compare(today, next []cases.Replayed, days int) *Impact {
	im := &Impact{Days: days, Cases: len(today), Moves: map[string]int{},
		Current: side(today), Proposed: side(next)}
	for i := range min(len(today), len(next)) {
		a, b := today[i], next[i]
		if a.Team != b.Team {
			im.ChangedTeam++
			im.Moves[a.Team+" → "+b.Team]++
		}
		if a.Priority != b.Priority {
			im.ChangedPriority++
		}
	}
	return im
}

func side(rs []cases.Replayed) Side {
	s := Side{}
	teams, markets := map[string]*tally{}, map[string]*tally{}
	all := &tally{}
	for _, r := range rs {
		for _, t := range []*tally{all, get(teams, r.Team), get(markets, r.Market)} {
			t.add(r)
		}
	}
	s.SLA, s.Breaches = all.shares(), all.breached
	s.ByTeam, s.ByMarket = groups(teams), groups(markets)
	return s
}

type tally struct {
	cases, open  int
	met, decided map[string]int
	breached     map[string]int
	initialised  bool
}

func get(m map[string]*tally, k string) *tally {
	if m[k] == nil {
		m[k] = &tally{}
	}
	return m[k]
}

func (t *tally) add(r cases.Replayed) {
	if !t.initialised {
		t.met, t.decided, t.breached, t.initialised = map[string]int{}, map[string]int{}, map[string]int{}, true
	}
	t.cases++
	if r.Open {
		t.open++
	}
	for _, c := range r.Clocks {
		if !c.Decided {
			continue
		}
		m := string(c.Metric)
		t.decided[m]++
		if c.Breached {
			t.breached[m]++
		} else {
			t.met[m]++
		}
	}
}

func (t *tally) shares() map[string]Share {
	out := map[string]Share{}
	for m, n := range t.decided {
		out[m] = share(t.met[m], n)
	}
	return out
}

func groups(m map[string]*tally) []Group {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]Group, 0, len(keys))
	for _, k := range keys {
		t := m[k]
		out = append(out, Group{Key: k, Cases: t.cases, Open: t.open, SLA: t.shares(), Breaches: t.breached})
	}
	return out
}
