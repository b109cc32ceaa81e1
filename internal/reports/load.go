package reports

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/sla"
)

// Service reads the rows the metrics are computed from.
type Service struct {
	db    *db.DB
	desk  *desk.Service
	cases *cases.Service
	clock clock.Clock
}

// New returns the reports service.
func New(d *db.DB, dk *desk.Service, cs *cases.Service, c clock.Clock) *Service {
	return &Service{db: d, desk: dk, cases: cs, clock: c}
}

// Filter selects the cases a report covers and how it slices them.
type Filter struct {
	Period Period
	By     string // a dimension of Dimensions, or "" for the whole desk
	// Only these (empty: all).
	Market, Team, Category, Channel, Priority string
	Tier                                      int // seller tier 1..4; 0 all
}

// MaxPeriod bounds a report's period.
const MaxPeriod = 400 * 24 * time.Hour

// Check reports what is wrong with f, field by field.
func (f Filter) Check() error {
	v := &apperr.Invalid{}
	switch {
	case f.Period.From.IsZero() || f.Period.To.IsZero():
		v.Add("from", "give the period as from and to (RFC 3339 instants or dates, to exclusive)")
	case !f.Period.To.After(f.Period.From):
		v.Add("to", "must be after from")
	case f.Period.To.Sub(f.Period.From) > MaxPeriod:
		v.Add("to", "a report covers at most 400 days")
	}
	if f.Tier < 0 || f.Tier > 4 {
		v.Add("tier", "must be a seller tier from 1 to 4")
	}
	if f.By != "" && !slices.Contains(Dimensions, f.By) {
		v.Add("by", "must be one of %s", strings.Join(Dimensions, ", "))
	}
	return v.Err()
}

// Report is the metrics of a period, sliced, beside the previous period.
type Report struct {
	Period   Period  `json:"period"`
	Previous Period  `json:"previous"`
	By       string  `json:"by,omitempty"`
	Slices   []Slice `json:"slices"`
	// PreviousSlices are the same slices over the previous period, for
	// the period-over-period change.
	PreviousSlices []Slice `json:"previous_slices"`
}

// MarshalJSON writes periods as {from, to}.
func (p Period) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		From time.Time `json:"from"`
		To   time.Time `json:"to"`
	}{p.From.UTC(), p.To.UTC()})
}

