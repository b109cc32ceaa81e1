package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

// signInAs gives role's user of e a password and a signed-in browser
// client; next is where the sign-in asks to go.
func (e *apiEnv) signInAs(role, next string) (*http.Client, *http.Response) {
	e.t.Helper()
	ctx := context.Background()
	const pw = "a long enough passphrase"
	if err := e.app.DB.InTx(ctx, func(tx *db.Tx) error {
		return auth.SetPassword(ctx, tx, e.app.Clock.Now(), e.actors[role].UserID, pw)
	}); err != nil {
		e.t.Fatal(err)
	}
	u := &uiEnv{srv: e.srv, email: e.actors[role].Email, password: pw}
	c := u.client(e.t)
	return c, u.signIn(e.t, c, next)
}

func (e *apiEnv) page(c *http.Client, method, path string, form url.Values) (*http.Response, string) {
	e.t.Helper()
	u := &uiEnv{srv: e.srv}
	if method == http.MethodPost {
		return u.postForm(e.t, c, path, form)
	}
	return u.get(e.t, c, path)
}

func portalRequestForm(token string) url.Values {
	return url.Values{"seller_id": {"S-1001"}, "category": {"logistics/lost_parcel"}, "urgency": {"critical"},
		"title": {"Customer parcel lost"}, "description": {"A week late."},
		"field.logistics/lost_parcel.order_id": {"ORD-1"}, "token": {token}}
}

var requestPath = regexp.MustCompile(`^/portal/requests/(ESC-\d+)$`)

func TestUIPortal(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		am, resp := e.signInAs("account_manager", "/cases") // the login form's default
		if loc := resp.Header.Get("Location"); loc != "/portal" {
			t.Fatalf("an account manager lands on %q", loc)
		}
		agent, resp := e.signInAs("agent", "/cases")
		if loc := resp.Header.Get("Location"); loc != "/cases" {
			t.Errorf("an agent lands on %q", loc)
		}
		if r, _ := e.page(agent, "GET", "/portal", nil); r.StatusCode != http.StatusForbidden {
			t.Errorf("the portal for an agent: %d", r.StatusCode)
		}
		if r, _ := e.page(am, "GET", "/", nil); r.Header.Get("Location") != "/portal" {
			t.Errorf("/ for an account manager: %s", r.Header.Get("Location"))
		}
		r, body := e.page(am, "GET", "/portal/new", nil)
		if r.StatusCode != 200 || !strings.Contains(body, `value="S-1001"`) || strings.Contains(body, `value="S-1002"`) {
			t.Fatalf("request form (%d): her sellers only", r.StatusCode)
		}
		other := portalRequestForm("tok-x")
		other.Set("seller_id", "S-1002")
		if r, body := e.page(am, "POST", "/portal/new", other); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "not one of your sellers") {
			t.Errorf("another's seller: %d", r.StatusCode)
		}
		r, _ = e.page(am, "POST", "/portal/new", portalRequestForm("tok-1"))
		m := requestPath.FindStringSubmatch(r.Header.Get("Location"))
		if r.StatusCode != http.StatusSeeOther || m == nil {
			t.Fatalf("raise: %d %s", r.StatusCode, r.Header.Get("Location"))
		}
		number := m[1]
		if r, _ := e.page(am, "POST", "/portal/new", portalRequestForm("tok-1")); r.Header.Get("Location") != "/portal/requests/"+number {
			t.Errorf("double submit went to %s", r.Header.Get("Location"))
		}
		var n int
		if err := d.QueryRow(context.Background(), `SELECT COUNT(*) FROM cases`).Scan(&n); err != nil || n != 1 {
			t.Errorf("cases after a double submit: %d %v", n, err)
		}
		if got := e.do("admin", "GET", "/api/v1/cases/"+number, nil).json(t); got["channel"] != "internal" {
			t.Errorf("channel %v", got["channel"])
		}
		// The desk replies and notes; the portal shows the reply only.
		e.do("admin", "POST", "/api/v1/cases/"+number+"/comments", map[string]any{"body": "We are on it."})
		e.do("admin", "POST", "/api/v1/cases/"+number+"/comments", map[string]any{"body": "internal: carrier dispute", "internal": true})
		_, body = e.page(am, "GET", "/portal/requests/"+number, nil)
		if !strings.Contains(body, "We are on it.") || strings.Contains(body, "carrier dispute") {
			t.Errorf("request page: reply shown %v, note hidden %v", strings.Contains(body, "We are on it."), !strings.Contains(body, "carrier dispute"))
		}
		if r, _ := e.page(am, "POST", "/portal/requests/"+number+"/reply", url.Values{"body": {"Thank you!"}}); r.StatusCode != http.StatusSeeOther {
			t.Errorf("reply: %d", r.StatusCode)
		}
		_, body = e.page(am, "GET", "/portal", nil)
		if !strings.Contains(body, number) || !strings.Contains(body, "Critical urgency") {
			t.Errorf("portal home lacks the request")
		}

		// The same seller and category again: intake links it as a repeat contact.
		r, _ = e.page(am, "POST", "/portal/new", portalRequestForm("tok-2"))
		second := requestPath.FindStringSubmatch(r.Header.Get("Location"))[1]
		got := e.do("admin", "GET", "/api/v1/cases/"+second, nil).json(t)
		links, _ := got["repeat_links"].([]any)
		if len(links) != 1 || links[0].(map[string]any)["case"] != number {
			t.Errorf("repeat links of %s: %v", second, got["repeat_links"])
		}
		admin, _ := e.signInAs("admin", "/cases")
		if _, body := e.page(admin, "GET", "/cases/"+second, nil); !strings.Contains(body, "Repeat contact of <a href=\"/cases/"+number+"\">") {
			t.Errorf("case page of the repeat lacks its link")
		}
		if _, body := e.page(admin, "GET", "/cases/"+number, nil); !strings.Contains(body, "1 repeat contact:") {
			t.Errorf("case page of the first lacks its repeat")
		}

		// Merge the repeat into the first on the case page: a confirmation first.
		form := url.Values{"into": {number}, "reason": {"Same lost parcel"}}
		r, body = e.page(admin, "POST", "/cases/"+second+"/merge", form)
		if r.StatusCode != 200 || !strings.Contains(body, `id="merge-confirm"`) {
			t.Fatalf("merge asks to confirm: %d", r.StatusCode)
		}
		if got := e.do("admin", "GET", "/api/v1/cases/"+second, nil).json(t); got["status"] == "closed" {
			t.Fatal("merged before confirming")
		}
		form.Set("confirm", "1")
		if r, _ := e.page(admin, "POST", "/cases/"+second+"/merge", form); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("confirmed merge: %d", r.StatusCode)
		}
		if got := e.do("admin", "GET", "/api/v1/cases/"+second, nil).json(t); got["merged_into"] != number || got["resolution"] != "merged" {
			t.Errorf("merged case: %v %v", got["merged_into"], got["resolution"])
		}
		if _, body := e.page(admin, "GET", "/cases/"+number, nil); !strings.Contains(body, "Merged into this case:") {
			t.Errorf("target's case page lacks the merge")
		}
		if _, body := e.page(am, "GET", "/portal/requests/"+second, nil); !strings.Contains(body, "Merged into another case") {
			t.Errorf("portal: merged request not in plain words")
		}
	})
}

