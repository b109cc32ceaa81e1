package web

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/oncall"
	"github.com/flare-desk/flare/internal/oncall/rota"
)

// TestUIBrowserOnCall drives the on-call pages in Chromium: a lead opens
// the overview from the nav, then Trust & Safety's two weeks (follow the
// sun: Europe by day, the US by night), adds an override with the form and
// sees it on call; the team page flags Escalations' holes.
func TestUIBrowserOnCall(t *testing.T) {
	ctx := newBrowser(t, 45*time.Second)
	cfg := uiTestDesk()
	desk.Set(cfg, oncall.SchedulesKey, []rota.Schedule{
		{Team: "trust_safety", Layers: []rota.Layer{
			{Name: "US nights", Rotation: rota.Weekly, Timezone: "America/Los_Angeles", Start: "2026-10-05", Handoff: "10:00",
				Participants: []string{"bob@flare.test"}, Window: "10:00-24:00"},
			{Name: "EMEA days", Rotation: rota.Daily, Timezone: "Europe/London", Start: "2026-10-05", Handoff: "07:00",
				Participants: []string{uiTestEmail, "admin@flare.test"}, Window: "07:00-19:00"}}},
		{Team: "escalations", AllowGaps: true, Layers: []rota.Layer{{Name: "Office", Rotation: rota.Weekly, Timezone: "Europe/London",
			Start: "2026-10-05", Handoff: "09:00", Participants: []string{uiTestEmail}, Window: "09:00-17:00"}}},
	})
	e := newUIEnvWith(t, cfg, app.Options{Clock: clock.NewFake(time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC))})
	problems := watchConsole(ctx)
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		return run(t, ctx, sel, chromedp.Evaluate[string](`document.querySelector(`+"`"+sel+"`"+`).innerText`))
	}
	do("sign in",
		chromedp.Navigate(e.srv.URL+"/login?next=%2Fcases"),
		chromedp.SendKeys(css(`input[name=email]`), e.email),
		chromedp.SendKeys(css(`input[name=password]`), e.password),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(css(`nav.mainnav a[href="/oncall"]`)),
		chromedp.Click(css(`nav.mainnav a[href="/oncall"]`)),
		chromedp.WaitVisible(css(`#oncall-teams`)),
		screenshot(t, "oncall-overview", ""))
	if got := text("#oncall-teams"); !strings.Contains(got, "Alice Moreau") || !strings.Contains(got, "holes") {
		t.Fatalf("overview: %q", got)
	}
	do("a team's two weeks", chromedp.Click(css(`a[href="/oncall/trust_safety"]`)), chromedp.WaitVisible(css(`#oncall-shifts`)))
	if got := text("#oncall-now"); !strings.Contains(got, "On call now: Alice Moreau") || !strings.Contains(got, "Next: Bob Fischer") {
		t.Fatalf("now: %q", got)
	}
	do("add an override",
		choose(`#override-form select[name=person]`, "bob@flare.test"),
		chromedp.SetValue(css(`#override-form input[name=from]`), "2026-11-02T12:30"),
		chromedp.SetValue(css(`#override-form input[name=to]`), "2026-11-02T14:00"),
		chromedp.SendKeys(css(`#override-form input[name=reason]`), "Alice in the incident review"),
		chromedp.Click(css(`#override-form button[type=submit]`)),
		chromedp.WaitVisible(css(`#oncall-message`)),
		screenshot(t, "oncall-team", ""))
	if got := text("#oncall-message"); !strings.Contains(got, "Override added: Bob Fischer") {
		t.Fatalf("message: %q", got)
	}
	if got := text("#oncall-shifts"); !strings.Contains(got, "override #") || !strings.Contains(got, "covering Alice Moreau") {
		t.Fatalf("shifts: %q", got)
	}
	do("the team page", chromedp.Navigate(e.srv.URL+"/teams/escalations"), chromedp.WaitVisible(css(`#oncall-summary`)),
		screenshot(t, "oncall-team-page", "#oncall-summary"))
	if got := text("#oncall-summary"); !strings.Contains(got, "holes in the next two weeks") {
		t.Fatalf("team page: %q", got)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("the browser reported errors: %v", p)
	}
}
