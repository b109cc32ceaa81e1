// Package events is Flare's stream of domain events: what happened to a
// case (created, changed, assigned, replied to, routed, SLA warnings and
// breaches, handoffs…), published inside the transaction of the write that
// made it happen.
//
// Capabilities react to events instead of editing the packages that emit
// them. There are three ways to listen (bus.go):
//
//   - in-transaction subscribers run inside the write's transaction and
//     commit or roll back with it, for rules that must hold together
//     (resolving a case cancels its open handoffs);
//   - durable subscribers get each event through an outbox written in the
//     same transaction and delivered after commit, at least once, in order
//     per case, with retries, back-off and a dead-letter state (outbox.go);
//   - the feed hands committed events to live screens in this process
//     (feed.go).
//
// Events are values: a subscriber never sees a half-made change, and an
// event's id is stable across redeliveries, so a subscriber deduplicates by it.
package events

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"time"
)

// Type names a kind of event. Names are "<subject>.<what happened>".
type Type string

// The events. Add a type here with its payload in payloads.
const (
	CaseCreated       Type = "case.created"
	CaseChanged       Type = "case.changed"        // fields changed (old → new)
	CaseStatusChanged Type = "case.status_changed" // new → open → … → resolved → closed, reopened
	CaseAssigned      Type = "case.assigned"
	CaseUnassigned    Type = "case.unassigned"
	CaseReplied       Type = "case.replied"    // a public reply
	CaseNoteAdded     Type = "case.note_added" // an internal note
	CaseRouted        Type = "case.routed"     // routing rules fired (with their notify / escalate actions)

	SLAWarning  Type = "sla.warning"
	SLABreached Type = "sla.breached"
	SLAMet      Type = "sla.met"

	HandoffRequested Type = "handoff.requested"
	HandoffAccepted  Type = "handoff.accepted"
	HandoffAnswered  Type = "handoff.answered"
	HandoffCompleted Type = "handoff.completed"
	HandoffDeclined  Type = "handoff.declined"
	HandoffCancelled Type = "handoff.cancelled"

	EscalationStarted      Type = "escalation.started"      // a case was escalated (a policy's first step, or by hand)
	EscalationStepped      Type = "escalation.stepped"      // an acknowledgement deadline passed: the next step, a repeat or the fallback
	EscalationAcknowledged Type = "escalation.acknowledged" // someone took it: the step's clock stops
	EscalationClosed       Type = "escalation.closed"       // the case was resolved, or de-escalated with a reason

	IncidentDeclared        Type = "incident.declared"         // an incident was declared (from scratch or from a case)
	IncidentStatusChanged   Type = "incident.status_changed"   // investigating → identified → monitoring → resolved → closed, reopened
	IncidentSeverityChanged Type = "incident.severity_changed" // SEV1 … SEV4
	IncidentRoleAssigned    Type = "incident.role_assigned"    // a role was assigned or handed over
	IncidentPaged           Type = "incident.paged"            // the on-call commander was paged (again, or stepped up)
	IncidentAcknowledged    Type = "incident.acknowledged"     // the page was acknowledged
	IncidentUpdatePosted    Type = "incident.update_posted"    // a status update went to its stakeholders
	IncidentUpdateDue       Type = "incident.update_due"       // the next status update is due (the cadence of its severity)
	IncidentCasesLinked     Type = "incident.cases_linked"     // cases were linked (by hand, in bulk, by an auto-link rule)
	IncidentCasesResolved   Type = "incident.cases_resolved"   // a bulk resolve of the linked cases finished

	PostmortemCreated   Type = "postmortem.created"   // an incident's postmortem was started from the template
	PostmortemSubmitted Type = "postmortem.submitted" // sent for review
	PostmortemReturned  Type = "postmortem.returned"  // sent back to draft by its reviewer
	PostmortemPublished Type = "postmortem.published" // final: the incident may close

	ActionItemAssigned  Type = "action_item.assigned"  // an action item was created for its owner, or handed to another
	ActionItemChanged   Type = "action_item.changed"   // its title, team, due date or status changed
	ActionItemDueSoon   Type = "action_item.due_soon"  // the reminder before its due date
	ActionItemOverdue   Type = "action_item.overdue"   // its due date passed while it was open
	CaseMerged          Type = "case.merged"           // the case was merged into another (internal/merge): closed, its timeline copied there
	ProblemCreated      Type = "problem.created"       // a problem record was opened (internal/problems)
	ProblemChanged      Type = "problem.changed"       // its title, root cause, owner, status or action changed
	ProblemCaseLinked   Type = "problem.case_linked"   // a case was linked to it
	ProblemCaseUnlinked Type = "problem.case_unlinked" // a case was unlinked from it
	SignalAlert         Type = "signal.alert"          // a detection rule asks a team to look at an anomaly in a signal (internal/signals)
)

