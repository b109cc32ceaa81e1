package cases

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
)

// Batched changes: the same rules as changeTx (the status machine, the
// transition plan, events, SLA outcome, audit record per case), with the
// work that does not belong to one case done once per batch — one read of
// the cases (locked on PostgreSQL), one of their SLA histories and
// sellers' tiers, one insert of their timeline entries and one save of
// their clocks — for capabilities that move thousands of cases at once
// (an incident's bulk resolve).

// TransitionItem is one case's move in a TransitionManyInTx batch.
type TransitionItem struct {
	ID int64
	In TransitionInput
}

// TransitionManyInTx moves each case of items as TransitionInTx would, in
// tx, for one actor. A case the actor cannot see or write, or whose input
// or state the transition refuses (not found, forbidden, invalid,
// conflict), is left as it is and its error returned at its index of
// errs; any other error fails the batch. moved holds the cases moved, as
// they are after the change, in the order of items.
func (s *Service) TransitionManyInTx(ctx context.Context, tx *db.Tx, actor auth.Actor, items []TransitionItem) (moved []*Case, errs []error, err error) {
	errs = make([]error, len(items))
	if len(items) == 0 {
		return nil, errs, nil
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	loaded, err := s.loadManyForUpdate(ctx, tx, ids)
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[int64]*Case, len(loaded))
	for _, c := range loaded {
		byID[c.ID] = c
	}
	now := s.clock.Now()
	type change struct {
		before Case
		c      *Case
		recs   []eventRec
	}
	var changes []*change
	var entries []batchEntry
	var saves []*Case // saved together: only their status columns changed
	for i, it := range items {
		c := byID[it.ID]
		switch {
		case c == nil || !s.CanSee(ctx, actor, c):
			errs[i] = apperr.ErrNotFound
			continue
		case !actor.Can(auth.PermCaseWrite):
			errs[i] = &apperr.Forbidden{Detail: "your role cannot change this case"}
			continue
		}
		delete(byID, it.ID) // a case named twice moves once
		before := *c
		recs, err := runPlan(ctx, tx, c, s.transition(ctx, cfg, actor, it.In))
		if err != nil {
			var inv *apperr.Invalid
			var cf *apperr.Conflict
			if errors.As(err, &inv) || errors.As(err, &cf) {
				errs[i] = err
				continue
			}
			return nil, nil, err
		}
		if len(recs) == 0 {
			continue
		}
		c.UpdatedAt = now
		if statusOnly(&before, c) {
			saves = append(saves, c)
		} else if err := saveCase(ctx, tx, c); err != nil {
			return nil, nil, err
		}
		noteChange(ctx, c.ID)
		for _, r := range recs {
			entries = append(entries, batchEntry{c.ID, r})
		}
		changes = append(changes, &change{before: before, c: c, recs: recs})
	}
	if len(changes) == 0 {
		return nil, errs, nil
	}
	if err := saveStatusBatch(ctx, tx, saves); err != nil {
		return nil, nil, err
	}
	if err := addEventsBatch(ctx, tx, actor, now, entries); err != nil {
		return nil, nil, err
	}
	// Subscribers may change the cases in answer (nested.go): re-read those.
	ctx, nest := watchNested(ctx)
	refresh := func() error {
		for _, ch := range changes {
			if !nest.take(ch.c.ID) {
				continue
			}
			fresh, err := s.load(ctx, tx, strconv.FormatInt(ch.c.ID, 10), false)
			if err != nil {
				return err
			}
			ch.c = fresh
		}
		return nil
	}
	for _, ch := range changes {
		if err := s.publishChange(ctx, tx, actor, &ch.before, ch.c, ch.recs, now); err != nil {
			return nil, nil, err
		}
	}
	if err := refresh(); err != nil {
		return nil, nil, err
	}
	cs := make([]*Case, len(changes))
	changed := make([]int64, len(changes))
	for i, ch := range changes {
		cs[i], changed[i] = ch.c, ch.c.ID
	}
	if err := s.syncSLAMany(ctx, tx, cfg, cs, changed); err != nil {
		return nil, nil, err
	}
	if err := refresh(); err != nil {
		return nil, nil, err
	}
	// The audit snapshots are pure work on values the transaction holds:
	// made on every core, appended in order.
	snaps := make([][2]audit.Canonical, len(changes))
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), len(changes))
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(changes); i += workers {
				snaps[i] = [2]audit.Canonical{snapshot(&changes[i].before), snapshot(changes[i].c)}
			}
		})
	}
	wg.Wait()
	moved = make([]*Case, len(changes))
	for i, ch := range changes {
		moved[i] = ch.c
		if err := audit.Append(ctx, tx, now, auditEntry(actor, "case."+ch.recs[0].typ, ch.c, snaps[i][0], snaps[i][1])); err != nil {
			return nil, nil, err
		}
	}
	return moved, errs, nil
}

// statusOnly reports whether a change from before to c touched only the
// columns a status move writes (saveStatusBatch); any other difference
// goes through saveCase, so a plan that learns to change more stays right.
func statusOnly(before, c *Case) bool {
	probe := *before
	probe.Status, probe.Resolution, probe.ResolutionNote, probe.ReopenCount = c.Status, c.Resolution, c.ResolutionNote, c.ReopenCount
	probe.UpdatedAt, probe.FirstResponseAt, probe.ResolvedAt, probe.ClosedAt = c.UpdatedAt, c.FirstResponseAt, c.ResolvedAt, c.ClosedAt
	return reflect.DeepEqual(&probe, c)
}

