package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/attachments"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/input"
	"github.com/flare-desk/flare/internal/portal"
)

// The account-manager portal's pages (internal/portal): the home page with
// the requester's requests and their sellers' open cases, the form that
// raises a request, and a request's page with its public conversation.

func (u *ui) addPortalFuncs(funcs template.FuncMap) {
	funcs["portalHTML"] = func(s string) template.HTML {
		return template.HTML(s) //nolint:gosec // rendered and sanitised by cases.Markdown
	}
	funcs["usesPortal"] = func(a *auth.Actor) bool { return a != nil && portal.Uses(*a) }
}

type portalHomeData struct {
	Mine, Sellers []portal.Item
	HasSellers    bool
}

func (u *ui) portalPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	ctx := r.Context()
	mine, err := u.s.app.Portal.List(ctx, a, portal.ListMine)
	if err != nil {
		return err
	}
	d := portalHomeData{Mine: mine, HasSellers: a.Role == auth.RoleAccountManager}
	if d.HasSellers {
		if d.Sellers, err = u.s.app.Portal.List(ctx, a, portal.ListSellers); err != nil {
			return err
		}
	}
	u.render(w, r, http.StatusOK, "portal", view{Me: &a, Title: "Your requests", Nav: "portal", Data: d})
	return nil
}

// portalNewData is the request form; its field names are the new-case
// form's, so the category fields part is shared (part_fields.html).
type portalNewData struct {
	newCaseData
	SellerList  []portal.Seller
	Attachments bool // the form takes files
}

func (u *ui) portalNewPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	form := url.Values{"token": {newToken()}}
	for _, k := range []string{"seller_id", "category"} { // ?seller_id=… preselects, handy for links
		if v := r.URL.Query().Get(k); v != "" {
			form.Set(k, v)
		}
	}
	return u.renderPortalNew(w, r, a, http.StatusOK, form, nil)
}

// newToken is a request form's idempotency token: a second submit of the
// same form returns the case the first opened.
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "form-" + hex.EncodeToString(b)
}

func (u *ui) renderPortalNew(w http.ResponseWriter, r *http.Request, a auth.Actor, status int, form url.Values, errs []apperr.FieldError) error {
	sellers, err := u.s.app.Portal.Sellers(r.Context(), a)
	if err != nil {
		return err
	}
	cfg, err := u.s.app.Desk.Config(r.Context())
	if err != nil {
		return err
	}
	d := portalNewData{newCaseData: newCaseData{Form: form, Errors: map[string]string{}, Desk: cfg, Groups: groupCategories(cfg)},
		SellerList: sellers, Attachments: true}
	known := map[string]bool{"title": true, "description": true, "category": true, "seller_id": true, "urgency": true, "attachments": true}
	cat := form.Get("category")
	for _, e := range errs {
		name := e.Field
		if key, ok := strings.CutPrefix(name, "fields."); ok {
			if _, def := cfg.Category(cat); def {
				name = "field." + cat + "." + key
				known[name] = true
			}
		}
		switch {
		case !known[name]:
			d.Other = append(d.Other, e.Field+": "+e.Message)
		case d.Errors[name] != "":
			d.Errors[name] += "; " + e.Message
		default:
			d.Errors[name] = e.Message
		}
	}
	u.render(w, r, status, "portal_new", view{Me: &a, Title: "Raise a request", Nav: "portal", Data: d})
	return nil
}

// portalForm reads the request form: url-encoded (checked by checkInput
// already) or multipart with its files, whose values get the same input
// rules here.
func portalForm(r *http.Request) (url.Values, []attachments.Upload, error) {
	if mediaType(r.Header.Get("Content-Type")) != "multipart/form-data" {
		if err := r.ParseForm(); err != nil {
			return nil, nil, badRequest("The form could not be read.")
		}
		return r.PostForm, nil, nil
	}
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, nil, err
		}
		return nil, nil, badRequest("The form could not be read.")
	}
	f := url.Values(r.MultipartForm.Value)
	v := &apperr.Invalid{}
	input.CheckForm(v, f)
	if len(v.Errors) > 0 {
		return nil, nil, badRequest("A parameter breaks the input rules; nothing was done.", v.Errors...)
	}
	oneLineEnds(f)
	var ups []attachments.Upload
	for _, fh := range r.MultipartForm.File["attachments"] {
		if fh.Filename == "" && fh.Size == 0 { // no file chosen
			continue
		}
		file, err := fh.Open()
		if err != nil {
			return nil, nil, badRequest("An attached file could not be read.")
		}
		ups = append(ups, attachments.Upload{Name: fh.Filename, DeclaredType: fh.Header.Get("Content-Type"), R: file})
	}
	return f, ups, nil
}

func (u *ui) postPortalNew(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	f, files, err := portalForm(r)
	if err != nil {
		return err
	}
	if r.MultipartForm != nil {
		defer func() { _ = r.MultipartForm.RemoveAll() }()
	}
	cfg, err := u.s.app.Desk.Config(r.Context())
	if err != nil {
		return err
	}
	in := portal.RaiseInput{SellerID: f.Get("seller_id"), Category: strings.TrimSpace(f.Get("category")),
		Urgency: portal.Urgency(f.Get("urgency")), Title: f.Get("title"), Description: f.Get("description"), Token: f.Get("token"),
		Files: files}
	if cat, ok := cfg.Category(in.Category); ok {
		in.Fields = formFields(f, cat)
	}
	out, err := u.s.app.Portal.Raise(r.Context(), a, in)
	if err != nil {
		if p := toProblem(err); p.Status == http.StatusUnprocessableEntity || p.Status == http.StatusBadRequest {
			errs := p.Errors
			if len(errs) == 0 {
				errs = []apperr.FieldError{{Field: "form", Message: p.Detail}}
			}
			return u.renderPortalNew(w, r, a, p.Status, f, errs)
		}
		return err
	}
	http.Redirect(w, r, "/portal/requests/"+out.Request.Number, http.StatusSeeOther)
	return nil
}

type portalRequestData struct {
	Request *portal.Request
	Error   string
	Body    string
}

func (u *ui) portalRequestPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	return u.renderPortalRequest(w, r, a, http.StatusOK, "", "")
}

func (u *ui) renderPortalRequest(w http.ResponseWriter, r *http.Request, a auth.Actor, status int, msg, body string) error {
	req, err := u.s.app.Portal.Get(r.Context(), a, r.PathValue("ref"))
	if err != nil {
		return err
	}
	if r.PathValue("ref") != req.Number && r.Method == http.MethodGet {
		http.Redirect(w, r, "/portal/requests/"+req.Number, http.StatusFound)
		return nil
	}
	u.render(w, r, status, "portal_request", view{Me: &a, Title: req.Number + " " + req.Title, Nav: "portal",
		Data: portalRequestData{Request: req, Error: msg, Body: body}})
	return nil
}

func (u *ui) postPortalReply(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	body := r.PostForm.Get("body")
	if _, err := u.s.app.Portal.Reply(r.Context(), a, r.PathValue("ref"), body); err != nil {
		p := toProblem(err)
		if p.Status != http.StatusUnprocessableEntity && p.Status != http.StatusConflict {
			return err
		}
		msg := p.Detail
		if len(p.Errors) > 0 {
			msg = fieldErrorsText(p.Errors)
		}
		return u.renderPortalRequest(w, r, a, p.Status, msg, body)
	}
	http.Redirect(w, r, "/portal/requests/"+r.PathValue("ref")+"#reply", http.StatusSeeOther)
	return nil
}
