package web

// Live screens (internal/live): GET /api/v1/stream, server-sent events a
// page answers by re-fetching what changed, and presence on a case; and
// the user's display preferences (internal/prefs).

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/live"
	"github.com/flare-desk/flare/internal/prefs"
)

// liveRoutes registers the stream (without the request deadline) and the
// preferences.
func (s *Server) liveRoutes() {
	s.routes = append(s.routes, Route{Method: "GET", Path: "/stream"})
	s.handleLongLived("GET /api/v1/stream", http.HandlerFunc(s.liveStream))
	s.api("GET", "/me/preferences", s.getPreferences)
	s.api("PUT", "/me/preferences", s.putPreferences)
	s.mux.HandleFunc("GET /settings", s.ui.page(s.ui.settingsPage)) // ui_live.go
	s.mux.HandleFunc("POST /settings", s.ui.page(s.ui.postSettings))
}

// liveStream streams notes to a signed-in user (session or token); with
// ?case= the user is shown to the case's other viewers while it is open.
func (s *Server) liveStream(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a, err := s.actorFrom(r)
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	var viewing *cases.Case
	if ref := r.URL.Query().Get("case"); ref != "" {
		if viewing, err = s.app.Cases.Get(ctx, a, ref); err != nil {
			writeProblem(w, r, s.log, err)
			return
		}
	}
	sub, err := s.app.Live.Subscribe(ctx, a, viewing)
	if err != nil {
		writeProblem(w, r, s.log, err)
		return
	}
	defer sub.Close()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // proxies must not hold the notes back
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	if _, err := io.WriteString(w, "retry: 3000\n\n"); err != nil || rc.Flush() != nil {
		return
	}
	send := func(n live.Note) error {
		b, err := json.Marshal(n)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", n.Kind, b); err != nil {
			return err
		}
		return rc.Flush()
	}
	ping := func() error {
		if _, err := io.WriteString(w, ": ping\n\n"); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := sub.Run(ctx, send, ping); err != nil && ctx.Err() == nil {
		s.log.WarnContext(ctx, "live stream", "err", err)
	}
}

func (s *Server) getPreferences(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	p, err := s.app.Prefs.Get(r.Context(), a.UserID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) putPreferences(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in prefs.Prefs
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p, err := s.app.Prefs.Set(r.Context(), a.UserID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}
