package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/reports"
)

// The desk's performance metrics (internal/reports).

// reportMetrics answers GET /reports/metrics: the period's figures, sliced,
// beside the previous period's; as JSON, or CSV with format=csv.
func (s *Server) reportMetrics(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	q := r.URL.Query()
	v := &apperr.Invalid{}
	for k := range q {
		switch k {
		case "from", "to", "by", "market", "team", "category", "channel", "priority", "format":
		default:
			v.Add(k, "unknown query parameter")
		}
	}
	f := reports.Filter{By: q.Get("by"), Market: strings.ToUpper(q.Get("market")), Team: q.Get("team"),
		Category: q.Get("category"), Channel: q.Get("channel"), Priority: strings.ToUpper(q.Get("priority"))}
	f.Period.From, f.Period.To = dayOrInstant(q.Get("from"), "from", v), dayOrInstant(q.Get("to"), "to", v)
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		v.Add("format", "must be json or csv")
	}
	if err := v.Err(); err != nil {
		return err
	}
	rep, err := s.app.Reports.Report(r.Context(), a, f)
	if err != nil {
		return err
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="flare-metrics.csv"`)
		return rep.WriteCSV(w)
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// dayOrInstant reads a date (2026-11-02, midnight UTC) or an RFC 3339 instant.
func dayOrInstant(raw, name string, v *apperr.Invalid) time.Time {
	if raw == "" {
		v.Add(name, "is required: a date (2026-11-02) or an RFC 3339 instant")
		return time.Time{}
	}
	if t, err := time.Parse(time.DateOnly, raw); err == nil {
		return t
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		v.Add(name, "is not a date (2026-11-02) or an RFC 3339 instant (2026-11-02T09:00:00Z)")
	}
	return t
}
