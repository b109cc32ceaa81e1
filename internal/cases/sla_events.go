package cases

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/sla"
)

// SLAEvent is a recorded warning or breach.
type SLAEvent struct {
	ID       int64      `json:"id"`
	Case     string     `json:"case"` // ESC number
	CaseID   int64      `json:"case_id"`
	Title    string     `json:"title"`
	Metric   sla.Metric `json:"metric"`
	Kind     string     `json:"kind"` // warning | breach
	Policy   string     `json:"policy"`
	Team     string     `json:"team"`
	Market   string     `json:"market"`
	DueAt    time.Time  `json:"due_at"`   // when it warned or breached
	FiredAt  time.Time  `json:"fired_at"` // when Flare recorded it
	Priority string     `json:"priority"`
	Status   Status     `json:"status"`
}

// SLAEventFilter selects recorded warnings or breaches.
type SLAEventFilter struct {
	Kind     string // breach (default) or warning
	Team     []string
	Market   []string
	Metric   []string
	From, To time.Time // due_at in [From, To)
	Before   int64     // cursor: events with a smaller id
	Limit    int
}

// SLAEventPage is one page of events, newest first.
type SLAEventPage struct {
	Events     []SLAEvent `json:"events"`
	NextBefore int64      `json:"next_before,omitempty"`
}

// SLAEvents lists recorded warnings or breaches of the cases a may see.
func (s *Service) SLAEvents(ctx context.Context, a auth.Actor, f SLAEventFilter) (*SLAEventPage, error) {
	if !a.Can(auth.PermCaseRead) {
		return nil, &apperr.Forbidden{Detail: "your role cannot read cases"}
	}
	v := &apperr.Invalid{}
	if f.Kind == "" {
		f.Kind = "breach"
	}
	if f.Kind != "breach" && f.Kind != "warning" {
		v.Add("kind", "must be breach or warning")
	}
	for _, m := range f.Metric {
		if !sla.Metric(m).Valid() {
			v.Add("metric", "unknown metric %q", m)
		}
	}
	switch {
	case f.Limit == 0:
		f.Limit = 50
	case f.Limit < 1 || f.Limit > 500:
		v.Add("limit", "must be between 1 and 500")
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		v.Add("to", "must be after from")
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	cfg.CheckTeams(v, "team", f.Team)
	cfg.CheckMarkets(v, "market", f.Market)
	if err := v.Err(); err != nil {
		return nil, err
	}
	where := []string{"e.kind = ?"}
	args := []any{f.Kind}
	in := func(col string, vals []string) {
		if len(vals) > 0 {
			where = append(where, col+" IN ("+db.Placeholders(len(vals))+")")
			for _, x := range vals {
				args = append(args, x)
			}
		}
	}
	in("e.team", f.Team)
	in("e.market", f.Market)
	in("e.metric", f.Metric)
	if !f.From.IsZero() {
		where, args = append(where, "e.due_at >= ?"), append(args, db.T(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, "e.due_at < ?"), append(args, db.T(f.To))
	}
	if f.Before > 0 {
		where, args = append(where, "e.id < ?"), append(args, f.Before)
	}
	if cond, sargs := Scope(a); cond != "" {
		where, args = append(where, cond), append(args, sargs...)
	}
	rows, err := s.db.Query(ctx, `SELECT e.id, c.number, c.id, c.title, e.metric, e.kind, e.policy, e.team, e.market,
		e.due_at, e.fired_at, c.priority, c.status FROM sla_events e JOIN cases c ON c.id = e.case_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY e.id DESC LIMIT ?`, append(args, f.Limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("sla events: %w", err)
	}
	defer rows.Close()
	page := &SLAEventPage{Events: []SLAEvent{}}
	for rows.Next() {
		var e SLAEvent
		var number int64
		var due, fired db.Time
		if err := rows.Scan(&e.ID, &number, &e.CaseID, &e.Title, &e.Metric, &e.Kind, &e.Policy, &e.Team, &e.Market,
			&due, &fired, &e.Priority, &e.Status); err != nil {
			return nil, fmt.Errorf("sla events: %w", err)
		}
		e.Case, e.DueAt, e.FiredAt = FormatNumber(number), due.Time, fired.Time
		page.Events = append(page.Events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sla events: %w", err)
	}
	if len(page.Events) > f.Limit {
		page.Events = page.Events[:f.Limit]
		page.NextBefore = page.Events[f.Limit-1].ID
	}
	return page, nil
}
