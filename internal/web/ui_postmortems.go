package web

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
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/incidents"
	"github.com/flare-desk/flare/internal/postmortems"
)

// The postmortem section of the incident command page (part_postmortem.html,
// through the postmortemFor function) with its forms, and the action items
// page per team or one's own.

// postmortemView is what the postmortem section shows.
type postmortemView struct {
	Inc        *incidents.Incident
	P          *postmortems.Postmortem // nil: not started
	Required   bool                    // the severity needs it before closing
	CanWrite   bool
	CanPublish bool
	People     []auth.User // who can own an action item
	Teams      []desk.Team
	Failed     string // the postmortem form that failed or previews ("" none)
	Error      string
	Form       url.Values
	Preview    map[string]template.HTML // section key → rendered form text
	Today      string
}

// Body is the text of section key in the edit form: what was typed when
// it failed or previews, else the stored text.
func (v *postmortemView) Body(s postmortems.DocSection) string {
	if v.Failed == "postmortem-edit" || v.Failed == "postmortem-preview" {
		if b, ok := v.Form["section."+s.Key]; ok && len(b) > 0 {
			return b[0]
		}
	}
	return s.Body
}

// addPostmortemFuncs adds the postmortem section's template function.
func (u *ui) addPostmortemFuncs(fm template.FuncMap) {
	fm["postmortemFor"] = func(v view) *postmortemView {
		d, ok := v.Data.(incidentData)
		if !ok || v.Me == nil {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), funcTimeout)
		defer cancel()
		pv, err := u.postmortemView(ctx, *v.Me, d)
		if err != nil {
			u.s.log.Warn("postmortem section", "err", err)
			return nil
		}
		return pv
	}
	fm["seesActionItems"] = func(me *auth.Actor) bool { return me != nil && postmortems.MayRead(*me) }
	fm["itemStatuses"] = func() []postmortems.Status { return postmortems.Statuses }
	// markdownHTML marks HTML the sanitising renderer (cases.Markdown) made.
	fm["markdownHTML"] = func(s string) template.HTML { return template.HTML(s) } //nolint:gosec // sanitised
}

func (u *ui) postmortemView(ctx context.Context, a auth.Actor, d incidentData) (*postmortemView, error) {
	if !postmortems.MayRead(a) {
		return nil, nil
	}
	cfg, err := u.s.app.Desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	pv := &postmortemView{Inc: d.Inc, Required: incidents.RequiresPostmortem(cfg, d.Inc.Severity), CanWrite: postmortems.MayWrite(a),
		CanPublish: postmortems.MayPublish(a), Teams: cfg.Teams, Form: d.Form, Today: u.s.app.Clock.Now().UTC().Format(time.DateOnly)}
	if strings.HasPrefix(d.Failed, "postmortem-") {
		pv.Failed, pv.Error = d.Failed, d.Error
	}
	pv.P, err = u.s.app.Postmortems.Get(ctx, a, d.Inc.Number)
	if err != nil && !errors.Is(err, apperr.ErrNotFound) {
		return nil, err
	}
	if pv.P != nil && pv.Failed == "postmortem-preview" {
		md := u.s.app.Cases.Markdown()
		pv.Preview = map[string]template.HTML{}
		for _, s := range pv.P.Sections {
			if b := pv.Body(s); strings.TrimSpace(b) != "" {
				pv.Preview[s.Key] = template.HTML(md.HTML(b)) //nolint:gosec // sanitised by cases.Markdown
			}
		}
	}
	if pv.CanWrite {
		us, err := auth.ListUsers(ctx, u.s.app.DB)
		if err != nil {
			return nil, err
		}
		for _, x := range us {
			if x.Active && x.Role != auth.RoleAccountManager {
				pv.People = append(pv.People, x)
			}
		}
	}
	return pv, nil
}

