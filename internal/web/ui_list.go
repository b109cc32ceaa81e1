package web

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/bulk"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/views"
)

// The queue's list side: column sorting, totals, search snippets, saved
// views (internal/views) and bulk actions (internal/bulk). Filters apply as
// they change with queue.js; without it the Filter button submits.

// listExtras is what the queue page shows besides its cases.
type listExtras struct {
	Total     int
	TotalMore bool
	Snippets  map[string]template.HTML
	Sort      string
	Views     []viewLink
	Teams     []string // the teams a view may be shared with
	BulkMsg   string
	BulkError bool
	Back      string // this page's URL, to come back to after a post
}

// viewLink is a saved view as the queue lists it.
type viewLink struct {
	*views.View
	URL    string
	Active bool
}

// queueSorts are the queue's column sorts; "due" (priority, then the most
// urgent clock) is its default.
var queueSorts = []string{"due", "priority", "created_at", "-created_at", "updated_at", "-updated_at", "newest"}

func queueSort(q url.Values) string {
	if s := q.Get("sort"); s != "" {
		return s // unknown sorts are refused by the list, as in the API
	}
	if strings.TrimSpace(q.Get("q")) != "" {
		return "" // a search: the list's own default, newest first
	}
	return "due"
}

func (d *queueData) setPage(p *cases.Page) {
	if p.Total != nil {
		d.Total, d.TotalMore = *p.Total, p.TotalMore
	}
	d.Snippets = map[string]template.HTML{}
	for n, s := range p.Snippets {
		d.Snippets[n] = template.HTML(s) //nolint:gosec // escaped by cases (search.go), only <mark> added
	}
}

// viewQuery is the queue URL of a saved view's filter.
func viewQuery(f views.Filter) url.Values {
	q := url.Values{}
	set := func(k string, v ...string) {
		if j := strings.Join(v, ","); j != "" {
			q.Set(k, j)
		}
	}
	set("q", f.Q)
	set("status", f.Status...)
	if len(f.Status) == 0 {
		q.Set("status", "all") // a view without statuses lists them all, as the API does
	}
	set("team", f.Team...)
	set("market", f.Market...)
	set("priority", f.Priority...)
	set("owner", f.Owner)
	set("category", f.Category)
	set("seller_id", f.SellerID)
	set("sort", f.Sort)
	return q
}

// queueFilter is the saved-view filter of a queue URL.
func queueFilter(q url.Values) views.Filter {
	f := views.Filter{Q: strings.TrimSpace(q.Get("q")), Team: splitList(q["team"]), Market: splitList(q["market"]),
		Priority: splitList(q["priority"]), Owner: q.Get("owner"), Sort: q.Get("sort")}
	switch st := q.Get("status"); st {
	case "":
		for _, s := range cases.ActiveStatuses {
			f.Status = append(f.Status, string(s))
		}
	case "all":
	default:
		f.Status = splitList(q["status"])
	}
	return f
}

func (u *ui) loadListExtras(r *http.Request, a auth.Actor, q url.Values, d *queueData) error {
	d.Sort = queueSort(q)
	d.BulkMsg, d.BulkError = q.Get("bulk"), q.Get("bulk_refused") != ""
	d.Back = r.URL.RequestURI()
	d.Teams = a.Teams
	if a.Role == auth.RoleAdmin {
		d.Teams = nil
		for _, t := range d.Desk.Teams {
			d.Teams = append(d.Teams, t.Key)
		}
	}
	vs, err := u.s.app.Views.List(r.Context(), a)
	if err != nil {
		return err
	}
	here := viewQuery(queueFilter(q)).Encode()
	for _, v := range vs {
		vq := viewQuery(v.Filter).Encode()
		d.Views = append(d.Views, viewLink{View: v, URL: "/cases?" + vq, Active: vq == here})
	}
	return nil
}

// backTo is a same-site queue URL to return to, from a form's "back".
func backTo(f url.Values) string {
	b := f.Get("back")
	if !strings.HasPrefix(b, "/cases") || strings.HasPrefix(b, "//") {
		return "/cases"
	}
	return b
}

