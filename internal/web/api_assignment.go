package web

import (
	"net/http"

	"github.com/flare-desk/flare/internal/assignment"
	"github.com/flare-desk/flare/internal/auth"
)

// Assignment endpoints: take-next, a team's agents, away status.

func (s *Server) takeNext(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	c, err := s.app.Assignment.TakeNext(r.Context(), a, r.PathValue("team"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) teamAgents(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	agents, err := s.app.Assignment.Agents(r.Context(), a, r.PathValue("team"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"agents": agents})
	return nil
}

func (s *Server) setAway(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in assignment.AwayInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.app.Assignment.SetAway(r.Context(), a, r.PathValue("email"), in); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"email": r.PathValue("email"), "away": in.Away, "note": in.Note, "until": in.Until})
	return nil
}