// postPostmortem runs a form of the postmortem section: start, edit (or
// preview), submit, publish, return, item (add an action item),
// item-status.
func (u *ui) postPostmortem(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	ref, action := r.PathValue("ref"), r.PathValue("action")
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	f := r.PostForm
	ctx := r.Context()
	svc := u.s.app.Postmortems
	var err error
	switch action {
	case "start":
		_, err = svc.Start(ctx, a, ref, nil)
	case "edit":
		if f.Get("preview") != "" {
			inc, gerr := u.s.app.Incidents.Get(ctx, a, ref)
			if gerr != nil {
				return gerr
			}
			return u.renderIncident(w, r, a, inc, http.StatusOK, "postmortem-preview", "", f, nil)
		}
		version, _ := strconv.Atoi(f.Get("version"))
		in := postmortems.EditInput{Version: version, Sections: map[string]string{}}
		for k, v := range f {
			if key, ok := strings.CutPrefix(k, "section."); ok && len(v) > 0 {
				in.Sections[key] = strings.ReplaceAll(v[0], "\r\n", "\n")
			}
		}
		_, err = svc.Edit(ctx, a, ref, in)
	case "submit", "publish", "return":
		to := map[string]postmortems.State{"submit": postmortems.InReview, "publish": postmortems.Published, "return": postmortems.Draft}[action]
		_, err = svc.Transition(ctx, a, ref, postmortems.TransitionInput{To: to, Note: f.Get("note")})
	case "item":
		_, err = svc.CreateItem(ctx, a, ref, postmortems.ItemInput{Title: f.Get("title"), Owner: f.Get("owner"),
			Team: f.Get("team"), DueDate: f.Get("due_date")}, nil)
	case "item-status":
		err = u.itemStatus(ctx, a, f)
	default:
		return apperr.ErrNotFound
	}
	if err == nil {
		http.Redirect(w, r, "/incidents/"+url.PathEscape(ref)+"#postmortem", http.StatusSeeOther)
		return nil
	}
	p := toProblem(err)
	if p.Status >= 500 || p.Status == http.StatusNotFound || p.Status == http.StatusUnauthorized {
		return err
	}
	inc, gerr := u.s.app.Incidents.Get(ctx, a, ref)
	if gerr != nil {
		return gerr
	}
	return u.renderIncident(w, r, a, inc, p.Status, "postmortem-"+action, problemText(p), f, nil)
}

// itemStatus moves the action item the form names to its status.
func (u *ui) itemStatus(ctx context.Context, a auth.Actor, f url.Values) error {
	id, err := strconv.ParseInt(f.Get("id"), 10, 64)
	if err != nil || id <= 0 {
		return apperr.InvalidField("id", "no action item")
	}
	st := postmortems.Status(f.Get("status"))
	_, err = u.s.app.Postmortems.UpdateItem(ctx, a, id, postmortems.ItemPatch{Status: &st})
	return err
}

// actionItemsData is the action items page.
type actionItemsData struct {
	Items []postmortems.ActionItem
	Teams []desk.Team
	Team  string
	Mine  bool
	State string
	Here  string
	Error string
	Me    string
	Write bool
}

// actionItemsPage lists action items: one team's, or one's own (mine=1),
// open by default, overdue ones flagged.
func (u *ui) actionItemsPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	ctx := r.Context()
	cfg, err := u.s.app.Desk.Config(ctx)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	d := actionItemsData{Teams: cfg.Teams, Team: q.Get("team"), Mine: q.Get("mine") == "1", State: q.Get("state"),
		Here: r.URL.RequestURI(), Me: a.Email, Write: postmortems.MayWrite(a)}
	if d.State == "" {
		d.State = postmortems.StateActive
	}
	fl := postmortems.Filter{Team: d.Team, State: d.State}
	if d.Mine {
		fl.Owner = a.Email
	}
	status := http.StatusOK
	d.Items, err = u.s.app.Postmortems.ListItems(ctx, a, fl)
	var inv *apperr.Invalid
	switch {
	case errors.As(err, &inv):
		status, d.Error = http.StatusBadRequest, fieldErrorsText(inv.Errors)
	case err != nil:
		return err
	}
	u.render(w, r, status, "action_items", view{Me: &a, Title: "Action items", Nav: "action_items", Data: d})
	return nil
}

// postActionItem changes an item's status from the action items page.
func (u *ui) postActionItem(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	f := r.PostForm
	f.Set("id", r.PathValue("id"))
	if err := u.itemStatus(r.Context(), a, f); err != nil {
		return err
	}
	next := f.Get("next")
	if !strings.HasPrefix(next, "/action-items") {
		next = "/action-items"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}
