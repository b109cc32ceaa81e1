package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/limit"
)

// guardEnv is a server on the example desk with one admin who has a
// password and an API token, on a fake clock.
type guardEnv struct {
	s       *Server
	srv     *httptest.Server
	clock   *clock.Fake
	user    auth.User
	token   string
	tokenID int64
	log     *syncBuffer
}

const (
	guardEmail    = "amelia.clarke@flare.example"
	guardPassword = "correct horse battery"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func newGuardEnv(t *testing.T, d *db.DB, opt Options) *guardEnv {
	t.Helper()
	ctx := context.Background()
	e := &guardEnv{clock: clock.NewFake(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)), log: &syncBuffer{}}
	logger := slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.New(d, app.Options{Clock: e.clock, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := a.Desk.Schema().Example()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Desk.Apply(ctx, auth.System("test"), a.Clock.Now(), cfg); err != nil {
		t.Fatal(err)
	}
	err = d.InTx(ctx, func(tx *db.Tx) error {
		if e.user, err = auth.UserByEmail(ctx, tx, guardEmail); err != nil {
			return err
		}
		if err := auth.SetPassword(ctx, tx, a.Clock.Now(), e.user.ID, guardPassword); err != nil {
			return err
		}
		e.token, e.tokenID, err = auth.CreateToken(ctx, tx, a.Clock.Now(), e.user.ID, "test")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.s, err = New(a, opt); err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(e.s.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{Timeout: 30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// send makes a request; hdr are header name/value pairs.
func (e *guardEnv) send(t *testing.T, method, path string, body io.Reader, hdr ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: b}
}

func (e *guardEnv) login(t *testing.T, email, password string, hdr ...string) reply {
	t.Helper()
	form := url.Values{"email": {email}, "password": {password}}
	return e.send(t, http.MethodPost, "/login", strings.NewReader(form.Encode()),
		append([]string{"Content-Type", "application/x-www-form-urlencoded"}, hdr...)...)
}

// Finding 1: 40 concurrent wrong passwords for one account all got 401,
// none 429, because the limit was checked before the hash and the failure
// recorded after it.
func TestLoginConcurrentWrongPasswords(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		e := newGuardEnv(t, d, Options{})
		var mu sync.Mutex
		counts := map[int]int{}
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Go(func() {
				r := e.login(t, guardEmail, fmt.Sprintf("wrong password %d", i))
				if r.status == http.StatusTooManyRequests && r.header.Get("Retry-After") == "" {
					t.Error("429 without Retry-After")
				}
				mu.Lock()
				counts[r.status]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if counts[http.StatusUnauthorized] != 5 || counts[http.StatusTooManyRequests] != 35 {
			t.Fatalf("40 concurrent wrong passwords: %v, want 5×401 and 35×429", counts)
		}
		// The right password waits out the limit like any other.
		if r := e.login(t, guardEmail, guardPassword); r.status != http.StatusTooManyRequests {
			t.Fatalf("right password while limited: %d, want 429", r.status)
		}
		e.clock.Advance(15 * time.Minute)
		if r := e.login(t, guardEmail, guardPassword); r.status != http.StatusSeeOther {
			t.Fatalf("right password after the window: %d, want 303", r.status)
		}
	})
}

// Every sign-in, for a known email or not, waits for the same few hash
// slots; beyond them it is a 503 with Retry-After that does not count
// against the person's limit.
func TestLoginHashesAreBounded(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		e := newGuardEnv(t, d, Options{})
		if slots := e.s.guard.hashes.Slots(); slots < 1 || slots > maxLoginConcurrency {
			t.Fatalf("default hash slots %d, want 1..%d", slots, maxLoginConcurrency)
		}
		e.s.guard.hashes = limit.NewGate(1, 0) // one slot, no queue: busy at once
		release, err := e.s.guard.hashes.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for i, email := range []string{guardEmail, "nobody@flare.example", guardEmail, "nobody@flare.example",
			guardEmail, guardEmail, guardEmail} {
			r := e.login(t, email, "wrong password")
			if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
				t.Fatalf("login %d (%s) with every hash slot taken: %d Retry-After %q, want 503 with Retry-After",
					i, email, r.status, r.header.Get("Retry-After"))
			}
			if !strings.Contains(string(r.body), "busy") {
				t.Fatalf("no busy message: %s", r.body)
			}
		}
		release()
		// Seven refusals above did not use up the five attempts.
		if r := e.login(t, "nobody@flare.example", "wrong password"); r.status != http.StatusUnauthorized {
			t.Fatalf("unknown email after the slot freed: %d, want 401", r.status)
		}
		if r := e.login(t, guardEmail, guardPassword); r.status != http.StatusSeeOther {
			t.Fatalf("right password after busy refusals: %d, want 303", r.status)
		}
		if e.s.guard.hashes.Running() != 0 {
			t.Fatal("a login kept its hash slot")
		}
	})
}

// A sign-in form is small; a large one is refused before it is read whole.
func TestLoginFormBounded(t *testing.T) {
	e := newGuardEnv(t, dbtest.SQLite(t, nil), Options{})
	r := e.login(t, guardEmail, strings.Repeat("x", maxLoginForm))
	if r.status != http.StatusBadRequest {
		t.Fatalf("oversized form: %d, want 400", r.status)
	}
}

func problemType(t *testing.T, r reply) string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want problem JSON: %s", ct, r.body)
	}
	var p Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem: %v", err)
	}
	return p.Type
}

