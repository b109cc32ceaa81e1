package escalation

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
)

// The acknowledgement deadlines' timer, as the SLA deadlines': the
// deadline is escalations.due_at (indexed), written in the transaction that
// starts or steps the escalation; a deadline.Timer per server sleeps until
// the earliest, steps every escalation that has come due, and sleeps again.
// A step starts at its predecessor's deadline, not when the timer got to
// it, so a server that was down catches up instant by instant (the timer
// comes straight back while a deadline is still past). Every change to an
// escalation locks its case first: the timer claims due escalations by
// locking their cases (SKIP LOCKED on PostgreSQL: another node or a change
// has those), then re-reads each under the lock and steps it only if it is
// still open and due — so each deadline fires once, across restarts and
// nodes.

const fireBatch = 100

// FireSteps steps every escalation whose deadline has come and returns the
// earliest deadline still ahead (zero if none).
func (s *Service) FireSteps(ctx context.Context) (time.Time, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return time.Time{}, err
	}
	for {
		n := 0
		err := s.db.InTx(ctx, func(tx *db.Tx) error {
			now := s.clock.Now()
			q := `SELECT e.id FROM escalations e JOIN cases c ON c.id = e.case_id
				WHERE e.due_at IS NOT NULL AND e.due_at <= ? ORDER BY e.due_at, e.id LIMIT ?`
			if tx.Dialect() == db.Postgres {
				q += ` FOR UPDATE OF c SKIP LOCKED`
			}
			ids, err := db.QueryIDs(ctx, tx, q, db.T(now), fireBatch)
			if err != nil {
				return fmt.Errorf("due escalations: %w", err)
			}
			n = len(ids)
			for _, id := range ids {
				if err := s.step(ctx, tx, cfg, id, now); err != nil {
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
	if err := s.db.QueryRow(ctx, `SELECT MIN(due_at) FROM escalations WHERE due_at IS NOT NULL`).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("next escalation deadline: %w", err)
	}
	return next.Time, nil
}

// step moves the escalation id on from its passed deadline: the next step,
// the next round or the fallback, raising the case's level to the step's.
func (s *Service) step(ctx context.Context, tx *db.Tx, cfg *desk.Config, id int64, now time.Time) error {
	pre, err := s.byID(ctx, tx, cfg, id)
	if err != nil {
		return err
	}
	var before *Escalation
	var kind events.Type
	var from int
	var due time.Time
	var reason string
	cs, err := s.cases.ChangeInTx(ctx, tx, flare, strconv.FormatInt(pre.CaseID, 10), auth.PermCaseWrite, func(c *cases.Case) ([]cases.Entry, error) {
		kind, before = "", nil
		e, err := s.byID(ctx, tx, cfg, id) // under the case's lock
		if err != nil {
			return nil, err
		}
		if e.State != Open || e.DueAt == nil || e.DueAt.After(now) {
			return nil, nil // acknowledged, closed or stepped meanwhile (by another node)
		}
		before, from = e, c.EscalationLevel
		pol, ok := PolicyNamed(cfg, e.Policy)
		if !ok || len(pol.Steps) == 0 {
			kind, reason = events.EscalationClosed, fmt.Sprintf("the policy %q is no longer on the desk", e.Policy)
			entry, err := s.closeRow(ctx, tx, flare, e, reason, now)
			return []cases.Entry{entry}, err
		}
		pos, ok := pol.Next(Position{Step: e.Step, Round: e.Round})
		if !ok { // the policy changed under it: nothing follows, it waits
			_, err := tx.Exec(ctx, `UPDATE escalations SET due_at = NULL, updated_at = ? WHERE id = ?`, db.T(now), id)
			return nil, err
		}
		started := *e.DueAt
		emails, err := s.resolve(ctx, tx, c, pol.Targets(pos), now)
		if err != nil {
			return nil, err
		}
		level := max(e.Level, pol.Level(pos))
		due = pol.Deadline(pos, started)
		if _, err := tx.Exec(ctx, `UPDATE escalations SET step = ?, round = ?, level = ?, targets = ?, due_at = ?,
			step_started_at = ?, updated_at = ? WHERE id = ?`, pos.Step, pos.Round, level, mustJSON(emails), timeOrNil(due),
			db.T(started), db.T(now), id); err != nil {
			return nil, fmt.Errorf("step escalation %d: %w", id, err)
		}
		kind = events.EscalationStepped
		data := map[string]any{"escalation_id": id, "policy": e.Policy, "step": pos.Step, "round": pos.Round,
			"level": level, "targets": emails, "missed": started}
		if !due.IsZero() {
			data["due_at"] = due
		}
		entries := []cases.Entry{{Type: "escalation_stepped", Data: data}}
		if level > c.EscalationLevel {
			entries = append(entries, levelChange(c.EscalationLevel, level))
			c.EscalationLevel = level
		}
		return entries, nil
	})
	if err != nil || kind == "" {
		return err
	}
	after, err := s.byID(ctx, tx, cfg, id)
	if err != nil {
		return err
	}
	action := "escalation.step"
	if kind == events.EscalationClosed {
		action = "escalation.close"
	}
	if err := s.audit(ctx, tx, flare, action, after, before, now); err != nil {
		return err
	}
	if err := s.publish(ctx, tx, flare, cs, kind, after, from, reason, now); err != nil {
		return err
	}
	s.timer.AfterCommit(tx, due)
	return nil
}
