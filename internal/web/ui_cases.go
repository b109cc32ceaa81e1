package web

import (
	"errors"
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
	"github.com/flare-desk/flare/internal/macros"
)

// queuePageSize is how many cases one queue page lists.
const queuePageSize = 50

// queueData is the queue page.
type queueData struct {
	Form     url.Values // the filter as submitted
	Cases    []*cases.Case
	NextURL  string
	Error    string
	Filtered bool // any filter other than the default is set
	Desk     *desk.Config
	Statuses []cases.Status
	// The "breaching soon" view (?view=breaching).
	Breaching bool
	Checked   int  // active cases looked at
	Capped    bool // there were more than breachingScan active cases
	// Take-next: the teams the user may take from, and why the last try
	// gave nothing.
	TakeTeams []desk.Team
	TakeMsg   string
	// The list's name and navigation entry; ListQ is its filter as a query
	// (a case opened from it carries it as ?list=, split.go), ListURL its page.
	ListTitle, ListNav string
	ListQ, ListURL     string
	// The list side (ui_list.go): totals, snippets, sort, saved views, bulk.
	listExtras
}

// The "breaching soon" view lists active cases whose most urgent SLA clock
// is breached or due within breachingWindow, soonest first. The case list
// cannot filter by clocks yet, so it checks the breachingScan most urgent
// active cases by priority here.
const (
	breachingWindow = 4 * time.Hour
	breachingScan   = 200
)

// queue lists the cases the user may see, most urgent first.
func (u *ui) queue(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	cfg, err := u.s.app.Desk.Config(r.Context())
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if q.Get("view") == "breaching" {
		return u.breachingQueue(w, r, a, cfg, q)
	}
	d := queueData{Form: q, Desk: cfg, Statuses: cases.Statuses, TakeTeams: assignment.TakeTeams(a, cfg), TakeMsg: q.Get("take")}
	if err := u.loadListExtras(r, a, q, &d); err != nil {
		return err
	}
	status, err := u.listQueue(r, a, q, &d)
	if err != nil {
		return err
	}
	u.render(w, r, status, "queue", view{Me: &a, Title: d.ListTitle, Nav: d.ListNav, Data: d})
	return nil
}

// listQueue fills d with the queue's cases for the filter q (the queue page,
// and the list pane beside a case opened from it); an invalid filter is the
// status 400 with d.Error set.
func (u *ui) listQueue(r *http.Request, a auth.Actor, q url.Values, d *queueData) (int, error) {
	// Priority, then the due instant of the most urgent clock.
	f := cases.ListFilter{Sort: queueSort(q), Limit: queuePageSize, Q: strings.TrimSpace(q.Get("q")), Cursor: q.Get("cursor"), Count: true}
	// Saved views link here with comma lists.
	one := func(k string) []string { return splitList(q[k]) }
	f.Team, f.Priority, f.Market = one("team"), one("priority"), one("market")
	switch st := q.Get("status"); st {
	case "":
		f.Status = cases.ActiveStatuses
	case "all":
	default:
		for _, s := range splitList(q["status"]) {
			f.Status = append(f.Status, cases.Status(s))
		}
	}
	switch o := q.Get("owner"); o {
	case "", "me", "none":
		f.Owner = o
	default:
		f.Owner = "none_of_these" // reported below
	}
	for _, k := range []string{"q", "team", "status", "priority", "market", "owner", "sort"} {
		if q.Get(k) != "" {
			d.Filtered = true
		}
	}
	d.ListNav, d.ListTitle = "queue", "Queue"
	if f.Owner == "me" {
		d.ListNav, d.ListTitle = "mine", "My cases"
	}
	d.ListQ = listQuery(q)
	d.ListURL = "/cases"
	if d.ListQ != "" {
		d.ListURL += "?" + d.ListQ
	}
	status := http.StatusOK
	var page *cases.Page
	var err error
	if f.Owner == "none_of_these" {
		err = &apperr.Invalid{Errors: []apperr.FieldError{{Field: "owner", Message: "must be anyone, me or unassigned"}}}
	} else {
		page, err = u.s.app.Cases.List(r.Context(), a, f)
	}
	var inv *apperr.Invalid
	switch {
	case errors.As(err, &inv):
		status = http.StatusBadRequest
		d.Error = fieldErrorsText(inv.Errors)
	case err != nil:
		return 0, err
	default:
		d.Cases = page.Cases
		d.setPage(page)
		if page.NextCursor != "" {
			nq := url.Values{}
			for k, v := range q {
				if k != "cursor" && len(v) > 0 && v[0] != "" {
					nq.Set(k, v[0])
				}
			}
			nq.Set("cursor", page.NextCursor)
			d.NextURL = "/cases?" + nq.Encode()
		}
	}
	return status, nil
}

