package web

import (
	"errors"
	"net/http"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/intake/csvimport"
)

// importData is the CSV import page.
type importData struct {
	Columns []string
	Report  *csvimport.Report
	File    string
	Error   string
}

func (u *ui) importPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if err := csvimport.CanImport(a); err != nil {
		return err
	}
	return u.renderImport(w, r, a, http.StatusOK, importData{})
}

func (u *ui) renderImport(w http.ResponseWriter, r *http.Request, a auth.Actor, status int, d importData) error {
	d.Columns = append(csvimport.Columns, "field.<name>")
	u.render(w, r, status, "import", view{Me: &a, Title: "Import cases", Nav: "import", Data: d})
	return nil
}

// postImport reads the upload form (multipart: the file, dry_run, partial).
func (u *ui) postImport(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if err := csvimport.CanImport(a); err != nil {
		return err
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil { // parts over 1 MiB wait in temporary files
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return badRequest("Send the form with a CSV file (multipart/form-data).")
	}
	defer func() { _ = r.MultipartForm.RemoveAll() }()
	f, fh, err := r.FormFile("file")
	if err != nil {
		return u.renderImport(w, r, a, http.StatusUnprocessableEntity, importData{Error: "Choose a CSV file to import."})
	}
	defer f.Close()
	opt, err := importOptions(r.FormValue("dry_run"), r.FormValue("partial"))
	if err != nil {
		return err
	}
	rep, err := u.s.app.Import.Import(r.Context(), a, f, opt)
	d := importData{File: fh.Filename}
	if err != nil {
		p := toProblem(err)
		if p.Status != http.StatusUnprocessableEntity {
			return err
		}
		d.Error = fieldErrorsText(p.Errors)
		return u.renderImport(w, r, a, p.Status, d)
	}
	d.Report = rep
	status := http.StatusOK
	if len(rep.Errors) > 0 && !rep.Imported && !rep.DryRun {
		status = http.StatusUnprocessableEntity
	}
	return u.renderImport(w, r, a, status, d)
}
