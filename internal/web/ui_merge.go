package web

import (
	"cmp"
	"net/http"
	"net/url"
	"strings"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/intake"
	"github.com/flare-desk/flare/internal/merge"
)

// Merging on the case page (internal/merge): the form asks for the case to
// merge into and a reason, then shows what the merge will do and asks to
// confirm; only the confirmed post merges.

// mergeConfirm is the confirmation the case page shows before a merge.
type mergeConfirm struct {
	Into   *cases.Case
	Reason string
}

// caseMergeData is what the case page shows of merges and repeat
// contacts (intake's links).
type caseMergeData struct {
	Info    *merge.Info
	Repeats []intake.Link // the links to cases the reader may see
	Confirm *mergeConfirm
	CanDo   bool // the reader may merge this case
}

// RepeatOf is the case this one repeats, if it does.
func (d caseMergeData) RepeatOf() []intake.Link { return d.links("repeat_of") }

// RepeatedBy are the cases that repeat this one.
func (d caseMergeData) RepeatedBy() []intake.Link { return d.links("repeated_by") }

func (d caseMergeData) links(dir string) []intake.Link {
	var out []intake.Link
	for _, l := range d.Repeats {
		if l.Direction == dir {
			out = append(out, l)
		}
	}
	return out
}

func (u *ui) caseMerges(r *http.Request, a auth.Actor, c *cases.Case) (caseMergeData, error) {
	info, err := u.s.app.Merge.InfoOf(r.Context(), c)
	if err != nil {
		return caseMergeData{}, err
	}
	d := caseMergeData{Info: info, CanDo: a.Can(auth.PermCaseWrite) && !cases.PublicOnly(a) && c.Status != cases.StatusClosed}
	if d.Repeats, err = u.s.repeatLinks(r, a, c); err != nil {
		return caseMergeData{}, err
	}
	return d, nil
}

// repeatLinks are the case's repeat contacts that a may see (none on the
// public side: they are the desk's workflow).
func (s *Server) repeatLinks(r *http.Request, a auth.Actor, c *cases.Case) ([]intake.Link, error) {
	if cases.PublicOnly(a) {
		return nil, nil
	}
	links, err := s.app.Intake.Links(r.Context(), c.ID)
	if err != nil {
		return nil, err
	}
	out := links[:0]
	for _, l := range links {
		other, err := s.app.Cases.Find(r.Context(), s.app.DB, l.Case)
		if err != nil {
			return nil, err
		}
		if s.app.Cases.CanSee(r.Context(), a, other) {
			out = append(out, l)
		}
	}
	return out, nil
}

func (u *ui) postMerge(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	f := r.PostForm
	in := merge.Input{Into: strings.ToUpper(strings.TrimSpace(f.Get("into"))), Reason: f.Get("reason")}
	doMerge := func(ref string, _ url.Values) error {
		_, err := u.s.app.Merge.Merge(r.Context(), a, ref, in)
		return err
	}
	if f.Get("confirm") != "" {
		return u.caseAction(w, r, a, "merge", doMerge)
	}
	// The first post asks to confirm, unless the input is refused anyway
	// (no reason, an unknown case, the case itself): then Merge says why.
	c, err := u.s.app.Cases.Get(r.Context(), a, r.PathValue("ref"))
	if err != nil {
		return err
	}
	into, err := u.s.app.Cases.Get(r.Context(), a, in.Into)
	if err != nil || strings.TrimSpace(in.Reason) == "" || into.ID == c.ID {
		return u.caseAction(w, r, a, "merge", doMerge)
	}
	return u.renderCaseWith(w, r, a, c, http.StatusOK, func(d *caseData) {
		d.Merge.Confirm = &mergeConfirm{Into: into, Reason: strings.TrimSpace(in.Reason)}
	})
}

// renderMergedBodies renders the comments a merge copied into the case.
func (u *ui) renderMergedBodies(evs []cases.Event) {
	for i := range evs {
		e := &evs[i]
		if e.Type != merge.EntryCopied {
			continue
		}
		if body, ok := e.Data["body"].(string); ok {
			e.Data["body_html"] = u.s.app.Cases.Markdown().HTML(body)
		}
		if mail, _ := e.Data["from_email"].(string); mail != "" && e.Actor == nil {
			name, _ := e.Data["from_name"].(string)
			e.Actor, e.ActorName = &mail, cmp.Or(name, mail)
		}
	}
}