// saveStatusBatch saves the status columns of cs, one UPDATE per chunk.
func saveStatusBatch(ctx context.Context, tx *db.Tx, cs []*Case) error {
	cast := func(typ string) string { // VALUES rows carry no column types on PostgreSQL
		if tx.Dialect() == db.Postgres {
			return "CAST(? AS " + typ + ")"
		}
		return "?"
	}
	row := "(" + strings.Join([]string{cast("BIGINT"), "?", "?", "?", cast("INTEGER"), cast("TIMESTAMPTZ"),
		cast("TIMESTAMPTZ"), cast("TIMESTAMPTZ"), cast("TIMESTAMPTZ")}, ", ") + ")"
	for start := 0; start < len(cs); start += entryChunk {
		chunk := cs[start:min(start+entryChunk, len(cs))]
		rows := make([]string, len(chunk))
		args := make([]any, 0, 9*len(chunk))
		for i, c := range chunk {
			rows[i] = row
			args = append(args, c.ID, string(c.Status), c.Resolution, c.ResolutionNote, c.ReopenCount, db.T(c.UpdatedAt),
				timeArg(c.FirstResponseAt), timeArg(c.ResolvedAt), timeArg(c.ClosedAt))
		}
		if _, err := tx.Exec(ctx, `WITH v (id, status, resolution, note, reopens, updated, first, resolved, closed) AS (VALUES `+
			strings.Join(rows, ", ")+`) UPDATE cases SET status = v.status, resolution = v.resolution, resolution_note = v.note,
			reopen_count = v.reopens, updated_at = v.updated, first_response_at = v.first, resolved_at = v.resolved,
			closed_at = v.closed FROM v WHERE cases.id = v.id`, args...); err != nil {
			return fmt.Errorf("save cases: %w", err)
		}
	}
	return nil
}

// syncSLAMany is syncSLA for many cases: one read of their histories and
// sellers' tiers, one save of their clocks.
func (s *Service) syncSLAMany(ctx context.Context, tx *db.Tx, cfg *desk.Config, cs []*Case, ids []int64) error {
	hs, err := histories(ctx, tx, ids)
	if err != nil {
		return err
	}
	tiers, err := sellerTiers(ctx, tx, cs)
	if err != nil {
		return err // a wrong tier could pick the wrong SLA policy
	}
	return s.syncSLABatch(ctx, tx, cfg, cs, tiers, hs, s.clock.Now())
}

// loadManyForUpdate is loadMany with the rows locked on PostgreSQL (in id
// order, as every batch takes them, so two batches cannot deadlock).
func (s *Service) loadManyForUpdate(ctx context.Context, tx *db.Tx, ids []int64) ([]*Case, error) {
	lock := ""
	if tx.Dialect() == db.Postgres {
		lock = " FOR UPDATE OF c"
	}
	return loadCases(ctx, tx, ids, lock, false)
}

// batchEntry is a timeline entry of one case of a batch.
type batchEntry struct {
	caseID int64
	rec    eventRec
}

// entryChunk bounds the rows of one INSERT (5 parameters each).
const entryChunk = 100

// addEventsBatch is addEvent for many entries, a multi-row INSERT per
// chunk, in order (each case's entries keep theirs).
func addEventsBatch(ctx context.Context, tx *db.Tx, actor auth.Actor, at time.Time, entries []batchEntry) error {
	for start := 0; start < len(entries); start += entryChunk {
		chunk := entries[start:min(start+entryChunk, len(entries))]
		var q strings.Builder
		q.WriteString(`INSERT INTO case_events (case_id, actor_id, type, data, created_at) VALUES `)
		args := make([]any, 0, 5*len(chunk))
		for i, e := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?)")
			args = append(args, e.caseID, db.NullID(actor.UserID), e.rec.typ, mustJSON(e.rec.data), db.T(at))
		}
		if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("add timeline entries: %w", err)
		}
	}
	return nil
}

// AddEntriesMany is AddEntries for many cases at one instant, a multi-row
// INSERT per chunk (an incident linking thousands of cases). The case rows
// are not touched.
func (s *Service) AddEntriesMany(ctx context.Context, tx *db.Tx, actor auth.Actor, at time.Time, caseIDs []int64, e Entry) error {
	entries := make([]batchEntry, len(caseIDs))
	for i, id := range caseIDs {
		entries[i] = batchEntry{id, eventRec{typ: e.Type, data: e.Data}}
	}
	return addEventsBatch(ctx, tx, actor, at, entries)
}

// FindMany reads the cases ids (those that exist) without asking who may
// see them, like Find, 500 to a query, in id order: for capabilities that
// count over many cases (a postmortem's impact).
func (s *Service) FindMany(ctx context.Context, q db.Querier, ids []int64) ([]*Case, error) {
	var out []*Case
	for start := 0; start < len(ids); start += 500 {
		part, err := s.loadMany(ctx, q, ids[start:min(start+500, len(ids))])
		if err != nil {
			return nil, err
		}
		out = append(out, part...)
	}
	return out, nil
}
