package web

import (
	"net/http"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/views"
)

// Saved views (internal/views): GET /views lists the caller's own and their
// teams' views with live counts; the owner creates, changes and deletes.

func (s *Server) listViews(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	vs, err := s.app.Views.List(r.Context(), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"views": vs})
	return nil
}

func (s *Server) createView(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in views.Input
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	v, err := s.app.Views.Create(r.Context(), a, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) getView(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	v, err := s.app.Views.Get(r.Context(), a, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) updateView(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in views.Input
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	v, err := s.app.Views.Update(r.Context(), a, id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) deleteView(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.app.Views.Delete(r.Context(), a, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
