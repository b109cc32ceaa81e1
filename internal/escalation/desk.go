package escalation

import (
	"fmt"
	"slices"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/input"
	"github.com/flare-desk/flare/internal/routing/routingdesk"
	"github.com/flare-desk/flare/internal/sla"
)

// The desk document's sections this package owns.
const (
	LevelsKey   desk.Key[[]Level]  = "escalation_levels"
	PoliciesKey desk.Key[[]Policy] = "escalation_policies"
)

// Sections are escalation's sections of the desk document, for
// desk.NewSchema: `escalation_levels:` (the ladder, L1 first) and
// `escalation_policies:`, checked against the document's teams, categories,
// markets and users — and the routing rules' `escalate:` actions, which must
// name a policy or a level (routing cannot import this package).
func Sections() []desk.Section {
	return []desk.Section{
		desk.SectionOf[[]Level]{Key: LevelsKey, Validate: validateLevels, Canonical: canonicalLevels,
			Diff: func(prev, next []Level) []string {
				return desk.DiffList("escalation level", prev, next, func(l Level) string { return l.Name },
					func(a, b Level) []string { return desk.DiffFields("escalation level "+a.Name, "definition", a, b) })
			}},
		desk.SectionOf[[]Policy]{Key: PoliciesKey, Validate: validatePolicies, Canonical: canonicalPolicies,
			Diff: func(prev, next []Policy) []string {
				return desk.DiffList("escalation policy", prev, next, func(p Policy) string { return p.Name },
					func(a, b Policy) []string { return desk.DiffFields("escalation policy "+a.Name, "definition", a, b) })
			}},
	}
}

// LevelsOf is the desk's ladder: its escalation_levels, or DefaultLevels.
func LevelsOf(c *desk.Config) []Level {
	if ls := desk.Get(c, LevelsKey); len(ls) > 0 {
		return ls
	}
	return DefaultLevels
}

// PoliciesOf is the desk's escalation policies, in order.
func PoliciesOf(c *desk.Config) []Policy { return desk.Get(c, PoliciesKey) }

// PolicyNamed returns the desk's policy called name.
func PolicyNamed(c *desk.Config, name string) (Policy, bool) {
	for _, p := range PoliciesOf(c) {
		if p.Name == name {
			return p, true
		}
	}
	return Policy{}, false
}

type errs []apperr.FieldError

func (e *errs) add(path, format string, args ...any) {
	*e = append(*e, apperr.FieldError{Field: path, Message: fmt.Sprintf(format, args...)})
}

func validateLevels(doc *desk.Config, levels []Level) []apperr.FieldError {
	var e errs
	if len(levels) == 0 {
		return nil // the default ladder
	}
	if len(levels) < minLevels || len(levels) > maxLevels {
		e.add(string(LevelsKey), "has %d levels; a ladder has %d to %d", len(levels), minLevels, maxLevels)
	}
	seen := map[string]bool{}
	for i, l := range levels {
		p := fmt.Sprintf("%s[%d]", LevelsKey, i)
		if l.Name == "" {
			e.add(p+".name", "is required")
		} else if msg := input.Name.Problem(l.Name); msg != "" {
			e.add(p+".name", "%s", msg)
		} else if seen[strings.ToLower(l.Name)] {
			e.add(p+".name", "%q names another level too", l.Name)
		}
		seen[strings.ToLower(l.Name)] = true
		if msg := input.Text.Problem(l.Description); msg != "" {
			e.add(p+".description", "%s", msg)
		}
		checkTargets(&e, doc, p+".targets", l.Targets)
	}
	return e
}

func validatePolicies(doc *desk.Config, policies []Policy) []apperr.FieldError {
	var e errs
	levels := LevelsOf(doc)
	names := map[string]bool{}
	for i, pol := range policies {
		p := fmt.Sprintf("%s[%d]", PoliciesKey, i)
		switch {
		case pol.Name == "":
			e.add(p+".name", "is required")
		case input.Name.Problem(pol.Name) != "":
			e.add(p+".name", "%s", input.Name.Problem(pol.Name))
		case strings.TrimSpace(pol.Name) != pol.Name:
			e.add(p+".name", "must not start or end with spaces")
		case isLevelRef(pol.Name):
			e.add(p+".name", "%q reads as a level; name the policy in words", pol.Name)
		case names[pol.Name]:
			e.add(p+".name", "another policy is called %q", pol.Name)
		}
		names[pol.Name] = true
		for j, t := range pol.Triggers {
			if _, ok := parseTrigger(t); !ok {
				e.add(fmt.Sprintf("%s.triggers[%d]", p, j), "unknown trigger %q; one of %s (sla_warning and sla_breach may name a metric: sla_breach:%s)",
					t, strings.Join(policyTriggers, ", "), sla.Resolution)
			}
		}
		checkMatch(&e, doc, p+".when", pol.When)
		if pol.Repeat < 0 || pol.Repeat > maxRepeat {
			e.add(p+".repeat", "must be between 0 and %d", maxRepeat)
		}
		switch {
		case len(pol.Steps) == 0:
			e.add(p+".steps", "a policy needs at least one step")
		case len(pol.Steps) > maxSteps:
			e.add(p+".steps", "at most %d steps", maxSteps)
		}
		for j, st := range pol.Steps {
			sp := fmt.Sprintf("%s.steps[%d]", p, j)
			if st.Level < 1 || st.Level > len(levels) {
				e.add(sp+".level", "must be a level from 1 to %d (%s)", len(levels), LevelName(levels, len(levels)))
			}
			if len(st.Targets) == 0 {
				e.add(sp+".targets", "a step asks someone: a user, on_call, team, role or owner")
			}
			checkTargets(&e, doc, sp+".targets", st.Targets)
			d, err := sla.ParseDuration(st.AckWithin)
			switch {
			case st.AckWithin == "":
				e.add(sp+".ack_within", "is required: how long the step waits for an acknowledgement (\"15m\")")
			case err != nil:
				e.add(sp+".ack_within", "%s", err.Error())
			case d < minAck || d > maxAck:
				e.add(sp+".ack_within", "must be between 1m and 7d")
			}
			if len(st.Fallback) > 0 && j != len(pol.Steps)-1 {
				e.add(sp+".fallback", "only the last step has a fallback")
			}
			checkTargets(&e, doc, sp+".fallback", st.Fallback)
		}
	}
	// The routing rules' escalate actions name a policy or a level.
	for i, r := range routingdesk.RulesOf(doc) {
		v := r.Then.Escalate
		if v == "" || names[v] {
			continue
		}
		if n, ok := ParseLevel(v); ok && n <= len(levels) {
			continue
		}
		e.add(fmt.Sprintf("routing_rules[%d].then.escalate", i), "no escalation policy named %q (nor a level L1–L%d)", v, len(levels))
	}
	return e
}

