package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestUISplitLayout checks the split layout's server side: a case opened
// with ?list= renders its list beside it, the open row marked; the list's
// own filter is kept, an invalid or garbled one shows the case alone (never
// an error); a form sent from the split comes back to it.
func TestUISplitLayout(t *testing.T) {
	e := newUIEnv(t)
	seedQueue(t, e)
	c := e.client(t)
	e.signIn(t, c, "/cases")

	_, queue := e.get(t, c, "/cases?team=logistics")
	if !strings.Contains(queue, `href="/cases/ESC-4?list=team%3dlogistics"`) {
		t.Fatalf("the queue's rows do not open into the split: %s", queue[strings.Index(queue, "<tbody>"):][:600])
	}
	res, body := e.get(t, c, "/cases/ESC-4?list="+url.QueryEscape("team=logistics"))
	if res.StatusCode != 200 || !strings.Contains(body, `id="list-pane"`) || !strings.Contains(body, `data-here="/cases/ESC-4?list=team%3Dlogistics"`) {
		t.Fatalf("split: %d, pane %v", res.StatusCode, strings.Contains(body, `id="list-pane"`))
	}
	pane := body[strings.Index(body, `id="list-pane"`):strings.Index(body, `id="case-pane"`)]
	if strings.Count(pane, `aria-current="true"`) != 1 || !strings.Contains(pane, `class="is-open" aria-current="true">`) ||
		!strings.Contains(pane, `href="/cases?team=logistics"`) || strings.Contains(pane, "Payout held") {
		t.Fatalf("the list pane: the open row, the list's link, only logistics cases:\n%s", pane)
	}
	for _, list := range []string{"status=bogus", "owner=someone", "%zz", "sort=colour", "cursor=zzz"} {
		res, body := e.get(t, c, "/cases/ESC-4?list="+url.QueryEscape(list))
		if res.StatusCode != 200 || strings.Contains(body, `id="list-pane"`) || !strings.Contains(body, `id="reply-form"`) {
			t.Errorf("list=%s: %d, pane %v", list, res.StatusCode, strings.Contains(body, `id="list-pane"`))
		}
	}
	// A note from the split comes back to it; from the case alone, to the case alone.
	for referer, want := range map[string]string{
		e.srv.URL + "/cases/ESC-4?list=" + url.QueryEscape("team=logistics"): "/cases/ESC-4?list=team%3Dlogistics",
		e.srv.URL + "/cases/ESC-4":                                     "/cases/ESC-4",
		e.srv.URL + "/cases?list=" + url.QueryEscape("team=logistics"): "/cases/ESC-4",
	} {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/cases/ESC-4/comments",
			strings.NewReader(url.Values{"body": {"Checked."}, "internal": {"1"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Referer", referer)
		res, _ := do(t, c, req)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != want {
			t.Errorf("a note sent from %s: %d to %q, want %s", referer, res.StatusCode, res.Header.Get("Location"), want)
		}
	}
}
