package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/flare-desk/flare/internal/db"
)

// Sending. The notify timer (deadline.Timer) calls Fire when the earliest
// pending delivery comes due, or when a commit wrote an earlier one:
//
//  1. claim: in one short transaction take up to Batch due pending
//     deliveries, soonest first, and lease them by moving next_at a lease
//     ahead (PostgreSQL: FOR UPDATE SKIP LOCKED, so nodes claim apart);
//  2. send them, sendConcurrency at once;
//  3. record: one transaction writes every attempt to the log and moves each
//     delivery on: sent; or due again after its back-off; or, after
//     MaxAttempts (or a 410), failed.
//
// A node that dies mid-send leaves leased rows that come due when the lease
// ends, so every delivery is sent at least once; one whose send went
// through but was not recorded is sent again, with the same Message-ID or
// X-Flare-Event-Id for the receiver to drop it.

// sendConcurrency is how many deliveries are sent at once.
const sendConcurrency = 16

// lease is how long a claimed delivery is reserved for its sender: longer
// than a batch takes, at worst (Batch/sendConcurrency × smtpTimeout).
const lease = 5 * time.Minute

// delivery is a claimed delivery.
type delivery struct {
	id        int64
	eventID   string
	eventType string
	channel   string
	attempts  int
	payload   []byte
	// the webhook's, when it is one
	url, secret string
	active      bool

	// the outcome
	status   int
	err      error
	at       time.Time
	duration time.Duration
}

// Fire sends every delivery that has come due and returns when the next
// is due (zero if none).
func (s *Service) Fire(ctx context.Context) (time.Time, error) {
	_, set, err := s.settings(ctx)
	if err != nil {
		return time.Time{}, err
	}
	for {
		batch, err := s.claim(ctx)
		if err != nil {
			return time.Time{}, err
		}
		if len(batch) > 0 {
			s.send(ctx, set, batch)
			if err := s.record(ctx, batch); err != nil {
				return time.Time{}, err
			}
		}
		if len(batch) < s.opt.Batch || ctx.Err() != nil {
			break
		}
	}
	s.maybePrune(ctx)
	var next db.Time
	if err := s.db.QueryRow(ctx, `SELECT MIN(next_at) FROM notify_deliveries WHERE state = 'pending'`).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("notify: next due: %w", err)
	}
	return next.Time, nil
}

func (s *Service) claim(ctx context.Context) ([]*delivery, error) {
	var out []*delivery
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		out = nil
		now := s.clock.Now()
		lock := ""
		if tx.Dialect() == db.Postgres {
			lock = " FOR UPDATE OF d SKIP LOCKED"
		}
		rows, err := tx.Query(ctx, `SELECT d.id, d.event_id, d.event_type, d.channel, d.attempts, d.payload,
			COALESCE(w.url, ''), COALESCE(w.secret, ''), COALESCE(w.active, FALSE)
			FROM notify_deliveries d LEFT JOIN notify_webhooks w ON w.id = d.webhook_id
			WHERE d.state = 'pending' AND d.next_at <= ? ORDER BY d.next_at, d.id LIMIT ?`+lock, db.T(now), s.opt.Batch)
		if err != nil {
			return fmt.Errorf("notify: claim: %w", err)
		}
		var ids []any
		for rows.Next() {
			d := &delivery{}
			var payload string
			if err := rows.Scan(&d.id, &d.eventID, &d.eventType, &d.channel, &d.attempts, &payload, &d.url, &d.secret, &d.active); err != nil {
				rows.Close()
				return fmt.Errorf("notify: claim: %w", err)
			}
			d.payload = []byte(payload)
			out = append(out, d)
			ids = append(ids, d.id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("notify: claim: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE notify_deliveries SET next_at = ?, updated_at = ? WHERE id IN (`+db.Placeholders(len(ids))+`)`,
			append([]any{db.T(now.Add(lease)), db.T(now)}, ids...)...)
		if err != nil {
			return fmt.Errorf("notify: lease: %w", err)
		}
		return nil
	})
	return out, err
}

// errNoMail: email is not set up (any more) for a mail already composed.
var errNoMail = errors.New("email is not configured in the desk's notifications section")

