package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/sla"
)

// uiEnv is a running Flare server with a small desk and one user who can
// sign in.
type uiEnv struct {
	app      *app.App
	srv      *httptest.Server
	email    string
	password string
	lead     auth.Actor
}

const (
	uiTestEmail    = "alice@flare.test"
	bobEmail       = "bob@flare.test" // an agent of logistics
	bobPassword    = "bob's long passphrase"
	uiTestPassword = "correct horse battery"
)

// uiTestDesk is a small desk: three markets, four teams, categories with
// every kind of custom field.
func uiTestDesk() *desk.Config {
	return &desk.Config{
		Markets: []desk.Market{
			{Code: "GB", Name: "United Kingdom", Timezone: "Europe/London", Languages: []string{"en"}},
			{Code: "DE", Name: "Germany", Timezone: "Europe/Berlin", Languages: []string{"de", "en"}},
			{Code: "FR", Name: "France", Timezone: "Europe/Paris", Languages: []string{"fr"}},
		},
		Teams: []desk.Team{
			{Key: "escalations", Name: "Escalations", Members: []string{uiTestEmail}},
			{Key: "logistics", Name: "Logistics", Members: []string{uiTestEmail, "bob@flare.test"}},
			{Key: "payments", Name: "Payments"},
			{Key: "trust_safety", Name: "Trust & Safety"},
		},
		Categories: []desk.Category{
			{Key: "logistics/lost_parcel", Name: "Lost parcel", Team: "logistics", Severity: 3, Fields: []desk.FieldDef{
				{Key: "order_id", Label: "Order ID", Type: desk.FieldOrderID, Required: true},
				{Key: "carrier", Label: "Carrier", Type: desk.FieldCarrier, Options: []string{"DHL", "DPD", "Royal Mail"}},
				{Key: "tracking", Label: "Tracking number", Type: desk.FieldTrackingNumber},
				{Key: "order_value", Label: "Order value", Type: desk.FieldMoney, Currency: "GBP"},
				{Key: "shipped_on", Label: "Shipped on", Type: desk.FieldDate},
			}},
			{Key: "logistics/delayed_delivery", Name: "Delayed delivery", Team: "logistics", Severity: 4},
			{Key: "payments/payout_hold", Name: "Payout on hold", Team: "payments", Severity: 2, Fields: []desk.FieldDef{
				{Key: "amount", Label: "Amount held", Type: desk.FieldMoney, Currency: "EUR", Required: true},
				{Key: "hold_reason", Label: "Hold reason", Type: desk.FieldSelect, Options: []string{"risk_review", "kyc", "chargebacks"}},
			}},
			{Key: "trust_safety/counterfeit", Name: "Counterfeit goods", Team: "trust_safety", Severity: 1, Fields: []desk.FieldDef{
				{Key: "brands", Label: "Brands", Type: desk.FieldMultiSelect, Options: []string{"Nike", "Adidas", "Apple", "Other"}},
				{Key: "listings", Label: "Listings affected", Type: desk.FieldNumber},
			}},
			{Key: "governance/account_suspension", Name: "Account suspension", Team: "escalations", Severity: 2},
		},
		Resolutions: []string{"fixed", "information_provided", "duplicate", "no_action"},
		// Calendar-time targets, so that the clocks do not depend on the
		// weekday and hour the tests run at.
		SLAPolicies: []sla.PolicySpec{
			{Name: "Urgent", Match: sla.PolicyMatch{Priorities: []string{"P1", "P2"}}, Targets: map[sla.Metric]sla.Target{
				sla.FirstResponse: {Within: "1h", Time: "calendar"}, sla.Resolution: {Within: "1d", Time: "calendar"}}},
			{Name: "Standard", WarnAt: 0.8, Targets: map[sla.Metric]sla.Target{
				sla.FirstResponse: {Within: "6h", Time: "calendar"}, sla.NextResponse: {Within: "8h", Time: "calendar"},
				sla.Resolution: {Within: "5d", Time: "calendar"}}},
		},
		Users: []desk.UserSpec{
			{Email: "admin@flare.test", Name: "Ada Admin", Role: auth.RoleAdmin},
			{Email: uiTestEmail, Name: "Alice Moreau", Role: auth.RoleLead},
			{Email: "bob@flare.test", Name: "Bob Fischer", Role: auth.RoleAgent},
		},
		Sellers: []desk.Seller{
			{ID: "S-1042", Name: "Northwind Outfitters", Market: "GB", Tier: 1},
			{ID: "S-2077", Name: "Kessler Elektro", Market: "DE", Tier: 3},
		},
	}
}