// kind is what the stream knows of a type: its payload and the payload's
// schema version. A new field keeps the version; a changed or removed one
// takes the next.
type kind struct {
	version int
	payload func() Payload
}

var kinds = map[Type]kind{
	CaseCreated:       {1, func() Payload { return &Created{} }},
	CaseChanged:       {1, func() Payload { return &Changed{} }},
	CaseStatusChanged: {1, func() Payload { return &StatusChanged{} }},
	CaseAssigned:      {1, func() Payload { return &Assigned{} }},
	CaseUnassigned:    {1, func() Payload { return &Unassigned{} }},
	CaseReplied:       {1, func() Payload { return &Comment{} }},
	CaseNoteAdded:     {1, func() Payload { return &Comment{} }},
	CaseRouted:        {1, func() Payload { return &Routed{} }},
	SLAWarning:        {1, func() Payload { return &SLA{} }},
	SLABreached:       {1, func() Payload { return &SLA{} }},
	SLAMet:            {1, func() Payload { return &SLA{} }},
	HandoffRequested:  {1, func() Payload { return &Handoff{} }},
	HandoffAccepted:   {1, func() Payload { return &Handoff{} }},
	HandoffAnswered:   {1, func() Payload { return &Handoff{} }},
	HandoffCompleted:  {1, func() Payload { return &Handoff{} }},
	HandoffDeclined:   {1, func() Payload { return &Handoff{} }},
	HandoffCancelled:  {1, func() Payload { return &Handoff{} }},

	EscalationStarted:      {1, func() Payload { return &Escalation{} }},
	EscalationStepped:      {1, func() Payload { return &Escalation{} }},
	EscalationAcknowledged: {1, func() Payload { return &Escalation{} }},
	EscalationClosed:       {1, func() Payload { return &Escalation{} }},

	IncidentDeclared:        {1, func() Payload { return &Incident{} }},
	IncidentStatusChanged:   {1, func() Payload { return &Incident{} }},
	IncidentSeverityChanged: {1, func() Payload { return &Incident{} }},
	IncidentRoleAssigned:    {1, func() Payload { return &Incident{} }},
	IncidentPaged:           {1, func() Payload { return &Incident{} }},
	IncidentAcknowledged:    {1, func() Payload { return &Incident{} }},
	IncidentUpdatePosted:    {1, func() Payload { return &Incident{} }},
	IncidentUpdateDue:       {1, func() Payload { return &Incident{} }},
	IncidentCasesLinked:     {1, func() Payload { return &Incident{} }},
	IncidentCasesResolved:   {1, func() Payload { return &Incident{} }},

	PostmortemCreated:   {1, func() Payload { return &Postmortem{} }},
	PostmortemSubmitted: {1, func() Payload { return &Postmortem{} }},
	PostmortemReturned:  {1, func() Payload { return &Postmortem{} }},
	PostmortemPublished: {1, func() Payload { return &Postmortem{} }},
	ActionItemAssigned:  {1, func() Payload { return &ActionItem{} }},
	ActionItemChanged:   {1, func() Payload { return &ActionItem{} }},
	ActionItemDueSoon:   {1, func() Payload { return &ActionItem{} }},
	ActionItemOverdue:   {1, func() Payload { return &ActionItem{} }},
	CaseMerged:          {1, func() Payload { return &Merged{} }},
	ProblemCreated:      {1, func() Payload { return &Problem{} }},
	ProblemChanged:      {1, func() Payload { return &Problem{} }},
	ProblemCaseLinked:   {1, func() Payload { return &Problem{} }},
	ProblemCaseUnlinked: {1, func() Payload { return &Problem{} }},
	SignalAlert:         {1, func() Payload { return &Alert{} }},
}