func isLevelRef(s string) bool { _, ok := ParseLevel(s); return ok }

func checkMatch(e *errs, doc *desk.Config, p string, m Match) {
	for i, t := range m.Teams {
		if _, ok := doc.Team(t); !ok {
			e.add(fmt.Sprintf("%s.teams[%d]", p, i), "unknown team %q", t)
		}
	}
	for i, c := range m.Categories {
		ok := false
		if strings.HasSuffix(c, "/") {
			ok = slices.ContainsFunc(doc.Categories, func(k desk.Category) bool { return strings.HasPrefix(k.Key, c) })
		} else {
			_, ok = doc.Category(c)
		}
		if !ok {
			e.add(fmt.Sprintf("%s.categories[%d]", p, i), "unknown category %q (a key, or a group such as \"safety/\")", c)
		}
	}
	for i, mk := range m.Markets {
		if _, ok := doc.Market(mk); !ok {
			e.add(fmt.Sprintf("%s.markets[%d]", p, i), "unknown market %q", mk)
		}
	}
	for i, pr := range m.Priorities {
		if !slices.Contains(cases.Priorities, pr) {
			e.add(fmt.Sprintf("%s.priorities[%d]", p, i), "must be P1, P2, P3 or P4")
		}
	}
	for i, t := range m.SellerTiers {
		if t < 1 || t > 9 {
			e.add(fmt.Sprintf("%s.seller_tiers[%d]", p, i), "must be a tier from 1 to 9")
		}
	}
}

func checkTargets(e *errs, doc *desk.Config, p string, targets []Target) {
	if len(targets) > maxTargets {
		e.add(p, "at most %d targets", maxTargets)
	}
	team := func(path, k string) {
		if k == CaseTeam {
			if _, clash := doc.Team(CaseTeam); clash {
				e.add(path, "%q is ambiguous: the desk has a team called case", k)
			}
			return
		}
		if _, ok := doc.Team(k); !ok {
			e.add(path, "unknown team %q", k)
		}
	}
	for i, t := range targets {
		tp := fmt.Sprintf("%s[%d]", p, i)
		n := 0
		for _, set := range []bool{t.User != "", t.OnCall != "", t.Team != "" && t.Role == "", t.Role != "", t.Owner} {
			if set {
				n++
			}
		}
		if n != 1 {
			e.add(tp, "name exactly one of user, on_call, team, role (with an optional team) or owner")
			continue
		}
		switch {
		case t.User != "":
			if t.User != strings.ToLower(t.User) {
				e.add(tp+".user", "write emails in lower case")
			} else if len(doc.Users) > 0 {
				if _, ok := doc.User(t.User); !ok {
					e.add(tp+".user", "unknown user %q", t.User)
				}
			}
		case t.OnCall != "":
			team(tp+".on_call", t.OnCall)
		case t.Role != "":
			if r := auth.Role(t.Role); r != auth.RoleAgent && r != auth.RoleLead && r != auth.RoleAdmin {
				e.add(tp+".role", "must be agent, lead or admin (the roles that work cases)")
			}
			if t.Team != "" {
				team(tp+".team", t.Team)
			}
		case t.Team != "":
			team(tp+".team", t.Team)
		}
	}
}

func canonicalLevels(ls []Level) []Level {
	out := slices.Clone(ls)
	for i := range out {
		out[i].Targets = canonicalTargets(out[i].Targets)
	}
	return out
}

func canonicalPolicies(ps []Policy) []Policy {
	out := slices.Clone(ps)
	for i := range out {
		steps := slices.Clone(out[i].Steps)
		for j := range steps {
			steps[j].Targets = canonicalTargets(steps[j].Targets)
			steps[j].Fallback = canonicalTargets(steps[j].Fallback)
		}
		out[i].Steps = steps
	}
	return out
}

func canonicalTargets(ts []Target) []Target {
	if ts == nil {
		return nil
	}
	out := slices.Clone(ts)
	for i := range out {
		out[i].User = strings.ToLower(strings.TrimSpace(out[i].User))
	}
	return out
}
