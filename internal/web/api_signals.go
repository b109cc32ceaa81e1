package web

import (
	"net/http"
	"strconv"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/signals"
)

func (s *Server) listSignals(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	list, err := s.app.Signals.List(r.Context(), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"signals": list})
	return nil
}

func (s *Server) getSignal(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, ok := signals.ParseID(r.PathValue("id"))
	if !ok {
		return apperr.ErrNotFound
	}
	hours := 0
	if h := r.URL.Query().Get("hours"); h != "" {
		n, err := strconv.Atoi(h)
		if err != nil {
			return apperr.InvalidField("hours", "must be a number")
		}
		hours = n
	}
	v, err := s.app.Signals.Points(r.Context(), a, id, hours)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	q := r.URL.Query()
	f := signals.AlertFilter{Status: q.Get("status")}
	if v := q.Get("signal"); v != "" {
		id, ok := signals.ParseID(v)
		if !ok {
			return apperr.InvalidField("signal", "must be a signal's id")
		}
		f.Series = id
	}
	list, err := s.app.Signals.Alerts(r.Context(), a, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": list})
	return nil
}

func (s *Server) getAlert(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, ok := signals.ParseID(r.PathValue("id"))
	if !ok {
		return apperr.ErrNotFound
	}
	al, err := s.app.Signals.Alert(r.Context(), a, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, al)
	return nil
}

// alertAction acknowledges or closes an alert.
func (s *Server) alertAction(to string) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		id, ok := signals.ParseID(r.PathValue("id"))
		if !ok {
			return apperr.ErrNotFound
		}
		move := s.app.Signals.Acknowledge
		if to == signals.AlertClosed {
			move = s.app.Signals.Close
		}
		al, err := move(r.Context(), a, id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, al)
		return nil
	}
}
