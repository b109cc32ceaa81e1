package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/reports"
)

// TestUIBrowserReportsDashboard signs a lead in, opens the operations
// dashboard and the reports page in Chromium and checks every chart was
// drawn (an ECharts canvas in it) with no script or CSP error; and that
// one figure — the period's intake — is the same on the page, in the API's
// JSON and in its CSV.
func TestUIBrowserReportsDashboard(t *testing.T) {
	ctx := newBrowser(t, 90*time.Second)
	e := newUIEnv(t)
	bg := context.Background()
	for i, m := range []string{"GB", "GB", "DE", "GB", "DE"} {
		if _, err := e.app.Cases.Create(bg, auth.System("seed"), cases.CreateInput{Title: "Parcel " + strconv.Itoa(i),
			Category: "logistics/lost_parcel", Market: m, Fields: map[string]any{"order_id": "ORD-" + strconv.Itoa(i)}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	problems := watchConsole(ctx)
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	drawn := func(ids ...string) {
		t.Helper()
		for _, id := range ids {
			do("chart "+id+" drawn", chromedp.WaitVisible(css(`#`+id+`[data-drawn="true"] canvas`)))
		}
	}
	do("sign in on the dashboard",
		chromedp.Navigate(e.srv.URL+"/login?next=/reports/dashboard"),
		chromedp.WaitVisible(css(`input[name=email]`)),
		chromedp.SendKeys(css(`input[name=email]`), uiTestEmail),
		chromedp.SendKeys(css(`input[name=password]`), uiTestPassword),
		chromedp.Click(css(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(css(`#live-tiles`)))
	drawn("chart-markets")
	if b := run(t, ctx, "backlog tile", chromedp.Text(css(`[data-figure=backlog] .rp-value`))); b != "5" {
		t.Errorf("backlog tile %q, want 5", b)
	}
	if gb := run(t, ctx, "GB row", chromedp.Text(css(`#market-health tr[data-market=GB]`))); !strings.Contains(gb, "United Kingdom") || !strings.HasPrefix(strings.Fields(gb)[3], "3") {
		t.Errorf("GB row %q, want a backlog of 3", gb)
	}
	do("dashboard screenshot", screenshot(t, "reports-dashboard", ""))

	day := e.app.Clock.Now().UTC().Truncate(24 * time.Hour)
	q := "from=" + day.Format(time.DateOnly) + "&to=" + day.AddDate(0, 0, 1).Format(time.DateOnly)
	do("open the reports page", chromedp.Navigate(e.srv.URL+"/reports?"+q), chromedp.WaitVisible(css(`#headlines`)))
	drawn("chart-days", "chart-categories", "chart-team-sla", "chart-heat")
	do("reports screenshot", screenshot(t, "reports-page", ""))
	onPage := run(t, ctx, "intake on the page", chromedp.Evaluate[string](`document.querySelector("#headlines tr[data-figure=intake] td[data-value]").dataset.value`))

	var token string
	if err := e.app.DB.InTx(bg, func(tx *db.Tx) error {
		var err error
		token, _, err = auth.CreateToken(bg, tx, e.app.Clock.Now(), e.lead.UserID, "test")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	get := func(path string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %v %v", path, err, res)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	var sm reports.Summary
	if err := json.NewDecoder(get("/api/v1/reports/summary?" + q).Body).Decode(&sm); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(get("/api/v1/reports/metrics?" + q + "&format=csv").Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := -1
	for i, h := range recs[0] {
		if h == "intake" {
			col = i
		}
	}
	if col < 0 || len(recs) < 2 {
		t.Fatalf("metrics CSV %v", recs)
	}
	inAPI := sm.Headlines[0]
	if inAPI.Figure != "intake" || onPage != "5" || strconv.FormatFloat(inAPI.Value, 'f', -1, 64) != onPage || recs[1][col] != onPage {
		t.Errorf("intake: page %s, API %v, CSV %s — want 5 everywhere", onPage, inAPI, recs[1][col])
	}
	do("open the staffing view", chromedp.Navigate(e.srv.URL+"/reports/staffing?market=GB&weeks=1"), chromedp.WaitVisible(css(`#staffing-table`)))
	drawn("chart-staffing")
	do("staffing screenshot", screenshot(t, "reports-staffing", ""))
	if rows := run(t, ctx, "staffing rows", chromedp.Evaluate[int](`document.querySelectorAll("#staffing-table tbody tr").length`)); rows != 24 {
		t.Errorf("staffing table has %d hours, want 24", rows)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("browser errors: %v", p)
	}
}
