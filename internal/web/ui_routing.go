package web

import (
	"net/http"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/desk"
)

// The routing explain page: for admins and leads, what the score and the
// rules make of a case, rule by rule (internal/routing).

// explainData is the routing explanation page.
type explainData struct {
	Case *cases.Case
	X    *cases.Explanation
	Desk *desk.Config
}

func (u *ui) explainPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	ref := r.URL.Query().Get("case")
	x, err := u.s.app.Cases.ExplainCase(r.Context(), a, ref)
	if err != nil {
		return err
	}
	c, err := u.s.app.Cases.Get(r.Context(), a, ref)
	if err != nil {
		return err
	}
	cfg, err := u.s.app.Desk.Config(r.Context())
	if err != nil {
		return err
	}
	u.render(w, r, http.StatusOK, "explain", view{Me: &a, Title: "Routing of " + c.Number, Nav: "queue",
		Data: explainData{Case: c, X: x, Desk: cfg}})
	return nil
}
