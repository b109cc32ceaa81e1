package web

import (
	"io"
	"net/http"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/desk"
)

// The desk document over HTTP (internal/desk).

// getDesk returns the desk configuration as JSON, or as YAML when asked
// (Accept: application/yaml or ?format=yaml) — the same document `flare desk export` writes.
func (s *Server) getDesk(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	cfg, err := s.app.Desk.ExportFor(r.Context(), a)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") == "yaml" || strings.Contains(r.Header.Get("Accept"), "yaml") {
		b, err := desk.Marshal(cfg)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(b)
		return nil
	}
	writeJSON(w, http.StatusOK, cfg)
	return nil
}

// putDesk replaces the desk configuration with a YAML (or JSON) document;
// ?dry_run=true validates without applying.
func (s *Server) putDesk(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	switch mediaType(r.Header.Get("Content-Type")) {
	case "application/yaml", "application/x-yaml", "text/yaml", "application/json", "":
	default:
		return problem(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type", "Send the desk document as application/yaml (JSON is YAML too).")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	dry := r.URL.Query().Get("dry_run") == "true"
	res, err := s.app.Desk.ApplyDocument(r.Context(), a, s.app.Clock.Now(), body, dry)
	if err != nil {
		return err
	}
	if dry {
		writeJSON(w, http.StatusOK, map[string]any{"valid": true})
		return nil
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// deskImpact answers what a proposed desk document (the body, YAML or JSON)
// would have done to the cases of the last ?days= (default 30, 1–90): the
// what-if of `flare desk impact`. It never writes.
func (s *Server) deskImpact(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	switch mediaType(r.Header.Get("Content-Type")) {
	case "application/yaml", "application/x-yaml", "text/yaml", "application/json", "":
	default:
		return problem(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type", "Send the desk document as application/yaml (JSON is YAML too).")
	}
	if !a.Can(auth.PermDeskWrite) { // before the body is read
		return &apperr.Forbidden{Detail: "only admins can change the desk configuration"}
	}
	days, err := whatIfDays(r.URL.Query().Get("days"))
	if err != nil {
		return err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	im, err := whatIf(s, r, a, body, days)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, im)
	return nil
}
