package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
)

// The delivery log: what was sent, to whom, how each attempt went; and
// replaying deliveries.

// Delivery is one outgoing message: a mail to a person or a POST to a webhook.
type Delivery struct {
	ID         int64      `json:"id"`
	EventID    string     `json:"event_id"`
	EventType  string     `json:"event_type"`
	EventAt    time.Time  `json:"event_at"`
	Channel    string     `json:"channel"`   // email | webhook
	Recipient  string     `json:"recipient"` // an email address, or webhook:<id>
	WebhookID  *int64     `json:"webhook_id"`
	Kind       string     `json:"kind,omitempty"`
	Case       string     `json:"case,omitempty"` // ESC number
	State      string     `json:"state"`          // pending | sent | failed
	Attempts   int        `json:"attempts"`
	NextAt     *time.Time `json:"next_at"` // pending: due at
	HeldUntil  *time.Time `json:"held_until"`
	SentAt     *time.Time `json:"sent_at"`
	LastStatus int        `json:"last_status"`
	LastError  string     `json:"last_error,omitempty"`
	// LatencyMS is from the event to the successful attempt.
	LatencyMS *int64    `json:"latency_ms"`
	CreatedAt time.Time `json:"created_at"`
	// Log is every attempt, oldest first (GetDelivery and ?log=true).
	Log []Attempt `json:"log,omitempty"`
}

// Attempt is one try at sending a delivery.
type Attempt struct {
	At         time.Time `json:"at"`
	Status     int       `json:"status"` // HTTP status or SMTP reply code; 0: no answer
	DurationMS float64   `json:"duration_ms"`
	Error      string    `json:"error,omitempty"`
}

// DeliveryFilter selects deliveries, newest first, paged by Before (an id).
type DeliveryFilter struct {
	Channel   string // email | webhook
	State     string // pending | sent | failed
	WebhookID int64
	Case      string // an ESC number
	Before    int64
	Limit     int
	WithLog   bool
}

// DeliveryPage is one page of the log.
type DeliveryPage struct {
	Deliveries []Delivery `json:"deliveries"`
	NextBefore int64      `json:"next_before,omitempty"`
}

const deliveryColumns = `d.id, d.event_id, d.event_type, d.event_at, d.channel, d.recipient, d.webhook_id, d.kind, d.case_id,
	d.state, d.attempts, d.next_at, d.held_until, d.sent_at, d.last_status, d.last_error, d.created_at`

func scanDelivery(r db.Scanner) (Delivery, error) {
	var d Delivery
	var webhook, caseID *int64
	var eventAt, next, held, sent, created db.Time
	if err := r.Scan(&d.ID, &d.EventID, &d.EventType, &eventAt, &d.Channel, &d.Recipient, &webhook, &d.Kind, &caseID,
		&d.State, &d.Attempts, &next, &held, &sent, &d.LastStatus, &d.LastError, &created); err != nil {
		return d, err
	}
	d.EventAt, d.CreatedAt, d.WebhookID = eventAt.Time, created.Time, webhook
	d.HeldUntil, d.SentAt = held.Ptr(), sent.Ptr()
	if d.State == "pending" {
		d.NextAt = next.Ptr()
	}
	if d.SentAt != nil {
		ms := d.SentAt.Sub(d.EventAt).Milliseconds()
		d.LatencyMS = &ms
	}
	return d, nil
}

