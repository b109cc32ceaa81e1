// Package merge merges one case into another: an agent finds that case B
// is the same issue as case A and folds B into A. In one transaction B's
// timeline (its comments and entries, with their own times and a pointer
// "from ESC-B") appears in A's, B is resolved and closed with resolution
// "merged" and a pointer to A, B's requester and watchers become known
// requesters and watchers of A, both cases are audited and the event
// case.merged is published.
package merge

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/input"
)

// Resolution is the resolution of a merged case.
const Resolution = "merged"

// Timeline entry types a merge adds.
const (
	EntryCopied = "merged_entry" // one of B's entries, copied into A: data {from, type, …its data}
	EntryInto   = "merged_into"  // on B: {into, reason}
	EntryFrom   = "merged_from"  // on A: {from, reason, entries}
)

// Service merges cases.
type Service struct {
	db    *db.DB
	cases *cases.Service
	clock clock.Clock
}

// New returns the merge service.
func New(d *db.DB, cs *cases.Service, c clock.Clock) *Service {
	return &Service{db: d, cases: cs, clock: c}
}

// Input is the body of POST /cases/{ref}/merge: merge the case into Into.
type Input struct {
	Into   string `json:"into"`
	Reason string `json:"reason"`
}

// Merge is one merge: the case merged (closed) and the case it went into.
type Merge struct {
	Case      string           `json:"case"` // B, ESC number
	Into      string           `json:"into"` // A
	Reason    string           `json:"reason"`
	By        string           `json:"by,omitempty"` // email
	Entries   int              `json:"entries"`      // B's timeline entries copied into A
	Requester *cases.Requester `json:"requester,omitempty"`
	At        time.Time        `json:"at"`
}

// Result is what a merge answers: the merge and both cases after it.
type Result struct {
	Merge
	Merged *cases.Case `json:"merged"` // B, closed
	Target *cases.Case `json:"target"` // A
}

// Info is what a case page shows of merges: the case it was merged into,
// and the cases merged into it with their requesters.
type Info struct {
	MergedInto string  `json:"merged_into,omitempty"`
	MergedFrom []Merge `json:"merged_from"`
}

// Merge merges the case ref (B) into in.Into (A).
func (s *Service) Merge(ctx context.Context, actor auth.Actor, ref string, in Input) (*Result, error) {
	v := &apperr.Invalid{}
	into := strings.TrimSpace(in.Into)
	reason := strings.TrimSpace(in.Reason)
	if _, n, ok := cases.ParseRef(into); !ok || n == 0 {
		v.Add("into", "must be a case number such as ESC-1042")
	}
	if reason == "" {
		v.Add("reason", "say why the cases are the same issue")
	} else {
		input.Check(v, "reason", input.Reason, reason)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	b, err := s.cases.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if !actor.Can(auth.PermCaseWrite) || cases.PublicOnly(actor) {
		return nil, &apperr.Forbidden{Detail: "your role cannot change cases, so it cannot merge them"}
	}
	a, err := s.cases.Get(ctx, actor, into)
	if errors.Is(err, apperr.ErrNotFound) {
		return nil, apperr.InvalidField("into", "no case %s that you can see", into)
	}
	if err != nil {
		return nil, err
	}
	if err := mergeProblem(b, a); err != nil {
		return nil, err
	}
	var res *Result
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err = s.mergeTx(ctx, tx, actor, b.ID, a.ID, reason)
		return err
	})
	if err != nil {
		return nil, err
	}
	// Both cases as they are now, with watchers and clocks.
	if res.Merged, err = s.cases.Get(ctx, auth.System("merge"), res.Case); err != nil {
		return nil, err
	}
	if res.Target, err = s.cases.Get(ctx, auth.System("merge"), res.Into); err != nil {
		return nil, err
	}
	return res, nil
}

