package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/idempotency"
)

func (s *Server) apiRoutes() {
	s.mux.HandleFunc("GET /api/v1/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	})
	s.api("GET", "/me", s.me)
	s.api("POST", "/cases", s.createCase)
	s.api("GET", "/cases", s.listCases)
	s.api("GET", "/cases/{ref}", s.getCase)
	s.api("PATCH", "/cases/{ref}", s.updateCase)
	s.api("POST", "/cases/{ref}/transitions", s.transitionCase)
	s.api("POST", "/cases/{ref}/comments", s.commentCase)
	s.api("GET", "/cases/{ref}/events", s.caseEvents)
	s.api("GET", "/desk", s.getDesk)
	s.api("PUT", "/desk", s.putDesk)
	s.api("GET", "/audit", s.listAudit)
	s.api("GET", "/calendars", s.listCalendars)
	s.api("GET", "/calendars/{key}/due", s.calendarDue)
	s.api("GET", "/calendars/{key}/between", s.calendarBetween)
	s.api("GET", "/sla/breaches", s.slaEvents)
	s.api("POST", "/teams/{team}/take-next", s.takeNext)
	s.api("GET", "/teams/{team}/agents", s.teamAgents)
	s.api("PUT", "/agents/{email}/away", s.setAway)
	s.api("POST", "/routing/explain", s.explainRouting)
	s.api("GET", "/admin/subscribers", s.eventSubscribers)
	s.api("GET", "/admin/deliveries", s.listDeliveries)
	s.api("POST", "/admin/deliveries/replay", s.replayDeliveries)
	s.handoffRoutes() // api_handoffs.go
	for _, m := range apiMethods {
		s.mux.HandleFunc(m+" /api/", s.apiFallback)
	}
}

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

func (s *Server) createCase(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in cases.CreateInput
	body, err := readJSON(r, &in)
	if err != nil {
		return err
	}
	save, replayed, err := s.idempotent(w, r, a, body)
	if err != nil || replayed {
		return err
	}
	var within cases.Within
	if save != nil {
		within = func(tx *db.Tx, c *cases.Case) error { return save(tx, c) }
	}
	c, err := s.app.Cases.Create(r.Context(), a, in, within)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/cases/"+strconv.FormatInt(c.ID, 10))
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func checkJSONType(r *http.Request) error {
	if !isJSONType(r.Header.Get("Content-Type")) {
		return problem(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type", "Send the body as application/json.")
	}
	return nil
}

// listQueryKeys are the query parameters GET /cases understands (plus field.<key>).
var listQueryKeys = map[string]bool{"status": true, "team": true, "market": true, "priority": true, "owner": true,
	"seller_id": true, "category": true, "q": true, "sort": true, "cursor": true, "limit": true}

func (s *Server) listCases(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	f, perr := parseListFilter(r)
	page, err := s.app.Cases.List(r.Context(), a, f)
	if err := mergeInvalid(perr, err); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func parseListFilter(r *http.Request) (cases.ListFilter, error) {
	q := r.URL.Query()
	v := &apperr.Invalid{}
	for k := range q {
		if !listQueryKeys[k] && !strings.HasPrefix(k, "field.") {
			v.Add(k, "unknown query parameter")
		}
	}
	list := func(k string) []string { return splitList(q[k]) }
	f := cases.ListFilter{Team: list("team"), Market: list("market"), Priority: list("priority"),
		Owner: q.Get("owner"), SellerID: q.Get("seller_id"), Category: q.Get("category"), Q: q.Get("q"),
		Sort: q.Get("sort"), Cursor: q.Get("cursor")}
	for _, st := range list("status") {
		f.Status = append(f.Status, cases.Status(st))
	}
	for i, m := range f.Market {
		f.Market[i] = strings.ToUpper(m)
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil {
			v.Add("limit", "must be a number")
		}
		if err == nil && n == 0 {
			v.Add("limit", "must be between 1 and 200")
		}
		if n > 0 {
			f.Limit = n
		}
	}
	for k := range q {
		if key, ok := strings.CutPrefix(k, "field."); ok {
			if f.Fields == nil {
				f.Fields = map[string]string{}
			}
			f.Fields[key] = q.Get(k)
		}
	}
	return f, v.Err()
}

func (s *Server) getCase(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	c, err := s.app.Cases.Get(r.Context(), a, r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) updateCase(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in cases.UpdateInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	c, err := s.app.Cases.Update(r.Context(), a, r.PathValue("ref"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) transitionCase(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in cases.TransitionInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	c, err := s.app.Cases.Transition(r.Context(), a, r.PathValue("ref"), in)
	if err != nil {
		var cf *apperr.Conflict
		if errors.As(err, &cf) {
			p := problem(http.StatusConflict, "illegal-transition", "Illegal status change", cf.Detail)
			if cur, gerr := s.app.Cases.Get(r.Context(), a, r.PathValue("ref")); gerr == nil {
				for _, st := range cur.Status.Allowed() {
					p.Allowed = append(p.Allowed, string(st))
				}
				if p.Allowed == nil {
					p.Allowed = []string{}
				}
			}
			return p
		}
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) commentCase(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in cases.CommentInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	c, err := s.app.Cases.AddComment(r.Context(), a, r.PathValue("ref"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) caseEvents(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	evs, err := s.app.Cases.Events(r.Context(), a, r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs})
	return nil
}

// getDesk returns the desk configuration as JSON, or as YAML when asked
// (Accept: application/yaml or ?format=yaml) — the same document `flare desk export` writes.
func (s *Server) getDesk(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	cfg, err := s.app.Desk.ExportFor(r.Context(), a)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") == "yaml" || strings.Contains(r.Header.Get("Accept"), "yaml") {
		b, err := desk.Marshal(cfg)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(b)
		return nil
	}
	writeJSON(w, http.StatusOK, cfg)
	return nil
}

// putDesk replaces the desk configuration with a YAML (or JSON) document;
// ?dry_run=true validates without applying.
func (s *Server) putDesk(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	switch mediaType(r.Header.Get("Content-Type")) {
	case "application/yaml", "application/x-yaml", "text/yaml", "application/json", "":
	default:
		return problem(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type", "Send the desk document as application/yaml (JSON is YAML too).")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	dry := r.URL.Query().Get("dry_run") == "true"
	res, err := s.app.Desk.ApplyDocument(r.Context(), a, s.app.Clock.Now(), body, dry)
	if err != nil {
		return err
	}
	if dry {
		writeJSON(w, http.StatusOK, map[string]any{"valid": true})
		return nil
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	q := r.URL.Query()
	f := audit.Filter{ObjectType: q.Get("object_type"), ObjectID: q.Get("object_id")}
	v := &apperr.Invalid{}
	num := func(k string) int64 {
		if q.Get(k) == "" {
			return 0
		}
		n, err := strconv.ParseInt(q.Get(k), 10, 64)
		if err != nil || n < 0 {
			v.Add(k, "must be a positive number")
		}
		return n
	}
	f.ActorID, f.BeforeSeq, f.Limit = num("actor_id"), num("before"), int(num("limit"))
	recs, err := audit.ListFor(r.Context(), s.app.DB, a, f)
	if err := mergeInvalid(v.Err(), err); err != nil {
		return err
	}
	if recs == nil {
		recs = []audit.Record{} // an empty page is [], not null
	}
	out := map[string]any{"records": recs}
	if len(recs) > 0 && recs[len(recs)-1].Seq > 1 {
		out["next_before"] = recs[len(recs)-1].Seq
	}
	writeJSON(w, http.StatusOK, out)
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
