// Package cases owns the case: its fields, its status state machine, its
// timeline, comments and watchers, who may see it, and its SQL.
package cases

import (
	"fmt"
	"slices"
	"strings"
)

// Status is where a case is in its life.
type Status string

const (
	StatusNew              Status = "new"
	StatusOpen             Status = "open"
	StatusPendingInternal  Status = "pending_internal"
	StatusPendingRequester Status = "pending_requester"
	StatusResolved         Status = "resolved"
	StatusClosed           Status = "closed"
)

// Statuses lists every status in life order.
var Statuses = []Status{StatusNew, StatusOpen, StatusPendingInternal, StatusPendingRequester, StatusResolved, StatusClosed}

// ActiveStatuses are the statuses of cases still being worked.
var ActiveStatuses = []Status{StatusNew, StatusOpen, StatusPendingInternal, StatusPendingRequester}

// transitions is the state machine of DESIGN.md: new → open → pending_* →
// resolved → closed, with resolved reopenable to open. A case can be resolved
// straight from any working status (a duplicate spotted at intake).
var transitions = map[Status][]Status{
	StatusNew:              {StatusOpen, StatusPendingInternal, StatusPendingRequester, StatusResolved},
	StatusOpen:             {StatusPendingInternal, StatusPendingRequester, StatusResolved},
	StatusPendingInternal:  {StatusOpen, StatusPendingRequester, StatusResolved},
	StatusPendingRequester: {StatusOpen, StatusPendingInternal, StatusResolved},
	StatusResolved:         {StatusOpen, StatusClosed},
	StatusClosed:           {},
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// Active reports whether a case in s is still being worked.
func (s Status) Active() bool { return slices.Contains(ActiveStatuses, s) }

// Allowed lists the statuses a case in s may move to.
func (s Status) Allowed() []Status { return transitions[s] }

// TransitionError is an illegal status change; it names the allowed ones.
type TransitionError struct {
	From, To Status
}

func (e *TransitionError) Error() string {
	allowed := e.From.Allowed()
	if len(allowed) == 0 {
		return fmt.Sprintf("a %s case cannot change status", e.From)
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return fmt.Sprintf("cannot move a %s case to %s; allowed: %s", e.From, e.To, strings.Join(names, ", "))
}

// CheckTransition returns a *TransitionError unless from → to is allowed.
func CheckTransition(from, to Status) error {
	if !slices.Contains(from.Allowed(), to) {
		return &TransitionError{From: from, To: to}
	}
	return nil
}

// Channel is how a case reached the desk.
type Channel string

// Channels lists every intake channel.
var Channels = []Channel{"api", "email", "web_form", "social", "leadership", "external", "alert", "phone", "internal"}

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool { return slices.Contains(Channels, c) }

// Priorities from most to least urgent.
var Priorities = []string{"P1", "P2", "P3", "P4"}

// Sensitivities of a case: restricted cases are seen only by their team and leads.
var Sensitivities = []string{"normal", "restricted"}
