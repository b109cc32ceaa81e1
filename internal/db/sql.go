package db

import (
	"context"
	"database/sql"
	"strings"
)

// Small helpers for the SQL every store package writes.

// Placeholders is n comma-separated `?` placeholders, for IN lists and VALUES rows.
func Placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// NullID is id as a query argument, NULL for 0 (no such row).
func NullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// QueryIDs runs query and returns the ids of its rows (its only column).
func QueryIDs(ctx context.Context, q Querier, query string, args ...any) ([]int64, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// JSONInt is the SQL expression for an integer member key of the JSON column col.
func JSONInt(d Dialect, col, key string) string {
	if d == Postgres {
		return "(" + col + "->>'" + key + "')::bigint"
	}
	return "json_extract(" + col + ", '$." + key + "')"
}

// Scanner is a row to scan: *sql.Row or *sql.Rows.
type Scanner interface{ Scan(dest ...any) error }

// Collect scans every row of rows with scan, closes rows and reports the
// first error, the rows' own included.
func Collect[T any](rows *sql.Rows, scan func(Scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
