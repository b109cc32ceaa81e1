package web

// What every request passes through besides its handler: security headers,
// the client's address (behind trusted proxies), rate limits per client
// address and per API token, a deadline, the bound on password hashes, and
// the access log.

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/limit"
)

// Limits bound what one client can ask of the server.
type Limits struct {
	PerIP          limit.Rate    // requests per client address (IPv6: per /64); zero: no limit
	PerToken       limit.Rate    // requests per API token; zero: no limit
	RequestTimeout time.Duration // deadline of a request's handler; 0: none
}

// DefaultLimits are far above what people, the demo or an integration do
// (a page view is a handful of requests), and low enough that one runaway
// client cannot take the server from everyone else.
func DefaultLimits() Limits {
	return Limits{
		PerIP:          limit.Rate{PerSecond: 200, Burst: 400},
		PerToken:       limit.Rate{PerSecond: 100, Burst: 200},
		RequestTimeout: 30 * time.Second,
	}
}

// Bounds on sign-in work. A password hash holds 64 MiB and keeps two cores
// busy (argon2id, two lanes) while it runs, and the garbage collector lets
// the heap reach about twice what is live: at most 3 hashes at once keeps
// a burst of sign-ins well under 512 MiB.
const (
	maxLoginConcurrency = 3               // default hashes at once: one per two CPUs, at most this
	loginQueuePerSlot   = 16              // sign-ins waiting for a hash slot, per slot
	loginWait           = 3 * time.Second // longest wait for a slot before answering 503
	loginBusyRetry      = 2               // Retry-After (seconds) when the slots are busy
	maxLoginForm        = 16 << 10        // a sign-in form is an email, a password and a path
)

// Timeouts of the http.Server; the handler deadline is per request (see
// protect) so that long-lived streams can go without it.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = time.Minute // a 4 MiB body at 70 KB/s
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
	writeGrace        = 5 * time.Second // past the handler deadline, for writing a timeout's answer
)

// hstsHeader: a year; subdomains are left to their own servers.
const hstsHeader = "max-age=31536000"

// defaultCSP is for every answer that is not a page (pages set their own in
// render): nothing may load, nothing may frame it.
const defaultCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// probeRoutes answer load balancers and orchestrators; throttling them would
// report a healthy node as down.
var probeRoutes = map[string]bool{"GET /healthz": true, "GET /readyz": true}

// guard holds the request bounds of one Server.
type guard struct {
	limits      Limits
	trusted     []netip.Prefix
	perIP       *limit.Keyed
	perToken    *limit.Keyed
	hashes      *limit.Gate
	hsts        bool
	accessLog   bool
	accessLevel slog.Level
	longLived   map[string]bool // route patterns without a handler deadline (streams)
	throttled   *prometheus.CounterVec
}

func newGuard(opt Options, c clock.Clock, reg *prometheus.Registry) *guard {
	l := DefaultLimits()
	if opt.Limits != nil {
		l = *opt.Limits
	}
	slots := opt.LoginConcurrency
	if slots <= 0 {
		slots = min(max(runtime.GOMAXPROCS(0)/2, 1), maxLoginConcurrency)
	}
	g := &guard{
		limits:      l,
		trusted:     opt.TrustedProxies,
		perIP:       limit.NewKeyed(l.PerIP, c, 0),
		perToken:    limit.NewKeyed(l.PerToken, c, 0),
		hashes:      limit.NewGate(slots, slots*loginQueuePerSlot),
		hsts:        strings.HasPrefix(strings.ToLower(opt.BaseURL), "https://"),
		accessLog:   opt.AccessLog,
		accessLevel: opt.AccessLogLevel,
		longLived:   map[string]bool{},
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flare_http_throttled_total",
			Help: "Requests refused by a limit: ip, token, login (failed sign-ins), login_busy (password hashing full)."}, []string{"limit"}),
	}
	reg.MustRegister(g.throttled)
	return g
}

