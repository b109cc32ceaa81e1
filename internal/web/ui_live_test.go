package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestLayoutShell: the left navigation holds the user's team queues and
// the pages they may open; the page opts into the live stream and carries
// the user's zone; no inline script slips into the shell.
func TestLayoutShell(t *testing.T) {
	e := newUIEnv(t)
	c := e.client(t)
	e.signIn(t, c, "/cases")
	_, body := e.get(t, c, "/cases?owner=me")
	for _, want := range []string{`<nav class="mainnav sidenav" id="sidenav" aria-label="Main">`, `href="/cases?team=logistics" class="nav-team">Logistics</a>`,
		`href="/cases?owner=me" id="nav-mine" aria-current="page"`, `id="menu-btn" aria-label="Menu" aria-controls="sidenav" aria-expanded="false"`,
		`class="shell" data-tz=""`, `id="kb-help"`, `id="palette"`, `href="/settings"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the shell lacks %s", want)
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, " onclick=") {
		t.Error("an inline script in the page")
	}
	if strings.Contains(body, `href="/admin/webhooks"`) {
		t.Error("a lead sees the admins' webhooks link")
	}
}

// TestLayoutSettingsTimeZone: the settings page stores the zone; a wrong
// one is refused next to its field and changes nothing.
func TestLayoutSettingsTimeZone(t *testing.T) {
	e := newUIEnv(t)
	c := e.client(t)
	e.signIn(t, c, "/settings")
	resp, body := e.postForm(t, c, "/settings", url.Values{"time_zone": {"Europe/Lisbon"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/settings?saved=1" {
		t.Fatalf("save: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	_, body = e.get(t, c, "/settings?saved=1")
	if !strings.Contains(body, `data-tz="Europe/Lisbon"`) || !strings.Contains(body, "Times are now shown in Europe/Lisbon") ||
		!strings.Contains(body, `value="Europe/Lisbon"`) {
		t.Fatalf("after saving:\n%s", body)
	}
	resp, body = e.postForm(t, c, "/settings", url.Values{"time_zone": {"Lisbon"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="tz-error" role="alert">Time zone: &#34;Lisbon&#34; is not a time zone`) ||
		!strings.Contains(body, `aria-invalid="true"`) {
		t.Fatalf("a wrong zone: %d\n%s", resp.StatusCode, body)
	}
	_, body = e.get(t, c, "/cases")
	if !strings.Contains(body, `data-tz="Europe/Lisbon"`) {
		t.Fatal("the refused zone changed the stored one")
	}
}