// newUIEnv starts a server on a fresh SQLite store with uiTestDesk applied
// and a user who signs in with uiTestEmail / uiTestPassword.
func newUIEnv(t testing.TB) *uiEnv {
	t.Helper()
	return newUIEnvWith(t, uiTestDesk(), app.Options{})
}

// newUIEnvWith is newUIEnv with another desk (uiTestEmail is added to its
// users as a lead) and app options (a fake clock).
func newUIEnvWith(t testing.TB, cfg *desk.Config, opt app.Options) *uiEnv {
	t.Helper()
	ctx := context.Background()
	if !slices.ContainsFunc(cfg.Users, func(u desk.UserSpec) bool { return u.Email == uiTestEmail }) {
		cfg.Users = append(cfg.Users, desk.UserSpec{Email: uiTestEmail, Name: "Alice Moreau", Role: auth.RoleLead})
	}
	d := dbtest.SQLite(t, app.Migrate)
	a, err := app.New(d, opt)
	if err != nil {
		t.Fatalf("app: %v", err)
	}
	now := a.Clock.Now()
	var user auth.User
	err = a.DB.InTx(ctx, func(tx *db.Tx) error {
		user, err = auth.CreateUser(ctx, tx, now, auth.User{Email: uiTestEmail, Name: "Alice Moreau", Role: auth.RoleLead}, uiTestPassword)
		return err
	})
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	if _, err := a.Desk.Apply(ctx, auth.System("test"), now, cfg); err != nil {
		t.Fatalf("apply desk: %v", err)
	}
	if user, err = auth.GetUser(ctx, a.DB, user.ID); err != nil {
		t.Fatalf("get user: %v", err)
	}
	s, err := New(a, Options{})
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &uiEnv{app: a, srv: srv, email: uiTestEmail, password: uiTestPassword, lead: auth.ActorFor(user)}
}

// client is a browser-like client: it keeps cookies and does not follow redirects.
func (e *uiEnv) client(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (e *uiEnv) postForm(t testing.TB, c *http.Client, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, c, req)
}

func (e *uiEnv) get(t testing.TB, c *http.Client, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, c, req)
}

func do(t testing.TB, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func sessionSet(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie && c.Value != "" {
			return c
		}
	}
	return nil
}

// signIn signs c in and returns the response to the sign-in POST.
func (e *uiEnv) signIn(t testing.TB, c *http.Client, next string) *http.Response {
	t.Helper()
	resp, body := e.postForm(t, c, "/login", url.Values{"email": {e.email}, "password": {e.password}, "next": {next}})
	if resp.StatusCode != http.StatusSeeOther || sessionSet(resp) == nil {
		t.Fatalf("sign in: status %d, cookie %v\n%s", resp.StatusCode, sessionSet(resp), body)
	}
	return resp
}

