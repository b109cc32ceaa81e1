package routing

import (
	"time"

	"github.com/flare-desk/flare/internal/sla"
)

// Facts is everything a routing rule or the priority score reads about a
// case. The caller fills it from the case, its seller and the desk; the
// package only reads it. It marshals to JSON without the text and the
// calendar look-ups, so that a store can keep what an assessment read and
// explain it later from the same facts.
type Facts struct {
	Category         string `json:"category"`          // "logistics/lost_parcel"
	CategorySeverity int    `json:"category_severity"` // 1 (most severe) .. 4; 0 means the desk default, 3
	Market           string `json:"market"`            // "GB"
	Language         string `json:"language"`          // BCP 47, "de-AT"
	Channel          string `json:"channel"`           // intake channel, "email"
	Team             string `json:"team"`              // owning team key

	SellerID        string   `json:"seller_id,omitempty"`
	SellerTier      int      `json:"seller_tier,omitempty"` // 1..4; 0: no seller (or no tier)
	SellerRiskFlags []string `json:"seller_risk_flags,omitempty"`

	RequesterEmail string   `json:"requester_email,omitempty"`
	Tags           []string `json:"tags"`
	Priority       string   `json:"priority,omitempty"` // current priority, "P1".."P4"
	// PriorityOverridden is set when a person chose the priority: rules'
	// priority actions are then not applied (Explain still shows them).
	PriorityOverridden bool   `json:"priority_overridden,omitempty"`
	HighRisk           bool   `json:"high_risk"`
	Sensitivity        string `json:"sensitivity"` // "normal" or "restricted"

	Title       string `json:"-"`
	Description string `json:"-"`

	// MoneyAtStake is the amount at stake in major units of Currency (the
	// largest of the category's money fields named in Weights.MoneyFields,
	// as the caller reads them). Amounts are compared with the weights'
	// thresholds as they are: currencies are not converted.
	MoneyAtStake float64 `json:"money_at_stake,omitempty"`
	Currency     string  `json:"currency,omitempty"` // ISO 4217, only shown in the reason

	RepeatContacts int `json:"repeat_contacts"`          // earlier cases about the same seller and category, in the caller's window
	LinkedRepeats  int `json:"linked_repeats,omitempty"` // later contacts intake linked to this case as repeats
	// SafetyTerm is the safety watch's term found in the title or
	// description (see watch.go); nil when none.
	SafetyTerm *WatchHit `json:"safety_term,omitempty"`
	Reopens    int       `json:"reopens"`   // how often the case was reopened
	SLAState   string    `json:"sla_state"` // the most pressing SLA clock: "", "warning" or "breached"

	// Now is the instant business-hours conditions are checked at; the
	// caller must set it when rules use business_hours.
	Now time.Time `json:"at"`
	// Calendar looks up a compiled business-hours calendar by key; nil (or
	// an unknown key) counts as always open.
	Calendar func(key string) (*sla.Calendar, bool) `json:"-"`
	// TeamCalendar returns a team's calendar key ("" for none). It is a
	// function because an earlier rule may have changed the team.
	TeamCalendar func(team string) string `json:"-"`
}

// SLA states for Facts.SLAState.
const (
	SLAWarning  = "warning"
	SLABreached = "breached"
)
