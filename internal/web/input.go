package web

import (
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/input"
)

// checkInput is the edge gate: a request whose query string, path
// parameters or form values break the input rules (internal/input) is
// refused with a 400 naming the parameter, before any handler (or the
// store) sees it — an API request with problem JSON, a page with the error
// page. JSON bodies are checked by readJSON, the desk document by
// desk.Parse.
func (s *Server) checkInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/login" {
			// The sign-in form is small: refuse a large one before reading it
			// whole (it is read here, before the login handler).
			r.Body = http.MaxBytesReader(w, r.Body, maxLoginForm)
		}
		if err := s.inputProblem(r); err != nil {
			if isAPI(r) {
				writeProblem(w, r, s.log, err)
				return
			}
			var me *auth.Actor
			if a, aerr := s.actorFrom(r); aerr == nil {
				me = &a
			}
			s.ui.errorPage(w, r, me, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// inputProblem checks r's query, path and (for pages) form values.
func (s *Server) inputProblem(r *http.Request) error {
	v := &apperr.Invalid{}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil { // net/http would drop the malformed pair silently
		return badRequest("The query string is malformed (a bad %-escape or a ';').",
			apperr.FieldError{Field: "query", Message: "is not a well-formed query string"})
	}
	input.CheckQuery(v, q)
	s.checkPath(v, r)
	if !isAPI(r) && isForm(r) {
		if err := r.ParseForm(); err != nil {
			return badRequest("The form could not be read.")
		}
		input.CheckForm(v, r.PostForm)
		if len(v.Errors) == 0 {
			oneLineEnds(r.PostForm)
			oneLineEnds(r.Form)
		}
	}
	if len(v.Errors) > 0 {
		return badRequest("A parameter breaks the input rules; nothing was done.", v.Errors...)
	}
	return nil
}

// checkPath checks each segment of the path. Only when one fails is the
// route looked up, to name the path parameter it falls in.
func (s *Server) checkPath(v *apperr.Invalid, r *http.Request) {
	segs := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	for i, raw := range segs {
		seg, err := url.PathUnescape(raw)
		if err == nil && input.Param.Problem(seg) == "" {
			continue
		}
		_, pattern := s.mux.Handler(r)
		name := pathParamName(pattern, i)
		if err != nil {
			v.Add(name, "is not a well-formed path segment")
		} else {
			input.CheckPath(v, name, seg)
		}
		return
	}
}

// pathParamName names the wildcard of pattern ("PUT /api/v1/agents/{email}/away")
// that covers path segment i, or "path".
func pathParamName(pattern string, i int) string {
	if j := strings.Index(pattern, "/"); j >= 0 {
		pattern = pattern[j+1:]
	} else {
		return "path"
	}
	for k, p := range strings.Split(pattern, "/") {
		if !strings.HasPrefix(p, "{") || !strings.HasSuffix(p, "}") {
			continue
		}
		name := strings.TrimSuffix(strings.Trim(p, "{}"), "...")
		if k == i || (k < i && strings.HasSuffix(p, "...}")) {
			if name == "$" {
				break
			}
			return name
		}
	}
	return "path"
}

func isForm(r *http.Request) bool {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		return mediaType(r.Header.Get("Content-Type")) == "application/x-www-form-urlencoded"
	}
	return false
}

// oneLineEnds turns the CRLF line ends browsers send in textareas into LF,
// so stored text has one kind of line end.
func oneLineEnds(f url.Values) {
	for _, vals := range f {
		for i, v := range vals {
			vals[i] = strings.ReplaceAll(v, "\r\n", "\n")
		}
	}
}

// mediaType is the media type of a Content-Type header, lower-cased
// (media types are case-insensitive, RFC 9110 §8.3.1): "" when there is
// none, "invalid" when it cannot be read.
func mediaType(header string) string {
	if strings.TrimSpace(header) == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(header)
	if err != nil {
		return "invalid"
	}
	return mt
}

// isJSONType reports whether a request body with this Content-Type may be
// read as JSON: none, application/json or any +json type, in UTF-8.
func isJSONType(header string) bool {
	mt := mediaType(header)
	if mt == "" {
		return true
	}
	if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return false
	}
	_, params, _ := mime.ParseMediaType(header)
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8")
}
