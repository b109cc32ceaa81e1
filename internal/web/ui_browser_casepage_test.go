package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/handoffs"
	"github.com/flare-desk/flare/internal/macros"
)

// The case page in Chromium: edit a field in place, apply a macro (in the
// requester's language), and the warning before resolving cancels an open
// handoff; every confirmation shows and the address stays the case's.
func TestUIBrowserCasePage(t *testing.T) {
	ctx := newBrowser(t, 45*time.Second)
	cfg := uiTestDesk()
	desk.Set(cfg, macros.Key, []macros.Macro{{Key: "tracing", Name: "Tracing started", Teams: []string{"logistics"},
		Reply:        "Hi {{requester_name}}, we are tracing {{case_number}}.",
		Translations: map[string]string{"de": "Hallo {{requester_name}}, wir verfolgen {{case_number}}."},
		Status:       cases.StatusPendingRequester, AddTags: []string{"tracing"}}})
	e := newUIEnvWith(t, cfg, app.Options{})
	bg := context.Background()
	c, err := e.app.Cases.Create(bg, e.lead, cases.CreateInput{Title: "Paket nicht angekommen", Category: "logistics/lost_parcel",
		Market: "DE", Language: "de", SellerID: "S-2077", Requester: &cases.Requester{Name: "Jana Vogel", Email: "jana@example.de"},
		Fields: map[string]any{"order_id": "ORD-4471"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	owner := e.email
	if _, err := e.app.Cases.Update(bg, e.lead, c.Number, cases.UpdateInput{Owner: &owner}); err != nil {
		t.Fatal(err)
	}
	caseURL := e.srv.URL + "/cases/" + c.Number

	problems := watchConsole(ctx)
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string { t.Helper(); return run(t, ctx, "text of "+sel, chromedp.Text(css(sel))) }
	here := func(what string) {
		t.Helper()
		if loc := run(t, ctx, "location", chromedp.Location()); loc != caseURL {
			t.Errorf("%s: the address is %s, want %s", what, loc, caseURL)
		}
	}
	do("sign in and open the case",
		chromedp.Navigate(e.srv.URL+"/login?next=/cases/"+c.Number),
		chromedp.WaitVisible(css(`input[name=email]`)),
		chromedp.SendKeys(css(`input[name=email]`), e.email),
		chromedp.SendKeys(css(`input[name=password]`), e.password),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(css(`#comment`)))

	// Edit the title in place.
	do("edit the title",
		chromedp.Click(css(`#edit-case > summary`)),
		chromedp.WaitVisible(css(`#edit-title`)),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.getElementById("edit-title").value = "", true`)(ctx, tg)
			return err
		}),
		chromedp.SendKeys(css(`#edit-title`), "Paket seit zwei Wochen nicht angekommen"),
		chromedp.Click(css(`#edit-submit`)),
		chromedp.WaitVisible(css(`#flash`)))
	if got := text(`#flash`); got != "Changes saved." {
		t.Errorf("confirmation after the edit: %q", got)
	}
	if got := text(`#case-title`); got != "Paket seit zwei Wochen nicht angekommen" {
		t.Errorf("title after the edit: %q", got)
	}
	here("after the edit")

	// Apply the macro: the German reply, the status and the tag.
	do("apply the macro",
		choose(`#macro-select`, "tracing"),
		// the edit's confirmation goes first, so that the wait is for the macro's
		chromedp.Evaluate[chromedp.Void](`document.getElementById("flash").remove()`),
		chromedp.Click(css(`#macro-apply`)),
		chromedp.WaitVisible(css(`#flash`)))
	if got := text(`#flash`); !strings.Contains(got, "reply sent") || !strings.Contains(got, "Pending requester") {
		t.Errorf("confirmation after the macro: %q", got)
	}
	if got := text(`#timeline`); !strings.Contains(got, "Hallo Jana Vogel, wir verfolgen "+c.Number+".") {
		t.Errorf("the timeline lacks the German reply:\n%s", got)
	}
	do("look", screenshot(t, "case-page-macro", ""))
	if got := text(`#case-status`); got != "Pending requester" {
		t.Errorf("status after the macro: %q", got)
	}

	// An open handoff: choosing Resolve warns that it will be cancelled.
	if _, err := e.app.Handoffs.Create(bg, e.lead, c.Number, handoffs.Input{Team: "payments", Request: "Refund the buyer?"}, nil); err != nil {
		t.Fatal(err)
	}
	do("reload", chromedp.Navigate(caseURL), chromedp.WaitVisible(css(`#status-form`)))
	if vis := run(t, ctx, "warning hidden", chromedp.Evaluate[bool](`document.getElementById("resolve-warning").offsetParent !== null`)); vis {
		t.Error("the handoff warning shows before resolving is chosen")
	}
	do("choose resolve", choose(`#status-to`, "resolved"), chromedp.WaitVisible(css(`#resolve-warning`)))
	do("look", screenshot(t, "case-page-resolve-warning", `#transition`))
	if got := text(`#resolve-warning`); !strings.Contains(got, "Resolving cancels the open handoff") {
		t.Errorf("warning: %q", got)
	}
	// Resolving without a note: the error next to the note, the address the case's.
	do("resolve without a note",
		choose(`#resolution`, "fixed"),
		chromedp.Click(css(`#status-submit`)),
		chromedp.WaitVisible(css(`#transition-error`)))
	if got := text(`#status-form .field-error`); got != "say how the case was resolved" {
		t.Errorf("error next to the note: %q", got)
	}
	here("after a refused resolve")
	do("look", chromedp.Click(css(`#edit-case > summary`)), screenshot(t, "case-page-edit", ""))
	if p := problems(); len(p) > 0 {
		t.Errorf("browser console: %v", p)
	}
}
