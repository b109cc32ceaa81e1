package web

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
)

// TestUIBrowserSplitLayout drives the split layout in Chromium: at 1280×800
// a case opened from the queue shows in a pane beside the list, the open
// row marked; a new case shows in the pane live; j/k and Enter open the
// next case into it; the address is the case's, so reload and back show the
// same; a note sent from the pane comes back to it. At phone width the list
// is cards and a case opens alone. The server renders the split itself (no
// script needed).
func TestUIBrowserSplitLayout(t *testing.T) {
	ctx := newBrowser(t, 90*time.Second)
	e := newLiveUIEnv(t)
	problems := watchConsole(ctx)
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(what, js string) string { t.Helper(); return run(t, ctx, what, chromedp.Evaluate[string](js)) }
	// waitFor polls across page loads, which end a Poll. A form's post and
	// the split page after it can take seconds on a loaded CI machine (the
	// old page, at the same address, stays until then), hence 15 s.
	waitFor := func(what, js string) {
		t.Helper()
		var err error
		for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(30 * time.Millisecond) {
			var ok bool
			if ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err == nil && ok {
				return
			}
		}
		t.Fatalf("%s: not within 15 s (%v); at %s", what, err, run(t, ctx, "location", chromedp.Location()))
	}
	// open is the case number the list pane marks open, "" when none.
	const open = `(() => { const r = document.querySelector("#list-pane tr.is-open[aria-current=true] .case-num"); return r ? r.textContent : ""; })()`
	// layout: the panes' display and whether they sit side by side.
	const layout = `(() => { const l = document.getElementById("list-pane"), c = document.getElementById("case-pane");
		if (!l || !c) return "no split";
		const lr = l.getBoundingClientRect(), cr = c.getBoundingClientRect();
		return getComputedStyle(l).display + " " + (lr.right <= cr.left + 1 && lr.width >= 300 && cr.width >= 600) + " " + (document.documentElement.scrollWidth <= innerWidth); })()`

	do("sign in at 1280×800",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(e.srv.URL+"/login?next=%2Fcases%3Fstatus%3Dall"),
		chromedp.WaitVisible(css(`input[name=email]`)),
		chromedp.SendKeys(css(`input[name=email]`), e.email),
		chromedp.SendKeys(css(`input[name=password]`), e.password),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(css(`table.queue`)))
	rows := strings.Split(eval("queue rows", `[...document.querySelectorAll("table.queue tbody td.col-num a")].map(a => a.textContent).join(" ")`), " ")
	if len(rows) < 4 {
		t.Fatalf("queue rows %v", rows)
	}

	// Open the second case: it shows beside the list, its row marked.
	do("open a case", chromedp.Click(css(`table.queue tbody tr:nth-child(2) td.col-title a`)), chromedp.WaitVisible(css(`#case-pane #reply-form`)))
	loc := run(t, ctx, "location", chromedp.Location())
	if u, _ := url.Parse(loc); u.Path != "/cases/"+rows[1] || u.Query().Get("list") != "status=all" {
		t.Fatalf("the case opened at %s, want /cases/%s?list=status%%3Dall", loc, rows[1])
	}
	if got := eval("layout", layout); got != "block true true" {
		t.Fatalf("split at 1280: display, side by side, fits = %q", got)
	}
	if got := eval("open row", open); got != rows[1] {
		t.Fatalf("the list pane marks %q open, want %s", got, rows[1])
	}
	if n := eval("pane rows", `String(document.querySelectorAll("#list-pane tbody tr").length)`); n != fmt.Sprint(len(rows)) {
		t.Fatalf("the list pane has %s rows, want the queue's %d", n, len(rows))
	}
	do("shot", screenshot(t, "split", ""))
	axeCheck(t, ctx, "the split layout")

	// Live: a new case shows in the list pane without a reload; the open
	// case stays marked.
	waitFor("the live stream opens", `document.body.dataset.liveOn === "1"`)
	nc, err := e.app.Cases.Create(context.Background(), auth.System("test"), cases.CreateInput{Title: "Split: parcel lost in Bristol",
		Category: "logistics/lost_parcel", Market: "GB", Fields: map[string]any{"order_id": "ORD-808"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor("the new case in the list pane", fmt.Sprintf(`document.getElementById("list-pane").textContent.includes(%q) && %s === %q`, nc.Number, open, rows[1]))
	// The steps below walk the list as it is now: rows[1] is the open case.
	opened := rows[1]
	rows = strings.Split(eval("pane rows", `[...document.querySelectorAll("#list-pane tbody .case-num")].map(a => a.textContent).join(" ")`), " ")
	i := slices.Index(rows, opened)
	if i < 1 || i+1 >= len(rows) {
		t.Fatalf("after the live update the pane lists %v (open %s)", rows, opened)
	}
	rows = rows[i-1:]

	// j moves the selection in the list from the open case; Enter opens it into the pane.
	do("j", chromedp.KeyEvent("j"))
	if got := eval("selected", `document.querySelector("#list-pane tr.kb-current .case-num").textContent`); got != rows[2] {
		t.Fatalf("after j the selection is %s, want %s", got, rows[2])
	}
	do("k j Enter", chromedp.KeyEvent("k"), chromedp.KeyEvent("j"), chromedp.KeyEvent("\r"))
	waitFor("Enter opens the next case beside the list", fmt.Sprintf(`location.pathname === "/cases/%s" && !!document.getElementById("reply-form") && %s === %q`, rows[2], open, rows[2]))
	if got := eval("layout", layout); got != "block true true" {
		t.Fatalf("after Enter: %q", got)
	}

	// Reload and back show the same split, by the address alone.
	do("reload", chromedp.Reload(), chromedp.WaitVisible(css(`#case-pane #reply-form`)))
	if got := eval("open after reload", open); got != rows[2] {
		t.Fatalf("after reload the pane marks %q, want %s", got, rows[2])
	}

	// A note sent from the case pane comes back to the split.
	do("note", chromedp.SendKeys(css(`#reply-body`), "Checked with the carrier from the split view."),
		chromedp.Click(css(`#internal`)), chromedp.Click(css(`#reply-submit`)))
	waitFor("the note's page keeps the list", fmt.Sprintf(`location.pathname === "/cases/%s" && !!document.getElementById("flash") && %s === %q`, rows[2], open, rows[2]))
	if !strings.Contains(eval("timeline", `document.getElementById("timeline").textContent`), "Checked with the carrier from the split view.") {
		t.Fatal("the note is not on the timeline")
	}

	// Back (past the note's post) shows the previous case beside the list.
	do("back", void(chromedp.Evaluate[bool](`history.go(-2), true`)))
	waitFor("back shows the previous case beside the list", fmt.Sprintf(`location.pathname === "/cases/%s" && %s === %q`, rows[1], open, rows[1]))

	// Without a script the server renders the same split.
	c := e.client(t)
	e.signIn(t, c, "/cases")
	_, body := e.get(t, c, "/cases/"+rows[1]+"?list="+url.QueryEscape("status=all"))
	if !strings.Contains(body, `id="list-pane"`) || !strings.Contains(body, `aria-current="true"`) ||
		!strings.Contains(body, `href="/cases/`+rows[0]+`?list=status%3dall"`) {
		t.Fatalf("the server-rendered split lacks the list pane, the open row or the list's links")
	}
	// A case opened any other way is the case alone.
	if _, body := e.get(t, c, "/cases/"+rows[1]); strings.Contains(body, `id="list-pane"`) {
		t.Fatal("a case opened without a list shows a list pane")
	}

	// Phone: the queue as cards; a case opens alone, full screen.
	do("phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(e.srv.URL+"/cases?status=all"), chromedp.WaitVisible(css(`table.queue`)))
	if got := eval("cards", `getComputedStyle(document.querySelector("table.queue tbody tr")).display`); got != "flex" {
		t.Fatalf("phone queue rows display %q, want cards (flex)", got)
	}
	do("open on a phone", chromedp.Click(css(`table.queue tbody tr:nth-child(1) td.col-title a`)), chromedp.WaitVisible(css(`#reply-form`)))
	got := eval("phone case", `getComputedStyle(document.getElementById("list-pane")).display + " " +
		(document.getElementById("case-pane").getBoundingClientRect().width >= 360) + " " + (document.documentElement.scrollWidth <= 390)`)
	if got != "none true true" {
		t.Fatalf("phone case: list pane display, case full width, fits = %q", got)
	}
	// j does not walk a hidden list.
	do("j on a phone", chromedp.KeyEvent("j"))
	if n := eval("selection", `String(document.querySelectorAll("tr.kb-current").length)`); n != "0" {
		t.Fatalf("j selected a row of the hidden list pane")
	}
	do("shot", screenshot(t, "phone-case", ""))
	if p := problems(); len(p) > 0 {
		t.Errorf("console: %q", p)
	}
}
