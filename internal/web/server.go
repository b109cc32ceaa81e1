// Package web is Flare's HTTP edge: the JSON API under /api/v1, the
// server-rendered UI, health and metrics. Handlers are thin: they decode,
// call a domain service and encode.
package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/input"
	"github.com/flare-desk/flare/internal/opsmetrics"
)

// MaxBody is the largest request body accepted (desk YAML included).
const MaxBody = 4 << 20

// Options configure the server.
type Options struct {
	BaseURL string // public URL; https makes cookies Secure and sends HSTS
	Version string

	Limits           *Limits        // nil: DefaultLimits(); &Limits{} limits nothing (benchmarks)
	TrustedProxies   []netip.Prefix // peers whose X-Forwarded-For names the client; none: the peer is the client
	LoginConcurrency int            // password hashes at once; 0: one per two CPUs, at most 3
	AccessLog        bool           // log a line per request
	AccessLogLevel   slog.Level     // the level of those lines
	// Live: pages open the live stream and update by themselves (flare
	// serve and demo). Off, they do not; the stream API answers either way.
	// Test servers leave it off: a browser's open stream would keep their
	// Close waiting.
	Live bool
}

// Route is one registered API route, for the OpenAPI check.
type Route struct{ Method, Path string }

// Server serves the API and UI.
type Server struct {
	app     *app.App
	opt     Options
	log     *slog.Logger
	mux     *http.ServeMux
	routes  []Route
	limiter *auth.LoginLimiter
	ui      *ui
	tokens  tokenCache
	guard   *guard

	reqs    *prometheus.CounterVec
	latency *prometheus.HistogramVec
	reg     *prometheus.Registry
}

// New builds the server for a.
func New(a *app.App, opt Options) (*Server, error) {
	s := &Server{app: a, opt: opt, log: a.Log, mux: http.NewServeMux(), limiter: auth.NewLoginLimiter(a.Clock)}
	s.reg = prometheus.NewRegistry()
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flare_http_requests_total",
		Help: "HTTP requests by route and status code."}, []string{"route", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "flare_http_request_duration_seconds",
		Help: "HTTP request latency by route.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"route"})
	s.reg.MustRegister(s.reqs, s.latency)
	s.guard = newGuard(opt, a.Clock, s.reg)
	s.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "flare_db_open_connections",
		Help: "Open connections in the writer pool."}, func() float64 { return float64(a.DB.W.Stats().OpenConnections) }))
	s.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "flare_db_transactions_total",
		Help: "Write transactions run."}, func() float64 { return float64(a.DB.Transactions()) }))
	s.reg.MustRegister(opsmetrics.New(a.DB, a.Clock, a.Log)) // the desk's state: open cases, queues, deliveries

	var err error
	if s.ui, err = newUI(s); err != nil {
		return nil, err
	}
	s.registerRoutes() // routes.go
	return s, nil
}

// Routes lists the API routes, for the OpenAPI document's test.
func (s *Server) Routes() []Route { return s.routes }

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.app.DB.W.PingContext(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "detail": "database unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// Handler is the server's root handler with its middleware.
func (s *Server) Handler() http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, s.log, problem(http.StatusForbidden, "cross-origin", "Cross-origin request refused",
			"State-changing browser requests must come from Flare's own pages."))
	}))
	return s.recoverer(s.observe(s.protect(cop.Handler(s.checkInput(s.mux)))))
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// observe gives each request an id and the security headers, caps its
// body, records metrics and writes the access log.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 || input.Key.Problem(id) != "" { // it goes to logs and the audit log
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		s.guard.securityHeaders(w.Header())
		info := s.requestInfo(r)
		r = r.WithContext(withInfo(audit.WithRequestID(r.Context(), id), info))
		r.Body = http.MaxBytesReader(w, r.Body, bodyLimit(r)) // api_attachments.go: uploads get more
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := info.route // r.Pattern is set on protect's copy of r
		if route == "" {
			route = "unmatched"
		}
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		s.reqs.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
		elapsed := time.Since(start)
		s.latency.WithLabelValues(route).Observe(elapsed.Seconds())
		s.logRequest(r, info, id, sw.status, sw.bytes, elapsed)
	})
}

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.ErrorContext(r.Context(), "panic", "path", r.URL.Path, "panic", p)
				writeProblem(w, r, s.log, errors.New("panic"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// sessionCookie is the browser session's cookie name.
const sessionCookie = "flare_session"

// actorFrom authenticates a request: a bearer token, else a session cookie.
func (s *Server) actorFrom(r *http.Request) (a auth.Actor, err error) {
	defer func() { noteActor(r, a, err) }() // for the access log
	if h := r.Header.Get("Authorization"); h != "" {
		// Auth schemes are case-insensitive (RFC 9110 §11.1).
		scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return auth.Actor{}, auth.ErrUnauthenticated
		}
		return s.tokens.actor(r.Context(), s.app.DB, strings.TrimSpace(token))
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return auth.Actor{}, auth.ErrUnauthenticated
	}
	return auth.SessionActor(r.Context(), s.app.DB, s.app.Clock.Now(), c.Value)
}

// apiHandler is an authenticated JSON handler; a returned error becomes a problem.
type apiHandler func(w http.ResponseWriter, r *http.Request, a auth.Actor) error

// api registers an authenticated API route under /api/v1.
func (s *Server) api(method, path string, h apiHandler) {
	s.routes = append(s.routes, Route{Method: method, Path: path})
	s.mux.HandleFunc(method+" /api/v1"+path, func(w http.ResponseWriter, r *http.Request) {
		a, err := s.actorFrom(r)
		if err == nil {
			err = h(w, r, a)
		}
		if err != nil {
			writeProblem(w, r, s.log, err)
		}
	})
}

// tokenTTL is how long a verified API token is trusted without asking the
// store again: a revoked token or a changed role takes effect within it.
const tokenTTL = 5 * time.Second

// tokenCache remembers recently verified API tokens, so busy API clients do
// not cost two queries per request.
type tokenCache struct {
	mu sync.Mutex
	m  map[string]cachedActor
}

type cachedActor struct {
	actor   auth.Actor
	expires time.Time
}

func (c *tokenCache) actor(ctx context.Context, q db.Querier, token string) (auth.Actor, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.m[token]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.actor, nil
	}
	a, err := auth.TokenActor(ctx, q, token)
	if err != nil {
		return a, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10_000 {
		c.m = map[string]cachedActor{} // crude bound: start afresh
	}
	c.m[token] = cachedActor{actor: a, expires: now.Add(tokenTTL)}
	return a, nil
}
