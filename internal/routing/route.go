package routing

import (
	"slices"
	"strings"
)

// Outcome is what the rules decided for a case: the final values to apply
// and, in Changes, which rule did what.
type Outcome struct {
	Fired []string `json:"fired"` // names of the rules that fired, in order

	Team             string   `json:"team"`     // the owning team after the rules (Facts.Team if none set it)
	Priority         string   `json:"priority"` // the priority after the rules
	PriorityAdjusted bool     `json:"priority_adjusted"`
	HighRisk         bool     `json:"high_risk"`
	Sensitivity      string   `json:"sensitivity"`
	AddTags          []string `json:"add_tags,omitempty"` // tags the case did not have yet

	// Assign is "", "round_robin", "least_loaded" or a user email (the last
	// rule that asked wins).
	Assign    string   `json:"assign,omitempty"`
	Watchers  []string `json:"watchers,omitempty"`   // to add, deduplicated
	SLAPolicy string   `json:"sla_policy,omitempty"` // an SLA policy name to apply (last wins)
	Escalate  string   `json:"escalate,omitempty"`   // an escalation policy name to start (last wins)
	Notify    []string `json:"notify,omitempty"`     // targets, deduplicated
	Changes   []Change `json:"changes,omitempty"`

	prioOps []appliedPrio // the priority actions, for Assess to replay
}

// Change is one effect of one rule, for the case timeline. Actions that
// change nothing (a tag the case has, the team it is already in) are not
// listed.
type Change struct {
	Rule   string `json:"rule"`
	Action string `json:"action"` // the action's YAML key: team, priority, add_tags, high_risk, …
	Value  string `json:"value"`  // what it set or added
	Was    string `json:"was,omitempty"`
}

// appliedPrio is a fired rule's priority action, kept so that Assess can
// replay the actions on another base priority.
type appliedPrio struct {
	op   prioOp
	rule string
	pos  int // how many non-priority changes came before it
}

// The action names, as Change.Action.
const (
	ActionTeam        = "team"
	ActionPriority    = "priority"
	ActionAddTags     = "add_tags"
	ActionHighRisk    = "high_risk"
	ActionSensitivity = "sensitivity"
	ActionAssign      = "assign"
	ActionWatchers    = "add_watchers"
	ActionSLAPolicy   = "sla_policy"
	ActionEscalate    = "escalate"
	ActionNotify      = "notify"
)

// evalState is the case as the rules see it while they run.
type evalState struct {
	rs          *Ruleset
	f           *Facts
	team        string
	prio        int // 1..4, 0 none
	highRisk    bool
	sensitivity string
	tags        []string // the case's tags and those added
	ownTags     bool     // tags is our copy
	prioChanges int      // priority entries in Outcome.Changes
	email, lang string   // lower-cased

	scanned bool
	text    []byte
	hits    []uint64
}

func newState(rs *Ruleset, f *Facts) *evalState {
	return &evalState{rs: rs, f: f, team: f.Team, prio: level(f.Priority), highRisk: f.HighRisk,
		sensitivity: f.Sensitivity, tags: f.Tags, email: strings.ToLower(f.RequesterEmail),
		lang: strings.ToLower(f.Language)}
}

// keywordHits folds the text and finds every keyword, once, the first time
// a rule asks.
func (st *evalState) keywordHits() []uint64 {
	if !st.scanned {
		st.scanned = true
		st.hits = make([]uint64, (st.rs.nkw+63)/64)
		if st.rs.nkw > 0 {
			st.text = make([]byte, 0, len(st.f.Title)+len(st.f.Description)+8)
			st.text = fold(st.text, st.f.Title)
			// A NUL between title and description is a word boundary that
			// no phrase crosses.
			st.text = append(st.text, 0)
			st.text = fold(st.text, st.f.Description)
			st.rs.match.scan(st.text, st.hits)
		}
	}
	return st.hits
}

func hit(hits []uint64, k int32) bool { return hits[k>>6]&(1<<(k&63)) != 0 }

