package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/intake"
	"github.com/flare-desk/flare/internal/intake/csvimport"
	"github.com/flare-desk/flare/internal/intake/webhook"
)

// The intake's channels over HTTP: inbound webhooks and Alertmanager
// (authenticated by their endpoint's secret, not by a session or an API
// token) and CSV import (admins).

// intakeRoute registers an intake endpoint under /api/v1 that
// authenticates its sender itself (internal/intake/webhook.Auth).
func (s *Server) intakeRoute(path string, h func(w http.ResponseWriter, r *http.Request) error) {
	s.routes = append(s.routes, Route{Method: "POST", Path: path})
	s.mux.HandleFunc("POST /api/v1"+path, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeProblem(w, r, s.log, intakeProblem(err))
		}
	})
}

// intakeProblem is toProblem with a sender's bad credentials as a 401 of
// their own (no WWW-Authenticate Bearer: the endpoint's secret is not an
// API token).
func intakeProblem(err error) error {
	var ae *webhook.AuthError
	if errors.As(err, &ae) {
		return problem(http.StatusUnauthorized, "bad-credentials", "Credentials refused", ae.Detail)
	}
	return err
}

// intakeReceipt is the answer to a webhook.
type intakeReceipt struct {
	Case     string         `json:"case"`
	Outcome  intake.Outcome `json:"outcome"`
	RepeatOf string         `json:"repeat_of,omitempty"`
}

// POST /api/v1/intake/{key}: 201 with the case a new submission opened,
// 200 with the one a repeated (or appended) submission went to.
func (s *Server) webhookIntake(w http.ResponseWriter, r *http.Request) error {
	res, err := s.app.Webhooks.Receive(r.Context(), r.PathValue("key"), r.Header, r.Body)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Outcome == intake.OutcomeCreated || res.Outcome == intake.OutcomeRepeat {
		status = http.StatusCreated
	}
	writeJSON(w, status, intakeReceipt{Case: res.Case.Number, Outcome: res.Outcome, RepeatOf: res.RepeatOf})
	return nil
}

// POST /api/v1/intake/alertmanager/{key}: 201 when the group's case was
// opened, 200 otherwise (updated, resolved, unchanged, ignored).
func (s *Server) alertmanagerIntake(w http.ResponseWriter, r *http.Request) error {
	rec, err := s.app.Alertmanager.Receive(r.Context(), r.PathValue("key"), r.Header, r.Body)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if rec.Outcome == "created" {
		status = http.StatusCreated
	}
	writeJSON(w, status, rec)
	return nil
}

// POST /api/v1/admin/import/cases (text/csv; ?dry_run=1, ?partial=1): 201
// with the report when cases were written, 200 for a dry run or a file
// with nothing new, 422 listing every bad row by line when nothing was
// written because of them.
func (s *Server) importCases(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if err := csvimport.CanImport(a); err != nil {
		return err
	}
	if mt := mediaType(r.Header.Get("Content-Type")); mt != "text/csv" {
		return problem(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type", "Send the file as text/csv.")
	}
	opt, err := importOptions(r.URL.Query().Get("dry_run"), r.URL.Query().Get("partial"))
	if err != nil {
		return err
	}
	rep, err := s.app.Import.Import(r.Context(), a, r.Body, opt)
	if err != nil {
		return err
	}
	return writeImport(w, rep)
}

func importOptions(dryRun, partial string) (csvimport.Options, error) {
	flag := func(name, v string) (bool, error) {
		switch strings.ToLower(v) {
		case "", "0", "false":
			return false, nil
		case "1", "true":
			return true, nil
		}
		return false, badRequest(name+" is 1 or 0.", apperr.FieldError{Field: name, Message: "must be 1 or 0"})
	}
	d, err := flag("dry_run", dryRun)
	if err != nil {
		return csvimport.Options{}, err
	}
	p, err := flag("partial", partial)
	return csvimport.Options{DryRun: d, Partial: p}, err
}

func writeImport(w http.ResponseWriter, rep *csvimport.Report) error {
	if len(rep.Errors) > 0 && !rep.Imported && !rep.DryRun {
		p := problem(http.StatusUnprocessableEntity, "validation", "Invalid CSV file",
			"Fix the rows listed in errors (by line); nothing was written. Import with partial=1 to take the good rows.")
		p.Errors = rep.Problems()
		return p
	}
	status := http.StatusOK
	if rep.Created > 0 {
		status = http.StatusCreated
	}
	writeJSON(w, status, rep)
	return nil
}
