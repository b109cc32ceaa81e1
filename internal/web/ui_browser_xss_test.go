package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flare-desk/flare/internal/cases"
)

// An XSS payload in every field a requester or sender controls — the
// title, the Markdown description, a comment, the requester's name —
// stays inert in Chromium: no script runs, no element is injected, and
// the payload shows as text. The queue (list and split pane) and the case
// page are checked.
func TestUIBrowserXSSInert(t *testing.T) {
	ctx := newBrowser(t, 45*time.Second)
	e := newUIEnv(t)
	bg := context.Background()
	// Each part would mark the page if it ran: the check reads the marks.
	const payload = `<img src=x onerror="document.body.dataset.pwned='img'"><script>document.body.dataset.pwned='script'</script>` +
		`<svg onload="document.body.dataset.pwned='svg'"></svg>[link](javascript:document.body.dataset.pwned='link')`
	c, err := e.app.Cases.Create(bg, e.lead, cases.CreateInput{Title: "Refund " + payload, Description: "Help " + payload,
		Category: "logistics/lost_parcel", Market: "GB", Fields: map[string]any{"order_id": "ORD-1"},
		Requester: &cases.Requester{Name: `Eve <img src=x onerror="document.body.dataset.pwned='name'">`, Email: "eve@example.com"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Cases.AddComment(bg, e.lead, c.Number, cases.CommentInput{Body: "Seen " + payload}); err != nil {
		t.Fatal(err)
	}
	problems := watchConsole(ctx)
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	do("sign in",
		chromedp.Navigate(e.srv.URL+"/login?next=/cases"),
		chromedp.WaitVisible(css(`input[name=email]`)),
		chromedp.SendKeys(css(`input[name=email]`), e.email),
		chromedp.SendKeys(css(`input[name=password]`), e.password),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(css(`table.queue`)))
	// The payload's markers: what running or injecting would leave behind.
	const probe = `JSON.stringify({pwned: document.body.dataset.pwned || "",
		injected: document.querySelectorAll('img[src="x"], svg[onload], a[href^="javascript:"], script:not([src])').length,
		text: document.body.innerText.includes("<img src=x")})`
	for _, page := range []string{"/cases", "/cases/" + c.Number + "?list=team%3Dlogistics", "/cases/" + c.Number} {
		do("open "+page, chromedp.Navigate(e.srv.URL+page), chromedp.WaitReady(css(`body`)), chromedp.Sleep(300*time.Millisecond))
		got := run(t, ctx, "probe "+page, chromedp.Evaluate[string](probe))
		if got != `{"pwned":"","injected":0,"text":true}` {
			t.Errorf("%s: %s; want nothing run or injected, the payload shown as text", page, got)
		}
	}
	for _, p := range problems() {
		// A blocked inline script is the CSP doing its job; anything else is a fault.
		if !strings.Contains(p, "Content Security Policy") {
			t.Errorf("console: %s", p)
		}
	}
}
