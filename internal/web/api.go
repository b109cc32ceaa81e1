package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/idempotency"
)

var apiMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// apiFallback answers API requests no route takes: 405 (with Allow) when
// the path exists for other methods, else 404 — as problem JSON.
func (s *Server) apiFallback(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range apiMethods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != m+" /api/" && strings.HasPrefix(pattern, m+" /api/") {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		writeProblem(w, r, s.log, problem(http.StatusNotFound, "not-found", "Not found", "No such endpoint; see /api/v1/openapi.json."))
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeProblem(w, r, s.log, problem(http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed",
		r.Method+" is not supported here; use "+strings.Join(allow, ", ")+"."))
}

func (s *Server) me(w http.ResponseWriter, _ *http.Request, a auth.Actor) error {
	perms := []auth.Permission{}
	for _, p := range auth.Permissions {
		if a.Can(p) {
			perms = append(perms, p)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": a.UserID, "email": a.Email, "name": a.Name, "role": a.Role,
		"teams": nonNil(a.Teams), "markets": nonNil(a.Markets), "permissions": perms})
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func checkJSONType(r *http.Request) error {
	if !isJSONType(r.Header.Get("Content-Type")) {
		return problem(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type", "Send the body as application/json.")
	}
	return nil
}

// splitList reads repeated and comma-separated query values.
func splitList(vals []string) []string {
	var out []string
	for _, x := range vals {
		for _, p := range strings.Split(x, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// mergeInvalid reports a query's problems (perr, from parsing it) together
// with the service's answer to what could be parsed.
func mergeInvalid(perr, err error) error {
	var pinv, sinv *apperr.Invalid
	if !errors.As(perr, &pinv) {
		return err
	}
	if errors.As(err, &sinv) {
		pinv.Errors = append(pinv.Errors, sinv.Errors...)
	}
	return pinv
}

// createIdempotent runs a create whose body is In: it reads the body
// strictly, answers a repeated Idempotency-Key with the stored response
// (done), and otherwise runs create with the within that stores the 201
// answer in the create's own transaction (nil without a key). done is set
// when the request has been answered or failed: return err then.
func createIdempotent[In, Out any](s *Server, w http.ResponseWriter, r *http.Request, a auth.Actor,
	create func(in In, within func(tx *db.Tx, out Out) error) (Out, error)) (out Out, done bool, err error) {
	var in In
	body, err := readJSON(r, &in)
	if err != nil {
		return out, true, err
	}
	save, replayed, err := s.idempotent(w, r, a, body)
	if err != nil || replayed {
		return out, true, err
	}
	var within func(tx *db.Tx, out Out) error
	if save != nil {
		within = func(tx *db.Tx, v Out) error { return save(tx, v) }
	}
	out, err = create(in, within)
	return out, err != nil, err
}

// idempotent honours an Idempotency-Key on a create: a request seen before
// gets its stored response again (replayed); otherwise save, when a key was
// given, stores the 201 response in the create's own transaction.
func (s *Server) idempotent(w http.ResponseWriter, r *http.Request, a auth.Actor, body []byte) (save func(tx *db.Tx, v any) error, replayed bool, err error) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		return nil, false, nil
	}
	if !idempotency.Valid(key) {
		return nil, false, badRequest("Idempotency-Key must be 1–255 printable ASCII characters.")
	}
	k := idempotency.NewKey(a.UserID, key, r.Method, r.URL.Path, body)
	stored, err := idempotency.Lookup(r.Context(), s.app.DB, k)
	if err != nil {
		return nil, false, err
	}
	if stored != nil {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(stored.Status)
		_, _ = w.Write(stored.Body)
		return nil, true, nil
	}
	return func(tx *db.Tx, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		return idempotency.Save(r.Context(), tx, s.app.Clock.Now(), k, http.StatusCreated, append(b, '\n'))
	}, false, nil
}

// pathID reads a positive {id} path value; anything else is a 404.
// pathID reads the path's {id}: a positive number, else not found.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.ErrNotFound
	}
	return id, nil
}
