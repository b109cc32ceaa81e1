package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
)

// The bell: each person's in-app notifications, and their preferences.

// Notification is one in-app notification.
type Notification struct {
	ID        int64      `json:"id"`
	EventID   string     `json:"event_id"`
	EventType string     `json:"event_type"`
	Kind      Kind       `json:"kind"`
	Case      string     `json:"case,omitempty"` // ESC number
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	At        time.Time  `json:"at"`
	ReadAt    *time.Time `json:"read_at"`
}

// InboxFilter selects a person's notifications, newest first.
type InboxFilter struct {
	Unread bool
	Before int64 // an id
	Limit  int
}

// Inbox is a page of notifications and the unread count.
type Inbox struct {
	Notifications []Notification `json:"notifications"`
	Unread        int            `json:"unread"`
	NextBefore    int64          `json:"next_before,omitempty"`
}

func person(a auth.Actor) error {
	if a.UserID == 0 {
		return &apperr.Forbidden{Detail: "notifications are a person's: sign in as one"}
	}
	return nil
}

// List is a's notifications.
func (s *Service) List(ctx context.Context, a auth.Actor, f InboxFilter) (*Inbox, error) {
	if err := person(a); err != nil {
		return nil, err
	}
	v := &apperr.Invalid{}
	switch {
	case f.Limit == 0:
		f.Limit = 50
	case f.Limit < 1 || f.Limit > 200:
		v.Add("limit", "must be between 1 and 200")
	}
	if f.Before < 0 {
		v.Add("before", "must be a notification id")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	q := `SELECT id, event_id, event_type, kind, case_number, title, body, created_at, read_at FROM notifications WHERE user_id = ?`
	args := []any{a.UserID}
	if f.Unread {
		q += " AND read_at IS NULL"
	}
	if f.Before > 0 {
		q, args = q+" AND id < ?", append(args, f.Before)
	}
	rows, err := s.db.Query(ctx, q+" ORDER BY id DESC LIMIT ?", append(args, f.Limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	list, err := db.Collect(rows, func(r db.Scanner) (Notification, error) {
		var n Notification
		var at, read db.Time
		err := r.Scan(&n.ID, &n.EventID, &n.EventType, &n.Kind, &n.Case, &n.Title, &n.Body, &at, &read)
		n.At, n.ReadAt = at.Time, read.Ptr()
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	out := &Inbox{Notifications: append([]Notification{}, list...)}
	if len(out.Notifications) > f.Limit {
		out.Notifications = out.Notifications[:f.Limit]
		out.NextBefore = out.Notifications[f.Limit-1].ID
	}
	if out.Unread, err = s.Unread(ctx, a); err != nil {
		return nil, err
	}
	return out, nil
}

// Unread counts a's unread notifications (the bell's number).
func (s *Service) Unread(ctx context.Context, a auth.Actor) (int, error) {
	if a.UserID == 0 {
		return 0, nil
	}
	var n int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at IS NULL`, a.UserID).Scan(&n); err != nil {
		return 0, fmt.Errorf("unread notifications: %w", err)
	}
	return n, nil
}

// ReadInput marks notifications read: the ids given, or all.
type ReadInput struct {
	IDs []int64 `json:"ids"`
	All bool    `json:"all"`
}

// MarkRead marks a's notifications read (a read receipt: not audited) and
// reports how many were unread.
func (s *Service) MarkRead(ctx context.Context, a auth.Actor, in ReadInput) (int64, error) {
	if err := person(a); err != nil {
		return 0, err
	}
	v := &apperr.Invalid{}
	switch {
	case in.All && len(in.IDs) > 0:
		v.Add("ids", "give ids or all, not both")
	case !in.All && len(in.IDs) == 0:
		v.Add("ids", "name the notifications to mark read, or say all")
	case len(in.IDs) > 500:
		v.Add("ids", "at most 500 at once")
	}
	if err := v.Err(); err != nil {
		return 0, err
	}
	var n int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		q := `UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL`
		args := []any{db.T(s.clock.Now()), a.UserID}
		if !in.All {
			q += " AND id IN (" + db.Placeholders(len(in.IDs)) + ")"
			for _, id := range in.IDs {
				args = append(args, id)
			}
		}
		res, err := tx.Exec(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("mark notifications read: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// PreferencesView is a's preferences with every kind's channels spelled out.
type PreferencesView struct {
	Channels map[Kind][]Channel `json:"channels"`
	Quiet    *QuietHours        `json:"quiet_hours"`
	Timezone string             `json:"timezone"` // quiet hours are in it: the desk profile's (UTC when none)
}

// Preferences returns a's preferences.
func (s *Service) Preferences(ctx context.Context, a auth.Actor) (*PreferencesView, error) {
	if err := person(a); err != nil {
		return nil, err
	}
	p, err := s.prefs(ctx, s.db, a.UserID)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, a, p)
}

func (s *Service) view(ctx context.Context, a auth.Actor, p Preferences) (*PreferencesView, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	v := &PreferencesView{Channels: map[Kind][]Channel{}, Quiet: p.Quiet, Timezone: "UTC"}
	for _, k := range Kinds {
		v.Channels[k] = append([]Channel{}, p.ChannelsFor(k)...)
	}
	if tz := cfg.Profiles[a.Email].Timezone; tz != "" {
		v.Timezone = tz
	}
	return v, nil
}

// SetPreferences replaces a's preferences (kinds left out take the
// defaults; quiet_hours null turns them off).
func (s *Service) SetPreferences(ctx context.Context, a auth.Actor, p Preferences) (*PreferencesView, error) {
	if err := person(a); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p = p.normalised()
	data, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("preferences: %w", err)
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO notify_preferences (user_id, data, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
			a.UserID, string(data), db.T(s.clock.Now()))
		if err != nil {
			return fmt.Errorf("save preferences: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.view(ctx, a, p)
}

func (s *Service) prefs(ctx context.Context, q db.Querier, userID int64) (Preferences, error) {
	var data string
	err := q.QueryRow(ctx, `SELECT data FROM notify_preferences WHERE user_id = ?`, userID).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return Preferences{}, nil
	}
	if err != nil {
		return Preferences{}, fmt.Errorf("preferences: %w", err)
	}
	var p Preferences
	if err := json.Unmarshal([]byte(data), &p); err != nil {
		return Preferences{}, fmt.Errorf("preferences of %d: %w", userID, err)
	}
	return p, nil
}

// preferencesOf reads the preferences of rs, by user id.
func (s *Service) preferencesOf(ctx context.Context, rs []Recipient) (map[int64]Preferences, error) {
	out := map[int64]Preferences{}
	if len(rs) == 0 {
		return out, nil
	}
	ids := make([]any, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	rows, err := s.db.Query(ctx, `SELECT user_id, data FROM notify_preferences WHERE user_id IN (`+db.Placeholders(len(ids))+`)`, ids...)
	if err != nil {
		return nil, fmt.Errorf("preferences: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var data string
		if err := rows.Scan(&id, &data); err != nil {
			return nil, fmt.Errorf("preferences: %w", err)
		}
		var p Preferences
		if err := json.Unmarshal([]byte(data), &p); err != nil {
			return nil, fmt.Errorf("preferences of %d: %w", id, err)
		}
		out[id] = p
	}
	return out, rows.Err()
}
