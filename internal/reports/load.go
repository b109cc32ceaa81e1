package reports

import (
	"context"
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
	facts factCache
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
	rows, err := s.rows(ctx, cfg, f, prev.From, f.Period.To, false)
	if err != nil {
		return nil, err
	}
	both := BySlices(rows, f.By, f.Period, prev)
	return &Report{Period: f.Period, Previous: prev, By: f.By, Slices: both[0], PreviousSlices: both[1]}, nil
}

// rows reads every case that can count in [from, to) and is in f's slice:
// created in it, or resolved in it, or open at its end — from the report
// facts as the fact cache (factcache.go) holds them, read from the store
// only where they changed. The owners' emails and sellers' tiers are read
// when the report slices by them (or for people).
func (s *Service) rows(ctx context.Context, cfg *desk.Config, f Filter, from, to time.Time, people bool) ([]*Row, error) {
	people = people || f.By == "agent" || f.By == "seller_tier"
	v, err := s.facts.load(ctx, s.db, cfg, from, to, people || f.Tier > 0)
	if err != nil {
		return nil, err
	}
	return v.pick(f, from, to, people), nil
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
