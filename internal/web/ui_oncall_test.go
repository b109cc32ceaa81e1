package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/oncall"
	"github.com/flare-desk/flare/internal/oncall/rota"
)

// The on-call pages: every team's now, a team's two weeks where a lead
// adds and ends overrides and makes a feed URL, and the team page's flag
// for a schedule with holes.
func TestUIOnCall(t *testing.T) {
	cfg := uiTestDesk()
	desk.Set(cfg, oncall.SchedulesKey, []rota.Schedule{
		{Team: "escalations", Layers: []rota.Layer{{Name: "Round the clock", Rotation: rota.Daily, Timezone: "UTC",
			Start: "2026-11-01", Handoff: "09:00", Participants: []string{uiTestEmail, "bob@flare.test"}}}},
		{Team: "trust_safety", AllowGaps: true, Layers: []rota.Layer{{Name: "Office", Rotation: rota.Weekly, Timezone: "Europe/London",
			Start: "2026-11-02", Handoff: "09:00", Participants: []string{"admin@flare.test"}, Window: "09:00-17:00",
			Days: []string{"mon", "tue", "wed", "thu", "fri"}}}},
	})
	fake := clock.NewFake(time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)) // Monday noon: Bob's turn (day 2)
	e := newUIEnvWith(t, cfg, app.Options{Clock: fake})
	cl := e.client(t)
	e.signIn(t, cl, "/oncall")

	_, body := e.get(t, cl, "/oncall")
	for _, want := range []string{`href="/oncall"`, `<a href="/oncall/escalations">Escalations</a>`, "<strong>Bob Fischer</strong>",
		`oc-hole-flag`, "no schedule"} {
		if !strings.Contains(body, want) {
			t.Fatalf("overview lacks %q:\n%s", want, body)
		}
	}
	_, body = e.get(t, cl, "/oncall/escalations")
	for _, want := range []string{"On call now: <strong>Bob Fischer</strong>", `id="override-form"`, `id="feed-form"`,
		`<option value="bob@flare.test">Bob Fischer</option>`, "Round the clock", "Mon 2 Nov"} {
		if !strings.Contains(body, want) {
			t.Fatalf("team page lacks %q:\n%s", want, body)
		}
	}

	// A lead adds an override; a refused one keeps what was typed.
	resp, body := e.postForm(t, cl, "/oncall/escalations/overrides", url.Values{"person": {uiTestEmail},
		"from": {"2026-11-02T13:00"}, "to": {"2026-11-02T15:00"}, "reason": {"Bob at the dentist"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add override: %d\n%s", resp.StatusCode, body)
	}
	_, body = e.get(t, cl, resp.Header.Get("Location"))
	if !strings.Contains(body, "Override added: Alice Moreau is on call 2 Nov 2026, 13:00 UTC") ||
		!strings.Contains(body, "Bob at the dentist") || !strings.Contains(body, "covering Bob Fischer") {
		t.Fatalf("after adding:\n%s", body)
	}
	resp, body = e.postForm(t, cl, "/oncall/escalations/overrides", url.Values{"person": {uiTestEmail},
		"from": {"2026-11-01T13:00"}, "to": {"2026-11-01T15:00"}, "reason": {"kept"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "must be in the future") || !strings.Contains(body, `value="kept"`) {
		t.Fatalf("a past override: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = e.postForm(t, cl, "/oncall/escalations/overrides", url.Values{"person": {uiTestEmail}, "from": {"soon"}, "to": {"later"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("unreadable times: %d", resp.StatusCode)
	}
	id := regexp.MustCompile(`/oncall/escalations/overrides/(\d+)/end`).FindStringSubmatch(body)
	if id == nil {
		t.Fatalf("no end button:\n%s", body)
	}
	resp, _ = e.postForm(t, cl, "/oncall/escalations/overrides/"+id[1]+"/end", nil)
	if _, body = e.get(t, cl, resp.Header.Get("Location")); resp.StatusCode != http.StatusSeeOther || !strings.Contains(body, "Override cancelled.") {
		t.Fatalf("cancel: %d\n%s", resp.StatusCode, body)
	}

	// A feed URL, shown once, that a calendar app can read without a login.
	resp, body = e.postForm(t, cl, "/oncall/escalations/feeds", url.Values{"name": {"Escalations calendar"}})
	feedURL := regexp.MustCompile(`value="(http[^"]+)"`).FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || feedURL == nil || !strings.Contains(feedURL[1], ".ics?token=flrcal_") {
		t.Fatalf("make a feed: %d\n%s", resp.StatusCode, body)
	}
	u := strings.ReplaceAll(feedURL[1], "&amp;", "&")
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	if cal := readAll(t, res); res.StatusCode != 200 || !strings.Contains(string(cal), "SUMMARY:On call: Bob Fischer") {
		t.Fatalf("the feed: %d\n%s", res.StatusCode, cal)
	}
	// The download link works with the session.
	if resp, body = e.get(t, cl, "/api/v1/oncall/escalations.ics"); resp.StatusCode != 200 || !strings.HasPrefix(body, "BEGIN:VCALENDAR") {
		t.Fatalf("download: %d", resp.StatusCode)
	}
	fid := regexp.MustCompile(`/oncall/escalations/feeds/(\d+)/revoke`).FindStringSubmatch(body + e.page(t, cl, "/oncall/escalations"))
	if fid == nil {
		t.Fatal("no revoke button")
	}
	if resp, _ = e.postForm(t, cl, "/oncall/escalations/feeds/"+fid[1]+"/revoke", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if res, err = http.Get(u); err != nil || res.StatusCode != 404 {
		t.Fatalf("the revoked feed: %v %v", res.StatusCode, err)
	}
	res.Body.Close()

	// The team page flags a schedule with holes.
	_, body = e.get(t, cl, "/teams/trust_safety")
	if !strings.Contains(body, `id="oncall-summary"`) || !strings.Contains(body, "The on-call schedule has 10 holes in the next two weeks") {
		t.Fatalf("team page:\n%s", body)
	}
	if _, body = e.get(t, cl, "/teams/escalations"); !strings.Contains(body, "On call now: <strong>Bob Fischer</strong>") || strings.Contains(body, "oc-holes") {
		t.Fatalf("escalations team page:\n%s", body)
	}

	// An agent sees but does not change.
	ctx := context.Background()
	err = e.app.DB.InTx(ctx, func(tx *db.Tx) error {
		bob, err := auth.UserByEmail(ctx, tx, "bob@flare.test")
		if err != nil {
			return err
		}
		return auth.SetPassword(ctx, tx, fake.Now(), bob.ID, uiTestPassword)
	})
	if err != nil {
		t.Fatal(err)
	}
	agent := e.client(t)
	resp, _ = e.postForm(t, agent, "/login", url.Values{"email": {"bob@flare.test"}, "password": {uiTestPassword}, "next": {"/oncall"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("bob signs in: %d", resp.StatusCode)
	}
	if _, body = e.get(t, agent, "/oncall/escalations"); !strings.Contains(body, "On call now") || strings.Contains(body, `id="override-form"`) ||
		strings.Contains(body, `id="feed-form"`) {
		t.Fatalf("agent's page:\n%s", body)
	}
	if resp, _ = e.postForm(t, agent, "/oncall/escalations/overrides", url.Values{"person": {"bob@flare.test"},
		"from": {"2026-11-02T13:00"}, "to": {"2026-11-02T15:00"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("an agent adds an override: %d", resp.StatusCode)
	}
	if resp, _ = e.get(t, agent, "/oncall/nope"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown team: %d", resp.StatusCode)
	}
}

// page is the body of GET path.
func (e *uiEnv) page(t *testing.T, c *http.Client, path string) string {
	t.Helper()
	_, body := e.get(t, c, path)
	return body
}
