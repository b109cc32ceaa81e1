package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/reviews"
)

// The review packs (internal/reviews): the stored history, one pack in
// each format, and a pack built by hand for a closed period.

// listPacks answers GET /reports/packs.
func (s *Server) listPacks(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	q := r.URL.Query()
	v := &apperr.Invalid{}
	for k := range q {
		if k != "cadence" {
			v.Add(k, "unknown query parameter")
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	l, err := s.app.Reviews.List(r.Context(), a, q.Get("cadence"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"packs": l})
	return nil
}

// getPack answers GET /reports/packs/{id}: the stored pack as JSON, or
// format=html, csv or pdf.
func (s *Server) getPack(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	format, err := packFormat(r, "format")
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return apperr.InvalidField("id", "must be a pack's id (a positive number)")
	}
	p, err := s.app.Reviews.Get(r.Context(), a, id)
	if err != nil {
		return err
	}
	return writePack(w, r, p, format)
}

// previewPack answers GET /reports/packs/build?cadence=weekly&period=2026-W47:
// a closed period's pack built now, neither stored nor sent.
func (s *Server) previewPack(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	format, err := packFormat(r, "format", "cadence", "period")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	v := &apperr.Invalid{}
	if q.Get("cadence") == "" {
		v.Add("cadence", "is required: weekly, biweekly, monthly or a cadence's key")
	}
	if q.Get("period") == "" {
		v.Add("period", "is required: 2026-W47 (weekly, biweekly) or 2026-11 (monthly)")
	}
	if err := v.Err(); err != nil {
		return err
	}
	p, err := s.app.Reviews.Preview(r.Context(), a, q.Get("cadence"), q.Get("period"))
	if err != nil {
		return err
	}
	return writePack(w, r, p, format)
}

// packFormat checks the query's names and reads format (default json).
func packFormat(r *http.Request, allowed ...string) (string, error) {
	q := r.URL.Query()
	v := &apperr.Invalid{}
	for k := range q {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			v.Add(k, "unknown query parameter")
		}
	}
	f := q.Get("format")
	switch f {
	case "":
		f = "json"
	case "json", "html", "csv", "pdf":
	default:
		v.Add("format", "must be json, html, csv or pdf")
	}
	return f, v.Err()
}

func writePack(w http.ResponseWriter, r *http.Request, p *reviews.Pack, format string) error {
	name := fmt.Sprintf("flare-%s-%s", p.Cadence, p.Period.Label)
	switch format {
	case "html":
		html, err := reviews.RenderHTML(p)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, err = w.Write([]byte(html))
		return err
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		return p.WriteCSV(w)
	case "pdf":
		b, err := reviews.RenderPDF(r.Context(), p)
		if errors.Is(err, reviews.ErrNoChromium) {
			return problem(http.StatusServiceUnavailable, "pdf-unavailable", "PDF unavailable", err.Error())
		}
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.pdf"`)
		_, err = w.Write(b)
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}
