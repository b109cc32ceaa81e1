// Package fill puts many realistic cases into a bench store fast: a pool of
// the demo generator's cases (every market's language, real sellers,
// requesters and custom fields) written again and again with their own
// numbers, order numbers, times and statuses, by multi-row INSERTs in big
// transactions (the per-case write path would take hours for a million).
// Case numbers continue the store's own; one case in twenty gets a comment.
//
// On PostgreSQL the rows go in through the write path's own triggers (the
// search document is built by cases_search_insert, comments appended by
// case_comments_search), but the table's secondary indexes, the GIN search
// index among them, are dropped for the load and built again after it: the
// same index content, built once instead of updated a million times.
package fill

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/demo"
	"github.com/flare-desk/flare/internal/desk"
)

// Pool is the prepared cases the filler writes again.
type Pool []*cases.Case

// NewPool prepares n of the demo generator's cases on cfg.
func NewPool(ctx context.Context, cs *cases.Service, admin auth.Actor, cfg *desk.Config, n int, now time.Time) (Pool, error) {
	var p Pool
	for _, spec := range demo.Generate(cfg, 11, n, now) {
		in := spec.Input
		in.At = time.Time{}
		c, err := cs.Prepare(ctx, admin, in)
		if err != nil {
			return nil, fmt.Errorf("pool: %w", err)
		}
		p = append(p, c)
	}
	return p, nil
}

// OrderID is the order number the filler gives case number n.
func OrderID(n int64) string { return fmt.Sprintf("ORD-%08d", n) }

const rowsPerInsert = 500

// Statuses of filled cases: older cases are mostly resolved or closed, as
// on a real desk.
var statuses = []cases.Status{cases.StatusClosed, cases.StatusClosed, cases.StatusClosed, cases.StatusResolved,
	cases.StatusClosed, cases.StatusClosed, cases.StatusClosed, cases.StatusClosed, cases.StatusOpen, cases.StatusNew}

// To fills d until it holds total cases, one transaction per batch rows,
// the newest created at now, one a minute before it going back.
func To(ctx context.Context, d *db.DB, pool Pool, total, batch int, now time.Time) error {
	var have int64
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM cases`).Scan(&have); err != nil {
		return err
	}
	var next int64
	if err := d.QueryRow(ctx, `SELECT COALESCE(MAX(number), 0) FROM cases`).Scan(&next); err != nil {
		return err
	}
	const cols = `number, title, description, category, channel, market, language, seller_id, requester_name,
		requester_email, priority, high_risk, sensitivity, status, team, tags, fields, created_at, updated_at`
	ncol := strings.Count(cols, ",") + 1
	row := "(" + db.Placeholders(ncol) + ")"
	var rebuild []string
	if d.Dialect() == db.Postgres && have < int64(total) {
		var err error
		if rebuild, err = dropIndexes(ctx, d); err != nil {
			return err
		}
	}
	for have < int64(total) {
		k := min(int64(batch), int64(total)-have)
		err := d.InTx(ctx, func(tx *db.Tx) error {
			if tx.Dialect() == db.Postgres {
				// A bench store: a crash may lose the last batches.
				if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
					return err
				}
			}
			for done := int64(0); done < k; {
				m := min(rowsPerInsert, k-done)
				args := make([]any, 0, int(m)*ncol)
				var comments []any
				for j := range m {
					n := next + done + j + 1
					c := pool[int(n)%len(pool)]
					fields := map[string]any{}
					for key, v := range c.Fields {
						fields[key] = v
					}
					if _, ok := fields["order_id"]; ok {
						fields["order_id"] = OrderID(n)
					}
					fj, _ := json.Marshal(fields)
					tj, _ := json.Marshal(c.Tags)
					at := db.T(now.Add(-time.Duration(int64(total)-n) * time.Minute))
					args = append(args, n, c.Title, c.Description, c.Category, string(c.Channel), c.Market, c.Language, c.SellerID,
						c.Requester.Name, c.Requester.Email, c.Priority, c.HighRisk, c.Sensitivity,
						string(statuses[int(n)%len(statuses)]), c.Team, string(tj), string(fj), at, at)
					if n%20 == 0 {
						comments = append(comments, n, "Asked the carrier for proof of delivery; the buyer sent photos of the damage.", n%40 == 0, at)
					}
				}
				q := "INSERT INTO cases (" + cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(row+",", int(m)), ",")
				if _, err := tx.Exec(ctx, q, args...); err != nil {
					return fmt.Errorf("fill: %w", err)
				}
				if len(comments) > 0 {
					cq := "INSERT INTO case_comments (case_id, body, internal, created_at) SELECT id, v.body, v.internal, v.at FROM (VALUES " +
						strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?),", len(comments)/4), ",") + ") AS v(number, body, internal, at) JOIN cases ON cases.number = v.number"
					if d.Dialect() == db.SQLite {
						// SQLite names VALUES columns column1…; no alias list.
						cq = "INSERT INTO case_comments (case_id, body, internal, created_at) SELECT id, v.column2, v.column3, v.column4 FROM (VALUES " +
							strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?),", len(comments)/4), ",") + ") AS v JOIN cases ON cases.number = v.column1"
					} else {
						cq = strings.Replace(cq, "(?, ?, ?, ?)", "(?::bigint, ?, ?::boolean, ?::timestamptz)", 1)
					}
					if _, err := tx.Exec(ctx, cq, comments...); err != nil {
						return fmt.Errorf("fill comments: %w", err)
					}
				}
				done += m
			}
			return nil
		})
		if err != nil {
			return err
		}
		have += k
		next += k
	}
	if err := buildIndexes(ctx, d, rebuild); err != nil {
		return err
	}
	// The next case created gets the next number.
	if d.Dialect() == db.SQLite {
		_, err := d.Exec(ctx, `UPDATE counters SET value = ? WHERE name = 'case_number'`, next)
		return err
	}
	_, err := d.Exec(ctx, `SELECT setval('case_number_seq', ?)`, next)
	return err
}

// dropIndexes drops the secondary indexes of cases (not those behind a
// constraint) and returns the statements that build them again.
func dropIndexes(ctx context.Context, d *db.DB) ([]string, error) {
	rows, err := d.Query(ctx, `SELECT i.indexname, i.indexdef FROM pg_indexes i
		WHERE i.schemaname = current_schema() AND i.tablename = 'cases'
		AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname)`)
	if err != nil {
		return nil, fmt.Errorf("fill: indexes: %w", err)
	}
	var names, defs []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return nil, fmt.Errorf("fill: indexes: %w", err)
		}
		names, defs = append(names, name), append(defs, def)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("fill: indexes: %w", err)
	}
	for _, n := range names {
		if _, err := d.Exec(ctx, `DROP INDEX "`+n+`"`); err != nil {
			return nil, fmt.Errorf("fill: drop index %s: %w", n, err)
		}
	}
	return defs, nil
}

// buildIndexes runs the statements of dropIndexes, with the memory an index
// build of a million rows wants.
func buildIndexes(ctx context.Context, d *db.DB, defs []string) error {
	for _, def := range defs {
		err := d.InTx(ctx, func(tx *db.Tx) error {
			if _, err := tx.Exec(ctx, "SET LOCAL maintenance_work_mem = '256MB'"); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, def)
			return err
		})
		if err != nil {
			return fmt.Errorf("fill: %s: %w", def, err)
		}
	}
	return nil
}
