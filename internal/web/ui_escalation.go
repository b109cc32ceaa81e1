package web

// Escalations in the UI: the case page's "Escalation" panel (its level,
// who holds each escalation and why, acknowledge, escalate by hand with a
// reason and a level, de-escalate with a reason; templates/part_escalation.html),
// their lines on the timeline, the open-escalations list at /escalations
// and its nav entry with the count of those waiting on the user.

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/escalation"
)

// addEscalationFuncs adds the template functions of the escalation parts
// of the case page, the timeline and the nav.
func (u *ui) addEscalationFuncs(fm template.FuncMap) {
	fm["escalationPanel"] = u.escalationPanel
	fm["escalationCount"] = u.escalationCount
	fm["seesEscalations"] = func(a *auth.Actor) bool { return a != nil && escalation.SeesEscalations(*a) }
	fm["isEscalationEvent"] = func(typ string) bool { return strings.HasPrefix(typ, "escalation_") || typ == "deescalated" }
	fm["escalationSummary"] = escalationSummary
	fm["escalationDue"] = func(e *escalation.Escalation) dueView { return escalationDue(u.s.app.Clock.Now(), e) }
	fm["escStep"] = func(n int) int { return n + 1 }
	fm["escAgo"] = func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return agoText(u.s.app.Clock.Now().Sub(*t))
	}
	// The desk names its levels (escalation_levels).
	fm["levelName"] = func(n int) string {
		ctx, cancel := context.WithTimeout(context.Background(), funcTimeout)
		defer cancel()
		cfg, err := u.s.app.Desk.Config(ctx)
		if err != nil {
			return levelName(n)
		}
		return escalation.LevelName(escalation.LevelsOf(cfg), n)
	}
}

// escalationPanelView is the case page's Escalation panel.
type escalationPanelView struct {
	*escalation.CaseView
	Rows          []escalationRow
	Active        int
	CanEscalate   bool
	CanDeescalate bool
	Levels        []levelOption // to escalate to: above the case's
	Lower         []levelOption // to de-escalate to: at or below it
	Policies      []string
}

type levelOption struct {
	N    int
	Name string
}

// escalationRow is an escalation with what the viewer may do with it.
type escalationRow struct {
	*escalation.Escalation
	CanAck bool
}

func (u *ui) escalationPanel(me *auth.Actor, c *cases.Case) (*escalationPanelView, error) {
	if me == nil || c == nil || !escalation.SeesEscalations(*me) {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), funcTimeout)
	defer cancel()
	cfg, err := u.s.app.Desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	cv, err := u.s.app.Escalation.ForCase(ctx, *me, c.Number)
	if err != nil {
		return nil, err
	}
	write := me.Can(auth.PermCaseWrite)
	v := &escalationPanelView{CaseView: cv, CanEscalate: write && c.Status.Active()}
	for _, e := range cv.Escalations {
		row := escalationRow{Escalation: e, CanAck: e.State == escalation.Open && escalation.MayAcknowledge(*me, e, c)}
		v.Rows = append(v.Rows, row)
		if e.Active() {
			v.Active++
		}
	}
	for i, name := range cv.Levels {
		if n := i + 1; n > c.EscalationLevel {
			v.Levels = append(v.Levels, levelOption{n, name})
		} else {
			v.Lower = append(v.Lower, levelOption{n, name})
		}
	}
	v.CanDeescalate = write && (c.EscalationLevel > 1 || v.Active > 0)
	for _, p := range escalation.PoliciesOf(cfg) {
		v.Policies = append(v.Policies, p.Name)
	}
	return v, nil
}

// escalationCount is the nav's count: escalations waiting on the user.
func (u *ui) escalationCount(v view) int {
	if v.Me == nil {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), funcTimeout)
	defer cancel()
	n, err := u.s.app.Escalation.Count(ctx, *v.Me)
	if err != nil {
		u.s.log.Warn("escalation count", "err", err)
		return 0
	}
	return n
}

// escalationDue is an open escalation's countdown to its acknowledgement
// deadline (due soon in the last quarter of the step's time).
func escalationDue(now time.Time, e *escalation.Escalation) dueView {
	if e.DueAt == nil {
		return dueView{Class: "paused", Text: "no deadline", Title: "Waits for someone to acknowledge it"}
	}
	due := *e.DueAt
	warn := due.Add(-due.Sub(e.StepStartedAt) / 4)
	v := dueView{Due: &due, Warn: &warn, Title: "Acknowledge by " + fmtTime(due)}
	switch left := due.Sub(now); {
	case left <= 0:
		v.Class, v.Text = "breached", "overdue "+countdown(-left)
	case !now.Before(warn):
		v.Class, v.Text = "warning", countdown(left)
	default:
		v.Class, v.Text = "ok", countdown(left)
	}
	return v
}

