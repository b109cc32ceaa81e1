package web

// Incidents in the UI: the list with the declare form (/incidents), the
// command page (/incidents/INC-7: header with severity, status, roles and
// running clocks; the timeline with quick-add note and decision; the update
// composer with preview; linked cases with counts by market and status; a
// place for the postmortem), the banner across Flare while a SEV1 or SEV2
// is open (layout.html) and the banner on a linked case's page.

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/incidents"
	"github.com/flare-desk/flare/internal/postmortems"
)

// addIncidentFuncs adds the template functions of the incident parts of
// the layout and the case page.
func (u *ui) addIncidentFuncs(fm template.FuncMap) {
	fm["majorIncidents"] = func(v view) []*incidents.Incident {
		if v.Me == nil {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), funcTimeout)
		defer cancel()
		incs, err := u.s.app.Incidents.OpenMajor(ctx, *v.Me)
		if err != nil {
			u.s.log.Warn("open incidents", "err", err)
		}
		return incs
	}
	fm["caseIncidents"] = func(me *auth.Actor, c *cases.Case) []incidents.Banner {
		if me == nil || c == nil {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), funcTimeout)
		defer cancel()
		bs, err := u.s.app.Incidents.ForCase(ctx, *me, c.Number)
		if err != nil {
			u.s.log.Warn("case incidents", "err", err)
		}
		return bs
	}
	fm["mayDeclare"] = func(me *auth.Actor) bool { return me != nil && incidents.MayWrite(*me) }
	fm["since"] = func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return countdown(u.s.app.Clock.Now().Sub(*t))
	}
	fm["dur"] = func(s *int64) string {
		if s == nil {
			return "—"
		}
		return countdown(time.Duration(*s) * time.Second)
	}
	fm["incidentSummary"] = incidentSummary
	fm["momentNames"] = func() []incidents.Moment { return incidents.Moments }
}

// incidentSummary is a timeline entry in words (after who did it).
func incidentSummary(e incidents.Entry) string {
	s := func(k string) string { return dataString(e.Data, k) }
	switch e.Kind {
	case "declared":
		return "declared the incident (" + s("severity") + ", " + humanize(s("type")) + ")"
	case "status":
		if flagOf(e.Data, "reopened") {
			return "reopened it: " + humanize(s("from")) + " → " + humanize(s("to"))
		}
		return "changed the status " + humanize(s("from")) + " → " + humanize(s("to"))
	case "severity":
		return "changed the severity " + s("from") + " → " + s("to")
	case "role_assigned":
		return "made " + s("to_name") + " " + s("role_name")
	case "role_handed_over":
		return "handed " + s("role_name") + " over from " + s("from") + " to " + s("to_name")
	case "moment":
		return "key moment: " + s("moment")
	case "moment_corrected":
		t, _ := time.Parse(time.RFC3339Nano, s("to"))
		return "corrected " + s("moment") + " to " + fmtTime(t)
	case "paged":
		if s("round") != "0" && s("round") != "" {
			return "paged again (nobody acknowledged), stepping up"
		}
		return "paged the on-call commander"
	case "acknowledged":
		return "acknowledged the page"
	case "update_posted":
		return "sent a " + humanize(s("audience")) + " update to " + s("recipients") + " people"
	case "update_due":
		return "a status update is due" + func() string {
			if to := s("to"); to != "" {
				return " (reminded " + to + ")"
			}
			return ""
		}()
	case "alert_group_resolved":
		return "heard from Alertmanager: every alert of the group " + s("group") + " resolved (rule " + s("rule") + ")"
	case "cases_linked":
		return "linked " + s("count") + " case(s) (" + humanize(strings.TrimPrefix(s("via"), "rule:")) + ")"
	case "case_unlinked":
		return "unlinked " + s("case")
	case "bulk_resolve_started":
		return "started resolving " + s("cases") + " linked cases with one reply"
	case "cases_resolved":
		return "resolved " + s("done") + " linked cases (" + s("skipped") + " skipped)"
	case "note":
		return "noted"
	case "decision":
		return "decided"
	}
	return humanize(e.Kind)
}

func flagOf(data map[string]any, k string) bool { b, _ := data[k].(bool); return b }

// incidentsData is the incidents list page.
type incidentsData struct {
	Incidents []*incidents.Incident
	Status    string
	Defs      *incidents.Definitions
	Markets   []string
	Form      url.Values
	Error     string
	CanWrite  bool
}

func (u *ui) incidentsPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	return u.renderIncidents(w, r, a, http.StatusOK, "", r.URL.Query())
}

