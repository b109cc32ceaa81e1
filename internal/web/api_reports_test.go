package web

import (
	"strings"
	"testing"

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
