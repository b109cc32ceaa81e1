package web

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/incidents"
)

// The incident API (internal/incidents): declare, list, read, change
// status and severity, roles, the page's acknowledgement, the timeline and
// key moments, status updates, subscriptions, linked cases and their bulk
// resolve, metrics, and what a postmortem starts from.

func (s *Server) declareIncident(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	inc, done, err := createIdempotent(s, w, r, a, func(in incidents.DeclareInput, within func(*db.Tx, *incidents.Incident) error) (*incidents.Incident, error) {
		return s.app.Incidents.Declare(r.Context(), a, in, within)
	})
	if done {
		return err
	}
	w.Header().Set("Location", "/api/v1/incidents/"+inc.Number)
	writeJSON(w, http.StatusCreated, inc)
	return nil
}

// incidentQueryKeys are the query parameters GET /incidents understands.
var incidentQueryKeys = map[string]bool{"status": true, "severity": true, "type": true, "market": true, "cursor": true, "limit": true}

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	f, perr := parseIncidentFilter(r.URL.Query())
	page, err := s.app.Incidents.List(r.Context(), a, f)
	if err := mergeInvalid(perr, err); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func parseIncidentFilter(q url.Values) (incidents.Filter, error) {
	v := &apperr.Invalid{}
	for k := range q {
		if !incidentQueryKeys[k] {
			v.Add(k, "unknown query parameter")
		}
	}
	f := incidents.Filter{Market: strings.ToUpper(q.Get("market")), Cursor: q.Get("cursor")}
	for _, st := range splitList(q["status"]) {
		if st == "open" {
			f.Status = append(f.Status, incidents.Open...)
			continue
		}
		f.Status = append(f.Status, incidents.Status(st))
	}
	for _, sv := range splitList(q["severity"]) {
		f.Severity = append(f.Severity, incidents.Severity(strings.ToUpper(sv)))
	}
	for _, t := range splitList(q["type"]) {
		f.Type = append(f.Type, incidents.Type(t))
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			v.Add("limit", "must be between 1 and 200")
		} else {
			f.Limit = n
		}
	}
	return f, v.Err()
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	inc, err := s.app.Incidents.Get(r.Context(), a, r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, inc)
	return nil
}