// Report computes f's report. Reports are for leads, QA and viewers (and
// admins): the desk's figures across teams.
func (s *Service) Report(ctx context.Context, actor auth.Actor, f Filter) (*Report, error) {
	if !actor.Can(auth.PermReportRead) {
		return nil, &apperr.Forbidden{Detail: "your role cannot read the desk's reports"}
	}
	if err := f.Check(); err != nil {
		return nil, err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	prev := f.Period.Previous()
	rows, err := s.rows(ctx, cfg, f, prev.From, f.Period.To)
	if err != nil {
		return nil, err
	}
	return &Report{Period: f.Period, Previous: prev, By: f.By,
		Slices: BySlice(rows, f.Period, f.By), PreviousSlices: BySlice(rows, prev, f.By)}, nil
}

// rows reads every case that can count in [from, to): created or resolved
// in it, or open at its end — from the report facts (facts.go), not the
// case rows.
func (s *Service) rows(ctx context.Context, cfg *desk.Config, f Filter, from, to time.Time) ([]Row, error) {
	// Created in [from, to), or created before and resolved since from, or
	// still active: three index lookups (report_facts_created, _resolved,
	// _active) rather than one scan of every case.
	// A market filter narrows the largest of the three, the created, in
	// the index itself (report_facts_created holds the market).
	createdIn, args := `created_at >= ? AND created_at < ?`, []any{db.T(from), db.T(to)}
	if f.Market != "" {
		createdIn += ` AND market = ?`
		args = append(args, f.Market)
	}
	where := `f.case_id IN (SELECT case_id FROM report_facts WHERE ` + createdIn + `
		UNION SELECT case_id FROM report_facts WHERE resolved_at >= ? AND created_at < ?
		UNION SELECT case_id FROM report_facts WHERE active = ? AND created_at < ?)`
	args = append(args, db.T(from), db.T(to), true, db.T(to))
	for _, eq := range []struct{ col, v string }{{"f.market", f.Market}, {"f.team", f.Team}, {"f.category", f.Category},
		{"f.channel", f.Channel}, {"f.priority", f.Priority}} {
		if eq.v != "" {
			where += " AND " + eq.col + " = ?"
			args = append(args, eq.v)
		}
	}
	if f.Tier > 0 {
		where += " AND sl.tier = ?"
		args = append(args, f.Tier)
	}
	q := `SELECT f.team, f.market, f.category, f.channel, f.priority, COALESCE(u.email, ''), COALESCE(sl.tier, 0),
		f.created_at, f.first_response_at, f.resolved_at, f.active, f.reopen_count, f.clocks, f.calendar,
		f.first_response_business_ns, f.resolution_business_ns, f.escalated, f.repeat_contact
		FROM report_facts f LEFT JOIN users u ON u.id = f.owner_id LEFT JOIN sellers sl ON sl.external_id = f.seller_id
		WHERE ` + where
	res, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("report rows: %w", err)
	}
	defer res.Close()
	type teamCal struct {
		cal *sla.Calendar
		key string
	}
	teams := map[string]teamCal{}
	teamOf := func(name string) teamCal {
		if t, ok := teams[name]; ok {
			return t
		}
		t := teamCal{teamCalendar(cfg, name), calendarKey(cfg, name)}
		teams[name] = t
		return t
	}
	// The dimensions repeat across rows: read as bytes and interned, they
	// cost one string each per report rather than per row (a month's report
	// reads ~190,000 rows).
	names := map[string]string{}
	internString := func(b string) string {
		if v, ok := names[b]; ok {
			return v
		}
		names[b] = b
		return b
	}
	intern := func(b sql.RawBytes) string {
		if v, ok := names[string(b)]; ok {
			return v
		}
		return internString(string(b))
	}
	var (
		out                                              []Row
		team, market, category, channel, priority, agent sql.RawBytes
		clocks, calendar                                 sql.RawBytes
		created, first, resolve                          db.Time
		firstB, resolB                                   sql.NullInt64
	)
	for res.Next() {
		var r Row
		err := res.Scan(&team, &market, &category, &channel, &priority, &agent, &r.SellerTier,
			&created, &first, &resolve, &r.Active, &r.Reopens, &clocks, &calendar, &firstB, &resolB, &r.Escalated, &r.Repeat)
		if err != nil {
			return nil, fmt.Errorf("report rows: %w", err)
		}
		r.Team, r.Market, r.Category, r.Channel, r.Priority, r.Agent = intern(team), intern(market), intern(category),
			intern(channel), intern(priority), intern(agent)
		r.CreatedAt, r.FirstResponseAt, r.ResolvedAt = created.Time, first.Ptr(), resolve.Ptr()
		if r.Clocks, err = decodeClocks(string(clocks), internString); err != nil {
			return nil, err
		}
		t := teamOf(r.Team)
		r.Calendar = t.cal
		// Durations computed in another calendar than the team's now are
		// left for Compute to compute again.
		if string(calendar) == t.key {
			if firstB.Valid && r.FirstResponseAt != nil {
				d := time.Duration(firstB.Int64)
				r.FirstResponseBusiness = &d
			}
			if resolB.Valid && r.ResolvedAt != nil {
				d := time.Duration(resolB.Int64)
				r.ResolutionBusiness = &d
			}
		}
		out = append(out, r)
	}
	return out, res.Err()
}

// parseClocks reads the SLA clocks kept on a case row (internal/cases).
func parseClocks(s string) ([]Clock, error) {
	var stored []struct {
		Metric   string         `json:"metric"`
		State    sla.ClockState `json:"state"`
		TargetS  int64          `json:"target_s"`
		ElapsedS int64          `json:"elapsed_s"`
		DueAt    *time.Time     `json:"due_at"`
	}
	if s == "" || s == "null" {
		return nil, nil
	}
	if err := json.Unmarshal([]byte(s), &stored); err != nil {
		return nil, fmt.Errorf("report rows: stored clocks: %w", err)
	}
	out := make([]Clock, len(stored))
	for i, c := range stored {
		out[i] = Clock{Metric: c.Metric, State: c.State, Target: time.Duration(c.TargetS) * time.Second,
			Elapsed: time.Duration(c.ElapsedS) * time.Second, DueAt: c.DueAt}
	}
	return out, nil
}