func (u *ui) renderIncidents(w http.ResponseWriter, r *http.Request, a auth.Actor, status int, msg string, form url.Values) error {
	f := incidents.Filter{Limit: 100}
	st := r.URL.Query().Get("status")
	switch st {
	case "", "open":
		st, f.Status = "open", incidents.Open
	case "all":
	default:
		f.Status = []incidents.Status{incidents.Status(st)}
	}
	page, err := u.s.app.Incidents.List(r.Context(), a, f)
	if err != nil {
		return err
	}
	defs, err := u.s.app.Incidents.Definitions(r.Context())
	if err != nil {
		return err
	}
	cfg, err := u.s.app.Desk.Config(r.Context())
	if err != nil {
		return err
	}
	d := incidentsData{Incidents: page.Incidents, Status: st, Defs: defs, Form: form, Error: msg, CanWrite: incidents.MayWrite(a)}
	for _, m := range cfg.Markets {
		d.Markets = append(d.Markets, m.Code)
	}
	u.render(w, r, status, "incidents", view{Me: &a, Title: "Incidents", Nav: "incidents", Data: d})
	return nil
}

// postDeclare is the declare form (from scratch, or from a case).
func (u *ui) postDeclare(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	f := r.PostForm
	in := incidents.DeclareInput{Title: f.Get("title"), Summary: f.Get("summary"), Type: incidents.Type(f.Get("type")),
		Severity: incidents.Severity(f.Get("severity")), Markets: f["markets"], Case: f.Get("case")}
	inc, err := u.s.app.Incidents.Declare(r.Context(), a, in, nil)
	if err != nil {
		p := toProblem(err)
		if p.Status >= 500 || p.Status == http.StatusUnauthorized {
			return err
		}
		return u.renderIncidents(w, r, a, p.Status, problemText(p), f)
	}
	http.Redirect(w, r, "/incidents/"+inc.Number, http.StatusSeeOther)
	return nil
}

// problemText is a problem's detail with its field errors.
func problemText(p *Problem) string {
	msg := p.Detail
	for _, e := range p.Errors {
		msg += " " + e.Field + ": " + e.Message + "."
	}
	return strings.TrimSpace(msg)
}

// incidentData is the command page.
type incidentData struct {
	Inc        *incidents.Incident
	Defs       *incidents.Definitions
	Severity   incidents.SeverityDef
	Timeline   []incidents.Entry
	Updates    []incidents.Update
	Linked     *incidents.LinkedPage
	Impact     postmortems.Impact
	Markets    []kv
	Statuses   []kv
	Bulk       *incidents.Bulk
	Durations  incidents.Durations
	Next       []incidents.Status // the statuses it may move to
	Templates  map[incidents.Audience][]string
	Resolve    []string // the resolve templates
	Resolution []string
	Preview    *incidents.Preview
	Subscribed bool
	CanWrite   bool
	CanAck     bool
	CanBulk    bool
	Form       url.Values
	Failed     string // the form that failed
	Error      string
	Flash      string
}

type kv struct {
	Key string
	N   int
}

func sortedCounts(m map[string]int) []kv {
	out := make([]kv, 0, len(m))
	for k, n := range m {
		out = append(out, kv{k, n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].N > out[j].N || (out[i].N == out[j].N && out[i].Key < out[j].Key) })
	return out
}

func (u *ui) incidentPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	ref := r.PathValue("ref")
	inc, err := u.s.app.Incidents.Get(r.Context(), a, ref)
	if err != nil {
		return err
	}
	if ref != inc.Number {
		http.Redirect(w, r, "/incidents/"+inc.Number, http.StatusFound)
		return nil
	}
	return u.renderIncident(w, r, a, inc, http.StatusOK, "", "", nil, nil)
}

func (u *ui) renderIncident(w http.ResponseWriter, r *http.Request, a auth.Actor, inc *incidents.Incident, status int,
	failed, msg string, form url.Values, preview *incidents.Preview) error {
	ctx := r.Context()
	svc := u.s.app.Incidents
	cfg, err := u.s.app.Desk.Config(ctx)
	if err != nil {
		return err
	}
	if form == nil {
		form = url.Values{}
	}
	d := incidentData{Inc: inc, Severity: incidents.SeverityOf(cfg, inc.Severity), Durations: incidents.DurationsOf(inc.Moments),
		CanWrite: incidents.MayWrite(a), CanBulk: incidents.MayBulkResolve(a, inc), Form: form, Failed: failed, Error: msg,
		Preview: preview, Templates: map[incidents.Audience][]string{}, Resolution: cfg.Resolutions, Flash: r.URL.Query().Get("done")}
	if d.Defs, err = svc.Definitions(ctx); err != nil {
		return err
	}
	if d.Timeline, err = svc.Timeline(ctx, a, inc.Number); err != nil {
		return err
	}
	slices.Reverse(d.Timeline) // newest first
	if d.Updates, err = svc.Updates(ctx, a, inc.Number); err != nil {
		return err
	}
	if d.Linked, err = svc.Linked(ctx, a, inc.Number, "", 100); err != nil {
		return err
	}
	d.Markets, d.Statuses = sortedCounts(d.Linked.Summary.ByMarket), sortedCounts(d.Linked.Summary.ByStatus)
	if d.Impact, err = u.s.app.Postmortems.Impact(ctx, a, inc.Number); err != nil { // the money at stake, counted once
		return err
	}
	if d.Bulk, err = svc.LatestBulk(ctx, a, inc.Number); err != nil {
		return err
	}
	if d.Subscribed, err = svc.Subscribed(ctx, a, inc.ID); err != nil {
		return err
	}
	for _, st := range incidents.Statuses {
		if incidents.CheckTransition(inc.Status, st) == nil {
			d.Next = append(d.Next, st)
		}
	}
	for _, au := range incidents.Audiences {
		for _, t := range incidents.TemplatesFor(cfg, inc.Type, au, "update") {
			d.Templates[au] = append(d.Templates[au], t.Name)
		}
	}
	for _, t := range incidents.TemplatesFor(cfg, inc.Type, incidents.AudiencePublic, "resolve") {
		d.Resolve = append(d.Resolve, t.Name)
	}
	if p := inc.Paging; p != nil && p.AckedAt == nil && d.CanWrite {
		d.CanAck = slices.Contains(p.Targets, a.Email) || a.InTeam(p.Team) || a.Role == auth.RoleLead || a.Role == auth.RoleAdmin
	}
	u.render(w, r, status, "incident", view{Me: &a, Title: inc.Number + " " + inc.Title, Nav: "incidents", Data: d})
	return nil
}

