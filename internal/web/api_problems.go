package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/problems"
)

// The problems API (internal/problems): similar open cases, problem
// records and their linked cases, the review query; and the category
// suggestion of a case (internal/suggest).

func (s *Server) similarCases(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	v, err := s.app.Problems.Similar(r.Context(), a, r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) caseSuggestion(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	sg, err := s.app.Suggest.For(r.Context(), a, r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"suggestion": sg})
	return nil
}

func (s *Server) acceptSuggestion(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in struct {
		Fields map[string]any `json:"fields"`
	}
	if _, err := readJSON(r, &in); err != nil {
		return err
	}
	c, err := s.app.Suggest.Accept(r.Context(), a, r.PathValue("ref"), in.Fields)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) listProblems(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	f, perr := parseProblemFilter(r.URL.Query())
	ps, err := s.app.Problems.List(r.Context(), a, f)
	if err := mergeInvalid(perr, err); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"problems": ps})
	return nil
}

func parseProblemFilter(q url.Values) (problems.Filter, error) {
	v := &apperr.Invalid{}
	var f problems.Filter
	for k := range q {
		if k != "status" {
			v.Add(k, "unknown query parameter")
		}
	}
	for _, st := range splitList(q["status"]) {
		if !slices.Contains(problems.Statuses, problems.Status(st)) {
			v.Add("status", "unknown status %q", st)
			continue
		}
		f.Status = append(f.Status, problems.Status(st))
	}
	return f, v.Err()
}

func (s *Server) createProblem(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in problems.Input
	if _, err := readJSON(r, &in); err != nil {
		return err
	}
	p, err := s.app.Problems.Create(r.Context(), a, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/problems/"+strconv.FormatInt(p.ID, 10))
	writeJSON(w, http.StatusCreated, p)
	return nil
}

func (s *Server) getProblem(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := problems.ParseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	p, err := s.app.Problems.Get(r.Context(), a, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) updateProblem(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := problems.ParseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	var in problems.Input
	if _, err := readJSON(r, &in); err != nil {
		return err
	}
	p, err := s.app.Problems.Update(r.Context(), a, id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) linkProblemCase(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := problems.ParseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	var in struct {
		Case string `json:"case"`
	}
	if _, err := readJSON(r, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Case) == "" {
		return apperr.InvalidField("case", "is required")
	}
	p, err := s.app.Problems.Link(r.Context(), a, id, in.Case)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) unlinkProblemCase(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := problems.ParseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	p, err := s.app.Problems.Unlink(r.Context(), a, id, r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// problemReview is GET /problems/review?from=…&to=… (RFC 3339 or dates;
// default: the last 30 days).
func (s *Server) problemReview(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	q := r.URL.Query()
	v := &apperr.Invalid{}
	for k := range q {
		if k != "from" && k != "to" {
			v.Add(k, "unknown query parameter")
		}
	}
	to := s.app.Clock.Now()
	from := to.AddDate(0, 0, -30)
	read := func(key string, dst *time.Time) {
		x := q.Get(key)
		if x == "" {
			return
		}
		if t, err := time.Parse(time.RFC3339, x); err == nil {
			*dst = t
		} else if t, err := time.Parse(time.DateOnly, x); err == nil {
			*dst = t
		} else {
			v.Add(key, "must be an RFC 3339 instant or a date")
		}
	}
	read("from", &from)
	read("to", &to)
	if !from.Before(to) {
		v.Add("to", "must be after from")
	}
	if err := v.Err(); err != nil {
		return err
	}
	rv, err := s.app.Problems.Review(r.Context(), a, from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rv)
	return nil
}
