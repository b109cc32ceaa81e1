// Package incidents is Flare's command post for emergencies: an incident
// (INC-1, …) of a type and severity, its roles, its timeline with key
// moments (the source of MTTA, MTTM and MTTR), its status updates to
// stakeholders, the cases linked to it and their bulk resolve, and the
// paging of the on-call commander for the severities that page.
//
// The rules are pure functions over values (the status machine, the
// metrics, the auto-link match, the update templates); the service stores
// incidents, writes every change with its timeline entry, audit record and
// event in one transaction, and keeps its durable work (acknowledgement
// deadlines, update reminders, the bulk resolve's batches) on indexed
// instants fired by a deadline timer (internal/deadline).
//
// Postmortems are not this package's: closing an incident asks the close
// guards registered with SetCloseGuard (internal/postmortems refuses a
// close without the postmortem its severity requires).
package incidents

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// NumberPrefix starts an incident's human number: INC-1.
const NumberPrefix = "INC-"

// FormatNumber is the incident number of id.
func FormatNumber(id int64) string { return NumberPrefix + strconv.FormatInt(id, 10) }

// ParseRef reads an incident reference: INC-12 (any case) or 12.
func ParseRef(ref string) (int64, bool) {
	s := strings.TrimSpace(ref)
	if len(s) > len(NumberPrefix) && strings.EqualFold(s[:len(NumberPrefix)], NumberPrefix) {
		s = s[len(NumberPrefix):]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// Type is what kind of emergency an incident is.
type Type string

// The incident types.
const (
	TypeService             Type = "service"
	TypeSafety              Type = "safety"
	TypeIntegrity           Type = "integrity"
	TypeLogisticsDisruption Type = "logistics_disruption"
	TypeSocialMedia         Type = "social_media"
	TypeRegulatory          Type = "regulatory"
	TypeDataPrivacy         Type = "data_privacy"
)

// Types lists every incident type.
var Types = []Type{TypeService, TypeSafety, TypeIntegrity, TypeLogisticsDisruption, TypeSocialMedia, TypeRegulatory, TypeDataPrivacy}

// Valid reports whether t is an incident type.
func (t Type) Valid() bool { return slices.Contains(Types, t) }

// Severity is how bad an incident is: SEV1 (worst) to SEV4.
type Severity string

// The severities.
const (
	SEV1 Severity = "SEV1"
	SEV2 Severity = "SEV2"
	SEV3 Severity = "SEV3"
	SEV4 Severity = "SEV4"
)

// Severities lists every severity, worst first.
var Severities = []Severity{SEV1, SEV2, SEV3, SEV4}

// Valid reports whether s is a severity.
func (s Severity) Valid() bool { return slices.Contains(Severities, s) }

// Major reports whether s is SEV1 or SEV2: the severities the banner
// across Flare shows.
func (s Severity) Major() bool { return s == SEV1 || s == SEV2 }

// Status is where an incident is in its life.
type Status string

// The statuses, in their order.
const (
	Investigating Status = "investigating"
	Identified    Status = "identified"
	Monitoring    Status = "monitoring"
	Resolved      Status = "resolved"
	Closed        Status = "closed"
)

// Statuses lists every status in order; Open are those before resolved.
var (
	Statuses = []Status{Investigating, Identified, Monitoring, Resolved, Closed}
	Open     = []Status{Investigating, Identified, Monitoring}
)

// Valid reports whether s is a status.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// Active reports whether the incident is still being worked (not resolved
// or closed): auto-link rules and update reminders run while it is.
func (s Status) Active() bool { return slices.Contains(Open, s) }

// CheckTransition says why an incident may not move from → to (nil: it
// may). While open it moves to any other open status (forward as it is
// understood, back when a fix does not hold) or to resolved; a resolved
// incident is closed, or reopened to an open status (with a reason);
// closed is final.
func CheckTransition(from, to Status) error {
	switch {
	case !to.Valid():
		return fmt.Errorf("unknown status %q", to)
	case from == to:
		return fmt.Errorf("the incident is %s already", from)
	case from == Closed:
		return fmt.Errorf("the incident is closed: declare a new one")
	case from.Active() && to == Closed:
		return fmt.Errorf("resolve the incident before closing it")
	}
	return nil
}

// Reopens reports whether from → to reopens a resolved incident.
func Reopens(from, to Status) bool { return from == Resolved && to.Active() }

// Moment names a key moment of an incident.
type Moment string

// The key moments, in the order they usually happen.
const (
	Started        Moment = "started"      // the emergency began (often before anyone knew)
	Detected       Moment = "detected"     // someone or something noticed it
	Acknowledged   Moment = "acknowledged" // the commander took it (the page was acknowledged)
	Mitigated      Moment = "mitigated"    // the impact stopped (the fix is being monitored)
	MomentResolved Moment = "resolved"     // it is over
)

// Moments lists the key moments in order.
var Moments = []Moment{Started, Detected, Acknowledged, Mitigated, MomentResolved}

// Valid reports whether m is a key moment.
func (m Moment) Valid() bool { return slices.Contains(Moments, m) }

// KeyMoments are an incident's key moments with their real times (nil:
// not reached, or not known).
type KeyMoments struct {
	Started      *time.Time `json:"started"`
	Detected     *time.Time `json:"detected"`
	Acknowledged *time.Time `json:"acknowledged"`
	Mitigated    *time.Time `json:"mitigated"`
	Resolved     *time.Time `json:"resolved"`
}

// Get is the instant of m (nil: not reached).
func (k KeyMoments) Get(m Moment) *time.Time {
	switch m {
	case Started:
		return k.Started
	case Detected:
		return k.Detected
	case Acknowledged:
		return k.Acknowledged
	case Mitigated:
		return k.Mitigated
	case MomentResolved:
		return k.Resolved
	}
	return nil
}

// Set sets m to at (nil clears it).
func (k *KeyMoments) Set(m Moment, at *time.Time) {
	switch m {
	case Started:
		k.Started = at
	case Detected:
		k.Detected = at
	case Acknowledged:
		k.Acknowledged = at
	case Mitigated:
		k.Mitigated = at
	case MomentResolved:
		k.Resolved = at
	}
}

// CheckOrder says which moment is out of order (nil: none): each known
// moment is no earlier than the started one, acknowledged no earlier than
// detected, and resolved no earlier than any other.
func (k KeyMoments) CheckOrder() (Moment, error) {
	before := func(a, b *time.Time) bool { return a != nil && b != nil && b.Before(*a) }
	for _, m := range []Moment{Detected, Acknowledged, Mitigated, MomentResolved} {
		if before(k.Started, k.Get(m)) {
			return m, fmt.Errorf("%s is before the incident started", m)
		}
	}
	if before(k.Detected, k.Acknowledged) {
		return Acknowledged, fmt.Errorf("acknowledged is before the incident was detected")
	}
	for _, m := range []Moment{Detected, Acknowledged, Mitigated} {
		if before(k.Get(m), k.Resolved) {
			return MomentResolved, fmt.Errorf("resolved is before %s", m)
		}
	}
	return "", nil
}

// Role keys of the three roles every incident has; the desk adds custom ones.
const (
	RoleCommander = "commander"
	RoleComms     = "communications_lead"
	RoleScribe    = "scribe"
)

// BuiltinRoles are the roles every incident has.
var BuiltinRoles = []string{RoleCommander, RoleComms, RoleScribe}

// RoleHolder is who holds one of an incident's roles.
type RoleHolder struct {
	Role       string    `json:"role"`
	RoleName   string    `json:"role_name"`
	Email      string    `json:"email"`
	Name       string    `json:"name"`
	AssignedAt time.Time `json:"assigned_at"`
}

// Incident is one emergency.
type Incident struct {
	ID         int64    `json:"id"`
	Number     string   `json:"number"` // INC-7
	Title      string   `json:"title"`
	Summary    string   `json:"summary"`
	Type       Type     `json:"type"`
	Severity   Severity `json:"severity"`
	Status     Status   `json:"status"`
	Markets    []string `json:"markets"`
	Categories []string `json:"categories"`
	Sellers    []string `json:"sellers"`

	Roles   []RoleHolder `json:"roles"`
	Moments KeyMoments   `json:"moments"`
	// Paging is the page of the on-call commander (SEV1/SEV2), nil when
	// the incident was not paged.
	Paging *Page `json:"paging,omitempty"`

	// SourceCase is the case it was declared from (ESC number), if any.
	SourceCase     string     `json:"source_case,omitempty"`
	LinkedCases    int        `json:"linked_cases"`
	NextUpdateAt   *time.Time `json:"next_update_at"` // when the next status update is due (open incidents)
	LastUpdateAt   *time.Time `json:"last_update_at"`
	DeclaredBy     string     `json:"declared_by,omitempty"` // email; empty: Flare
	DeclaredByName string     `json:"declared_by_name,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	ClosedAt       *time.Time `json:"closed_at"`
}

// Holder is the email of whoever holds role ("" nobody).
func (i *Incident) Holder(role string) string {
	for _, r := range i.Roles {
		if r.Role == role {
			return r.Email
		}
	}
	return ""
}

// Commander is the incident commander's email ("" nobody yet).
func (i *Incident) Commander() string { return i.Holder(RoleCommander) }

// People are the emails of everyone holding a role, each once.
func (i *Incident) People() []string {
	var out []string
	for _, r := range i.Roles {
		if !slices.Contains(out, r.Email) {
			out = append(out, r.Email)
		}
	}
	return out
}