// postIncident runs one of the command page's forms; on success back to
// the page (at the form's section), on a refusal the page with the message.
func (u *ui) postIncident(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	ref, action := r.PathValue("ref"), r.PathValue("action")
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	f := r.PostForm
	ctx := r.Context()
	svc := u.s.app.Incidents
	anchor, done := "", ""
	var preview *incidents.Preview
	var err error
	switch action {
	case "transition":
		_, err = svc.Transition(ctx, a, ref, incidents.TransitionInput{To: incidents.Status(f.Get("to")), Reason: f.Get("reason")})
	case "severity":
		_, err = svc.SetSeverity(ctx, a, ref, incidents.SeverityInput{Severity: incidents.Severity(f.Get("severity")), Reason: f.Get("reason")})
	case "role":
		anchor = "roles"
		_, err = svc.AssignRole(ctx, a, ref, f.Get("role"), incidents.RoleInput{Email: f.Get("email")})
	case "ack":
		_, err = svc.Acknowledge(ctx, a, ref)
	case "note":
		anchor = "timeline"
		_, err = svc.AddNote(ctx, a, ref, incidents.NoteInput{Body: f.Get("body"), Decision: f.Get("decision") != ""})
	case "moment":
		anchor = "moments"
		var at *time.Time
		if s := f.Get("at"); s != "" {
			t, perr := time.Parse("2006-01-02T15:04", s)
			if perr != nil {
				err = apperr.InvalidField("at", "give a date and time (UTC)")
				break
			}
			at = &t
		}
		_, err = svc.CorrectMoment(ctx, a, ref, incidents.Moment(f.Get("moment")), incidents.MomentInput{At: at, Reason: f.Get("reason")})
	case "update":
		anchor = "updates"
		in := incidents.UpdateInput{Audience: incidents.Audience(f.Get("audience")), Template: f.Get("template"), Body: f.Get("body")}
		if f.Get("preview") != "" {
			preview, err = svc.Compose(ctx, a, ref, in)
			if err == nil {
				inc, gerr := svc.Get(ctx, a, ref)
				if gerr != nil {
					return gerr
				}
				return u.renderIncident(w, r, a, inc, http.StatusOK, "", "", f, preview)
			}
			break
		}
		_, err = svc.PostUpdate(ctx, a, ref, in)
		done = "update"
	case "link":
		anchor = "cases"
		var refs []string
		for _, x := range strings.FieldsFunc(f.Get("cases"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' }) {
			refs = append(refs, x)
		}
		in := incidents.LinkInput{Cases: refs}
		if q := strings.TrimSpace(f.Get("q")); q != "" && len(refs) == 0 {
			in = incidents.LinkInput{Filter: &cases.ListFilter{Q: q}}
		}
		_, err = svc.Link(ctx, a, ref, in)
	case "resolve":
		// Resolve the incident (if it is not yet) and reply to every linked case.
		anchor = "cases"
		inc, gerr := svc.Get(ctx, a, ref)
		if gerr != nil {
			return gerr
		}
		if inc.Status.Active() {
			if _, err = svc.Transition(ctx, a, ref, incidents.TransitionInput{To: incidents.Resolved}); err != nil {
				break
			}
		}
		_, err = svc.BulkResolve(ctx, a, ref, incidents.BulkInput{Template: f.Get("template"), Body: f.Get("body"),
			Resolution: f.Get("resolution"), Note: f.Get("note")})
		done = "resolve"
	case "subscribe":
		err = svc.Subscribe(ctx, a, ref, f.Get("on") == "1")
	default:
		return apperr.ErrNotFound
	}
	if err == nil {
		target := "/incidents/" + url.PathEscape(ref)
		if done != "" {
			target += "?done=" + done
		}
		if anchor != "" {
			target += "#" + anchor
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return nil
	}
	p := toProblem(err)
	if p.Status >= 500 || p.Status == http.StatusNotFound || p.Status == http.StatusUnauthorized {
		return err
	}
	inc, gerr := svc.Get(ctx, a, ref)
	if gerr != nil {
		return gerr
	}
	return u.renderIncident(w, r, a, inc, p.Status, action, problemText(p), f, nil)
}