// Finding 2: per-token and per-address limits answer 429 with Retry-After
// and a problem; health probes are never throttled.
func TestRateLimits(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		e := newGuardEnv(t, d, Options{Limits: &Limits{
			PerToken: limit.Rate{PerSecond: 1, Burst: 2},
			PerIP:    limit.Rate{PerSecond: 10, Burst: 5},
		}})
		bearer := []string{"Authorization", "Bearer " + e.token}
		for i := range 2 {
			if r := e.send(t, "GET", "/api/v1/me", nil, bearer...); r.status != http.StatusOK {
				t.Fatalf("request %d of the burst: %d", i+1, r.status)
			}
		}
		r := e.send(t, "GET", "/api/v1/me", nil, "Authorization", "bearer "+e.token) // the scheme is case-insensitive
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "1" {
			t.Fatalf("token over its burst: %d Retry-After %q, want 429 and 1", r.status, r.header.Get("Retry-After"))
		}
		if typ := problemType(t, r); typ != "/problems/rate-limited" {
			t.Fatalf("problem type %q", typ)
		}
		if r.header.Get("X-Request-Id") == "" || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("a 429 lacks the usual headers: %v", r.header)
		}
		// Two anonymous requests take the address to its burst of five.
		for i := range 2 {
			if r := e.send(t, "GET", "/api/v1/me", nil); r.status != http.StatusUnauthorized {
				t.Fatalf("anonymous request %d: %d", i+1, r.status)
			}
		}
		r = e.send(t, "GET", "/login", nil)
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
			t.Fatalf("address over its burst: %d, want 429", r.status)
		}
		for _, p := range []string{"/healthz", "/readyz"} {
			if r := e.send(t, "GET", p, nil); r.status != http.StatusOK {
				t.Fatalf("%s while the address is throttled: %d", p, r.status)
			}
		}
		e.clock.Advance(time.Second)
		if r := e.send(t, "GET", "/api/v1/me", nil, bearer...); r.status != http.StatusOK {
			t.Fatalf("after a second: %d", r.status)
		}
		if !strings.Contains(metrics(t, e), `flare_http_throttled_total{limit="token"} 1`) {
			t.Fatal("the throttled counter did not count the token refusal")
		}
	})
}

func metrics(t *testing.T, e *guardEnv) string {
	t.Helper()
	return string(e.send(t, "GET", "/metrics", nil).body)
}