// Types lists every event type, for documentation and subscriptions.
func Types() []Type {
	return []Type{CaseCreated, CaseChanged, CaseStatusChanged, CaseAssigned, CaseUnassigned, CaseReplied,
		CaseNoteAdded, CaseRouted, SLAWarning, SLABreached, SLAMet, HandoffRequested, HandoffAccepted,
		HandoffAnswered, HandoffCompleted, HandoffDeclined, HandoffCancelled, EscalationStarted, EscalationStepped,
		EscalationAcknowledged, EscalationClosed, IncidentDeclared, IncidentStatusChanged, IncidentSeverityChanged,
		IncidentRoleAssigned, IncidentPaged, IncidentAcknowledged, IncidentUpdatePosted, IncidentUpdateDue,
		IncidentCasesLinked, IncidentCasesResolved,
		PostmortemCreated, PostmortemSubmitted, PostmortemReturned, PostmortemPublished,
		ActionItemAssigned, ActionItemChanged, ActionItemDueSoon, ActionItemOverdue, CaseMerged,
		ProblemCreated, ProblemChanged, ProblemCaseLinked, ProblemCaseUnlinked, SignalAlert}
}

// Known reports whether t is an event type.
func (t Type) Known() bool { _, ok := kinds[t]; return ok }

// Event is one thing that happened.
type Event struct {
	ID      string    `json:"id"`  // UUIDv7, set by Publish
	Seq     int64     `json:"seq"` // the outbox's sequence number once stored, just before commit (0 before, and when no durable subscriber wants it)
	Type    Type      `json:"type"`
	Version int       `json:"version"` // of the payload's schema
	At      time.Time `json:"at"`
	Actor   Actor     `json:"actor"`
	Case    *Case     `json:"case,omitempty"` // the case it is about, as it is after the change
	Data    Payload   `json:"data"`
}

// Stream is the event's ordering key: a durable subscriber gets the events
// of one stream in the order they were published.
func (e Event) Stream() string {
	if e.Case != nil {
		return "case:" + strconv.FormatInt(e.Case.ID, 10)
	}
	if p, ok := e.Data.(*Problem); ok { // a problem's events, in order
		return "problem:" + strconv.FormatInt(p.ProblemID, 10)
	}
	return string(e.Type)
}

// Actor is who made the change; the zero Actor is Flare itself.
type Actor struct {
	ID    int64  `json:"id,omitempty"`
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
}

// Case is what subscribers usually need to know of the case an event is
// about, after the change: enough to route a notification or decide
// visibility without reading the case again.
type Case struct {
	ID              int64  `json:"id"`
	Number          string `json:"number"` // ESC-1042
	Title           string `json:"title"`
	Team            string `json:"team"`
	Category        string `json:"category"`
	Market          string `json:"market"`
	Priority        string `json:"priority"`
	Status          string `json:"status"`
	HighRisk        bool   `json:"high_risk"`
	Sensitivity     string `json:"sensitivity"` // normal | restricted
	SellerID        string `json:"seller_id,omitempty"`
	OwnerID         int64  `json:"owner_id,omitempty"`
	Owner           string `json:"owner,omitempty"` // email
	EscalationLevel int    `json:"escalation_level"`
}

// Payload is an event's type-specific data.
type Payload interface{ payload() }

// Created: a case was created.
type Created struct {
	Channel string `json:"channel"`
	Via     string `json:"via,omitempty"` // how its owner was found on create, if it has one
}

// FieldChange is one field's old → new value.
type FieldChange struct {
	Field string `json:"field"`
	Old   any    `json:"old"`
	New   any    `json:"new"`
}

// Changed: fields of a case changed, by a person or by routing rules.
type Changed struct {
	Changes []FieldChange `json:"changes"`
	ByRules bool          `json:"by_rules,omitempty"` // routing rules made these changes
}

// Fields lists the names of the changed fields.
func (c *Changed) Fields() []string {
	out := make([]string, len(c.Changes))
	for i, ch := range c.Changes {
		out[i] = ch.Field
	}
	return out
}

// StatusChanged: a case moved from one status to another.
type StatusChanged struct {
	From       string `json:"from"`
	To         string `json:"to"`
	Note       string `json:"note,omitempty"`
	Resolution string `json:"resolution,omitempty"`
	Reopened   bool   `json:"reopened,omitempty"`
}

// Assigned: a case got an owner (or another one).
type Assigned struct {
	Owner    string `json:"owner"`              // email
	Previous string `json:"previous,omitempty"` // email
	Via      string `json:"via"`                // manual, take_next, round_robin, least_loaded, routing_rule
}

