package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/handoffs"
)

// TestUIBrowserHandoffRoundTrip drives a handoff in Chromium: the owner
// asks Logistics from the case page, a Logistics agent (who may not open
// the restricted case) accepts it from the team's handoff queue and
// completes it with an answer, and the owner is told and finds the answer
// on the case, which is open again.
func TestUIBrowserHandoffRoundTrip(t *testing.T) {
	ctx := newBrowser(t, 60*time.Second)
	e := newUIEnv(t)
	seedQueue(t, e)
	bg := context.Background()
	sys := auth.System("seed")

	// Alice (lead, Escalations) owns a restricted governance case; Bob is a
	// Logistics agent with a password.
	c, err := e.app.Cases.Create(bg, sys, cases.CreateInput{Title: "Seller suspended for late shipments during peak",
		Category: "governance/account_suspension", Market: "GB", Sensitivity: "restricted", Channel: "leadership"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	owner := uiTestEmail
	if _, err := e.app.Cases.Update(bg, sys, c.Number, cases.UpdateInput{Owner: &owner}); err != nil {
		t.Fatal(err)
	}
	err = e.app.DB.InTx(bg, func(tx *db.Tx) error {
		bob, err := auth.UserByEmail(bg, tx, bobEmail)
		if err != nil {
			return err
		}
		return auth.SetPassword(bg, tx, e.app.Clock.Now(), bob.ID, bobPassword)
	})
	if err != nil {
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
	signIn := func(email, password, next string, wait string) {
		t.Helper()
		do("sign in as "+email,
			chromedp.Navigate(e.srv.URL+"/login?next="+next),
			chromedp.WaitVisible(css(`input[name=email]`)),
			chromedp.SendKeys(css(`input[name=email]`), email),
			chromedp.SendKeys(css(`input[name=password]`), password),
			chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
			chromedp.WaitVisible(css(wait)))
	}
	signOut := func() {
		t.Helper()
		do("sign out",
			chromedp.Click(css(`form[action="/logout"] button`)),
			chromedp.WaitVisible(css(`input[name=email]`)))
	}
	caseURL := "/cases/" + c.Number

	// The owner asks Logistics from the case page.
	signIn(uiTestEmail, uiTestPassword, caseURL, `#handoffs`)
	if open := run(t, ctx, "form open", chromedp.Evaluate[bool](`document.querySelector("#handoffs details.ho-create").open`)); !open {
		t.Errorf("the Ask another team form is folded on a case without handoffs")
	}
	options := run(t, ctx, "teams offered", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#handoff-team option")].map(o => o.value)`))
	if strings.Join(options, ",") != ",logistics,payments,trust_safety" {
		t.Errorf("teams offered: %q (not the case's own team)", options)
	}
	do("ask logistics",
		choose(`#handoff-team`, "logistics"),
		chromedp.SendKeys(css(`#handoff-request`), "Please confirm the carrier scans for the 14 orders the seller says shipped on time."),
		shot("handoff-case-form", `#handoffs`),
		chromedp.Click(css(`#handoff-submit`)),
		chromedp.WaitVisible(css(`#handoffs li[data-handoff] .ho-st-open`)),
		chromedp.ScrollIntoView(css(`#handoffs`)),
		shot("handoff-case-asked", `#handoffs`))
	if st := text(`#case-status`); st != "Pending internal" {
		t.Errorf("case status after asking: %q", st)
	}
	if due := text(`#handoffs li[data-handoff] .due`); !strings.HasPrefix(due, "8h ") && due != "9h 0m" {
		t.Errorf("a new handoff to a 24/7 team with the 9h default shows %q", due)
	}
	signOut()

	// Bob (Logistics) works the team's handoff queue.
	signIn(bobEmail, bobPassword, "/cases", `#nav-handoffs`)
	do("open the handoff queue",
		chromedp.Click(css(`#nav-handoffs`)),
		chromedp.WaitVisible(css(`table.ho-queue tr[data-handoff]`)),
		shot("handoff-queue", ""))
	row := text(`table.ho-queue tr[data-handoff]`)
	for _, want := range []string{c.Number, "Seller suspended for late shipments", "Please confirm the carrier scans", "Escalations", "Alice Moreau", "Open"} {
		if !strings.Contains(row, want) {
			t.Errorf("queue row lacks %q: %q", want, row)
		}
	}
	do("accept",
		chromedp.Click(css(`table.ho-queue tr[data-handoff] button[value=accept]`)),
		chromedp.WaitVisible(css(`table.ho-queue tr[data-handoff] .ho-st-accepted`)),
		shot("handoff-queue-accepted", ""))
	do("open the handoff",
		chromedp.Click(css(`table.ho-queue tr[data-handoff] a.btn`)),
		chromedp.WaitVisible(css(`#handoff-respond`)),
		shot("handoff-page-accepted", ""))
	if req := text(`#handoff-request`); !strings.HasPrefix(req, "Please confirm the carrier scans") {
		t.Errorf("handoff page request: %q", req)
	}
	if link := run(t, ctx, "case link", chromedp.Evaluate[int](`document.querySelectorAll(".ho-case a[href^='/cases/']").length`)); link != 0 {
		t.Errorf("Bob may not open the restricted case, yet the page links it")
	}
	const answer = "All 14 were scanned at the Leeds hub on the promised day; the carrier's feed was late. Evidence attached to the carrier ticket."
	do("complete with an answer",
		chromedp.SendKeys(css(`#handoff-text`), answer),
		chromedp.Click(css(`#handoff-complete`)),
		chromedp.WaitVisible(css(`#handoff-status .ho-st-completed`)),
		shot("handoff-page", ""))
	if got := text(`#handoff-answer`); got != answer {
		t.Errorf("handoff page answer: %q", got)
	}
	signOut()

	// Alice is told: a count in the nav, the answer on her cases and on the case.
	signIn(uiTestEmail, uiTestPassword, "/cases", `#nav-handoffs .nav-count`)
	if n := text(`#nav-handoffs .nav-count`); n != "1" {
		t.Errorf("nav count: %q", n)
	}
	do("open the news",
		chromedp.Click(css(`#nav-handoffs`)),
		chromedp.WaitVisible(css(`.ho-news-item`)),
		shot("handoff-mine", ""))
	if news := text(`.ho-news-item`); !strings.Contains(news, answer) || !strings.Contains(news, c.Number) {
		t.Errorf("news: %q", news)
	}
	do("open the case",
		chromedp.Click(css(`.ho-news-item a.btn`)),
		chromedp.WaitVisible(css(`#handoffs .ho-answer`)),
		chromedp.ScrollIntoView(css(`#handoffs`)),
		shot("handoff-case-answered", `#handoffs`))
	if got := text(`#handoffs .ho-answer .prewrap`); got != answer {
		t.Errorf("answer on the case page: %q", got)
	}
	if st := text(`#case-status`); st != "Open" {
		t.Errorf("case status after the handoff: %q", st)
	}
	if owner := text(`#case-owner`); owner != "Alice Moreau" {
		t.Errorf("owner: %q", owner)
	}
	if n := run(t, ctx, "nav count on the case", chromedp.Evaluate[int](`document.querySelectorAll("#nav-handoffs .nav-count").length`)); n != 0 {
		t.Errorf("the nav still counts the answer being read")
	}
	tl := text(`#timeline`)
	for _, want := range []string{"asked Logistics", "accepted the handoff for Logistics", "completed the handoff for Logistics", answer} {
		if !strings.Contains(tl, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}

	h, err := e.app.Handoffs.ForCase(bg, e.lead, c.Number)
	if err != nil || len(h) != 1 || h[0].Status != handoffs.Completed || h[0].AcceptedBy == nil || *h[0].AcceptedBy != bobEmail || h[0].Unread {
		t.Fatalf("stored handoff: %+v %v", h, err)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("the browser reported errors: %v", p)
	}
}
