package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/incidents"
)

// TestUIBrowserPostmortem follows TestUIBrowserIncident to the end in
// Chromium: a resolved SEV2 with three linked cases does not close; the
// lead starts its postmortem (impact figures and timeline filled in),
// writes the summary and root cause, previews and saves them, adds an
// action item with an owner and a due date, sends it for review and
// publishes it; then the incident closes, and the item is on her action
// items page.
func TestUIBrowserPostmortem(t *testing.T) {
	ctx := newBrowser(t, 90*time.Second)
	e := newUIEnv(t)
	bg := context.Background()
	inc, err := e.app.Incidents.Declare(bg, e.lead, incidents.DeclareInput{Title: "DPD hub outage in GB",
		Type: incidents.TypeLogisticsDisruption, Severity: incidents.SEV2, Markets: []string{"GB"}, Commander: uiTestEmail}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, title := range []string{"No tracking for my order", "Parcel not scanned for 4 days", "Where is my parcel?"} {
		c, err := e.app.Cases.Create(bg, auth.System("seed"), cases.CreateInput{Title: title, Category: "logistics/lost_parcel",
			Market: "GB", Fields: map[string]any{"order_id": "ORD-7"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, c.Number)
	}
	if _, err := e.app.Incidents.Link(bg, e.lead, inc.Number, incidents.LinkInput{Cases: refs}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Incidents.Transition(bg, e.lead, inc.Number, incidents.TransitionInput{To: incidents.Resolved}); err != nil {
		t.Fatal(err)
	}
	problems := watchConsole(ctx)
	shot := func(name, sel string) chromedp.Action[chromedp.Void] { return screenshot(t, name, sel) }
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		return run(t, ctx, "text of "+sel, chromedp.Text(css(sel)))
	}
	page := e.srv.URL + "/incidents/" + inc.Number
	do("sign in on the incident",
		chromedp.Navigate(e.srv.URL+"/login?next=/incidents/"+inc.Number),
		chromedp.WaitVisible(css(`input[name=email]`)),
		chromedp.SendKeys(css(`input[name=email]`), uiTestEmail),
		chromedp.SendKeys(css(`input[name=password]`), uiTestPassword),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(css(`#postmortem-start`)))
	do("try to close it",
		choose(`#transition-to`, "closed"),
		chromedp.Click(css(`#transition-submit`)),
		chromedp.WaitVisible(css(`#incident-error`)))
	if msg := text(`#incident-error`); !strings.Contains(msg, "its postmortem is published") {
		t.Errorf("close refused with %q", msg)
	}
	do("start the postmortem",
		chromedp.Click(css(`#postmortem-start`)),
		chromedp.WaitVisible(css(`#postmortem-form`)))
	if im := text(`#postmortem-impact`); !strings.Contains(im, "3") || !strings.Contains(im, "GB 3") {
		t.Errorf("impact: %q", im)
	}
	if tl := run(t, ctx, "timeline section", chromedp.Evaluate[string](`document.querySelector("#pm-timeline").value`)); !strings.Contains(tl, "Declared") {
		t.Errorf("timeline pre-filled as %q", tl)
	}
	do("write and preview",
		chromedp.SendKeys(css(`#pm-summary`), "DPD's GB hub stopped sorting for **six hours**; parcels stopped scanning."),
		chromedp.SendKeys(css(`#pm-root_cause`), "A sorter firmware update without a rollback plan."),
		chromedp.Click(css(`#postmortem-preview`)),
		chromedp.WaitVisible(css(`.pm-preview strong`)),
		chromedp.ScrollIntoView(css(`#postmortem`)),
		shot("postmortem-preview", `#postmortem`))
	do("save",
		chromedp.Click(css(`#postmortem-save`)),
		chromedp.WaitVisible(css(`#postmortem-form:not(:has(.pm-preview))`)))
	due := time.Now().AddDate(0, 0, 14).Format(time.DateOnly)
	do("add an action item",
		chromedp.SendKeys(css(`#item-title`), "Ask DPD for a rollback plan on sorter updates"),
		choose(`#item-owner`, uiTestEmail),
		choose(`#item-due`, due),
		chromedp.Click(css(`#item-add`)),
		chromedp.WaitVisible(css(`#postmortem .pm-items tr[data-item]`)))
	do("send for review and publish",
		chromedp.Click(css(`#postmortem-submit`)),
		chromedp.WaitVisible(css(`#postmortem-publish`)),
		chromedp.Click(css(`#postmortem-publish`)),
		chromedp.WaitVisible(css(`#postmortem .md`)),
		chromedp.ScrollIntoView(css(`#postmortem`)),
		shot("postmortem-published", `#postmortem`))
	if st := text(`#postmortem-state`); !strings.EqualFold(st, "Published") {
		t.Errorf("postmortem %q", st)
	}
	do("close the incident",
		chromedp.Navigate(page),
		chromedp.WaitVisible(css(`#transition-to`)),
		choose(`#transition-to`, "closed"),
		// the status goes first, so that the wait is for the answer's page
		chromedp.Evaluate[chromedp.Void](`document.getElementById("incident-status").remove()`),
		chromedp.Click(css(`#transition-submit`)),
		chromedp.WaitVisible(css(`#incident-status`)))
	if st := text(`#incident-status`); st != "Closed" {
		t.Errorf("incident %q", st)
	}
	do("my action items",
		chromedp.Click(css(`#nav-action-items`)),
		chromedp.WaitVisible(css(`#action-items`)),
		shot("action-items", ""))
	if row := text(`#action-items tbody`); !strings.Contains(row, "Ask DPD for a rollback plan") || !strings.Contains(row, due) {
		t.Errorf("action items page: %q", row)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("the browser reported errors: %v", p)
	}
}