// escalationSummary is an escalation entry's line on a timeline, after its actor.
func escalationSummary(cfg *desk.Config, e cases.Event) string {
	levels := escalation.LevelsOf(cfg)
	level := func(key string) string {
		n, _ := e.Data[key].(float64)
		return escalation.LevelName(levels, int(n))
	}
	policy := ""
	if p := dataString(e.Data, "policy"); p != "" {
		policy = " · " + p
	}
	switch e.Type {
	case "escalation_started":
		return "escalated the case to " + level("level") + policy
	case "escalation_stepped":
		if n, _ := e.Data["step"].(float64); n < 0 {
			return "asked the fallback: nobody acknowledged the escalation in time" + policy
		}
		return "moved the escalation on to " + level("level") + ": nobody acknowledged in time" + policy
	case "escalation_acknowledged":
		return "acknowledged the escalation at " + level("level") + policy
	case "escalation_closed":
		return "closed the escalation at " + level("level") + policy
	case "deescalated":
		return "de-escalated the case from " + level("from") + " to " + level("to")
	}
	return humanize(e.Type)
}

// postEscalate is the case page's "Escalate" form.
func (u *ui) postEscalate(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	return u.caseAction(w, r, a, "escalate", func(ref string, f url.Values) error {
		in := escalation.Input{Reason: f.Get("reason"), Policy: f.Get("policy")}
		if lv := f.Get("level"); lv != "" {
			n, err := strconv.Atoi(lv)
			if err != nil {
				return apperr.InvalidField("level", "choose a level")
			}
			in.Level = n
		}
		_, err := u.s.app.Escalation.Escalate(r.Context(), a, ref, in, nil)
		return err
	})
}

// postDeescalate is the case page's "De-escalate" form.
func (u *ui) postDeescalate(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	return u.caseAction(w, r, a, "deescalate", func(ref string, f url.Values) error {
		in := escalation.DeescalateInput{Reason: f.Get("reason")}
		if lv := f.Get("level"); lv != "" {
			n, err := strconv.Atoi(lv)
			if err != nil {
				return apperr.InvalidField("level", "choose a level")
			}
			in.Level = n
		}
		_, err := u.s.app.Escalation.Deescalate(r.Context(), a, ref, in)
		return err
	})
}

// postAckEscalation acknowledges from the case page or the list (next).
func (u *ui) postAckEscalation(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return apperr.ErrNotFound
	}
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	next := safeNext(r.PostForm.Get("next"))
	if r.PostForm.Get("next") == "" {
		next = "/cases/" + url.PathEscape(r.PathValue("ref")) + "#escalation"
	}
	_, err = u.s.app.Escalation.Acknowledge(r.Context(), a, r.PathValue("ref"), id)
	if err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	p := toProblem(err)
	if p.Status >= 500 || p.Status == http.StatusNotFound || p.Status == http.StatusUnauthorized {
		return err
	}
	c, gerr := u.s.app.Cases.Get(r.Context(), a, r.PathValue("ref"))
	if gerr != nil {
		return gerr
	}
	return u.renderCase(w, r, a, c, p.Status, "escalation-ack", p.Detail, r.PostForm)
}

// escalationsData is the open-escalations page.
type escalationsData struct {
	Desk    *desk.Config
	Form    url.Values
	State   string // "" (open and acknowledged), open, acknowledged, closed
	Mine    bool
	Rows    []escalationRow
	NextURL string
	Error   string
	Here    string
}

func (u *ui) escalationsPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	ctx := r.Context()
	cfg, err := u.s.app.Desk.Config(ctx)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	d := escalationsData{Desk: cfg, Form: q, State: q.Get("state"), Mine: q.Get("mine") == "1", Here: r.URL.RequestURI()}
	f := escalation.Filter{Cursor: q.Get("cursor"), Mine: d.Mine}
	if d.State != "" {
		f.State = []escalation.State{escalation.State(d.State)}
	}
	if t := q.Get("team"); t != "" {
		f.Team = []string{t}
	}
	status := http.StatusOK
	page, err := u.s.app.Escalation.List(ctx, a, f)
	var inv *apperr.Invalid
	switch {
	case errors.As(err, &inv):
		status, d.Error = http.StatusBadRequest, fieldErrorsText(inv.Errors)
	case err != nil:
		return err
	default:
		for _, e := range page.Escalations {
			row := escalationRow{Escalation: e}
			if e.State == escalation.Open && a.Can(auth.PermCaseWrite) {
				if c, err := u.s.app.Cases.Get(ctx, a, e.Case); err == nil {
					row.CanAck = escalation.MayAcknowledge(a, e, c)
				}
			}
			d.Rows = append(d.Rows, row)
		}
		if page.NextCursor != "" {
			nq := url.Values{}
			for k, v := range q {
				if k != "cursor" && len(v) > 0 && v[0] != "" {
					nq.Set(k, v[0])
				}
			}
			nq.Set("cursor", page.NextCursor)
			d.NextURL = "/escalations?" + nq.Encode()
		}
	}
	u.render(w, r, status, "escalations", view{Me: &a, Title: "Escalations", Nav: "escalations", Data: d})
	return nil
}