// breachingQueue is the "breaching soon" view of the queue, optionally for
// one team.
func (u *ui) breachingQueue(w http.ResponseWriter, r *http.Request, a auth.Actor, cfg *desk.Config, q url.Values) error {
	f := cases.ListFilter{Status: cases.ActiveStatuses, Sort: "priority", Limit: breachingScan}
	if t := strings.TrimSpace(q.Get("team")); t != "" {
		f.Team = []string{t}
	}
	d := queueData{Form: q, Desk: cfg, Statuses: cases.Statuses, Breaching: true, Filtered: q.Get("team") != ""}
	status := http.StatusOK
	page, err := u.s.app.Cases.List(r.Context(), a, f)
	var inv *apperr.Invalid
	switch {
	case errors.As(err, &inv):
		status = http.StatusBadRequest
		d.Error = fieldErrorsText(inv.Errors)
	case err != nil:
		return err
	default:
		d.Checked, d.Capped = len(page.Cases), page.NextCursor != ""
		d.Cases = breachingSoon(page.Cases, u.s.app.Clock.Now(), breachingWindow)
	}
	u.render(w, r, status, "queue", view{Me: &a, Title: "Breaching soon", Nav: "breaching", Data: d})
	return nil
}

// breachingSoon keeps the cases whose most urgent clock is counting and is
// breached or due before now+window, sorted by that due time (then by the
// order given, which is by priority).
func breachingSoon(cs []*cases.Case, now time.Time, window time.Duration) []*cases.Case {
	type hit struct {
		c   *cases.Case
		due time.Time
	}
	var hits []hit
	for _, c := range cs {
		ck, ok := urgentClock(c.SLA)
		if !ok || (ck.State != "running" && ck.State != "breached") {
			continue
		}
		var due time.Time
		switch {
		case ck.DueAt != nil:
			due = *ck.DueAt
		case ck.State == "breached":
			due = now.Add(time.Duration(ck.RemainingSeconds) * time.Second)
		default:
			continue
		}
		if ck.State == "breached" || due.Before(now.Add(window)) {
			hits = append(hits, hit{c, due})
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return a.due.Compare(b.due) })
	out := make([]*cases.Case, len(hits))
	for i, h := range hits {
		out[i] = h.c
	}
	return out
}

func fieldErrorsText(errs []apperr.FieldError) string {
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.Field + " " + e.Message
	}
	return strings.Join(parts, "; ")
}

// --- new case ---

// newCaseData is the new-case form.
type newCaseData struct {
	Form     url.Values
	Errors   map[string]string // by form field name
	Other    []string          // errors that belong to no field on the form
	Desk     *desk.Config
	Groups   []categoryGroup
	Channels []cases.Channel
}

type categoryGroup struct {
	Name       string
	Categories []desk.Category
}

func groupCategories(cfg *desk.Config) []categoryGroup {
	var out []categoryGroup
	idx := map[string]int{}
	for _, c := range cfg.Categories {
		g := c.Group()
		i, ok := idx[g]
		if !ok {
			i = len(out)
			idx[g] = i
			out = append(out, categoryGroup{Name: humanize(g)})
		}
		out[i].Categories = append(out[i].Categories, c)
	}
	return out
}

func (u *ui) newCasePage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if !a.Can(auth.PermCaseCreate) {
		return &apperr.Forbidden{Detail: "Your role cannot create cases."}
	}
	cfg, err := u.s.app.Desk.Config(r.Context())
	if err != nil {
		return err
	}
	form := url.Values{"channel": {"web_form"}, "sensitivity": {"normal"}}
	if len(a.Markets) == 1 {
		form.Set("market", a.Markets[0])
	}
	for _, k := range []string{"category", "market"} { // ?category=… preselects, handy for links
		if v := r.URL.Query().Get(k); v != "" {
			form.Set(k, v)
		}
	}
	u.renderNewCase(w, r, a, http.StatusOK, cfg, form, nil)
	return nil
}