func TestUILoginWrongPassword(t *testing.T) {
	e := newUIEnv(t)
	c := e.client(t)
	resp, body := e.postForm(t, c, "/login", url.Values{"email": {e.email}, "password": {"not the password"}, "next": {"/cases"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", resp.StatusCode)
	}
	if !strings.Contains(body, "Email or password is wrong") {
		t.Errorf("no inline error in:\n%s", body)
	}
	if !strings.Contains(body, `value="`+e.email+`"`) {
		t.Errorf("the email was not kept in the form")
	}
	if ck := sessionSet(resp); ck != nil {
		t.Errorf("a session cookie was set: %v", ck)
	}
	if resp, _ := e.get(t, c, "/cases"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET /cases after a failed sign-in: %d, want a redirect to sign in", resp.StatusCode)
	}
}

func TestUILoginRateLimited(t *testing.T) {
	e := newUIEnv(t)
	c := e.client(t)
	for i := range 5 {
		resp, _ := e.postForm(t, c, "/login", url.Values{"email": {e.email}, "password": {"wrong password " + string(rune('a'+i))}})
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d, want 401", i+1, resp.StatusCode)
		}
	}
	// Even the right password is refused while the limit holds.
	resp, body := e.postForm(t, c, "/login", url.Values{"email": {e.email}, "password": {e.password}})
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429", resp.StatusCode)
	}
	if !strings.Contains(body, "Too many attempts, try again in") || !strings.Contains(body, "minutes") {
		t.Errorf("no rate-limit message in:\n%s", body)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Errorf("no Retry-After header")
	}
	if sessionSet(resp) != nil {
		t.Errorf("a session cookie was set while rate limited")
	}
}

func TestUIUnauthenticatedRedirects(t *testing.T) {
	e := newUIEnv(t)
	c := e.client(t)
	for path, want := range map[string]string{
		"/cases":                  "/login?next=%2Fcases",
		"/cases?status=all&q=dhl": "/login?next=" + url.QueryEscape("/cases?status=all&q=dhl"),
		"/cases/new":              "/login?next=%2Fcases%2Fnew",
		"/cases/ESC-1":            "/login?next=%2Fcases%2FESC-1",
		"/":                       "/cases",
	} {
		resp, _ := e.get(t, c, path)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("GET %s: %d Location %q, want 303 to %q", path, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	resp, _ := e.postForm(t, c, "/cases/ESC-1/comments", url.Values{"body": {"hi"}})
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/login?next=%2Fcases%2FESC-1" {
		t.Errorf("POST comment signed out: %d Location %q", resp.StatusCode, loc)
	}
}

func TestUILoginIgnoresOffsiteNext(t *testing.T) {
	e := newUIEnv(t)
	for _, next := range []string{"https://evil.example", "//evil.example/cases", "/\\evil.example", "https:/evil.example",
		"javascript:alert(1)", "/login?next=https://evil.example"} {
		c := e.client(t)
		resp := e.signIn(t, c, next)
		if loc := resp.Header.Get("Location"); loc != "/cases" {
			t.Errorf("next=%q: redirected to %q, want /cases", next, loc)
		}
	}
	// The sign-in page does not echo an off-site next either.
	_, body := e.get(t, e.client(t), "/login?next="+url.QueryEscape("https://evil.example"))
	if strings.Contains(body, "evil.example") {
		t.Errorf("the sign-in page carries the off-site next")
	}
	// A local next is honoured.
	resp := e.signIn(t, e.client(t), "/cases/new?category=logistics/lost_parcel")
	if loc := resp.Header.Get("Location"); loc != "/cases/new?category=logistics/lost_parcel" {
		t.Errorf("local next: redirected to %q", loc)
	}
}

func TestUISafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "/cases",
		"/cases?owner=me":      "/cases?owner=me",
		"/cases/ESC-12#update": "/cases/ESC-12#update",
		"https://evil.example": "/cases",
		"//evil.example":       "/cases",
		"/\\evil.example":      "/cases",
		"/\tevil":              "/cases",
		"cases":                "/cases",
		"/login":               "/cases",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUISessionCookieAndSignOut(t *testing.T) {
	e := newUIEnv(t)
	c := e.client(t)
	ck := sessionSet(e.signIn(t, c, ""))
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Lax, Path=/", ck)
	}
	if ck.Secure {
		t.Errorf("cookie is Secure on a plain-http BaseURL")
	}
	resp, body := e.get(t, c, "/cases")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Alice Moreau") || !strings.Contains(body, "The queue is empty") {
		t.Fatalf("queue: %d\n%s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	resp, _ = e.postForm(t, c, "/logout", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Errorf("sign out: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The old token no longer works, even if a client kept it.
	c2 := e.client(t)
	u, _ := url.Parse(e.srv.URL)
	c2.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: ck.Value}})
	if resp, _ := e.get(t, c2, "/cases"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("old session after sign-out: %d, want a redirect", resp.StatusCode)
	}
}

