package web

// Handoffs in the UI: the case page's "Handoffs" panel (ask another team;
// each handoff's state, due countdown, answer and actions), the receiving
// team's handoff queue at /handoffs, one handoff's page at /handoffs/{id},
// and the nav's count of answers on the user's cases not read yet.
//
// The case page belongs to ui_cases.go: the panel gets its data through
// template functions (addHandoffFuncs), and opening a case as its owner
// marks its handoffs' answers read, as reading a message does.

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/handoffs"
)

// addHandoffFuncs adds the template functions the handoff parts of the
// case page, the timeline and the nav use.
func (u *ui) addHandoffFuncs(fm template.FuncMap) {
	fm["handoffPanel"] = u.handoffPanel
	fm["handoffNews"] = u.handoffNews
	fm["seesHandoffs"] = func(a *auth.Actor) bool { return a != nil && handoffs.SeesHandoffs(*a) }
	fm["handoffDue"] = func(h *handoffs.Handoff) dueView { return handoffDue(u.s.app.Clock.Now(), h) }
	fm["isHandoffEvent"] = func(typ string) bool { return strings.HasPrefix(typ, "handoff_") }
	fm["handoffSummary"] = handoffSummary
	fm["handoffText"] = handoffText
	fm["handoffActionLabel"] = handoffActionLabel
	fm["handoffAgo"] = func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return agoText(u.s.app.Clock.Now().Sub(*t))
	}
	fm["handoffWait"] = func(h *handoffs.Handoff) string {
		if h.ClosedAt == nil {
			return ""
		}
		return durationText(h.ClosedAt.Sub(h.CreatedAt))
	}
}

// funcTimeout bounds the store reads template functions make (they have no
// request context).
const funcTimeout = 5 * time.Second

// --- the case page's panel ---

// handoffPanelView is the case page's Handoffs panel.
type handoffPanelView struct {
	Handoffs  []handoffRow
	Active    int
	CanCreate bool
	Teams     []handoffTeamOption // the teams one may ask: all but the case's
	Now       time.Time
}

// handoffTeamOption is a team in the "Ask another team" select.
type handoffTeamOption struct {
	Key, Name string
	Target    string    // "4h"
	DefaultAt time.Time // when a handoff asked now is due by default
}

// handoffRow is a handoff with what the viewer may do with it.
type handoffRow struct {
	*handoffs.Handoff
	Actions []string
}

// Can reports whether the viewer may take action.
func (r handoffRow) Can(action string) bool { return slices.Contains(r.Actions, action) }

// Responds reports whether the viewer may take any of the receiving team's actions.
func (r handoffRow) Responds() bool {
	return r.Can(handoffs.Answer) || r.Can(handoffs.Complete) || r.Can(handoffs.Decline)
}

func (u *ui) handoffPanel(me *auth.Actor, c *cases.Case) (*handoffPanelView, error) {
	if me == nil || c == nil {
		return &handoffPanelView{}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), funcTimeout)
	defer cancel()
	cfg, err := u.s.app.Desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	hs, err := u.s.app.Handoffs.ForCase(ctx, *me, c.Number)
	if err != nil {
		return nil, err
	}
	now := u.s.app.Clock.Now()
	v := &handoffPanelView{CanCreate: me.Can(auth.PermCaseWrite) && c.Status.Active(), Now: now}
	unread := false
	for _, h := range hs {
		v.Handoffs = append(v.Handoffs, handoffRow{Handoff: h, Actions: u.s.app.Handoffs.ActionsFor(ctx, *me, h)})
		if h.Active() {
			v.Active++
		}
		unread = unread || h.Unread
	}
	// Open handoffs first (soonest due first), then closed ones, latest first.
	slices.SortStableFunc(v.Handoffs, func(a, b handoffRow) int {
		switch {
		case a.Active() && !b.Active():
			return -1
		case !a.Active() && b.Active():
			return 1
		case a.Active():
			return a.DueAt.Compare(b.DueAt)
		}
		return b.ClosedAt.Compare(*a.ClosedAt)
	})
	if v.CanCreate {
		for _, t := range cfg.Teams {
			if t.Key != c.Team {
				v.Teams = append(v.Teams, handoffTeamOption{Key: t.Key, Name: t.Name, Target: durationText(t.HandoffTarget()),
					DefaultAt: handoffs.DefaultDue(cfg, t, now)})
			}
		}
	}
	// The owner reads the answers here: they stay marked "new" on this
	// page, and no longer count in the nav.
	if unread && c.OwnerID == me.UserID {
		if _, err := u.s.app.Handoffs.MarkRead(ctx, *me, c.ID); err != nil {
			u.s.log.Warn("mark handoffs read", "case", c.Number, "err", err)
		}
	}
	return v, nil
}

