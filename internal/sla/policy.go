package sla

// SLA policies: which targets apply to a case. This file is plain data and
// pure functions; clock.go turns a policy and a case's history into clocks.
//
// Policies are written in the desk document under `sla_policies:`, in
// order; the first whose match fits the case wins:
//
//	sla_policies:
//	  - name: P1 emergencies
//	    match: {priorities: [P1]}
//	    calendar: emergency            # a calendar key; "team" (default) or "market"
//	    targets:
//	      first_response: {within: 30m}
//	      next_response:  {within: 1h}
//	      resolution:     {within: 8h, time: calendar}
//	  - name: Tier-1 sellers, logistics
//	    match: {categories: ["logistics/"], tiers: [1]}
//	    warn_at: 0.5
//	    pause:
//	      resolution: [pending_requester, pending_internal]
//	    targets:
//	      first_response: {within: 4h}
//	      resolution:     {within: 2d}
//	  - name: Everything else          # no match: fits every case
//	    targets:
//	      first_response: {within: 8h}
//	      resolution:     {within: 5d}

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
)

// Metric is one of the things an SLA measures.
type Metric string

const (
	// FirstResponse runs from the case's creation to the desk's first
	// public reply.
	FirstResponse Metric = "first_response"
	// NextResponse runs from a requester message to the desk's next public
	// reply.
	NextResponse Metric = "next_response"
	// Resolution runs over every period the case is open, until it is
	// resolved.
	Resolution Metric = "resolution"
)

// Metrics lists every metric, in the order clocks are shown.
var Metrics = []Metric{FirstResponse, NextResponse, Resolution}

// Valid reports whether m is a known metric.
func (m Metric) Valid() bool { return slices.Contains(Metrics, m) }

// The case vocabulary a policy may name. These mirror the cases package
// (which imports the desk, which imports this package, so they cannot be
// imported from there); a test in cases should keep them equal.
var (
	// CaseStatuses are the case statuses, in life order.
	CaseStatuses = []string{"new", "open", "pending_internal", "pending_requester", "resolved", "closed"}
	// CaseChannels are the intake channels.
	CaseChannels = []string{"api", "email", "web_form", "social", "leadership", "external", "alert", "phone", "internal"}
	// CasePriorities are the priorities, most urgent first.
	CasePriorities = []string{"P1", "P2", "P3", "P4"}
)

// Seller tiers run from 1 (most important) to MaxTier.
const MaxTier = 4

// DefaultWarnAt is the fraction of the target after which a clock warns
// when the policy does not say.
const DefaultWarnAt = 0.75

// stopped reports whether a case in this status is finished: no clock
// counts while a case is resolved or closed.
func stopped(status string) bool { return status == "resolved" || status == "closed" }

// PolicySpec is one SLA policy as written in the desk document.
type PolicySpec struct {
	Name  string      `yaml:"name" json:"name"`
	Match PolicyMatch `yaml:"match,omitempty" json:"match,omitzero"` // empty: matches every case
	// Targets per metric. A metric without a target has no clock; a policy
	// with no targets at all exempts the cases it matches.
	Targets map[Metric]Target `yaml:"targets" json:"targets"`
	// Calendar the business-time targets are counted in: "team" (or empty:
	// the owning team's calendar), "market" (the case's market's calendar),
	// or a calendar key. See CalendarKey.
	Calendar string `yaml:"calendar,omitempty" json:"calendar,omitempty"`
	// WarnAt is the fraction of the target after which the clock warns, in
	// (0, 1); 0 means DefaultWarnAt.
	WarnAt float64 `yaml:"warn_at,omitempty" json:"warn_at,omitempty"`
	// Pause lists, per metric, the statuses in which that metric's clock
	// does not count. A metric missing from the map gets its default
	// (resolution: [pending_requester]; the response metrics: none); a
	// metric listed with an empty list is never paused. Resolved and closed
	// are not pause statuses: they stop the clocks (see clock.go).
	Pause map[Metric][]string `yaml:"pause,omitempty" json:"pause,omitempty"`
}

// PolicyMatch says which cases a policy is for. Every non-empty list must
// contain the case's value (lists are ANDed, entries within a list ORed); an
// empty list matches anything.
type PolicyMatch struct {
	Priorities []string `yaml:"priorities,omitempty" json:"priorities,omitempty"` // "P1".."P4"
	// Categories are exact category keys ("logistics/lost_parcel") or, ending
	// in "/", a whole group ("logistics/").
	Categories []string `yaml:"categories,omitempty" json:"categories,omitempty"`
	Markets    []string `yaml:"markets,omitempty" json:"markets,omitempty"`   // market codes, "GB"
	Tiers      []int    `yaml:"tiers,omitempty" json:"tiers,omitempty"`       // seller tiers 1..4; a case with no known tier does not match a tier list
	Channels   []string `yaml:"channels,omitempty" json:"channels,omitempty"` // intake channels
}