// handleLongLived registers a route whose handler runs without the request
// deadline (server-sent events); rate limits still apply to opening it.
func (s *Server) handleLongLived(pattern string, h http.Handler) {
	s.guard.longLived[pattern] = true
	s.mux.Handle(pattern, h)
}

// HTTPServer returns the http.Server to run the handler with: timeouts
// bound slow clients, and headers are capped well below net/http's 1 MiB.
func (s *Server) HTTPServer() *http.Server {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(s.app.Live.Shutdown) // live streams end, so Shutdown does not wait for them
	return srv
}

// reqInfo is what the middleware learns about a request, for its limits and
// its access-log line.
type reqInfo struct {
	route     string     // the matched pattern, "" when none
	client    netip.Addr // the client's address (see clientAddr)
	clientKey string     // what per-address limits count: IPv4, or the IPv6 /64
	actor     string     // "user:ID" or "token:ID" once authenticated
	throttled string     // the limit that refused the request
}

type reqInfoKey struct{}

func withInfo(ctx context.Context, info *reqInfo) context.Context {
	return context.WithValue(ctx, reqInfoKey{}, info)
}

// infoOf returns the request's info; a handler called without the
// middleware (a unit test) gets a blank one.
func infoOf(r *http.Request) *reqInfo {
	if info, ok := r.Context().Value(reqInfoKey{}).(*reqInfo); ok {
		return info
	}
	return &reqInfo{clientKey: clientKey(peerAddr(r))}
}

// requestInfo starts a request's info: its route and its client.
func (s *Server) requestInfo(r *http.Request) *reqInfo {
	_, route := s.mux.Handler(r)
	client := clientAddr(r, s.guard.trusted)
	return &reqInfo{route: route, client: client, clientKey: clientKey(client)}
}

// noteActor records who a request authenticated as, for the access log.
func noteActor(r *http.Request, a auth.Actor, err error) {
	if err != nil || a.UserID == 0 {
		return
	}
	info := infoOf(r)
	if a.TokenID != 0 {
		info.actor = "token:" + strconv.FormatInt(a.TokenID, 10)
	} else {
		info.actor = "user:" + strconv.FormatInt(a.UserID, 10)
	}
}

// clientIP is the address per-client limits count for r.
func clientIP(r *http.Request) string { return infoOf(r).clientKey }

// securityHeaders go on every answer; pages replace the CSP with theirs.
func (g *guard) securityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", defaultCSP)
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Cache-Control", "no-store") // answers carry personal data; static files set their own
	if g.hsts {
		h.Set("Strict-Transport-Security", hstsHeader)
	}
}

// protect applies the rate limits and the request deadline.
func (s *Server) protect(next http.Handler) http.Handler {
	g := s.guard
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := infoOf(r)
		if !probeRoutes[info.route] {
			if ok, wait := g.perIP.Allow(info.clientKey); !ok {
				s.throttle(w, r, "ip", wait)
				return
			}
			if tok, ok := bearerToken(r); ok {
				// Counted before authenticating: a refused token costs no lookup.
				sum := sha256.Sum256([]byte(tok))
				if ok, wait := g.perToken.Allow(string(sum[:16])); !ok {
					s.throttle(w, r, "token", wait)
					return
				}
			}
		}
		rc := http.NewResponseController(w)
		if d := g.limits.RequestTimeout; d > 0 && !g.longLived[info.route] {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			r = r.WithContext(ctx)
			// Ends the answer of a handler that ignores its context.
			_ = rc.SetWriteDeadline(time.Now().Add(d + writeGrace))
		}
		// Without a server-wide WriteTimeout a deadline stays on the
		// connection; the next request on it must not inherit this one's.
		defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()
		next.ServeHTTP(w, r)
	})
}

// bearerToken returns the request's bearer token, if it sends one.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return "", false
	}
	tok := strings.TrimSpace(h[7:])
	return tok, tok != ""
}