// handoffNews is the nav's count: answers on the user's cases not read yet
// (leaving out the case page being shown to its owner, which reads them).
func (u *ui) handoffNews(v view) int {
	if v.Me == nil {
		return 0
	}
	var except int64
	if cd, ok := v.Data.(caseData); ok && cd.Case != nil && cd.Case.OwnerID == v.Me.UserID {
		except = cd.Case.ID
	}
	ctx, cancel := context.WithTimeout(context.Background(), funcTimeout)
	defer cancel()
	n, err := u.s.app.Handoffs.News(ctx, *v.Me, except)
	if err != nil {
		u.s.log.Warn("handoff news", "err", err)
		return 0
	}
	return n
}

// handoffDue is a handoff's countdown: running to its due time while it
// is open (due soon in the last quarter of its time), then how it ended.
func handoffDue(now time.Time, h *handoffs.Handoff) dueView {
	due := h.DueAt
	if !h.Active() {
		v := dueView{Class: "met", Text: humanize(string(h.Status))}
		if h.ClosedAt != nil && h.Status != handoffs.Cancelled && h.ClosedAt.After(due) {
			v.Late, v.Class = true, "late"
		}
		v.Title = "Was due " + fmtTime(due)
		return v
	}
	left := due.Sub(now)
	warn := due.Add(-due.Sub(h.CreatedAt) / 4)
	v := dueView{Due: &due, Warn: &warn, Title: "Due " + fmtTime(due)}
	switch {
	case left <= 0:
		v.Class, v.Text = "breached", "overdue "+countdown(-left)
	case !now.Before(warn):
		v.Class, v.Text = "warning", countdown(left)
	default:
		v.Class, v.Text = "ok", countdown(left)
	}
	return v
}

// durationText is a compact duration: "4h", "1h 30m", "2d 3h".
func durationText(d time.Duration) string {
	if d < time.Minute {
		return "<1m"
	}
	m := int64(d / time.Minute)
	days, h, mins := m/(24*60), m/60%24, m%60
	var parts []string
	if days > 0 {
		parts = append(parts, strconv.FormatInt(days, 10)+"d")
	}
	if h > 0 {
		parts = append(parts, strconv.FormatInt(h, 10)+"h")
	}
	if mins > 0 && days == 0 {
		parts = append(parts, strconv.FormatInt(mins, 10)+"m")
	}
	if len(parts) == 0 {
		return "0m"
	}
	return strings.Join(parts, " ")
}

// handoffSummary is a handoff event's line on a timeline, after its actor.
func handoffSummary(cfg *desk.Config, e cases.Event) string {
	team := teamName(cfg, dataString(e.Data, "team"))
	switch e.Type {
	case "handoff_requested":
		s := "asked " + team
		if due, err := time.Parse(time.RFC3339Nano, dataString(e.Data, "due_at")); err == nil {
			s += " · due " + fmtTime(due)
		}
		return s
	case "handoff_accepted":
		return "accepted the handoff for " + team
	case "handoff_answered":
		return "answered for " + team
	case "handoff_completed":
		return "completed the handoff for " + team
	case "handoff_declined":
		return "declined the handoff for " + team
	case "handoff_cancelled":
		return "cancelled the handoff to " + team
	}
	return humanize(e.Type)
}

// handoffText is the text a handoff event carries: the request, the answer
// or the reason.
func handoffText(data map[string]any) string {
	for _, k := range []string{"request", "answer", "reason"} {
		if s := dataString(data, k); s != "" {
			return s
		}
	}
	return ""
}

