package web

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestUIBrowserTakeNext drives take-next in Chromium: from the queue, the
// lead takes Logistics' most urgent unassigned case (the P3 with money at
// stake before an older P4), then the next, then learns the queue is empty;
// the team page shows her load.
func TestUIBrowserTakeNext(t *testing.T) {
	ctx := newBrowser(t, 45*time.Second)
	e := newUIEnv(t)
	seedQueue(t, e)
	problems := watchConsole(ctx)
	shot := func(name string) chromedp.Action[chromedp.Void] { return screenshot(t, name, "") }
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	take := css(`form.take-form button[value=logistics]`)
	do("sign in",
		chromedp.Navigate(e.srv.URL+"/login?next=%2Fcases"),
		chromedp.SendKeys(css(`input[name=email]`), e.email),
		chromedp.SendKeys(css(`input[name=password]`), e.password),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(take),
		shot("take-next-queue"))
	title := func() string {
		return run(t, ctx, "case title", chromedp.Evaluate[string](`document.querySelector("h1").textContent`))
	}
	for _, want := range []string{"Lost parcel, high-value electronics", "Delayed deliveries from the Leipzig hub"} {
		do("take next", chromedp.Click(take), chromedp.WaitVisible(css(`.case-head, .panel`)))
		if got := title(); !strings.Contains(got, want) {
			t.Fatalf("took %q, want %q", got, want)
		}
		page := run(t, ctx, "case page", chromedp.Evaluate[string](`document.body.innerText`))
		if !strings.Contains(page, "Alice Moreau") || !strings.Contains(page, "Open") {
			t.Fatalf("the taken case is not Alice's and open:\n%s", page)
		}
		do("back to the queue", chromedp.Navigate(e.srv.URL+"/cases"), chromedp.WaitVisible(take))
	}
	do("take next on an empty queue", chromedp.Click(take), chromedp.WaitVisible(css(`.take-next .alert`)), shot("take-next-empty"))
	if msg := run(t, ctx, "message", chromedp.Evaluate[string](`document.querySelector(".take-next .alert").textContent`)); !strings.Contains(msg, "no unassigned case in team logistics") {
		t.Fatalf("empty queue message: %q", msg)
	}
	do("team page", chromedp.Click(css(`form.take-form a[href="/teams/logistics"]`)), chromedp.WaitVisible(css(`table.agents`)), shot("team"))
	row := run(t, ctx, "Alice's row", chromedp.Evaluate[string](
		`[...document.querySelectorAll("table.agents tbody tr")].map(r => r.innerText).find(t => t.includes("Alice")) || ""`))
	if !strings.Contains(row, "Available") || !strings.Contains(row, "/20") {
		t.Fatalf("Alice on the team page: %q", row)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("the browser reported errors: %v", p)
	}
}
