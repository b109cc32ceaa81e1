package notify

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/flare-desk/flare/internal/events"
)

// Content is what a notification says, whatever carries it: the bell's
// line, an email's bodies (templates.go), a chat message.
type Content struct {
	Number string // ESC-1042 ("" for an event about no case)
	Case   string // the case's title
	Title  string // the headline: "ESC-1042 was assigned to you"
	Facts  []Fact
	Quote  string // a block of text: the note, the answer, the resolution note
	Link   string // the case's page
	Why    string // why the reader gets it ("" for a webhook)
}

// Fact is one labelled line.
type Fact struct{ Label, Value string }

// Text is what is known beyond the event and its facts for composing:
// where links point, the teams' names, the comment's text.
type Text struct {
	BaseURL        string                  // Flare's public address, for links
	TeamName       func(key string) string // nil: the key
	Comment        string                  // the body of the comment a case.replied / case.note_added names
	ResolutionNote string                  // the case's resolution note (public)
}

// maxQuote bounds quoted text in a notification (the case page has it all).
const maxQuote = 2000

// Describe composes what e says to r, in r's time zone loc; r nil: the
// desk-wide wording webhooks carry. A public recipient gets the public
// side only: the case's number, title and status, the resolution and its
// note, and the text of a public reply they were mentioned in.
func Describe(e events.Event, r *Recipient, t Text, loc *time.Location) Content {
	if loc == nil {
		loc = time.UTC
	}
	c := Content{}
	if e.Case != nil {
		c.Number, c.Case = e.Case.Number, e.Case.Title
		c.Link = strings.TrimRight(t.BaseURL, "/") + "/cases/" + url.PathEscape(e.Case.Number)
	}
	team := func(k string) string {
		if t.TeamName != nil {
			if n := t.TeamName(k); n != "" {
				return n
			}
		}
		return k
	}
	public := r != nil && r.Public
	you := r != nil
	actor := actorName(e.Actor)
	when := func(at time.Time) string { return at.In(loc).Format("Mon 2 Jan 15:04 MST") }
	fact := func(label, value string) {
		if value != "" {
			c.Facts = append(c.Facts, Fact{label, value})
		}
	}
	caseFacts := func() {
		if e.Case == nil {
			return
		}
		fact("Case", e.Case.Title)
		if !public {
			fact("Priority", e.Case.Priority)
			fact("Team", team(e.Case.Team))
		}
		fact("Status", humanize(e.Case.Status))
	}
	n := c.Number
	switch d := e.Data.(type) {
	case *events.Created:
		c.Title = fmt.Sprintf("New case %s: %s", n, c.Case)
		caseFacts()
		fact("Channel", d.Channel)
		if e.Case != nil {
			fact("Category", e.Case.Category)
			fact("Market", e.Case.Market)
		}
	case *events.Changed:
		c.Title = fmt.Sprintf("%s changed: %s", n, strings.Join(d.Fields(), ", "))
		caseFacts()
	case *events.Assigned:
		if you && strings.EqualFold(r.Email, d.Owner) {
			c.Title = fmt.Sprintf("%s was assigned to you", n)
		} else {
			c.Title = fmt.Sprintf("%s assigned to %s", n, d.Owner)
		}
		caseFacts()
		fact("By", byWhom(actor, d.Via))
	case *events.Unassigned:
		c.Title = fmt.Sprintf("%s has no owner", n)
		caseFacts()
		fact("Reason", d.Reason)
	case *events.Comment:
		what := "a reply"
		if d.Internal {
			what = "an internal note"
		}
		if you {
			c.Title = fmt.Sprintf("%s mentioned you in %s on %s", actor, what, n)
			c.Quote = clip(t.Comment)
		} else {
			c.Title = fmt.Sprintf("%s added %s to %s", actor, what, n)
		}
		caseFacts()
	case *events.Routed:
		c.Title = fmt.Sprintf("Routing rules fired on %s", n)
		caseFacts()
		fact("Rules", strings.Join(d.Rules, "; "))
	case *events.SLA:
		metric := humanize(d.Metric)
		switch e.Type {
		case events.SLAWarning:
			c.Title = fmt.Sprintf("%s: %s due soon, at %s", n, strings.ToLower(metric), when(d.DueAt))
		case events.SLABreached:
			c.Title = fmt.Sprintf("%s breached its %s target", n, strings.ToLower(metric))
		default:
			c.Title = fmt.Sprintf("%s met its %s target", n, strings.ToLower(metric))
		}
		caseFacts()
		fact("Target", metric)
		fact("Due", when(d.DueAt))
		fact("Policy", d.Policy)
	case *events.Handoff:
		to := team(d.ToTeam)
		switch e.Type {
		case events.HandoffRequested:
			if you {
				c.Title = fmt.Sprintf("Your team %s was asked for a handoff on %s", to, n)
			} else {
				c.Title = fmt.Sprintf("%s asked %s for a handoff on %s", team(d.FromTeam), to, n)
			}
			c.Quote = clip(d.Request)
		case events.HandoffAnswered:
			c.Title = fmt.Sprintf("%s answered the handoff on %s", to, n)
			c.Quote = clip(d.Answer)
		case events.HandoffCompleted:
			c.Title = fmt.Sprintf("%s completed the handoff on %s", to, n)
			c.Quote = clip(d.Answer)
		case events.HandoffDeclined:
			c.Title = fmt.Sprintf("%s declined the handoff on %s", to, n)
			c.Quote = clip(d.Reason)
		case events.HandoffAccepted:
			c.Title = fmt.Sprintf("%s accepted the handoff on %s", to, n)
		case events.HandoffCancelled:
			c.Title = fmt.Sprintf("The handoff to %s on %s was cancelled", to, n)
			c.Quote = clip(d.Reason)
		}
		caseFacts()
		fact("Asked by", team(d.FromTeam))
		fact("Due", when(d.DueAt))
		fact("By", actor)
	case *events.Escalation:
		level := fmt.Sprintf("L%d", d.Level)
		switch {
		case e.Type == events.EscalationStepped && r != nil && r.Kind == KindAckMissed:
			c.Title = fmt.Sprintf("Nobody acknowledged the escalation of %s in time: it went on to %s", n, level)
		case (e.Type == events.EscalationStarted || e.Type == events.EscalationStepped) && you:
			c.Title = fmt.Sprintf("%s was escalated to you (%s)", n, level)
		case e.Type == events.EscalationStarted:
			c.Title = fmt.Sprintf("%s escalated to %s", n, level)
		case e.Type == events.EscalationStepped:
			c.Title = fmt.Sprintf("No acknowledgement on %s: escalated to %s", n, level)
		case e.Type == events.EscalationAcknowledged:
			c.Title = fmt.Sprintf("The escalation of %s was acknowledged by %s", n, d.AckedBy)
		default:
			c.Title = fmt.Sprintf("The escalation of %s is closed", n)
		}
		caseFacts()
		fact("Level", level)
		fact("Policy", d.Policy)
		fact("Trigger", humanize(d.Trigger))
		fact("Reason", d.Reason)
		if !d.AckDeadline.IsZero() && e.Type != events.EscalationAcknowledged && e.Type != events.EscalationClosed {
			fact("Acknowledge by", when(d.AckDeadline))
		}
	case *events.StatusChanged:
		switch {
		case d.To == "resolved":
			c.Title = fmt.Sprintf("%s was resolved", n)
			if d.Resolution != "" {
				c.Title += " (" + humanize(d.Resolution) + ")"
			}
			c.Quote = clip(t.ResolutionNote)
		case d.Reopened:
			c.Title = fmt.Sprintf("%s was reopened", n)
		default:
			c.Title = fmt.Sprintf("%s is now %s", n, strings.ToLower(humanize(d.To)))
		}
		if !public && d.To != "resolved" {
			c.Quote = clip(d.Note) // the desk's own note on its workflow: never on the public side
		}
		caseFacts()
		fact("Was", humanize(d.From))
		if d.Resolution != "" {
			fact("Resolution", humanize(d.Resolution))
		}
	case *events.Incident:
		describeIncident(&c, e, d, you, when, fact)
		c.Link = strings.TrimRight(t.BaseURL, "/") + "/incidents/" + url.PathEscape(d.Number)
	case *events.ActionItem:
		describeActionItem(&c, e, d, you, team, fact)
		c.Link = strings.TrimRight(t.BaseURL, "/") + "/action-items?mine=1"
	case *events.Alert:
		c.Title = fmt.Sprintf("Anomaly in %s: %.0f observed, %.1f expected", d.Label, d.Observed, d.Expected)
		fact("Window", when(d.WindowStart)+" – "+when(d.WindowEnd))
		fact("Score", fmt.Sprintf("%.2f", d.Score))
		fact("Rule", d.Rule)
		c.Link = strings.TrimRight(t.BaseURL, "/") + "/alerts/" + strconv.FormatInt(d.AlertID, 10)
	default:
		c.Title = fmt.Sprintf("%s on %s", e.Type, n)
	}
	if r != nil {
		c.Why = why(r.Kind)
	}
	return c
}

