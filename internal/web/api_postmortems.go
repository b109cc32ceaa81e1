package web

import (
	"net/http"
	"strconv"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/postmortems"
)

// The postmortems API (internal/postmortems): an incident's postmortem —
// start it from the template, edit its sections, send it for review,
// publish it — and the action items, per incident and across them.

func (s *Server) getPostmortem(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	p, err := s.app.Postmortems.Get(r.Context(), a, r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) startPostmortem(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	p, done, err := createIdempotent(s, w, r, a, func(_ struct{}, within func(*db.Tx, *postmortems.Postmortem) error) (*postmortems.Postmortem, error) {
		return s.app.Postmortems.Start(r.Context(), a, r.PathValue("ref"), within)
	})
	if done {
		return err
	}
	w.Header().Set("Location", "/api/v1/incidents/"+p.Incident+"/postmortem")
	writeJSON(w, http.StatusCreated, p)
	return nil
}

func (s *Server) editPostmortem(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in postmortems.EditInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p, err := s.app.Postmortems.Edit(r.Context(), a, r.PathValue("ref"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) transitionPostmortem(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in postmortems.TransitionInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p, err := s.app.Postmortems.Transition(r.Context(), a, r.PathValue("ref"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) incidentActionItems(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	v := &apperr.Invalid{}
	queryKeys(r.URL.Query(), v, "state")
	if err := v.Err(); err != nil {
		return err
	}
	items, err := s.app.Postmortems.IncidentItems(r.Context(), a, r.PathValue("ref"), r.URL.Query().Get("state"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"action_items": items})
	return nil
}

func (s *Server) createActionItem(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	it, done, err := createIdempotent(s, w, r, a, func(in postmortems.ItemInput, within func(*db.Tx, *postmortems.ActionItem) error) (*postmortems.ActionItem, error) {
		return s.app.Postmortems.CreateItem(r.Context(), a, r.PathValue("ref"), in, within)
	})
	if done {
		return err
	}
	w.Header().Set("Location", "/api/v1/action-items/"+strconv.FormatInt(it.ID, 10))
	writeJSON(w, http.StatusCreated, it)
	return nil
}

// listActionItems is GET /action-items?team=…&owner=…&mine=true&state=overdue.
func (s *Server) listActionItems(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	q := r.URL.Query()
	v := &apperr.Invalid{}
	queryKeys(q, v, "team", "owner", "mine", "state", "limit")
	f := postmortems.Filter{Team: q.Get("team"), Owner: q.Get("owner"), State: q.Get("state")}
	if boolParam(q.Get("mine"), "mine", v) {
		f.Owner = a.Email
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			v.Add("limit", "must be a positive number")
		}
		f.Limit = n
	}
	if err := v.Err(); err != nil {
		return err
	}
	items, err := s.app.Postmortems.ListItems(r.Context(), a, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"action_items": items})
	return nil
}

func (s *Server) getActionItem(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	it, err := s.app.Postmortems.Item(r.Context(), a, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, it)
	return nil
}

func (s *Server) updateActionItem(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in postmortems.ItemPatch
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	it, err := s.app.Postmortems.UpdateItem(r.Context(), a, id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, it)
	return nil
}
