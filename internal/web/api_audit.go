package web

import (
	"net/http"
	"strconv"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
)

// The audit log (internal/audit).

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	q := r.URL.Query()
	f := audit.Filter{ObjectType: q.Get("object_type"), ObjectID: q.Get("object_id")}
	v := &apperr.Invalid{}
	num := func(k string) int64 {
		if q.Get(k) == "" {
			return 0
		}
		n, err := strconv.ParseInt(q.Get(k), 10, 64)
		if err != nil || n < 0 {
			v.Add(k, "must be a positive number")
		}
		return n
	}
	f.ActorID, f.BeforeSeq, f.Limit = num("actor_id"), num("before"), int(num("limit"))
	recs, err := audit.ListFor(r.Context(), s.app.DB, a, f)
	if err := mergeInvalid(v.Err(), err); err != nil {
		return err
	}
	if recs == nil {
		recs = []audit.Record{} // an empty page is [], not null
	}
	out := map[string]any{"records": recs}
	if len(recs) > 0 && recs[len(recs)-1].Seq > 1 {
		out["next_before"] = recs[len(recs)-1].Seq
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