func (u *ui) renderNewCase(w http.ResponseWriter, r *http.Request, a auth.Actor, status int, cfg *desk.Config,
	form url.Values, errs []apperr.FieldError) {
	d := newCaseData{Form: form, Errors: map[string]string{}, Desk: cfg, Groups: groupCategories(cfg), Channels: cases.Channels}
	known := map[string]bool{"title": true, "description": true, "category": true, "market": true, "channel": true,
		"seller_id": true, "requester.name": true, "requester.email": true, "language": true, "tags": true,
		"sensitivity": true, "high_risk": true}
	cat := form.Get("category")
	for _, e := range errs {
		name := e.Field
		if strings.HasPrefix(name, "tags[") {
			name = "tags"
		}
		if key, ok := strings.CutPrefix(name, "fields."); ok {
			if _, def := cfg.Category(cat); def {
				name = "field." + cat + "." + key
				known[name] = true
			}
		}
		switch {
		case !known[name]:
			d.Other = append(d.Other, e.Field+": "+e.Message)
		case d.Errors[name] != "":
			d.Errors[name] += "; " + e.Message
		default:
			d.Errors[name] = e.Message
		}
	}
	u.render(w, r, status, "new", view{Me: &a, Title: "New case", Nav: "new", Data: d})
}

func (u *ui) createCase(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if !a.Can(auth.PermCaseCreate) {
		return &apperr.Forbidden{Detail: "Your role cannot create cases."}
	}
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	cfg, err := u.s.app.Desk.Config(r.Context())
	if err != nil {
		return err
	}
	f := r.PostForm
	in := cases.CreateInput{
		Title:       f.Get("title"),
		Description: f.Get("description"),
		Category:    strings.TrimSpace(f.Get("category")),
		Market:      f.Get("market"),
		Channel:     cases.Channel(f.Get("channel")),
		Language:    f.Get("language"),
		SellerID:    f.Get("seller_id"),
		HighRisk:    f.Get("high_risk") != "",
		Sensitivity: f.Get("sensitivity"),
		Tags:        splitTags(f.Get("tags")),
	}
	if name, email := strings.TrimSpace(f.Get("requester.name")), strings.TrimSpace(f.Get("requester.email")); name != "" || email != "" {
		in.Requester = &cases.Requester{Name: name, Email: email}
	}
	if cat, ok := cfg.Category(in.Category); ok {
		in.Fields = formFields(f, cat)
	}
	c, err := u.s.app.Cases.Create(r.Context(), a, in, nil)
	if err != nil {
		if p := toProblem(err); p.Status == http.StatusUnprocessableEntity || p.Status == http.StatusBadRequest {
			errs := p.Errors
			if len(errs) == 0 {
				errs = []apperr.FieldError{{Field: "form", Message: p.Detail}}
			}
			u.renderNewCase(w, r, a, p.Status, cfg, f, errs)
			return nil
		}
		return err
	}
	http.Redirect(w, r, "/cases/"+c.Number, http.StatusSeeOther)
	return nil
}

// formFields reads the custom fields of cat from a form whose inputs are
// named field.<category>.<key> (money: …amount and …currency). Empty inputs
// are left out, so that required fields are reported as missing.
func formFields(f url.Values, cat desk.Category) map[string]any {
	out := map[string]any{}
	for _, fd := range cat.Fields {
		name := "field." + cat.Key + "." + fd.Key
		switch fd.Type {
		case desk.FieldMultiSelect:
			var vals []string
			for _, v := range f[name] {
				if v = strings.TrimSpace(v); v != "" {
					vals = append(vals, v)
				}
			}
			if len(vals) > 0 {
				out[fd.Key] = vals
			}
		case desk.FieldMoney:
			amount := strings.TrimSpace(f.Get(name + ".amount"))
			if amount != "" {
				m := map[string]any{"amount": amount}
				if cur := strings.TrimSpace(f.Get(name + ".currency")); cur != "" {
					m["currency"] = cur
				}
				out[fd.Key] = m
			}
		default:
			if v := strings.TrimSpace(f.Get(name)); v != "" {
				out[fd.Key] = v
			}
		}
	}
	return out
}