// Target is one metric's target.
type Target struct {
	// Within is the target duration: one or more <integer><unit> with units
	// d, h, m ("4h", "30m", "1h30m", "2d"). A day is 24 hours of the clock's
	// own time: "2d" in business time is 48 business hours, not two
	// business days.
	Within string `yaml:"within" json:"within"`
	// Time is "business" (the default: counted in the policy's calendar)
	// or "calendar" (plain elapsed time, every hour counts).
	Time string `yaml:"time,omitempty" json:"time,omitempty"`
}

// Target.Time values.
const (
	BusinessTime = "business"
	CalendarTime = "calendar"
)

// Business reports whether the target counts business time.
func (t Target) Business() bool { return t.Time != CalendarTime }

// Duration parses Within (see ParseDuration): a whole number of minutes,
// longer than zero and at most MaxDuration (ten years).
func (t Target) Duration() (time.Duration, error) {
	d, err := ParseDuration(t.Within)
	switch {
	case err != nil:
		return 0, err
	case d <= 0:
		return 0, fmt.Errorf("%q must be longer than zero", t.Within)
	case d%time.Minute != 0:
		return 0, fmt.Errorf("%q must be whole minutes", t.Within)
	}
	return d, nil
}

// Validate checks the target; problems are reported at "within" and
// "time" (relative to the target).
func (t Target) Validate() []apperr.FieldError {
	var errs []apperr.FieldError
	if _, err := t.Duration(); err != nil {
		errs = append(errs, apperr.FieldError{Field: "within", Message: err.Error()})
	}
	switch t.Time {
	case "", BusinessTime, CalendarTime:
	default:
		errs = append(errs, apperr.FieldError{Field: "time", Message: fmt.Sprintf("%q must be %q or %q", t.Time, BusinessTime, CalendarTime)})
	}
	return errs
}

// Calendar references other than a key.
const (
	CalendarTeam   = "team"
	CalendarMarket = "market"
)

// CalendarKey resolves the policy's calendar for a case: the owning team's
// calendar key for "team" (or empty), the case market's calendar key for
// "market", otherwise the named key itself.
func (p PolicySpec) CalendarKey(teamCalendar, marketCalendar string) string {
	switch p.Calendar {
	case "", CalendarTeam:
		return teamCalendar
	case CalendarMarket:
		return marketCalendar
	}
	return p.Calendar
}

// WarnFraction is WarnAt, or DefaultWarnAt when it is not set.
func (p PolicySpec) WarnFraction() float64 {
	if p.WarnAt == 0 {
		return DefaultWarnAt
	}
	return p.WarnAt
}

// PauseStatuses returns the statuses that pause metric m's clock (see
// PolicySpec.Pause for the defaults).
func (p PolicySpec) PauseStatuses(m Metric) []string {
	if s, ok := p.Pause[m]; ok {
		return s
	}
	if m == Resolution {
		return []string{"pending_requester"}
	}
	return nil
}

var (
	reMarket   = regexp.MustCompile(`^[A-Z]{2}$`)
	reCategory = regexp.MustCompile(`^[a-z][a-z0-9_]*/([a-z][a-z0-9_]*)?$`)
)

