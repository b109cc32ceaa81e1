package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

// TestUIBrowserPortal drives the account-manager portal in Chromium: an
// account manager signs in and lands on the portal, raises a request for
// one of her sellers, an agent replies on the case page (and adds an
// internal note), and the account manager finds the reply — not the note —
// on her request's page.
func TestUIBrowserPortal(t *testing.T) {
	ctx := newBrowser(t, 90*time.Second)
	e := newAPIEnv(t, dbtest.SQLite(t, app.Migrate)) // the example desk: Sophie manages three sellers
	bg := context.Background()
	const pw = "a long enough passphrase"
	for _, role := range []string{"account_manager", "admin"} {
		if err := e.app.DB.InTx(bg, func(tx *db.Tx) error {
			return auth.SetPassword(bg, tx, e.app.Clock.Now(), e.actors[role].UserID, pw)
		}); err != nil {
			t.Fatal(err)
		}
	}
	sophie, amelia := e.actors["account_manager"], e.actors["admin"]
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
	signIn := func(who auth.Actor, path, waitFor string) {
		t.Helper()
		do("sign in as "+who.Email,
			chromedp.Navigate(e.srv.URL+path),
			chromedp.WaitVisible(css(`input[name=email]`)),
			chromedp.SendKeys(css(`input[name=email]`), who.Email),
			chromedp.SendKeys(css(`input[name=password]`), pw),
			chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
			chromedp.WaitVisible(css(waitFor)))
	}
	const reply = "We found the parcel at the Croydon depot; it goes out today."
	const note = "Depot manager owes us an explanation for the week."

	signIn(sophie, "/login", `#raise`)
	if u := run(t, ctx, "location", chromedp.Location()); !strings.HasSuffix(u, "/portal") {
		t.Errorf("the account manager landed on %s", u)
	}
	do("raise a request",
		chromedp.Click(css(`#raise`)),
		chromedp.WaitVisible(css(`#portal-new`)),
		choose(`#seller`, "S-1001"),
		choose(`#category`, "logistics/lost_parcel"),
		chromedp.WaitVisible(css(`input[name="field.logistics/lost_parcel.order_id"]`)),
		chromedp.SendKeys(css(`input[name="field.logistics/lost_parcel.order_id"]`), "ORD-88123"),
		chromedp.SendKeys(css(`input[name=title]`), "Customer's parcel lost for a week"),
		chromedp.SendKeys(css(`textarea[name=description]`), "Thames Home Goods' customer has been waiting since Monday."),
		chromedp.Click(css(`input[name=urgency][value=high]`)),
		shot("portal-raise", `#portal-new`),
		chromedp.Click(css(`#portal-submit`)),
		chromedp.WaitVisible(css(`#portal-status`)),
		shot("portal-request-raised", ""))
	number := strings.Fields(text(`h1 .mono`))[0]
	if st := text(`#portal-status-text`); st != "Received, not picked up yet" && st != "Being worked on" {
		t.Errorf("status after raising: %q", st)
	}

	do("sign out", chromedp.Click(css(`form[action="/logout"] button[type=submit]`)), chromedp.WaitVisible(css(`input[name=email]`)))
	signIn(amelia, "/login?next=/cases/"+number, `#reply-form`)
	do("reply publicly",
		chromedp.SendKeys(css(`#reply-form textarea[name=body]`), reply),
		chromedp.Click(css(`#reply-submit`)),
		chromedp.WaitVisible(css(`#timeline li.ev-comment`)))
	do("add an internal note",
		chromedp.SendKeys(css(`#reply-form textarea[name=body]`), note),
		chromedp.Click(css(`#internal`)),
		chromedp.Click(css(`#reply-submit`)),
		chromedp.WaitVisible(css(`#timeline li.ev-internal`)),
		shot("portal-agent-case", `#timeline`))

	do("sign out", chromedp.Click(css(`form[action="/logout"] button[type=submit]`)), chromedp.WaitVisible(css(`input[name=email]`)))
	signIn(sophie, "/login", `#portal-mine`)
	if row := text(`#portal-mine tr[data-case="` + number + `"]`); !strings.Contains(row, "Amelia Clarke replied") {
		t.Errorf("her list's last update: %q", row)
	}
	do("open her request",
		chromedp.Click(css(`#portal-mine a[href="/portal/requests/`+number+`"]`)),
		chromedp.WaitVisible(css(`#portal-timeline li[data-kind=reply]`)),
		shot("portal-request-answered", ""))
	tl := text(`#portal-timeline`)
	if !strings.Contains(tl, reply) {
		t.Errorf("the reply is not on her page: %q", tl)
	}
	if strings.Contains(tl, note) || strings.Contains(text(`main`), "Depot manager") {
		t.Errorf("the internal note leaked into the portal: %q", tl)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("the browser reported errors: %v", p)
	}
}