// why is the footer's "you get this because …".
func why(k Kind) string {
	switch k {
	case KindAssigned:
		return "the case was assigned to you"
	case KindMention:
		return "you were mentioned"
	case KindHandoffRequested:
		return "your team was asked"
	case KindHandoffAnswered:
		return "you own the case"
	case KindSLAWarning, KindSLABreach:
		return "you own the case, or your team does"
	case KindEscalation:
		return "the escalation asks you"
	case KindAckMissed, KindResolved, KindReopened:
		return "you own the case"
	case KindStatus:
		return "you watch the case or manage its seller's account"
	case KindIncident:
		return "the incident names you: paged, given a role, a stakeholder or a subscriber"
	case KindActionItem:
		return "you own the action item"
	case KindSignalAlert:
		return "a detection rule tells your team of an anomaly"
	}
	return string(k)
}

func actorName(a events.Actor) string {
	switch {
	case a.Name != "" && a.Email != "":
		return a.Name
	case a.Email != "":
		return a.Email
	case a.Name != "":
		return "Flare (" + a.Name + ")"
	}
	return "Flare"
}

func byWhom(actor, via string) string {
	switch via {
	case "", "manual":
		return actor
	case "take_next":
		return actor + " (take next)"
	}
	return actor + " (" + humanize(via) + ")"
}

