package postmortems

import (
	"context"
	"fmt"
	"time"

	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/events"
)

// The reminders timer, as the SLA and escalation timers: the schedule is
// action_items.remind_at (indexed), written in the transaction that makes
// or changes the item; a deadline.Timer per server sleeps until the
// earliest, sends every reminder that has come due, and sleeps again.
// Each reminder is a state change under the item's row lock (FOR UPDATE
// SKIP LOCKED on PostgreSQL: another node has those), re-read and sent only
// if still due — so each fires once, across restarts and nodes. A server
// that was down past the due date sends the overdue reminder only: "due
// soon" after the fact helps nobody.

const fireBatch = 100

// FireReminders sends every reminder that has come due and returns the
// earliest one still ahead (zero if none).
func (s *Service) FireReminders(ctx context.Context) (time.Time, error) {
	for {
		n := 0
		err := s.db.InTx(ctx, func(tx *db.Tx) error {
			now := s.clock.Now().UTC().Truncate(time.Microsecond)
			q := `SELECT id FROM action_items WHERE remind_at IS NOT NULL AND remind_at <= ? ORDER BY remind_at, id LIMIT ?`
			if tx.Dialect() == db.Postgres {
				q += ` FOR UPDATE SKIP LOCKED`
			}
			ids, err := db.QueryIDs(ctx, tx, q, db.T(now), fireBatch)
			if err != nil {
				return fmt.Errorf("due reminders: %w", err)
			}
			n = len(ids)
			for _, id := range ids {
				if err := s.remind(ctx, tx, id, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return time.Time{}, err
		}
		if n < fireBatch {
			break
		}
	}
	var next db.Time
	if err := s.db.QueryRow(ctx, `SELECT MIN(remind_at) FROM action_items WHERE remind_at IS NOT NULL`).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("next reminder: %w", err)
	}
	return next.Time, nil
}

// remind sends item id's reminder due at now, if it still is, and
// schedules the next.
func (s *Service) remind(ctx context.Context, tx *db.Tx, id int64, now time.Time) error {
	it, err := itemByID(ctx, tx, id, now)
	if err != nil {
		return err
	}
	if it.RemindAt == nil || it.RemindAt.After(now) {
		return nil // changed meanwhile
	}
	soon, overdue := it.RemindedSoonAt, it.RemindedOverdueAt
	var kind events.Type
	switch {
	case !it.Status.Active():
	case overdue == nil && !now.Before(it.DueAt):
		kind, overdue = events.ActionItemOverdue, &now
		if soon == nil {
			soon = &now // passed while nobody ran: only the overdue one is sent
		}
	case soon == nil:
		kind, soon = events.ActionItemDueSoon, &now
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return err
	}
	var next time.Time
	if it.Status.Active() {
		next = NextReminder(it.DueAt, SettingsOf(cfg).remindBefore(), soon != nil, overdue != nil, now)
		if !next.After(now) && kind == "" {
			next = time.Time{} // nothing left to send
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE action_items SET remind_at = ?, reminded_soon_at = ?, reminded_overdue_at = ? WHERE id = ?`,
		db.T(next), timePtr(soon), timePtr(overdue), id); err != nil {
		return fmt.Errorf("remind action item %d: %w", id, err)
	}
	if kind != "" {
		if err := s.publish(ctx, tx, flare, kind, itemEvent(it, nil), now); err != nil {
			return err
		}
	}
	s.timer.AfterCommit(tx, next)
	return nil
}