func withParams(back string, kv ...string) string {
	p, err := url.Parse(back)
	if err != nil {
		return "/cases"
	}
	q := p.Query()
	for _, k := range []string{"bulk", "bulk_refused", "saved"} {
		q.Del(k)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	p.RawQuery = q.Encode()
	return p.RequestURI()
}

// postView saves the queue's current filter as a view.
func (u *ui) postView(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if err := r.ParseForm(); err != nil {
		return err
	}
	back := backTo(r.PostForm)
	bq := url.Values{}
	if p, err := url.Parse(back); err == nil {
		bq = p.Query()
	}
	in := views.Input{Name: r.PostForm.Get("name"), SharedTeam: r.PostForm.Get("shared_team"), Filter: queueFilter(bq)}
	v, err := u.s.app.Views.Create(r.Context(), a, in)
	var inv *apperr.Invalid
	var cf *apperr.Conflict
	switch {
	case errors.As(err, &inv):
		http.Redirect(w, r, withParams(back, "bulk", "The view was not saved: "+fieldErrorsText(inv.Errors), "bulk_refused", "1"), http.StatusSeeOther)
		return nil
	case errors.As(err, &cf):
		http.Redirect(w, r, withParams(back, "bulk", "The view was not saved: "+cf.Detail, "bulk_refused", "1"), http.StatusSeeOther)
		return nil
	case err != nil:
		return err
	}
	msg := "Saved the view “" + v.Name + "”"
	if v.SharedTeam != "" {
		msg += ", shared with the team " + v.SharedTeam
	}
	http.Redirect(w, r, withParams("/cases?"+viewQuery(v.Filter).Encode(), "bulk", msg+"."), http.StatusSeeOther)
	return nil
}

// deleteViewPage deletes a saved view.
func (u *ui) deleteViewPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return err
	}
	if err := u.s.app.Views.Delete(r.Context(), a, id); err != nil {
		return err
	}
	http.Redirect(w, r, withParams(backTo(r.PostForm), "bulk", "Deleted the view."), http.StatusSeeOther)
	return nil
}

// postBulk applies a bulk action to the selected cases and comes back to
// the queue with its summary.
func (u *ui) postBulk(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if err := r.ParseForm(); err != nil {
		return err
	}
	f := r.PostForm
	in := bulk.Input{Cases: f["case"], Action: f.Get("action")}
	switch in.Action {
	case bulk.Assign:
		o := strings.TrimSpace(f.Get("owner"))
		in.Owner = &o
	case bulk.Tag:
		in.Tags = splitList(f["tags"])
	case bulk.Status:
		in.To, in.Resolution, in.Note = f.Get("to"), f.Get("resolution"), f.Get("note")
	case bulk.Priority:
		in.Priority, in.Reason = f.Get("priority"), f.Get("reason")
	case bulk.Link:
		in.Incident = strings.TrimSpace(f.Get("incident"))
	}
	back := backTo(f)
	res, err := u.s.app.Bulk.Apply(r.Context(), a, in)
	var inv *apperr.Invalid
	var fb *apperr.Forbidden
	switch {
	case errors.As(err, &inv):
		http.Redirect(w, r, withParams(back, "bulk", "Nothing was changed: "+fieldErrorsText(inv.Errors), "bulk_refused", "1"), http.StatusSeeOther)
		return nil
	case errors.As(err, &fb):
		http.Redirect(w, r, withParams(back, "bulk", "Nothing was changed: "+fb.Detail, "bulk_refused", "1"), http.StatusSeeOther)
		return nil
	case err != nil:
		return err
	}
	kv := []string{"bulk", res.Summary}
	if res.Refused > 0 {
		kv = append(kv, "bulk_refused", strconv.Itoa(res.Refused))
	}
	http.Redirect(w, r, withParams(back, kv...), http.StatusSeeOther)
	return nil
}

// sortLink is the URL of the queue sorted by col: by col, or reversed when
// already sorted by it (for the time columns).
func sortLink(q url.Values, current, col string) string {
	nq := url.Values{}
	for k, v := range q {
		if k != "cursor" && k != "sort" && k != "bulk" && k != "bulk_refused" && len(v) > 0 && v[0] != "" {
			nq.Set(k, v[0])
		}
	}
	next := col
	if current == col && slices.Contains(queueSorts, "-"+col) {
		next = "-" + col
	}
	nq.Set("sort", next)
	return "/cases?" + nq.Encode()
}
