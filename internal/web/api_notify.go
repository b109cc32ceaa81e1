package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/notify"
)

// Notifications (internal/notify): each person's bell and preferences;
// for admins the webhook subscriptions and the delivery log.

func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	q := r.URL.Query()
	v := &apperr.Invalid{}
	onlyKeys(v, q, "unread", "before", "limit")
	f := notify.InboxFilter{Unread: boolParam(q.Get("unread"), "unread", v), Before: int64Param(q, "before", v),
		Limit: int(int64Param(q, "limit", v))}
	in, err := s.app.Notify.List(r.Context(), a, f)
	if err := mergeInvalid(v.Err(), err); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}

func (s *Server) readNotifications(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in notify.ReadInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	n, err := s.app.Notify.MarkRead(r.Context(), a, in)
	if err != nil {
		return err
	}
	unread, err := s.app.Notify.Unread(r.Context(), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"marked": n, "unread": unread})
	return nil
}

func (s *Server) getNotifyPreferences(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	p, err := s.app.Notify.Preferences(r.Context(), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) putNotifyPreferences(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in notify.Preferences
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	p, err := s.app.Notify.SetPreferences(r.Context(), a, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	ws, err := s.app.Notify.Webhooks(r.Context(), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": ws})
	return nil
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in notify.WebhookInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.RotateSecret {
		return apperr.InvalidField("rotate_secret", "a new webhook gets a secret of its own; rotate_secret is for PATCH")
	}
	wh, err := s.app.Notify.CreateWebhook(r.Context(), a, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/admin/webhooks/"+strconv.FormatInt(wh.ID, 10))
	writeJSON(w, http.StatusCreated, wh)
	return nil
}

// pathID reads a positive {id}; anything else is a 404.
func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	wh, err := s.app.Notify.Webhook(r.Context(), a, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wh)
	return nil
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in notify.WebhookInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	wh, err := s.app.Notify.UpdateWebhook(r.Context(), a, id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wh)
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := s.app.Notify.DeleteWebhook(r.Context(), a, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listNotifyDeliveries(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	q := r.URL.Query()
	v := &apperr.Invalid{}
	onlyKeys(v, q, "channel", "state", "webhook", "case", "before", "limit", "log")
	f := notify.DeliveryFilter{Channel: q.Get("channel"), State: q.Get("state"), Case: q.Get("case"),
		WebhookID: int64Param(q, "webhook", v), Before: int64Param(q, "before", v), Limit: int(int64Param(q, "limit", v)),
		WithLog: boolParam(q.Get("log"), "log", v)}
	page, err := s.app.Notify.Deliveries(r.Context(), a, f)
	if err := mergeInvalid(v.Err(), err); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) getNotifyDelivery(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	d, payload, err := s.app.Notify.GetDelivery(r.Context(), a, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"delivery": d, "payload": payload})
	return nil
}

func (s *Server) replayNotifyDeliveries(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var in notify.ReplayInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	n, err := s.app.Notify.Replay(r.Context(), a, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"replayed": n})
	return nil
}

// onlyKeys refuses query parameters other than keys.
func onlyKeys(v *apperr.Invalid, q url.Values, keys ...string) {
	for k := range q {
		known := false
		for _, x := range keys {
			known = known || k == x
		}
		if !known {
			v.Add(k, "unknown query parameter")
		}
	}
}

// int64Param reads a positive number; absent is 0.
func int64Param(q url.Values, name string, v *apperr.Invalid) int64 {
	raw := q.Get(name)
	if raw == "" {
		return 0
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 1 {
		v.Add(name, "must be a positive number")
		return 0
	}
	return n
}