// send sends a batch, sendConcurrency at once, noting each outcome.
func (s *Service) send(ctx context.Context, set Settings, batch []*delivery) {
	mailer := s.mailer(set)
	sem := make(chan struct{}, sendConcurrency)
	var wg sync.WaitGroup
	for _, d := range batch {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			d.at = s.clock.Now()
			start := time.Now() // a duration on the real clock: the fake one stands still in tests
			d.status, d.err = s.sendOne(ctx, mailer, d)
			d.duration = time.Since(start)
		})
	}
	wg.Wait()
}

func (s *Service) sendOne(ctx context.Context, mailer Mailer, d *delivery) (status int, err error) {
	defer func() {
		if p := recover(); p != nil {
			status, err = 0, fmt.Errorf("panic: %v", p)
		}
	}()
	switch d.channel {
	case string(Email):
		if mailer == nil {
			return 0, errNoMail
		}
		var m Mail
		if err := json.Unmarshal(d.payload, &m); err != nil {
			return 0, fmt.Errorf("stored mail: %w", err)
		}
		return mailer.Send(ctx, m)
	case "webhook":
		if d.url == "" || !d.active {
			return 0, errors.New("the webhook subscription is disabled")
		}
		return s.poster.post(ctx, d.url, d.secret, d)
	}
	return 0, fmt.Errorf("unknown channel %q", d.channel)
}

// record writes the attempts and moves each delivery on.
func (s *Service) record(ctx context.Context, batch []*delivery) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		now := s.clock.Now()
		var retry time.Time
		for _, d := range batch {
			msg := ""
			if d.err != nil {
				msg = d.err.Error()
				if len(msg) > 2000 {
					msg = msg[:2000]
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO notify_attempts (delivery_id, at, status, duration_us, error) VALUES (?, ?, ?, ?, ?)`,
				d.id, db.T(d.at), d.status, d.duration.Microseconds(), msg); err != nil {
				return fmt.Errorf("notify: attempt: %w", err)
			}
			attempts := d.attempts + 1
			var err error
			switch {
			case d.err == nil:
				_, err = tx.Exec(ctx, `UPDATE notify_deliveries SET state = 'sent', attempts = ?, sent_at = ?, last_status = ?,
					last_error = '', updated_at = ? WHERE id = ?`, attempts, db.T(d.at), d.status, db.T(now), d.id)
			case attempts >= s.opt.MaxAttempts || errors.Is(d.err, errGone) || errors.Is(d.err, errNoMail):
				s.log.Warn("notification delivery failed", "delivery", d.id, "channel", d.channel, "event", d.eventID,
					"attempts", attempts, "err", d.err)
				_, err = tx.Exec(ctx, `UPDATE notify_deliveries SET state = 'failed', attempts = ?, last_status = ?, last_error = ?,
					updated_at = ? WHERE id = ?`, attempts, d.status, msg, db.T(now), d.id)
			default:
				next := now.Add(s.backoff(attempts))
				if retry.IsZero() || next.Before(retry) {
					retry = next
				}
				_, err = tx.Exec(ctx, `UPDATE notify_deliveries SET attempts = ?, next_at = ?, last_status = ?, last_error = ?,
					updated_at = ? WHERE id = ?`, attempts, db.T(next), d.status, msg, db.T(now), d.id)
			}
			if err != nil {
				return fmt.Errorf("notify: delivery %d: %w", d.id, err)
			}
		}
		s.timer.AfterCommit(tx, retry)
		return nil
	})
}

// Retention: sent deliveries and their attempts are kept 30 days, read
// notifications 90 days; checked at most hourly.
const (
	keepSent = 30 * 24 * time.Hour
	keepRead = 90 * 24 * time.Hour
)

func (s *Service) maybePrune(ctx context.Context) {
	now := s.clock.Now()
	s.pruneMu.Lock()
	due := now.Sub(s.lastPrune) >= time.Hour
	if due {
		s.lastPrune = now
	}
	s.pruneMu.Unlock()
	if !due {
		return
	}
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM notify_deliveries WHERE state = 'sent' AND sent_at < ?`, db.T(now.Add(-keepSent))); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM notifications WHERE read_at IS NOT NULL AND read_at < ?`, db.T(now.Add(-keepRead)))
		return err
	})
	if err != nil && ctx.Err() == nil {
		s.log.Error("notify: prune", "err", strings.TrimSpace(err.Error()))
	}
}
