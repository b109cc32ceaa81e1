package notify

import (
	"slices"
	"strings"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/events"
)

// Kind is why someone is told: the preference key of a notification.
type Kind string

// The kinds of notification, in the order the preferences list them.
const (
	KindAssigned         Kind = "assigned"          // a case was assigned to you
	KindMention          Kind = "mention"           // you were @-mentioned in a reply or note
	KindHandoffRequested Kind = "handoff_requested" // your team was asked for a piece of work
	KindHandoffAnswered  Kind = "handoff_answered"  // a handoff on your case was answered, completed or declined
	KindSLAWarning       Kind = "sla_warning"       // a clock of your (or your team's unowned) case is close to its target
	KindSLABreach        Kind = "sla_breach"        // … or past it
	KindEscalation       Kind = "escalation"        // a case was escalated to you (or to your on-call)
	KindAckMissed        Kind = "ack_missed"        // nobody acknowledged an escalation of your case in time
	KindResolved         Kind = "resolved"          // your case was resolved
	KindReopened         Kind = "reopened"          // your case was reopened
	KindStatus           Kind = "status_changed"    // a case you watch, or of a seller you manage, changed status
	KindIncident         Kind = "incident"          // an incident pages you, gives you a role, or sends you its status update
	KindActionItem       Kind = "action_item"       // an incident's action item is yours, due soon or overdue
	KindSignalAlert      Kind = "signal_alert"      // a detection rule tells your team of an anomaly (internal/signals)
)

// Kinds lists every kind.
var Kinds = []Kind{KindAssigned, KindMention, KindHandoffRequested, KindHandoffAnswered, KindSLAWarning,
	KindSLABreach, KindEscalation, KindAckMissed, KindResolved, KindReopened, KindStatus, KindIncident,
	KindActionItem, KindSignalAlert}

// Valid reports whether k is a kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// Channel is how a person is told.
type Channel string

// The channels a person chooses between; webhooks are subscriptions, not people.
const (
	InApp Channel = "in_app"
	Email Channel = "email"
)

// Channels lists the personal channels.
var Channels = []Channel{InApp, Email}

// Person is what the rules know of a user.
type Person struct {
	ID       int64
	Email    string
	Name     string
	Role     auth.Role
	Teams    []string
	Markets  []string
	Timezone string // IANA; the desk profile's, empty: UTC
}

// Actor is the person as an auth.Actor, for the visibility rule.
func (p Person) Actor() auth.Actor {
	return auth.Actor{UserID: p.ID, Email: p.Email, Name: p.Name, Role: p.Role, Teams: p.Teams, Markets: p.Markets}
}

// publicOnly mirrors cases.PublicOnly: account managers see the public
// side of cases only.
func (p Person) publicOnly() bool { return p.Role == auth.RoleAccountManager }

// Facts are what the rules need beyond the event: the case's people, as
// they are when the event is handled.
type Facts struct {
	Owner          string              // the case owner's email ("" unassigned)
	Watchers       []string            // emails
	AccountManager string              // of the case's seller
	Members        map[string][]string // team key → the members' emails (the teams the event names)
	People         map[string]Person   // by lower-case email: every active user the rules may name
	// Sees is the visibility rule for the case (cases.Service.CanSee): a
	// restricted case tells only those who may see it.
	Sees func(Person) bool
}

// Recipient is someone to tell about an event, and why.
type Recipient struct {
	Person
	Kind Kind
	// Public: tell the public side only (status, public replies, the
	// resolution): watchers and account managers.
	Public bool
}

// publicKind reports whether k can be told to someone who sees only the
// public side of a case (an account manager).
func publicKind(k Kind, e events.Event) bool {
	switch k {
	case KindStatus, KindResolved, KindReopened, KindIncident: // incidents: anyone signed in reads them
		return true
	case KindMention:
		return e.Type == events.CaseReplied
	}
	return false
}

