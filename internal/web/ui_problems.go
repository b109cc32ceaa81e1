package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/problems"
	"github.com/flare-desk/flare/internal/suggest"
)

// The problems pages (internal/problems): the list, a problem's page, and
// the case page's "Similar open cases" panel with the category suggestion
// (internal/suggest).

func (u *ui) addProblemFuncs(fm template.FuncMap) {
	fm["similarPanel"] = u.similarPanel
	fm["seesProblems"] = func(a *auth.Actor) bool { return a != nil && problems.SeesProblems(*a) }
	fm["pct"] = func(f float64) string { return strconv.Itoa(int(f*100+0.5)) + " %" }
	fm["trendSVG"] = trendSVG
}

// similarPanelView is the case page's panel.
type similarPanelView struct {
	Similar    *problems.SimilarView
	Suggestion *suggest.Suggestion
	Required   []desk.FieldDef // the suggested category's required fields the case lacks
	CanWrite   bool
	Open       []*problems.Problem // problems to link the case to
}

func (u *ui) similarPanel(me *auth.Actor, c *cases.Case) *similarPanelView {
	if me == nil || c == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), funcTimeout)
	defer cancel()
	v := &similarPanelView{CanWrite: me.Can(auth.PermCaseWrite)}
	if sg, err := u.s.app.Suggest.For(ctx, *me, c.Number); err == nil && sg != nil {
		v.Suggestion = sg
		if cfg, err := u.s.app.Desk.Config(ctx); err == nil {
			if cat, ok := cfg.Category(sg.Category); ok {
				for _, f := range cat.Fields {
					if _, has := c.Fields[f.Key]; f.Required && !has {
						v.Required = append(v.Required, f)
					}
				}
			}
		}
	}
	if !problems.SeesProblems(*me) {
		return v
	}
	sv, err := u.s.app.Problems.Similar(ctx, *me, c.Number)
	if err != nil {
		u.s.log.Warn("similar cases", "case", c.Number, "err", err)
		return v
	}
	v.Similar = sv
	if v.CanWrite && sv.Problem == nil {
		v.Open, _ = u.s.app.Problems.List(ctx, *me, problems.Filter{Status: []problems.Status{problems.Investigating,
			problems.KnownError, problems.FixInProgress}})
	}
	return v
}

func (u *ui) postAcceptSuggestion(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	return u.caseAction(w, r, a, "suggestion", func(ref string, f url.Values) error {
		fields := map[string]any{}
		for k, vs := range f {
			if key, ok := strings.CutPrefix(k, "field."); ok && len(vs) > 0 && strings.TrimSpace(vs[0]) != "" {
				fields[key] = strings.TrimSpace(vs[0])
			}
		}
		_, err := u.s.app.Suggest.Accept(r.Context(), a, ref, fields)
		return err
	})
}

type problemsData struct {
	Status   string
	Problems []*problems.Problem
	CanWrite bool
	Statuses []problems.Status
}

func (u *ui) problemsPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	st := r.URL.Query().Get("status")
	f := problems.Filter{}
	if st != "" {
		f.Status = []problems.Status{problems.Status(st)}
	}
	ps, err := u.s.app.Problems.List(r.Context(), a, f)
	if err != nil {
		return err
	}
	u.render(w, r, http.StatusOK, "problems", view{Me: &a, Title: "Problems", Nav: "problems",
		Data: problemsData{Status: st, Problems: ps, CanWrite: a.Can(auth.PermCaseWrite), Statuses: problems.Statuses}})
	return nil
}

type problemData struct {
	P        *problems.Problem
	CanWrite bool
	Statuses []problems.Status
	Error    string
}

func (u *ui) problemPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	return u.renderProblem(w, r, a, http.StatusOK, "")
}

func (u *ui) renderProblem(w http.ResponseWriter, r *http.Request, a auth.Actor, status int, msg string) error {
	id, err := problems.ParseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	p, err := u.s.app.Problems.Get(r.Context(), a, id)
	if err != nil {
		return err
	}
	u.render(w, r, status, "problem", view{Me: &a, Title: p.Title, Nav: "problems",
		Data: problemData{P: p, CanWrite: a.Can(auth.PermCaseWrite), Statuses: problems.Statuses, Error: msg}})
	return nil
}

