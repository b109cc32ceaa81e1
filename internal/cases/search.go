package cases

import (
	"context"
	"fmt"
	"time"

	"github.com/flare-desk/flare/internal/db"
)

// On SQLite the full-text index (FTS5) is brought up to date in batches:
// new cases by id (ids grow in commit order, SQLite having one writer), and
// cases whose text changed from search_pending, which keeps the text as it
// was indexed so it can be removed. Searches sync first, so a search always
// sees every committed case; a background loop keeps the backlog small.
// PostgreSQL keeps its tsvector column up to date by itself.

// searchBatch bounds one indexing transaction.
const searchBatch = 5000

// SyncSearch indexes what is not yet in the full-text index and reports how
// many cases it indexed.
func (s *Service) SyncSearch(ctx context.Context) (int, error) {
	if s.db.Dialect() != db.SQLite {
		return 0, nil
	}
	total := 0
	for {
		var behind bool
		err := s.db.QueryRow(ctx, `SELECT COALESCE((SELECT MAX(id) FROM cases), 0) > (SELECT value FROM counters WHERE name = 'search_upto')
			OR EXISTS (SELECT 1 FROM search_pending)`).Scan(&behind)
		if err != nil {
			return total, fmt.Errorf("search index: %w", err)
		}
		if !behind {
			return total, nil
		}
		var n int
		err = s.db.InTx(ctx, func(tx *db.Tx) error {
			var err error
			n, err = indexSearch(ctx, tx)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("search index: %w", err)
		}
		total += n
		if n < searchBatch {
			return total, nil
		}
	}
}

func indexSearch(ctx context.Context, tx *db.Tx) (int, error) {
	var upto int64
	if err := tx.QueryRow(ctx, `SELECT value FROM counters WHERE name = 'search_upto'`).Scan(&upto); err != nil {
		return 0, err
	}
	// Changed text of indexed cases: remove what was indexed, add what is there now.
	steps := []string{
		`INSERT INTO cases_fts (cases_fts, rowid, title, description)
			SELECT 'delete', case_id, title, description FROM search_pending WHERE case_id <= ?`,
		`INSERT INTO cases_fts (rowid, title, description)
			SELECT c.id, c.title, c.description FROM search_pending p JOIN cases c ON c.id = p.case_id WHERE p.case_id <= ?`,
		`DELETE FROM search_pending`,
	}
	for _, q := range steps {
		args := []any{upto}
		if q == steps[2] {
			args = nil
		}
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return 0, err
		}
	}
	// New cases, oldest first.
	var next int64
	err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(id), ?) FROM (SELECT id FROM cases WHERE id > ? ORDER BY id LIMIT ?)`,
		upto, upto, searchBatch).Scan(&next)
	if err != nil || next == upto {
		return 0, err
	}
	res, err := tx.Exec(ctx, `INSERT INTO cases_fts (rowid, title, description)
		SELECT id, title, description FROM cases WHERE id > ? AND id <= ?`, upto, next)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	_, err = tx.Exec(ctx, `UPDATE counters SET value = ? WHERE name = 'search_upto'`, next)
	return int(n), err
}

// RunSearchIndexer keeps the search index close to the cases until ctx ends.
func (s *Service) RunSearchIndexer(ctx context.Context, every time.Duration) {
	if s.db.Dialect() != db.SQLite {
		return
	}
	// On the service's clock, re-armed after each sync, so that a slow
	// sync is not followed at once by the next.
	t := s.clock.NewTimer(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			if _, err := s.SyncSearch(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("search index", "err", err)
			}
			t.Reset(every)
		}
	}
}
