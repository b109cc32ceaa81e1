package assign

import (
	"cmp"
	"slices"
	"time"
)

// Skip is an agent passed over for a case, and why; it goes on the
// timeline and into "explain".
type Skip struct {
	Agent string `json:"agent"`
	Reason
}

// Choose assigns with the team's strategy: RoundRobin after last, or
// LeastLoaded. Manual teams choose nobody (ok false, no skips).
func Choose(agents []Agent, c Case, now time.Time, s TeamSettings, last string) (chosen string, ok bool, skipped []Skip) {
	switch s.Mode() {
	case StrategyRoundRobin:
		return RoundRobin(agents, c, now, s, last)
	case StrategyLeastLoaded:
		return LeastLoaded(agents, c, now, s)
	}
	return "", false, nil
}

// RoundRobin picks the first eligible agent after last in email order,
// wrapping around; last need not be an agent any more. skipped lists the
// agents tried before the chosen one (all of them when none is eligible).
func RoundRobin(agents []Agent, c Case, now time.Time, s TeamSettings, last string) (chosen string, ok bool, skipped []Skip) {
	order := byEmail(agents)
	start, _ := slices.BinarySearchFunc(order, last, func(a *Agent, e string) int { return cmp.Compare(a.Email, e) })
	if start < len(order) && order[start].Email == last {
		start++
	}
	for i := range order {
		a := order[(start+i)%len(order)]
		if ok, r := Eligible(*a, c, now, s); !ok {
			skipped = append(skipped, Skip{a.Email, r})
			continue
		}
		return a.Email, true, skipped
	}
	return "", false, skipped
}

// LeastLoaded picks the eligible agent with the lowest load relative to
// their capacity; ties go to the one with fewer open P1s, then the one
// assigned least recently (never first), then the first email. skipped
// lists every ineligible agent, in email order.
func LeastLoaded(agents []Agent, c Case, now time.Time, s TeamSettings) (chosen string, ok bool, skipped []Skip) {
	var best *Agent
	var bestLoad, bestCap int
	for _, a := range byEmail(agents) {
		if ok, r := Eligible(*a, c, now, s); !ok {
			skipped = append(skipped, Skip{a.Email, r})
			continue
		}
		load, capacity := s.Load(a.Open), s.CapacityOf(*a)
		if best == nil || lessLoaded(load, capacity, a, bestLoad, bestCap, best) {
			best, bestLoad, bestCap = a, load, capacity
		}
	}
	if best == nil {
		return "", false, skipped
	}
	return best.Email, true, skipped
}

// lessLoaded orders a before b; agents come in email order, so equal
// agents keep the first.
func lessLoaded(la, ca int, a *Agent, lb, cb int, b *Agent) bool {
	// la/ca < lb/cb without division (capacities are positive).
	if x, y := int64(la)*int64(cb), int64(lb)*int64(ca); x != y {
		return x < y
	}
	if pa, pb := a.Open["P1"], b.Open["P1"]; pa != pb {
		return pa < pb
	}
	return a.LastAssigned.Before(b.LastAssigned)
}

// byEmail is the stable order assignment walks agents in.
func byEmail(agents []Agent) []*Agent {
	out := make([]*Agent, len(agents))
	for i := range agents {
		out[i] = &agents[i]
	}
	slices.SortStableFunc(out, func(a, b *Agent) int { return cmp.Compare(a.Email, b.Email) })
	return out
}
