// Package signals counts what arrives at the desk — case intake per
// category × market in 5-minute buckets (and per seller, channel, custom
// field or tag where the desk asks), safety-term hits, external alerts —
// from the event stream, scores each closed bucket online with
// internal/detect's detector and the same bucket of previous weeks, and
// turns anomalies into alerts whose rules (the desk's detection section)
// notify a team, open a case or declare an incident.
//
// Counting is a durable subscriber of case.created, idempotent by event
// id. Scoring is durable periodic work on a deadline timer: each series
// keeps the end of its last scored bucket, so a restart scores what it
// missed; the model of a series (bounded: four weeks of counts and the
// detector's windows) is rebuilt from the stored buckets after a restart.
package signals

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/deadline"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/incidents"
	"github.com/flare-desk/flare/internal/intake"
)

// Subscriber is the signals' durable subscriber name in the outbox.
const Subscriber = "signals"

// Grace is how long after a bucket ends it is scored: events still on
// their way through the outbox are counted first.
const Grace = time.Minute

// SafetyFactor is the priority reason a safety-term hit leaves on a case.
const SafetyFactor = "safety_term"

// Tag marks the cases the signals open, which they do not count.
const Tag = "signal-alert"

var system = auth.System("signals")

// Service keeps the signals and their alerts.
type Service struct {
	db        *db.DB
	desk      *desk.Service
	cases     *cases.Service
	intake    *intake.Service
	incidents *incidents.Service
	clock     clock.Clock
	log       *slog.Logger
	timer     *deadline.Timer

	mu     sync.Mutex
	models map[int64]*model // by series id
}

// New returns the signals service.
func New(d *db.DB, dk *desk.Service, cs *cases.Service, in *intake.Service, inc *incidents.Service, c clock.Clock, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	s := &Service{db: d, desk: dk, cases: cs, intake: in, incidents: inc, clock: c, log: log, models: map[int64]*model{}}
	s.timer = deadline.New("signals", c, log, Bucket, s.Fire)
	return s
}

// Register subscribes the counting to the bus.
func (s *Service) Register(bus *events.Bus) {
	bus.Subscribe(Subscriber, s.Handle, events.SubscriberOptions{Types: []events.Type{events.CaseCreated}})
}

// Run scores the buckets as they close until ctx ends.
func (s *Service) Run(ctx context.Context) { s.timer.Run(ctx) }

// MayRead reports whether actor sees the signals: the desk's staff
// (account managers see their sellers' cases, not the desk's volumes).
func MayRead(a auth.Actor) bool { return a.Can(auth.PermCaseRead) && !cases.PublicOnly(a) }

func mayRead(a auth.Actor) error {
	if !MayRead(a) {
		return &apperr.Forbidden{Detail: "your role cannot see the desk's signals"}
	}
	return nil
}

func mayWrite(a auth.Actor) error {
	if !a.Can(auth.PermCaseWrite) || cases.PublicOnly(a) {
		return &apperr.Forbidden{Detail: "your role cannot acknowledge or close alerts: agents, leads and admins do"}
	}
	return nil
}

// Series is one counted signal.
type Series struct {
	ID       int64             `json:"id"`
	Key      string            `json:"key"`
	Kind     string            `json:"kind"`
	Dims     map[string]string `json:"dims"`
	Label    string            `json:"label"`
	First    time.Time         `json:"first_bucket"`
	ScoredTo time.Time         `json:"scored_to,omitzero"`
}

func label(kind string, dims map[string]string) string {
	m := dims["market"]
	switch kind {
	case KindIntake:
		return fmt.Sprintf("%s cases in %s", dims["category"], m)
	case KindSafetyTerm:
		return "safety-term hits in " + m
	case KindAlert:
		return "external alerts in " + m
	}
	for k, v := range dims {
		if k != "market" {
			return fmt.Sprintf("cases of %s %s in %s", strings.TrimPrefix(k, "field:"), v, m)
		}
	}
	return kind
}

func newSeries(kind string, dims map[string]string) Series {
	return Series{Key: seriesKey(kind, dims), Kind: kind, Dims: dims, Label: label(kind, dims)}
}

// seriesOf are the series a new case counts in.
func seriesOf(set Settings, c *cases.Case) []Series {
	if slices.Contains(c.Tags, Tag) {
		return nil
	}
	m := c.Market
	var out []Series
	if c.Category != "" {
		out = append(out, newSeries(KindIntake, map[string]string{"category": c.Category, "market": m}))
	}
	if c.Channel == "alert" {
		out = append(out, newSeries(KindAlert, map[string]string{"market": m}))
	}
	if slices.ContainsFunc(c.PriorityReasons, func(r cases.Reason) bool { return r.Factor == SafetyFactor }) {
		out = append(out, newSeries(KindSafetyTerm, map[string]string{"market": m}))
	}
	for _, d := range set.Dimensions {
		kind, _ := dimensionKind(d)
		var vals []string
		switch kind {
		case KindSeller:
			if c.SellerID != nil {
				vals = []string{*c.SellerID}
			}
		case KindChannel:
			vals = []string{string(c.Channel)}
		case KindTag:
			vals = c.Tags
		case KindField:
			if v, ok := c.Fields[strings.TrimPrefix(d, "field:")]; ok && v != nil && fmt.Sprint(v) != "" {
				vals = []string{fmt.Sprint(v)}
			}
		}
		for _, v := range vals {
			out = append(out, newSeries(kind, map[string]string{strings.TrimPrefix(d, "field:"): v, "market": m}))
		}
	}
	return out
}

