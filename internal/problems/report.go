package problems

import (
	"context"
	"fmt"
	"time"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
)

// Review is what a review pack says of problems over a period.
type Review struct {
	From     time.Time     `json:"from"`
	To       time.Time     `json:"to"`
	Opened   []ProblemStat `json:"opened"`   // problems opened in [From, To)
	Resolved []ProblemStat `json:"resolved"` // problems resolved in [From, To)
	Top      []ProblemStat `json:"top"`      // the problems with the most cases linked in the period
}

// ProblemStat is a problem with its count of linked cases.
type ProblemStat struct {
	ID     int64  `json:"id"`
	Title  string `json:"title"`
	Status Status `json:"status"`
	Cases  int    `json:"cases"` // linked in all (Top: linked in the period)
}

// ReviewFor answers the review packs' questions for [from, to): the
// problems opened and resolved, and the top problems by cases linked in
// the period. It reads the store directly, for reports run by the system.
func ReviewFor(ctx context.Context, q db.Querier, from, to time.Time, top int) (*Review, error) {
	r := &Review{From: from, To: to, Opened: []ProblemStat{}, Resolved: []ProblemStat{}, Top: []ProblemStat{}}
	count := `(SELECT COUNT(*) FROM problem_cases pc WHERE pc.problem_id = p.id)`
	for _, part := range []struct {
		dst *[]ProblemStat
		sql string
	}{
		{&r.Opened, `SELECT p.id, p.title, p.status, ` + count + ` FROM problems p WHERE p.created_at >= ? AND p.created_at < ? ORDER BY p.created_at, p.id`},
		{&r.Resolved, `SELECT p.id, p.title, p.status, ` + count + ` FROM problems p WHERE p.resolved_at >= ? AND p.resolved_at < ? ORDER BY p.resolved_at, p.id`},
		{&r.Top, `SELECT p.id, p.title, p.status, COUNT(*) AS n FROM problems p JOIN problem_cases pc ON pc.problem_id = p.id
			WHERE pc.linked_at >= ? AND pc.linked_at < ? GROUP BY p.id, p.title, p.status ORDER BY n DESC, p.id LIMIT ` + fmt.Sprint(max(top, 1))},
	} {
		rows, err := q.Query(ctx, part.sql, db.T(from), db.T(to))
		if err != nil {
			return nil, fmt.Errorf("problems review: %w", err)
		}
		got, err := db.Collect(rows, func(s db.Scanner) (ProblemStat, error) {
			var p ProblemStat
			return p, s.Scan(&p.ID, &p.Title, &p.Status, &p.Cases)
		})
		if err != nil {
			return nil, fmt.Errorf("problems review: %w", err)
		}
		if got != nil {
			*part.dst = got
		}
	}
	return r, nil
}

// Review is ReviewFor for actor, with the ten top problems.
func (s *Service) Review(ctx context.Context, actor auth.Actor, from, to time.Time) (*Review, error) {
	if err := canRead(actor); err != nil {
		return nil, err
	}
	return ReviewFor(ctx, s.db, from, to, 10)
}
