package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/input"
)

// Webhook is a subscription: the events of some types, POSTed to a URL in
// a format, signed with its secret.
type Webhook struct {
	ID                int64         `json:"id"`
	Name              string        `json:"name"`
	URL               string        `json:"url"`
	Format            string        `json:"format"`
	EventTypes        []events.Type `json:"event_types"` // empty: every type
	IncludeRestricted bool          `json:"include_restricted"`
	Active            bool          `json:"active"`
	// Secret is shown when the subscription is made and when it is
	// rotated, never again.
	Secret    string    `json:"secret,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Stats of its deliveries.
	Pending int `json:"pending"`
	Failed  int `json:"failed"`
	Sent    int `json:"sent"`

	secret string
}

// Wants reports whether the subscription takes events of type t.
func (w Webhook) Wants(t events.Type) bool {
	return len(w.EventTypes) == 0 || slices.Contains(w.EventTypes, t)
}

// WebhookInput is the body of POST /admin/webhooks, and of PATCH (where
// only given fields change).
type WebhookInput struct {
	Name              *string        `json:"name"`
	URL               *string        `json:"url"`
	Format            *string        `json:"format"`
	EventTypes        *[]events.Type `json:"event_types"`
	IncludeRestricted *bool          `json:"include_restricted"`
	Active            *bool          `json:"active"`
	RotateSecret      bool           `json:"rotate_secret"` // PATCH: a new secret, shown in the answer
}

func canAdmin(a auth.Actor) error {
	if !a.Can(auth.PermEventsAdmin) {
		return &apperr.Forbidden{Detail: "only admins manage webhooks and see deliveries"}
	}
	return nil
}

// checkWebhook validates w as it would be stored.
func checkWebhook(w *Webhook) error {
	v := &apperr.Invalid{}
	w.Name, w.URL = strings.TrimSpace(w.Name), strings.TrimSpace(w.URL)
	input.Required(v, "name", input.Name, w.Name)
	if input.Required(v, "url", input.Param, w.URL) {
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
			v.Add("url", "must be an http:// or https:// address")
		}
	}
	if !slices.Contains(Formats, w.Format) {
		v.Add("format", "must be json, slack or teams")
	}
	if input.CheckList(v, "event_types", len(w.EventTypes), len(events.Types())) {
		for i, t := range w.EventTypes {
			switch {
			case !t.Known():
				v.Add(fmt.Sprintf("event_types[%d]", i), "unknown event type %q", t)
			case slices.Index(w.EventTypes, t) != i:
				v.Add(fmt.Sprintf("event_types[%d]", i), "%s twice", t)
			}
		}
	}
	return v.Err()
}

func (in WebhookInput) apply(w *Webhook) {
	if in.Name != nil {
		w.Name = *in.Name
	}
	if in.URL != nil {
		w.URL = *in.URL
	}
	if in.Format != nil {
		w.Format = *in.Format
	}
	if in.EventTypes != nil {
		w.EventTypes = slices.Clone(*in.EventTypes)
	}
	if in.IncludeRestricted != nil {
		w.IncludeRestricted = *in.IncludeRestricted
	}
	if in.Active != nil {
		w.Active = *in.Active
	}
}

// CreateWebhook adds a subscription; its answer holds the secret, once.
func (s *Service) CreateWebhook(ctx context.Context, a auth.Actor, in WebhookInput) (*Webhook, error) {
	if err := canAdmin(a); err != nil {
		return nil, err
	}
	w := &Webhook{Format: FormatJSON, Active: true, EventTypes: []events.Type{}}
	in.apply(w)
	if err := checkWebhook(w); err != nil {
		return nil, err
	}
	secret, err := newSecret()
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var out *Webhook
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO notify_webhooks (name, url, format, event_types, secret, include_restricted, active,
			created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			w.Name, w.URL, w.Format, typesJSON(w.EventTypes), secret, w.IncludeRestricted, w.Active, db.NullID(a.UserID),
			db.T(now), db.T(now)).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert webhook: %w", err)
		}
		if out, err = s.webhook(ctx, tx, id); err != nil {
			return err
		}
		tx.AfterCommit(s.hooks.changed)
		return s.auditWebhook(ctx, tx, a, "webhook.create", out, nil, now)
	})
	if err != nil {
		return nil, err
	}
	out.Secret = secret
	return out, nil
}

// UpdateWebhook changes the given fields; rotate_secret makes a new
// secret, which the answer holds.
func (s *Service) UpdateWebhook(ctx context.Context, a auth.Actor, id int64, in WebhookInput) (*Webhook, error) {
	if err := canAdmin(a); err != nil {
		return nil, err
	}
	before, err := s.webhook(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	w := *before
	in.apply(&w)
	if err := checkWebhook(&w); err != nil {
		return nil, err
	}
	secret := ""
	if in.RotateSecret {
		if secret, err = newSecret(); err != nil {
			return nil, err
		}
	}
	now := s.clock.Now()
	var out *Webhook
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE notify_webhooks SET name = ?, url = ?, format = ?, event_types = ?, include_restricted = ?,
			active = ?, secret = CASE WHEN ? = '' THEN secret ELSE ? END, updated_at = ? WHERE id = ?`,
			w.Name, w.URL, w.Format, typesJSON(w.EventTypes), w.IncludeRestricted, w.Active, secret, secret, db.T(now), id)
		if err != nil {
			return fmt.Errorf("update webhook %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.ErrNotFound
		}
		if out, err = s.webhook(ctx, tx, id); err != nil {
			return err
		}
		tx.AfterCommit(s.hooks.changed)
		return s.auditWebhook(ctx, tx, a, "webhook.update", out, before, now)
	})
	if err != nil {
		return nil, err
	}
	out.Secret = secret
	return out, nil
}

