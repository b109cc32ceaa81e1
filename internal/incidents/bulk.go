package incidents

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/input"
)

// BulkInput is the body of POST /incidents/{ref}/resolve-cases: one reply
// (a resolve template of the desk by name, or a body of one's own, rendered
// per case) to every linked case's requester, and the resolution they get.
type BulkInput struct {
	Template   string `json:"template"`
	Body       string `json:"body"`
	Resolution string `json:"resolution"`
	Note       string `json:"note"`
}

// Bulk is a bulk resolve of an incident's linked cases.
type Bulk struct {
	ID         int64      `json:"id"`
	Incident   string     `json:"incident"`
	Total      int        `json:"total"`   // the linked cases it takes (those still open when it started)
	Done       int        `json:"done"`    // replied to and resolved
	Skipped    int        `json:"skipped"` // resolved meanwhile, or not visible to whoever asked
	Pending    int        `json:"pending"` // still queued
	Resolution string     `json:"resolution"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

// MayBulkResolve reports whether actor may bulk-resolve inc's cases: its
// commander, leads and admins.
func MayBulkResolve(actor auth.Actor, inc *Incident) bool {
	return MayWrite(actor) && (actor.Role == auth.RoleLead || actor.Role == auth.RoleAdmin || inc.Commander() == actor.Email)
}

// bulkBody is the body of a bulk reply: the named template or the body.
func bulkBody(cfg *desk.Config, inc *Incident, in BulkInput) (string, error) {
	if body := strings.TrimSpace(in.Body); body != "" {
		return body, nil
	}
	tpls := TemplatesFor(cfg, inc.Type, AudiencePublic, "resolve")
	if in.Template == "" && len(tpls) > 0 {
		return tpls[0].Body, nil
	}
	for _, t := range tpls {
		if t.Name == in.Template {
			return t.Body, nil
		}
	}
	names := []string{}
	for _, t := range tpls {
		names = append(names, t.Name)
	}
	return "", apperr.InvalidField("template", "no resolve template %q; one of %s", in.Template, strings.Join(names, ", "))
}

// caseData is what a bulk reply's template reads of case c.
func caseData(inc *Incident, c *cases.Case) TemplateData {
	d := DataOf(inc, nil)
	d.Case, d.Requester = c.Number, c.Requester.Name
	if d.Requester == "" {
		d.Requester = "there"
	}
	return d
}

// BulkResolve queues one templated public reply to the requester of every
// open linked case of resolved incident ref, and the resolve of each: the
// work is written in this transaction (each link pending, the bulk due
// now) and done by the incidents timer in batches, each case through
// cases.Service — its own timeline entries, SLA outcome and events.
func (s *Service) BulkResolve(ctx context.Context, actor auth.Actor, ref string, in BulkInput) (*Bulk, error) {
	if err := mayWrite(actor, "resolve linked cases"); err != nil {
		return nil, err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	inc, err := s.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if !MayBulkResolve(actor, inc) {
		return nil, &apperr.Forbidden{Detail: "only the incident commander, leads and admins resolve the linked cases"}
	}
	v := &apperr.Invalid{}
	note := strings.TrimSpace(in.Note)
	if in.Resolution == "" {
		v.Add("resolution", "is required; one of %s", strings.Join(cfg.Resolutions, ", "))
	} else if !cfg.HasResolution(in.Resolution) {
		v.Add("resolution", "unknown resolution %q; one of %s", in.Resolution, strings.Join(cfg.Resolutions, ", "))
	}
	if note == "" {
		v.Add("note", "say how the cases were resolved")
	}
	input.Check(v, "note", input.Text, note)
	body, err := bulkBody(cfg, inc, in)
	if err != nil {
		return nil, err
	}
	if out, err := Render(body, caseData(inc, &cases.Case{Number: "ESC-1"})); err != nil {
		v.Add("body", "%s", err.Error())
	} else {
		input.Check(v, "body", input.Comment, out)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	check := func(inc *Incident) error {
		if inc.Status != Resolved {
			return &apperr.Conflict{Detail: fmt.Sprintf("%s is %s: resolve the incident first", inc.Number, inc.Status)}
		}
		return nil
	}
	if err := check(inc); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := s.lock(ctx, tx, cfg, inc.ID)
		if err != nil {
			return err
		}
		if err := check(cur); err != nil {
			return err
		}
		var running int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM incident_bulk WHERE incident_id = ? AND finished_at IS NULL`, cur.ID).Scan(&running); err != nil {
			return fmt.Errorf("running bulk: %w", err)
		}
		if running > 0 {
			return &apperr.Conflict{Detail: cur.Number + " is resolving its linked cases already"}
		}
		if err := tx.QueryRow(ctx, `INSERT INTO incident_bulk (incident_id, body, resolution, note, actor_id, total, due_at, created_at)
			VALUES (?, ?, ?, ?, ?, 0, ?, ?) RETURNING id`, cur.ID, body, in.Resolution, note, db.NullID(actor.UserID),
			db.T(now), db.T(now)).Scan(&id); err != nil {
			return fmt.Errorf("insert bulk: %w", err)
		}
		res, err := tx.Exec(ctx, `UPDATE incident_cases SET reply_state = 'pending', bulk_id = ? WHERE incident_id = ?
			AND case_id IN (SELECT id FROM cases WHERE status NOT IN ('resolved', 'closed'))`, id, cur.ID)
		if err != nil {
			return fmt.Errorf("queue bulk: %w", err)
		}
		total, _ := res.RowsAffected()
		if total == 0 {
			return &apperr.Conflict{Detail: cur.Number + " has no open linked cases to resolve"}
		}
		if _, err := tx.Exec(ctx, `UPDATE incident_bulk SET total = ? WHERE id = ?`, total, id); err != nil {
			return err
		}
		if err := addEntry(ctx, tx, cur.ID, actor, now, "bulk_resolve_started", "", map[string]any{"bulk_id": id, "cases": total,
			"resolution": in.Resolution}); err != nil {
			return err
		}
		s.timer.AfterCommit(tx, now)
		return audit.Append(ctx, tx, now, audit.Entry{ActorID: actor.UserID, Actor: audit.ActorName(actor), Action: "incident.bulk_resolve",
			ObjectType: "incident", ObjectID: cur.Number, After: map[string]any{"bulk_id": id, "cases": total, "resolution": in.Resolution, "body": body}})
	})
	if err != nil {
		return nil, err
	}
	return s.bulk(ctx, s.db, id)
}