// Unassigned: a case lost its owner, or assignment on create found nobody.
type Unassigned struct {
	Previous string `json:"previous,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// Comment: a public reply (case.replied) or internal note (case.note_added).
type Comment struct {
	CommentID int64    `json:"comment_id"`
	Internal  bool     `json:"internal"`
	Mentions  []string `json:"mentions,omitempty"` // emails of the people @-mentioned
}

// Notify is a routing rule's notify action.
type Notify struct {
	Rule   string `json:"rule"`
	Target string `json:"target"` // as the rule names it: a team, a user's email, a role
}

// Escalate is a routing rule's escalate action.
type Escalate struct {
	Rule   string `json:"rule"`
	Policy string `json:"policy"` // an escalation policy, or a level such as L3
}

// Routed: routing rules fired on a create or an update.
type Routed struct {
	On       string     `json:"on"` // create | update
	Rules    []string   `json:"rules"`
	Notify   []Notify   `json:"notify,omitempty"`
	Escalate []Escalate `json:"escalate,omitempty"`
}

// SLA: a clock warned, breached or was met.
type SLA struct {
	Metric string    `json:"metric"` // first_response | next_response | resolution
	Policy string    `json:"policy"`
	DueAt  time.Time `json:"due_at"`           // the clock's due instant
	At     time.Time `json:"at"`               // when it warned, breached or was met
	Late   bool      `json:"late,omitempty"`   // met after it breached
	SLAID  int64     `json:"sla_id,omitempty"` // the sla_events row (warnings and breaches)
}

// Handoff: a handoff between teams changed.
type Handoff struct {
	HandoffID int64     `json:"handoff_id"`
	FromTeam  string    `json:"from_team"`
	ToTeam    string    `json:"to_team"`
	Status    string    `json:"status"`
	Request   string    `json:"request,omitempty"`
	Answer    string    `json:"answer,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	DueAt     time.Time `json:"due_at"`
	Hold      bool      `json:"hold"`
}

// Escalation: an escalation of a case changed.
type Escalation struct {
	EscalationID int64     `json:"escalation_id"`
	Policy       string    `json:"policy,omitempty"` // empty: escalated by hand without a policy
	Trigger      string    `json:"trigger"`          // manual, sla_warning, sla_breach, high_risk, p1, reopen, routing_rule
	Level        int       `json:"level"`            // the case's escalation level after the change
	FromLevel    int       `json:"from_level"`       // and before it
	Step         int       `json:"step"`             // the policy step now waiting (0-based); -1: the fallback
	Round        int       `json:"round"`            // the policy's repeat now running (0: the first pass)
	Reason       string    `json:"reason,omitempty"`
	Targets      []string  `json:"targets,omitempty"` // emails of the people the step asks (on-call resolved)
	AckDeadline  time.Time `json:"ack_deadline,omitzero"`
	AckedBy      string    `json:"acked_by,omitempty"` // email
}

