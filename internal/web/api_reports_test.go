package web

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

func TestReportMetricsAPI(t *testing.T) {
	e := newAPIEnv(t, dbtest.SQLite(t, app.Migrate))
	r := e.do("lead", "GET", "/api/v1/reports/metrics?from=2026-11-02&to=2026-11-09&by=market", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"previous":{"from":"2026-10-26T00:00:00Z"`) {
		t.Fatalf("json: %d %.300s", r.status, r.body)
	}
	r = e.do("lead", "GET", "/api/v1/reports/metrics?from=2026-11-02&to=2026-11-09&format=csv", nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") || !strings.HasPrefix(string(r.body), "period,from,to,slice,intake,") {
		t.Fatalf("csv: %d %s %.200s", r.status, r.header.Get("Content-Type"), r.body)
	}
	for q, field := range map[string]string{
		"to=2026-11-09":                             "from",
		"from=2026-11-09&to=2026-11-02":             "to",
		"from=yesterday&to=2026-11-02":              "from",
		"from=2026-01-01&to=2027-06-01":             "to",
		"from=2026-11-02&to=2026-11-09&by=colour":   "by",
		"from=2026-11-02&to=2026-11-09&format=pdf":  "format",
		"from=2026-11-02&to=2026-11-09&sort=intake": "sort",
	} {
		r := e.do("lead", "GET", "/api/v1/reports/metrics?"+q, nil)
		if r.status != 422 || !strings.Contains(string(r.body), `"field":"`+field+`"`) {
			t.Errorf("%s: %d %.300s, want 422 on %s", q, r.status, r.body, field)
		}
	}
}

// The dashboard, charts, summary and staffing endpoints: JSON, CSV and
// XLSX of the same tables, and a 422 naming the field for bad input.
func TestReportDashboardAPIs(t *testing.T) {
	e := newAPIEnv(t, dbtest.SQLite(t, app.Migrate))
	r := e.do("lead", "GET", "/api/v1/reports/live", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"backlog":`) || !strings.Contains(string(r.body), `"markets":[`) {
		t.Fatalf("live: %d %.300s", r.status, r.body)
	}
	r = e.do("lead", "GET", "/api/v1/reports/live?format=csv", nil)
	if r.status != 200 || !strings.HasPrefix(string(r.body), "market,name,backlog,breaching_next_hour,breached,") {
		t.Fatalf("live csv: %d %.200s", r.status, r.body)
	}
	r = e.do("lead", "GET", "/api/v1/reports/charts?from=2026-11-02&to=2026-11-09&format=csv&chart=heat", nil)
	if lines := strings.Split(strings.TrimSpace(string(r.body)), "\n"); r.status != 200 || len(lines) != 1+7*24 || lines[0] != "weekday,hour,intake" {
		t.Fatalf("heat csv: %d %d lines %.100s", r.status, len(lines), r.body)
	}
	r = e.do("lead", "GET", "/api/v1/reports/summary?from=2026-11-02&to=2026-11-09&format=xlsx", nil)
	if r.status != 200 {
		t.Fatalf("summary xlsx: %d %.200s", r.status, r.body)
	}
	x, err := excelize.OpenReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("summary xlsx: %v", err)
	}
	if got := x.GetSheetList(); strings.Join(got, ",") != "headlines,escalation_time,handoff_wait,incidents,postmortem_actions" {
		t.Fatalf("sheets %v", got)
	}
	if v, _ := x.GetCellValue("headlines", "A2"); v != "intake" {
		t.Fatalf("headlines A2 %q", v)
	}
	r = e.do("lead", "GET", "/api/v1/reports/staffing?format=csv&weeks=4", nil)
	if r.status != 200 || !strings.HasPrefix(string(r.body), "# staffing\nmarket,weekday,hour,forecast,aht_seconds,agents,") {
		t.Fatalf("staffing csv: %d %.200s", r.status, r.body)
	}
	for path, field := range map[string]string{
		"/api/v1/reports/live?from=2026-11-02":                             "from",
		"/api/v1/reports/live?format=pdf":                                  "format",
		"/api/v1/reports/charts?from=2026-11-02&to=2026-11-09&format=csv":  "chart",
		"/api/v1/reports/charts?from=2026-11-02&to=2026-11-09&format=xlsx": "format",
		"/api/v1/reports/summary?from=2026-11-02&to=2026-11-09&tier=9":     "tier",
		"/api/v1/reports/summary?from=2026-11-02&to=2026-11-09&tier=gold":  "tier",
		"/api/v1/reports/staffing?weeks=0":                                 "weeks",
		"/api/v1/reports/staffing?market=XX":                               "market",
	} {
		r := e.do("lead", "GET", path, nil)
		if r.status != 422 || !strings.Contains(string(r.body), `"field":"`+field+`"`) {
			t.Errorf("%s: %d %.300s, want 422 on %s", path, r.status, r.body, field)
		}
	}
}