// Handle counts a new case in its series' buckets, once per event.
func (s *Service) Handle(ctx context.Context, e events.Event) error {
	if e.Type != events.CaseCreated || e.Case == nil {
		return nil
	}
	// Find, not Get: the series read the row's own fields, not the
	// watchers and clocks Get adds (one query fewer per new case).
	c, err := s.cases.Find(ctx, s.db, e.Case.Number)
	if errors.Is(err, apperr.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return err
	}
	return s.count(ctx, e.ID, Floor(e.At), seriesOf(SettingsOf(cfg), c))
}

// count adds one to the bucket of every series, unless event was counted.
func (s *Service) count(ctx context.Context, event string, bucket time.Time, series []Series) error {
	now := s.clock.Now()
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, `INSERT INTO signal_events (event_id, counted_at) VALUES (?, ?) ON CONFLICT (event_id) DO NOTHING`,
			event, db.T(now))
		if err != nil {
			return fmt.Errorf("signals: record event: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // counted before
		}
		for _, sr := range series {
			id, err := ensureSeries(ctx, tx, sr, bucket, now)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO signal_buckets (series_id, bucket, count) VALUES (?, ?, 1)
				ON CONFLICT (series_id, bucket) DO UPDATE SET count = signal_buckets.count + 1`, id, db.T(bucket)); err != nil {
				return fmt.Errorf("signals: count: %w", err)
			}
		}
		return nil
	})
}

func ensureSeries(ctx context.Context, tx *db.Tx, sr Series, first, now time.Time) (int64, error) {
	dims, _ := json.Marshal(sr.Dims)
	if _, err := tx.Exec(ctx, `INSERT INTO signal_series (key, kind, dims, first_bucket, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (key) DO NOTHING`, sr.Key, sr.Kind, string(dims), db.T(first), db.T(now)); err != nil {
		return 0, fmt.Errorf("signals: series: %w", err)
	}
	var id int64
	if err := tx.QueryRow(ctx, `SELECT id FROM signal_series WHERE key = ?`, sr.Key).Scan(&id); err != nil {
		return 0, fmt.Errorf("signals: series: %w", err)
	}
	return id, nil
}

// Import writes a series' past counts, one per bucket from start (the
// demo desk's history, tests' normal history). It adds to what is counted.
func (s *Service) Import(ctx context.Context, kind string, dims map[string]string, start time.Time, counts []int) error {
	sr := newSeries(kind, dims)
	start = Floor(start)
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		id, err := ensureSeries(ctx, tx, sr, start, s.clock.Now())
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE signal_series SET first_bucket = ? WHERE id = ? AND first_bucket > ?`,
			db.T(start), id, db.T(start)); err != nil {
			return fmt.Errorf("signals: import: %w", err)
		}
		const chunk = 200
		for i := 0; i < len(counts); i += chunk {
			var rows []string
			var args []any
			for j := i; j < min(i+chunk, len(counts)); j++ {
				if counts[j] == 0 {
					continue
				}
				rows = append(rows, "(?, ?, ?)")
				args = append(args, id, db.T(start.Add(time.Duration(j)*Bucket)), counts[j])
			}
			if len(rows) == 0 {
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO signal_buckets (series_id, bucket, count) VALUES `+strings.Join(rows, ", ")+`
				ON CONFLICT (series_id, bucket) DO UPDATE SET count = signal_buckets.count + excluded.count`, args...); err != nil {
				return fmt.Errorf("signals: import: %w", err)
			}
		}
		return nil
	})
}

const seriesCols = `id, key, kind, dims, first_bucket, scored_to`

func scanSeries(r db.Scanner) (*Series, error) {
	var sr Series
	var dims string
	var first, scored db.Time
	if err := r.Scan(&sr.ID, &sr.Key, &sr.Kind, &dims, &first, &scored); err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(dims), &sr.Dims)
	sr.First, sr.ScoredTo = first.Time, scored.Time
	sr.Label = label(sr.Kind, sr.Dims)
	return &sr, nil
}

func (s *Service) allSeries(ctx context.Context) ([]*Series, error) {
	rows, err := s.db.Query(ctx, `SELECT `+seriesCols+` FROM signal_series ORDER BY key`)
	if err != nil {
		return nil, fmt.Errorf("signals: series: %w", err)
	}
	defer rows.Close()
	var out []*Series
	for rows.Next() {
		sr, err := scanSeries(rows)
		if err != nil {
			return nil, fmt.Errorf("signals: series: %w", err)
		}
		out = append(out, sr)
	}
	return out, rows.Err()
}

func (s *Service) seriesByID(ctx context.Context, id int64) (*Series, error) {
	sr, err := scanSeries(s.db.QueryRow(ctx, `SELECT `+seriesCols+` FROM signal_series WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("signal %d: %w", id, apperr.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("signals: series: %w", err)
	}
	return sr, nil
}

// counts reads a series' stored counts in [from, to).
func (s *Service) counts(ctx context.Context, id int64, from, to time.Time) (map[time.Time]float64, error) {
	rows, err := s.db.Query(ctx, `SELECT bucket, count FROM signal_buckets WHERE series_id = ? AND bucket >= ? AND bucket < ?`,
		id, db.T(from), db.T(to))
	if err != nil {
		return nil, fmt.Errorf("signals: counts: %w", err)
	}
	defer rows.Close()
	out := map[time.Time]float64{}
	for rows.Next() {
		var b db.Time
		var n int64
		if err := rows.Scan(&b, &n); err != nil {
			return nil, fmt.Errorf("signals: counts: %w", err)
		}
		out[b.Time] = float64(n)
	}
	return out, rows.Err()
}
