package routing

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/flare-desk/flare/internal/sla"
)

// Weights say how many points each factor adds to a case's priority score
// and where the score is cut into P1–P4. They are written in the desk
// document under `priority:`.
//
// Everything is optional and falls back to DefaultWeights, so a desk only
// writes what it changes:
//   - maps (category_severity, seller_tier, channel, sla_pressure,
//     thresholds) merge key by key: `channel: {phone: 10}` adds phone and
//     keeps leadership, external and social at their defaults; a key
//     written as 0 is 0.
//   - lists (money_at_stake, safety_categories) replace the default list
//     when given;
//   - numbers (high_risk, safety, and each/max of repeat_contacts and
//     reopens) use the default when 0 or omitted.
//
// To switch a factor off entirely, list it under `off`.
type Weights struct {
	// CategorySeverity: points by severity "1".."4".
	CategorySeverity map[string]int `yaml:"category_severity,omitempty" json:"category_severity,omitempty"`
	// SellerTier: points by tier "1".."4"; a case without a seller gets none.
	SellerTier map[string]int `yaml:"seller_tier,omitempty" json:"seller_tier,omitempty"`
	// Channel: points by intake channel; channels not listed get none.
	Channel map[string]int `yaml:"channel,omitempty" json:"channel,omitempty"`
	// MoneyAtStake: ascending thresholds; the highest one reached gives
	// its points. Amounts are compared in the case's own currency, without
	// conversion: a desk spanning currencies sets thresholds that are
	// sensible for all of them (or accepts the difference).
	MoneyAtStake []MoneyStep `yaml:"money_at_stake,omitempty" json:"money_at_stake,omitempty"`
	// MoneyFields names the custom fields the caller reads the money at
	// stake from (the largest present value counts); empty means every
	// money field of the case's category.
	MoneyFields []string `yaml:"money_fields,omitempty" json:"money_fields,omitempty"`
	HighRisk    int      `yaml:"high_risk,omitempty" json:"high_risk,omitempty"` // when the case is flagged high risk
	// Safety: points for a safety signal, which is a category in
	// SafetyCategories or a seller risk flag in SafetyFlags (counted once).
	Safety           int      `yaml:"safety,omitempty" json:"safety,omitempty"`
	SafetyCategories []string `yaml:"safety_categories,omitempty" json:"safety_categories,omitempty"` // keys or groups, as in rule conditions
	SafetyFlags      []string `yaml:"safety_flags,omitempty" json:"safety_flags,omitempty"`
	// SafetyTerm: points when the safety watch finds one of its terms in
	// the title or description (Facts.SafetyTerm).
	SafetyTerm     int      `yaml:"safety_term,omitempty" json:"safety_term,omitempty"`
	RepeatContacts PerCount `yaml:"repeat_contacts,omitempty" json:"repeat_contacts,omitzero"` // per earlier contact about the same seller and category
	Reopens        PerCount `yaml:"reopens,omitempty" json:"reopens,omitzero"`                 // per reopen
	// SLAPressure: points by the most pressing clock's state, "warning"
	// (past its warning threshold) or "breached".
	SLAPressure map[string]int `yaml:"sla_pressure,omitempty" json:"sla_pressure,omitempty"`
	// Thresholds: the least score for "P1", "P2" and "P3"; below P3 is P4.
	Thresholds map[string]int `yaml:"thresholds,omitempty" json:"thresholds,omitempty"`
	// Off lists factors (by their reason name, e.g. "channel") that add no
	// points at all.
	Off []string `yaml:"off,omitempty" json:"off,omitempty"`
}

// MoneyStep is one money-at-stake threshold.
type MoneyStep struct {
	AtLeast float64 `yaml:"at_least" json:"at_least"` // in major units (12500.50 is EUR 12,500.50)
	Points  int     `yaml:"points" json:"points"`
}

