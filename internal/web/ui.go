package web

// The server-rendered UI: html/template pages embedded in the binary, one
// CSS file and a little vanilla JavaScript that only enhances pages which
// work without it. Browser sessions are cookies (HttpOnly, SameSite=Lax,
// Secure behind https); the root handler's CrossOriginProtection guards
// every form POST against cross-site requests.

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/portal"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// ui serves the HTML pages.
type ui struct {
	s      *Server
	pages  map[string]*template.Template
	static fs.FS
	assets map[string]string // file name → URL with a content hash, for long caching
	secure bool              // cookies get Secure (BaseURL is https)
}

// pageNames are the page templates; each is parsed together with layout.html
// and the parts (part_*.html) pages share.
var pageNames = []string{"login", "queue", "new", "case", "error", "handoffs", "team", "explain", "oncall", "escalations",
	"notifications", "webhooks", "incidents", "incident", "action_items", "portal", "portal_new", "portal_request", "import", "problems", "problem", "signals", "alerts",
	"dashboard", "reports", "staffing", "settings", "packs", "pack", "desk"}

func newUI(s *Server) (*ui, error) {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	u := &ui{s: s, static: sub, assets: map[string]string{}, pages: map[string]*template.Template{},
		secure: strings.HasPrefix(strings.ToLower(s.opt.BaseURL), "https://")}
	for _, name := range []string{"flare.css", "flare.js", "queue.js", "reports.css", "reports.js", "vendor/echarts.min.js"} {
		b, err := fs.ReadFile(sub, name)
		if err != nil {
			return nil, fmt.Errorf("ui: static %s: %w", name, err)
		}
		h := sha256.Sum256(b)
		u.assets[name] = "/static/" + name + "?v=" + hex.EncodeToString(h[:6])
	}
	funcs := u.funcs()
	u.addHandoffFuncs(funcs)    // ui_handoffs.go
	u.addAssignFuncs(funcs)     // ui_assign.go
	u.addOncallFuncs(funcs)     // ui_oncall.go
	u.addEscalationFuncs(funcs) // ui_escalation.go
	u.addNotifyFuncs(funcs)     // ui_notify.go
	u.addIncidentFuncs(funcs)   // ui_incidents.go
	u.addPostmortemFuncs(funcs) // ui_postmortems.go
	u.addAttachmentFuncs(funcs) // ui_attachments.go
	u.addPortalFuncs(funcs)     // ui_portal.go
	u.addProblemFuncs(funcs)    // ui_problems.go
	u.addSignalFuncs(funcs)     // ui_signals.go
	u.addReportFuncs(funcs)     // ui_reports.go
	u.addLiveFuncs(funcs)       // ui_live.go
	u.addReviewFuncs(funcs)     // ui_reviews.go
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/part_*.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("ui: template %s: %w", name, err)
		}
		u.pages[name] = t
	}
	return u, nil
}

func (u *ui) staticHandler() http.Handler {
	files := http.StripPrefix("/static/", http.FileServerFS(u.static))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") { // no directory listings
			u.errorPage(w, r, nil, problem(http.StatusNotFound, "not-found", "Page not found", "There is no page at this address."))
			return
		}
		if r.URL.Query().Get("v") != "" {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=300")
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}

// pageHandler is an authenticated page; a returned error becomes an error page.
type pageHandler func(w http.ResponseWriter, r *http.Request, a auth.Actor) error

// page wraps h: a request without a valid session is sent to the sign-in page
// (and back afterwards); errors become the friendly error page.
func (u *ui) page(h pageHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := u.s.actorFrom(r)
		if errors.Is(err, auth.ErrUnauthenticated) {
			next := r.URL.RequestURI()
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				// A form POST cannot be replayed after signing in; come back to its page.
				next = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(r.URL.Path,
					"/comments"), "/transitions"), "/update"), "/new")
			}
			if c, cerr := r.Cookie(sessionCookie); cerr == nil && c.Value != "" {
				u.clearCookie(w) // expired or revoked session
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		if err != nil {
			u.errorPage(w, r, nil, err)
			return
		}
		if err := h(w, r, a); err != nil {
			u.errorPage(w, r, &a, err)
		}
	}
}

// view is what every page template receives.
type view struct {
	Me     *auth.Actor
	Title  string
	Nav    string // highlighted top-bar entry: queue, new
	Assets map[string]string
	Data   any
}