// LatestBulk is the latest bulk resolve of incident ref (nil: none).
func (s *Service) LatestBulk(ctx context.Context, actor auth.Actor, ref string) (*Bulk, error) {
	inc, err := s.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	var id int64
	err = s.db.QueryRow(ctx, `SELECT id FROM incident_bulk WHERE incident_id = ? ORDER BY id DESC LIMIT 1`, inc.ID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return s.bulk(ctx, s.db, id)
}

func (s *Service) bulk(ctx context.Context, q db.Querier, id int64) (*Bulk, error) {
	var b Bulk
	var incID int64
	var created, finished db.Time
	if err := q.QueryRow(ctx, `SELECT b.id, b.incident_id, b.total, b.done, b.skipped, b.resolution, b.created_at, b.finished_at,
		(SELECT COUNT(*) FROM incident_cases ic WHERE ic.bulk_id = b.id AND ic.reply_state = 'pending')
		FROM incident_bulk b WHERE b.id = ?`, id).Scan(&b.ID, &incID, &b.Total, &b.Done, &b.Skipped, &b.Resolution,
		&created, &finished, &b.Pending); err != nil {
		return nil, fmt.Errorf("load bulk %d: %w", id, err)
	}
	b.Incident, b.CreatedAt, b.FinishedAt = FormatNumber(incID), created.Time, finished.Ptr()
	return &b, nil
}

// fireBulk works the due bulk resolves batch by batch.
func (s *Service) fireBulk(ctx context.Context) error {
	for {
		var ids []int64
		ids, err := db.QueryIDs(ctx, s.db, `SELECT id FROM incident_bulk WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at, id LIMIT 10`,
			db.T(s.clock.Now()))
		if err != nil {
			return fmt.Errorf("due bulk resolves: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		for _, id := range ids {
			for {
				more, err := s.bulkBatch(ctx, id)
				if err != nil {
					return err
				}
				if !more {
					break
				}
			}
		}
	}
}

// RunBulk works the bulk resolve id to its end now (the benchmark and tests;
// the timer does the same).
func (s *Service) RunBulk(ctx context.Context, id int64) error {
	for {
		more, err := s.bulkBatch(ctx, id)
		if err != nil || !more {
			return err
		}
	}
}

// bulkBatch replies to and resolves one batch of bulk id's pending cases in
// one transaction and reports whether more are left. Each case is claimed
// under the bulk's row (SKIP LOCKED on PostgreSQL: another node has it)
// and re-read, so each gets its reply once.
func (s *Service) bulkBatch(ctx context.Context, id int64) (bool, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return false, err
	}
	batch := s.BulkBatch
	if batch <= 0 {
		batch = 500
	}
	more := false
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		more = false
		now := s.clock.Now()
		lock := ""
		if tx.Dialect() == db.Postgres {
			lock = " FOR UPDATE SKIP LOCKED"
		}
		var incID int64
		var actorID sql.NullInt64
		var body, resolution, note string
		var due db.Time
		err := tx.QueryRow(ctx, `SELECT incident_id, actor_id, body, resolution, note, due_at FROM incident_bulk WHERE id = ?`+lock, id).
			Scan(&incID, &actorID, &body, &resolution, &note, &due)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // another node works it
		}
		if err != nil {
			return fmt.Errorf("bulk %d: %w", id, err)
		}
		if due.IsZero() {
			return nil // finished meanwhile
		}
		inc, err := s.byID(ctx, tx, cfg, incID)
		if err != nil {
			return err
		}
		actor := flare
		if actorID.Valid {
			u, err := auth.GetUser(ctx, tx, actorID.Int64)
			if err != nil {
				return err
			}
			actor = auth.ActorFor(u)
		}
		tpl, err := parseTemplate(body)
		if err != nil {
			return err // checked when queued
		}
		// The batch with what the reply needs, and whether the sender sees each case.
		visible, vargs := "1", []any(nil)
		if cond, args := cases.Scope(actor); cond != "" {
			visible, vargs = "CASE WHEN ("+cond+") THEN 1 ELSE 0 END", args
		}
		rows, err := tx.Query(ctx, `SELECT c.id, c.number, c.requester_name, c.status, `+visible+` FROM incident_cases ic
			JOIN cases c ON c.id = ic.case_id WHERE ic.bulk_id = ? AND ic.reply_state = 'pending' ORDER BY ic.case_id LIMIT ?`,
			append(vargs, id, batch)...)
		if err != nil {
			return fmt.Errorf("bulk %d cases: %w", id, err)
		}
		type pending struct {
			id, number int64
			requester  string
			status     cases.Status
			visible    int
		}
		todo, err := db.Collect(rows, func(r db.Scanner) (pending, error) {
			var p pending
			return p, r.Scan(&p.id, &p.number, &p.requester, &p.status, &p.visible)
		})
		if err != nil {
			return fmt.Errorf("bulk %d cases: %w", id, err)
		}
		var done, skipped []any
		var items []cases.TransitionItem
		for _, p := range todo {
			if p.visible == 0 || cases.CheckTransition(p.status, cases.StatusResolved) != nil {
				skipped = append(skipped, p.id)
				continue
			}
			c := &cases.Case{Number: cases.FormatNumber(p.number), Requester: cases.Requester{Name: p.requester}}
			reply, err := execute(tpl, caseData(inc, c))
			if err != nil {
				return err
			}
			// One change per case: the reply and the resolve, with the case's own timeline entries, SLA outcome and events.
			items = append(items, cases.TransitionItem{ID: p.id, In: cases.TransitionInput{To: cases.StatusResolved,
				Resolution: resolution, Note: note, Reply: reply}})
		}
		_, errs, err := s.cases.TransitionManyInTx(ctx, tx, actor, items)
		if err != nil {
			return fmt.Errorf("bulk %d resolve: %w", id, err)
		}
		for i, it := range items {
			if errs[i] != nil { // refused by the case as it stands under its lock
				skipped = append(skipped, it.ID)
			} else {
				done = append(done, it.ID)
			}
		}
		for _, p := range []struct {
			state string
			ids   []any
		}{{"done", done}, {"skipped", skipped}} {
			for chunk := range slices.Chunk(p.ids, 500) {
				if _, err := tx.Exec(ctx, `UPDATE incident_cases SET reply_state = ?, replied_at = ? WHERE bulk_id = ? AND reply_state = 'pending' AND case_id IN (`+
					db.Placeholders(len(chunk))+`)`, append([]any{p.state, db.T(now), id}, chunk...)...); err != nil {
					return fmt.Errorf("bulk %d progress: %w", id, err)
				}
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE incident_bulk SET done = done + ?, skipped = skipped + ? WHERE id = ?`, len(done), len(skipped), id); err != nil {
			return err
		}
		if len(todo) == batch {
			more = true
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE incident_bulk SET due_at = NULL, finished_at = ? WHERE id = ?`, db.T(now), id); err != nil {
			return err
		}
		b, err := s.bulk(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := addEntry(ctx, tx, incID, actor, now, "cases_resolved", "", map[string]any{"bulk_id": id, "done": b.Done,
			"skipped": b.Skipped, "resolution": resolution}); err != nil {
			return err
		}
		return s.publish(ctx, tx, actor, events.IncidentCasesResolved, inc, &events.Incident{Count: b.Done}, now)
	})
	return more, err
}