// Deliveries lists the log.
func (s *Service) Deliveries(ctx context.Context, a auth.Actor, f DeliveryFilter) (*DeliveryPage, error) {
	if err := canAdmin(a); err != nil {
		return nil, err
	}
	v := &apperr.Invalid{}
	where, args := []string{"1 = 1"}, []any{}
	switch f.Channel {
	case "":
	case "email", "webhook":
		where, args = append(where, "d.channel = ?"), append(args, f.Channel)
	default:
		v.Add("channel", "must be email or webhook")
	}
	switch f.State {
	case "":
	case "pending", "sent", "failed":
		where, args = append(where, "d.state = ?"), append(args, f.State)
	default:
		v.Add("state", "must be pending, sent or failed")
	}
	if f.WebhookID != 0 {
		where, args = append(where, "d.webhook_id = ?"), append(args, f.WebhookID)
	}
	if f.Case != "" {
		number, ok := cases.ParseNumber(strings.TrimSpace(f.Case))
		if !ok {
			v.Add("case", "is not a case number such as ESC-1042")
		}
		where, args = append(where, "d.case_id IN (SELECT id FROM cases WHERE number = ?)"), append(args, number)
	}
	if f.Before > 0 {
		where, args = append(where, "d.id < ?"), append(args, f.Before)
	}
	switch {
	case f.Limit == 0:
		f.Limit = 50
	case f.Limit < 1 || f.Limit > 500:
		v.Add("limit", "must be between 1 and 500")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+deliveryColumns+` FROM notify_deliveries d WHERE `+strings.Join(where, " AND ")+
		` ORDER BY d.id DESC LIMIT ?`, append(args, f.Limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("deliveries: %w", err)
	}
	list, err := db.Collect(rows, scanDelivery)
	if err != nil {
		return nil, fmt.Errorf("deliveries: %w", err)
	}
	page := &DeliveryPage{Deliveries: append([]Delivery{}, list...)}
	if len(page.Deliveries) > f.Limit {
		page.Deliveries = page.Deliveries[:f.Limit]
		page.NextBefore = page.Deliveries[f.Limit-1].ID
	}
	if err := s.fill(ctx, page.Deliveries, f.WithLog); err != nil {
		return nil, err
	}
	return page, nil
}

// GetDelivery is one delivery with its log and what it sends.
func (s *Service) GetDelivery(ctx context.Context, a auth.Actor, id int64) (*Delivery, json.RawMessage, error) {
	if err := canAdmin(a); err != nil {
		return nil, nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+deliveryColumns+` FROM notify_deliveries d WHERE d.id = ?`, id)
	if err != nil {
		return nil, nil, fmt.Errorf("delivery %d: %w", id, err)
	}
	list, err := db.Collect(rows, scanDelivery)
	if err != nil {
		return nil, nil, fmt.Errorf("delivery %d: %w", id, err)
	}
	if len(list) == 0 {
		return nil, nil, apperr.ErrNotFound
	}
	var payload string
	if err := s.db.QueryRow(ctx, `SELECT payload FROM notify_deliveries WHERE id = ?`, id).Scan(&payload); err != nil {
		return nil, nil, fmt.Errorf("delivery %d: %w", id, err)
	}
	if err := s.fill(ctx, list, true); err != nil {
		return nil, nil, err
	}
	return &list[0], json.RawMessage(payload), nil
}

// fill adds case numbers and, with log, the attempts.
func (s *Service) fill(ctx context.Context, ds []Delivery, log bool) error {
	if len(ds) == 0 {
		return nil
	}
	var ids []any
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	rows, err := s.db.Query(ctx, `SELECT d.id, c.number FROM notify_deliveries d JOIN cases c ON c.id = d.case_id
		WHERE d.id IN (`+db.Placeholders(len(ids))+`)`, ids...)
	if err != nil {
		return fmt.Errorf("deliveries: cases: %w", err)
	}
	numbers := map[int64]int64{}
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return fmt.Errorf("deliveries: cases: %w", err)
		}
		numbers[id] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("deliveries: cases: %w", err)
	}
	idx := map[int64]int{}
	for i := range ds {
		if n, ok := numbers[ds[i].ID]; ok {
			ds[i].Case = cases.FormatNumber(n)
		}
		idx[ds[i].ID] = i
	}
	if !log {
		return nil
	}
	arows, err := s.db.Query(ctx, `SELECT delivery_id, at, status, duration_us, error FROM notify_attempts
		WHERE delivery_id IN (`+db.Placeholders(len(ids))+`) ORDER BY delivery_id, id`, ids...)
	if err != nil {
		return fmt.Errorf("deliveries: attempts: %w", err)
	}
	defer arows.Close()
	for arows.Next() {
		var id, us int64
		var at db.Time
		var att Attempt
		if err := arows.Scan(&id, &at, &att.Status, &us, &att.Error); err != nil {
			return fmt.Errorf("deliveries: attempts: %w", err)
		}
		att.At, att.DurationMS = at.Time, float64(us)/1000
		d := &ds[idx[id]]
		d.Log = append(d.Log, att)
	}
	return arows.Err()
}

// ReplayInput names deliveries to send again: by id (whatever their
// state), or every failed delivery of a webhook.
type ReplayInput struct {
	IDs       []int64 `json:"ids"`
	WebhookID int64   `json:"webhook_id"`
}

// Replay makes deliveries pending again, due now with their attempts
// reset, and reports how many. A replayed sent delivery is sent again:
// that is what replaying is for (a receiver that lost it).
func (s *Service) Replay(ctx context.Context, a auth.Actor, in ReplayInput) (int64, error) {
	if err := canAdmin(a); err != nil {
		return 0, err
	}
	v := &apperr.Invalid{}
	switch {
	case len(in.IDs) == 0 && in.WebhookID == 0:
		v.Add("ids", "name the deliveries to replay, or a webhook_id to replay its failed deliveries")
	case len(in.IDs) > 1000:
		v.Add("ids", "at most 1000 at once")
	}
	if err := v.Err(); err != nil {
		return 0, err
	}
	where, args := []string{}, []any{}
	if len(in.IDs) > 0 {
		where = append(where, "id IN ("+db.Placeholders(len(in.IDs))+")")
		for _, id := range in.IDs {
			args = append(args, id)
		}
	} else {
		where = append(where, "state = 'failed'")
	}
	if in.WebhookID != 0 {
		where, args = append(where, "webhook_id = ?"), append(args, in.WebhookID)
	}
	var n int64
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		now := s.clock.Now()
		res, err := tx.Exec(ctx, `UPDATE notify_deliveries SET state = 'pending', attempts = 0, next_at = ?, held_until = NULL,
			last_error = '', updated_at = ? WHERE `+strings.Join(where, " AND "), append([]any{db.T(now), db.T(now)}, args...)...)
		if err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		s.timer.AfterCommit(tx, now)
		return audit.Append(ctx, tx, now, audit.Entry{ActorID: a.UserID, Actor: a.Email, Action: "notify.replay",
			ObjectType: "notify_deliveries", ObjectID: strconv.FormatInt(in.WebhookID, 10),
			After: map[string]any{"ids": in.IDs, "webhook_id": in.WebhookID, "replayed": n}})
	})
	return n, err
}
