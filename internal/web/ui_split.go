package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
)

// The split layout: a case opened from the queue carries the queue's filter
// as ?list=, and its page shows that list in a pane beside the case (CSS:
// at 1280 px and wider; narrower, the case alone). The list is rendered by
// the server, so reload, back and a page without scripts show the same;
// the URL stays the case's own (/cases/ESC-1042?list=…).

// listKeys are the queue parameters a list pane keeps.
var listKeys = []string{"q", "status", "priority", "team", "market", "owner", "sort", "cursor"}

// listQuery is the queue filter q as a query string, without the one-off
// messages (bulk summaries, take-next).
func listQuery(q url.Values) string {
	n := url.Values{}
	for _, k := range listKeys {
		if v := q.Get(k); v != "" {
			n.Set(k, v)
		}
	}
	return n.Encode()
}

// listFrom is the list a case page shows beside it: ?list= on a page, or on
// the page a form was sent from (its Referer), so a change made in the case
// pane comes back to the split.
func listFrom(r *http.Request) (url.Values, bool) {
	q := r.URL.Query()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		ref, err := url.Parse(r.Referer())
		if err != nil || !strings.HasPrefix(ref.Path, "/cases/") {
			return nil, false
		}
		q = ref.Query()
	}
	if !q.Has("list") {
		return nil, false
	}
	lq, err := url.ParseQuery(q.Get("list"))
	if err != nil {
		return nil, false
	}
	return lq, true
}

// caseURL is the address of case number after a change made from r's page:
// with its list pane when it had one.
func caseURL(r *http.Request, number string) string {
	u := "/cases/" + url.PathEscape(number)
	if lq, ok := listFrom(r); ok {
		u += "?list=" + url.QueryEscape(listQuery(lq))
	}
	return u
}

// splitFor is the list pane beside case c, when the page was opened from a
// list; nil otherwise, or when the list's filter is no longer valid.
func (u *ui) splitFor(r *http.Request, a auth.Actor, d *caseData) error {
	lq, ok := listFrom(r)
	if !ok {
		return nil
	}
	l := &queueData{Form: lq, Desk: d.Desk, Statuses: cases.Statuses}
	l.Sort = queueSort(lq)
	if _, err := u.listQueue(r, a, lq, l); err != nil {
		return err
	}
	if l.Error != "" {
		return nil
	}
	d.List = l
	d.Here += "?list=" + url.QueryEscape(l.ListQ)
	return nil
}
