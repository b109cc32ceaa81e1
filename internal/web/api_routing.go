package web

import (
	"net/http"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
)

// explainRouting answers "what do the score and the rules make of this
// case?": for a case body (as POST /cases takes) as if created now, or with
// ?case=ESC-12 for a stored case as its last assessment decided it (the
// facts it read then), so that it agrees with the case's priority reasons.
// Nothing is written.
func (s *Server) explainRouting(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var x *cases.Explanation
	var err error
	if ref := r.URL.Query().Get("case"); ref != "" {
		x, err = s.app.Cases.ExplainCase(r.Context(), a, ref)
	} else {
		var in cases.CreateInput
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
		x, err = s.app.Cases.ExplainNew(r.Context(), a, in)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, x)
	return nil
}
