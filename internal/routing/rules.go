package routing

import (
	"encoding/json"
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Event is what caused an evaluation: a case being created or updated.
type Event string

// The events a rule can be limited to with `on:`.
const (
	EventCreate Event = "create"
	EventUpdate Event = "update"
)

// Rule is one routing rule as written in the desk document under
// `routing_rules:`. Rules are evaluated in order; a rule fires when every
// condition under When holds and no condition under Unless holds.
type Rule struct {
	Name string `yaml:"name" json:"name"` // required, unique; shown on the timeline
	// On limits the rule to some events; empty means both create and update.
	On []Event `yaml:"on,omitempty" json:"on,omitempty"`
	// When holds the conditions that must all hold; empty matches every case.
	When Conditions `yaml:"when,omitempty" json:"when,omitzero"`
	// Unless holds vetoes: the rule does not fire when ANY condition listed
	// here holds (so `unless: {tags: [test], market: [US]}` reads "unless
	// tagged test or in the US"). This is how "not" is written.
	Unless Conditions `yaml:"unless,omitempty" json:"unless,omitzero"`
	Then   Actions    `yaml:"then,omitempty" json:"then,omitzero"`
	// Stop ends the evaluation after this rule when it fires.
	Stop bool `yaml:"stop,omitempty" json:"stop,omitempty"`
}

// Conditions are tests on a case. Each non-empty field is one condition;
// within a list any value matches. Conditions see the case as changed by the
// rules fired before (a tag, team, priority or high-risk flag they set).
//
// They are checked in the order of the fields below, the text conditions
// last because they are the dearest; Explain reports the first that fails.
type Conditions struct {
	// Category is a category key ("logistics/lost_parcel", exact) or a group
	// ("logistics" or "logistics/", every category in it).
	Category []string `yaml:"category,omitempty" json:"category,omitempty"`
	Market   []string `yaml:"market,omitempty" json:"market,omitempty"` // market codes, "GB"
	// Language is a BCP 47 tag, compared case-insensitively; "de" also
	// matches "de-AT", "de-AT" only itself.
	Language []string `yaml:"language,omitempty" json:"language,omitempty"`
	Channel  []string `yaml:"channel,omitempty" json:"channel,omitempty"` // intake channels
	Team     []string `yaml:"team,omitempty" json:"team,omitempty"`       // the owning team (as earlier rules left it)
	// SellerTier is 1..4; a case without a seller never matches.
	SellerTier      []int    `yaml:"seller_tier,omitempty" json:"seller_tier,omitempty"`
	SellerRiskFlags []string `yaml:"seller_risk_flags,omitempty" json:"seller_risk_flags,omitempty"`
	// Requester is a full email address or "@domain" (that exact domain).
	Requester []string `yaml:"requester,omitempty" json:"requester,omitempty"`
	Tags      []string `yaml:"tags,omitempty" json:"tags,omitempty"`
	Priority  []string `yaml:"priority,omitempty" json:"priority,omitempty"` // "P1".."P4"
	HighRisk  OptBool  `yaml:"high_risk,omitempty" json:"high_risk,omitempty"`
	// SafetyTerm holds when the safety watch found (or, false, did not
	// find) one of its terms in the case's text.
	SafetyTerm OptBool `yaml:"safety_term,omitempty" json:"safety_term,omitempty"`
	// BusinessHours holds when the calendar is open (or closed) at the
	// evaluation's instant.
	BusinessHours BusinessHours `yaml:"business_hours,omitempty" json:"business_hours,omitzero"`
	// Keywords holds when any of these words or phrases is in the title or
	// description; AllKeywords when every one is. See the package doc for
	// how text is matched.
	Keywords    []string `yaml:"keywords,omitempty" json:"keywords,omitempty"`
	AllKeywords []string `yaml:"all_keywords,omitempty" json:"all_keywords,omitempty"`
}

// IsZero reports whether no condition is set (so JSON omitzero and YAML
// omitempty leave it out).
func (c Conditions) IsZero() bool {
	return len(c.Category) == 0 && len(c.Market) == 0 && len(c.Language) == 0 && len(c.Channel) == 0 &&
		len(c.Team) == 0 && len(c.SellerTier) == 0 && len(c.SellerRiskFlags) == 0 && len(c.Requester) == 0 &&
		len(c.Tags) == 0 && len(c.Priority) == 0 && c.HighRisk == "" && c.SafetyTerm == "" && c.BusinessHours.IsZero() &&
		len(c.Keywords) == 0 && len(c.AllKeywords) == 0
}

// BusinessHours is the condition "the calendar is open (or closed) now".
// It is set when Open is; Calendar is a calendar key, "team" (the owning
// team's calendar; the default) or "market" (the calendar keyed by the
// case's market code, as SLA policies read it). A case whose calendar is
// unknown counts as always open, as its SLA clocks do.
type BusinessHours struct {
	Calendar string  `yaml:"calendar,omitempty" json:"calendar,omitempty"`
	Open     OptBool `yaml:"open,omitempty" json:"open,omitempty"`
}

// IsZero reports whether the condition is unset.
func (b BusinessHours) IsZero() bool { return b.Calendar == "" && b.Open == "" }

// The calendar names BusinessHours.Calendar resolves from the case.
const (
	CalendarTeam   = "team"
	CalendarMarket = "market"
)

// Actions are what a fired rule does. Single values (team, assign,
// sla_policy, escalate) are overwritten by later rules; lists accumulate.
type Actions struct {
	Team     string         `yaml:"team,omitempty" json:"team,omitempty"` // a team key
	Priority PriorityAction `yaml:"priority,omitempty" json:"priority,omitzero"`
	AddTags  []string       `yaml:"add_tags,omitempty" json:"add_tags,omitempty"`
	// HighRisk flags the case high risk (a rule never clears the flag).
	HighRisk bool `yaml:"high_risk,omitempty" json:"high_risk,omitempty"`
	// Sensitivity can only be "restricted" (a rule never lowers it).
	Sensitivity string `yaml:"sensitivity,omitempty" json:"sensitivity,omitempty"`
	// Assign is "round_robin", "least_loaded" (within the team) or a user's
	// email; the caller carries it out.
	Assign      string   `yaml:"assign,omitempty" json:"assign,omitempty"`
	AddWatchers []string `yaml:"add_watchers,omitempty" json:"add_watchers,omitempty"` // user emails
	SLAPolicy   string   `yaml:"sla_policy,omitempty" json:"sla_policy,omitempty"`     // an SLA policy name
	Escalate    string   `yaml:"escalate,omitempty" json:"escalate,omitempty"`         // an escalation policy name to start
	// Notify lists user emails, team keys, "owner" (the case owner) or
	// "team" (the owning team); the caller sends the notifications.
	Notify []string `yaml:"notify,omitempty" json:"notify,omitempty"`
}

// IsZero reports whether the rule does nothing.
func (a Actions) IsZero() bool {
	return a.Team == "" && a.Priority.IsZero() && len(a.AddTags) == 0 && !a.HighRisk && a.Sensitivity == "" &&
		a.Assign == "" && len(a.AddWatchers) == 0 && a.SLAPolicy == "" && a.Escalate == "" && len(a.Notify) == 0
}

// PriorityAction sets the priority (Set: "P1".."P4") or moves it Raise
// levels up (towards P1) or Lower levels down, clamped to P1..P4. Exactly
// one of the three is given.
type PriorityAction struct {
	Set   string `yaml:"set,omitempty" json:"set,omitempty"`
	Raise int    `yaml:"raise,omitempty" json:"raise,omitempty"`
	Lower int    `yaml:"lower,omitempty" json:"lower,omitempty"`
}

// IsZero reports whether no priority change is asked for.
func (p PriorityAction) IsZero() bool { return p.Set == "" && p.Raise == 0 && p.Lower == 0 }

// The assignment strategies; anything else in Actions.Assign is an email.
const (
	AssignRoundRobin  = "round_robin"
	AssignLeastLoaded = "least_loaded"
)

// Notify targets that name a role rather than a user or team.
const (
	NotifyOwner = "owner"
	NotifyTeam  = "team"
)

// SensitivityRestricted is the only sensitivity a rule can set.
const SensitivityRestricted = "restricted"

// OptBool is a yes/no condition that may be absent: "" (not a condition),
// "true" or "false". It is a string so that the desk's strict decoder,
// which has no pointers, can tell "absent" from "false"; in YAML and JSON it
// is written as a plain boolean.
type OptBool string

// The OptBool values.
const (
	Unset OptBool = ""
	True  OptBool = "true"
	False OptBool = "false"
)

// Set reports whether the condition is given.
func (b OptBool) Set() bool { return b != "" }

// Bool is the condition's value (false when unset).
func (b OptBool) Bool() bool { return b == True }

func (b OptBool) valid() bool { return b == Unset || b == True || b == False }

// MarshalJSON writes true or false (an invalid value as its string, so that
// nothing is lost).
func (b OptBool) MarshalJSON() ([]byte, error) {
	if b == True || b == False {
		return []byte(b), nil
	}
	return json.Marshal(string(b))
}

// UnmarshalJSON reads a boolean or its string form.
func (b *OptBool) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("optional boolean: %w", err)
	}
	switch v := v.(type) {
	case bool:
		*b = OptBool(strconv.FormatBool(v))
	case string:
		*b = OptBool(v)
	case nil:
		*b = Unset
	default:
		return fmt.Errorf("optional boolean: want true or false, got %s", data)
	}
	return nil
}

// MarshalYAML writes a plain boolean.
func (b OptBool) MarshalYAML() (any, error) {
	switch b {
	case True:
		return true, nil
	case False:
		return false, nil
	}
	return string(b), nil
}

// UnmarshalYAML reads a boolean (any other scalar is kept as text, for
// Validate to report with its path).
func (b *OptBool) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want true or false", n.Line)
	}
	var v bool
	if n.ShortTag() == "!!bool" && n.Decode(&v) == nil {
		*b = OptBool(strconv.FormatBool(v))
		return nil
	}
	*b = OptBool(n.Value)
	return nil
}
