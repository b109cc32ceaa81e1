package web

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/escalation"
)

// The escalation API (internal/escalation): escalate a case by hand,
// acknowledge an escalation, de-escalate, a case's escalations and the
// open-escalations list.

func (s *Server) escalateCase(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	e, done, err := createIdempotent(s, w, r, a, func(in escalation.Input, within func(*db.Tx, *escalation.Escalation) error) (*escalation.Escalation, error) {
		return s.app.Escalation.Escalate(r.Context(), a, r.PathValue("ref"), in, within)
	})
	if done {
		return err
	}
	w.Header().Set("Location", "/api/v1/cases/"+e.Case+"/escalations")
	writeJSON(w, http.StatusCreated, e)
	return nil
}

func (s *Server) caseEscalations(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	v, err := s.app.Escalation.ForCase(r.Context(), a, r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) ackEscalation(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return apperr.ErrNotFound
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(body))) > 0 { // no body, or {}
		if err := checkJSONType(r); err != nil {
			return err
		}
		if err := unmarshalStrict(body, &struct{}{}); err != nil {
			return err
		}
	}
	e, err := s.app.Escalation.Acknowledge(r.Context(), a, r.PathValue("ref"), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (s *Server) deescalateCase(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in escalation.DeescalateInput
	if _, err := readJSON(r, &in); err != nil {
		return err
	}
	v, err := s.app.Escalation.Deescalate(r.Context(), a, r.PathValue("ref"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// escalationQueryKeys are the query parameters GET /escalations understands.
var escalationQueryKeys = map[string]bool{"state": true, "team": true, "level": true, "mine": true, "cursor": true, "limit": true}

func (s *Server) listEscalations(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	f, perr := parseEscalationFilter(r.URL.Query())
	page, err := s.app.Escalation.List(r.Context(), a, f)
	if err := mergeInvalid(perr, err); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// parseEscalationFilter reads GET /escalations' query parameters.
func parseEscalationFilter(q url.Values) (escalation.Filter, error) {
	v := &apperr.Invalid{}
	for k := range q {
		if !escalationQueryKeys[k] {
			v.Add(k, "unknown query parameter")
		}
	}
	f := escalation.Filter{Team: splitList(q["team"]), Cursor: q.Get("cursor")}
	for _, st := range splitList(q["state"]) {
		sts := []escalation.State{escalation.State(st)}
		if st == "active" {
			sts = escalation.Active
		}
		for _, x := range sts {
			if !slices.Contains(f.State, x) {
				f.State = append(f.State, x)
			}
		}
	}
	f.Mine = boolParam(q.Get("mine"), "mine", v)
	num := func(key string, dst *int) {
		if s := q.Get(key); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				v.Add(key, "must be a positive number")
				return
			}
			*dst = n
		}
	}
	num("level", &f.Level)
	num("limit", &f.Limit)
	return f, v.Err()
}
