package web

import (
	"net/http"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/bulk"
)

// POST /cases/bulk (internal/bulk): one action on many cases, each through
// its single-case service; 200 with per-case outcomes even when some were
// refused, 4xx only when the request as a whole is bad.
func (s *Server) bulkCases(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in bulk.Input
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.app.Bulk.Apply(r.Context(), a, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
