package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
)

// What an admin sees of the outbox and can do about it.

// Delivery is an event waiting for (or given up by) one subscriber.
type Delivery struct {
	ID         int64     `json:"id"`
	Subscriber string    `json:"subscriber"`
	State      string    `json:"state"` // pending | dead
	Attempts   int       `json:"attempts"`
	NextAt     time.Time `json:"next_at"`
	LastError  string    `json:"last_error,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	Event      Event     `json:"event"`
}

// DeliveryFilter selects deliveries: by subscriber and state (default
// dead), newest first, paged by Before (an id).
type DeliveryFilter struct {
	Subscriber string
	State      string
	Before     int64
	Limit      int
}

// DeliveryPage is one page of deliveries.
type DeliveryPage struct {
	Deliveries []Delivery `json:"deliveries"`
	NextBefore int64      `json:"next_before,omitempty"`
}

// SubscriberStats is how far one durable subscriber is behind.
type SubscriberStats struct {
	Name          string     `json:"name"`
	Types         []Type     `json:"types"` // empty: every type
	Registered    bool       `json:"registered"`
	Pending       int        `json:"pending"`
	Dead          int        `json:"dead"`
	OldestPending *time.Time `json:"oldest_pending"` // when the oldest pending event was published
	LastError     string     `json:"last_error,omitempty"`
}

func canAdmin(a auth.Actor) error {
	if !a.Can(auth.PermEventsAdmin) {
		return &apperr.Forbidden{Detail: "only admins see and replay event deliveries"}
	}
	return nil
}

// Stats reports every durable subscriber, registered or with rows left.
func (b *Bus) Stats(ctx context.Context, a auth.Actor) ([]SubscriberStats, error) {
	if err := canAdmin(a); err != nil {
		return nil, err
	}
	byName := map[string]*SubscriberStats{}
	var out []*SubscriberStats
	get := func(name string) *SubscriberStats {
		if s, ok := byName[name]; ok {
			return s
		}
		s := &SubscriberStats{Name: name, Types: []Type{}}
		byName[name] = s
		out = append(out, s)
		return s
	}
	b.mu.RLock()
	for _, s := range b.durable {
		st := get(s.name)
		st.Registered, st.Types = true, append(st.Types, s.opt.Types...)
	}
	b.mu.RUnlock()
	rows, err := b.db.Query(ctx, `SELECT d.subscriber, d.state, COUNT(*), MIN(e.at) FROM event_deliveries d
		JOIN events e ON e.seq = d.event_seq GROUP BY d.subscriber, d.state`)
	if err != nil {
		return nil, fmt.Errorf("delivery stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, state string
		var n int
		var oldest db.Time
		if err := rows.Scan(&name, &state, &n, &oldest); err != nil {
			return nil, fmt.Errorf("delivery stats: %w", err)
		}
		st := get(name)
		if state == "dead" {
			st.Dead = n
		} else {
			st.Pending, st.OldestPending = n, oldest.Ptr()
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("delivery stats: %w", err)
	}
	for _, st := range out {
		var msg sql.NullString
		err := b.db.QueryRow(ctx, `SELECT last_error FROM event_deliveries WHERE subscriber = ? AND last_error <> ''
			ORDER BY updated_at DESC LIMIT 1`, st.Name).Scan(&msg)
		if err != nil && err != sql.ErrNoRows {
			return nil, fmt.Errorf("delivery stats: %w", err)
		}
		st.LastError = msg.String
	}
	slices.SortFunc(out, func(x, y *SubscriberStats) int { return strings.Compare(x.Name, y.Name) })
	res := make([]SubscriberStats, len(out))
	for i, s := range out {
		res[i] = *s
	}
	return res, nil
}

// Deliveries lists deliveries matching f.
func (b *Bus) Deliveries(ctx context.Context, a auth.Actor, f DeliveryFilter) (*DeliveryPage, error) {
	if err := canAdmin(a); err != nil {
		return nil, err
	}
	v := &apperr.Invalid{}
	if f.State == "" {
		f.State = "dead"
	}
	if f.State != "dead" && f.State != "pending" {
		v.Add("state", "must be dead or pending")
	}
	switch {
	case f.Limit == 0:
		f.Limit = 50
	case f.Limit < 1 || f.Limit > 500:
		v.Add("limit", "must be between 1 and 500")
	}
	if f.Before < 0 {
		v.Add("before", "must be a delivery id")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	where, args := []string{"d.state = ?"}, []any{f.State}
	if f.Subscriber != "" {
		where, args = append(where, "d.subscriber = ?"), append(args, f.Subscriber)
	}
	if f.Before > 0 {
		where, args = append(where, "d.id < ?"), append(args, f.Before)
	}
	rows, err := b.db.Query(ctx, `SELECT d.id, d.subscriber, d.state, d.attempts, d.next_at, d.last_error, d.created_at,
		d.updated_at, e.seq, e.data FROM event_deliveries d JOIN events e ON e.seq = d.event_seq
		WHERE `+strings.Join(where, " AND ")+` ORDER BY d.id DESC LIMIT ?`, append(args, f.Limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("deliveries: %w", err)
	}
	defer rows.Close()
	page := &DeliveryPage{Deliveries: []Delivery{}}
	for rows.Next() {
		var d Delivery
		var next, created, updated db.Time
		var seq int64
		var data string
		if err := rows.Scan(&d.ID, &d.Subscriber, &d.State, &d.Attempts, &next, &d.LastError, &created, &updated, &seq, &data); err != nil {
			return nil, fmt.Errorf("deliveries: %w", err)
		}
		d.NextAt, d.CreatedAt, d.UpdatedAt = next.Time, created.Time, updated.Time
		if err := json.Unmarshal([]byte(data), &d.Event); err != nil {
			d.LastError = strings.TrimSpace(d.LastError + " (stored event unreadable: " + err.Error() + ")")
		}
		d.Event.Seq = seq
		page.Deliveries = append(page.Deliveries, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("deliveries: %w", err)
	}
	if len(page.Deliveries) > f.Limit {
		page.Deliveries = page.Deliveries[:f.Limit]
		page.NextBefore = page.Deliveries[f.Limit-1].ID
	}
	return page, nil
}

// ReplayInput names what to replay: delivery ids, or every dead delivery
// of a subscriber.
type ReplayInput struct {
	IDs        []int64 `json:"ids"`
	Subscriber string  `json:"subscriber"`
}

// Replay makes dead deliveries pending again, due now with their attempts
// reset, and reports how many.
func (b *Bus) Replay(ctx context.Context, a auth.Actor, in ReplayInput) (int64, error) {
	if err := canAdmin(a); err != nil {
		return 0, err
	}
	v := &apperr.Invalid{}
	switch {
	case len(in.IDs) == 0 && in.Subscriber == "":
		v.Add("ids", "name the deliveries to replay, or a subscriber to replay all its dead deliveries")
	case len(in.IDs) > 1000:
		v.Add("ids", "at most 1000 at once")
	}
	if err := v.Err(); err != nil {
		return 0, err
	}
	where, args := []string{"state = 'dead'"}, []any{}
	if len(in.IDs) > 0 {
		where = append(where, "id IN ("+db.Placeholders(len(in.IDs))+")")
		for _, id := range in.IDs {
			args = append(args, id)
		}
	}
	if in.Subscriber != "" {
		where, args = append(where, "subscriber = ?"), append(args, in.Subscriber)
	}
	var n int64
	var names []string
	err := b.db.InTx(ctx, func(tx *db.Tx) error {
		now := b.clock.Now()
		res, err := tx.Exec(ctx, `UPDATE event_deliveries SET state = 'pending', attempts = 0, next_at = ?, last_error = '',
			updated_at = ? WHERE `+strings.Join(where, " AND "), append([]any{db.T(now), db.T(now)}, args...)...)
		if err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return audit.Append(ctx, tx, now, audit.Entry{ActorID: a.UserID, Actor: a.Email, Action: "events.replay",
			ObjectType: "event_deliveries", ObjectID: in.Subscriber, After: map[string]any{"ids": in.IDs, "subscriber": in.Subscriber, "replayed": n}})
	})
	if err != nil {
		return 0, err
	}
	b.mu.RLock()
	for _, s := range b.durable {
		if in.Subscriber == "" || s.name == in.Subscriber {
			names = append(names, s.name)
			select {
			case s.wake <- struct{}{}:
			default:
			}
		}
	}
	b.mu.RUnlock()
	if n > 0 {
		b.log.Info("event deliveries replayed", "count", n, "subscribers", names, "by", a.UserID)
	}
	return n, nil
}
