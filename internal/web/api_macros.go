package web

import (
	"net/http"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/input"
)

// Macros (internal/macros): the desk's saved replies and multi-action
// macros (the desk document's `macros` section), those a case offers with
// their text filled in, and applying one (If-Match: the case's ETag, to
// refuse a stale page).

func (s *Server) listMacros(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	ms, err := s.app.Macros.List(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"macros": ms})
	return nil
}

func (s *Server) caseMacros(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	ps, err := s.app.Macros.ForCase(r.Context(), a, r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"macros": ps})
	return nil
}

func (s *Server) applyMacro(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in struct {
		Version *int64 `json:"version"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
	}
	if err := ifMatchVersion(r, &in.Version); err != nil {
		return err
	}
	key := r.PathValue("key")
	if input.Key.Problem(key) != "" {
		return apperr.ErrNotFound
	}
	res, err := s.app.Macros.Apply(r.Context(), a, r.PathValue("ref"), key, in.Version)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", caseETag(res.Case))
	writeJSON(w, http.StatusOK, res)
	return nil
}
