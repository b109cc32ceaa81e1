package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/reviews"
)

// TestPackEndpointRoles is the role table of the review packs' API:
// leads, QA, viewers and admins read them.
func TestPackEndpointRoles(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		e.app.Clock.(*clock.Fake).Set(time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC))
		roles := []string{"admin", "lead", "agent", "account_manager", "qa", "viewer", "anonymous"}
		for _, r := range []struct {
			name, path string
			want       []int
		}{
			{"packs", "/api/v1/reports/packs", []int{200, 200, 403, 403, 200, 200, 401}},
			{"pack", "/api/v1/reports/packs/999", []int{404, 404, 403, 403, 404, 404, 401}},
			{"build", "/api/v1/reports/packs/build?cadence=weekly&period=2026-W45", []int{200, 200, 403, 403, 200, 200, 401}},
			{"build csv", "/api/v1/reports/packs/build?cadence=monthly&period=2026-10&format=csv", []int{200, 200, 403, 403, 200, 200, 401}},
		} {
			for i, role := range roles {
				got := e.do(role, "GET", r.path, nil)
				if got.status != r.want[i] {
					t.Errorf("%s as %s: %d, want %d: %s", r.name, role, got.status, r.want[i], got.body)
				}
				if got.status >= 400 && got.header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("%s as %s: error is not problem JSON", r.name, role)
				}
			}
		}
		// Bad input: 4xx problem JSON naming the field, never a 500.
		for path, field := range map[string]string{
			"/api/v1/reports/packs?cadnce=x":                                      "cadnce",
			"/api/v1/reports/packs/build?cadence=weekly":                          "period",
			"/api/v1/reports/packs/build?cadence=weekly&period=2026-W99":          "period",
			"/api/v1/reports/packs/build?cadence=hourly&period=2026-W45":          "cadence",
			"/api/v1/reports/packs/build?cadence=weekly&period=2026-W46":          "period", // not closed yet
			"/api/v1/reports/packs/build?cadence=weekly&period=2026-W45&format=x": "format",
			"/api/v1/reports/packs/abc":                                           "id",
		} {
			got := e.do("lead", "GET", path, nil)
			if got.status != 422 || !strings.Contains(string(got.body), `"field":"`+field+`"`) {
				t.Errorf("%s: %d %s, want 422 on %s", path, got.status, got.body, field)
			}
		}
	})
}

// The same figure in the pack (JSON and CSV) as in the metrics API and
// its CSV, for the pack's period.
func TestPackSameFigureAsMetrics(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		ctx := context.Background()
		fc := e.app.Clock.(*clock.Fake)
		sys := auth.System("test")
		for i := range 3 {
			ref := e.newCase("")
			fc.Advance(time.Duration(20*(i+1)) * time.Minute)
			if _, err := e.app.Cases.AddComment(ctx, sys, ref, cases.CommentInput{Body: "On it."}); err != nil {
				t.Fatal(err)
			}
		}
		fc.Set(time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC))
		r := e.do("lead", "GET", "/api/v1/reports/metrics?from=2026-11-02&to=2026-11-09", nil)
		var rep struct {
			Slices []struct {
				Metrics struct {
					Intake        int `json:"intake"`
					FirstResponse struct {
						Median float64 `json:"median_seconds"`
					} `json:"first_response"`
				} `json:"metrics"`
			} `json:"slices"`
		}
		if r.status != 200 || json.Unmarshal(r.body, &rep) != nil || len(rep.Slices) != 1 {
			t.Fatalf("metrics: %d %s", r.status, r.body)
		}
		m := rep.Slices[0].Metrics
		r = e.do("lead", "GET", "/api/v1/reports/packs/build?cadence=weekly&period=2026-W45", nil)
		var pk reviews.Pack
		if r.status != 200 || json.Unmarshal(r.body, &pk) != nil {
			t.Fatalf("pack: %d %s", r.status, r.body)
		}
		figures := map[string]float64{}
		for _, k := range pk.KPIs {
			figures[k.Key] = k.Value
		}
		if m.Intake != 3 || figures["intake"] != 3 || figures["first_response_median_seconds"] != m.FirstResponse.Median || m.FirstResponse.Median == 0 {
			t.Fatalf("metrics intake %d median %v; pack %v", m.Intake, m.FirstResponse.Median, figures)
		}
		// The two CSVs write it the same way.
		csvOf := func(path string) [][]string {
			t.Helper()
			r := e.do("lead", "GET", path, nil)
			recs, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
			if r.status != 200 || err != nil {
				t.Fatalf("%s: %d %v %s", path, r.status, err, r.body)
			}
			return recs
		}
		mc := csvOf("/api/v1/reports/metrics?from=2026-11-02&to=2026-11-09&format=csv")
		col := -1
		for i, h := range mc[0] {
			if h == "first_response_median_seconds" {
				col = i
			}
		}
		want := mc[1][col]
		found := false
		for _, rec := range csvOf("/api/v1/reports/packs/build?cadence=weekly&period=2026-W45&format=csv") {
			if rec[0] == "kpis" && rec[2] == "first_response_median_seconds" {
				found = rec[3] == want
			}
		}
		if !found || want != fmt.Sprint(m.FirstResponse.Median) {
			t.Fatalf("the pack's CSV does not carry first_response_median_seconds=%s", want)
		}
		// HTML is the mail's document.
		if r := e.do("lead", "GET", "/api/v1/reports/packs/build?cadence=weekly&period=2026-W45&format=html", nil); r.status != 200 ||
			!strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !bytes.Contains(r.body, []byte(`data-kpi="intake"`)) {
			t.Fatalf("html: %d %s", r.status, r.body)
		}
	})
}
