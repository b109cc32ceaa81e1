package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/assignment"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/desk"
)

// Assignment pages: take-next from the queue, a team's people (away,
// shift, load) and, for admins and leads, why the rules routed a case.

// takeNext claims the next case and opens it; a refusal goes back to the
// team's queue with the reason.
func (u *ui) takeNext(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	team := r.PostForm.Get("team")
	c, err := u.s.app.Assignment.TakeNext(r.Context(), a, team)
	if err != nil {
		p := toProblem(err)
		if p.Status >= 500 || p.Status == http.StatusUnauthorized {
			return err
		}
		http.Redirect(w, r, "/cases?"+url.Values{"team": {team}, "take": {p.Detail}}.Encode(), http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, caseURL(r, c.Number), http.StatusSeeOther)
	return nil
}

// teamData is the team page.
type teamData struct {
	Team    desk.Team
	Agents  []assignment.AgentStatus
	Me      *assignment.AgentStatus
	CanSet  bool // may set anyone away (lead, admin)
	Message string
	Flash   string // the confirmation of the last away change (ui_casepage.go's flash)
	Now     time.Time
}

func (u *ui) teamPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	return u.renderTeam(w, r, a, http.StatusOK, r.URL.Query().Get("msg"))
}

func (u *ui) renderTeam(w http.ResponseWriter, r *http.Request, a auth.Actor, status int, msg string) error {
	cfg, err := u.s.app.Desk.Config(r.Context())
	if err != nil {
		return err
	}
	t, ok := cfg.Team(r.PathValue("team"))
	if !ok {
		return apperr.ErrNotFound
	}
	agents, err := u.s.app.Assignment.Agents(r.Context(), a, t.Key)
	if err != nil {
		return err
	}
	d := teamData{Team: t, Agents: agents, CanSet: assignment.MaySetOthersAway(a), Message: msg,
		Now: u.s.app.Clock.Now(), Flash: takeFlash(w, r)}
	if i := slices.IndexFunc(agents, func(s assignment.AgentStatus) bool { return strings.EqualFold(s.Email, a.Email) }); i >= 0 {
		d.Me = &agents[i]
	}
	u.render(w, r, status, "team", view{Me: &a, Title: t.Name, Nav: "team", Data: d})
	return nil
}

// postAway sets someone away or back from the team page.
func (u *ui) postAway(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	f := r.PostForm
	in := assignment.AwayInput{Away: f.Get("away") == "1", Note: f.Get("note")}
	if v := strings.TrimSpace(f.Get("until")); v != "" && in.Away {
		t, err := time.ParseInLocation("2006-01-02T15:04", v, time.UTC)
		if err != nil {
			return u.renderTeam(w, r, a, http.StatusBadRequest, "Back on: give a date and time.")
		}
		in.Until = &t
	}
	email := f.Get("email")
	if email == "" {
		email = a.Email
	}
	// Marking someone else away stops their cases: the team hears why.
	if in.Away && !strings.EqualFold(email, a.Email) && strings.TrimSpace(in.Note) == "" {
		return u.renderTeam(w, r, a, http.StatusUnprocessableEntity, "Say why "+email+" is away: the note tells the team.")
	}
	if err := u.s.app.Assignment.SetAway(r.Context(), a, email, in); err != nil {
		p := toProblem(err)
		if p.Status >= 500 || p.Status == http.StatusUnauthorized {
			return err
		}
		msg := p.Detail
		if len(p.Errors) > 0 {
			msg = fieldErrorsText(p.Errors)
		}
		return u.renderTeam(w, r, a, p.Status, msg)
	}
	switch who := email; {
	case strings.EqualFold(who, a.Email) && in.Away:
		setFlash(w, "You are away: you get no new cases until you are back.")
	case strings.EqualFold(who, a.Email):
		setFlash(w, "Welcome back: cases come to you again.")
	case in.Away:
		setFlash(w, who+" is marked away.")
	default:
		setFlash(w, who+" is marked back.")
	}
	http.Redirect(w, r, "/teams/"+url.PathEscape(r.PathValue("team")), http.StatusSeeOther)
	return nil
}

// addAssignFuncs adds the template functions for routing and assignment
// entries on a case's timeline.
func (u *ui) addAssignFuncs(fm template.FuncMap) {
	fm["isAssignEvent"] = func(typ string) bool { return typ == "routed" || typ == "assigned" || typ == "unassigned" }
	fm["assignSummary"] = assignSummary
	fm["assignLines"] = assignLines
}

// viaText names how an owner was found.
var viaText = map[string]string{"take_next": "took the next case", "round_robin": "round robin",
	"least_loaded": "least loaded", "routing_rule": "a routing rule"}

// assignSummary is the line of a routed, assigned or unassigned entry.
func assignSummary(e cases.Event) string {
	switch e.Type {
	case "routed":
		rules, _ := e.Data["rules"].([]any)
		names := make([]string, len(rules))
		for i, r := range rules {
			names[i] = fmt.Sprintf("“%v”", r)
		}
		return "routed the case: " + strings.Join(names, ", ")
	case "assigned":
		via := dataString(e.Data, "via")
		if t, ok := viaText[via]; ok {
			via = t
		}
		return "assigned it to " + dataString(e.Data, "owner") + " (" + via + ")"
	}
	return "found no eligible owner (" + humanize(dataString(e.Data, "strategy")) + ")"
}

// assignLines are the details under the entry: what each rule changed,
// who was passed over and why.
func assignLines(e cases.Event) []string {
	var out []string
	if chs, ok := e.Data["changes"].([]any); ok {
		for _, x := range chs {
			m, _ := x.(map[string]any)
			line := fmt.Sprintf("%v: %s %v", m["rule"], strings.ReplaceAll(fmt.Sprint(m["action"]), "_", " "), m["value"])
			if was := fmt.Sprint(m["was"]); m["was"] != nil && was != "" {
				line += " (was " + was + ")"
			}
			out = append(out, line)
		}
	}
	for _, k := range []string{"escalate", "notify"} {
		if v := dataString(e.Data, k); v != "" {
			out = append(out, k+": "+v)
		}
	}
	if sk, ok := e.Data["skipped"].([]any); ok {
		for _, x := range sk {
			m, _ := x.(map[string]any)
			out = append(out, fmt.Sprintf("passed over %v: %v", m["agent"], m["reason"]))
		}
	}
	return out
}