// Validate reports every problem in the policy, with paths relative to the
// policy ("name", "match.priorities[0]", "targets.resolution.within",
// "pause.resolution[1]"); the desk prefixes them with "sla_policies[i].".
// knownCalendar says whether a calendar key exists; nil skips that check.
func (p PolicySpec) Validate(knownCalendar func(string) bool) []apperr.FieldError {
	var errs []apperr.FieldError
	add := func(path, format string, a ...any) {
		errs = append(errs, apperr.FieldError{Field: path, Message: fmt.Sprintf(format, a...)})
	}
	if strings.TrimSpace(p.Name) == "" {
		add("name", "is required")
	}

	for i, v := range p.Match.Priorities {
		if !slices.Contains(CasePriorities, v) {
			add(fmt.Sprintf("match.priorities[%d]", i), "%q is not a priority (one of %s)", v, strings.Join(CasePriorities, ", "))
		}
	}
	for i, v := range p.Match.Categories {
		if !reCategory.MatchString(v) {
			add(fmt.Sprintf("match.categories[%d]", i), "%q is not a category key like \"logistics/lost_parcel\" or a group like \"logistics/\"", v)
		}
	}
	for i, v := range p.Match.Markets {
		if !reMarket.MatchString(v) {
			add(fmt.Sprintf("match.markets[%d]", i), "%q is not a market code like \"GB\"", v)
		}
	}
	for i, v := range p.Match.Tiers {
		if v < 1 || v > MaxTier {
			add(fmt.Sprintf("match.tiers[%d]", i), "must be a seller tier 1 to %d, not %d", MaxTier, v)
		}
	}
	for i, v := range p.Match.Channels {
		if !slices.Contains(CaseChannels, v) {
			add(fmt.Sprintf("match.channels[%d]", i), "%q is not a channel (one of %s)", v, strings.Join(CaseChannels, ", "))
		}
	}

	metricNames := func() string {
		s := make([]string, len(Metrics))
		for i, m := range Metrics {
			s[i] = string(m)
		}
		return strings.Join(s, ", ")
	}
	for _, m := range sortedKeys(p.Targets) {
		path := "targets." + string(m)
		if !m.Valid() {
			add(path, "unknown metric (one of %s)", metricNames())
			continue
		}
		for _, e := range p.Targets[m].Validate() {
			errs = append(errs, apperr.FieldError{Field: path + "." + e.Field, Message: e.Message})
		}
	}

	switch c := p.Calendar; {
	case c == "" || c == CalendarTeam || c == CalendarMarket:
	case knownCalendar != nil && !knownCalendar(c):
		add("calendar", "%q is not a calendar key (or use %q or %q)", c, CalendarTeam, CalendarMarket)
	}

	if w := p.WarnAt; w != 0 && !(w > 0 && w < 1) { // also rejects NaN
		add("warn_at", "must be a fraction between 0 and 1 (e.g. 0.75), not %v", w)
	}

	for _, m := range sortedKeys(p.Pause) {
		path := "pause." + string(m)
		if !m.Valid() {
			add(path, "unknown metric (one of %s)", metricNames())
			continue
		}
		for i, s := range p.Pause[m] {
			switch {
			case stopped(s):
				add(fmt.Sprintf("%s[%d]", path, i), "%q stops the clocks; it cannot pause them", s)
			case !slices.Contains(CaseStatuses, s):
				add(fmt.Sprintf("%s[%d]", path, i), "%q is not a status (one of %s)", s, strings.Join(CaseStatuses, ", "))
			}
		}
	}
	return errs
}

func sortedKeys[V any](m map[Metric]V) []Metric {
	keys := make([]Metric, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// CaseFacts are what policies match on.
type CaseFacts struct {
	Priority, Category, Market, Channel string
	SellerTier                          int // 0: unknown (no seller, or no tier)
}

// Matches reports whether a case with these facts fits the match.
func (m PolicyMatch) Matches(f CaseFacts) bool {
	if len(m.Priorities) > 0 && !slices.Contains(m.Priorities, f.Priority) {
		return false
	}
	if len(m.Categories) > 0 && !slices.ContainsFunc(m.Categories, func(c string) bool {
		if strings.HasSuffix(c, "/") {
			return strings.HasPrefix(f.Category, c)
		}
		return c == f.Category
	}) {
		return false
	}
	if len(m.Markets) > 0 && !slices.Contains(m.Markets, f.Market) {
		return false
	}
	if len(m.Tiers) > 0 && (f.SellerTier == 0 || !slices.Contains(m.Tiers, f.SellerTier)) {
		return false
	}
	if len(m.Channels) > 0 && !slices.Contains(m.Channels, f.Channel) {
		return false
	}
	return true
}

// SelectPolicy returns the index of the first policy whose match fits the
// case, or false when none does (the case then has no SLA clocks). The
// engine calls it again when a case's priority or category (or any other
// fact) changes and re-evaluates the clocks from the case's start with the
// newly selected policy.
func SelectPolicy(policies []PolicySpec, f CaseFacts) (int, bool) {
	for i, p := range policies {
		if p.Match.Matches(f) {
			return i, true
		}
	}
	return -1, false
}

// warnThreshold is the elapsed time at which a clock with this target warns.
func warnThreshold(target time.Duration, frac float64) time.Duration {
	return time.Duration(math.Round(frac * float64(target)))
}
