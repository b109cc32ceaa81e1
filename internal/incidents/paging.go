package incidents

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
)

// Page is the paging of an incident's on-call commander: the round now
// waiting, the people it asks, its acknowledgement deadline.
type Page struct {
	ID      int64      `json:"id"`
	Team    string     `json:"team"`
	Round   int        `json:"round"` // 0: the first page; 1: repeated and stepped up; …
	Targets []string   `json:"targets"`
	DueAt   *time.Time `json:"due_at"` // null once acknowledged, or when no round is left
	AckedBy string     `json:"acked_by,omitempty"`
	AckedAt *time.Time `json:"acked_at"`
	PagedAt time.Time  `json:"paged_at"`
}

// MaxPageRounds is how many times a page is sent before it stops waiting:
// the first page, the repeat stepped up, and a last repeat.
const MaxPageRounds = 3

// PageTargets is who round asks: the on-call of the team (its members
// without a schedule); from the second round also the step-up people (the
// desk's, else the team's leads). Pure.
func PageTargets(round int, onCall, members, stepUp []string) []string {
	out := slices.Clone(onCall)
	if len(out) == 0 {
		out = slices.Clone(members)
	}
	if round > 0 {
		for _, e := range stepUp {
			if !slices.Contains(out, e) {
				out = append(out, e)
			}
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// page starts (round 0) or repeats the page of inc in tx.
func (s *Service) page(ctx context.Context, tx *db.Tx, cfg *desk.Config, inc *Incident, team string, round int, prev *Page, now time.Time) error {
	targets, err := s.pageTargets(ctx, tx, cfg, team, round, now)
	if err != nil {
		return err
	}
	def := SeverityOf(cfg, inc.Severity)
	var due any
	var deadline time.Time
	if round < MaxPageRounds-1 {
		deadline = now.Add(def.AckDuration())
		due = db.T(deadline)
	}
	if prev == nil {
		_, err = tx.Exec(ctx, `INSERT INTO incident_pages (incident_id, team, round, targets, due_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, inc.ID, team, round, mustJSON(targets), due, db.T(now), db.T(now))
	} else {
		_, err = tx.Exec(ctx, `UPDATE incident_pages SET round = ?, targets = ?, due_at = ?, updated_at = ? WHERE id = ?`,
			round, mustJSON(targets), due, db.T(now), prev.ID)
	}
	if err != nil {
		return fmt.Errorf("page incident %d: %w", inc.ID, err)
	}
	data := map[string]any{"team": team, "round": round, "targets": targets}
	if !deadline.IsZero() {
		data["ack_by"] = deadline
	}
	if err := addEntry(ctx, tx, inc.ID, flare, now, "paged", "", data); err != nil {
		return err
	}
	s.timer.AfterCommit(tx, deadline)
	return s.publish(ctx, tx, flare, events.IncidentPaged, inc,
		&events.Incident{Round: round, AckDeadline: deadline, Notify: targets}, now)
}

func (s *Service) pageTargets(ctx context.Context, q db.Querier, cfg *desk.Config, team string, round int, now time.Time) ([]string, error) {
	var onCall []string
	if s.oncall != nil {
		var err error
		if onCall, err = s.oncall.OnCallAt(ctx, team, now); err != nil {
			return nil, fmt.Errorf("on-call of %s: %w", team, err)
		}
	}
	users, err := auth.ListUsers(ctx, q)
	if err != nil {
		return nil, err
	}
	var members, leads []string
	for _, u := range users {
		if !u.Active || !slices.Contains(u.Teams, team) {
			continue
		}
		members = append(members, u.Email)
		if u.Role == auth.RoleLead {
			leads = append(leads, u.Email)
		}
	}
	stepUp := SettingsOf(cfg).StepUp
	if len(stepUp) == 0 {
		stepUp = leads
	}
	return PageTargets(round, onCall, members, stepUp), nil
}

// Acknowledge acknowledges the page of incident ref: the acknowledged
// moment is set, the page stops, and whoever acknowledges becomes the
// commander if there is none. The people paged, the commander team's
// members, leads and admins may.
func (s *Service) Acknowledge(ctx context.Context, actor auth.Actor, ref string) (*Incident, error) {
	cfg, id, err := s.target(ctx, actor, ref, "acknowledge incident pages")
	if err != nil {
		return nil, err
	}
	check := func(inc *Incident) error {
		p := inc.Paging
		switch {
		case p == nil:
			return &apperr.Conflict{Detail: inc.Number + " has no page to acknowledge"}
		case p.AckedAt != nil:
			return &apperr.Conflict{Detail: fmt.Sprintf("%s was acknowledged by %s already", inc.Number, p.AckedBy)}
		case !slices.Contains(p.Targets, actor.Email) && !actor.InTeam(p.Team) &&
			actor.Role != auth.RoleLead && actor.Role != auth.RoleAdmin:
			return &apperr.Forbidden{Detail: "only the people paged, the commander team, leads and admins acknowledge the page"}
		}
		return nil
	}
	return s.change(ctx, actor, cfg, id, change{check: check, action: "incident.acknowledge", event: events.IncidentAcknowledged,
		write: func(ctx context.Context, tx *db.Tx, before *Incident, now time.Time) (*events.Incident, error) {
			if _, err := tx.Exec(ctx, `UPDATE incident_pages SET acked_by = ?, acked_at = ?, due_at = NULL, updated_at = ? WHERE id = ?`,
				db.NullID(actor.UserID), db.T(now), db.T(now), before.Paging.ID); err != nil {
				return nil, fmt.Errorf("acknowledge page: %w", err)
			}
			if before.Moments.Acknowledged == nil {
				if _, err := tx.Exec(ctx, `UPDATE incidents SET acknowledged_at = ?, updated_at = ? WHERE id = ?`,
					db.T(now), db.T(now), id); err != nil {
					return nil, fmt.Errorf("acknowledge incident: %w", err)
				}
				if err := addEntry(ctx, tx, id, actor, now, "moment", "", map[string]any{"moment": Acknowledged}); err != nil {
					return nil, err
				}
			}
			waited := int64(now.Sub(before.Paging.PagedAt) / time.Second)
			if err := addEntry(ctx, tx, id, actor, now, "acknowledged", "", map[string]any{"round": before.Paging.Round, "waited_s": waited}); err != nil {
				return nil, err
			}
			if before.Commander() == "" {
				u, err := auth.GetUser(ctx, tx, actor.UserID)
				if err != nil {
					return nil, err
				}
				if err := s.setRole(ctx, tx, cfg, actor, id, RoleCommander, u, now); err != nil {
					return nil, err
				}
			}
			return &events.Incident{To: actor.Email}, nil
		}})
}

// firePages repeats every page whose deadline has passed, a round up.
func (s *Service) firePages(ctx context.Context, cfg *desk.Config) error {
	for {
		n := 0
		err := s.db.InTx(ctx, func(tx *db.Tx) error {
			now := s.clock.Now()
			q := `SELECT id, incident_id FROM incident_pages WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at, id LIMIT 50`
			if tx.Dialect() == db.Postgres {
				q += ` FOR UPDATE SKIP LOCKED`
			}
			rows, err := tx.Query(ctx, q, db.T(now))
			if err != nil {
				return fmt.Errorf("due pages: %w", err)
			}
			var due [][2]int64
			for rows.Next() {
				var p [2]int64
				if err := rows.Scan(&p[0], &p[1]); err != nil {
					rows.Close()
					return err
				}
				due = append(due, p)
			}
			if err := rows.Close(); err != nil {
				return err
			}
			n = len(due)
			for _, p := range due {
				inc, err := s.lock(ctx, tx, cfg, p[1])
				if err != nil {
					return err
				}
				pg := inc.Paging
				if pg == nil || pg.ID != p[0] || pg.DueAt == nil || pg.DueAt.After(now) || pg.AckedAt != nil {
					continue
				}
				if !inc.Status.Active() { // resolved meanwhile: nobody needs waking
					if _, err := tx.Exec(ctx, `UPDATE incident_pages SET due_at = NULL, updated_at = ? WHERE id = ?`, db.T(now), pg.ID); err != nil {
						return err
					}
					continue
				}
				if err := s.page(ctx, tx, cfg, inc, pg.Team, pg.Round+1, pg, *pg.DueAt); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || n < 50 {
			return err
		}
	}
}