// The defaults are far above what the UI and the existing tests do, and
// Limits{} turns every limit off (the benchmarks).
func TestRateLimitDefaults(t *testing.T) {
	e := newGuardEnv(t, dbtest.SQLite(t, nil), Options{Limits: &Limits{}})
	for i := range 1000 {
		if r := e.send(t, "GET", "/api/v1/me", nil, "Authorization", "Bearer "+e.token); r.status != http.StatusOK {
			t.Fatalf("request %d without limits: %d", i+1, r.status)
		}
	}
	def := DefaultLimits()
	if def.PerIP.PerSecond < 100 || def.PerToken.PerSecond < 50 || def.PerIP.Burst < 200 || def.PerToken.Burst < 100 || def.RequestTimeout < 10*time.Second {
		t.Fatalf("defaults are not generous: %+v", def)
	}
}

func TestClientAddr(t *testing.T) {
	proxies, err := ParseTrustedProxies("10.0.0.0/8, 192.0.2.7 fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		remote, xff string
		proxies     []netip.Prefix
		want        string
	}{
		{"203.0.113.9:5000", "198.51.100.1", nil, "203.0.113.9"},              // no trusted proxies: headers ignored
		{"203.0.113.9:5000", "198.51.100.1", proxies, "203.0.113.9"},          // untrusted peer: header ignored
		{"10.1.2.3:5000", "198.51.100.1", proxies, "198.51.100.1"},            // one trusted proxy
		{"10.1.2.3:5000", "6.6.6.6, 198.51.100.1", proxies, "198.51.100.1"},   // a forged hop left of the client's
		{"10.1.2.3:5000", "198.51.100.1, 192.0.2.7", proxies, "198.51.100.1"}, // two trusted proxies
		{"10.1.2.3:5000", "10.9.9.9", proxies, "10.9.9.9"},                    // every hop trusted: the leftmost
		{"10.1.2.3:5000", "garbage, 198.51.100.1:443", proxies, "198.51.100.1"},
		{"10.1.2.3:5000", "", proxies, "10.1.2.3"},
		{"[::ffff:10.1.2.3]:5000", "[2001:db8::1]:80", proxies, "2001:db8::1"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := clientAddr(r, c.proxies); got.String() != c.want {
			t.Errorf("%s with X-Forwarded-For %q: %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "10.0.0"} {
		if _, err := ParseTrustedProxies(bad); err == nil {
			t.Errorf("%q accepted as a trusted proxy", bad)
		}
	}
	if k := clientKey(netip.MustParseAddr("2001:db8:1:2:3:4:5:6")); k != "2001:db8:1:2::/64" {
		t.Errorf("IPv6 key %s, want its /64", k)
	}
}

// Behind a trusted proxy each client has its own limits; without one,
// X-Forwarded-For is not believed.
func TestRateLimitBehindProxy(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		limits := &Limits{PerIP: limit.Rate{PerSecond: 1, Burst: 1}}
		local := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
		e := newGuardEnv(t, d, Options{Limits: limits, TrustedProxies: local})
		for _, ip := range []string{"198.51.100.1", "198.51.100.2"} {
			if r := e.send(t, "GET", "/login", nil, "X-Forwarded-For", ip); r.status != http.StatusOK {
				t.Fatalf("first request from %s: %d", ip, r.status)
			}
		}
		if r := e.send(t, "GET", "/login", nil, "X-Forwarded-For", "198.51.100.1"); r.status != http.StatusTooManyRequests {
			t.Fatalf("second request from one client: %d, want 429", r.status)
		}
		// The login limiter counts the forwarded client too.
		for i := range 20 {
			e.clock.Advance(time.Second)
			r := e.login(t, fmt.Sprintf("nobody%d@flare.example", i), "wrong password", "X-Forwarded-For", "198.51.100.3")
			if r.status != http.StatusUnauthorized {
				t.Fatalf("failed sign-in %d: %d", i+1, r.status)
			}
		}
		e.clock.Advance(time.Second)
		if r := e.login(t, guardEmail, guardPassword, "X-Forwarded-For", "198.51.100.3"); r.status != http.StatusTooManyRequests {
			t.Fatalf("21st sign-in from one forwarded client: %d, want 429", r.status)
		}
		if r := e.login(t, guardEmail, guardPassword, "X-Forwarded-For", "198.51.100.4"); r.status != http.StatusSeeOther {
			t.Fatalf("sign-in from another forwarded client: %d, want 303", r.status)
		}

		plain := newGuardEnv(t, d, Options{Limits: limits})
		plain.send(t, "GET", "/login", nil, "X-Forwarded-For", "198.51.100.1")
		if r := plain.send(t, "GET", "/login", nil, "X-Forwarded-For", "198.51.100.2"); r.status != http.StatusTooManyRequests {
			t.Fatalf("X-Forwarded-For believed without trusted proxies: %d", r.status)
		}
	})
}

// Finding 3: the security headers were on HTML pages only.
func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		for _, base := range []string{"", "https://flare.example.com"} {
			e := newGuardEnv(t, d, Options{BaseURL: base})
			bearer := []string{"Authorization", "Bearer " + e.token}
			for _, c := range []struct {
				method, path string
				hdr          []string
				status       int
			}{
				{"GET", "/api/v1/me", bearer, 200},               // API JSON
				{"GET", "/api/v1/cases", nil, 401},               // problem
				{"GET", "/api/v1/cases/ESC-999999", bearer, 404}, // problem
				{"POST", "/api/v1/cases", bearer, 400},           // problem
				{"GET", "/", nil, 303},                           // redirect
				{"GET", "/cases", nil, 303},                      // redirect to sign in
				{"GET", "/login", nil, 200},                      // page
				{"GET", "/no/such/page", nil, 404},               // error page
				{"GET", "/static/flare.css", nil, 200},           // asset
				{"GET", "/healthz", nil, 200},                    // probe
				{"GET", "/api/v1/openapi.json", nil, 200},        // document
				{"DELETE", "/api/v1/me", bearer, 405},            // mux answer
			} {
				r := e.send(t, c.method, c.path, nil, c.hdr...)
				if r.status != c.status {
					t.Fatalf("%s %s: %d, want %d", c.method, c.path, r.status, c.status)
				}
				h := r.header
				csp := h.Get("Content-Security-Policy")
				if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" ||
					h.Get("Referrer-Policy") != "same-origin" || !strings.Contains(csp, "frame-ancestors 'none'") ||
					h.Get("Cross-Origin-Opener-Policy") != "same-origin" {
					t.Errorf("%s %s (%d): security headers missing: %v", c.method, c.path, r.status, h)
				}
				if strings.HasPrefix(h.Get("Content-Type"), "text/html") && !strings.Contains(csp, "style-src 'self'") && r.status != 303 {
					t.Errorf("%s %s: a page without the page policy: %s", c.method, c.path, csp)
				}
				hsts := h.Get("Strict-Transport-Security")
				if (base != "") != (hsts != "") {
					t.Errorf("%s %s with base URL %q: HSTS %q", c.method, c.path, base, hsts)
				}
				if base != "" && !strings.HasPrefix(hsts, "max-age=31536000") {
					t.Errorf("HSTS %q", hsts)
				}
			}
			if cc := e.send(t, "GET", "/api/v1/me", nil, bearer...).header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("API answer Cache-Control %q, want no-store", cc)
			}
			if cc := e.send(t, "GET", "/static/flare.css?v=1", nil).header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
				t.Errorf("versioned asset Cache-Control %q", cc)
			}
		}
	})
}