// PerCount gives Each points per occurrence, at most Max in all.
type PerCount struct {
	Each int `yaml:"each,omitempty" json:"each,omitempty"`
	Max  int `yaml:"max,omitempty" json:"max,omitempty"`
}

// The factors of a score, as Reason.Factor names them. Off takes the same
// names.
const (
	FactorSeverity       = "category_severity"
	FactorSellerTier     = "seller_tier"
	FactorMoney          = "money_at_stake"
	FactorChannel        = "channel"
	FactorHighRisk       = "high_risk"
	FactorSafety         = "safety"
	FactorSafetyTerm     = "safety_term"
	FactorRepeatContacts = "repeat_contacts"
	FactorReopens        = "reopens"
	FactorSLAPressure    = "sla_pressure"
	// FactorRoutingRule is not a score factor: Assess adds it to the
	// reasons when a routing rule moved the priority (with 0 points).
	FactorRoutingRule = "routing_rule"
)

// Factors lists the score factors in the order reasons are given.
var Factors = []string{FactorSeverity, FactorSellerTier, FactorMoney, FactorChannel, FactorHighRisk,
	FactorSafety, FactorSafetyTerm, FactorRepeatContacts, FactorReopens, FactorSLAPressure}

// Channels are the intake channels and Priorities the priorities, most
// urgent first: the case vocabulary as the sla package mirrors it.
var (
	Channels   = sla.CaseChannels
	Priorities = sla.CasePriorities
)

// DefaultSeverity is the severity of a category that gives none.
const DefaultSeverity = 3

// DefaultWeights returns the baseline weights: the factors and cuts Flare
// used before weights were configurable (severity, tier, channel, high
// risk; P1 ≥ 70, P2 ≥ 45, P3 ≥ 20), plus the newer factors. Each call
// returns fresh maps.
func DefaultWeights() Weights {
	return Weights{
		CategorySeverity: map[string]int{"1": 40, "2": 25, "3": 10, "4": 0},
		SellerTier:       map[string]int{"1": 25, "2": 15, "3": 5, "4": 0},
		Channel:          map[string]int{"leadership": 20, "external": 20, "social": 15},
		MoneyAtStake:     []MoneyStep{{AtLeast: 1000, Points: 10}, {AtLeast: 10000, Points: 20}},
		HighRisk:         30,
		Safety:           30,
		SafetyTerm:       30,
		SafetyCategories: []string{"safety"},
		RepeatContacts:   PerCount{Each: 5, Max: 15},
		Reopens:          PerCount{Each: 5, Max: 15},
		SLAPressure:      map[string]int{SLAWarning: 10, SLABreached: 20},
		Thresholds:       map[string]int{"P1": 70, "P2": 45, "P3": 20},
	}
}

// defaultPoints is DefaultWeights' map entries, without building the maps.
func defaultPoints(section, key string) int {
	switch section + "." + key {
	case "category_severity.1":
		return 40
	case "category_severity.2":
		return 25
	case "category_severity.3":
		return 10
	case "seller_tier.1":
		return 25
	case "seller_tier.2":
		return 15
	case "seller_tier.3":
		return 5
	case "channel.leadership", "channel.external":
		return 20
	case "channel.social":
		return 15
	case "sla_pressure.warning":
		return 10
	case "sla_pressure.breached":
		return 20
	case "thresholds.P1":
		return 70
	case "thresholds.P2":
		return 45
	case "thresholds.P3":
		return 20
	}
	return 0
}

