package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/reviews"
)

// TestUIBrowserPack renders a stored review pack in Chromium: the lead
// finds it in the history from the top bar and reads its figures.
func TestUIBrowserPack(t *testing.T) {
	ctx := newBrowser(t, 60*time.Second)
	e := newUIEnv(t)
	bg := context.Background()
	for _, market := range []string{"GB", "GB", "DE"} {
		if _, err := e.app.Cases.Create(bg, auth.System("seed"), cases.CreateInput{Title: "Parcel not scanned", Category: "logistics/lost_parcel",
			Market: market, Fields: map[string]any{"order_id": "ORD-7"}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	c := reviews.Cadence{Key: "weekly_ops", Name: "Weekly operations review", Every: reviews.Weekly}
	p := reviews.PeriodAt(reviews.Weekly, e.app.Clock.Now(), time.UTC) // this week's, to show what was just written
	if _, err := e.app.Reviews.BuildAndSend(bg, c, p, "test", false); err != nil {
		t.Fatal(err)
	}
	problems := watchConsole(ctx)
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
	do("sign in",
		chromedp.Navigate(e.srv.URL+"/login?next=/cases"),
		chromedp.WaitVisible(css(`input[name=email]`)),
		chromedp.SendKeys(css(`input[name=email]`), e.email),
		chromedp.SendKeys(css(`input[name=password]`), e.password),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(css(`table.queue`)))
	do("open the packs",
		chromedp.WaitVisible(css(`#nav-packs`)),
		chromedp.Click(css(`#nav-packs`)),
		chromedp.WaitVisible(css(`table.packs tr[data-pack] a`)),
		chromedp.Click(css(`table.packs tr[data-pack] a`)),
		chromedp.WaitVisible(css(`#pack-kpis`)),
		screenshot(t, "review-pack", `.review-pack`))
	if h := text(`.review-pack h1`); h != "Weekly operations review — "+p.Label {
		t.Errorf("title %q", h)
	}
	if v := text(`tr[data-kpi="intake"] .value`); v != "3" {
		t.Errorf("cases in %q, want 3", v)
	}
	if gb := text(`#pack-markets tr[data-market="GB"]`); !strings.HasPrefix(gb, "GB\t2") && !strings.HasPrefix(gb, "GB 2") {
		t.Errorf("GB row %q", gb)
	}
	if cat := text(`#pack-categories tr[data-category]`); !strings.Contains(cat, "logistics/lost_parcel") {
		t.Errorf("categories %q", cat)
	}
	if got := problems(); len(got) > 0 {
		t.Errorf("console: %v", got)
	}
}
