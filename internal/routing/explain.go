package routing

import (
	"fmt"
	"strconv"
	"strings"
)

// Explanation says, rule by rule, what the rules would do to a case and
// why: the answer to "why did this case go to logistics?" and the preview
// of a rule change before it is applied.
type Explanation struct {
	Rules   []RuleResult `json:"rules"`
	Outcome Outcome      `json:"outcome"`
}

// RuleResult is one rule's part in an evaluation.
type RuleResult struct {
	Index   int    `json:"index"` // in routing_rules
	Name    string `json:"name"`
	Matched bool   `json:"matched"`
	// Skipped says why the rule was not evaluated at all (its `on` events,
	// or an earlier rule's stop).
	Skipped string `json:"skipped,omitempty"`
	// Condition is the first condition that failed ("when.market", or
	// "unless.tags" for a veto) and Reason says why, in words.
	Condition string `json:"condition,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// Actions describe what a matched rule does, in words; Changes are what
	// it changed on this case (an action can change nothing: the team was
	// already set, or a person set the priority).
	Actions []string `json:"actions,omitempty"`
	Changes []Change `json:"changes,omitempty"`
	// Keywords are the rule's keywords found in the text.
	Keywords []string `json:"keywords,omitempty"`
	Stop     bool     `json:"stop,omitempty"`
}

// Explain evaluates the rules for an event on a case like Route, with no
// side effects, and reports every rule: matched or not, and why.
func (rs *Ruleset) Explain(f Facts, ev Event) Explanation {
	var x Explanation
	x.Outcome = rs.run(&f, ev, &x)
	return x
}

// Explain compiles rules and explains them on a case (see
// Ruleset.Explain); it fails when the rules do not compile.
func Explain(rules []Rule, f Facts, ev Event) (Explanation, error) {
	rs, err := Compile(rules)
	if err != nil {
		return Explanation{}, fmt.Errorf("explain routing rules: %w", err)
	}
	return rs.Explain(f, ev), nil
}

func quote(s string) string { return strconv.Quote(s) }

func (rs *Ruleset) onText(i int) string {
	on := make([]string, len(rs.src[i].On))
	for j, e := range rs.src[i].On {
		on[j] = string(e)
	}
	return strings.Join(on, " and ")
}

func (st *evalState) describeMiss(i int, r *compiledRule, c *cond, veto bool) RuleResult {
	res := RuleResult{Index: i, Name: r.name}
	if veto {
		res.Condition = "unless." + condNames[c.kind]
	} else {
		res.Condition = "when." + condNames[c.kind]
	}
	res.Reason = st.describe(c, veto)
	return res
}

func (st *evalState) describeHit(i int, r *compiledRule, changes []Change) RuleResult {
	res := RuleResult{Index: i, Name: r.name, Matched: true, Stop: r.stop,
		Actions: describeActions(st.rs.src[i].Then, st.f.PriorityOverridden)}
	if len(changes) > 0 {
		res.Changes = append([]Change(nil), changes...)
	}
	for _, c := range r.when {
		if c.kind == condKeywords || c.kind == condAllKeywords {
			hits := st.keywordHits()
			for j, k := range c.kws {
				if hit(hits, k) {
					res.Keywords = append(res.Keywords, c.texts[j])
				}
			}
		}
	}
	return res
}

// describe says why condition c failed (or, for a veto, why it held).
func (st *evalState) describe(c *cond, veto bool) string {
	f := st.f
	list := func(s []string) string { return strings.Join(s, ", ") }
	value := func(what, v string, wanted []string) string {
		if veto {
			return fmt.Sprintf("%s is %s", what, v)
		}
		if v == "" {
			return fmt.Sprintf("the case has no %s; the rule wants %s", what, list(wanted))
		}
		return fmt.Sprintf("%s is %s, not %s", what, v, list(wanted))
	}
	switch c.kind {
	case condCategory:
		wanted := make([]string, len(c.strs))
		for i, p := range c.strs {
			wanted[i] = strings.TrimSuffix(p, "/")
			if strings.HasSuffix(p, "/") {
				wanted[i] = "group " + wanted[i]
			}
		}
		return value("category", f.Category, wanted)
	case condMarket:
		return value("market", f.Market, c.strs)
	case condLanguage:
		return value("language", f.Language, c.strs)
	case condChannel:
		return value("channel", f.Channel, c.strs)
	case condTeam:
		return value("team", st.team, c.strs)
	case condSellerTier:
		var wanted []string
		for t := 1; t <= 4; t++ {
			if c.mask&(1<<t) != 0 {
				wanted = append(wanted, strconv.Itoa(t))
			}
		}
		if f.SellerTier < 1 || f.SellerTier > 4 {
			return "the case has no seller tier; the rule wants tier " + list(wanted)
		}
		return value("seller tier", strconv.Itoa(f.SellerTier), wanted)
	case condRiskFlags:
		if veto {
			for _, fl := range f.SellerRiskFlags {
				for _, w := range c.strs {
					if fl == w {
						return "the seller is flagged " + fl
					}
				}
			}
		}
		if len(f.SellerRiskFlags) == 0 {
			return "the seller has no risk flags; the rule wants " + list(c.strs)
		}
		return fmt.Sprintf("the seller's risk flags (%s) include none of %s", list(f.SellerRiskFlags), list(c.strs))
	case condRequester:
		return value("requester", st.email, c.strs)
	case condTags:
		if veto {
			for _, t := range st.tags {
				for _, w := range c.strs {
					if t == w {
						return "the case has tag " + t
					}
				}
			}
		}
		if len(st.tags) == 0 {
			return "the case has no tags; the rule wants " + list(c.strs)
		}
		return fmt.Sprintf("the case's tags (%s) include none of %s", list(st.tags), list(c.strs))
	case condPriority:
		return value("priority", priorityName(st.prio), c.strs)
	case condHighRisk:
		if st.highRisk {
			return "the case is high risk"
		}
		return "the case is not high risk"
	case condSafetyTerm:
		if t := st.f.SafetyTerm; t != nil {
			return "the safety watch found " + t.String()
		}
		return "the safety watch found none of its terms"
	case condBusinessHours:
		open, key := st.calendarOpen(c.cal)
		name := "calendar " + key
		if key == "" {
			name = "the " + c.cal + " calendar (none: always open)"
		} else if c.cal == CalendarTeam || c.cal == CalendarMarket {
			name = fmt.Sprintf("the %s calendar %s", c.cal, key)
		}
		state := "closed"
		if open {
			state = "open"
		}
		return fmt.Sprintf("%s is %s at %s", name, state, f.Now.UTC().Format("2006-01-02 15:04 MST"))
	case condKeywords:
		hits := st.keywordHits()
		if veto {
			for j, k := range c.kws {
				if hit(hits, k) {
					return fmt.Sprintf("the text contains %q", c.texts[j])
				}
			}
		}
		return "the title and description contain none of " + quoteAll(c.texts)
	case condAllKeywords:
		hits := st.keywordHits()
		if veto {
			return "the text contains all of " + quoteAll(c.texts)
		}
		var missing []string
		for j, k := range c.kws {
			if !hit(hits, k) {
				missing = append(missing, c.texts[j])
			}
		}
		return "the title and description lack " + quoteAll(missing)
	}
	return "condition failed"
}

func quoteAll(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

// describeActions says what a rule's actions do, in words.
func describeActions(a Actions, priorityOverridden bool) []string {
	var out []string
	if a.Team != "" {
		out = append(out, "set team "+a.Team)
	}
	if !a.Priority.IsZero() {
		var s string
		switch {
		case a.Priority.Set != "":
			s = "set priority " + a.Priority.Set
		case a.Priority.Raise != 0:
			s = fmt.Sprintf("raise priority %d level%s", a.Priority.Raise, plural(a.Priority.Raise))
		default:
			s = fmt.Sprintf("lower priority %d level%s", a.Priority.Lower, plural(a.Priority.Lower))
		}
		if priorityOverridden {
			s += " (not applied: a person set the priority)"
		}
		out = append(out, s)
	}
	if len(a.AddTags) > 0 {
		out = append(out, "add tags "+strings.Join(a.AddTags, ", "))
	}
	if a.HighRisk {
		out = append(out, "flag high risk")
	}
	if a.Sensitivity != "" {
		out = append(out, "set sensitivity "+a.Sensitivity)
	}
	switch a.Assign {
	case "":
	case AssignRoundRobin:
		out = append(out, "assign round robin within the team")
	case AssignLeastLoaded:
		out = append(out, "assign to the least loaded member of the team")
	default:
		out = append(out, "assign to "+a.Assign)
	}
	if len(a.AddWatchers) > 0 {
		out = append(out, "add watchers "+strings.Join(a.AddWatchers, ", "))
	}
	if a.SLAPolicy != "" {
		out = append(out, "apply SLA policy "+quote(a.SLAPolicy))
	}
	if a.Escalate != "" {
		out = append(out, "start escalation policy "+quote(a.Escalate))
	}
	if len(a.Notify) > 0 {
		out = append(out, "notify "+strings.Join(a.Notify, ", "))
	}
	return out
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
