package web

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/escalation"
	"github.com/flare-desk/flare/internal/notify"
)

// TestUIBrowserEscalation drives an escalation in Chromium: a lead
// escalates a case by hand from its page with a reason and a level, finds
// it in the open-escalations list from the nav, and acknowledges it there;
// the person the level asks finds the notification in their bell.
func TestUIBrowserEscalation(t *testing.T) {
	ctx := newBrowser(t, 90*time.Second)
	cfg := uiTestDesk()
	levels := slices.Clone(escalation.DefaultLevels)
	levels[2].Targets = []escalation.Target{{User: bobEmail}} // L3 asks Bob
	desk.Set(cfg, escalation.LevelsKey, levels)
	e := newUIEnvWith(t, cfg, app.Options{})
	seedQueue(t, e)
	bg := context.Background()
	if err := e.app.DB.InTx(bg, func(tx *db.Tx) error {
		bob, err := auth.UserByEmail(bg, tx, bobEmail)
		if err != nil {
			return err
		}
		return auth.SetPassword(bg, tx, e.app.Clock.Now(), bob.ID, bobPassword)
	}); err != nil {
		t.Fatal(err)
	}
	c, err := e.app.Cases.Create(bg, auth.System("seed"), cases.CreateInput{Title: "Seller's warehouse fire: 300 orders stuck",
		Category: "logistics/delayed_delivery", Market: "DE"}, nil)
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
	const reason = "Seller's only warehouse burnt down; 300 orders will miss their promised dates."

	do("sign in",
		chromedp.Navigate(e.srv.URL+"/login?next=/cases/"+c.Number),
		chromedp.WaitVisible(css(`input[name=email]`)),
		chromedp.SendKeys(css(`input[name=email]`), uiTestEmail),
		chromedp.SendKeys(css(`input[name=password]`), uiTestPassword),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(css(`#escalation`)))
	if lv := text(`#escalation-level`); lv != "L1 Frontline" {
		t.Errorf("level before: %q", lv)
	}
	do("escalate by hand",
		chromedp.Click(css(`#escalate-open`)),
		choose(`#escalate-level`, "3"),
		chromedp.SendKeys(css(`#escalate-reason`), reason),
		shot("escalation-case-form", `#escalation`),
		chromedp.Click(css(`#escalate-submit`)),
		chromedp.WaitVisible(css(`#escalation li[data-escalation] .esc-st-open`)),
		chromedp.ScrollIntoView(css(`#escalation`)),
		shot("escalation-case-escalated", `#escalation`))
	if lv := text(`#escalation-level`); lv != "L3 Specialist team / team lead" {
		t.Errorf("level after: %q", lv)
	}
	if why := text(`#escalation .esc-why`); why != reason {
		t.Errorf("reason on the panel: %q", why)
	}
	if tl := text(`#timeline`); !strings.Contains(tl, "escalated the case to L3 Specialist team / team lead") || !strings.Contains(tl, reason) {
		t.Errorf("timeline lacks the escalation: %q", tl)
	}

	do("open the list",
		chromedp.Click(css(`#nav-escalations`)),
		chromedp.WaitVisible(css(`table.esc-queue tr[data-escalation]`)),
		shot("escalation-list", ""))
	row := text(`table.esc-queue tr[data-escalation]`)
	for _, want := range []string{c.Number, "Seller's warehouse fire", "L3 Specialist team / team lead", "Open", reason} {
		if !strings.Contains(row, want) {
			t.Errorf("list row lacks %q: %q", want, row)
		}
	}
	do("acknowledge",
		chromedp.Click(css(`table.esc-queue tr[data-escalation] button[type=submit]`)),
		chromedp.WaitVisible(css(`table.esc-queue tr[data-escalation] .esc-st-acknowledged`)),
		shot("escalation-list-acknowledged", ""))
	if held := text(`table.esc-queue tr[data-escalation]`); !strings.Contains(held, uiTestEmail) || !strings.Contains(held, "acknowledged") {
		t.Errorf("acknowledged row: %q", held)
	}
	do("back on the case",
		chromedp.Click(css(`table.esc-queue tr[data-escalation] a[href^="/cases/"]`)),
		chromedp.WaitVisible(css(`#escalation [data-acked]`)),
		chromedp.ScrollIntoView(css(`#escalation`)),
		shot("escalation-case-acknowledged", `#escalation`))
	if acked := text(`#escalation [data-acked]`); !strings.Contains(acked, "Acknowledged by Alice Moreau") {
		t.Errorf("panel after the acknowledgement: %q", acked)
	}

	v, err := e.app.Escalation.ForCase(bg, e.lead, c.Number)
	if err != nil || len(v.Escalations) != 1 || v.Escalations[0].State != escalation.Acknowledged || v.Level != 3 ||
		v.Escalations[0].Reason != reason {
		t.Fatalf("stored: %+v %v", v, err)
	}
	// Bob, whom L3 asks, has it in his bell once notifications ran.
	if _, err := e.app.Bus.Deliver(bg, notify.Subscriber); err != nil {
		t.Fatal(err)
	}
	do("sign in as the person asked",
		chromedp.Click(css(`form[action="/logout"] button[type=submit]`)),
		chromedp.WaitVisible(css(`input[name=email]`)),
		chromedp.SendKeys(css(`input[name=email]`), bobEmail),
		chromedp.SendKeys(css(`input[name=password]`), bobPassword),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(css(`#nav-bell #bell-count`)),
		shot("escalation-bell", ""))
	if n, err := strconv.Atoi(text(`#bell-count`)); err != nil || n < 1 {
		t.Errorf("Bob's bell shows %q", text(`#bell-count`))
	}
	do("open the bell",
		chromedp.Click(css(`#nav-bell`)),
		chromedp.WaitVisible(css(`main`)),
		shot("escalation-notifications", ""))
	if page := text(`main`); !strings.Contains(page, c.Number+" was escalated to you (L3)") || !strings.Contains(page, reason) {
		t.Errorf("notifications page: %q", page)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("the browser reported errors: %v", p)
	}
}