func pick(m map[string]int, section, key string) int {
	if v, ok := m[key]; ok {
		return v
	}
	return defaultPoints(section, key)
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// Effective returns w with every default filled in: what Score actually
// uses. Useful to show a desk its full weights.
func (w Weights) Effective() Weights {
	d := DefaultWeights()
	for _, m := range []struct{ dst, src map[string]int }{
		{d.CategorySeverity, w.CategorySeverity}, {d.SellerTier, w.SellerTier}, {d.Channel, w.Channel},
		{d.SLAPressure, w.SLAPressure}, {d.Thresholds, w.Thresholds},
	} {
		for k, v := range m.src {
			m.dst[k] = v
		}
	}
	if len(w.MoneyAtStake) > 0 {
		d.MoneyAtStake = slices.Clone(w.MoneyAtStake)
	}
	if len(w.SafetyCategories) > 0 {
		d.SafetyCategories = slices.Clone(w.SafetyCategories)
	}
	d.MoneyFields = slices.Clone(w.MoneyFields)
	d.SafetyFlags = slices.Clone(w.SafetyFlags)
	d.HighRisk = orDefault(w.HighRisk, d.HighRisk)
	d.Safety = orDefault(w.Safety, d.Safety)
	d.SafetyTerm = orDefault(w.SafetyTerm, d.SafetyTerm)
	d.RepeatContacts = PerCount{orDefault(w.RepeatContacts.Each, d.RepeatContacts.Each), orDefault(w.RepeatContacts.Max, d.RepeatContacts.Max)}
	d.Reopens = PerCount{orDefault(w.Reopens.Each, d.Reopens.Each), orDefault(w.Reopens.Max, d.Reopens.Max)}
	d.Off = slices.Clone(w.Off)
	return d
}

// Reason is one factor behind a case's priority.
type Reason struct {
	Factor string `json:"factor"`
	Detail string `json:"detail"` // a short sentence: "tier 1 seller"
	Points int    `json:"points"`
}

// levels are the map keys for severities and tiers 1..4.
var levels = [...]string{"0", "1", "2", "3", "4"}

// Score computes a case's priority from its facts: the points of every
// factor, summed and cut by the thresholds. Reasons list the factors that
// added (or, with negative weights, took away) points, in Factors order.
// It ignores Facts.Priority and PriorityOverridden: the override is the
// caller's to keep.
func Score(w Weights, f Facts) (priority string, reasons []Reason, total int) {
	reasons = make([]Reason, 0, 4)
	add := func(factor string, pts int, detail func() string) {
		if pts != 0 && !slices.Contains(w.Off, factor) {
			reasons = append(reasons, Reason{Factor: factor, Detail: detail(), Points: pts})
			total += pts
		}
	}

	sev := f.CategorySeverity
	if sev < 1 || sev > 4 {
		sev = DefaultSeverity
	}
	add(FactorSeverity, pick(w.CategorySeverity, FactorSeverity, levels[sev]), func() string {
		return fmt.Sprintf("%s is severity %d", orText(f.Category, "the category"), sev)
	})
	if f.SellerTier >= 1 && f.SellerTier <= 4 {
		add(FactorSellerTier, pick(w.SellerTier, FactorSellerTier, levels[f.SellerTier]), func() string {
			return fmt.Sprintf("tier %d seller", f.SellerTier)
		})
	}
	if step, ok := moneyStep(w, f.MoneyAtStake); ok {
		add(FactorMoney, step.Points, func() string {
			return fmt.Sprintf("%s at stake (at least %s)", money(f.Currency, f.MoneyAtStake), amount(step.AtLeast))
		})
	}
	if f.Channel != "" {
		add(FactorChannel, pick(w.Channel, FactorChannel, f.Channel), func() string {
			return "raised through " + f.Channel
		})
	}
	if f.HighRisk {
		add(FactorHighRisk, orDefault(w.HighRisk, 30), func() string { return "flagged high risk" })
	}
	if signal := safetySignal(w, f); signal != "" {
		add(FactorSafety, orDefault(w.Safety, 30), func() string { return signal })
	}
	if t := f.SafetyTerm; t != nil {
		add(FactorSafetyTerm, orDefault(w.SafetyTerm, 30), func() string { return "safety term " + t.String() })
	}
	if n := f.RepeatContacts + f.LinkedRepeats; n > 0 {
		add(FactorRepeatContacts, perCount(w.RepeatContacts, n), func() string { return repeatDetail(f) })
	}
	if n := f.Reopens; n > 0 {
		add(FactorReopens, perCount(w.Reopens, n), func() string {
			if n == 1 {
				return "reopened once"
			}
			return fmt.Sprintf("reopened %d times", n)
		})
	}
	switch f.SLAState {
	case SLAWarning:
		add(FactorSLAPressure, pick(w.SLAPressure, FactorSLAPressure, SLAWarning), func() string {
			return "an SLA clock is past its warning threshold"
		})
	case SLABreached:
		add(FactorSLAPressure, pick(w.SLAPressure, FactorSLAPressure, SLABreached), func() string {
			return "an SLA clock has breached"
		})
	}
	return w.priorityFor(total), reasons, total
}

// priorityFor cuts a score into P1–P4.
func (w Weights) priorityFor(score int) string {
	switch {
	case score >= pick(w.Thresholds, "thresholds", "P1"):
		return "P1"
	case score >= pick(w.Thresholds, "thresholds", "P2"):
		return "P2"
	case score >= pick(w.Thresholds, "thresholds", "P3"):
		return "P3"
	}
	return "P4"
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// moneyStep is the highest threshold the amount reaches.
func moneyStep(w Weights, amt float64) (MoneyStep, bool) {
	steps := w.MoneyAtStake
	if len(steps) == 0 {
		steps = []MoneyStep{{AtLeast: 1000, Points: 10}, {AtLeast: 10000, Points: 20}}
	}
	var best MoneyStep
	found := false
	for _, s := range steps {
		if amt >= s.AtLeast && (!found || s.AtLeast >= best.AtLeast) {
			best, found = s, true
		}
	}
	return best, found && amt > 0
}

func perCount(p PerCount, n int) int {
	each, limit := orDefault(p.Each, 5), orDefault(p.Max, 15)
	if n > limit { // guards the product against overflow
		n = limit
	}
	return min(each*n, limit)
}

// safetySignal describes the case's safety signal, or returns "".
func safetySignal(w Weights, f Facts) string {
	cats := w.SafetyCategories
	if len(cats) == 0 {
		cats = []string{"safety"}
	}
	for _, c := range cats {
		if categoryMatches(categoryPattern(c), f.Category) {
			return "safety category " + f.Category
		}
	}
	for _, flag := range f.SellerRiskFlags {
		if slices.Contains(w.SafetyFlags, flag) {
			return "seller flagged " + flag
		}
	}
	return ""
}

// categoryPattern turns a condition entry into what categoryMatches takes:
// a group ("logistics" or "logistics/") becomes "logistics/", a key stays.
func categoryPattern(s string) string {
	if !strings.Contains(s, "/") {
		return s + "/"
	}
	return s
}

// categoryMatches reports whether cat is the key p, or in the group p
// (ending in "/").
func categoryMatches(p, cat string) bool {
	if strings.HasSuffix(p, "/") {
		return strings.HasPrefix(cat, p)
	}
	return p == cat
}

// money formats an amount for a reason: "EUR 12,500" or "EUR 12,500.50".
func money(currency string, v float64) string {
	if currency == "" {
		return amount(v)
	}
	return currency + " " + amount(v)
}

func amount(v float64) string {
	neg := v < 0
	v = math.Abs(v)
	s := strconv.FormatFloat(v, 'f', 2, 64)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "00" {
		b.WriteString("." + frac)
	}
	return b.String()
}

// repeatDetail says which repeat contacts raised the priority.
func repeatDetail(f Facts) string {
	plural := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %s", n, many)
	}
	earlier := plural(f.RepeatContacts, "earlier contact about this seller and category",
		"earlier contacts about this seller and category")
	switch linked := plural(f.LinkedRepeats, "repeat contact linked to this case", "repeat contacts linked to this case"); {
	case f.LinkedRepeats == 0:
		return earlier
	case f.RepeatContacts == 0:
		return linked
	default:
		return linked + " and " + earlier
	}
}