func splitTags(s string) []string {
	var out []string
	for _, t := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' }) {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// --- case page ---

// caseData is the case page.
type caseData struct {
	Case       *cases.Case
	Here       string     // the page's address (with its list, ui_split.go)
	List       *queueData // the list pane beside the case, when opened from a list
	Events     []cases.Event
	Desk       *desk.Config
	Category   desk.Category
	HasCat     bool
	Allowed    []cases.Status
	Owners     []auth.User // who may own the case, for the owner select
	CanWrite   bool
	CanComment bool
	CanNote    bool
	IsOwner    bool
	CanTake    bool          // the user may own the case and does not yet
	Merge      caseMergeData // ui_merge.go
	// A failed form post re-renders the page with its message and input.
	Failed string // "comment", "transition", "update", "edit", "macro"…
	Error  string
	Errs   map[string]string // the failed form's messages by field (ui_casepage.go)
	Form   url.Values
	Flash  string           // the confirmation of the action just done
	Macros []macros.Preview // what the composer offers
	Seller *sellerPanel
	// The edit form's custom fields (field.<category>.<key>) and the
	// description rendered from Markdown, sanitised.
	EditForm url.Values
	DescHTML template.HTML
	// CapacityWarn asks before an assignment past capacity (ui_capacity.go).
	CapacityWarn string
}

func (u *ui) casePage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	ref := r.PathValue("ref")
	c, err := u.s.app.Cases.Get(r.Context(), a, ref)
	if err != nil {
		return err
	}
	if ref != c.Number { // one address per case: /cases/ESC-1042
		to := "/cases/" + c.Number
		if r.URL.RawQuery != "" {
			to += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, to, http.StatusFound)
		return nil
	}
	return u.renderCase(w, r, a, c, http.StatusOK, "", "", nil)
}

func (u *ui) renderCase(w http.ResponseWriter, r *http.Request, a auth.Actor, c *cases.Case, status int,
	failed, msg string, form url.Values) error {
	return u.renderCaseWith(w, r, a, c, status, func(d *caseData) { d.Failed, d.Error, d.Form = failed, msg, form })
}

// renderCaseWith renders the case page with what edit sets on its data.
func (u *ui) renderCaseWith(w http.ResponseWriter, r *http.Request, a auth.Actor, c *cases.Case, status int, edit func(d *caseData)) error {
	cfg, err := u.s.app.Desk.Config(r.Context())
	if err != nil {
		return err
	}
	evs, err := u.s.app.Cases.Events(r.Context(), a, c.Number)
	if err != nil {
		return err
	}
	u.renderMergedBodies(evs) // ui_merge.go
	d := caseData{Case: c, Events: evs, Desk: cfg, Allowed: c.Status.Allowed(),
		CanWrite: a.Can(auth.PermCaseWrite), CanComment: a.Can(auth.PermCaseComment), CanNote: a.Can(auth.PermCaseInternalNote),
		IsOwner: c.OwnerID != 0 && c.OwnerID == a.UserID}
	if d.Merge, err = u.caseMerges(r, a, c); err != nil { // ui_merge.go
		return err
	}
	d.Flash = takeFlash(w, r)
	if d.CanComment || d.CanNote {
		if d.Macros, err = u.s.app.Macros.ForCase(r.Context(), a, c.Number); err != nil {
			return err
		}
	}
	if d.Seller, err = u.sellerPanel(r, a, c); err != nil {
		return err
	}
	d.DescHTML = template.HTML(u.s.app.Cases.Markdown().HTML(c.Description)) //nolint:gosec // sanitised by cases.Markdown
	d.Here = "/cases/" + c.Number
	if err := u.splitFor(r, a, &d); err != nil {
		return err
	}
	edit(&d)
	if d.Form == nil {
		d.Form = url.Values{}
	}
	if d.EditForm = d.Form; d.Failed != "edit" {
		d.EditForm = fieldsForm(cfg, c)
	}
	d.Category, d.HasCat = cfg.Category(c.Category)
	if d.CanWrite {
		if d.Owners, err = u.s.app.Cases.Owners(r.Context(), c); err != nil {
			return err
		}
		for _, usr := range d.Owners {
			if usr.ID == a.UserID && usr.ID != c.OwnerID && cases.CanOwn(usr, c.Team) {
				d.CanTake = true
			}
		}
	}
	nameChanges(d.Events, d.Owners) // ui_casepage.go
	u.render(w, r, status, "case", view{Me: &a, Title: c.Number + " " + c.Title, Data: d})
	return nil
}

