package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/incidents"
)

// TestUIBrowserIncident drives an incident in Chromium: a lead declares a
// SEV2 from a case's page, which pages the escalations team (her), and
// acknowledges it; hands the communications lead to Bob; previews and
// sends a public update (the case then shows it in its banner); links
// three more cases; and resolves the incident with one reply to every
// linked case, which the incidents timer sends and resolves in the
// background. The postmortem and the close are the postmortems' test.
func TestUIBrowserIncident(t *testing.T) {
	ctx := newBrowser(t, 90*time.Second)
	cfg := uiTestDesk()
	desk.Set(cfg, incidents.SettingsKey, incidents.Settings{CommanderTeam: "escalations"})
	e := newUIEnvWith(t, cfg, app.Options{})
	bg := context.Background()
	mk := func(title string) string {
		c, err := e.app.Cases.Create(bg, auth.System("seed"), cases.CreateInput{Title: title, Category: "logistics/lost_parcel",
			Market: "GB", Fields: map[string]any{"order_id": "ORD-7"}, Requester: &cases.Requester{Name: "Sam Buyer", Email: "sam@example.com"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c.Number
	}
	src := mk("Parcels stuck at the DPD hub since Monday")
	others := []string{mk("No tracking for my order"), mk("Parcel not scanned for 4 days"), mk("Where is my parcel?")}
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

	do("sign in on the case",
		chromedp.Navigate(e.srv.URL+"/login?next=/cases/"+src),
		chromedp.WaitVisible(css(`input[name=email]`)),
		chromedp.SendKeys(css(`input[name=email]`), uiTestEmail),
		chromedp.SendKeys(css(`input[name=password]`), uiTestPassword),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(css(`#declare-from-case`)))
	do("declare a SEV2 from the case",
		chromedp.Click(css(`#declare-from-case`)),
		chromedp.WaitVisible(css(`#declare-title`)),
		chromedp.SendKeys(css(`#declare-title`), "DPD hub outage in GB"),
		choose(`#declare-type`, "logistics_disruption"),
		choose(`#declare-severity`, "SEV2"),
		shot("incident-declare", `#declare`),
		chromedp.Click(css(`#declare-submit`)),
		chromedp.WaitVisible(css(`#incident-paging`)))
	if v := run(t, ctx, "case field", chromedp.Evaluate[string](`location.pathname`)); v != "/incidents/INC-1" {
		t.Fatalf("after declare at %s", v)
	}
	if b := text(`#incident-banner`); !strings.Contains(b, "SEV2") || !strings.Contains(b, "INC-1") {
		t.Errorf("banner across Flare: %q", b)
	}
	do("acknowledge the page",
		shot("incident-paged", ""),
		chromedp.Click(css(`#incident-ack`)),
		chromedp.WaitVisible(css(`#roles dd[data-role="commander"] [data-holder="`+uiTestEmail+`"]`)))
	if cmd := text(`#roles dd[data-role="commander"]`); !strings.Contains(cmd, "Alice Moreau") {
		t.Errorf("commander after the acknowledgement: %q", cmd)
	}
	do("hand the communications lead to Bob",
		choose(`#role-role`, "communications_lead"),
		chromedp.SendKeys(css(`#role-email`), bobEmail),
		chromedp.Click(css(`#role-submit`)),
		chromedp.WaitVisible(css(`#roles dd[data-role="communications_lead"] [data-holder="`+bobEmail+`"]`)))
	if comms := text(`#roles dd[data-role="communications_lead"]`); !strings.Contains(comms, bobEmail) {
		t.Errorf("communications lead: %q", comms)
	}
	do("note a decision",
		chromedp.SendKeys(css(`#note-body`), "Route new GB labels to Evri until DPD recovers."),
		chromedp.Click(css(`#note-decision`)),
		chromedp.Click(css(`#note-submit`)),
		chromedp.WaitVisible(css(`#timeline li.inc-decision`)))
	do("preview a public update",
		choose(`#update-audience`, "public"),
		chromedp.Click(css(`#update-preview-btn`)),
		chromedp.WaitVisible(css(`#update-preview`)),
		chromedp.ScrollIntoView(css(`#updates`)),
		shot("incident-update-preview", `#updates`))
	if p := text(`#update-preview`); !strings.Contains(p, "you do not need to contact us again") {
		t.Errorf("preview: %q", p)
	}
	do("send it",
		chromedp.Click(css(`#update-send`)),
		chromedp.WaitVisible(css(`#status-page article.inc-update`)))
	do("link three cases",
		chromedp.SendKeys(css(`#link-cases`), strings.Join(others, ", ")),
		chromedp.Click(css(`#link-submit`)),
		chromedp.WaitVisible(css(`#cases tr[data-case="`+others[2]+`"]`)),
		chromedp.ScrollIntoView(css(`#cases`)),
		shot("incident-linked", `#cases`))
	if n := text(`#linked-count`); n != "4" {
		t.Errorf("linked: %q", n)
	}
	if m := text(`#cases [data-market="GB"]`); m != "GB 4" {
		t.Errorf("by market: %q", m)
	}
	do("resolve with one reply",
		chromedp.Click(css(`#resolve-submit`)),
		chromedp.WaitVisible(css(`#bulk-queued`)))
	if st := text(`#incident-status`); st != "Resolved" {
		t.Errorf("status: %q", st)
	}
	// The incidents timer sends the replies and resolves the cases.
	if _, err := e.app.Incidents.Fire(bg); err != nil {
		t.Fatal(err)
	}
	do("reload",
		chromedp.Reload(),
		chromedp.WaitVisible(css(`#bulk-status`)),
		chromedp.ScrollIntoView(css(`#cases`)),
		shot("incident-resolved", `#cases`))
	if b := text(`#bulk-status`); !strings.Contains(b, "4 of 4 replied and resolved") {
		t.Errorf("bulk: %q", b)
	}
	do("a linked case",
		chromedp.Navigate(e.srv.URL+"/cases/"+others[0]),
		chromedp.WaitVisible(css(`section[data-incident="INC-1"]`)),
		shot("incident-case", ""))
	if tl := text(`#timeline`); !strings.Contains(tl, "Hello Sam Buyer") && !strings.Contains(text(`main`), "Hello Sam Buyer") {
		t.Errorf("the reply is not on the case")
	}
	if st := text(`#case-status`); st != "Resolved" {
		t.Errorf("case status %q", st)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("the browser reported errors: %v", p)
	}
}
