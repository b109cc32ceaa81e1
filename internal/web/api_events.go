package web

import (
	"net/http"
	"strconv"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/events"
)

// Event delivery administration: how far each durable subscriber is
// behind, its dead letters, and replaying them (internal/events).

func (s *Server) eventSubscribers(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	stats, err := s.app.Bus.Stats(r.Context(), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"subscribers": stats})
	return nil
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	q := r.URL.Query()
	v := &apperr.Invalid{}
	for k := range q {
		if k != "subscriber" && k != "state" && k != "before" && k != "limit" {
			v.Add(k, "unknown query parameter")
		}
	}
	f := events.DeliveryFilter{Subscriber: q.Get("subscriber"), State: q.Get("state")}
	num := func(k string) int64 {
		if q.Get(k) == "" {
			return 0
		}
		n, err := strconv.ParseInt(q.Get(k), 10, 64)
		if err != nil || n < 1 {
			v.Add(k, "must be a positive number")
		}
		return n
	}
	f.Before, f.Limit = num("before"), int(num("limit"))
	page, err := s.app.Bus.Deliveries(r.Context(), a, f)
	if err := mergeInvalid(v.Err(), err); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) replayDeliveries(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in events.ReplayInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	n, err := s.app.Bus.Replay(r.Context(), a, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"replayed": n})
	return nil
}