// Incident: an incident changed. Events about an incident carry no case
// (they are ordered per type); Notify names the people to tell (the page's
// targets, an update's stakeholders, whoever owes the next update).
type Incident struct {
	IncidentID  int64     `json:"incident_id"`
	Number      string    `json:"number"` // INC-7
	Title       string    `json:"title"`
	Type        string    `json:"type"`
	Severity    string    `json:"severity"`
	Status      string    `json:"status"`
	Markets     []string  `json:"markets,omitempty"`
	From        string    `json:"from,omitempty"` // status_changed, severity_changed: before; role_assigned: the previous holder
	To          string    `json:"to,omitempty"`   // … after; role_assigned: the new holder (email)
	Role        string    `json:"role,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	Audience    string    `json:"audience,omitempty"` // update_posted
	Body        string    `json:"body,omitempty"`     // update_posted: the update
	Count       int       `json:"count,omitempty"`    // cases_linked, cases_resolved: how many
	Cases       []string  `json:"cases,omitempty"`    // cases_linked: the case numbers (up to 100)
	Round       int       `json:"round,omitempty"`    // paged: the page's round (0: the first)
	AckDeadline time.Time `json:"ack_deadline,omitzero"`
	Notify      []string  `json:"notify,omitempty"` // emails
}

func (*Incident) payload() {}

// Merged: the event's case was merged into another, Into: closed with
// resolution "merged", its timeline copied into Into's, its people made
// Into's watchers.
type Merged struct {
	Into     string   `json:"into"` // ESC number
	IntoID   int64    `json:"into_id"`
	Reason   string   `json:"reason"`
	Entries  int      `json:"entries"`            // timeline entries copied
	Watchers []string `json:"watchers,omitempty"` // Into's watchers after the merge (emails)
}

// Problem: a problem record changed, or a case was linked to or unlinked
// from it.
type Problem struct {
	ProblemID  int64    `json:"problem_id"`
	Title      string   `json:"title"`
	Status     string   `json:"status"`
	FromStatus string   `json:"from_status,omitempty"`
	Owner      string   `json:"owner,omitempty"`  // email
	Fields     []string `json:"fields,omitempty"` // problem.changed: what changed
	Cases      int      `json:"cases"`            // linked cases after the change
	Case       string   `json:"case,omitempty"`   // linked / unlinked: the case (ESC number)
}

func (*Problem) payload() {}

// Alert: an anomaly in a signal (internal/signals) that a detection rule
// tells a team of. It carries no case; Team is who hears of it.
type Alert struct {
	AlertID     int64     `json:"alert_id"`
	Key         string    `json:"key"`    // the series and the window's start: stable for one anomaly
	Series      string    `json:"series"` // intake|category=…|market=…
	Label       string    `json:"label"`  // in words
	Rule        string    `json:"rule"`
	Team        string    `json:"team"`
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	Observed    float64   `json:"observed"`
	Expected    float64   `json:"expected"`
	Score       float64   `json:"score"`
}

func (*Alert) payload()         {}
func (*Created) payload()       {}
func (*Changed) payload()       {}
func (*StatusChanged) payload() {}
func (*Assigned) payload()      {}
func (*Unassigned) payload()    {}
func (*Comment) payload()       {}
func (*Routed) payload()        {}
func (*SLA) payload()           {}
func (*Handoff) payload()       {}
func (*Escalation) payload()    {}
func (*Merged) payload()        {}

// Postmortem: an incident's postmortem moved between draft, in review
// and published.
type Postmortem struct {
	PostmortemID int64  `json:"postmortem_id"`
	Incident     string `json:"incident"` // INC-7
	From         string `json:"from,omitempty"`
	State        string `json:"state"` // draft | in_review | published
	Note         string `json:"note,omitempty"`
}

// ActionItem: a follow-up of an incident's postmortem, owned by a person.
type ActionItem struct {
	ActionItemID int64         `json:"action_item_id"`
	Incident     string        `json:"incident"` // INC-7
	Title        string        `json:"title"`
	Owner        string        `json:"owner"`              // email
	Previous     string        `json:"previous,omitempty"` // the owner before a hand-over
	Team         string        `json:"team"`
	Status       string        `json:"status"`   // open | in_progress | done | wont_do
	DueDate      string        `json:"due_date"` // YYYY-MM-DD
	DueAt        time.Time     `json:"due_at"`   // the end of the due date in the owner's time zone
	Changes      []FieldChange `json:"changes,omitempty"`
}

func (*Postmortem) payload() {}
func (*ActionItem) payload() {}

// check reports an event that cannot be published: an unknown type or a
// payload of the wrong kind.
func (e Event) check() error {
	k, ok := kinds[e.Type]
	if !ok {
		return fmt.Errorf("events: unknown type %q", e.Type)
	}
	if e.Data == nil {
		return fmt.Errorf("events: %s without data", e.Type)
	}
	if reflect.TypeOf(k.payload()) != reflect.TypeOf(e.Data) {
		return fmt.Errorf("events: %s carries %T, want %T", e.Type, e.Data, k.payload())
	}
	return nil
}

// UnmarshalJSON reads an event, decoding its data by its type.
func (e *Event) UnmarshalJSON(b []byte) error {
	type plain Event
	var raw struct {
		plain
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*e = Event(raw.plain)
	k, ok := kinds[e.Type]
	if !ok {
		return fmt.Errorf("events: unknown type %q", e.Type)
	}
	p := k.payload()
	if len(raw.Data) > 0 && string(raw.Data) != "null" {
		if err := json.Unmarshal(raw.Data, p); err != nil {
			return fmt.Errorf("events: %s data: %w", e.Type, err)
		}
	}
	e.Data = p
	return nil
}
