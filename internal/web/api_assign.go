package web

import (
	"net/http"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
)

// Assignment endpoints: take-next, a team's agents, away status.

func (s *Server) takeNext(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	c, err := s.app.Cases.TakeNext(r.Context(), a, r.PathValue("team"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) teamAgents(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	agents, err := s.app.Cases.Agents(r.Context(), a, r.PathValue("team"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"agents": agents})
	return nil
}

func (s *Server) setAway(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in cases.AwayInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.app.Cases.SetAway(r.Context(), a, r.PathValue("email"), in); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"email": r.PathValue("email"), "away": in.Away, "note": in.Note, "until": in.Until})
	return nil
}