func (s *Server) incidentDefinitions(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if !incidents.MayRead(a) {
		return apperr.ErrNotFound
	}
	d, err := s.app.Incidents.Definitions(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) incidentMetrics(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	q := r.URL.Query()
	v := &apperr.Invalid{}
	var from, to time.Time
	for k := range q {
		if k != "from" && k != "to" {
			v.Add(k, "unknown query parameter")
		}
	}
	for _, p := range []struct {
		key string
		dst *time.Time
	}{{"from", &from}, {"to", &to}} {
		if raw := q.Get(p.key); raw != "" {
			t, err := time.Parse(time.RFC3339, raw)
			if err != nil {
				v.Add(p.key, "must be an RFC 3339 instant such as 2026-11-01T00:00:00Z")
			}
			*p.dst = t
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	m, err := s.app.Incidents.Metrics(r.Context(), a, from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

// incidentAction is a handler that decodes a body of type In, asks the
// service and answers 200 with what it returns.
func incidentAction[In, Out any](call func(r *http.Request, a auth.Actor, in In) (Out, error)) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		var in In
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
		out, err := call(r, a, in)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

// incidentRead is a handler that asks the service and answers 200.
func incidentRead[Out any](call func(r *http.Request, a auth.Actor) (Out, error)) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		out, err := call(r, a)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

func (s *Server) transitionIncident(r *http.Request, a auth.Actor, in incidents.TransitionInput) (*incidents.Incident, error) {
	return s.app.Incidents.Transition(r.Context(), a, r.PathValue("ref"), in)
}

func (s *Server) incidentSeverity(r *http.Request, a auth.Actor, in incidents.SeverityInput) (*incidents.Incident, error) {
	return s.app.Incidents.SetSeverity(r.Context(), a, r.PathValue("ref"), in)
}

func (s *Server) incidentRole(r *http.Request, a auth.Actor, in incidents.RoleInput) (*incidents.Incident, error) {
	return s.app.Incidents.AssignRole(r.Context(), a, r.PathValue("ref"), r.PathValue("role"), in)
}

func (s *Server) ackIncident(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(body))) > 0 { // no body, or {}
		if err := checkJSONType(r); err != nil {
			return err
		}
		if err := unmarshalStrict(body, &struct{}{}); err != nil {
			return err
		}
	}
	inc, err := s.app.Incidents.Acknowledge(r.Context(), a, r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, inc)
	return nil
}

func (s *Server) incidentMoment(r *http.Request, a auth.Actor, in incidents.MomentInput) (*incidents.Incident, error) {
	return s.app.Incidents.CorrectMoment(r.Context(), a, r.PathValue("ref"), incidents.Moment(r.PathValue("moment")), in)
}

func (s *Server) previewIncidentUpdate(r *http.Request, a auth.Actor, in incidents.UpdateInput) (*incidents.Preview, error) {
	return s.app.Incidents.Compose(r.Context(), a, r.PathValue("ref"), in)
}

func (s *Server) incidentTimeline(r *http.Request, a auth.Actor) (map[string]any, error) {
	tl, err := s.app.Incidents.Timeline(r.Context(), a, r.PathValue("ref"))
	return map[string]any{"timeline": tl}, err
}

func (s *Server) incidentUpdates(r *http.Request, a auth.Actor) (map[string]any, error) {
	ups, err := s.app.Incidents.Updates(r.Context(), a, r.PathValue("ref"))
	return map[string]any{"updates": ups}, err
}

func (s *Server) incidentReport(r *http.Request, a auth.Actor) (*incidents.Report, error) {
	return s.app.Incidents.Report(r.Context(), a, r.PathValue("ref"))
}

func (s *Server) incidentBulk(r *http.Request, a auth.Actor) (*incidents.Bulk, error) {
	b, err := s.app.Incidents.LatestBulk(r.Context(), a, r.PathValue("ref"))
	if err == nil && b == nil {
		return nil, apperr.ErrNotFound
	}
	return b, err
}

func (s *Server) caseIncidents(r *http.Request, a auth.Actor) (map[string]any, error) {
	bs, err := s.app.Incidents.ForCase(r.Context(), a, r.PathValue("ref"))
	return map[string]any{"incidents": bs}, err
}

func (s *Server) incidentNote(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in incidents.NoteInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	e, err := s.app.Incidents.AddNote(r.Context(), a, r.PathValue("ref"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, e)
	return nil
}

func (s *Server) postIncidentUpdate(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in incidents.UpdateInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	up, err := s.app.Incidents.PostUpdate(r.Context(), a, r.PathValue("ref"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, up)
	return nil
}

func (s *Server) incidentSubscription(on bool) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		if err := s.app.Incidents.Subscribe(r.Context(), a, r.PathValue("ref"), on); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (s *Server) incidentCases(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	q := r.URL.Query()
	v := &apperr.Invalid{}
	limit := 0
	for k := range q {
		if k != "cursor" && k != "limit" {
			v.Add(k, "unknown query parameter")
		}
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			v.Add("limit", "must be between 1 and 500")
		}
		limit = n
	}
	if err := v.Err(); err != nil {
		return err
	}
	p, err := s.app.Incidents.Linked(r.Context(), a, r.PathValue("ref"), q.Get("cursor"), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// linkBody is the body of POST /incidents/{ref}/cases: case references, or
// a case search (the filters of GET /cases).
type linkBody struct {
	Cases  []string `json:"cases"`
	Search *struct {
		Status   []string `json:"status"`
		Team     []string `json:"team"`
		Market   []string `json:"market"`
		Priority []string `json:"priority"`
		Category string   `json:"category"`
		SellerID string   `json:"seller_id"`
		Owner    string   `json:"owner"`
		Q        string   `json:"q"`
	} `json:"search"`
}

func (s *Server) linkIncidentCases(r *http.Request, a auth.Actor, in linkBody) (*incidents.LinkResult, error) {
	li := incidents.LinkInput{Cases: in.Cases}
	if f := in.Search; f != nil {
		lf := cases.ListFilter{Team: f.Team, Priority: f.Priority, Category: f.Category, SellerID: f.SellerID, Owner: f.Owner, Q: f.Q}
		for _, st := range f.Status {
			lf.Status = append(lf.Status, cases.Status(st))
		}
		for _, m := range f.Market {
			lf.Market = append(lf.Market, strings.ToUpper(m))
		}
		li.Filter = &lf
	}
	return s.app.Incidents.Link(r.Context(), a, r.PathValue("ref"), li)
}

func (s *Server) unlinkIncidentCase(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if err := s.app.Incidents.Unlink(r.Context(), a, r.PathValue("ref"), r.PathValue("case")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) bulkResolveIncident(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in incidents.BulkInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	b, err := s.app.Incidents.BulkResolve(r.Context(), a, r.PathValue("ref"), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/incidents/"+b.Incident+"/resolve-cases")
	writeJSON(w, http.StatusAccepted, b)
	return nil
}