// mergeProblem is why b cannot be merged into a, if it cannot: a conflict
// with the cases' states, or the same case twice.
func mergeProblem(b, a *cases.Case) error {
	switch {
	case a.ID == b.ID:
		return apperr.InvalidField("into", "a case cannot be merged into itself")
	case b.Status == cases.StatusClosed:
		return &apperr.Conflict{Detail: fmt.Sprintf("%s is closed%s; only an open or resolved case can be merged", b.Number, mergedNote(b))}
	case !a.Status.Active():
		return &apperr.Conflict{Detail: fmt.Sprintf("%s is %s%s; merge into a case that is still being worked on", a.Number, a.Status, mergedNote(a))}
	}
	return nil
}

func mergedNote(c *cases.Case) string {
	if c.Resolution == Resolution {
		return " (merged)"
	}
	return ""
}

// mergeTx is the merge in tx: the cases are locked lower id first, so two
// merges of the same pair in opposite directions cannot deadlock.
func (s *Service) mergeTx(ctx context.Context, tx *db.Tx, actor auth.Actor, bID, aID int64, reason string) (*Result, error) {
	now := s.clock.Now()
	noop := func(*cases.Case) ([]cases.Entry, error) { return nil, nil }
	if _, err := s.cases.ChangeInTx(ctx, tx, actor, strconv.FormatInt(min(aID, bID), 10), auth.PermCaseWrite, noop); err != nil {
		return nil, err
	}
	b, err := s.cases.ChangeInTx(ctx, tx, actor, strconv.FormatInt(bID, 10), auth.PermCaseWrite, noop)
	if err != nil {
		return nil, err
	}
	a, err := s.cases.ChangeInTx(ctx, tx, actor, strconv.FormatInt(aID, 10), auth.PermCaseWrite, noop)
	if err != nil {
		return nil, err
	}
	if err := mergeProblem(b, a); err != nil {
		var inv *apperr.Invalid
		if errors.As(err, &inv) {
			return nil, err
		}
		return nil, &apperr.Conflict{Detail: err.Error()}
	}
	copies, err := timeline(ctx, tx, b)
	if err != nil {
		return nil, err
	}
	known, err := knownPeople(ctx, tx, b)
	if err != nil {
		return nil, err
	}
	// B: resolved as merged (its handoffs and escalations end as on any
	// resolve), then closed, with the pointer to A.
	note := fmt.Sprintf("Merged into %s: %s", a.Number, reason)
	if b.Status != cases.StatusResolved {
		if b, err = s.cases.ChangeInTx(ctx, tx, actor, b.Number, auth.PermCaseWrite, func(c *cases.Case) ([]cases.Entry, error) {
			from := c.Status
			c.Status, c.Resolution, c.ResolutionNote, c.ResolvedAt = cases.StatusResolved, Resolution, note, &now
			return []cases.Entry{{Type: "status", Data: map[string]any{"from": from, "to": cases.StatusResolved,
				"resolution": Resolution, "note": note}}}, nil
		}); err != nil {
			return nil, err
		}
	}
	if b, err = s.cases.ChangeInTx(ctx, tx, actor, b.Number, auth.PermCaseWrite, func(c *cases.Case) ([]cases.Entry, error) {
		c.Status, c.Resolution, c.ResolutionNote, c.ClosedAt = cases.StatusClosed, Resolution, note, &now
		return []cases.Entry{
			{Type: "status", Data: map[string]any{"from": cases.StatusResolved, "to": cases.StatusClosed, "note": note}},
			{Type: EntryInto, Data: map[string]any{"into": a.Number, "reason": reason}},
		}, nil
	}); err != nil {
		return nil, err
	}
	// A: the pointer, B's timeline in its own times, the people B had.
	if a, err = s.cases.ChangeInTx(ctx, tx, actor, a.Number, auth.PermCaseWrite, func(*cases.Case) ([]cases.Entry, error) {
		return []cases.Entry{{Type: EntryFrom, Data: map[string]any{"from": b.Number, "reason": reason, "entries": len(copies)}}}, nil
	}); err != nil {
		return nil, err
	}
	for _, e := range copies {
		if err := s.cases.AddEntries(ctx, tx, auth.Actor{UserID: e.actorID}, a.ID, e.at, []cases.Entry{{Type: EntryCopied, Data: e.data}}); err != nil {
			return nil, err
		}
	}
	aWatchers, err := watcherEmails(ctx, tx, a.ID)
	if err != nil {
		return nil, err
	}
	union := slices.Clone(aWatchers)
	for _, e := range known {
		if !slices.Contains(union, e) && (a.Owner == nil || *a.Owner != e) {
			union = append(union, e)
		}
	}
	if len(union) > len(aWatchers) {
		if _, err := s.cases.Update(db.Join(ctx, tx), actor, a.Number, cases.UpdateInput{Watchers: &union}); err != nil {
			return nil, err
		}
	}
	m := Merge{Case: b.Number, Into: a.Number, Reason: reason, Entries: len(copies), At: now}
	if actor.UserID != 0 {
		m.By = actor.Email
	}
	if b.Requester.Email != "" || b.Requester.Name != "" {
		r := b.Requester
		m.Requester = &r
	}
	if _, err := tx.Exec(ctx, `INSERT INTO case_merges (case_id, into_id, reason, actor_id, requester_name,
		requester_email, entries, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		b.ID, a.ID, reason, db.NullID(actor.UserID), b.Requester.Name, b.Requester.Email, len(copies), db.T(now)); err != nil {
		return nil, fmt.Errorf("record merge: %w", err)
	}
	if err := audit.Append(ctx, tx, now, audit.Entry{ActorID: actor.UserID, Actor: audit.ActorName(actor),
		Action: "case.merge", ObjectType: "case", ObjectID: b.Number,
		Before: map[string]any{"case": b.Number}, After: map[string]any{"case": b.Number, "into": a.Number, "reason": reason, "entries": len(copies)}}); err != nil {
		return nil, err
	}
	ev := events.Event{Type: events.CaseMerged, At: now, Actor: cases.EventActor(actor), Case: cases.EventCase(b),
		Data: &events.Merged{Into: a.Number, IntoID: a.ID, Reason: reason, Entries: len(copies), Watchers: union}}
	if err := s.cases.Bus().Publish(ctx, tx, ev); err != nil {
		return nil, err
	}
	return &Result{Merge: m}, nil
}

// copied is one of B's timeline entries as it goes into A.
type copied struct {
	actorID int64
	at      time.Time
	data    map[string]any
}

// timeline reads B's entries, oldest first, as copies for A: each keeps its
// type, data, author and time, with "from" B. A comment's copy carries its
// body and whether it was internal; an internal note stays internal (the
// copies are not on A's public side at all).
func timeline(ctx context.Context, tx *db.Tx, b *cases.Case) ([]copied, error) {
	rows, err := tx.Query(ctx, `SELECT e.type, e.actor_id, e.data, e.created_at, cm.body, cm.internal,
		cm.from_name, cm.from_email FROM case_events e LEFT JOIN case_comments cm ON e.type = 'comment' AND cm.case_id = e.case_id AND cm.id = `+
		db.JSONInt(tx.Dialect(), "e.data", "comment_id")+`
		WHERE e.case_id = ? ORDER BY e.created_at, e.id`, b.ID)
	if err != nil {
		return nil, fmt.Errorf("merge: read %s's timeline: %w", b.Number, err)
	}
	defer rows.Close()
	var out []copied
	for rows.Next() {
		var (
			typ, data string
			actorID   sql.NullInt64
			at        db.Time
			body      sql.NullString
			internal  sql.NullBool
			fromName  sql.NullString
			fromEmail sql.NullString
		)
		if err := rows.Scan(&typ, &actorID, &data, &at, &body, &internal, &fromName, &fromEmail); err != nil {
			return nil, fmt.Errorf("merge: read %s's timeline: %w", b.Number, err)
		}
		d := map[string]any{}
		if err := json.Unmarshal([]byte(data), &d); err != nil {
			return nil, fmt.Errorf("merge: read %s's timeline: %w", b.Number, err)
		}
		delete(d, "assessed") // routing's record of what it read on B, not A's
		d["from"], d["type"] = b.Number, typ
		if body.Valid {
			d["body"], d["internal"] = body.String, internal.Bool
		}
		if fromEmail.String != "" { // a requester's own words, from outside Flare
			d["from_name"], d["from_email"] = fromName.String, fromEmail.String
		}
		out = append(out, copied{actorID: actorID.Int64, at: at.Time, data: d})
	}
	return out, rows.Err()
}

// knownPeople are the Flare users B had: its watchers, whoever raised it
// (an account manager through the portal) and its requester when the
// requester is a user; they become watchers of A.
func knownPeople(ctx context.Context, tx *db.Tx, b *cases.Case) ([]string, error) {
	out, err := watcherEmails(ctx, tx, b.ID)
	if err != nil {
		return nil, err
	}
	add := func(email string) {
		if email != "" && !slices.Contains(out, email) {
			out = append(out, email)
		}
	}
	if b.CreatedBy != 0 {
		u, err := auth.GetUser(ctx, tx, b.CreatedBy)
		if err == nil && u.Active {
			add(u.Email)
		}
	}
	if b.Requester.Email != "" {
		u, err := auth.UserByEmail(ctx, tx, auth.NormaliseEmail(b.Requester.Email))
		if err == nil && u.Active {
			add(u.Email)
		} else if err != nil && !errors.Is(err, auth.ErrNotFound) {
			return nil, err
		}
	}
	return out, nil
}

func watcherEmails(ctx context.Context, q db.Querier, caseID int64) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT u.email FROM case_watchers w JOIN users u ON u.id = w.user_id
		WHERE w.case_id = ? ORDER BY u.email`, caseID)
	if err != nil {
		return nil, fmt.Errorf("merge: watchers: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ForCase is what the case ref shows of merges, for whoever may see it.
func (s *Service) ForCase(ctx context.Context, actor auth.Actor, ref string) (*Info, error) {
	c, err := s.cases.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	return s.infoOf(ctx, c)
}

// InfoOf is ForCase for a case already read with its visibility checked.
func (s *Service) InfoOf(ctx context.Context, c *cases.Case) (*Info, error) { return s.infoOf(ctx, c) }

func (s *Service) infoOf(ctx context.Context, c *cases.Case) (*Info, error) {
	rows, err := s.db.Query(ctx, `SELECT b.number, a.number, m.case_id, m.reason, u.email, m.requester_name,
		m.requester_email, m.entries, m.created_at
		FROM case_merges m JOIN cases b ON b.id = m.case_id JOIN cases a ON a.id = m.into_id
		LEFT JOIN users u ON u.id = m.actor_id
		WHERE m.case_id = ? OR m.into_id = ? ORDER BY m.id`, c.ID, c.ID)
	if err != nil {
		return nil, fmt.Errorf("merges of %s: %w", c.Number, err)
	}
	defer rows.Close()
	info := &Info{MergedFrom: []Merge{}}
	for rows.Next() {
		var (
			m          Merge
			bn, an     int64
			bID        int64
			by         sql.NullString
			name, mail string
			at         db.Time
		)
		if err := rows.Scan(&bn, &an, &bID, &m.Reason, &by, &name, &mail, &m.Entries, &at); err != nil {
			return nil, fmt.Errorf("merges of %s: %w", c.Number, err)
		}
		m.Case, m.Into, m.By, m.At = cases.FormatNumber(bn), cases.FormatNumber(an), by.String, at.Time
		if name != "" || mail != "" {
			m.Requester = &cases.Requester{Name: name, Email: mail}
		}
		if bID == c.ID {
			info.MergedInto = m.Into
		} else {
			info.MergedFrom = append(info.MergedFrom, m)
		}
	}
	return info, rows.Err()
}