// DeleteWebhook removes a subscription and its deliveries.
func (s *Service) DeleteWebhook(ctx context.Context, a auth.Actor, id int64) error {
	if err := canAdmin(a); err != nil {
		return err
	}
	now := s.clock.Now()
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		before, err := s.webhook(ctx, tx, id)
		if err != nil {
			return err
		}
		// Its deliveries and their attempts go with it (ON DELETE CASCADE).
		if _, err := tx.Exec(ctx, `DELETE FROM notify_webhooks WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete webhook %d: %w", id, err)
		}
		tx.AfterCommit(s.hooks.changed)
		return s.auditWebhook(ctx, tx, a, "webhook.delete", nil, before, now)
	})
}

// Webhooks lists the subscriptions with their delivery counts.
func (s *Service) Webhooks(ctx context.Context, a auth.Actor) ([]*Webhook, error) {
	if err := canAdmin(a); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+webhookColumns+` FROM notify_webhooks w ORDER BY w.id`)
	if err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	out, err := db.Collect(rows, scanWebhook)
	if err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	if err := s.webhookStats(ctx, out); err != nil {
		return nil, err
	}
	return append([]*Webhook{}, out...), nil
}

// Webhook returns one subscription.
func (s *Service) Webhook(ctx context.Context, a auth.Actor, id int64) (*Webhook, error) {
	if err := canAdmin(a); err != nil {
		return nil, err
	}
	w, err := s.webhook(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	return w, s.webhookStats(ctx, []*Webhook{w})
}

func (s *Service) webhookStats(ctx context.Context, ws []*Webhook) error {
	if len(ws) == 0 {
		return nil
	}
	byID := map[int64]*Webhook{}
	var ids []any
	for _, w := range ws {
		byID[w.ID] = w
		ids = append(ids, w.ID)
	}
	rows, err := s.db.Query(ctx, `SELECT webhook_id, state, COUNT(*) FROM notify_deliveries WHERE webhook_id IN (`+
		db.Placeholders(len(ids))+`) GROUP BY webhook_id, state`, ids...)
	if err != nil {
		return fmt.Errorf("webhook stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var state string
		var n int
		if err := rows.Scan(&id, &state, &n); err != nil {
			return fmt.Errorf("webhook stats: %w", err)
		}
		switch w := byID[id]; state {
		case "pending":
			w.Pending = n
		case "failed":
			w.Failed = n
		case "sent":
			w.Sent = n
		}
	}
	return rows.Err()
}

const webhookColumns = `w.id, w.name, w.url, w.format, w.event_types, w.secret, w.include_restricted, w.active, w.created_at, w.updated_at`

func scanWebhook(r db.Scanner) (*Webhook, error) {
	w := &Webhook{}
	var types string
	var created, updated db.Time
	if err := r.Scan(&w.ID, &w.Name, &w.URL, &w.Format, &types, &w.secret, &w.IncludeRestricted, &w.Active, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(types), &w.EventTypes); err != nil {
		return nil, fmt.Errorf("webhook %d: event types: %w", w.ID, err)
	}
	if w.EventTypes == nil {
		w.EventTypes = []events.Type{}
	}
	w.CreatedAt, w.UpdatedAt = created.Time, updated.Time
	return w, nil
}

func (s *Service) webhook(ctx context.Context, q db.Querier, id int64) (*Webhook, error) {
	w, err := scanWebhook(q.QueryRow(ctx, `SELECT `+webhookColumns+` FROM notify_webhooks w WHERE w.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("webhook %d: %w", id, err)
	}
	return w, nil
}