// holds reports whether the condition holds for the case as it is now.
func (st *evalState) holds(c *cond) bool {
	switch c.kind {
	case condCategory:
		for _, p := range c.strs {
			if categoryMatches(p, st.f.Category) {
				return true
			}
		}
		return false
	case condMarket:
		return slices.Contains(c.strs, st.f.Market)
	case condLanguage:
		for _, l := range c.strs {
			if st.lang == l || len(st.lang) > len(l) && st.lang[len(l)] == '-' && strings.HasPrefix(st.lang, l) {
				return true
			}
		}
		return false
	case condChannel:
		return slices.Contains(c.strs, st.f.Channel)
	case condTeam:
		return slices.Contains(c.strs, st.team)
	case condSellerTier:
		t := st.f.SellerTier
		return t >= 1 && t <= 4 && c.mask&(1<<t) != 0
	case condRiskFlags:
		for _, f := range st.f.SellerRiskFlags {
			if slices.Contains(c.strs, f) {
				return true
			}
		}
		return false
	case condRequester:
		if st.email == "" {
			return false
		}
		for _, r := range c.strs {
			if r[0] == '@' {
				if strings.HasSuffix(st.email, r) {
					return true
				}
			} else if st.email == r {
				return true
			}
		}
		return false
	case condTags:
		for _, t := range st.tags {
			if slices.Contains(c.strs, t) {
				return true
			}
		}
		return false
	case condPriority:
		return st.prio != 0 && c.mask&(1<<st.prio) != 0
	case condHighRisk:
		return st.highRisk == c.want
	case condSafetyTerm:
		return (st.f.SafetyTerm != nil) == c.want
	case condBusinessHours:
		open, _ := st.calendarOpen(c.cal)
		return open == c.want
	case condKeywords:
		hits := st.keywordHits()
		for _, k := range c.kws {
			if hit(hits, k) {
				return true
			}
		}
		return false
	case condAllKeywords:
		hits := st.keywordHits()
		for _, k := range c.kws {
			if !hit(hits, k) {
				return false
			}
		}
		return true
	}
	return false
}

// calendarOpen reports whether the calendar is open at Facts.Now, and the
// key it resolved to ("" when the case has none: always open).
func (st *evalState) calendarOpen(which string) (bool, string) {
	key := which
	switch which {
	case CalendarTeam:
		key = ""
		if st.f.TeamCalendar != nil {
			key = st.f.TeamCalendar(st.team)
		}
	case CalendarMarket:
		key = st.f.Market
	}
	if key == "" || st.f.Calendar == nil {
		return true, key
	}
	cal, ok := st.f.Calendar(key)
	if !ok || cal == nil {
		return true, key
	}
	return cal.IsOpen(st.f.Now), key
}

// fires reports whether the rule fires; on a miss it also returns the
// failing condition and whether it was an "unless" veto.
func (st *evalState) fires(r *compiledRule) (ok bool, failed *cond, veto bool) {
	for i := range r.when {
		if !st.holds(&r.when[i]) {
			return false, &r.when[i], false
		}
	}
	for i := range r.unless {
		if st.holds(&r.unless[i]) {
			return false, &r.unless[i], true
		}
	}
	return true, nil, false
}