// throttle answers 429 for a request refused by limit ("ip", "token").
func (s *Server) throttle(w http.ResponseWriter, r *http.Request, which string, wait time.Duration) {
	infoOf(r).throttled = which
	s.guard.throttled.WithLabelValues(which).Inc()
	secs := retrySeconds(wait)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	who := "client address"
	if which == "token" {
		who = "API token"
	}
	writeProblem(w, r, s.log, problem(http.StatusTooManyRequests, "rate-limited", "Too many requests",
		fmt.Sprintf("This %s sent too many requests; retry after %d s.", who, secs)))
}

// retrySeconds rounds a wait up to whole seconds for Retry-After.
func retrySeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

// passwordWork waits for one of the password-hash slots, at most loginWait;
// the error means the server is busy hashing other sign-ins.
func (s *Server) passwordWork(ctx context.Context) (release func(), err error) {
	ctx, cancel := context.WithTimeout(ctx, loginWait)
	defer cancel()
	release, err = s.guard.hashes.Acquire(ctx)
	if err != nil {
		s.guard.throttled.WithLabelValues("login_busy").Inc()
	}
	return release, err
}

// logRequest writes the access-log line of a request (when on), and always
// one for a 5xx answer. It holds no query string, email, cookie or token:
// the actor is an id and path segments that look like emails are masked.
func (s *Server) logRequest(r *http.Request, info *reqInfo, id string, status int, bytes int64, d time.Duration) {
	g := s.guard
	level := g.accessLevel
	switch {
	case status >= 500:
		level = max(level, slog.LevelWarn)
	case !g.accessLog:
		return
	}
	ctx := r.Context()
	if !s.log.Enabled(ctx, level) {
		return
	}
	route := info.route
	if route == "" {
		route = "unmatched"
	}
	attrs := []slog.Attr{slog.String("method", r.Method), slog.String("route", route), slog.String("path", logPath(r.URL.Path)),
		slog.Int("status", status), slog.Duration("duration", d), slog.Int64("bytes", bytes), slog.String("request_id", id)}
	if info.actor != "" {
		attrs = append(attrs, slog.String("actor", info.actor))
	}
	if info.throttled != "" {
		// Who is being refused is what an operator needs to act on.
		attrs = append(attrs, slog.String("limit", info.throttled), slog.String("client", info.clientKey))
	}
	s.log.LogAttrs(ctx, level, "request", attrs...)
}

// maxLogPath bounds a logged path.
const maxLogPath = 200

// logPath masks path segments holding an email (/agents/{email}/away) and
// bounds the length.
func logPath(p string) string {
	if strings.Contains(p, "@") {
		segs := strings.Split(p, "/")
		for i, seg := range segs {
			if strings.Contains(seg, "@") {
				segs[i] = "{email}"
			}
		}
		p = strings.Join(segs, "/")
	}
	if len(p) > maxLogPath {
		p = p[:maxLogPath] + "…"
	}
	return p
}

// ParseTrustedProxies reads a list of addresses and CIDR prefixes
// ("10.0.0.0/8, 192.0.2.7, fd00::/8"), separated by commas or spaces.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("trusted proxies: %q is not an address or CIDR prefix", f)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxies: %q is not an address or CIDR prefix", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func trusted(a netip.Addr, proxies []netip.Prefix) bool {
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr is the address of the client behind r. Without trusted proxies
// it is the peer: forwarding headers are anyone's to write. When the peer
// is a trusted proxy, X-Forwarded-For is read from the right (the hop the
// proxy itself added) past every trusted proxy; the first other address is
// the client's.
func clientAddr(r *http.Request, proxies []netip.Prefix) netip.Addr {
	addr := peerAddr(r)
	if len(proxies) == 0 || !trusted(addr, proxies) {
		return addr
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0 && trusted(addr, proxies); i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			break // garbage left of a trusted hop: the last good address stands
		}
		addr = hop
	}
	return addr
}

func peerAddr(r *http.Request) netip.Addr {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap()
	}
	a, _ := netip.ParseAddr(r.RemoteAddr)
	return a.Unmap()
}

func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil { // some proxies add the port
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

// clientKey is what per-address limits count: an IPv4 address, or an IPv6
// address's /64 (one subscriber usually holds a whole /64).
func clientKey(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "unknown"
	case a.Is4():
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
