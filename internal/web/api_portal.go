package web

import (
	"net/http"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/portal"
)

// The account-manager portal's API (internal/portal): the requester's
// sellers, their requests and their sellers' open cases (the public side
// only), raising a request and replying on one.

func (s *Server) portalSellers(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	ss, err := s.app.Portal.Sellers(r.Context(), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"sellers": ss})
	return nil
}

func (s *Server) portalRequests(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	v := &apperr.Invalid{}
	queryKeys(r.URL.Query(), v, "list")
	if err := v.Err(); err != nil {
		return err
	}
	which := r.URL.Query().Get("list")
	if which == "" {
		which = portal.ListMine
	}
	items, err := s.app.Portal.List(r.Context(), a, which)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"requests": items})
	return nil
}

// raisePortalRequest raises a request. The Idempotency-Key header, when
// given and the body has no token, is the request's token: intake then
// answers a retry with the case the first attempt opened (200, outcome
// "duplicate") instead of opening another.
func (s *Server) raisePortalRequest(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in portal.RaiseInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Token == "" {
		in.Token = r.Header.Get("Idempotency-Key")
	}
	out, err := s.app.Portal.Raise(r.Context(), a, in)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if out.Outcome == "duplicate" {
		status = http.StatusOK
	}
	w.Header().Set("Location", "/api/v1/portal/requests/"+out.Request.Number)
	writeJSON(w, status, out)
	return nil
}

func (s *Server) getPortalRequest(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	req, err := s.app.Portal.Get(r.Context(), a, r.PathValue("ref"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, req)
	return nil
}

func (s *Server) replyPortalRequest(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in struct {
		Body string `json:"body"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	cm, err := s.app.Portal.Reply(r.Context(), a, r.PathValue("ref"), in.Body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, cm)
	return nil
}