// Recipients is who is told about e, each once with the first reason that
// applies (the most specific: a case's owner hears "resolved", not "status
// changed" as a watcher). It is a pure function of the event and the facts:
//
//   - case.assigned: the new owner;
//   - case.replied, case.note_added: the people @-mentioned;
//   - handoff.requested: the members of the team asked;
//   - handoff.answered, .completed, .declined: the case's owner;
//   - sla.warning, sla.breached: the case's owner, or the team's members
//     while it has none; a breach also the team's leads;
//   - escalation.started, .stepped: the people the step asks (on-call
//     resolved); a stepped one also the case's owner (no acknowledgement in time);
//   - case.status_changed: the owner when resolved or reopened; the
//     watchers and the seller's account manager on every change (public facts).
//
// Never the actor; never anyone the case is hidden from (Facts.Sees); an
// account manager only what is on the public side.
func Recipients(e events.Event, f Facts) []Recipient {
	var out []Recipient
	seen := map[string]bool{}
	add := func(email string, k Kind, public bool) {
		email = strings.ToLower(strings.TrimSpace(email))
		if email == "" || seen[email] || strings.EqualFold(email, e.Actor.Email) {
			return
		}
		p, ok := f.People[email]
		if !ok {
			return // not an active user
		}
		seen[email] = true
		if p.publicOnly() {
			if !publicKind(k, e) {
				return
			}
			public = true
		}
		if f.Sees != nil && !f.Sees(p) {
			return
		}
		out = append(out, Recipient{Person: p, Kind: k, Public: public})
	}
	members := func(team string, k Kind, roles ...auth.Role) {
		for _, m := range f.Members[team] {
			if p, ok := f.People[strings.ToLower(m)]; ok && (len(roles) == 0 || slices.Contains(roles, p.Role)) {
				add(m, k, false)
			}
		}
	}
	team := ""
	if e.Case != nil {
		team = e.Case.Team
	}
	switch d := e.Data.(type) {
	case *events.Assigned:
		add(d.Owner, KindAssigned, false)
	case *events.Comment:
		for _, m := range d.Mentions {
			add(m, KindMention, false)
		}
	case *events.Handoff:
		switch e.Type {
		case events.HandoffRequested:
			members(d.ToTeam, KindHandoffRequested)
		case events.HandoffAnswered, events.HandoffCompleted, events.HandoffDeclined:
			add(f.Owner, KindHandoffAnswered, false)
		}
	case *events.SLA:
		k := KindSLAWarning
		switch e.Type {
		case events.SLABreached:
			k = KindSLABreach
		case events.SLAMet:
			return nil
		}
		if f.Owner != "" {
			add(f.Owner, k, false)
		} else {
			members(team, k)
		}
		if k == KindSLABreach {
			members(team, k, auth.RoleLead)
		}
	case *events.Escalation:
		switch e.Type {
		case events.EscalationStarted, events.EscalationStepped:
			for _, t := range d.Targets {
				add(t, KindEscalation, false)
			}
			if e.Type == events.EscalationStepped {
				add(f.Owner, KindAckMissed, false)
			}
		}
	case *events.StatusChanged:
		switch {
		case d.To == "resolved":
			add(f.Owner, KindResolved, false)
		case d.Reopened:
			add(f.Owner, KindReopened, false)
		}
		for _, w := range f.Watchers {
			add(w, KindStatus, true)
		}
		add(f.AccountManager, KindStatus, true)
	case *events.Incident:
		for _, who := range d.Notify { // the people internal/incidents names: paged, given a role, an update's stakeholders
			add(who, KindIncident, false)
		}
	case *events.ActionItem:
		if e.Type != events.ActionItemChanged { // assigned, due soon, overdue: its owner
			add(d.Owner, KindActionItem, false)
		}
	case *events.Alert:
		members(d.Team, KindSignalAlert)
	}
	return out
}

// tellsCaseTeam reports whether Recipients may tell members of the case's
// own team of e: of its clocks (an unowned case's warnings, a breach to the
// team's leads). For any other event the handler need not read them
// (TestTellsCaseTeam holds this to Recipients).
func tellsCaseTeam(e events.Event) bool {
	_, ok := e.Data.(*events.SLA)
	return ok
}

// MayTell reports whether Recipients can name anyone for e, whatever the
// facts: most events (a case created, routed or changed, a clock met) tell
// nobody, and the handler then reads neither the case nor the people.
// It follows Recipients' switch; TestMayTell holds them together.
func MayTell(e events.Event) bool {
	switch d := e.Data.(type) {
	case *events.Assigned:
		return d.Owner != ""
	case *events.Comment:
		return len(d.Mentions) > 0
	case *events.Handoff:
		switch e.Type {
		case events.HandoffRequested, events.HandoffAnswered, events.HandoffCompleted, events.HandoffDeclined:
			return true
		}
	case *events.SLA:
		return e.Type != events.SLAMet
	case *events.Escalation:
		return e.Type == events.EscalationStarted || e.Type == events.EscalationStepped
	case *events.StatusChanged:
		return true
	case *events.Incident:
		return len(d.Notify) > 0
	case *events.ActionItem:
		return e.Type != events.ActionItemChanged
	case *events.Alert:
		return true
	}
	return false
}

// Urgent reports whether a notification goes out even in quiet hours: P1
// cases, and escalations to the recipient.
func Urgent(e events.Event, k Kind) bool {
	return k == KindEscalation || (e.Case != nil && e.Case.Priority == "P1") || e.Type == events.IncidentPaged
}
