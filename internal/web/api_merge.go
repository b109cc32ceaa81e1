package web

import (
	"net/http"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/merge"
)

// Merging cases (internal/merge): POST /cases/{ref}/merge folds the case
// into another; GET /cases/{ref}/merges shows what a case was merged into
// and what was merged into it.

func (s *Server) mergeCase(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in merge.Input
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.app.Merge.Merge(r.Context(), a, r.PathValue("ref"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) caseMerges(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	info, err := s.app.Merge.ForCase(r.Context(), a, r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}
