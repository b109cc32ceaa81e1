package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/macros"
)

// Editing on the case page: saved through the API's rules, confirmed after
// the redirect, refused with who changed the case when the page is stale,
// errors next to their field in plain words, and the case's own address.
func TestCaseEditInPlace(t *testing.T) {
	ctx := context.Background()
	e := newUIEnv(t)
	cs, err := e.app.Cases.Create(ctx, e.lead, cases.CreateInput{Title: "Parcel lost", Category: "logistics/lost_parcel",
		Market: "GB", SellerID: "S-1042", Fields: map[string]any{"order_id": "ORD-1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := e.client(t)
	e.signIn(t, c, "")
	path := "/cases/" + cs.Number
	_, body := e.get(t, c, path)
	for _, want := range []string{`id="edit-form"`, `name="version" value="` + strconv.FormatInt(cs.Version, 10) + `"`,
		`value="ORD-1"`, `id="seller-name">Northwind Outfitters`, "Tier 1"} {
		if !strings.Contains(body, want) {
			t.Errorf("case page lacks %q", want)
		}
	}
	v := strconv.FormatInt(cs.Version, 10)
	edit := url.Values{"version": {v}, "title": {"Parcel lost at the depot"}, "description": {"Buyer **chased** twice"},
		"category": {"logistics/lost_parcel"}, "field.logistics/lost_parcel.order_id": {"ORD-2"},
		"field.logistics/lost_parcel.carrier": {"DPD"}, "seller_id": {"S-2077"}, "requester.name": {"Sam Buyer"},
		"requester.email": {"sam@example.com"}, "tags": {"chased, depot"}, "watchers": {"bob@flare.test"}}
	resp, body := e.postForm(t, c, path+"/edit", edit)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != path {
		t.Fatalf("edit: %d %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	got, err := e.app.Cases.Get(ctx, e.lead, cs.Number)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "Parcel lost at the depot" || got.Fields["order_id"] != "ORD-2" || got.Fields["carrier"] != "DPD" ||
		*got.SellerID != "S-2077" || got.Requester.Name != "Sam Buyer" || strings.Join(got.Tags, ",") != "chased,depot" ||
		strings.Join(got.Watchers, ",") != "bob@flare.test" {
		t.Fatalf("saved: %+v", got)
	}
	_, body = e.get(t, c, path)
	for _, want := range []string{`id="flash">Changes saved.`, "<strong>chased</strong>", `id="seller-name">Kessler Elektro`, "updated the case",
		`<span class="chg-field">Watchers</span> <span class="chg-old">—</span> → <span class="chg-new">Bob Fischer</span>`} {
		if !strings.Contains(body, want) {
			t.Errorf("after the edit the page lacks %q", want)
		}
	}
	if _, again := e.get(t, c, path); strings.Contains(again, `id="flash"`) {
		t.Error("the confirmation shows twice")
	}
	// The same (now stale) page again: 409, who changed it, nothing written.
	edit.Set("title", "Someone else's title")
	resp, body = e.postForm(t, c, path+"/edit", edit)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "Alice Moreau changed this case just now") ||
		!strings.Contains(body, "reload") || !strings.Contains(body, `data-here="`+path+`"`) {
		t.Fatalf("stale edit: %d\n%s", resp.StatusCode, body)
	}
	if g, _ := e.app.Cases.Get(ctx, e.lead, cs.Number); g.Title != got.Title {
		t.Fatalf("a stale edit wrote the title %q", g.Title)
	}
	// Bad input: the message next to its field, in words, the input kept.
	edit.Set("version", strconv.FormatInt(got.Version, 10))
	edit.Set("requester.email", "not-an-email")
	edit.Set("field.logistics/lost_parcel.order_id", "")
	resp, body = e.postForm(t, c, path+"/edit", edit)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Requester email:") ||
		strings.Contains(body, "requester.email ") || !strings.Contains(body, `value="Someone else&#39;s title"`) ||
		!strings.Contains(body, `class="field has-error">Requester email`) || !strings.Contains(body, `has-error">Order ID`) {
		t.Fatalf("bad edit: %d\n%s", resp.StatusCode, body)
	}
	// A status change chosen on a stale page too.
	resp, body = e.postForm(t, c, path+"/transitions", url.Values{"to": {"open"}, "version": {v}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "changed this case") {
		t.Errorf("stale transition: %d", resp.StatusCode)
	}
	// A form's address opened again leads to the case.
	for _, p := range []string{"/edit", "/transitions", "/comments", "/macro"} {
		if resp, _ := e.get(t, c, path+p); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != path {
			t.Errorf("GET %s: %d %q", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	// A priority override without a reason: in words, next to its field.
	resp, body = e.postForm(t, c, path+"/update", url.Values{"priority": {"P1"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Reason: say why you are overriding the priority.") ||
		strings.Contains(body, "priority_reason say") || !strings.Contains(body, `<span class="field-error" role="alert">say why`) {
		t.Errorf("override without a reason: %d", resp.StatusCode)
	}
}

// A title, description and comment carrying markup stay text.
func TestCasePageXSSInert(t *testing.T) {
	ctx := context.Background()
	e := newUIEnv(t)
	payload := `<img src=x onerror="alert(1)"><script>alert(2)</script>`
	cs, err := e.app.Cases.Create(ctx, e.lead, cases.CreateInput{Title: "Help " + payload, Category: "logistics/delayed_delivery",
		Market: "GB", Description: "Hi " + payload + " [click](javascript:alert(3)) <a href=\"javascript:alert(4)\">x</a>"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Cases.AddComment(ctx, e.lead, cs.Number, cases.CommentInput{Body: "Re " + payload}); err != nil {
		t.Fatal(err)
	}
	c := e.client(t)
	e.signIn(t, c, "")
	_, body := e.get(t, c, "/cases/"+cs.Number)
	// (Escaped, the payload shows as text, in the edit form's inputs too.)
	for _, bad := range []string{"<script>alert", "<img src=x", `href="javascript:`, "onerror=\"alert"} {
		if strings.Contains(body, bad) {
			t.Errorf("the case page carries %q", bad)
		}
	}
	if !strings.Contains(body, `Help &lt;img src=x onerror=&#34;alert(1)&#34;&gt;`) {
		t.Error("the title is not shown as text")
	}
}

// Account managers see the public side of a case only.
func TestCasePageAccountManagerPublicOnly(t *testing.T) {
	ctx := context.Background()
	cfg := uiTestDesk()
	cfg.Users = append(cfg.Users, desk.UserSpec{Email: "ana@flare.test", Name: "Ana Manager", Role: auth.RoleAccountManager})
	cfg.Sellers[0].AccountManager = "ana@flare.test"
	e := newUIEnvWith(t, cfg, app.Options{})
	err := e.app.DB.InTx(ctx, func(tx *db.Tx) error {
		u, err := auth.UserByEmail(ctx, tx, "ana@flare.test")
		if err != nil {
			return err
		}
		return auth.SetPassword(ctx, tx, e.app.Clock.Now(), u.ID, uiTestPassword)
	})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := e.app.Cases.Create(ctx, e.lead, cases.CreateInput{Title: "Payout question", Category: "logistics/delayed_delivery",
		Market: "GB", SellerID: "S-1042"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []cases.CommentInput{{Body: "We are on it"}, {Body: "Seller is on a watch list", Internal: true}} {
		if _, err := e.app.Cases.AddComment(ctx, e.lead, cs.Number, in); err != nil {
			t.Fatal(err)
		}
	}
	pri, why := "P2", "Tier 1 seller"
	if _, err := e.app.Cases.Update(ctx, e.lead, cs.Number, cases.UpdateInput{Priority: &pri, PriorityReason: &why}); err != nil {
		t.Fatal(err)
	}
	c := e.client(t)
	e.email = "ana@flare.test"
	e.signIn(t, c, "")
	resp, body := e.get(t, c, "/cases/"+cs.Number)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("case page as the account manager: %d", resp.StatusCode)
	}
	if !strings.Contains(body, "We are on it") || strings.Contains(body, "watch list") || strings.Contains(body, "updated the case") ||
		strings.Contains(body, `id="edit-form"`) || strings.Contains(body, "Internal note") {
		t.Fatalf("the account manager's case page shows the internal side:\n%s", body)
	}
}

// The macros API: what a case offers, applying with If-Match, a stale
// page refused; the case API's ETag and If-Match.
func TestMacroAndIfMatchAPI(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		ctx := context.Background()
		cfg, err := e.app.Desk.Schema().Example()
		if err != nil {
			t.Fatal(err)
		}
		desk.Set(cfg, macros.Key, []macros.Macro{{Key: "tracing", Name: "Tracing started", Teams: []string{"logistics"},
			Reply: "Hi {{requester_name}}, we are tracing {{case_number}}.", Status: cases.StatusPendingRequester, AddTags: []string{"tracing"}}})
		if _, err := e.app.Desk.Apply(ctx, auth.System("test"), e.app.Clock.Now(), cfg); err != nil {
			t.Fatal(err)
		}
		ref := e.newCase("normal")
		get := e.do("agent", "GET", "/api/v1/cases/"+ref, nil)
		etag := get.header.Get("ETag")
		if get.status != 200 || etag == "" {
			t.Fatalf("GET: %d ETag %q", get.status, etag)
		}
		title := map[string]any{"title": "Parcel lost at the hub"}
		if r := e.do("agent", "PATCH", "/api/v1/cases/"+ref, title, "If-Match", etag); r.status != 200 || r.header.Get("ETag") == etag {
			t.Fatalf("PATCH with the ETag: %d %s", r.status, r.body)
		}
		if r := e.do("agent", "PATCH", "/api/v1/cases/"+ref, map[string]any{"title": "x"}, "If-Match", etag); r.status != 409 ||
			!strings.Contains(string(r.body), "changed this case") {
			t.Fatalf("stale PATCH: %d %s", r.status, r.body)
		}
		if r := e.do("agent", "PATCH", "/api/v1/cases/"+ref, title, "If-Match", "yesterday"); r.status != 422 && r.status != 400 {
			t.Fatalf("bad If-Match: %d %s", r.status, r.body)
		}
		list := e.do("agent", "GET", "/api/v1/cases/"+ref+"/macros", nil).json(t)
		ms, _ := list["macros"].([]any)
		if len(ms) != 1 || !strings.Contains(ms[0].(map[string]any)["text"].(string), ", we are tracing "+ref+".") {
			t.Fatalf("offered: %v", list)
		}
		if r := e.do("agent", "POST", "/api/v1/cases/"+ref+"/macros/tracing/apply", nil, "If-Match", etag); r.status != 409 {
			t.Fatalf("macro on a stale page: %d %s", r.status, r.body)
		}
		r := e.do("agent", "POST", "/api/v1/cases/"+ref+"/macros/tracing/apply", nil)
		res := r.json(t)
		if r.status != 200 || res["replied"] != true || res["status"] != "pending_requester" {
			t.Fatalf("apply: %d %s", r.status, r.body)
		}
		if r := e.do("agent", "POST", "/api/v1/cases/"+ref+"/macros/nope/apply", nil); r.status != 404 {
			t.Fatalf("unknown macro: %d", r.status)
		}
	})
}