// hooksFor is the active subscriptions that want events of type t.
func (s *Service) hooksFor(ctx context.Context, t events.Type) ([]Webhook, error) {
	all, err := s.hooks.active(ctx, s.db, s.clock.Now())
	if err != nil {
		return nil, err
	}
	var out []Webhook
	for _, w := range all {
		if w.Wants(t) {
			out = append(out, *w)
		}
	}
	return out, nil
}

func typesJSON(ts []events.Type) string {
	if ts == nil {
		ts = []events.Type{}
	}
	b, _ := json.Marshal(ts) // a list of strings always marshals
	return string(b)
}

func (s *Service) auditWebhook(ctx context.Context, tx *db.Tx, a auth.Actor, action string, after, before *Webhook, now time.Time) error {
	snap := func(w *Webhook) any {
		if w == nil {
			return nil
		}
		// Never the secret: the audit log is read by admins and kept.
		return map[string]any{"name": w.Name, "url": events.RedactURL(w.URL), "format": w.Format, "event_types": w.EventTypes,
			"include_restricted": w.IncludeRestricted, "active": w.Active}
	}
	id := int64(0)
	if after != nil {
		id = after.ID
	} else if before != nil {
		id = before.ID
	}
	name := a.Email
	if name == "" {
		name = a.Name
	}
	return audit.Append(ctx, tx, now, audit.Entry{ActorID: a.UserID, Actor: name, Action: action, ObjectType: "webhook",
		ObjectID: strconv.FormatInt(id, 10), Before: snap(before), After: snap(after)})
}

// hookRecheck is how long the active subscriptions are read from memory:
// this node's own changes are seen at once (hookCache.changed), another
// node's within this time, as the desk document's (desk.recheckEvery).
const hookRecheck = time.Second

// hookCache is the active webhook subscriptions, which Handle asks for on
// every event and which change only when an admin edits them.
type hookCache struct {
	mu     sync.Mutex
	gen    uint64 // counts this node's committed changes
	list   []*Webhook
	at     time.Time // when list was read
	listOf uint64    // the gen list was read at
	ok     bool
}

// active is the active subscriptions, from memory when this node has
// changed none since they were read and they are recent.
func (h *hookCache) active(ctx context.Context, d *db.DB, now time.Time) ([]*Webhook, error) {
	h.mu.Lock()
	gen := h.gen
	if age := now.Sub(h.at); h.ok && h.listOf == gen && age >= 0 && age < hookRecheck {
		list := h.list
		h.mu.Unlock()
		return list, nil
	}
	h.mu.Unlock()
	rows, err := d.Query(ctx, `SELECT `+webhookColumns+` FROM notify_webhooks w WHERE w.active = TRUE ORDER BY w.id`)
	if err != nil {
		return nil, fmt.Errorf("notify: webhooks: %w", err)
	}
	all, err := db.Collect(rows, scanWebhook)
	if err != nil {
		return nil, fmt.Errorf("notify: webhooks: %w", err)
	}
	h.mu.Lock()
	if h.gen == gen { // not changed while it was read
		h.list, h.at, h.listOf, h.ok = all, now, gen, true
	}
	h.mu.Unlock()
	return all, nil
}

// changed forgets the subscriptions read: call it after a change commits.
func (h *hookCache) changed() {
	h.mu.Lock()
	h.gen++
	h.ok = false
	h.mu.Unlock()
}
