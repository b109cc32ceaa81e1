package routing

import (
	"time"

	"github.com/flare-desk/flare/internal/sla"
)

// Facts is everything a routing rule or the priority score reads about a
// case. The caller fills it from the case, its seller and the desk; the
// package only reads it.
type Facts struct {
	Category         string // "logistics/lost_parcel"
	CategorySeverity int    // 1 (most severe) .. 4; 0 means the desk default, 3
	Market           string // "GB"
	Language         string // BCP 47, "de-AT"
	Channel          string // intake channel, "email"
	Team             string // owning team key

	SellerID        string
	SellerTier      int // 1..4; 0: no seller (or no tier)
	SellerRiskFlags []string

	RequesterEmail string
	Tags           []string
	Priority       string // current priority, "P1".."P4"
	// PriorityOverridden is set when a person chose the priority: rules'
	// priority actions are then not applied (Explain still shows them).
	PriorityOverridden bool
	HighRisk           bool
	Sensitivity        string // "normal" or "restricted"

	Title, Description string

	// MoneyAtStake is the amount at stake in major units of Currency (the
	// largest of the category's money fields named in Weights.MoneyFields,
	// as the caller reads them). Amounts are compared with the weights'
	// thresholds as they are: currencies are not converted.
	MoneyAtStake float64
	Currency     string // ISO 4217, only shown in the reason

	RepeatContacts int    // earlier cases about the same seller and category, in the caller's window
	Reopens        int    // how often the case was reopened
	SLAState       string // the most pressing SLA clock: "", "warning" or "breached"

	// Now is the instant business-hours conditions are checked at; the
	// caller must set it when rules use business_hours.
	Now time.Time
	// Calendar looks up a compiled business-hours calendar by key; nil (or
	// an unknown key) counts as always open.
	Calendar func(key string) (*sla.Calendar, bool)
	// TeamCalendar returns a team's calendar key ("" for none). It is a
	// function because an earlier rule may have changed the team.
	TeamCalendar func(team string) string
}

// SLA states for Facts.SLAState.
const (
	SLAWarning  = "warning"
	SLABreached = "breached"
)