// Finding 4: the server logged no requests. The line names the route and
// the actor by id, never an email, a query, a cookie, a token or a password.
func TestAccessLog(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		e := newGuardEnv(t, d, Options{AccessLog: true, AccessLogLevel: slog.LevelInfo})
		bearer := []string{"Authorization", "Bearer " + e.token, "X-Request-Id", "req-cases-1"}
		e.send(t, "GET", "/api/v1/cases?q=lena.secret%40example.com&owner=me", nil, bearer...)
		e.send(t, "PUT", "/api/v1/agents/priya.shah@flare.example/away", strings.NewReader(`{"away": true}`),
			append(bearer[:2:2], "Content-Type", "application/json")...)
		r := e.login(t, guardEmail, guardPassword)
		cookie := r.header.Get("Set-Cookie")
		session := strings.TrimPrefix(strings.Split(cookie, ";")[0], sessionCookie+"=")
		if session == "" {
			t.Fatalf("no session: %v", r.header)
		}
		e.send(t, "GET", "/cases", nil, "Cookie", sessionCookie+"="+session)
		e.send(t, "GET", "/nope", nil)

		out := e.log.String()
		lines := accessLines(out)
		if len(lines) != 5 {
			t.Fatalf("%d access lines for 5 requests:\n%s", len(lines), out)
		}
		for _, want := range []string{
			`level=INFO msg=request method=GET route="GET /api/v1/cases" path=/api/v1/cases status=200`,
			`request_id=req-cases-1 actor=token:` + fmt.Sprint(e.tokenID),
			`route="PUT /api/v1/agents/{email}/away" path=/api/v1/agents/{email}/away status=200`,
			`route="POST /login" path=/login status=303`,
			`actor=user:` + fmt.Sprint(e.user.ID),
			`route="GET /" path=/nope status=404`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("the access log lacks %q:\n%s", want, out)
			}
		}
		for _, l := range lines {
			for _, attr := range []string{"method=", "route=", "path=", "status=", "duration=", "bytes=", "request_id="} {
				if !strings.Contains(l, attr) {
					t.Errorf("line without %s: %s", attr, l)
				}
			}
		}
		access := strings.Join(lines, "\n")
		for _, secret := range []string{"lena", "secret", "priya", guardEmail, "amelia", e.token, e.token[4:], session, guardPassword, "correct", "owner="} {
			if strings.Contains(access, secret) {
				t.Errorf("the access log holds %q:\n%s", secret, access)
			}
		}

		// Off: no line for a good request, still one for a failure.
		quiet := newGuardEnv(t, d, Options{})
		quiet.send(t, "GET", "/api/v1/me", nil, "Authorization", "Bearer "+quiet.token)
		if n := len(accessLines(quiet.log.String())); n != 0 {
			t.Fatalf("access log off wrote %d lines:\n%s", n, quiet.log.String())
		}
	})
}