// caseAction runs a form post on a case: on success back to the case page,
// on invalid input the page again with the message and the user's input.
func (u *ui) caseAction(w http.ResponseWriter, r *http.Request, a auth.Actor, which string,
	do func(ref string, f url.Values) error) error {
	ref := r.PathValue("ref")
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	r.PostForm.Del("done") // the confirmation is the action's to set, not the form's
	err := do(ref, r.PostForm)
	if err == nil {
		c, gerr := u.s.app.Cases.Get(r.Context(), a, ref)
		if gerr != nil { // e.g. the change moved the case out of the user's sight
			http.Redirect(w, r, "/cases", http.StatusSeeOther)
			return nil
		}
		msg := r.PostForm.Get("done") // set by the action, else the action's own words
		if msg == "" {
			msg = actionDone(which, r.PostForm, c)
		}
		setFlash(w, msg)
		http.Redirect(w, r, caseURL(r, c.Number), http.StatusSeeOther)
		return nil
	}
	p := toProblem(err)
	if p.Status >= 500 || p.Status == http.StatusNotFound || p.Status == http.StatusUnauthorized {
		return err
	}
	c, gerr := u.s.app.Cases.Get(r.Context(), a, ref)
	if gerr != nil {
		return gerr
	}
	msg, errs := p.Detail, map[string]string{}
	if len(p.Errors) > 0 {
		errs, msg = formErrors(p.Errors, r.PostForm.Get("category"))
	}
	return u.renderCaseWith(w, r, a, c, p.Status, func(d *caseData) {
		d.Failed, d.Error, d.Errs, d.Form = which, msg, errs, r.PostForm
	})
}

func (u *ui) postComment(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	return u.caseAction(w, r, a, "comment", func(ref string, f url.Values) error {
		internal := f.Get("internal") != ""
		if !a.Can(auth.PermCaseComment) && a.Can(auth.PermCaseInternalNote) {
			internal = true // QA write internal notes only
		}
		_, err := u.s.app.Cases.AddComment(r.Context(), a, ref, cases.CommentInput{Body: f.Get("body"), Internal: internal})
		return err
	})
}

func (u *ui) postTransition(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	return u.caseAction(w, r, a, "transition", func(ref string, f url.Values) error {
		in := cases.TransitionInput{To: cases.Status(f.Get("to")), Note: f.Get("note")}
		if in.To == "" {
			return &apperr.Invalid{Errors: []apperr.FieldError{{Field: "to", Message: "choose the new status"}}}
		}
		if in.To == cases.StatusResolved { // without JS the resolution select is always sent
			in.Resolution = f.Get("resolution")
		}
		var err error
		if in.Version, err = formVersion(f); err != nil {
			return err
		}
		_, err = u.s.app.Cases.Transition(r.Context(), a, ref, in)
		return err
	})
}

func (u *ui) postUpdate(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if asked, err := u.confirmCapacity(w, r, a); asked || err != nil {
		return err
	}
	return u.caseAction(w, r, a, "update", func(ref string, f url.Values) error {
		var in cases.UpdateInput
		changed := false
		if f.Has("owner") {
			o := strings.TrimSpace(f.Get("owner"))
			in.Owner, changed = &o, true
		}
		if p := f.Get("priority"); p != "" {
			reason := f.Get("priority_reason")
			in.Priority, in.PriorityReason, changed = &p, &reason, true
		}
		if !changed {
			return nil
		}
		_, err := u.s.app.Cases.Update(r.Context(), a, ref, in)
		return err
	})
}