// render executes a page into a buffer first, so a template error becomes a
// clean 500 instead of half a page.
func (u *ui) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	v.Assets = u.assets
	var buf bytes.Buffer
	if err := u.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		u.s.log.ErrorContext(r.Context(), "render page", "page", name, "path", r.URL.Path, "err", err)
		http.Error(w, "Internal error: the page could not be shown. It has been logged.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// errorData is the error page's content.
type errorData struct {
	Status int
	Title  string
	Detail string
}

// errorPage shows err as a friendly page; unexpected errors are logged and
// shown without details.
func (u *ui) errorPage(w http.ResponseWriter, r *http.Request, me *auth.Actor, err error) {
	p := toProblem(err)
	if p.Status >= 500 {
		u.s.log.ErrorContext(r.Context(), "page failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	d := errorData{Status: p.Status, Title: p.Title, Detail: p.Detail}
	switch p.Status {
	case http.StatusNotFound:
		d.Title = "Not found"
		if d.Detail == "" || strings.HasPrefix(d.Detail, "No such object") {
			d.Detail = "This page does not exist, or you do not have access to it."
		}
	case http.StatusForbidden:
		d.Title = "Not allowed"
	case http.StatusInternalServerError:
		d.Title = "Something went wrong"
		d.Detail = "Flare could not complete this request. The error has been logged; please try again."
	}
	u.render(w, r, p.Status, "error", view{Me: me, Title: d.Title, Data: d})
}

// --- sign in and out ---

type loginData struct {
	Email string
	Next  string
	Error string
}

func (u *ui) loginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, err := u.s.actorFrom(r); err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	u.render(w, r, http.StatusOK, "login", view{Title: "Sign in", Data: loginData{Next: next}})
}

func (u *ui) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginForm)
	if err := r.ParseForm(); err != nil {
		u.errorPage(w, r, nil, badRequest("The form could not be read."))
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	password := r.PostForm.Get("password")
	next := safeNext(r.PostForm.Get("next"))
	d := loginData{Email: email, Next: next}
	// The attempt counts before the password is checked, so that concurrent
	// wrong passwords cannot all pass the limit.
	attempt, wait := u.s.limiter.Begin(clientIP(r), email)
	if attempt == nil {
		u.s.guard.throttled.WithLabelValues("login").Inc()
		mins := int((wait + time.Minute - 1) / time.Minute)
		if mins < 1 {
			mins = 1
		}
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds()+0.999)))
		unit := "minutes"
		if mins == 1 {
			unit = "minute"
		}
		d.Error = fmt.Sprintf("Too many attempts, try again in %d %s.", mins, unit)
		u.render(w, r, http.StatusTooManyRequests, "login", view{Title: "Sign in", Data: d})
		return
	}
	// Unknown emails hash too (no enumeration by timing), so every sign-in
	// waits for one of the few hash slots that bound memory.
	release, err := u.s.passwordWork(r.Context())
	if err != nil {
		attempt.Abandon()
		w.Header().Set("Retry-After", fmt.Sprint(loginBusyRetry))
		d.Error = "Flare is busy signing other people in; try again in a few seconds."
		u.render(w, r, http.StatusServiceUnavailable, "login", view{Title: "Sign in", Data: d})
		return
	}
	user, err := func() (auth.User, error) {
		defer release() // even if it panics: a lost slot would shrink the gate for good
		return auth.Authenticate(r.Context(), u.s.app.DB, email, password)
	}()
	if errors.Is(err, auth.ErrUnauthenticated) {
		d.Error = "Email or password is wrong."
		u.render(w, r, http.StatusUnauthorized, "login", view{Title: "Sign in", Data: d})
		return
	}
	if err != nil {
		attempt.Abandon()
		u.errorPage(w, r, nil, err)
		return
	}
	attempt.Succeeded()
	noteActor(r, auth.ActorFor(user), nil)
	if next == home && portal.Home(auth.ActorFor(user)) {
		next = "/portal" // account managers land on the portal (ui_portal.go)
	}
	token, err := auth.SignIn(r.Context(), u.s.app.DB, u.s.app.Clock.Now(), user.ID)
	if err != nil {
		u.errorPage(w, r, nil, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: u.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(auth.SessionMaxAge / time.Second)})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (u *ui) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := auth.SignOut(r.Context(), u.s.app.DB, c.Value); err != nil {
			u.errorPage(w, r, nil, err)
			return
		}
	}
	u.clearCookie(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (u *ui) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: u.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// home is where a sign-in without a page to return to lands (account
// managers: the portal).
const home = "/cases"

// safeNext returns next if it is a path on this site, else /cases: a
// sign-in link must never send the user to another origin.
func safeNext(next string) string {
	if next == "" || len(next) > 2000 || next[0] != '/' || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\r\n\t") || strings.HasPrefix(next, "/login") {
		return home
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f {
			return home
		}
	}
	p, err := url.Parse(next)
	if err != nil || p.Scheme != "" || p.Host != "" || p.User != nil {
		return home
	}
	return next
}
