package routing

import "fmt"

// Assessment is a case's priority and routing, decided together.
type Assessment struct {
	Priority string `json:"priority"`
	Score    int    `json:"score"`
	// Reasons are the score's factors, then one FactorRoutingRule reason
	// (0 points) per rule that moved the priority.
	Reasons []Reason `json:"priority_reasons"`
	Outcome Outcome  `json:"outcome"`
}

// Assess scores a case and runs the rules on it, in the order the desk
// promises: the score gives the priority (unless a person overrode it:
// f.PriorityOverridden keeps f.Priority), the rules then see that priority
// and may adjust it. When a rule flags the case high risk, the high-risk
// points are counted at once: the case is re-scored and the rules'
// priority adjustments are replayed on the new base priority, so the
// result does not wait for the next update to catch up.
//
// rs may be nil (no routing rules).
func Assess(w Weights, rs *Ruleset, f Facts, ev Event) Assessment {
	return assess(w, rs, f, ev, nil)
}

// AssessExplain is Assess with the rule-by-rule explanation of the same
// evaluation: the rules table and the outcome are those of the assessment,
// never a second run that could see other facts.
func AssessExplain(w Weights, rs *Ruleset, f Facts, ev Event) (Assessment, Explanation) {
	x := Explanation{Rules: []RuleResult{}}
	a := assess(w, rs, f, ev, &x)
	x.Outcome = a.Outcome
	return a, x
}

func assess(w Weights, rs *Ruleset, f Facts, ev Event, x *Explanation) Assessment {
	prio, reasons, total := Score(w, f)
	if !f.PriorityOverridden {
		f.Priority = prio
	}
	if rs == nil {
		return Assessment{Priority: f.Priority, Score: total, Reasons: reasons,
			Outcome: Outcome{Fired: []string{}, Team: f.Team, Priority: f.Priority, HighRisk: f.HighRisk, Sensitivity: f.Sensitivity}}
	}
	out := rs.run(&f, ev, x)
	if out.HighRisk && !f.HighRisk {
		g := f
		g.HighRisk = true
		prio2, reasons2, total2 := Score(w, g)
		reasons, total = reasons2, total2
		if !f.PriorityOverridden && prio2 != prio {
			out.replayPriority(prio2)
		}
	}
	for _, c := range out.Changes {
		if c.Action == ActionPriority {
			reasons = append(reasons, Reason{Factor: FactorRoutingRule,
				Detail: fmt.Sprintf("rule %q moved the priority from %s to %s", c.Rule, c.Was, c.Value)})
		}
	}
	return Assessment{Priority: out.Priority, Score: total, Reasons: reasons, Outcome: out}
}

// replayPriority re-applies the rules' priority actions, in order, on a
// new base priority, and rebuilds their entries in Changes to match.
func (out *Outcome) replayPriority(base string) {
	rest := make([]Change, 0, len(out.Changes))
	for _, c := range out.Changes {
		if c.Action != ActionPriority {
			rest = append(rest, c)
		}
	}
	changes := make([]Change, 0, len(out.Changes))
	p, adjusted, next := level(base), false, 0
	for _, ap := range out.prioOps {
		changes = append(changes, rest[next:ap.pos]...)
		next = ap.pos
		if q := ap.op.apply(p); q != p {
			changes = append(changes, Change{Rule: ap.rule, Action: ActionPriority, Value: priorityName(q), Was: priorityName(p)})
			p, adjusted = q, true
		}
	}
	out.Changes = append(changes, rest[next:]...)
	out.Priority, out.PriorityAdjusted = priorityName(p), adjusted
}
