package web

import (
	"context"
	"html/template"
	"net/http"

	"github.com/flare-desk/flare/internal/attachments"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
)

// addAttachmentFuncs adds the template functions of the case page's
// Attachments panel (part_attachments.html).
func (u *ui) addAttachmentFuncs(fm template.FuncMap) {
	fm["attachmentPanel"] = u.attachmentPanel
	fm["humanSize"] = attachments.HumanSize
}

// attachmentPanelView is the case page's Attachments panel.
type attachmentPanelView struct {
	Files     []*attachments.Attachment
	CanUpload bool
	CanNote   bool
}

func (u *ui) attachmentPanel(me *auth.Actor, c *cases.Case) (*attachmentPanelView, error) {
	if me == nil || c == nil {
		return &attachmentPanelView{}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), funcTimeout)
	defer cancel()
	files, err := u.s.app.Attachments.ForCase(ctx, c.ID, cases.PublicOnly(*me))
	if err != nil {
		return nil, err
	}
	return &attachmentPanelView{Files: files, CanUpload: me.Can(auth.PermCaseComment) || me.Can(auth.PermCaseInternalNote),
		CanNote: me.Can(auth.PermCaseInternalNote)}, nil
}

// downloadAttachment is the page route of a download (the session's user).
func (u *ui) downloadAttachment(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return serveAttachment(w, r, u.s, a, id)
}

// postAttachments takes the case page's upload form.
func (u *ui) postAttachments(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	ref := r.PathValue("ref")
	uploads, internal, err := readUploads(r)
	if err == nil {
		if !a.Can(auth.PermCaseComment) {
			internal = true
		}
		_, err = u.s.app.Attachments.Add(r.Context(), a, ref, internal, uploads)
	}
	if err != nil {
		p := toProblem(err)
		if p.Status >= 500 || p.Status == http.StatusNotFound {
			return err
		}
		c, gerr := u.s.app.Cases.Get(r.Context(), a, ref)
		if gerr != nil {
			return gerr
		}
		msg := p.Detail
		if len(p.Errors) > 0 {
			msg = fieldErrorsText(p.Errors)
		}
		return u.renderCase(w, r, a, c, p.Status, "attachments", msg, nil)
	}
	c, err := u.s.app.Cases.Get(r.Context(), a, ref)
	if err != nil {
		return err
	}
	http.Redirect(w, r, caseURL(r, c.Number)+"#attachments", http.StatusSeeOther)
	return nil
}