// apply carries out a fired rule's actions on the state and the outcome.
func (st *evalState) apply(r *compiledRule, out *Outcome) {
	change := func(action, value, was string) {
		out.Changes = append(out.Changes, Change{Rule: r.name, Action: action, Value: value, Was: was})
	}
	if r.team != "" && r.team != st.team {
		change(ActionTeam, r.team, st.team)
		st.team = r.team
	}
	if r.prio != (prioOp{}) {
		if !st.f.PriorityOverridden {
			out.prioOps = append(out.prioOps, appliedPrio{op: r.prio, rule: r.name, pos: len(out.Changes) - st.prioChanges})
			if p := r.prio.apply(st.prio); p != st.prio {
				change(ActionPriority, Priorities[p-1], priorityName(st.prio))
				st.prioChanges++
				st.prio = p
				out.PriorityAdjusted = true
			}
		}
	}
	for _, t := range r.tags {
		if !slices.Contains(st.tags, t) {
			if !st.ownTags {
				st.tags = append(make([]string, 0, len(st.tags)+len(r.tags)), st.tags...)
				st.ownTags = true
			}
			st.tags = append(st.tags, t)
			out.AddTags = append(out.AddTags, t)
			change(ActionAddTags, t, "")
		}
	}
	if r.highRisk && !st.highRisk {
		st.highRisk = true
		change(ActionHighRisk, "true", "false")
	}
	if r.restricted && st.sensitivity != SensitivityRestricted {
		change(ActionSensitivity, SensitivityRestricted, st.sensitivity)
		st.sensitivity = SensitivityRestricted
	}
	if r.assign != "" {
		change(ActionAssign, r.assign, out.Assign)
		out.Assign = r.assign
	}
	for _, w := range r.watchers {
		if !slices.Contains(out.Watchers, w) {
			out.Watchers = append(out.Watchers, w)
			change(ActionWatchers, w, "")
		}
	}
	if r.slaPolicy != "" {
		change(ActionSLAPolicy, r.slaPolicy, out.SLAPolicy)
		out.SLAPolicy = r.slaPolicy
	}
	if r.escalate != "" {
		change(ActionEscalate, r.escalate, out.Escalate)
		out.Escalate = r.escalate
	}
	for _, n := range r.notify {
		if !slices.Contains(out.Notify, n) {
			out.Notify = append(out.Notify, n)
			change(ActionNotify, n, "")
		}
	}
}

// apply returns the level after the operation, clamped to 1..4. A case
// with no priority counts as P4.
func (op prioOp) apply(p int) int {
	if op.set != 0 {
		return op.set
	}
	if p == 0 {
		p = 4
	}
	return min(max(p+op.delta, 1), 4)
}

func priorityName(p int) string {
	if p < 1 || p > 4 {
		return ""
	}
	return Priorities[p-1]
}

// Route runs the rules for an event on a case and returns what they
// decided. It has no side effects; the caller applies the outcome. With an
// event other than EventCreate or EventUpdate only rules without `on` run.
func (rs *Ruleset) Route(f Facts, ev Event) Outcome {
	return rs.run(&f, ev, nil)
}

// run is Route, and Explain when x is not nil: one evaluation, so the two
// can never disagree.
func (rs *Ruleset) run(f *Facts, ev Event, x *Explanation) Outcome {
	st := newState(rs, f)
	var out Outcome
	bit := eventBit(ev)
	stoppedBy := ""
	for i := range rs.rules {
		r := &rs.rules[i]
		if stoppedBy != "" {
			if x != nil {
				x.Rules = append(x.Rules, RuleResult{Index: i, Name: r.name,
					Skipped: "not evaluated: rule " + quote(stoppedBy) + " stopped the evaluation"})
			}
			continue
		}
		if r.events != 0 && r.events&bit == 0 {
			if x != nil {
				x.Rules = append(x.Rules, RuleResult{Index: i, Name: r.name, Skipped: "runs only on " + rs.onText(i)})
			}
			continue
		}
		ok, failed, veto := st.fires(r)
		if !ok {
			if x != nil {
				x.Rules = append(x.Rules, st.describeMiss(i, r, failed, veto))
			}
			continue
		}
		from := len(out.Changes)
		out.Fired = append(out.Fired, r.name)
		st.apply(r, &out)
		if x != nil {
			x.Rules = append(x.Rules, st.describeHit(i, r, out.Changes[from:]))
		}
		if r.stop {
			stoppedBy = r.name
		}
	}
	out.Team, out.Priority, out.HighRisk, out.Sensitivity = st.team, priorityName(st.prio), st.highRisk, st.sensitivity
	if st.prio == 0 {
		out.Priority = f.Priority
	}
	if out.Fired == nil {
		out.Fired = []string{} // JSON [] rather than null; does not allocate
	}
	return out
}
