package routing

import (
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
)

// Ruleset is a compiled, ordered list of rules. It is immutable and safe
// for concurrent use.
type Ruleset struct {
	rules []compiledRule
	src   []Rule
	match *matcher // every distinct keyword of every rule
	nkw   int
}

// Rules returns the rules the set was compiled from (do not modify).
func (rs *Ruleset) Rules() []Rule { return rs.src }

type condKind uint8

// The condition kinds, in the order they are checked.
const (
	condCategory condKind = iota
	condMarket
	condLanguage
	condChannel
	condTeam
	condSellerTier
	condRiskFlags
	condRequester
	condTags
	condPriority
	condHighRisk
	condSafetyTerm
	condBusinessHours
	condKeywords
	condAllKeywords
)

// condNames are the YAML keys, for Explain.
var condNames = [...]string{"category", "market", "language", "channel", "team", "seller_tier",
	"seller_risk_flags", "requester", "tags", "priority", "high_risk", "safety_term", "business_hours", "keywords", "all_keywords"}

type cond struct {
	kind  condKind
	strs  []string // normalised values (see compileConds)
	mask  uint8    // seller_tier: bit t; priority: bit 1..4
	want  bool     // high_risk; business_hours: open
	cal   string   // business_hours: key, "team" or "market"
	kws   []int32  // keyword ids
	texts []string // keywords as written, for Explain
}

type prioOp struct {
	set   int // 1..4, 0: none
	delta int // raise < 0 < lower, in levels
}

type compiledRule struct {
	name   string
	events uint8 // bit per event; 0: every event
	when   []cond
	unless []cond
	stop   bool

	team       string
	prio       prioOp
	tags       []string
	highRisk   bool
	restricted bool
	assign     string
	watchers   []string
	slaPolicy  string
	escalate   string
	notify     []string
}

func eventBit(e Event) uint8 {
	switch e {
	case EventCreate:
		return 1
	case EventUpdate:
		return 2
	}
	return 0
}

// Compile checks the rules on their own (ValidateRules with no
// references: names, values and syntax) and precompiles them: value sets
// normalised, every keyword folded into one matcher. A desk should run
// Validate with its references before.
func Compile(rules []Rule) (*Ruleset, error) {
	if errs := ValidateRules(rules, Refs{}); len(errs) > 0 {
		return nil, &apperr.Invalid{Subject: "routing configuration", Errors: errs}
	}
	rs := &Ruleset{src: rules, rules: make([]compiledRule, len(rules))}
	var kws []keyword
	ids := map[keyword]int32{}
	kwID := func(text string) int32 {
		k := newKeyword(text)
		if id, ok := ids[k]; ok {
			return id
		}
		id := int32(len(kws))
		ids[k] = id
		kws = append(kws, k)
		return id
	}
	for i, r := range rules {
		cr := &rs.rules[i]
		cr.name, cr.stop = r.Name, r.Stop
		for _, e := range r.On {
			cr.events |= eventBit(e)
		}
		cr.when = compileConds(r.When, kwID)
		cr.unless = compileConds(r.Unless, kwID)
		a := r.Then
		cr.team = a.Team
		switch {
		case a.Priority.Set != "":
			cr.prio.set = level(a.Priority.Set)
		case a.Priority.Raise != 0:
			cr.prio.delta = -a.Priority.Raise
		case a.Priority.Lower != 0:
			cr.prio.delta = a.Priority.Lower
		}
		cr.tags = lowerAll(a.AddTags)
		cr.highRisk = a.HighRisk
		cr.restricted = a.Sensitivity == SensitivityRestricted
		cr.assign = a.Assign
		if strings.Contains(cr.assign, "@") {
			cr.assign = strings.ToLower(cr.assign)
		}
		cr.watchers = lowerAll(a.AddWatchers)
		cr.slaPolicy = a.SLAPolicy
		cr.escalate = a.Escalate
		cr.notify = make([]string, len(a.Notify))
		for j, n := range a.Notify {
			if strings.Contains(n, "@") {
				n = strings.ToLower(n)
			}
			cr.notify[j] = n
		}
	}
	rs.nkw = len(kws)
	rs.match = newMatcher(kws)
	return rs, nil
}

func lowerAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strings.ToLower(v)
	}
	return out
}

// compileConds turns the set fields of c into conditions, in check order.
func compileConds(c Conditions, kwID func(string) int32) []cond {
	var out []cond
	if len(c.Category) > 0 {
		strs := make([]string, len(c.Category))
		for i, v := range c.Category {
			strs[i] = categoryPattern(v)
		}
		out = append(out, cond{kind: condCategory, strs: strs})
	}
	if len(c.Market) > 0 {
		out = append(out, cond{kind: condMarket, strs: c.Market})
	}
	if len(c.Language) > 0 {
		out = append(out, cond{kind: condLanguage, strs: lowerAll(c.Language)})
	}
	if len(c.Channel) > 0 {
		out = append(out, cond{kind: condChannel, strs: c.Channel})
	}
	if len(c.Team) > 0 {
		out = append(out, cond{kind: condTeam, strs: c.Team})
	}
	if len(c.SellerTier) > 0 {
		var m uint8
		for _, t := range c.SellerTier {
			m |= 1 << t
		}
		out = append(out, cond{kind: condSellerTier, mask: m})
	}
	if len(c.SellerRiskFlags) > 0 {
		out = append(out, cond{kind: condRiskFlags, strs: c.SellerRiskFlags})
	}
	if len(c.Requester) > 0 {
		out = append(out, cond{kind: condRequester, strs: lowerAll(c.Requester)})
	}
	if len(c.Tags) > 0 {
		out = append(out, cond{kind: condTags, strs: lowerAll(c.Tags)})
	}
	if len(c.Priority) > 0 {
		var m uint8
		for _, p := range c.Priority {
			m |= 1 << level(p)
		}
		out = append(out, cond{kind: condPriority, mask: m, strs: c.Priority})
	}
	if c.HighRisk.Set() {
		out = append(out, cond{kind: condHighRisk, want: c.HighRisk.Bool()})
	}
	if c.SafetyTerm.Set() {
		out = append(out, cond{kind: condSafetyTerm, want: c.SafetyTerm.Bool()})
	}
	if c.BusinessHours.Open.Set() {
		cal := c.BusinessHours.Calendar
		if cal == "" {
			cal = CalendarTeam
		}
		out = append(out, cond{kind: condBusinessHours, want: c.BusinessHours.Open.Bool(), cal: cal})
	}
	for _, kc := range []struct {
		kind condKind
		list []string
	}{{condKeywords, c.Keywords}, {condAllKeywords, c.AllKeywords}} {
		if len(kc.list) == 0 {
			continue
		}
		cd := cond{kind: kc.kind, texts: kc.list}
		for _, k := range kc.list {
			cd.kws = append(cd.kws, kwID(k))
		}
		out = append(out, cd)
	}
	return out
}

// level is a priority's number, 1 for P1 … 4 for P4; 0 if it is none.
func level(p string) int {
	if len(p) == 2 && p[0] == 'P' && p[1] >= '1' && p[1] <= '4' {
		return int(p[1] - '0')
	}
	return 0
}
