package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/oncall"
)

// On-call endpoints: who is on call, a team's shifts and overrides, its
// calendar feeds, and the iCalendar feed itself.

// queryKeys refuses query parameters a handler does not read.
func queryKeys(q url.Values, v *apperr.Invalid, known ...string) {
	for k := range q {
		if !slices.Contains(known, k) {
			v.Add(k, "unknown query parameter")
		}
	}
}

// optionalInstant reads an optional RFC 3339 query parameter.
func optionalInstant(r *http.Request, name string, v *apperr.Invalid) time.Time {
	if r.URL.Query().Get(name) == "" {
		return time.Time{}
	}
	return instantParam(r, name, v)
}

func (s *Server) whoIsOnCall(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	q := r.URL.Query()
	v := &apperr.Invalid{}
	queryKeys(q, v, "team", "at")
	at := optionalInstant(r, "at", v)
	if err := v.Err(); err != nil {
		return err
	}
	ans, err := s.app.OnCall.Who(r.Context(), a, splitList(q["team"]), at)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ans)
	return nil
}

func (s *Server) oncallShifts(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	v := &apperr.Invalid{}
	queryKeys(r.URL.Query(), v, "from", "to")
	from, to := optionalInstant(r, "from", v), optionalInstant(r, "to", v)
	if err := v.Err(); err != nil {
		return err
	}
	ts, err := s.app.OnCall.Shifts(r.Context(), a, r.PathValue("team"), from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ts)
	return nil
}

func (s *Server) listOverrides(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	v := &apperr.Invalid{}
	queryKeys(r.URL.Query(), v, "from", "to")
	from, to := optionalInstant(r, "from", v), optionalInstant(r, "to", v)
	if err := v.Err(); err != nil {
		return err
	}
	os, err := s.app.OnCall.Overrides(r.Context(), a, r.PathValue("team"), from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"overrides": os})
	return nil
}

func (s *Server) createOverride(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	o, done, err := createIdempotent(s, w, r, a, func(in oncall.OverrideInput, within func(*db.Tx, *oncall.Override) error) (*oncall.Override, error) {
		return s.app.OnCall.AddOverride(r.Context(), a, r.PathValue("team"), in, within)
	})
	if done {
		return err
	}
	writeJSON(w, http.StatusCreated, o)
	return nil
}

func (s *Server) endOverride(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	o, err := s.app.OnCall.EndOverride(r.Context(), a, r.PathValue("team"), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

func (s *Server) listFeeds(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	fs, err := s.app.OnCall.Feeds(r.Context(), a, r.PathValue("team"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"feeds": fs})
	return nil
}

// feedBody is the body of POST /oncall/{team}/feeds (optional).
type feedBody struct {
	Name string `json:"name"`
}

// newFeedAnswer is a feed just made, with its URL: shown once.
type newFeedAnswer struct {
	*oncall.NewFeed
	URL       string `json:"url"`
	WebcalURL string `json:"webcal_url"`
}

func (s *Server) createFeed(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in feedBody
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
	}
	f, err := s.app.OnCall.CreateFeed(r.Context(), a, r.PathValue("team"), in.Name)
	if err != nil {
		return err
	}
	// No Idempotency-Key here: a stored response would keep the token in
	// the clear.
	ans := s.feedAnswer(r, f)
	writeJSON(w, http.StatusCreated, ans)
	return nil
}

// feedAnswer adds the feed's URLs (on the public base URL) to a new feed.
func (s *Server) feedAnswer(r *http.Request, f *oncall.NewFeed) newFeedAnswer {
	base := strings.TrimSuffix(s.opt.BaseURL, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	u := base + "/api/v1/oncall/" + url.PathEscape(f.Team) + ".ics?token=" + url.QueryEscape(f.Token)
	webcal := u
	if i := strings.Index(u, "://"); i >= 0 {
		webcal = "webcal" + u[i:]
	}
	return newFeedAnswer{NewFeed: f, URL: u, WebcalURL: webcal}
}

func (s *Server) revokeFeed(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f, err := s.app.OnCall.RevokeFeed(r.Context(), a, r.PathValue("team"), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}

// oncallFeedRoute registers GET /api/v1/oncall/{team}.ics: the feed
// calendar apps subscribe to, with the feed's token in the query instead of
// a login (the access log never holds query strings); a bearer token or a
// session works too. ServeMux wildcards are whole segments, so the route
// takes the segment and wants it to end in .ics.
func (s *Server) oncallFeedRoute() {
	s.routes = append(s.routes, Route{Method: "GET", Path: "/oncall/{team}.ics"})
	s.mux.HandleFunc("GET /api/v1/oncall/{file}", func(w http.ResponseWriter, r *http.Request) {
		if err := s.oncallFeed(w, r); err != nil {
			writeProblem(w, r, s.log, err)
		}
	})
}

func (s *Server) oncallFeed(w http.ResponseWriter, r *http.Request) error {
	team, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
	if !ok || team == "" {
		return apperr.ErrNotFound
	}
	q := r.URL.Query()
	v := &apperr.Invalid{}
	queryKeys(q, v, "token")
	if err := v.Err(); err != nil {
		return err
	}
	var cal []byte
	var err error
	if token := q.Get("token"); token != "" {
		cal, err = s.app.OnCall.FeedCalendar(r.Context(), team, token)
	} else {
		a, aerr := s.actorFrom(r)
		if aerr != nil {
			return aerr
		}
		cal, err = s.app.OnCall.Calendar(r.Context(), a, team)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `inline; filename="`+team+`-oncall.ics"`)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(cal)
	}
	return nil
}
