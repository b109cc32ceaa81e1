package web

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/handoffs"
)

func (s *Server) createHandoff(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	h, done, err := createIdempotent(s, w, r, a, func(in handoffs.Input, within func(*db.Tx, *handoffs.Handoff) error) (*handoffs.Handoff, error) {
		return s.app.Handoffs.Create(r.Context(), a, r.PathValue("ref"), in, within)
	})
	if done {
		return err
	}
	w.Header().Set("Location", "/api/v1/handoffs/"+strconv.FormatInt(h.ID, 10))
	writeJSON(w, http.StatusCreated, h)
	return nil
}

func (s *Server) caseHandoffs(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	hs, err := s.app.Handoffs.ForCase(r.Context(), a, r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"handoffs": hs})
	return nil
}

// handoffQueryKeys are the query parameters GET /handoffs understands.
var handoffQueryKeys = map[string]bool{"team": true, "from_team": true, "status": true, "case": true, "owner": true,
	"unread": true, "overdue": true, "cursor": true, "limit": true}

func (s *Server) listHandoffs(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	f, perr := parseHandoffFilter(r.URL.Query())
	page, err := s.app.Handoffs.List(r.Context(), a, f)
	if err := mergeInvalid(perr, err); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// parseHandoffFilter reads GET /handoffs' query parameters.
func parseHandoffFilter(q url.Values) (handoffs.Filter, error) {
	v := &apperr.Invalid{}
	for k := range q {
		if !handoffQueryKeys[k] {
			v.Add(k, "unknown query parameter")
		}
	}
	f := handoffs.Filter{Team: splitList(q["team"]), FromTeam: splitList(q["from_team"]), Case: q.Get("case"),
		Owner: q.Get("owner"), Cursor: q.Get("cursor")}
	for _, st := range splitList(q["status"]) {
		sts := []handoffs.Status{handoffs.Status(st)}
		if st == "active" {
			sts = handoffs.ActiveStatuses
		}
		for _, hs := range sts { // each once: "active" must not multiply a capped list
			if !slices.Contains(f.Status, hs) {
				f.Status = append(f.Status, hs)
			}
		}
	}
	f.Unread = boolParam(q.Get("unread"), "unread", v)
	f.Overdue = boolParam(q.Get("overdue"), "overdue", v)
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		switch {
		case err != nil:
			v.Add("limit", "must be a number")
		case n < 1:
			v.Add("limit", "must be between 1 and 200")
		default:
			f.Limit = n
		}
	}
	return f, v.Err()
}

func boolParam(s, name string, v *apperr.Invalid) bool {
	switch s {
	case "", "false", "0":
		return false
	case "true", "1":
		return true
	}
	v.Add(name, "must be true or false")
	return false
}

func (s *Server) handoffStats(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	q := r.URL.Query()
	v := &apperr.Invalid{}
	for k := range q {
		if k != "from" && k != "to" && k != "from_team" {
			v.Add(k, "unknown query parameter")
		}
	}
	f := handoffs.StatsFilter{FromTeam: splitList(q["from_team"])}
	if q.Get("from") != "" {
		f.From = instantParam(r, "from", v)
	}
	if q.Get("to") != "" {
		f.To = instantParam(r, "to", v)
	}
	if err := v.Err(); err != nil {
		return err
	}
	st, err := s.app.Handoffs.WaitStats(r.Context(), a, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// handoffID reads the {id} path value; anything but a positive number is a 404.
func handoffID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.ErrNotFound
	}
	return id, nil
}

func (s *Server) getHandoff(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := handoffID(r)
	if err != nil {
		return err
	}
	h, err := s.app.Handoffs.Get(r.Context(), a, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

// Bodies of the actions: accept takes none (or {}); answer and complete an
// answer; decline a reason (required) and cancel one (optional).
type (
	handoffNoBody     struct{}
	handoffAnswerBody struct {
		Answer string `json:"answer"`
	}
	handoffReasonBody struct {
		Reason string `json:"reason"`
	}
)

func (s *Server) handoffAction(action string) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		id, err := handoffID(r)
		if err != nil {
			return err
		}
		if err := checkJSONType(r); err != nil {
			return err
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		var text string
		empty := len(strings.TrimSpace(string(body))) == 0
		switch action {
		case handoffs.Accept:
			if !empty {
				if err := unmarshalStrict(body, &handoffNoBody{}); err != nil {
					return err
				}
			}
		case handoffs.Answer, handoffs.Complete:
			var in handoffAnswerBody
			if !empty || action == handoffs.Answer {
				if err := unmarshalStrict(body, &in); err != nil {
					return err
				}
			}
			text = in.Answer
		default:
			var in handoffReasonBody
			if !empty || action == handoffs.Decline {
				if err := unmarshalStrict(body, &in); err != nil {
					return err
				}
			}
			text = in.Reason
		}
		h, err := s.app.Handoffs.Do(r.Context(), a, id, action, text)
		if err != nil {
			return handoffProblem(err)
		}
		writeJSON(w, http.StatusOK, h)
		return nil
	}
}

// handoffProblem turns an illegal action into a 409 naming the allowed ones.
func handoffProblem(err error) error {
	var hc *handoffs.Conflict
	if !errors.As(err, &hc) {
		return err
	}
	p := problem(http.StatusConflict, "illegal-handoff-action", "Illegal handoff action", hc.Error())
	p.Allowed = hc.Allowed
	if p.Allowed == nil {
		p.Allowed = []string{}
	}
	return p
}
