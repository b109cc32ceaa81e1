package signals

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/incidents"
)

// Alert statuses.
const (
	AlertOpen         = "open"
	AlertAcknowledged = "acknowledged"
	AlertClosed       = "closed"
)

// Alert is an anomaly in a signal: its window, observed against expected,
// its score, the rules it matched and what they did.
type Alert struct {
	ID          int64     `json:"id"`
	Key         string    `json:"key"`
	Series      *Series   `json:"series"`
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	Observed    float64   `json:"observed"`
	Expected    float64   `json:"expected"`
	Score       float64   `json:"score"`
	Status      string    `json:"status"`
	Rules       []string  `json:"rules"`
	Done        []string  `json:"done"` // notify:<rule>, incident:<rule>
	CaseNumber  string    `json:"case,omitempty"`
	IncidentID  int64     `json:"-"`
	Incident    string    `json:"incident,omitempty"` // INC-7
	AckedAt     time.Time `json:"acknowledged_at,omitzero"`
	ClosedAt    time.Time `json:"closed_at,omitzero"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

const alertCols = `a.id, a.key, a.window_start, a.window_end, a.observed, a.expected, a.score, a.status, a.rules, a.done,
	a.case_number, a.incident_id, a.acked_at, a.closed_at, a.created_at, a.updated_at,
	s.id, s.key, s.kind, s.dims, s.first_bucket, s.scored_to`

func scanAlert(r db.Scanner) (*Alert, error) {
	var a Alert
	var ws, we, acked, closed, created, updated, first, scored db.Time
	var rules, done, dims string
	var inc sql.NullInt64
	sr := &Series{}
	if err := r.Scan(&a.ID, &a.Key, &ws, &we, &a.Observed, &a.Expected, &a.Score, &a.Status, &rules, &done, &a.CaseNumber,
		&inc, &acked, &closed, &created, &updated, &sr.ID, &sr.Key, &sr.Kind, &dims, &first, &scored); err != nil {
		return nil, err
	}
	a.WindowStart, a.WindowEnd, a.AckedAt, a.ClosedAt, a.CreatedAt, a.UpdatedAt = ws.Time, we.Time, acked.Time, closed.Time, created.Time, updated.Time
	_ = json.Unmarshal([]byte(rules), &a.Rules)
	_ = json.Unmarshal([]byte(done), &a.Done)
	_ = json.Unmarshal([]byte(dims), &sr.Dims)
	sr.First, sr.ScoredTo, sr.Label = first.Time, scored.Time, label(sr.Kind, sr.Dims)
	a.Series = sr
	if inc.Valid {
		a.IncidentID, a.Incident = inc.Int64, incidents.FormatNumber(inc.Int64)
	}
	return &a, nil
}

func (s *Service) alerts(ctx context.Context, where string, args ...any) ([]*Alert, error) {
	rows, err := s.db.Query(ctx, `SELECT `+alertCols+` FROM signal_alerts a JOIN signal_series s ON s.id = a.series_id
		WHERE `+where+` ORDER BY a.window_start DESC, a.id DESC LIMIT 200`, args...)
	if err != nil {
		return nil, fmt.Errorf("signals: alerts: %w", err)
	}
	defer rows.Close()
	var out []*Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("signals: alerts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AlertFilter narrows the alert list.
type AlertFilter struct {
	Status string // open | acknowledged | closed | active (open or acknowledged); empty: all
	Series int64
}

// Alerts lists the latest alerts (up to 200), newest first.
func (s *Service) Alerts(ctx context.Context, actor auth.Actor, f AlertFilter) ([]*Alert, error) {
	if err := mayRead(actor); err != nil {
		return nil, err
	}
	conds, args := []string{"1 = 1"}, []any{}
	switch f.Status {
	case "":
	case "active":
		conds = append(conds, "a.status <> 'closed'")
	case AlertOpen, AlertAcknowledged, AlertClosed:
		conds, args = append(conds, "a.status = ?"), append(args, f.Status)
	default:
		return nil, apperr.InvalidField("status", "one of open, acknowledged, closed, active")
	}
	if f.Series != 0 {
		conds, args = append(conds, "a.series_id = ?"), append(args, f.Series)
	}
	out, err := s.alerts(ctx, strings.Join(conds, " AND "), args...)
	if out == nil && err == nil {
		out = []*Alert{}
	}
	return out, err
}

// Alert is one alert.
func (s *Service) Alert(ctx context.Context, actor auth.Actor, id int64) (*Alert, error) {
	if err := mayRead(actor); err != nil {
		return nil, err
	}
	list, err := s.alerts(ctx, "a.id = ?", id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("alert %d: %w", id, apperr.ErrNotFound)
	}
	return list[0], nil
}

// Acknowledge marks an open alert as seen by actor.
func (s *Service) Acknowledge(ctx context.Context, actor auth.Actor, id int64) (*Alert, error) {
	return s.move(ctx, actor, id, AlertAcknowledged)
}

// Close closes an alert: a later anomaly of its signal opens a new one.
func (s *Service) Close(ctx context.Context, actor auth.Actor, id int64) (*Alert, error) {
	return s.move(ctx, actor, id, AlertClosed)
}

func (s *Service) move(ctx context.Context, actor auth.Actor, id int64, to string) (*Alert, error) {
	if err := mayWrite(actor); err != nil {
		return nil, err
	}
	a, err := s.Alert(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if a.Status == to || a.Status == AlertClosed {
		return nil, &apperr.Conflict{Detail: "the alert is " + a.Status + " already"}
	}
	now := db.T(s.clock.Now())
	q := `UPDATE signal_alerts SET status = ?, acked_by = ?, acked_at = ?, updated_at = ? WHERE id = ? AND status = ?`
	if to == AlertClosed {
		q = `UPDATE signal_alerts SET status = ?, closed_by = ?, closed_at = ?, updated_at = ? WHERE id = ? AND status = ?`
	}
	res, err := s.db.Exec(ctx, q, to, db.NullID(actor.UserID), now, now, id, a.Status)
	if err != nil {
		return nil, fmt.Errorf("signals: %s alert: %w", to, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, &apperr.Conflict{Detail: "the alert changed meanwhile; reload it"}
	}
	return s.Alert(ctx, actor, id)
}

// SeriesSummary is a series in the list: its last day.
type SeriesSummary struct {
	Series
	Total      float64 `json:"total_24h"`
	MaxScore   float64 `json:"max_score_24h"`
	OpenAlerts int     `json:"open_alerts"`
}

// List is every series, with its last day's total, its highest score and
// its open alerts; the busiest first.
func (s *Service) List(ctx context.Context, actor auth.Actor) ([]SeriesSummary, error) {
	if err := mayRead(actor); err != nil {
		return nil, err
	}
	since := db.T(Floor(s.clock.Now()).Add(-24 * time.Hour))
	rows, err := s.db.Query(ctx, `SELECT `+seriesCols+`,
		(SELECT COALESCE(SUM(b.count), 0) FROM signal_buckets b WHERE b.series_id = signal_series.id AND b.bucket >= ?),
		(SELECT COALESCE(MAX(b.score), 0) FROM signal_buckets b WHERE b.series_id = signal_series.id AND b.bucket >= ?),
		(SELECT COUNT(*) FROM signal_alerts a WHERE a.series_id = signal_series.id AND a.status <> 'closed')
		FROM signal_series ORDER BY key`, since, since)
	if err != nil {
		return nil, fmt.Errorf("signals: list: %w", err)
	}
	defer rows.Close()
	out := []SeriesSummary{}
	for rows.Next() {
		var sm SeriesSummary
		var dims string
		var first, scored db.Time
		if err := rows.Scan(&sm.ID, &sm.Key, &sm.Kind, &dims, &first, &scored, &sm.Total, &sm.MaxScore, &sm.OpenAlerts); err != nil {
			return nil, fmt.Errorf("signals: list: %w", err)
		}
		_ = json.Unmarshal([]byte(dims), &sm.Dims)
		sm.First, sm.ScoredTo, sm.Label = first.Time, scored.Time, label(sm.Kind, sm.Dims)
		out = append(out, sm)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sortSummaries(out)
	return out, nil
}

// View is a series' points over a window, with its alerts there.
type View struct {
	Series *Series  `json:"series"`
	From   string   `json:"from"`
	To     string   `json:"to"`
	Points []Point  `json:"points"`
	Alerts []*Alert `json:"alerts"`
}

// MaxHours bounds a series view's window (two weeks).
const MaxHours = 14 * 24

// Points is the series id over the last hours (1…MaxHours; 0: 24), each
// bucket with its expected band and score once scored.
func (s *Service) Points(ctx context.Context, actor auth.Actor, id int64, hours int) (*View, error) {
	if err := mayRead(actor); err != nil {
		return nil, err
	}
	if hours == 0 {
		hours = 24
	}
	if hours < 1 || hours > MaxHours {
		return nil, apperr.InvalidField("hours", "must be between 1 and %d", MaxHours)
	}
	sr, err := s.seriesByID(ctx, id)
	if err != nil {
		return nil, err
	}
	to := Floor(s.clock.Now()).Add(Bucket)
	from := to.Add(-time.Duration(hours) * time.Hour)
	pts, err := s.points(ctx, sr, from, to)
	if err != nil {
		return nil, err
	}
	v := &View{Series: sr, From: from.Format(time.RFC3339), To: to.Format(time.RFC3339), Points: pts}
	all, err := s.alerts(ctx, "a.series_id = ? AND a.window_end > ?", id, db.T(from))
	if err != nil {
		return nil, err
	}
	v.Alerts = all
	if v.Alerts == nil {
		v.Alerts = []*Alert{}
	}
	return v, nil
}

// points reads a series' buckets in [from, to), every bucket from its
// first (empty ones as zeros).
func (s *Service) points(ctx context.Context, sr *Series, from, to time.Time) ([]Point, error) {
	rows, err := s.db.Query(ctx, `SELECT bucket, count, expected, lo, hi, score FROM signal_buckets
		WHERE series_id = ? AND bucket >= ? AND bucket < ? ORDER BY bucket`, sr.ID, db.T(from), db.T(to))
	if err != nil {
		return nil, fmt.Errorf("signals: points: %w", err)
	}
	defer rows.Close()
	byAt := map[time.Time]Point{}
	for rows.Next() {
		var b db.Time
		var n int64
		var e, lo, hi, sc sql.NullFloat64
		if err := rows.Scan(&b, &n, &e, &lo, &hi, &sc); err != nil {
			return nil, fmt.Errorf("signals: points: %w", err)
		}
		byAt[b.Time] = Point{At: b.Time, Count: float64(n), Expected: e.Float64, Lo: lo.Float64, Hi: hi.Float64, Score: sc.Float64, Scored: e.Valid}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := []Point{}
	for b := from; b.Before(to); b = b.Add(Bucket) {
		if b.Before(sr.First) {
			continue
		}
		p, ok := byAt[b]
		if !ok {
			p = Point{At: b}
		}
		out = append(out, p)
	}
	return out, nil
}

// AlertChart is the alert's small chart: its signal from three hours
// before the window to an hour after it (inline SVG).
func (s *Service) AlertChart(ctx context.Context, a *Alert) (string, error) {
	pts, err := s.points(ctx, a.Series, a.WindowStart.Add(-3*time.Hour), a.WindowEnd.Add(time.Hour))
	if err != nil {
		return "", err
	}
	return Chart(pts, []*Alert{a}, 240, 48, DefaultAlertScore), nil
}

// ParseID reads an alert or series id from a path.
func ParseID(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

func sortSummaries(list []SeriesSummary) {
	slices.SortStableFunc(list, func(a, b SeriesSummary) int {
		if c := cmp.Compare(b.OpenAlerts, a.OpenAlerts); c != 0 {
			return c
		}
		return cmp.Compare(b.Total, a.Total)
	})
}
