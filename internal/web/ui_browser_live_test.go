package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/prefs"
)

// axeCheck runs axe-core (testdata/axe) on the open page and fails the test
// on a serious or critical violation.
func axeCheck(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	src, err := os.ReadFile("testdata/axe/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](string(src)+";true")); err != nil {
		t.Fatalf("axe on %s: inject: %v", page, err)
	}
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`axe.run(document, {resultTypes: ["violations"]}).then(r =>
		r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v =>
			v.impact + " " + v.id + ": " + v.help + " at " + v.nodes.slice(0, 4).map(n => n.target.join(" ") + " (" + (n.failureSummary || "").split("\n").slice(1, 2).join("") + ")").join("; ")))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe on %s: %v", page, err)
	}
	for _, f := range found {
		t.Errorf("axe on %s: %s", page, f)
	}
}

// void runs a and drops its result.
func void[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error { _, err := a(ctx, tg); return err })
}

// newLiveUIEnv is the UI test desk with its queue seeded, served with live
// pages. The pages' open streams would keep the server's Close waiting, so
// their connections are cut first.
func newLiveUIEnv(t *testing.T) *uiEnv {
	t.Helper()
	e := newUIEnv(t)
	ls, err := New(e.app, Options{Live: true})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(ls.Handler())
	t.Cleanup(e.srv.Close)
	t.Cleanup(e.srv.CloseClientConnections)
	seedQueue(t, e)
	return e
}

// TestUIBrowserLiveKeyboard drives the shell in Chromium: a case created
// through the API shows in the open queue within 2 s without a reload;
// j/k/Enter, r, n, a, ?, Ctrl+K; presence on a case; times in the user's
// zone; the phone layout; and axe-core on the main screens.
func TestUIBrowserLiveKeyboard(t *testing.T) {
	ctx := newBrowser(t, 90*time.Second)
	e := newLiveUIEnv(t)
	bg := context.Background()
	if _, err := e.app.Prefs.Set(bg, e.lead.UserID, prefs.Prefs{TimeZone: "America/New_York"}); err != nil {
		t.Fatal(err)
	}
	var leadTok, bobTok string
	err := e.app.DB.InTx(bg, func(tx *db.Tx) error {
		var err error
		if leadTok, _, err = auth.CreateToken(bg, tx, e.app.Clock.Now(), e.lead.UserID, "live test"); err != nil {
			return err
		}
		bob, err := auth.UserByEmail(bg, tx, bobEmail)
		if err != nil {
			return err
		}
		bobTok, _, err = auth.CreateToken(bg, tx, e.app.Clock.Now(), bob.ID, "live test")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	problems := watchConsole(ctx)
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(what, js string) string { t.Helper(); return run(t, ctx, what, chromedp.Evaluate[string](js)) }
	key := func(k string, opts ...chromedp.KeyOption) chromedp.Action[chromedp.Void] {
		return chromedp.KeyEvent(k, opts...)
	}
	waitFor := func(what, js string) { // across page loads, which end a Poll
		t.Helper()
		var err error
		for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(30 * time.Millisecond) {
			var ok bool
			if ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err == nil && ok {
				return
			}
		}
		t.Fatalf("%s: not within 3 s (%v)", what, err)
	}
	blur := void(chromedp.Evaluate[bool](`document.activeElement.blur(), true`))
	shot := func(name string) chromedp.Action[chromedp.Void] { return screenshot(t, name, "") }

	do("sign in",
		chromedp.Navigate(e.srv.URL+"/login?next=%2Fcases"),
		chromedp.WaitVisible(css(`input[name=email]`)),
		chromedp.SendKeys(css(`input[name=email]`), e.email),
		chromedp.SendKeys(css(`input[name=password]`), e.password),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(css(`table.queue`)))
	waitFor("the live stream opens", `document.body.dataset.liveOn === "1"`)

	// Live: a case made through the API appears in the open queue.
	title := "Live: parcel stuck at the Leeds depot"
	body, _ := json.Marshal(map[string]any{"title": title, "category": "logistics/lost_parcel", "market": "GB",
		"fields": map[string]any{"order_id": "ORD-31337", "carrier": "DPD"}})
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/cases", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+leadTok)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 201 {
		t.Fatalf("create through the API: %v %v", err, res)
	}
	var created struct{ Number string }
	_ = json.NewDecoder(res.Body).Decode(&created)
	res.Body.Close()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`document.querySelector("table.queue").textContent.includes(%q)`, title),
		chromedp.WithPollingTimeout(2*time.Second), chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		t.Fatalf("the new case is not in the open queue within 2 s: %v", err)
	}
	t.Logf("API → open queue in %s", time.Since(start))
	do("shot", shot("queue"))
	axeCheck(t, ctx, "the queue")

	// Keyboard on the list: j, j, k select; Enter opens the selected case.
	do("j j k", key("j"), key("j"), key("k"))
	first := eval("first row", `document.querySelector("table.queue tbody tr a[href^='/cases/']").getAttribute("href")`)
	if sel := eval("selected", `(document.querySelector("tr.kb-current a[href^='/cases/']") || {getAttribute: () => ""}).getAttribute("href")`); sel != first {
		t.Fatalf("after j j k the selected row is %q, want the first %q", sel, first)
	}
	do("Enter opens", key("\r"), chromedp.WaitVisible(css(`#reply-form`)))
	if loc := run(t, ctx, "location", chromedp.Location()); !strings.HasSuffix(loc, first) {
		t.Fatalf("Enter opened %s, want %s", loc, first)
	}
	do("r: reply", key("r"))
	if got := eval("focus after r", `document.activeElement.closest("#reply-form") ? "reply:" + document.getElementById("internal").checked : document.activeElement.tagName`); got != "reply:false" {
		t.Fatalf("r: focus %s, want the reply box as a public reply", got)
	}
	do("leave the box, n: note", blur, key("n"))
	if got := eval("focus after n", `document.activeElement.closest("#reply-form") ? "reply:" + document.getElementById("internal").checked : document.activeElement.tagName`); got != "reply:true" {
		t.Fatalf("n: focus %s, want the reply box as an internal note", got)
	}
	do("? lists the shortcuts", blur, key("?"), chromedp.WaitVisible(css(`#kb-help`)))
	if n := run(t, ctx, "shortcuts", chromedp.Evaluate[int](`document.querySelectorAll("#kb-help dt").length`)); n < 10 {
		t.Fatalf("the shortcut list has %d entries", n)
	}
	do("Esc closes it", key("\x1b"), chromedp.WaitNotVisible(css(`#kb-help`)))
	do("a: assign to me", key("a"))
	waitFor("assigned to me", `!!document.getElementById("case-owner") && document.getElementById("case-owner").textContent.includes("Alice Moreau")`)

	// Times in the user's zone (America/New_York), the exact instant on hover.
	created0 := eval("created", `document.querySelector(".details time").textContent + " | " + document.querySelector(".details time").title`)
	if strings.Contains(created0, "UTC") || !strings.Contains(created0, "EST") {
		t.Errorf("created time %q: want it in the user's zone (EST), not UTC", created0)
	}

	// The command palette: a case by its number, without the prefix.
	digits := created.Number[strings.IndexAny(created.Number, "0123456789"):]
	do("Ctrl+K, the number, Enter",
		key("k", chromedp.KeyModifiers(chromedp.ModifierCtrl)), chromedp.WaitVisible(css(`#palette-input`)),
		chromedp.SendKeys(css(`#palette-input`), digits),
		void(chromedp.Poll[bool](`!!document.querySelector("#palette-list li") && document.querySelector("#palette-list li").textContent.startsWith("Open case")`)),
		shot("palette"),
		key("\r"), chromedp.WaitVisible(css(`#reply-form`)))
	if loc := run(t, ctx, "location", chromedp.Location()); !strings.HasSuffix(loc, "/cases/"+created.Number) {
		t.Fatalf("the palette opened %s, want %s", loc, created.Number)
	}

	// Presence: Bob opens the same case (a stream with ?case=); Alice sees him.
	ref := created.Number
	sctx, scancel := context.WithCancel(bg)
	defer scancel()
	sreq, _ := http.NewRequestWithContext(sctx, "GET", e.srv.URL+"/api/v1/stream?case="+ref, nil)
	sreq.Header.Set("Authorization", "Bearer "+bobTok)
	sres, err := http.DefaultClient.Do(sreq)
	if err != nil || sres.StatusCode != 200 {
		t.Fatalf("Bob's stream: %v %v", err, sres)
	}
	defer sres.Body.Close()
	defer func() {
		if t.Failed() {
			t.Logf("presence: %q on %s", eval("presence", `(document.getElementById("presence") || {outerHTML: "none"}).outerHTML + " live=" + document.body.dataset.liveOn`), run(t, ctx, "loc", chromedp.Location()))
		}
	}()
	waitFor("Alice sees Bob viewing", `((document.getElementById("presence") || {}).textContent || "").endsWith("Bob Fischer is viewing")`)
	do("shot", shot("case"))
	axeCheck(t, ctx, "the case page")
	scancel()
	waitFor("Bob leaves", `document.getElementById("presence").hidden`)

	// Other screens axe checks: incidents, settings.
	do("incidents", chromedp.Navigate(e.srv.URL+"/incidents"), chromedp.WaitVisible(css(`main h1`)))
	axeCheck(t, ctx, "incidents")
	do("settings", chromedp.Navigate(e.srv.URL+"/settings"), chromedp.WaitVisible(css(`#settings-form`)))
	axeCheck(t, ctx, "settings")

	// Phone: the navigation behind a menu, the list as cards, nothing wider than the screen.
	do("phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(e.srv.URL+"/cases"), chromedp.WaitVisible(css(`#menu-btn`)))
	if v := eval("nav hidden", `getComputedStyle(document.getElementById("sidenav")).display + " " + getComputedStyle(document.querySelector("table.queue tbody tr")).display + " " + (document.documentElement.scrollWidth <= 390)`); v != "none flex true" {
		t.Fatalf("phone layout: nav display, row display, fits = %q; too wide: %s", v, eval("wide", `[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > 391).slice(0, 8).map(e => e.tagName + "." + e.className + "#" + e.id + " " + Math.round(e.getBoundingClientRect().right)).join(", ")`))
	}
	do("shot", shot("phone-queue"))
	do("menu", chromedp.Click(css(`#menu-btn`)), chromedp.WaitVisible(css(`#sidenav a[href="/incidents"]`)), shot("phone-menu"))
	axeCheck(t, ctx, "the phone queue with its menu open")
	if p := problems(); len(p) > 0 {
		t.Errorf("console: %q", p)
	}
}
