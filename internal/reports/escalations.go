package reports

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
)

// LevelStat is the escalation_time figure of one level: of the escalations
// started in the period that hold their case at Level, how long they took
// to be acknowledged (start to acknowledgement) and, of those closed, to
// be closed (start to close).
type LevelStat struct {
	Level          int       `json:"level"`
	Started        int       `json:"started"`
	Unacknowledged int       `json:"unacknowledged"` // still waiting for an acknowledgement now
	ToAcknowledge  Durations `json:"to_acknowledge"`
	ToClose        Durations `json:"to_close"`
}

// EscalationRow is one escalation as the figure reads it.
type EscalationRow struct {
	Level         int
	Started       time.Time
	Acked, Closed *time.Time
}

// ComputeLevels is escalation_time over p, level by level.
func ComputeLevels(rows []EscalationRow, p Period) []LevelStat {
	type acc struct {
		st          LevelStat
		ack, closed []time.Duration
	}
	by := map[int]*acc{}
	for _, r := range rows {
		if !p.In(r.Started) {
			continue
		}
		a := by[r.Level]
		if a == nil {
			a = &acc{st: LevelStat{Level: r.Level}}
			by[r.Level] = a
		}
		a.st.Started++
		if r.Acked != nil {
			a.ack = append(a.ack, r.Acked.Sub(r.Started))
		} else {
			a.st.Unacknowledged++
		}
		if r.Closed != nil {
			a.closed = append(a.closed, r.Closed.Sub(r.Started))
		}
	}
	out := []LevelStat{}
	for _, a := range by {
		a.st.ToAcknowledge, a.st.ToClose = summarise(a.ack), summarise(a.closed)
		out = append(out, a.st)
	}
	slices.SortFunc(out, func(a, b LevelStat) int { return a.Level - b.Level })
	return out
}

// Escalations is escalation_time over f's period (its market, team,
// category, channel and priority filters apply to the escalated case).
func (s *Service) Escalations(ctx context.Context, actor auth.Actor, f Filter) ([]LevelStat, error) {
	if !actor.Can(auth.PermReportRead) {
		return nil, &apperr.Forbidden{Detail: "your role cannot read the desk's reports"}
	}
	f.By = ""
	if err := f.Check(); err != nil {
		return nil, err
	}
	where, args := `e.created_at >= ? AND e.created_at < ?`, []any{db.T(f.Period.From), db.T(f.Period.To)}
	sliced := f.Market != "" || f.Team != "" || f.Category != "" || f.Channel != "" || f.Priority != "" || f.Tier > 0
	for _, eq := range []struct{ col, v string }{{"c.market", f.Market}, {"c.team", f.Team}, {"c.category", f.Category},
		{"c.channel", f.Channel}, {"c.priority", f.Priority}} { // c: the case's report facts
		if eq.v != "" {
			where += " AND " + eq.col + " = ?"
			args = append(args, eq.v)
		}
	}
	if f.Tier > 0 {
		where += " AND c.seller_id IN (SELECT external_id FROM sellers WHERE tier = ?)"
		args = append(args, f.Tier)
	}
	// escalations_created (migration 00029) finds the period's; the narrow
	// facts give their cases' slice.
	from := `escalations e`
	if sliced { // the whole desk's need no case
		from += ` JOIN report_facts c ON c.case_id = e.case_id`
	}
	res, err := s.db.Query(ctx, `SELECT e.level, e.created_at, e.acked_at, e.closed_at FROM `+from+` WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("escalation times: %w", err)
	}
	defer res.Close()
	var rows []EscalationRow
	for res.Next() {
		var r EscalationRow
		var started, acked, closed db.Time
		if err := res.Scan(&r.Level, &started, &acked, &closed); err != nil {
			return nil, fmt.Errorf("escalation times: %w", err)
		}
		r.Started, r.Acked, r.Closed = started.Time, acked.Ptr(), closed.Ptr()
		rows = append(rows, r)
	}
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("escalation times: %w", err)
	}
	return ComputeLevels(rows, f.Period), nil
}
