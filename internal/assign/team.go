package assign

import (
	"fmt"
	"slices"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/sla"
)

// Strategy is how a team's new cases find an owner.
type Strategy string

const (
	// StrategyManual leaves cases unassigned: a lead assigns them or an
	// agent takes the next one.
	StrategyManual Strategy = "manual"
	// StrategyRoundRobin hands cases to eligible agents in turn.
	StrategyRoundRobin Strategy = "round_robin"
	// StrategyLeastLoaded hands a case to the eligible agent with the most
	// room relative to their capacity.
	StrategyLeastLoaded Strategy = "least_loaded"
)

// Strategies lists the strategies, in the order error messages name them.
var Strategies = []Strategy{StrategyRoundRobin, StrategyLeastLoaded, StrategyManual}

// Defaults for settings the document leaves out.
const (
	DefaultCapacity = 20
	MaxWeight       = 100
)

// DefaultWeights is what one open case of each priority adds to an agent's
// load when the team does not say: a P1 takes the room of four P3s.
func DefaultWeights() map[string]int {
	return map[string]int{"P1": 4, "P2": 2, "P3": 1, "P4": 1}
}

// TeamSettings are a team's assignment rules, written under the team's
// `assignment:` key. The zero value is valid: manual assignment, capacity
// 20, the default weights, shifts required.
//
//	teams:
//	  - key: logistics
//	    name: Logistics
//	    assignment:
//	      strategy: least_loaded
//	      capacity: 20
//	      load_weights: {P1: 4, P2: 2, P3: 1, P4: 1}
//	      assign_on_create: true
//	      require_shift: true
type TeamSettings struct {
	// Strategy is round_robin, least_loaded or manual (empty: manual).
	Strategy Strategy `yaml:"strategy,omitempty" json:"strategy,omitempty"`
	// Capacity is each member's capacity unless their profile sets one;
	// 0 means DefaultCapacity.
	Capacity int `yaml:"capacity,omitempty" json:"capacity,omitempty"`
	// LoadWeights is the load one open case adds, by priority; a priority
	// left out keeps its default weight.
	LoadWeights map[string]int `yaml:"load_weights,omitempty" json:"load_weights,omitempty"`
	// AssignOnCreate assigns a case with the strategy as soon as it is
	// created or moved to the team (it needs a strategy other than manual).
	AssignOnCreate bool `yaml:"assign_on_create,omitempty" json:"assign_on_create,omitempty"`
	// RequireShift, when not false, assigns automatically only to agents on
	// shift. A pointer so that leaving it out means true.
	RequireShift *bool `yaml:"require_shift,omitempty" json:"require_shift,omitempty"`
}

// ShiftRequired reports whether automatic assignment needs the agent on
// shift (the default).
func (s TeamSettings) ShiftRequired() bool { return s.RequireShift == nil || *s.RequireShift }

// Mode is the strategy, manual when none is set.
func (s TeamSettings) Mode() Strategy {
	if s.Strategy == "" {
		return StrategyManual
	}
	return s.Strategy
}

// Weight is the load one open case of this priority adds. A priority the
// desk does not know weighs 1, so that it still counts.
func (s TeamSettings) Weight(priority string) int {
	if w, ok := s.LoadWeights[priority]; ok {
		return w
	}
	if w, ok := DefaultWeights()[priority]; ok {
		return w
	}
	return 1
}

// Load is the weighted load of an agent's open cases, counted by priority.
func (s TeamSettings) Load(open map[string]int) int {
	n := 0
	for p, c := range open {
		n += c * s.Weight(p)
	}
	return n
}

// CapacityOf is the agent's own capacity, else the team's, else
// DefaultCapacity.
func (s TeamSettings) CapacityOf(a Agent) int {
	switch {
	case a.Capacity > 0:
		return a.Capacity
	case s.Capacity > 0:
		return s.Capacity
	}
	return DefaultCapacity
}

// Validate reports every problem in the settings, with paths under prefix
// ("teams[2].assignment" gives "teams[2].assignment.strategy").
func (s TeamSettings) Validate(prefix string) []apperr.FieldError {
	var errs []apperr.FieldError
	add := func(path, format string, a ...any) {
		errs = append(errs, apperr.FieldError{Field: join(prefix, path), Message: fmt.Sprintf(format, a...)})
	}
	if s.Strategy != "" && !slices.Contains(Strategies, s.Strategy) {
		names := make([]string, len(Strategies))
		for i, st := range Strategies {
			names[i] = string(st)
		}
		add("strategy", "%q is not a strategy (one of %s)", s.Strategy, strings.Join(names, ", "))
	}
	if s.Capacity < 0 || s.Capacity > MaxCapacity {
		add("capacity", "must be between 1 and %d (or left out for %d)", MaxCapacity, DefaultCapacity)
	}
	keys := make([]string, 0, len(s.LoadWeights))
	for k := range s.LoadWeights {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch w := s.LoadWeights[k]; {
		case !slices.Contains(sla.CasePriorities, k):
			add("load_weights."+k, "%q is not a priority (one of %s)", k, strings.Join(sla.CasePriorities, ", "))
		case w < 0 || w > MaxWeight:
			add("load_weights."+k, "must be between 0 and %d", MaxWeight)
		}
	}
	if s.AssignOnCreate && s.Mode() == StrategyManual {
		add("assign_on_create", "needs strategy round_robin or least_loaded")
	}
	return errs
}