func handoffActionLabel(action string) string {
	switch action {
	case handoffs.Answer:
		return "Send answer"
	case handoffs.Complete:
		return "Complete"
	}
	return humanize(action)
}

// postHandoff is the case page's "Ask another team" form.
func (u *ui) postHandoff(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	return u.caseAction(w, r, a, "handoff", func(ref string, f url.Values) error {
		in := handoffs.Input{Team: f.Get("team"), Request: f.Get("request"), DueWithin: f.Get("due_within")}
		if at := strings.TrimSpace(f.Get("due_at")); at != "" {
			// datetime-local sends "2026-11-06T15:00" with no zone: the UI shows UTC.
			t, err := time.Parse("2006-01-02T15:04", at)
			if err != nil {
				return &apperr.Invalid{Errors: []apperr.FieldError{{Field: "due_at", Message: "must be a date and time"}}}
			}
			in.DueAt = t.UTC().Format(time.RFC3339)
		}
		if f.Has("hold_shown") { // the checkbox was on the form: unticked means no hold
			hold := f.Get("hold") != ""
			in.Hold = &hold
		}
		_, err := u.s.app.Handoffs.Create(r.Context(), a, ref, in, nil)
		return err
	})
}

// postHandoffAction runs one action from the case page, the queue or the
// handoff's page, then goes back there (next); on a refusal it shows the
// case page (when it came from there) or the handoff's page with the reason.
func (u *ui) postHandoffAction(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := handoffID(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	f := r.PostForm
	next := "/handoffs/" + strconv.FormatInt(id, 10)
	if n := f.Get("next"); n != "" {
		next = safeNext(n)
	}
	_, err = u.s.app.Handoffs.Do(r.Context(), a, id, f.Get("action"), f.Get("text"))
	if err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	p := toProblem(handoffProblem(err))
	if p.Status >= 500 || p.Status == http.StatusNotFound || p.Status == http.StatusUnauthorized {
		return err
	}
	msg := p.Detail
	if len(p.Errors) > 0 {
		msg = fieldErrorsText(p.Errors)
	}
	if strings.HasPrefix(next, "/cases/") {
		h, herr := u.s.app.Handoffs.Get(r.Context(), a, id)
		if herr == nil {
			if c, cerr := u.s.app.Cases.Get(r.Context(), a, h.Case); cerr == nil {
				return u.renderCase(w, r, a, c, p.Status, "handoff-action", msg, f)
			}
		}
	}
	return u.renderHandoff(w, r, a, id, p.Status, msg, f)
}

// --- the team's handoff queue and a handoff's page ---

// handoffsData is the handoffs page: a queue, or one handoff (One).
type handoffsData struct {
	Desk *desk.Config
	Form url.Values
	Now  time.Time

	// The queue.
	View     string // "team" (a team's queue) or "mine" (handoffs on my cases)
	Team     string // the chosen team; "" = all my teams
	Status   string // "" = open and accepted, "all", or one status
	MyTeams  []string
	Statuses []handoffs.Status
	Rows     []handoffRow
	New      []handoffRow // view "mine": answers not read yet
	NextURL  string
	News     int
	Error    string
	Here     string // this page's address, for the forms' next

	// One handoff.
	One      *handoffRow
	SeesCase bool
	Failed   string // the error of a refused action
}

const handoffPageSize = 50

func (u *ui) handoffQueue(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	ctx := r.Context()
	cfg, err := u.s.app.Desk.Config(ctx)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	d := handoffsData{Desk: cfg, Form: q, Now: u.s.app.Clock.Now(), View: "team", Team: strings.TrimSpace(q.Get("team")),
		Status: q.Get("status"), MyTeams: a.Teams, Statuses: handoffs.Statuses, Here: r.URL.RequestURI()}
	if q.Get("view") == "mine" {
		d.View = "mine"
	}
	if d.News, err = u.s.app.Handoffs.News(ctx, a, 0); err != nil {
		return err
	}
	status := http.StatusOK
	var inv *apperr.Invalid
	title := "Handoffs"
	if d.View == "mine" {
		title = "Handoffs on my cases"
		news, err := u.s.app.Handoffs.List(ctx, a, handoffs.Filter{Owner: "me", Unread: true, Limit: 200})
		if err != nil {
			return err
		}
		for _, h := range news.Handoffs {
			if h.CaseStatus.Active() {
				d.New = append(d.New, handoffRow{Handoff: h})
			}
		}
		waiting, err := u.s.app.Handoffs.List(ctx, a, handoffs.Filter{Owner: "me", Status: handoffs.ActiveStatuses,
			Limit: 200})
		if err != nil {
			return err
		}
		for _, h := range waiting.Handoffs {
			d.Rows = append(d.Rows, handoffRow{Handoff: h, Actions: handoffs.ReceiverActions(a, h)})
		}
		u.render(w, r, status, "handoffs", view{Me: &a, Title: title, Nav: "handoffs", Data: d})
		return nil
	}
	f := handoffs.Filter{Cursor: q.Get("cursor"), Limit: handoffPageSize}
	switch {
	case d.Team != "":
		f.Team = []string{d.Team}
		title = teamName(cfg, d.Team) + " handoffs"
	case len(a.Teams) > 0:
		f.Team = a.Teams
	}
	switch d.Status {
	case "":
		f.Status = handoffs.ActiveStatuses
	case "all":
	default:
		f.Status = []handoffs.Status{handoffs.Status(d.Status)}
	}
	if d.Team != "" {
		if _, ok := cfg.Team(d.Team); !ok {
			err = &apperr.Invalid{Errors: []apperr.FieldError{{Field: "team", Message: "unknown team " + strconv.Quote(d.Team)}}}
		}
	}
	var page *handoffs.Page
	if err == nil {
		page, err = u.s.app.Handoffs.List(ctx, a, f)
	}
	switch {
	case errors.As(err, &inv):
		status = http.StatusBadRequest
		d.Error = fieldErrorsText(inv.Errors)
	case err != nil:
		return err
	default:
		for _, h := range page.Handoffs { // the queue offers the receiving team's actions only
			d.Rows = append(d.Rows, handoffRow{Handoff: h, Actions: handoffs.ReceiverActions(a, h)})
		}
		if page.NextCursor != "" {
			nq := url.Values{}
			for k, v := range q {
				if k != "cursor" && len(v) > 0 && v[0] != "" {
					nq.Set(k, v[0])
				}
			}
			nq.Set("cursor", page.NextCursor)
			d.NextURL = "/handoffs?" + nq.Encode()
		}
	}
	u.render(w, r, status, "handoffs", view{Me: &a, Title: title, Nav: "handoffs", Data: d})
	return nil
}

func (u *ui) handoffPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := handoffID(r)
	if err != nil {
		return err
	}
	return u.renderHandoff(w, r, a, id, http.StatusOK, "", nil)
}

func (u *ui) renderHandoff(w http.ResponseWriter, r *http.Request, a auth.Actor, id int64, status int, failed string, form url.Values) error {
	ctx := r.Context()
	h, err := u.s.app.Handoffs.Get(ctx, a, id)
	if err != nil {
		return err
	}
	cfg, err := u.s.app.Desk.Config(ctx)
	if err != nil {
		return err
	}
	if form == nil {
		form = url.Values{}
	}
	row := handoffRow{Handoff: h, Actions: u.s.app.Handoffs.ActionsFor(ctx, a, h)}
	d := handoffsData{Desk: cfg, Form: form, Now: u.s.app.Clock.Now(), One: &row, Failed: failed,
		Here: "/handoffs/" + strconv.FormatInt(id, 10)}
	if _, err := u.s.app.Cases.Get(ctx, a, h.Case); err == nil {
		d.SeesCase = true
	}
	title := "Handoff to " + teamName(cfg, h.ToTeam) + " · " + h.Case
	u.render(w, r, status, "handoffs", view{Me: &a, Title: title, Nav: "handoffs", Data: d})
	return nil
}