// humanize turns a code into words: pending_requester → Pending requester.
func humanize(s string) string {
	if s == "" {
		return ""
	}
	s = strings.ReplaceAll(s, "_", " ")
	r, size := utf8.DecodeRuneInString(s)
	return strings.ToUpper(string(r)) + s[size:]
}

// clip bounds quoted text on a rune boundary.
func clip(s string) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= maxQuote {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:maxQuote])) + " …"
}

// Line is the bell's one-line body: the facts after the headline, joined.
func (c Content) Line() string {
	parts := make([]string, 0, len(c.Facts))
	for _, f := range c.Facts {
		if f.Label == "Case" || f.Label == "Status" {
			continue
		}
		parts = append(parts, f.Label+": "+f.Value)
	}
	s := strings.Join(parts, " · ")
	if c.Quote != "" {
		q := strings.Join(strings.Fields(c.Quote), " ")
		if utf8.RuneCountInString(q) > 200 {
			q = string([]rune(q)[:200]) + " …"
		}
		if s != "" {
			s += " — "
		}
		s += "“" + q + "”"
	}
	return s
}

// describeIncident composes what an incident event says (internal/incidents).
func describeIncident(c *Content, e events.Event, d *events.Incident, you bool, when func(time.Time) string, fact func(label, value string)) {
	n := d.Number + " " + d.Severity
	c.Number, c.Case = d.Number, d.Title
	switch e.Type {
	case events.IncidentPaged:
		c.Title = fmt.Sprintf("Paged: %s %s", n, d.Title)
		if d.Round > 0 {
			c.Title = fmt.Sprintf("Paged again, nobody acknowledged: %s %s", n, d.Title)
		}
	case events.IncidentRoleAssigned:
		c.Title = fmt.Sprintf("%s: %s is %s", n, d.To, humanize(d.Role))
		if you {
			c.Title = fmt.Sprintf("You are %s of %s %s", humanize(d.Role), n, d.Title)
		}
	case events.IncidentUpdatePosted:
		c.Title = fmt.Sprintf("Update on %s: %s (%s)", n, d.Title, d.Status)
		c.Quote = clip(d.Body)
	case events.IncidentUpdateDue:
		c.Title = fmt.Sprintf("A status update on %s is due", n)
	default:
		c.Title = fmt.Sprintf("%s %s: %s", n, strings.TrimPrefix(string(e.Type), "incident."), d.Title)
	}
	fact("Incident", d.Title)
	fact("Status", humanize(d.Status))
	fact("Markets", strings.Join(d.Markets, ", "))
	if !d.AckDeadline.IsZero() {
		fact("Acknowledge by", when(d.AckDeadline))
	}
}

// describeActionItem composes what an action item's event says
// (internal/postmortems).
func describeActionItem(c *Content, e events.Event, d *events.ActionItem, you bool, team func(string) string, fact func(label, value string)) {
	c.Number, c.Case = d.Incident, d.Title
	switch e.Type {
	case events.ActionItemAssigned:
		c.Title = fmt.Sprintf("Action item for %s: %s", d.Owner, d.Title)
		if you {
			c.Title = fmt.Sprintf("An action item of %s is yours: %s", d.Incident, d.Title)
		}
	case events.ActionItemDueSoon:
		c.Title = fmt.Sprintf("Due %s: %s (%s)", d.DueDate, d.Title, d.Incident)
	case events.ActionItemOverdue:
		c.Title = fmt.Sprintf("Overdue since %s: %s (%s)", d.DueDate, d.Title, d.Incident)
	default:
		c.Title = fmt.Sprintf("Action item of %s changed: %s", d.Incident, d.Title)
	}
	fact("Incident", d.Incident)
	fact("Due", d.DueDate)
	fact("Team", team(d.Team))
	fact("Status", humanize(d.Status))
}