func TestUISecureCookieBehindHTTPS(t *testing.T) {
	e := newUIEnv(t)
	s, err := New(e.app, Options{BaseURL: "https://flare.example"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	form := url.Values{"email": {e.email}, "password": {e.password}}
	resp, err := http.Post(srv.URL+"/login", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// http.Post follows the redirect; read the cookie from the first response.
	for r := resp; r != nil; r = r.Request.Response {
		if ck := sessionSet(r); ck != nil {
			if !ck.Secure {
				t.Errorf("cookie is not Secure behind https")
			}
			return
		}
	}
	t.Errorf("no session cookie set")
}

func TestUICaseFormKeepsInputAndShowsErrors(t *testing.T) {
	e := newUIEnv(t)
	c := e.client(t)
	e.signIn(t, c, "")
	resp, body := e.get(t, c, "/cases/new")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<optgroup label="Logistics">`) ||
		!strings.Contains(body, `name="field.payments/payout_hold.amount.amount"`) {
		t.Fatalf("new case form: %d\n%s", resp.StatusCode, body)
	}
	form := url.Values{
		"title": {"Parcel lost <b>twice</b>"}, "category": {"logistics/lost_parcel"}, "market": {"GB"},
		"channel": {"web_form"}, "requester.email": {"not-an-email"}, "tags": {"vip, Bad Tag!"},
		// Another category's value must be ignored, not reported.
		"field.payments/payout_hold.amount.amount": {"abc"},
		"field.logistics/lost_parcel.tracking":     {"JD0001"},
	}
	resp, body = e.postForm(t, c, "/cases/new", form)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{
		"Order ID is required",                         // the selected category's required field, next to it
		"is not an email address",                      // requester email
		"use lower-case letters",                       // bad tag
		`value="Parcel lost &lt;b&gt;twice&lt;/b&gt;"`, // input kept, escaped
		`value="JD0001"`,
		`<option value="logistics/lost_parcel" selected>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("re-rendered form lacks %q", want)
		}
	}
	if strings.Contains(body, "Amount held is") || strings.Contains(body, "amount &#34;abc&#34;") {
		t.Errorf("another category's field was validated")
	}

	form.Set("requester.email", "seller@northwind.example")
	form.Set("tags", "vip, carrier-dhl")
	form.Set("field.logistics/lost_parcel.order_id", "ORD-99812")
	form.Set("field.logistics/lost_parcel.carrier", "DHL")
	form.Set("field.logistics/lost_parcel.order_value.amount", "129.5")
	form.Set("field.logistics/lost_parcel.order_value.currency", "GBP")
	form.Set("seller_id", "S-1042")
	resp, body = e.postForm(t, c, "/cases/new", form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/cases/ESC-1" {
		t.Fatalf("create: %d %q\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	cs, err := e.app.Cases.Get(context.Background(), e.lead, "ESC-1")
	if err != nil {
		t.Fatal(err)
	}
	if cs.Fields["order_id"] != "ORD-99812" || cs.Fields["carrier"] != "DHL" || len(cs.Tags) != 2 || cs.Requester.Email != "seller@northwind.example" {
		t.Errorf("stored case: fields %v tags %v requester %v", cs.Fields, cs.Tags, cs.Requester)
	}
	if m, _ := cs.Fields["order_value"].(map[string]any); m["amount"] != "129.50" {
		t.Errorf("money field: %v", cs.Fields["order_value"])
	}
	resp, body = e.get(t, c, "/cases/ESC-1")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "129.50 GBP") || !strings.Contains(body, "S-1042") {
		t.Errorf("case page: %d", resp.StatusCode)
	}
}

func TestUICaseActions(t *testing.T) {
	ctx := context.Background()
	e := newUIEnv(t)
	cs, err := e.app.Cases.Create(ctx, e.lead, cases.CreateInput{Title: "Payout held for a week", Category: "payments/payout_hold",
		Market: "DE", Fields: map[string]any{"amount": "2500"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := e.client(t)
	e.signIn(t, c, "")
	path := "/cases/" + cs.Number

	// Numeric ids redirect to the one address of the case.
	if resp, _ := e.get(t, c, "/cases/"+itoa(cs.ID)); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != path {
		t.Errorf("by id: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Resolving without a resolution re-renders the page with the message and the note.
	resp, body := e.postForm(t, c, path+"/transitions", url.Values{"to": {"resolved"}, "note": {"Released after KYC"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Resolution: is required") ||
		!strings.Contains(body, "Released after KYC") {
		t.Errorf("bad transition: %d\n%s", resp.StatusCode, body)
	}
	// Closing a new case is not allowed: 409 with the message.
	resp, body = e.postForm(t, c, path+"/transitions", url.Values{"to": {"closed"}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "cannot move a new case to closed") {
		t.Errorf("illegal transition: %d", resp.StatusCode)
	}
	// Assign to me opens the case.
	resp, _ = e.postForm(t, c, path+"/update", url.Values{"owner": {e.email}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("assign: %d", resp.StatusCode)
	}
	// A priority override needs a reason.
	resp, body = e.postForm(t, c, path+"/update", url.Values{"priority": {"P1"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "say why you are overriding") {
		t.Errorf("override without reason: %d", resp.StatusCode)
	}
	resp, _ = e.postForm(t, c, path+"/update", url.Values{"priority": {"P1"}, "priority_reason": {"Tier 1 seller, press interest"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("override: %d", resp.StatusCode)
	}
	resp, _ = e.postForm(t, c, path+"/comments", url.Values{"body": {"Checked with **payments**: <script>alert(1)</script>"}, "internal": {"1"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("comment: %d", resp.StatusCode)
	}
	resp, body = e.get(t, c, path)
	for _, want := range []string{"Internal note", "<strong>payments</strong>", "Set by hand:", "Tier 1 seller, press interest",
		`class="pill st-open" id="case-status"`, "Alice Moreau"} {
		if !strings.Contains(body, want) {
			t.Errorf("case page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>alert(1)") {
		t.Errorf("comment HTML was not sanitised")
	}
	// Missing and unknown cases get the friendly 404 page.
	for _, p := range []string{"/cases/ESC-999", "/cases/nonsense", "/no/such/page"} {
		resp, body := e.get(t, c, p)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "Back to the queue") {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
	}
	if resp, _ := e.get(t, c, "/api/v1/nope"); !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		t.Errorf("unknown API path answered with %q", resp.Header.Get("Content-Type"))
	}
}

func TestUIQueueFilters(t *testing.T) {
	ctx := context.Background()
	e := newUIEnv(t)
	for i, in := range []cases.CreateInput{
		{Title: "Counterfeit trainers", Category: "trust_safety/counterfeit", Market: "GB", HighRisk: true},
		{Title: "Late parcel to Lyon", Category: "logistics/delayed_delivery", Market: "FR"},
		{Title: "Account suspended by mistake", Category: "governance/account_suspension", Market: "DE"},
	} {
		in.At = e.app.Clock.Now().Add(-time.Duration(i+1) * 26 * time.Hour)
		if _, err := e.app.Cases.Create(ctx, auth.System("test"), in, nil); err != nil {
			t.Fatal(err)
		}
	}
	c := e.client(t)
	e.signIn(t, c, "")
	_, body := e.get(t, c, "/cases")
	iP1, iP4 := strings.Index(body, "Counterfeit trainers"), strings.Index(body, "Late parcel to Lyon")
	if iP1 < 0 || iP4 < 0 || iP1 > iP4 {
		t.Errorf("queue not sorted by priority")
	}
	if !strings.Contains(body, `title="P1 because:`) || !strings.Contains(body, ">26h<") || !strings.Contains(body, ">3d<") {
		t.Errorf("queue lacks priority reasons or ages\n%s", body)
	}
	_, body = e.get(t, c, "/cases?market=FR")
	if strings.Contains(body, "Counterfeit trainers") || !strings.Contains(body, "Late parcel to Lyon") {
		t.Errorf("market filter")
	}
	_, body = e.get(t, c, "/cases?owner=me")
	if !strings.Contains(body, "No cases match these filters") {
		t.Errorf("empty state for a filter")
	}
	resp, body := e.get(t, c, "/cases?status=bogus")
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "unknown status") {
		t.Errorf("bad status filter: %d", resp.StatusCode)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestUIQueuePages(t *testing.T) {
	ctx := context.Background()
	e := newUIEnv(t)
	for i := range queuePageSize + 2 {
		in := cases.CreateInput{Title: "Late parcel " + strconv.Itoa(i), Category: "logistics/delayed_delivery", Market: "GB"}
		if _, err := e.app.Cases.Create(ctx, auth.System("test"), in, nil); err != nil {
			t.Fatal(err)
		}
	}
	c := e.client(t)
	e.signIn(t, c, "")
	_, body := e.get(t, c, "/cases?market=GB")
	if n := strings.Count(body, `<td class="col-num">`); n != queuePageSize {
		t.Fatalf("first page has %d rows", n)
	}
	i := strings.Index(body, `rel="next"`)
	j := strings.LastIndex(body[:max(i, 0)], `href="`)
	if i < 0 || j < 0 {
		t.Fatalf("no next page link")
	}
	next := strings.ReplaceAll(body[j+len(`href="`):strings.Index(body[j+6:], `"`)+j+6], "&amp;", "&")
	if !strings.Contains(next, "market=GB") || !strings.Contains(next, "cursor=") {
		t.Errorf("next link %q drops the filter or the cursor", next)
	}
	_, body = e.get(t, c, next)
	if n := strings.Count(body, `<td class="col-num">`); n != 2 || strings.Contains(body, `rel="next"`) {
		t.Errorf("second page: %d rows", n)
	}
}

func TestUIViewerSeesNoWriteControls(t *testing.T) {
	ctx := context.Background()
	e := newUIEnv(t)
	cs, err := e.app.Cases.Create(ctx, e.lead, cases.CreateInput{Title: "Late parcel", Category: "logistics/delayed_delivery", Market: "GB"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = e.app.DB.InTx(ctx, func(tx *db.Tx) error {
		_, err := auth.CreateUser(ctx, tx, e.app.Clock.Now(), auth.User{Email: "vera@flare.test", Name: "Vera Viewer", Role: auth.RoleViewer}, uiTestPassword)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	c := e.client(t)
	e.email = "vera@flare.test"
	e.signIn(t, c, "")
	resp, body := e.get(t, c, "/cases/"+cs.Number)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("case page: %d", resp.StatusCode)
	}
	for _, form := range []string{"/comments", "/transitions", "/update", "/cases/new"} {
		if strings.Contains(body, cs.Number+form) || strings.Contains(body, `href="`+form) {
			t.Errorf("a viewer is offered %s", form)
		}
	}
	if resp, body := e.get(t, c, "/cases/new"); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Not allowed") {
		t.Errorf("new case as viewer: %d", resp.StatusCode)
	}
	if resp, _ := e.postForm(t, c, "/cases/"+cs.Number+"/transitions", url.Values{"to": {"open"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("transition as viewer: %d", resp.StatusCode)
	}
}

// slaEnv is a server on the example desk (with its SLA policies) at a fake
// time, Wednesday 4 March 2026, 13:00 UTC (London is on GMT, the EMEA
// business calendar is open 09:00–18:00).
func slaEnv(t *testing.T) (*uiEnv, *clock.Fake) {
	t.Helper()
	schema, err := app.DeskSchema()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := schema.Example()
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 3, 4, 13, 0, 0, 0, time.UTC))
	return newUIEnvWith(t, cfg, app.Options{Clock: clk}), clk
}

// queueRow returns the queue table row of the case titled title.
func queueRow(t *testing.T, body, title string) string {
	t.Helper()
	i := strings.Index(body, ">"+title+"<")
	if i < 0 {
		t.Fatalf("no queue row for %q", title)
	}
	start := strings.LastIndex(body[:i], "<tr>")
	end := strings.Index(body[i:], "</tr>")
	if start < 0 || end < 0 {
		t.Fatalf("no table row around %q", title)
	}
	return body[start : i+end]
}

func TestUIQueueSLADue(t *testing.T) {
	ctx := context.Background()
	e, clk := slaEnv(t)
	t0 := clk.Now()
	sys := auth.System("test")
	create := func(title, cat string, at time.Time) *cases.Case {
		t.Helper()
		in := cases.CreateInput{Title: title, Category: cat, Market: "GB", At: at}
		if cat == "logistics/delayed_delivery" {
			in.Fields = map[string]any{"order_id": "ORD-1"}
		}
		c, err := e.app.Cases.Create(ctx, sys, in, nil)
		if err != nil {
			t.Fatalf("create %q: %v", title, err)
		}
		return c
	}
	// Safety emergencies: first response within 30m, 24/7.
	create("Charger caught fire", "safety/product_safety", t0)
	late := create("Choking hazard toy", "safety/product_safety", t0)
	// Standard: first response within 4h of EMEA business time, warns at 80%.
	create("Parcel stuck in Leipzig", "logistics/delayed_delivery", t0)                // due 17:00
	create("Parcel late to Leeds", "logistics/delayed_delivery", t0.Add(-3*time.Hour)) // due 14:00, warns 13:12
	answered := create("Parcel answered", "logistics/delayed_delivery", t0)
	if _, err := e.app.Cases.AddComment(ctx, e.lead, answered.Number, cases.CommentInput{Body: "We are on it."}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(45 * time.Minute) // 13:45: the safety cases' first response is 15 minutes overdue
	if _, err := e.app.Cases.AddComment(ctx, e.lead, late.Number, cases.CommentInput{Body: "Listing removed."}); err != nil {
		t.Fatal(err)
	}

	c := e.client(t)
	e.signIn(t, c, "")
	resp, body := e.get(t, c, "/cases")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("queue: %d", resp.StatusCode)
	}
	if !strings.Contains(body, `>Due</a></th>`) { // a sort link
		t.Errorf("the queue has no Due column")
	}
	for _, tc := range []struct{ title, class, text, due string }{
		{"Charger caught fire", "due-breached", "overdue 15m", "2026-03-04T13:30:00Z"},
		{"Parcel stuck in Leipzig", "due-ok", "3h 15m", "2026-03-04T17:00:00Z"},
		{"Parcel late to Leeds", "due-warning", "15m", "2026-03-04T14:00:00Z"},
		{"Choking hazard toy", "due-ok", "23h 15m", "2026-03-05T13:00:00Z"}, // first response met (late): resolution shows
	} {
		row := queueRow(t, body, tc.title)
		want := `<span class="due ` + tc.class + `" data-due="` + tc.due + `"`
		if !strings.Contains(row, want) || !strings.Contains(row, ">"+tc.text+"</span>") {
			t.Errorf("%s: want a Due cell %s … %q in\n%s", tc.title, want, tc.text, row)
		}
	}
	if row := queueRow(t, body, "Parcel answered"); !strings.Contains(row, `class="due due-ok"`) {
		t.Errorf("answered case: want its next clock in the Due cell\n%s", row)
	}

	// Breaching soon: breached or due within 4h, soonest first.
	resp, body = e.get(t, c, "/cases?view=breaching")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("breaching view: %d", resp.StatusCode)
	}
	var at []int
	for _, title := range []string{"Charger caught fire", "Parcel late to Leeds", "Parcel stuck in Leipzig"} {
		i := strings.Index(body, ">"+title+"<")
		if i < 0 {
			t.Errorf("breaching view lacks %q", title)
		}
		at = append(at, i)
	}
	if !slices.IsSorted(at) {
		t.Errorf("breaching view not sorted by due time: %v", at)
	}
	for _, title := range []string{"Choking hazard toy", "Parcel answered"} {
		if strings.Contains(body, ">"+title+"<") {
			t.Errorf("breaching view lists %q, which is not due within 4h", title)
		}
	}
	if !strings.Contains(body, "at most 200") || !strings.Contains(body, `href="/cases?view=breaching" aria-current="page"`) {
		t.Errorf("breaching view lacks its 200 limit note or nav highlight")
	}
	_, body = e.get(t, c, "/cases?view=breaching&team=logistics")
	if strings.Contains(body, "Charger caught fire") || !strings.Contains(body, "Parcel late to Leeds") {
		t.Errorf("breaching view ignores the team")
	}

	// The case page's SLA panel.
	_, body = e.get(t, c, "/cases/"+late.Number)
	for _, want := range []string{`id="sla"`, "First response", "Resolution", "30m ", "Met at", "4 Mar 2026, 13:45 UTC", "late</span>",
		"Safety emergencies", "Follow the sun (24/7)", `data-metric="resolution" data-due="2026-03-05T13:00:00Z"`} {
		if !strings.Contains(body, want) {
			t.Errorf("case page SLA panel lacks %q", want)
		}
	}
	_, body = e.get(t, c, "/cases/"+answered.Number)
	if !strings.Contains(body, "Met at") || strings.Contains(body, "late</span>") || !strings.Contains(body, "EMEA business hours") {
		t.Errorf("answered case: first response should be met on time")
	}
}

func TestUISLAFormatting(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "<1m", 59 * time.Second: "<1m", 35 * time.Minute: "35m",
		2*time.Hour + 14*time.Minute + 59*time.Second: "2h 14m", 47 * time.Hour: "47h 0m", 50 * time.Hour: "2d 2h"} {
		if got := countdown(d); got != want {
			t.Errorf("countdown(%s) = %q, want %q", d, got, want)
		}
	}
	for _, tc := range []struct {
		ck   cases.Clock
		want string
	}{
		{cases.Clock{Target: "4h0m0s", Business: true}, "4h business"},
		{cases.Clock{Target: "24h0m0s"}, "1d calendar"},
		{cases.Clock{Target: "1h30m0s"}, "1h 30m calendar"},
	} {
		if got := targetText(tc.ck); got != tc.want {
			t.Errorf("targetText(%s) = %q, want %q", tc.ck.Target, got, tc.want)
		}
	}
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	cs := []cases.Clock{
		{Metric: "resolution", State: "running", DueAt: at(time.Hour)},
		{Metric: "first_response", State: "met", DueAt: at(-time.Hour), MetAt: at(-2 * time.Hour)},
		{Metric: "next_response", State: "breached", DueAt: at(-10 * time.Minute)},
	}
	if ck, _ := urgentClock(cs); ck.Metric != "next_response" {
		t.Errorf("urgent clock %s, want the breached one", ck.Metric)
	}
	if v := clockDue(now, cs[2]); v.Class != "breached" || v.Text != "overdue 10m" {
		t.Errorf("breached clock: %+v", v)
	}
	if v := clockDue(now, cs[1]); v.Class != "met" || v.Late {
		t.Errorf("met clock: %+v", v)
	}
	if _, ok := urgentClock(cs[1:2]); ok {
		t.Errorf("a met clock is shown in the queue")
	}
	if ck, _ := urgentClock([]cases.Clock{{State: "paused"}, {State: "met"}}); ck.State != "paused" {
		t.Errorf("a paused clock should show when nothing runs")
	}
}

// Account managers work the public side: no handoffs in the navigation,
// and the handoff queue is not theirs.
func TestUIAccountManagerSeesNoHandoffs(t *testing.T) {
	ctx := context.Background()
	e := newUIEnv(t)
	err := e.app.DB.InTx(ctx, func(tx *db.Tx) error {
		_, err := auth.CreateUser(ctx, tx, e.app.Clock.Now(), auth.User{Email: "ana@flare.test", Name: "Ana Manager", Role: auth.RoleAccountManager}, uiTestPassword)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	c := e.client(t)
	e.email = "ana@flare.test"
	e.signIn(t, c, "")
	resp, body := e.get(t, c, "/cases")
	if resp.StatusCode != http.StatusOK || strings.Contains(body, `id="nav-handoffs"`) {
		t.Fatalf("queue as an account manager: %d, handoffs in the navigation: %v", resp.StatusCode, strings.Contains(body, "nav-handoffs"))
	}
	if resp, _ := e.get(t, c, "/handoffs"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("handoff queue as an account manager: %d", resp.StatusCode)
	}
}
