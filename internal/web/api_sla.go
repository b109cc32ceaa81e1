package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
)

// Recorded SLA warnings and breaches (internal/cases' SLA engine).

// slaEvents lists recorded breaches (or warnings) of the cases the caller may see.
func (s *Server) slaEvents(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	q := r.URL.Query()
	v := &apperr.Invalid{}
	for k := range q {
		switch k {
		case "kind", "team", "market", "metric", "from", "to", "before", "limit":
		default:
			v.Add(k, "unknown query parameter")
		}
	}
	f := cases.SLAEventFilter{Kind: q.Get("kind"), Team: splitList(q["team"]), Market: splitList(q["market"]), Metric: splitList(q["metric"])}
	for i, m := range f.Market {
		f.Market[i] = strings.ToUpper(m)
	}
	if q.Get("from") != "" {
		f.From = instantParam(r, "from", v)
	}
	if q.Get("to") != "" {
		f.To = instantParam(r, "to", v)
	}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"before", &f.Before}} {
		if raw := q.Get(p.name); raw != "" {
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil || n < 1 {
				v.Add(p.name, "must be a positive number")
			}
			*p.dst = n
		}
	}
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			v.Add("limit", "must be between 1 and 500")
		}
		f.Limit = n
	}
	page, err := s.app.Cases.SLAEvents(r.Context(), a, f)
	if err := mergeInvalid(v.Err(), err); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}
