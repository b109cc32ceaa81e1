package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

// FuzzAlertmanagerIntake posts any body, with the endpoint's token, to the
// Alertmanager intake: the answer is never a 5xx (junk is a 4xx problem)
// and the server never panics.
func FuzzAlertmanagerIntake(f *testing.F) {
	f.Add(`{"version":"4","groupKey":"{}:{alertname=\"X\"}","status":"firing","receiver":"flare","groupLabels":{"alertname":"X"},"commonLabels":{"alertname":"X"},"commonAnnotations":{},"externalURL":"http://am","alerts":[{"status":"firing","labels":{"alertname":"X"},"annotations":{"summary":"s"},"startsAt":"2026-11-02T09:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"ab12"}]}`)
	f.Add(`{"version":"4","groupKey":"g","status":"resolved","alerts":[{"status":"resolved","fingerprint":"ab12","startsAt":"2026-11-02T09:00:00Z","endsAt":"2026-11-02T10:00:00Z"}]}`)
	f.Add(`{"version":"4","alerts":[{}]}`)
	f.Add(`{"alerts":"x"}`)
	f.Add(`nope`)
	d := dbtest.SQLite(f, app.Migrate)
	a, err := app.New(d, app.Options{Clock: clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))})
	if err != nil {
		f.Fatal(err)
	}
	withIntakeEndpoints(f, a)
	s, err := New(a, Options{Limits: &Limits{}})
	if err != nil {
		f.Fatal(err)
	}
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", "/api/v1/intake/alertmanager/prod", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+testSecrets["FLARE_TEST_AM"])
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 || (rec.Code >= 400 && rec.Header().Get("Content-Type") != "application/problem+json") {
			t.Fatalf("%d %s for %q", rec.Code, rec.Body, body)
		}
		if rec.Code != http.StatusOK && rec.Code != http.StatusCreated && rec.Code < 400 {
			t.Fatalf("status %d", rec.Code)
		}
	})
}
