package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
)

// TestUIBrowserQueueWork drives the queue's list side in Chromium: filters
// apply as they change (no button), a filtered queue updates live with the
// cases that match and not the others, bulk assign and tag from the queue
// with the one summary of what changed and what was refused, and saved
// views: saved from the filter, shared with a team (a teammate sees it with
// its count), reopened, counts that follow new cases, deleted.
func TestUIBrowserQueueWork(t *testing.T) {
	ctx := newBrowser(t, 120*time.Second)
	e := newLiveUIEnv(t)
	bg := context.Background()
	var tok string
	err := e.app.DB.InTx(bg, func(tx *db.Tx) error {
		var err error
		if tok, _, err = auth.CreateToken(bg, tx, e.app.Clock.Now(), e.lead.UserID, "queue test"); err != nil {
			return err
		}
		bob, err := auth.UserByEmail(bg, tx, bobEmail)
		if err != nil {
			return err
		}
		return auth.SetPassword(bg, tx, e.app.Clock.Now(), bob.ID, bobPassword)
	})
	if err != nil {
		t.Fatal(err)
	}
	create := func(title, category, market string, fields map[string]any) string {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"title": title, "category": category, "market": market, "fields": fields})
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/cases", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 201 {
			t.Fatalf("create %q through the API: %v %v", title, err, res)
		}
		defer res.Body.Close()
		var c struct{ Number string }
		_ = json.NewDecoder(res.Body).Decode(&c)
		return c.Number
	}
	problems := watchConsole(ctx)
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(what, js string) string { t.Helper(); return run(t, ctx, what, chromedp.Evaluate[string](js)) }
	waitFor := func(what, js string) { // across page loads, which end a Poll
		t.Helper()
		var err error
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(30 * time.Millisecond) {
			var ok bool
			if ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err == nil && ok {
				return
			}
		}
		t.Fatalf("%s: not within 5 s (%v); at %s", what, err, run(t, ctx, "location", chromedp.Location()))
	}
	column := func(col string) string { // the queue's column, one value per row
		return eval(col, fmt.Sprintf(`[...document.querySelectorAll("table.queue tbody td.%s")].map(td => td.textContent.trim()).join("|")`, col))
	}
	query := func(k string) string {
		u, _ := url.Parse(run(t, ctx, "location", chromedp.Location()))
		return u.Query().Get(k)
	}

	do("sign in",
		chromedp.Navigate(e.srv.URL+"/login?next=%2Fcases"),
		chromedp.WaitVisible(css(`input[name=email]`)),
		chromedp.SendKeys(css(`input[name=email]`), e.email),
		chromedp.SendKeys(css(`input[name=password]`), e.password),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(css(`table.queue`)))
	waitFor("the live stream opens", `document.body.dataset.liveOn === "1" && document.readyState === "complete"`)

	// Filters apply as they change: no Filter button; a select reloads the
	// list at once, the search after a pause in typing.
	if v := eval("button", `String(document.getElementById("filter-submit").hidden)`); v != "true" {
		t.Fatalf("the Filter button shows with the script on (hidden=%s)", v)
	}
	do("team", choose(`#queue-filters select[name=team]`, "logistics"))
	waitFor("the team filter applies", `location.search.includes("team=logistics") && document.readyState === "complete" && !!document.querySelector("table.queue")`)
	if teams := column("col-team"); teams == "" || strings.ReplaceAll(teams, "Logistics", "") != strings.Repeat("|", strings.Count(teams, "|")) {
		t.Fatalf("team=logistics lists teams %q", teams)
	}
	do("search", chromedp.SendKeys(css(`#queue-filters input[name=q]`), "leipzig"))
	waitFor("the search applies after a pause", `location.search.includes("q=leipzig") && !!document.querySelector("table.queue")`)
	if titles := column("col-title"); !strings.Contains(titles, "Leipzig") || strings.Contains(titles, "|") {
		t.Fatalf("the search lists %q, want the one Leipzig case", titles)
	}
	if query("team") != "logistics" {
		t.Fatalf("the search dropped the team filter: %s", run(t, ctx, "location", chromedp.Location()))
	}

	// Live, filtered: a logistics case appears without a reload, a payments
	// case (outside the filter) does not.
	do("back to the team", chromedp.Navigate(e.srv.URL+"/cases?team=logistics"), chromedp.WaitVisible(css(`table.queue`)))
	waitFor("the live stream opens", `document.body.dataset.liveOn === "1"`)
	rowsBefore := strings.Count(column("col-num"), "|") + 1
	other := create("Live: payout held in Leeds", "payments/payout_hold", "GB", map[string]any{"amount": "120.00", "hold_reason": "kyc"})
	mine := create("Live: parcel stuck at the Leeds depot", "logistics/lost_parcel", "GB", map[string]any{"order_id": "ORD-5150", "carrier": "DPD"})
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`document.querySelector("table.queue").textContent.includes(%q)`, mine),
		chromedp.WithPollingTimeout(3*time.Second), chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		t.Fatalf("the new logistics case is not in the filtered queue within 3 s: %v", err)
	}
	if nums := column("col-num"); strings.Contains(nums, other) || strings.Count(nums, "|")+1 != rowsBefore+1 {
		t.Fatalf("after the live update the filtered queue lists %q (before: %d rows; %s is payments)", nums, rowsBefore, other)
	}
	// The replaced list's filters still apply as they change.
	if v := eval("button after the update", `String(document.getElementById("filter-submit").hidden)`); v != "true" {
		t.Fatalf("after a live update the Filter button shows (hidden=%s)", v)
	}
	do("market after the update", choose(`#queue-filters select[name=market]`, "GB"))
	waitFor("the market filter applies", `location.search.includes("market=GB") && location.search.includes("team=logistics")`)

	// Bulk from the queue: select a logistics and a payments case, assign
	// both to Bob (an agent of logistics only): one changes, one is refused,
	// and one summary says so.
	do("whole queue", chromedp.Navigate(e.srv.URL+"/cases?status=all"), chromedp.WaitVisible(css(`#bulk`)))
	if v := eval("bulk bar", `document.getElementById("bulk-submit").disabled + " " + document.querySelector("#bulk [name=tags]").hidden`); v != "true true" {
		t.Fatalf("bulk bar before selecting: submit disabled, tags hidden = %q", v)
	}
	sel := func(n string) chromedp.Action[chromedp.Void] {
		return chromedp.Click(css(fmt.Sprintf(`input[name=case][value=%q]`, n)))
	}
	do("select two", sel(mine), sel(other))
	if v := eval("count", `document.getElementById("bulk-count").textContent`); v != "2 selected:" {
		t.Fatalf("bulk count %q", v)
	}
	do("assign to Bob", choose(`#bulk-action`, "assign"), chromedp.SendKeys(css(`#bulk [name=owner]`), bobEmail), chromedp.Click(css(`#bulk-submit`)))
	waitFor("the summary", `!!document.getElementById("bulk-summary")`)
	summary := eval("summary", `document.getElementById("bulk-summary").textContent + " " + document.getElementById("bulk-summary").className`)
	if !regexp.MustCompile(`^1 case assigned; 1 refused \(` + other + `: [^)]+\)\. alert alert-warn$`).MatchString(summary) {
		t.Fatalf("assign summary %q", summary)
	}
	if got := eval("owner", fmt.Sprintf(`[...document.querySelectorAll("table.queue tbody tr")].find(tr => tr.textContent.includes(%q)).querySelector(".col-owner").textContent.trim()`, mine)); got != "Bob Fischer" {
		t.Fatalf("%s owner %q after the bulk assign", mine, got)
	}
	// Tag both; again: the second time both are unchanged.
	first, second := mine, other // the summary names them in the list's order
	if strings.Index(column("col-num"), other) < strings.Index(column("col-num"), mine) {
		first, second = other, mine
	}
	for i, want := range []string{"2 cases tagged.", "0 cases tagged, 2 unchanged (" + first + ", " + second + ": already tagged)."} {
		do("tag", sel(mine), sel(other), choose(`#bulk-action`, "tag"), chromedp.SendKeys(css(`#bulk [name=tags]`), "leeds"), chromedp.Click(css(`#bulk-submit`)))
		waitFor("the tag summary", fmt.Sprintf(`!!document.getElementById("bulk-summary") && document.getElementById("bulk-summary").textContent === %q`, want))
		if i == 0 {
			axeCheck(t, ctx, "the queue with a bulk summary")
		}
	}

	// Saved views: the logistics filter saved and shared with Logistics.
	do("filter", chromedp.Navigate(e.srv.URL+"/cases?team=logistics&market=GB"), chromedp.WaitVisible(css(`table.queue`)))
	total := eval("total", `document.getElementById("queue-total").textContent`)
	n := regexp.MustCompile(`of (\d+)$`).FindStringSubmatch(total)
	if n == nil {
		t.Fatalf("total %q", total)
	}
	do("save the view",
		chromedp.Click(css(`.save-view summary`)),
		chromedp.SendKeys(css(`.save-view input[name=name]`), "Logistics GB"),
		choose(`.save-view select[name=shared_team]`, "logistics"),
		chromedp.Click(css(`.save-view button[type=submit]`)))
	waitFor("saved", `!!document.getElementById("bulk-summary") && document.getElementById("bulk-summary").textContent.startsWith("Saved the view")`)
	chip := `[...document.querySelectorAll(".view-chip")].find(c => c.textContent.includes("Logistics GB"))`
	if got := eval("chip", chip+`.querySelector(".count").textContent + " " + `+chip+`.classList.contains("view-active")`); got != n[1]+" true" {
		t.Fatalf("the saved view's chip: count and active %q, want %s true", got, n[1])
	}
	// Reopen it from elsewhere: the same filter, the chip marked.
	do("reopen", chromedp.Navigate(e.srv.URL+"/cases?status=all"), chromedp.WaitVisible(css(`.view-chip`)),
		void(chromedp.Evaluate[bool](chip+`.querySelector("a").click(), true`)))
	waitFor("the view opens", `location.search.includes("market=GB") && location.search.includes("team=logistics") && !!document.querySelector(".view-chip.view-active")`)
	if mkts := column("col-mkt"); strings.ReplaceAll(mkts, "GB", "") != strings.Repeat("|", strings.Count(mkts, "|")) {
		t.Fatalf("the reopened view lists markets %q", mkts)
	}
	// Bob (logistics) sees the shared view with its count; a new GB
	// logistics case raises it.
	bob := e.client(t)
	if res, body := e.postForm(t, bob, "/login", url.Values{"email": {bobEmail}, "password": {bobPassword}, "next": {"/cases"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("Bob signs in: %d %s", res.StatusCode, body)
	}
	bobCount := func() string {
		t.Helper()
		_, body := e.get(t, bob, "/cases")
		m := regexp.MustCompile(`>Logistics GB</a>\s*<span class="count"[^>]*>(\d+)</span>`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("Bob's queue does not list the shared view")
		}
		return m[1]
	}
	if got := bobCount(); got != n[1] {
		t.Fatalf("Bob's count of the shared view %s, want %s", got, n[1])
	}
	if _, body := e.get(t, bob, "/cases"); strings.Contains(body, `aria-label="Delete the view Logistics GB"`) {
		t.Fatal("Bob may delete Alice's shared view")
	}
	create("A fourth parcel lost near Leeds", "logistics/lost_parcel", "GB", map[string]any{"order_id": "ORD-5151"})
	var want int
	fmt.Sscan(n[1], &want)
	if got := bobCount(); got != fmt.Sprint(want+1) {
		t.Fatalf("after a new case Bob counts %s, want %d", got, want+1)
	}
	do("reload", chromedp.Reload(), chromedp.WaitVisible(css(`.view-chip`)))
	if got := eval("chip count", chip+`.querySelector(".count").textContent`); got != fmt.Sprint(want+1) {
		t.Fatalf("Alice's count after a new case %s, want %d", got, want+1)
	}
	// Delete it.
	do("delete", void(chromedp.Evaluate[bool](chip+`.querySelector("button").click(), true`)))
	waitFor("deleted", `!!document.getElementById("bulk-summary") && document.getElementById("bulk-summary").textContent === "Deleted the view." && ![...document.querySelectorAll(".view-chip")].some(c => c.textContent.includes("Logistics GB"))`)
	if p := problems(); len(p) > 0 {
		t.Errorf("console: %q", p)
	}
}
