package routing

import (
	"fmt"
	"math"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/input"
)

// Refs are the desk's names that rules and weights may refer to. Each is a
// lookup; a nil lookup means "not checked" (only the syntax is).
type Refs struct {
	Market   func(code string) bool
	Team     func(key string) bool
	Category func(key string) bool   // an exact key, "logistics/lost_parcel"
	Group    func(group string) bool // a category group, "logistics"
	User     func(email string) bool // lower-cased email of a desk user
	Calendar func(key string) bool
	// SLAPolicy and EscalationPolicy check policy names.
	SLAPolicy        func(name string) bool
	EscalationPolicy func(name string) bool
	// MoneyField reports a custom field key of type money.
	MoneyField func(key string) bool
}

func known(f func(string) bool, v string) bool { return f == nil || f(v) }

var (
	reMarket    = regexp.MustCompile(`^[A-Z]{2}$`)
	reTeamKey   = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	reKey       = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	reCategory  = regexp.MustCompile(`^[a-z][a-z0-9_]*(/([a-z][a-z0-9_]*)?)?$`)
	reTag       = regexp.MustCompile(`^[a-z0-9][a-z0-9_.:-]*$`)
	reDomain    = regexp.MustCompile(`^@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)
	reCalendar  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)
	validEvents = []Event{EventCreate, EventUpdate}
)

// Limits that catch typos and keep a rule set's matcher small.
const (
	maxName     = 200
	maxKeyword  = 200
	maxTag      = 40
	maxPoints   = 1000
	maxPriority = 3 // levels a rule can raise or lower
)

type errs []apperr.FieldError

func (e *errs) add(path, format string, args ...any) {
	*e = append(*e, apperr.FieldError{Field: path, Message: fmt.Sprintf(format, args...)})
}

func at(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// Validate checks rules and weights against the desk and returns every
// problem with its path in the desk document ("routing_rules[3].when.market[0]",
// "priority.channel.fax"); nil when all is well.
func Validate(rules []Rule, w Weights, refs Refs) []apperr.FieldError {
	out := ValidateWeights(w, refs)
	return append(out, ValidateRules(rules, refs)...)
}

// ValidateRules checks routing rules (paths start "routing_rules[i]").
func ValidateRules(rules []Rule, refs Refs) []apperr.FieldError {
	var e errs
	names := map[string]int{}
	for i, r := range rules {
		p := at("routing_rules", i)
		switch {
		case strings.TrimSpace(r.Name) == "":
			e.add(p+".name", "is required")
		case r.Name != strings.TrimSpace(r.Name):
			e.add(p+".name", "must not start or end with spaces")
		case utf8.RuneCountInString(r.Name) > maxName:
			e.add(p+".name", "is longer than %d characters", maxName)
		}
		if j, dup := names[r.Name]; dup && r.Name != "" {
			e.add(p+".name", "duplicate rule name %q (also routing_rules[%d])", r.Name, j)
		} else {
			names[r.Name] = i
		}
		seen := map[Event]bool{}
		for j, ev := range r.On {
			switch {
			case !slices.Contains(validEvents, ev):
				e.add(at(p+".on", j), "%q is not an event (create or update)", ev)
			case seen[ev]:
				e.add(at(p+".on", j), "duplicate event %s", ev)
			}
			seen[ev] = true
		}
		e.conditions(p+".when", r.When, refs)
		e.conditions(p+".unless", r.Unless, refs)
		e.actions(p+".then", r.Then, refs)
		if r.Then.IsZero() && !r.Stop {
			e.add(p+".then", "a rule needs at least one action (or stop: true)")
		}
	}
	return e
}

// list checks each entry of a list condition with check, which returns a
// message for a bad entry ("" when fine), and reports duplicates.
func (e *errs) list(path string, vals []string, fold bool, check func(string) string) {
	seen := map[string]bool{}
	for i, v := range vals {
		p := at(path, i)
		key := v
		if fold {
			key = strings.ToLower(v)
		}
		if msg := check(v); msg != "" {
			e.add(p, "%s", msg)
		} else if seen[key] {
			e.add(p, "duplicate %q", v)
		}
		seen[key] = true
	}
}

func (e *errs) conditions(p string, c Conditions, refs Refs) {
	e.list(p+".category", c.Category, false, func(v string) string { return categoryCheck(v, refs) })
	e.list(p+".market", c.Market, false, func(v string) string {
		if !reMarket.MatchString(v) {
			return fmt.Sprintf("%q is not a market code of 2 uppercase letters", v)
		}
		if !known(refs.Market, v) {
			return fmt.Sprintf("unknown market %q", v)
		}
		return ""
	})
	e.list(p+".language", c.Language, true, func(v string) string {
		if _, err := input.ParseLanguage(v); err != nil {
			return err.Error()
		}
		return ""
	})
	e.list(p+".channel", c.Channel, false, channelCheck)
	e.list(p+".team", c.Team, false, func(v string) string { return teamCheck(v, refs) })
	seenTier := map[int]bool{}
	for i, t := range c.SellerTier {
		switch {
		case t < 1 || t > 4:
			e.add(at(p+".seller_tier", i), "must be 1 (most important) to 4, not %d", t)
		case seenTier[t]:
			e.add(at(p+".seller_tier", i), "duplicate %d", t)
		}
		seenTier[t] = true
	}
	e.list(p+".seller_risk_flags", c.SellerRiskFlags, false, func(v string) string {
		if !reKey.MatchString(v) {
			return fmt.Sprintf("%q is not a snake_case flag", v)
		}
		return ""
	})
	e.list(p+".requester", c.Requester, true, func(v string) string {
		if strings.HasPrefix(v, "@") {
			if !reDomain.MatchString(strings.ToLower(v)) {
				return fmt.Sprintf("%q is not a domain like \"@example.com\"", v)
			}
			return ""
		}
		if a, err := mail.ParseAddress(v); err != nil || a.Address != v || a.Name != "" {
			return fmt.Sprintf("%q is not an email address or \"@domain\"", v)
		}
		return ""
	})
	e.list(p+".tags", c.Tags, true, tagCheck)
	e.list(p+".priority", c.Priority, false, func(v string) string {
		if level(v) == 0 {
			return fmt.Sprintf("%q is not a priority (P1, P2, P3 or P4)", v)
		}
		return ""
	})
	if !c.HighRisk.valid() {
		e.add(p+".high_risk", "must be true or false, not %q", string(c.HighRisk))
	}
	if !c.SafetyTerm.valid() {
		e.add(p+".safety_term", "must be true or false, not %q", string(c.SafetyTerm))
	}
	if bh := c.BusinessHours; !bh.IsZero() {
		bp := p + ".business_hours"
		if !bh.Open.Set() {
			e.add(bp+".open", "is required: true (the calendar is open) or false (closed)")
		} else if !bh.Open.valid() {
			e.add(bp+".open", "must be true or false, not %q", string(bh.Open))
		}
		switch cal := bh.Calendar; {
		case cal == "" || cal == CalendarTeam || cal == CalendarMarket:
		case !reCalendar.MatchString(cal):
			e.add(bp+".calendar", "%q is not a calendar key, \"team\" or \"market\"", cal)
		case !known(refs.Calendar, cal):
			e.add(bp+".calendar", "no calendar %q in calendars", cal)
		}
	}
	kw := func(path string, list []string) {
		e.list(path, list, true, func(v string) string {
			pat, _ := foldKeyword(v)
			switch {
			case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
				return "must be valid UTF-8 text without NUL characters"
			case pat == "":
				return "is empty"
			case len(v) > maxKeyword:
				return fmt.Sprintf("is longer than %d bytes", maxKeyword)
			case strings.Contains(strings.TrimSuffix(strings.TrimSpace(v), "*"), "*"):
				return "\"*\" is allowed only at the end (a prefix: \"refund*\")"
			}
			return ""
		})
	}
	kw(p+".keywords", c.Keywords)
	kw(p+".all_keywords", c.AllKeywords)
}

func channelCheck(v string) string {
	if !slices.Contains(Channels, v) {
		return fmt.Sprintf("%q is not a channel (one of %s)", v, strings.Join(Channels, ", "))
	}
	return ""
}

// categoryCheck checks a category key ("logistics/lost_parcel") or group
// ("logistics", "logistics/").
func categoryCheck(v string, refs Refs) string {
	if !reCategory.MatchString(v) {
		return fmt.Sprintf("%q is not a category key like \"logistics/lost_parcel\" or a group like \"logistics\"", v)
	}
	if g, rest, _ := strings.Cut(v, "/"); rest == "" {
		if !known(refs.Group, g) {
			return fmt.Sprintf("unknown category group %q", g)
		}
	} else if !known(refs.Category, v) {
		return fmt.Sprintf("unknown category %q", v)
	}
	return ""
}

func teamCheck(v string, refs Refs) string {
	if !reTeamKey.MatchString(v) {
		return fmt.Sprintf("%q is not a team key", v)
	}
	if !known(refs.Team, v) {
		return fmt.Sprintf("unknown team %q", v)
	}
	return ""
}

func tagCheck(v string) string {
	if len(v) > maxTag {
		return fmt.Sprintf("is longer than %d characters", maxTag)
	}
	if !reTag.MatchString(v) {
		return fmt.Sprintf("%q is not a tag (lower-case letters, digits and _ . : -)", v)
	}
	return ""
}

func userCheck(v string, refs Refs) string {
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v || a.Name != "" {
		return fmt.Sprintf("%q is not an email address", v)
	}
	if !known(refs.User, strings.ToLower(v)) {
		return fmt.Sprintf("%q is not a user listed under users", v)
	}
	return ""
}

func (e *errs) actions(p string, a Actions, refs Refs) {
	if a.Team != "" {
		if msg := teamCheck(a.Team, refs); msg != "" {
			e.add(p+".team", "%s", msg)
		}
	}
	pr := a.Priority
	pp := p + ".priority"
	n := 0
	for _, set := range []bool{pr.Set != "", pr.Raise != 0, pr.Lower != 0} {
		if set {
			n++
		}
	}
	if n > 1 {
		e.add(pp, "give one of set, raise or lower")
	}
	if pr.Set != "" && level(pr.Set) == 0 {
		e.add(pp+".set", "%q is not a priority (P1, P2, P3 or P4)", pr.Set)
	}
	if pr.Raise != 0 && (pr.Raise < 1 || pr.Raise > maxPriority) {
		e.add(pp+".raise", "must be 1 to %d levels, not %d", maxPriority, pr.Raise)
	}
	if pr.Lower != 0 && (pr.Lower < 1 || pr.Lower > maxPriority) {
		e.add(pp+".lower", "must be 1 to %d levels, not %d", maxPriority, pr.Lower)
	}
	e.list(p+".add_tags", a.AddTags, true, tagCheck)
	if a.Sensitivity != "" && a.Sensitivity != SensitivityRestricted {
		e.add(p+".sensitivity", "%q: a rule can only set sensitivity restricted", a.Sensitivity)
	}
	if v := a.Assign; v != "" && v != AssignRoundRobin && v != AssignLeastLoaded {
		if !strings.Contains(v, "@") {
			e.add(p+".assign", "%q is not round_robin, least_loaded or a user's email", v)
		} else if msg := userCheck(v, refs); msg != "" {
			e.add(p+".assign", "%s", msg)
		}
	}
	e.list(p+".add_watchers", a.AddWatchers, true, func(v string) string { return userCheck(v, refs) })
	if a.SLAPolicy != "" && !known(refs.SLAPolicy, a.SLAPolicy) {
		e.add(p+".sla_policy", "no SLA policy named %q in sla_policies", a.SLAPolicy)
	}
	if a.Escalate != "" {
		if strings.TrimSpace(a.Escalate) != a.Escalate {
			e.add(p+".escalate", "must not start or end with spaces")
		} else if !known(refs.EscalationPolicy, a.Escalate) {
			e.add(p+".escalate", "no escalation policy named %q", a.Escalate)
		}
	}
	e.list(p+".notify", a.Notify, true, func(v string) string {
		switch {
		case v == NotifyOwner || v == NotifyTeam:
			return ""
		case strings.Contains(v, "@"):
			return userCheck(v, refs)
		case !reTeamKey.MatchString(v):
			return fmt.Sprintf("%q is not a user's email, a team key, \"owner\" or \"team\"", v)
		case !known(refs.Team, v):
			return fmt.Sprintf("unknown team %q", v)
		}
		return ""
	})
}

// ValidateWeights checks priority weights (paths start "priority.").
func ValidateWeights(w Weights, refs Refs) []apperr.FieldError {
	var e errs
	const p = "priority"
	points := func(path string, v int) {
		if v < -maxPoints || v > maxPoints {
			e.add(path, "must be between %d and %d points, not %d", -maxPoints, maxPoints, v)
		}
	}
	pointMap := func(section string, m map[string]int, keys []string, what string) {
		for _, k := range sortedKeys(m) {
			kp := p + "." + section + "." + k
			if !slices.Contains(keys, k) {
				e.add(kp, "unknown %s %q (one of %s)", what, k, strings.Join(keys, ", "))
				continue
			}
			points(kp, m[k])
		}
	}
	pointMap(FactorSeverity, w.CategorySeverity, levels[1:], "severity")
	pointMap(FactorSellerTier, w.SellerTier, levels[1:], "seller tier")
	pointMap(FactorChannel, w.Channel, Channels, "channel")
	pointMap(FactorSLAPressure, w.SLAPressure, []string{SLAWarning, SLABreached}, "SLA state")
	for i, s := range w.MoneyAtStake {
		sp := at(p+".money_at_stake", i)
		switch {
		case s.AtLeast <= 0 || math.IsInf(s.AtLeast, 0) || math.IsNaN(s.AtLeast):
			e.add(sp+".at_least", "must be a positive amount")
		case i > 0 && s.AtLeast <= w.MoneyAtStake[i-1].AtLeast:
			e.add(sp+".at_least", "must be more than the previous threshold (%s): list thresholds in ascending order", amount(w.MoneyAtStake[i-1].AtLeast))
		}
		points(sp+".points", s.Points)
	}
	e.list(p+".money_fields", w.MoneyFields, false, func(v string) string {
		if !reKey.MatchString(v) {
			return fmt.Sprintf("%q is not a field key", v)
		}
		if !known(refs.MoneyField, v) {
			return fmt.Sprintf("no money field %q in any category", v)
		}
		return ""
	})
	points(p+".high_risk", w.HighRisk)
	points(p+".safety", w.Safety)
	points(p+".safety_term", w.SafetyTerm)
	e.list(p+".safety_categories", w.SafetyCategories, false, func(v string) string { return categoryCheck(v, refs) })
	e.list(p+".safety_flags", w.SafetyFlags, false, func(v string) string {
		if !reKey.MatchString(v) {
			return fmt.Sprintf("%q is not a snake_case flag", v)
		}
		return ""
	})
	for _, pc := range []struct {
		name string
		v    PerCount
	}{{FactorRepeatContacts, w.RepeatContacts}, {FactorReopens, w.Reopens}} {
		if pc.v.Each < 0 || pc.v.Each > maxPoints {
			e.add(p+"."+pc.name+".each", "must be 0 to %d points, not %d", maxPoints, pc.v.Each)
		}
		if pc.v.Max < 0 || pc.v.Max > maxPoints {
			e.add(p+"."+pc.name+".max", "must be 0 to %d points, not %d", maxPoints, pc.v.Max)
		}
	}
	pointMap("thresholds", w.Thresholds, Priorities[:3], "priority threshold")
	if t := w.Effective().Thresholds; !(t["P1"] > t["P2"] && t["P2"] > t["P3"]) {
		e.add(p+".thresholds", "must fall from P1 to P3 (now P1 %d, P2 %d, P3 %d)", t["P1"], t["P2"], t["P3"])
	}
	e.list(p+".off", w.Off, false, func(v string) string {
		if !slices.Contains(Factors, v) {
			return fmt.Sprintf("%q is not a factor (one of %s)", v, strings.Join(Factors, ", "))
		}
		return ""
	})
	return e
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
