package web

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
)

// chromiumPath is the system Chromium the browser tests drive.
const chromiumPath = "/usr/bin/chromium"

// requireBrowser reports whether a missing browser must fail the test
// (CI, .ci/run) rather than skip it (a developer's machine).
func requireBrowser() bool {
	return os.Getenv("FLARE_TEST_REQUIRE_BROWSER") == "1" || os.Getenv("CI") == "true"
}

// newBrowser starts a fresh headless Chromium and returns a tab context.
func newBrowser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	if raceDetector {
		// The browser drives one page at a time: under the race detector it
		// only repeats the plain run about ten times slower (CI runs both).
		t.Skip("browser tests run without -race; the race run covers the server's concurrency")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		if requireBrowser() {
			t.Fatalf("Chromium is required (FLARE_TEST_REQUIRE_BROWSER=1 or CI=true) but %s is missing: %v", chromiumPath, err)
		}
		t.Skipf("browser test skipped: %s not found (install the chromium package; set FLARE_TEST_REQUIRE_BROWSER=1 to make this a failure)", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 1000),
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return bctx
}

// css is a CSS selector (a plain string would be a DOM text search).
type css = chromedp.CSS

// choose selects an option the way a user does, firing the change event the
// page's script listens to.
func choose(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %q;
			e.dispatchEvent(new Event("change", {bubbles: true})); return e.value; })()`, sel, value)
		got, err := chromedp.Evaluate[string](js)(ctx, tg)
		if err != nil {
			return fmt.Errorf("choose %s in %s: %w", value, sel, err)
		}
		if got != value {
			return fmt.Errorf("choose %s in %s: the select has no such option", value, sel)
		}
		return nil
	})
}

// run runs one action that returns a value, failing the test on error.
func run[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// watchConsole collects script errors and errors the browser reports (CSP
// violations…) from now on; the returned func lists them so far. 4xx
// answers to invalid forms log as network errors and are expected.
func watchConsole(ctx context.Context) func() []string {
	var mu sync.Mutex
	var problems []string
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.IsException() || (m.Type == chromedp.ConsoleError && m.Source != "network") {
				mu.Lock()
				problems = append(problems, m.String())
				mu.Unlock()
			}
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(problems)
	}
}

// screenshot saves the page (from its top) as name.png under
// $FLARE_SCREENSHOTS, and with sel that element alone as name-part.png;
// nothing when the variable is unset.
func screenshot(t *testing.T, name, sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		dir := os.Getenv("FLARE_SCREENSHOTS")
		if dir == "" {
			return nil
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		save := func(file string, png []byte) error {
			p := filepath.Join(dir, file+".png")
			t.Logf("screenshot %s", p)
			return os.WriteFile(p, png, 0o644)
		}
		if _, err := chromedp.Evaluate[bool](`window.scrollTo(0, 0), true`)(ctx, tg); err != nil {
			return err
		}
		png, err := chromedp.FullScreenshot(100)(ctx, tg)
		if err != nil {
			return err
		}
		if err := save(name, png); err != nil || sel == "" {
			return err
		}
		if png, err = chromedp.Screenshot(css(sel))(ctx, tg); err != nil {
			return err
		}
		return save(name+"-part", png)
	})
}

// seedQueue adds a realistic handful of cases, so the queue has something to show.
func seedQueue(t *testing.T, e *uiEnv) {
	t.Helper()
	ctx := context.Background()
	sys := auth.System("seed")
	now := e.app.Clock.Now()
	seeds := []struct {
		in    cases.CreateInput
		age   time.Duration
		owner string
		to    cases.Status
	}{
		{cases.CreateInput{Title: "Counterfeit trainers listed by a top seller", Category: "trust_safety/counterfeit", Market: "GB",
			SellerID: "S-1042", HighRisk: true, Channel: "social", Fields: map[string]any{"brands": []string{"Nike"}, "listings": 14}}, 95 * time.Minute, "", ""},
		{cases.CreateInput{Title: "Payout held after KYC refresh", Category: "payments/payout_hold", Market: "DE", SellerID: "S-2077",
			Fields: map[string]any{"amount": "4820.00", "hold_reason": "kyc"}}, 26 * time.Hour, uiTestEmail, cases.StatusPendingInternal},
		{cases.CreateInput{Title: "Seller suspended in error during appeal", Category: "governance/account_suspension", Market: "FR",
			Channel: "leadership", Sensitivity: "restricted"}, 5 * time.Hour, uiTestEmail, ""},
		{cases.CreateInput{Title: "Parcel to Manchester marked delivered, not received", Category: "logistics/lost_parcel", Market: "GB",
			Fields: map[string]any{"order_id": "ORD-77120", "carrier": "Royal Mail"}}, 3 * 24 * time.Hour, "bob@flare.test", cases.StatusPendingRequester},
		{cases.CreateInput{Title: "Delayed deliveries from the Leipzig hub", Category: "logistics/delayed_delivery", Market: "DE"}, 40 * time.Minute, "", ""},
		{cases.CreateInput{Title: "Lost parcel, high-value electronics", Category: "logistics/lost_parcel", Market: "FR", Channel: "email",
			Fields: map[string]any{"order_id": "ORD-90311", "order_value": map[string]any{"amount": "1299", "currency": "EUR"}}}, 9 * 24 * time.Hour, "", ""},
	}
	for _, s := range seeds {
		s.in.At = now.Add(-s.age)
		c, err := e.app.Cases.Create(ctx, sys, s.in, nil)
		if err != nil {
			t.Fatalf("seed %q: %v", s.in.Title, err)
		}
		if s.owner != "" {
			if _, err := e.app.Cases.Update(ctx, sys, c.Number, cases.UpdateInput{Owner: &s.owner}); err != nil {
				t.Fatalf("seed owner: %v", err)
			}
		}
		if s.to != "" {
			if _, err := e.app.Cases.Transition(ctx, sys, c.Number, cases.TransitionInput{To: s.to, Note: "waiting on the other side"}); err != nil {
				t.Fatalf("seed status: %v", err)
			}
		}
	}
}

// TestUIBrowserCaseFlow drives the real UI in Chromium: sign in, create a
// case with custom fields, add an internal note, resolve it.
func TestUIBrowserCaseFlow(t *testing.T) {
	ctx := newBrowser(t, 45*time.Second)
	e := newUIEnv(t)
	seedQueue(t, e)
	start := time.Now()

	problems := watchConsole(ctx)
	shot := func(name string) chromedp.Action[chromedp.Void] { return screenshot(t, name, "") }
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	// Sign in: the queue sends us to the sign-in page and back.
	do("open the queue signed out",
		chromedp.Navigate(e.srv.URL+"/cases"),
		chromedp.WaitVisible(css(`input[name=email]`)),
		shot("login"))
	if loc := run(t, ctx, "location", chromedp.Location()); !strings.HasSuffix(loc, "/login?next=%2Fcases") {
		t.Errorf("signed-out queue went to %s", loc)
	}
	do("sign in",
		chromedp.SendKeys(css(`input[name=email]`), e.email),
		chromedp.SendKeys(css(`input[name=password]`), e.password),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(css(`table.queue`)),
		shot("queue"))
	if rows := run(t, ctx, "count rows", chromedp.Evaluate[int](`document.querySelectorAll("table.queue tbody tr").length`)); rows != 6 {
		t.Errorf("queue shows %d rows, want the 6 seeded cases", rows)
	}

	// SLA: the queue's Due column, the breaching-soon view and a case's clocks.
	due := run(t, ctx, "due cells", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("table.queue td.col-due .due")].map(e => e.className + ": " + e.textContent)`))
	if len(due) != 6 || !strings.HasPrefix(due[0], "due due-breached: overdue ") {
		t.Errorf("Due cells after the script ran: %q", due)
	}
	do("open breaching soon",
		chromedp.Click(css(`nav.mainnav a[href="/cases?view=breaching"]`)),
		chromedp.WaitVisible(css(`table.queue`)),
		shot("breaching"))
	do("open a case with running clocks",
		chromedp.Click(css(`table.queue td.col-num a`)),
		chromedp.WaitVisible(css(`#sla`)),
		shot("case-sla"))
	if first := run(t, ctx, "first response clock", chromedp.Text(css(`#sla li[data-metric=first_response] .due-label`))); first != "Breached" {
		t.Errorf("first response clock of the oldest P1 case says %q", first)
	}

	// Create a case: choose a category, and only its fields show.
	do("send the new case form empty",
		chromedp.Click(css(`a[href="/cases/new"]`)),
		chromedp.WaitVisible(css(`#new-case`)),
		chromedp.Click(css(`#new-case button[type=submit]`)),
		chromedp.WaitVisible(css(`#form-errors`)),
		shot("new-case-errors"))
	if msg := run(t, ctx, "title error", chromedp.Text(css(`input[name=title] + .field-error`))); msg != "is required" {
		t.Errorf("the title's error reads %q", msg)
	}
	do("fill the new case form",
		chromedp.SendKeys(css(`input[name=title]`), "Parcel lost between hub and locker"),
		chromedp.SendKeys(css(`textarea[name=description]`), "Seller reports 3 parcels stuck since Monday.\nCarrier says delivered."),
		choose(`#category`, "logistics/lost_parcel"),
		choose(`#market`, "GB"))
	shown := run(t, ctx, "visible fieldsets", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("fieldset.custom-fields")].filter(f => !f.hidden).map(f => f.dataset.category)`))
	if !slices.Equal(shown, []string{"logistics/lost_parcel"}) {
		t.Errorf("custom fieldsets shown: %v, want only the chosen category's", shown)
	}
	do("create the case",
		chromedp.SendKeys(css(`[name="field.logistics/lost_parcel.order_id"]`), "ORD-4471"),
		choose(`[name="field.logistics/lost_parcel.carrier"]`, "DPD"),
		chromedp.SendKeys(css(`[name="field.logistics/lost_parcel.order_value.amount"]`), "89.90"),
		chromedp.SendKeys(css(`input[name=tags]`), "locker, repeat"),
		chromedp.Click(css(`input[name=high_risk]`)),
		shot("new-case"),
		chromedp.Click(css(`#new-case button[type=submit]`)),
		chromedp.WaitVisible(css(`#case-status`)))
	if loc := run(t, ctx, "location", chromedp.Location()); !strings.HasSuffix(loc, "/cases/ESC-7") {
		t.Fatalf("after create: at %s, want /cases/ESC-7", loc)
	}

	// Add an internal note.
	do("write an internal note",
		chromedp.SendKeys(css(`#reply-form textarea[name=body]`), "Called **DPD**: the scan at the Croydon hub is missing."),
		chromedp.Click(css(`#internal`)))
	if button := run(t, ctx, "reply button", chromedp.Text(css(`#reply-submit`))); button != "Add internal note" {
		t.Errorf("reply button says %q with Internal note ticked", button)
	}
	do("send the note",
		chromedp.Click(css(`#reply-submit`)),
		chromedp.WaitVisible(css(`#timeline li.ev-internal`)))

	// Take the case: it opens.
	do("assign to me",
		chromedp.Click(css(`#assign-me`)),
		chromedp.WaitVisible(css(`#case-status.st-open`)))
	if owner := run(t, ctx, "owner", chromedp.Text(css(`#case-owner`))); owner != "Alice Moreau" {
		t.Errorf("owner shows %q", owner)
	}

	// Resolve: the resolution appears once "resolved" is chosen.
	do("choose resolved", choose(`#status-to`, "resolved"))
	if hidden := run(t, ctx, "resolution shown", chromedp.Evaluate[bool](
		`document.getElementById("resolve-fields").classList.contains("is-hidden")`)); hidden {
		t.Errorf("the resolution select stayed hidden when resolving")
	}
	do("resolve",
		choose(`#resolution`, "fixed"),
		chromedp.SendKeys(css(`#status-note`), "Parcel found at the hub and delivered to the locker."),
		chromedp.Click(css(`#status-submit`)),
		chromedp.WaitVisible(css(`#case-status.st-resolved`)),
		shot("case"))

	if status := run(t, ctx, "status", chromedp.Text(css(`#case-status`))); status != "Resolved" {
		t.Errorf("status pill says %q", status)
	}
	page := strings.ToLower(run(t, ctx, "page text", chromedp.Text(css(`main`))))
	for _, want := range []string{"Parcel found at the hub and delivered to the locker.", "Resolved: Fixed", "ORD-4471", "DPD",
		"89.90 GBP", "High risk", "locker", "Lost parcel"} {
		if !strings.Contains(page, strings.ToLower(want)) {
			t.Errorf("case page lacks %q", want)
		}
	}
	note := strings.ToLower(run(t, ctx, "note text", chromedp.Text(css(`#timeline li.ev-internal`))))
	if !strings.Contains(note, "internal note") || !strings.Contains(note, "the scan at the croydon hub is missing") {
		t.Errorf("internal note reads %q", note)
	}
	types := run(t, ctx, "timeline", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#timeline > ol > li")].map(li => li.dataset.type)`))
	if want := []string{"created", "comment", "update", "status", "status"}; !slices.Equal(types, want) {
		b, _ := json.Marshal(types)
		t.Errorf("timeline events %s, want %v", b, want)
	}

	// The stored case agrees with what the page shows.
	c, err := e.app.Cases.Get(context.Background(), e.lead, "ESC-7")
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != cases.StatusResolved || c.Resolution != "fixed" || !c.HighRisk || c.Fields["carrier"] != "DPD" {
		t.Errorf("stored case: status %s resolution %q high risk %v fields %v", c.Status, c.Resolution, c.HighRisk, c.Fields)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("the browser reported errors: %v", p)
	}
	t.Logf("browser flow took %s", time.Since(start).Round(time.Millisecond))
}
