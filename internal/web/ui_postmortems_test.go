package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/incidents"
	"github.com/flare-desk/flare/internal/postmortems"
)

// The postmortem section through its forms: start, preview, save, review,
// publish; an action item added and finished; the incident closes only
// once the postmortem is published; the action items page.
func TestUIPostmortem(t *testing.T) {
	e := newUIEnv(t)
	ctx := context.Background()
	c := e.client(t)
	e.signIn(t, c, "/incidents")
	inc, err := e.app.Incidents.Declare(ctx, e.lead, incidents.DeclareInput{Title: "Checkout errors", Type: incidents.TypeService,
		Severity: incidents.SEV2, Commander: uiTestEmail}, nil)
	if err != nil {
		t.Fatal(err)
	}
	page := "/incidents/" + inc.Number
	post := func(action string, form url.Values) {
		t.Helper()
		resp, body := e.postForm(t, c, page+"/postmortem/"+action, form)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", action, resp.StatusCode, body)
		}
	}
	_, body := e.get(t, c, page)
	if !strings.Contains(body, `id="postmortem-start"`) {
		t.Fatal("no start button")
	}
	post("start", nil)
	_, body = e.get(t, c, page)
	for _, want := range []string{`id="postmortem-state">Draft`, `id="postmortem-impact"`, `name="section.root_cause"`, `id="postmortem-missing">To publish, write: Summary, Root cause.`} {
		if !strings.Contains(body, want) {
			t.Errorf("draft lacks %s", want)
		}
	}
	form := url.Values{"version": {"1"}, "section.summary": {"Checkout failed for **40 minutes**."}, "section.root_cause": {"An expired certificate."}}
	pf := url.Values{"preview": {"1"}}
	for k, v := range form {
		pf[k] = v
	}
	resp, body := e.postForm(t, c, page+"/postmortem/edit", pf)
	if resp.StatusCode != 200 || !strings.Contains(body, "<strong>40 minutes</strong>") {
		t.Fatalf("preview: %d", resp.StatusCode)
	}
	post("edit", form)
	resp, body = e.postForm(t, c, page+"/postmortem/edit", form) // version 1 again: stale
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, `id="postmortem-error"`) {
		t.Fatalf("stale edit: %d", resp.StatusCode)
	}
	due := time.Now().AddDate(0, 0, 10).Format(time.DateOnly)
	post("item", url.Values{"title": {"Alert on certificate expiry"}, "owner": {uiTestEmail}, "due_date": {due}})
	_, body = e.get(t, c, page)
	if !strings.Contains(body, "Alert on certificate expiry") || !strings.Contains(body, due) {
		t.Fatal("action item not listed")
	}
	// Resolved, it does not close before the postmortem is published.
	if _, err := e.app.Incidents.Transition(ctx, e.lead, inc.Number, incidents.TransitionInput{To: incidents.Resolved}); err != nil {
		t.Fatal(err)
	}
	resp, body = e.postForm(t, c, page+"/transition", url.Values{"to": {"closed"}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "postmortem is published") {
		t.Fatalf("closed without the postmortem: %d", resp.StatusCode)
	}
	post("submit", nil)
	post("publish", nil)
	_, body = e.get(t, c, page)
	if !strings.Contains(body, `id="postmortem-state">Published`) || strings.Contains(body, `id="postmortem-form"`) {
		t.Fatal("not published")
	}
	if resp, body := e.postForm(t, c, page+"/transition", url.Values{"to": {"closed"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("close: %d %s", resp.StatusCode, body)
	}
	// The action items page: mine, then finished.
	_, body = e.get(t, c, "/action-items?mine=1")
	if !strings.Contains(body, "Alert on certificate expiry") || !strings.Contains(body, `id="nav-action-items"`) {
		t.Fatal("mine lacks the item")
	}
	items, err := e.app.Postmortems.ListItems(ctx, e.lead, postmortems.Filter{Owner: uiTestEmail})
	if err != nil || len(items) != 1 {
		t.Fatalf("items %v %v", items, err)
	}
	resp, _ = e.postForm(t, c, "/action-items/"+strconv.FormatInt(items[0].ID, 10), url.Values{"status": {"done"}, "next": {"/action-items?mine=1"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("done: %d", resp.StatusCode)
	}
	_, body = e.get(t, c, "/action-items?mine=1")
	if strings.Contains(body, "Alert on certificate expiry") {
		t.Fatal("a done item among the open ones")
	}
}
