package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/intake"
)

// The case API: create, list and search, read, change, transition,
// comment, timeline (internal/cases).

func (s *Server) createCase(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	c, done, err := createIdempotent(s, w, r, a, func(in cases.CreateInput, within func(*db.Tx, *cases.Case) error) (*cases.Case, error) {
		return s.app.Cases.Create(r.Context(), a, in, within)
	})
	if done {
		return err
	}
	w.Header().Set("Location", "/api/v1/cases/"+strconv.FormatInt(c.ID, 10))
	writeJSON(w, http.StatusCreated, c)
	return nil
}

// listQueryKeys are the query parameters GET /cases understands (plus field.<key>).
var listQueryKeys = map[string]bool{"status": true, "team": true, "market": true, "priority": true, "owner": true,
	"seller_id": true, "category": true, "q": true, "sort": true, "cursor": true, "limit": true}

func (s *Server) listCases(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	f, perr := parseListFilter(r)
	f.Count = true
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
		switch {
		case err != nil:
			v.Add("limit", "must be a number")
		case n < 1:
			v.Add("limit", "must be between 1 and 200")
		default:
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
	v, err := s.caseView(r, a, c)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", caseETag(c))
	writeJSON(w, http.StatusOK, v)
	return nil
}

// caseView is a case as GET /cases/{ref} answers it: with the merge
// pointers of internal/merge and the repeat contacts of internal/intake.
type caseView struct {
	*cases.Case
	MergedInto  string        `json:"merged_into,omitempty"`  // the case this one was merged into
	MergedFrom  []string      `json:"merged_from,omitempty"`  // the cases merged into this one
	RepeatLinks []intake.Link `json:"repeat_links,omitempty"` // repeat contacts both ways (ui_merge.go)
}

func (s *Server) caseView(r *http.Request, a auth.Actor, c *cases.Case) (*caseView, error) {
	info, err := s.app.Merge.InfoOf(r.Context(), c)
	if err != nil {
		return nil, err
	}
	links, err := s.repeatLinks(r, a, c)
	if err != nil {
		return nil, err
	}
	v := &caseView{Case: c, MergedInto: info.MergedInto, RepeatLinks: links}
	for _, m := range info.MergedFrom {
		v.MergedFrom = append(v.MergedFrom, m.Case)
	}
	return v, nil
}

func (s *Server) updateCase(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in cases.UpdateInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := ifMatchVersion(r, &in.Version); err != nil {
		return err
	}
	c, err := s.app.Cases.Update(r.Context(), a, r.PathValue("ref"), in)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", caseETag(c))
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

// caseETag is the case's version as an entity tag: a client sends it back
// in If-Match with a PATCH so that a stale edit is refused (409).
func caseETag(c *cases.Case) string { return `"` + strconv.FormatInt(c.Version, 10) + `"` }

// ifMatchVersion reads If-Match ("3", or W/"3") into *version; a body's
// "version" that disagrees with it is a 400.
func ifMatchVersion(r *http.Request, version **int64) error {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		return nil
	}
	n, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
	if err != nil || n < 1 {
		return &apperr.Invalid{Errors: []apperr.FieldError{{Field: "If-Match",
			Message: `must be the case's ETag from GET, e.g. "3"`}}}
	}
	if *version != nil && **version != n {
		return &apperr.Invalid{Errors: []apperr.FieldError{{Field: "version", Message: "disagrees with If-Match"}}}
	}
	*version = &n
	return nil
}
