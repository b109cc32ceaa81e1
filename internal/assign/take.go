package assign

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/flare-desk/flare/internal/sla"
)

// Filter is the set of cases an agent may take next, in a shape a store can
// turn into a WHERE clause. A nil list allows anything.
//
//	Teams       team IN (…)
//	Markets     market = '' OR market IN (…)
//	Languages   language = '' OR lower(language) = b OR lower(language) LIKE b || '-%'  (each base tag b)
//	Categories  category = k for a key, or substr(category, 1, len(g)) = g for a "group/" (not
//	            LIKE: '_' is a LIKE wildcard and category keys contain it)
//	Priorities  priority IN (…)
//
// Allows applies the same rules in memory.
type Filter struct {
	Teams      []string
	Markets    []string
	Languages  []string // lower-case base tags: "fr"
	Categories []string // keys and "group/" prefixes
	Priorities []string // those that still fit the agent's capacity
}

// NotEligible is the error take-next gives an agent who can take nothing.
type NotEligible struct{ Reason }

func (e *NotEligible) Error() string { return e.Text }

// ErrQueueEmpty means no waiting case passes the agent's filter.
var ErrQueueEmpty = errors.New("no unassigned case you can take")

// FilterFor returns the cases the agent may take next under the team's
// settings. Shifts do not apply (the agent asking is at work); an agent
// who is away, or whose load leaves room for no priority at all, gets a
// *NotEligible error ("at capacity: 22/20").
func FilterFor(a Agent, s TeamSettings) (Filter, error) {
	if a.Away {
		return Filter{}, &NotEligible{Reason{Code: CodeAway, Text: "away (out of office): come back to take cases"}}
	}
	load, capacity := s.Load(a.Open), s.CapacityOf(a)
	var fits []string
	for _, p := range sla.CasePriorities {
		if load+s.Weight(p) <= capacity {
			fits = append(fits, p)
		}
	}
	if len(fits) == 0 {
		return Filter{}, &NotEligible{Reason{Code: CodeCapacity, Text: fmt.Sprintf("at capacity: %d/%d", load, capacity)}}
	}
	if len(fits) == len(sla.CasePriorities) {
		fits = nil
	}
	f := Filter{Teams: a.Teams, Priorities: fits}
	if len(a.Markets) > 0 {
		f.Markets = a.Markets
	}
	for _, l := range a.Languages {
		if b := baseLang(l); !slices.Contains(f.Languages, b) {
			f.Languages = append(f.Languages, b)
		}
	}
	if len(a.Skills) > 0 {
		f.Categories = a.Skills
	}
	return f, nil
}

// Allows reports whether the filter lets the case through, with the rules
// Eligible uses.
func (f Filter) Allows(c Case) bool {
	return (f.Teams == nil || c.Team == "" || slices.Contains(f.Teams, c.Team)) &&
		covers(f.Markets, c.Market) &&
		speaks(f.Languages, c.Language) &&
		handles(f.Categories, c.Category) &&
		(f.Priorities == nil || slices.Contains(f.Priorities, c.Priority))
}

// Queued is an unassigned case waiting in a queue.
type Queued struct {
	ID      int64
	Created time.Time
	Case
}

// CompareQueued is take-next's order: the most urgent priority first, then
// the oldest, then the lowest id (ORDER BY priority, created_at, id).
func CompareQueued(a, b Queued) int {
	return cmp.Or(
		cmp.Compare(priorityRank(a.Priority), priorityRank(b.Priority)),
		a.Created.Compare(b.Created),
		cmp.Compare(a.ID, b.ID),
	)
}

// TakeNext returns the index in queue of the case the agent should take:
// the first, in CompareQueued order, that their filter allows. It is the
// in-memory statement of what the store does in SQL.
func TakeNext(a Agent, s TeamSettings, queue []Queued) (int, error) {
	f, err := FilterFor(a, s)
	if err != nil {
		return -1, err
	}
	best := -1
	for i, q := range queue {
		if f.Allows(q.Case) && (best < 0 || CompareQueued(q, queue[best]) < 0) {
			best = i
		}
	}
	if best < 0 {
		return -1, ErrQueueEmpty
	}
	return best, nil
}

// priorityRank puts unknown priorities after P4.
func priorityRank(p string) int {
	if i := slices.Index(sla.CasePriorities, p); i >= 0 {
		return i
	}
	return len(sla.CasePriorities)
}