func TestMergeAPIProblems(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		a, b := e.newCase(""), e.newCase("")
		merge := func(role, ref string, body map[string]any) reply {
			return e.do(role, "POST", "/api/v1/cases/"+ref+"/merge", body)
		}
		for _, tc := range []struct {
			name, role, ref string
			body            map[string]any
			want            int
		}{
			{"unknown case", "admin", "ESC-999999", map[string]any{"into": a, "reason": "x"}, 404},
			{"restricted case, agent", "agent", e.newCase("restricted"), map[string]any{"into": a, "reason": "x"}, 404},
			{"account manager", "account_manager", b, map[string]any{"into": a, "reason": "x"}, 403},
			{"into itself", "admin", b, map[string]any{"into": b, "reason": "x"}, 422},
			{"no reason", "admin", b, map[string]any{"into": a}, 422},
			{"unknown field", "admin", b, map[string]any{"into": a, "reason": "x", "force": true}, 400},
		} {
			if r := merge(tc.role, tc.ref, tc.body); r.status != tc.want || r.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s: %d %s", tc.name, r.status, r.body)
			}
		}
		r := merge("agent", b, map[string]any{"into": a, "reason": "Same parcel"})
		if r.status != 200 {
			t.Fatalf("merge: %d %s", r.status, r.body)
		}
		res := r.json(t)
		if res["into"] != a || res["merged"].(map[string]any)["status"] != "closed" {
			t.Errorf("result: %v", res)
		}
		if r := merge("agent", b, map[string]any{"into": a, "reason": "again"}); r.status != 409 {
			t.Errorf("merging a merged case: %d", r.status)
		}
		c := e.newCase("")
		if r := merge("agent", c, map[string]any{"into": b, "reason": "into the merged one"}); r.status != 409 || !strings.Contains(string(r.body), "merged") {
			t.Errorf("merging into a merged case: %d %s", r.status, r.body)
		}
		got := e.do("agent", "GET", "/api/v1/cases/"+a+"/merges", nil).json(t)
		if from, _ := got["merged_from"].([]any); len(from) != 1 {
			t.Errorf("merges of %s: %v", a, got)
		}
	})
}