// problemAction runs a form post on a problem: on success to next (or the
// problem's page), on a 4xx the problem's page with the message.
func (u *ui) problemAction(w http.ResponseWriter, r *http.Request, a auth.Actor, do func(id int64, f url.Values) error) error {
	id, err := problems.ParseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	if err := do(id, r.PostForm); err != nil {
		p := toProblem(err)
		if p.Status >= 500 || p.Status == http.StatusNotFound || p.Status == http.StatusUnauthorized {
			return err
		}
		msg := p.Detail
		if len(p.Errors) > 0 {
			msg = fieldErrorsText(p.Errors)
		}
		return u.renderProblem(w, r, a, p.Status, msg)
	}
	next := "/problems/" + strconv.FormatInt(id, 10)
	if n := r.PostForm.Get("next"); n != "" {
		next = safeNext(n)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (u *ui) postProblem(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	return u.problemAction(w, r, a, func(id int64, f url.Values) error {
		in := problems.Input{}
		str := func(key string) *string {
			if !f.Has(key) {
				return nil
			}
			v := f.Get(key)
			return &v
		}
		in.Title, in.RootCause, in.Owner = str("title"), str("root_cause"), str("owner")
		if st := f.Get("status"); st != "" {
			s := problems.Status(st)
			in.Status = &s
		}
		if f.Has("action_text") {
			in.Action = &problems.ActionInput{Text: f.Get("action_text"), Owner: f.Get("action_owner"), Due: f.Get("action_due")}
		}
		_, err := u.s.app.Problems.Update(r.Context(), a, id, in)
		return err
	})
}

func (u *ui) postProblemLink(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	return u.problemAction(w, r, a, func(id int64, f url.Values) error {
		_, err := u.s.app.Problems.Link(r.Context(), a, id, f.Get("case"))
		return err
	})
}

// postLinkFromCase links a case to the problem chosen on its page.
func (u *ui) postLinkFromCase(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	r.SetPathValue("id", r.PostForm.Get("problem"))
	return u.postProblemLink(w, r, a)
}

func (u *ui) postProblemUnlink(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	return u.problemAction(w, r, a, func(id int64, f url.Values) error {
		_, err := u.s.app.Problems.Unlink(r.Context(), a, id, f.Get("case"))
		return err
	})
}

// postNewProblem opens a problem from the similar panel's checked cases.
func (u *ui) postNewProblem(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	title := r.PostForm.Get("title")
	p, err := u.s.app.Problems.Create(r.Context(), a, problems.Input{Title: &title, Owner: &a.Email, Cases: r.PostForm["cases"]})
	if err != nil {
		var inv *apperr.Invalid
		var conflict *apperr.Conflict
		if from := r.PostForm.Get("from"); from != "" && (errors.As(err, &inv) || errors.As(err, &conflict)) {
			c, gerr := u.s.app.Cases.Get(r.Context(), a, from)
			if gerr != nil {
				return gerr
			}
			p := toProblem(err)
			msg := p.Detail
			if len(p.Errors) > 0 {
				msg = fieldErrorsText(p.Errors)
			}
			return u.renderCase(w, r, a, c, p.Status, "similar", msg, r.PostForm)
		}
		return err
	}
	http.Redirect(w, r, "/problems/"+strconv.FormatInt(p.ID, 10), http.StatusSeeOther)
	return nil
}

// trendSVG draws cases per day as bars, server-side.
func trendSVG(days []problems.DayCount) template.HTML {
	const w, h, pad = 600, 120, 18
	if len(days) == 0 {
		return ""
	}
	top := 1
	for _, d := range days {
		top = max(top, d.Count)
	}
	bw := float64(w) / float64(len(days))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="trend" viewBox="0 0 %d %d" width="100%%" role="img" aria-label="Linked cases per day">`, w, h+pad)
	for i, d := range days {
		bh := float64(h-4) * float64(d.Count) / float64(top)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#c2410c"><title>%s: %d</title></rect>`,
			float64(i)*bw+1, float64(h)-bh, max(bw-2, 1), bh, d.Day, d.Count)
	}
	fmt.Fprintf(&b, `<line x1="0" y1="%d" x2="%d" y2="%d" stroke="#999"/>`, h, w, h)
	fmt.Fprintf(&b, `<text x="0" y="%d" font-size="11" fill="#666">%s</text>`, h+pad-4, days[0].Day)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="#666" text-anchor="end">%s · most %d a day</text>`, w, h+pad-4,
		days[len(days)-1].Day, top)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // built from dates and counts only
}
