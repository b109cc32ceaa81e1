package web

import (
	"net/http"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/sla"
)

// calendarInfo describes a calendar for API clients.
type calendarInfo struct {
	Key      string `json:"key"`
	Name     string `json:"name"`
	Timezone string `json:"timezone"`
	Always   bool   `json:"always"`
	OpenNow  bool   `json:"open_now"`
	NextOpen string `json:"next_open"`
}

func (s *Server) listCalendars(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	cfg, err := s.app.Desk.ConfigFor(r.Context(), a)
	if err != nil {
		return err
	}
	now := s.app.Clock.Now()
	out := []calendarInfo{}
	for _, spec := range cfg.Calendars {
		cal, ok := cfg.Calendar(spec.Key)
		if !ok {
			continue
		}
		out = append(out, calendarInfo{Key: spec.Key, Name: spec.Name, Timezone: spec.Timezone, Always: spec.Always,
			OpenNow: cal.IsOpen(now), NextOpen: cal.NextOpen(now).UTC().Format(time.RFC3339)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"calendars": out})
	return nil
}

// calendarFor returns the calendar named in the path, or a 404 problem.
func (s *Server) calendarFor(r *http.Request, a auth.Actor) (*sla.Calendar, error) {
	cfg, err := s.app.Desk.ConfigFor(r.Context(), a)
	if err != nil {
		return nil, err
	}
	cal, ok := cfg.Calendar(r.PathValue("key"))
	if !ok {
		return nil, problem(http.StatusNotFound, "not-found", "Not found", "No calendar "+r.PathValue("key")+" in the desk configuration.")
	}
	return cal, nil
}

// instantParam reads an RFC 3339 query parameter.
func instantParam(r *http.Request, name string, v *apperr.Invalid) time.Time {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		v.Add(name, "is required (RFC 3339, e.g. 2026-12-23T17:30:00Z)")
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		v.Add(name, "is not an RFC 3339 instant such as 2026-12-23T17:30:00Z")
	}
	return t
}

// calendarDue answers when a business duration from an instant runs out.
func (s *Server) calendarDue(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	cal, err := s.calendarFor(r, a)
	if err != nil {
		return err
	}
	v := &apperr.Invalid{}
	from := instantParam(r, "from", v)
	d, derr := sla.ParseDuration(r.URL.Query().Get("add"))
	if derr != nil {
		v.Add("add", "%s", derr.Error())
	}
	if err := v.Err(); err != nil {
		return err
	}
	due, ok := cal.AddChecked(from, d)
	if !ok {
		v.Add("add", "does not run out in calendar %s within 250 years of from (nor by the year 9999)", cal.Key())
		return v.Err()
	}
	writeJSON(w, http.StatusOK, map[string]any{"calendar": cal.Key(), "from": from.UTC().Format(time.RFC3339Nano),
		"add": d.String(), "due": due.UTC().Format(time.RFC3339Nano)})
	return nil
}

// calendarBetween answers how much business time lies between two instants.
func (s *Server) calendarBetween(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	cal, err := s.calendarFor(r, a)
	if err != nil {
		return err
	}
	v := &apperr.Invalid{}
	from, to := instantParam(r, "from", v), instantParam(r, "to", v)
	if v.Err() == nil {
		if err := sla.ValidateRange(from, to); err != nil {
			v.Add("to", "%s", err.Error())
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	d := cal.Between(from, to)
	writeJSON(w, http.StatusOK, map[string]any{"calendar": cal.Key(), "from": from.UTC().Format(time.RFC3339Nano),
		"to": to.UTC().Format(time.RFC3339Nano), "business": d.String(), "seconds": d.Seconds()})
	return nil
}
