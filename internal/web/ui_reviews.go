package web

import (
	"html/template"
	"net/http"
	"strconv"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/reviews"
)

// The review packs' pages: the history and one pack, shown in the desk's
// layout with the same HTML its mail carries.

func (u *ui) addReviewFuncs(fm template.FuncMap) {
	fm["seesPacks"] = func(a *auth.Actor) bool { return a != nil && a.Can(auth.PermReportRead) }
}

type packsData struct {
	Packs []reviews.Summary
}

func (u *ui) packsPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	l, err := u.s.app.Reviews.List(r.Context(), a, r.URL.Query().Get("cadence"))
	if err != nil {
		return err
	}
	u.render(w, r, http.StatusOK, "packs", view{Me: &a, Title: "Review packs", Nav: "packs", Data: packsData{Packs: l}})
	return nil
}

type packData struct {
	ID   int64
	Pack *reviews.Pack
	Body template.HTML
}

func (u *ui) packPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return apperr.InvalidField("id", "must be a pack's id")
	}
	p, err := u.s.app.Reviews.Get(r.Context(), a, id)
	if err != nil {
		return err
	}
	body, err := reviews.RenderFragment(p)
	if err != nil {
		return err
	}
	u.render(w, r, http.StatusOK, "pack", view{Me: &a, Title: p.Title, Nav: "packs", Data: packData{ID: id, Pack: p, Body: body}})
	return nil
}