// The access log's level: debug lines are dropped by an info logger.
func TestAccessLogLevel(t *testing.T) {
	d := dbtest.SQLite(t, nil)
	e := newGuardEnv(t, d, Options{AccessLog: true, AccessLogLevel: slog.LevelDebug - 4})
	e.send(t, "GET", "/healthz", nil)
	if n := len(accessLines(e.log.String())); n != 0 {
		t.Fatalf("below the logger's level, %d lines written", n)
	}
}

func accessLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "msg=request ") {
			lines = append(lines, l)
		}
	}
	return lines
}

// Finding 2: every handler runs under a deadline, except the routes
// registered as long-lived (streams), and the http.Server bounds slow clients.
func TestRequestDeadline(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		e := newGuardEnv(t, d, Options{Limits: &Limits{RequestTimeout: 7 * time.Second}})
		deadlines := make(chan time.Duration, 1)
		probe := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			dl, ok := r.Context().Deadline()
			if !ok {
				deadlines <- 0
			} else {
				deadlines <- time.Until(dl)
			}
			writeJSON(w, 200, map[string]string{})
		})
		e.s.mux.Handle("GET /test/short", probe)
		e.s.handleLongLived("GET /test/stream", probe)
		e.send(t, "GET", "/test/short", nil)
		if dl := <-deadlines; dl <= 0 || dl > 7*time.Second {
			t.Fatalf("a normal route's deadline is %v away, want within 7s", dl)
		}
		e.send(t, "GET", "/test/stream", nil)
		if dl := <-deadlines; dl != 0 {
			t.Fatalf("a long-lived route has a deadline %v away", dl)
		}
		hs := e.s.HTTPServer()
		if hs.ReadHeaderTimeout <= 0 || hs.ReadTimeout <= 0 || hs.IdleTimeout <= 0 || hs.WriteTimeout != 0 ||
			hs.MaxHeaderBytes <= 0 || hs.MaxHeaderBytes > 1<<20 {
			t.Fatalf("http.Server timeouts: header %v read %v idle %v write %v header bytes %d",
				hs.ReadHeaderTimeout, hs.ReadTimeout, hs.IdleTimeout, hs.WriteTimeout, hs.MaxHeaderBytes)
		}
	})
}
