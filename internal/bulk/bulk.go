// Package bulk applies one action to many cases: assign, tag, change status,
// set priority, link to an incident. Each case goes through the same
// per-case service as a single change (cases.Service, incidents.Service), so
// validation, audit and events are the same, and each case's change is its
// own transaction: a case is changed whole or refused whole, and one
// refusal leaves the others alone. The result says per case what happened,
// and sums up what changed and what was refused and why.
package bulk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/incidents"
	"github.com/flare-desk/flare/internal/input"
)

// The actions.
const (
	Assign   = "assign"
	Tag      = "tag"
	Status   = "status"
	Priority = "priority"
	Link     = "link_incident"
)

// Actions lists the accepted actions.
var Actions = []string{Assign, Tag, Status, Priority, Link}

// MaxCases bounds one request.
const MaxCases = 500

// Input is the body of POST /cases/bulk.
type Input struct {
	Cases  []string `json:"cases"` // numbers (ESC-1042) or ids
	Action string   `json:"action"`
	// assign: an email, "me", or "" to unassign.
	Owner *string `json:"owner,omitempty"`
	// tag: tags added to each case's own.
	Tags []string `json:"tags,omitempty"`
	// status: the move, with its resolution and note.
	To         string `json:"to,omitempty"`
	Resolution string `json:"resolution,omitempty"`
	Note       string `json:"note,omitempty"`
	// priority: the priority and why.
	Priority string `json:"priority,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// link_incident: the incident (INC-12).
	Incident string `json:"incident,omitempty"`
}

// Outcome is what happened to one case.
type Outcome struct {
	Case    string `json:"case"`
	Changed bool   `json:"changed"`
	// Unchanged: accepted, but the case already was as asked (a tag it
	// had): nothing written.
	Unchanged bool                `json:"unchanged,omitempty"`
	Status    int                 `json:"status"`           // the HTTP status the single change would have answered
	Reason    string              `json:"reason,omitempty"` // why it was refused or left unchanged, in plain words
	Errors    []apperr.FieldError `json:"errors,omitempty"`
}

// Result is the whole request's outcome.
type Result struct {
	Action    string    `json:"action"`
	Changed   int       `json:"changed"`
	Unchanged int       `json:"unchanged"` // accepted but already as asked
	Refused   int       `json:"refused"`
	Summary   string    `json:"summary"`
	Outcomes  []Outcome `json:"outcomes"`
}

// Service applies bulk actions.
type Service struct {
	cases     *cases.Service
	incidents *incidents.Service
}

// New returns the bulk service.
func New(cs *cases.Service, inc *incidents.Service) *Service {
	return &Service{cases: cs, incidents: inc}
}

// check validates the request as a whole, before any case is touched.
func check(a auth.Actor, in *Input) error {
	v := &apperr.Invalid{}
	if len(in.Cases) == 0 {
		v.Add("cases", "select at least one case")
	} else if len(in.Cases) > MaxCases {
		v.Add("cases", "at most %d cases at once (%d given)", MaxCases, len(in.Cases))
	}
	seen := map[string]bool{}
	refs := in.Cases[:0:0]
	for i, ref := range in.Cases {
		ref = strings.TrimSpace(ref)
		if !input.Required(v, fmt.Sprintf("cases[%d]", i), input.Key, ref) {
			continue
		}
		if k := strings.ToUpper(ref); !seen[k] {
			seen[k] = true
			refs = append(refs, ref)
		}
	}
	in.Cases = refs
	switch in.Action {
	case Assign:
		if in.Owner == nil {
			v.Add("owner", "say who: an email, me, or empty to unassign")
		} else if *in.Owner == "me" {
			*in.Owner = a.Email
		}
	case Tag:
		if len(in.Tags) == 0 {
			v.Add("tags", "give at least one tag to add")
		}
	case Status:
		if !cases.Status(in.To).Valid() {
			v.Add("to", "unknown status %q", in.To)
		}
	case Priority:
		if in.Priority == "" {
			v.Add("priority", "give the priority")
		}
	case Link:
		if in.Incident == "" {
			v.Add("incident", "give the incident (INC-12)")
		}
	default:
		v.Add("action", "unknown action %q; one of %s", in.Action, strings.Join(Actions, ", "))
	}
	return v.Err()
}

// Apply runs in's action on each of its cases as a, one case at a time.
func (s *Service) Apply(ctx context.Context, a auth.Actor, in Input) (*Result, error) {
	if !a.Can(auth.PermCaseWrite) {
		return nil, &apperr.Forbidden{Detail: "your role cannot change cases"}
	}
	if err := check(a, &in); err != nil {
		return nil, err
	}
	res := &Result{Action: in.Action, Outcomes: make([]Outcome, 0, len(in.Cases))}
	for _, ref := range in.Cases {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out := Outcome{Case: ref, Changed: true, Status: 200}
		number, unchanged, err := s.one(ctx, a, ref, in)
		if number != "" {
			out.Case = number
		}
		switch {
		case err != nil:
			if !refusal(err) {
				return nil, fmt.Errorf("bulk %s %s: %w", in.Action, ref, err)
			}
			out.Changed, out.Status, out.Reason, out.Errors = false, statusOf(err), reasonOf(err), fieldsOf(err)
			res.Refused++
		case unchanged != "":
			out.Changed, out.Unchanged, out.Reason = false, true, unchanged
			res.Unchanged++
		default:
			res.Changed++
		}
		res.Outcomes = append(res.Outcomes, out)
	}
	res.Summary = summary(res)
	return res, nil
}

// one applies the action to one case and returns its number, and why it
// was left as it was when it already was as asked.
func (s *Service) one(ctx context.Context, a auth.Actor, ref string, in Input) (number, unchanged string, err error) {
	var c *cases.Case
	switch in.Action {
	case Assign:
		c, err = s.cases.Update(ctx, a, ref, cases.UpdateInput{Owner: in.Owner})
	case Tag:
		// Read the case's tags, then write them with the new ones: the
		// service checks the tags as it does for one case.
		cur, gerr := s.cases.Get(ctx, a, ref)
		if gerr != nil {
			return "", "", gerr
		}
		tags := slices.Clone(cur.Tags)
		for _, t := range in.Tags {
			if t = strings.ToLower(strings.TrimSpace(t)); !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
		if len(tags) == len(cur.Tags) {
			return cur.Number, "already tagged", nil
		}
		c, err = s.cases.Update(ctx, a, ref, cases.UpdateInput{Tags: &tags})
	case Status:
		c, err = s.cases.Transition(ctx, a, ref, cases.TransitionInput{To: cases.Status(in.To), Resolution: in.Resolution, Note: in.Note})
	case Priority:
		reason := in.Reason
		c, err = s.cases.Update(ctx, a, ref, cases.UpdateInput{Priority: &in.Priority, PriorityReason: &reason})
	case Link:
		var r *incidents.LinkResult
		r, err = s.incidents.Link(ctx, a, in.Incident, incidents.LinkInput{Cases: []string{ref}})
		if err == nil && r.Linked == 0 {
			err = &apperr.Conflict{Detail: "already linked to " + r.Incident}
		}
	}
	if c != nil {
		return c.Number, "", err
	}
	return "", "", err
}

// refusal reports whether err is the case's own answer (bad for this case,
// not seen, forbidden, a conflict) rather than a failure of the store.
func refusal(err error) bool {
	var inv *apperr.Invalid
	var fb *apperr.Forbidden
	var cf *apperr.Conflict
	return errors.Is(err, apperr.ErrNotFound) || errors.As(err, &inv) || errors.As(err, &fb) || errors.As(err, &cf)
}

func statusOf(err error) int {
	var inv *apperr.Invalid
	var fb *apperr.Forbidden
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		return 404
	case errors.As(err, &inv):
		return 422
	case errors.As(err, &fb):
		return 403
	}
	return 409
}

func reasonOf(err error) string {
	if errors.Is(err, apperr.ErrNotFound) {
		return "no such case, or not one you can see"
	}
	var inv *apperr.Invalid
	if errors.As(err, &inv) {
		msgs := make([]string, len(inv.Errors))
		for i, fe := range inv.Errors {
			msgs[i] = fe.Message
		}
		return strings.Join(msgs, "; ")
	}
	return err.Error()
}

func fieldsOf(err error) []apperr.FieldError {
	var inv *apperr.Invalid
	if errors.As(err, &inv) {
		return inv.Errors
	}
	return nil
}

// summary says in one line what changed and what was refused, grouping the
// refusals by reason.
func summary(r *Result) string {
	verb := map[string]string{Assign: "assigned", Tag: "tagged", Status: "moved", Priority: "re-prioritised", Link: "linked"}[r.Action]
	s := fmt.Sprintf("%d %s %s", r.Changed, plural(r.Changed), verb)
	if r.Unchanged > 0 {
		s += fmt.Sprintf(", %d unchanged (%s)", r.Unchanged, grouped(r.Outcomes, func(o Outcome) bool { return o.Unchanged }))
	}
	if r.Refused == 0 {
		return s + "."
	}
	refused := grouped(r.Outcomes, func(o Outcome) bool { return !o.Changed && !o.Unchanged })
	return fmt.Sprintf("%s; %d refused (%s).", s, r.Refused, refused)
}

// grouped lists the outcomes that match by reason: "ESC-1, ESC-2: reason; ESC-3: other".
func grouped(outs []Outcome, match func(Outcome) bool) string {
	var order []string
	by := map[string][]string{}
	for _, o := range outs {
		if match(o) {
			if _, ok := by[o.Reason]; !ok {
				order = append(order, o.Reason)
			}
			by[o.Reason] = append(by[o.Reason], o.Case)
		}
	}
	parts := make([]string, len(order))
	for i, reason := range order {
		parts[i] = strings.Join(by[reason], ", ") + ": " + reason
	}
	return strings.Join(parts, "; ")
}

func plural(n int) string {
	if n == 1 {
		return "case"
	}
	return "cases"
}
