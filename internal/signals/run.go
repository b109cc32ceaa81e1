package signals

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/incidents"
	"github.com/flare-desk/flare/internal/intake"
)

// errMoved: another server scored the series meanwhile.
var errMoved = errors.New("signals: series scored elsewhere")

// Fire scores every bucket that has closed (Grace after its end) in every
// series, raises the alerts, runs their rules' pending actions, and
// returns when the next bucket closes.
func (s *Service) Fire(ctx context.Context) (time.Time, error) {
	now := s.clock.Now()
	closed := Floor(now.Add(-Grace)) // buckets that start before it are closed
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return time.Time{}, err
	}
	all, err := s.allSeries(ctx)
	if err != nil {
		return time.Time{}, err
	}
	for _, sr := range all {
		if err := s.score(ctx, cfg, sr, closed); errors.Is(err, errMoved) {
			s.forget(sr.ID)
		} else if err != nil {
			s.forget(sr.ID)
			return time.Time{}, err
		}
	}
	if err := s.act(ctx, cfg); err != nil {
		return time.Time{}, err
	}
	return closed.Add(Bucket + Grace), nil
}

func (s *Service) forget(id int64) {
	s.mu.Lock()
	delete(s.models, id)
	s.mu.Unlock()
}

// modelAt is the series' model ready to score the bucket at from: the
// one in memory, or one rebuilt by replaying the stored counts of the
// buckets it remembers (after a restart, or when another server scored).
func (s *Service) modelAt(ctx context.Context, sr *Series, from time.Time) (*model, error) {
	s.mu.Lock()
	m := s.models[sr.ID]
	s.mu.Unlock()
	if m != nil && m.next.Equal(from) {
		return m, nil
	}
	m = newModel()
	start := from.Add(-time.Duration(memory) * Bucket)
	if start.Before(sr.First) {
		start = sr.First
	}
	counts, err := s.counts(ctx, sr.ID, start, from)
	if err != nil {
		return nil, err
	}
	for b := start; b.Before(from); b = b.Add(Bucket) {
		m.update(b, counts[b])
	}
	m.next = from
	return m, nil
}

// score scores the series' closed buckets not yet scored, in one
// transaction with the alerts they raise and the series' new cursor.
func (s *Service) score(ctx context.Context, cfg *desk.Config, sr *Series, closed time.Time) error {
	from := sr.ScoredTo
	if from.IsZero() {
		from = sr.First
	}
	if !from.Before(closed) {
		return nil
	}
	m, err := s.modelAt(ctx, sr, from)
	if err != nil {
		return err
	}
	counts, err := s.counts(ctx, sr.ID, from, closed)
	if err != nil {
		return err
	}
	var pts []Point
	for b := from; b.Before(closed); b = b.Add(Bucket) {
		pts = append(pts, m.update(b, counts[b]))
	}
	set := SettingsOf(cfg)
	now := s.clock.Now()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE signal_series SET scored_to = ? WHERE id = ? AND COALESCE(scored_to, first_bucket) = ?`,
			db.T(closed), sr.ID, db.T(from))
		if err != nil {
			return fmt.Errorf("signals: cursor: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errMoved
		}
		if err := writePoints(ctx, tx, sr.ID, pts); err != nil {
			return err
		}
		for _, p := range pts {
			if th := set.alertScore(); p.Anomalous(th) || p.lasting(th) {
				if err := raise(ctx, tx, set, sr, p, !p.Anomalous(th), now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.models[sr.ID] = m
	s.mu.Unlock()
	return nil
}

// writePoints stores the scored buckets (empty ones too: their expected
// band is part of the chart), keeping each bucket's count.
func writePoints(ctx context.Context, tx *db.Tx, id int64, pts []Point) error {
	const chunk = 150
	for i := 0; i < len(pts); i += chunk {
		var rows []string
		var args []any
		for _, p := range pts[i:min(i+chunk, len(pts))] {
			rows = append(rows, "(?, ?, 0, ?, ?, ?, ?)")
			args = append(args, id, db.T(p.At), round(p.Expected), p.Lo, p.Hi, round(p.Score))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO signal_buckets (series_id, bucket, count, expected, lo, hi, score) VALUES `+
			strings.Join(rows, ", ")+` ON CONFLICT (series_id, bucket) DO UPDATE SET expected = excluded.expected,
			lo = excluded.lo, hi = excluded.hi, score = excluded.score`, args...); err != nil {
			return fmt.Errorf("signals: points: %w", err)
		}
	}
	return nil
}

func round(v float64) float64 { return math.Round(v*1000) / 1000 }

// joinGap is how many quiet buckets may lie between two anomalous ones
// of one alert: a surge whose counts dip for a bucket is one anomaly.
const joinGap = 2 * Bucket

// raise records an anomalous bucket: it extends the series' open alert
// that ends at most joinGap before the bucket starts (its observed and
// expected counts are those of its anomalous buckets), or opens a new one
// — unless extendOnly (a lasting bucket only keeps an alert going).
func raise(ctx context.Context, tx *db.Tx, set Settings, sr *Series, p Point, extendOnly bool, now time.Time) error {
	var id int64
	var observed, expected, score float64
	err := tx.QueryRow(ctx, `SELECT id, observed, expected, score FROM signal_alerts
		WHERE series_id = ? AND window_end >= ? AND window_end <= ? AND status <> 'closed' ORDER BY window_end DESC LIMIT 1`,
		sr.ID, db.T(p.At.Add(-joinGap)), db.T(p.At)).Scan(&id, &observed, &expected, &score)
	end := p.At.Add(Bucket)
	if err == nil {
		observed, expected, score = observed+p.Count, expected+p.Expected, math.Max(score, p.Score)
		rules := matching(set, sr, score, observed)
		_, err = tx.Exec(ctx, `UPDATE signal_alerts SET window_end = ?, observed = ?, expected = ?, score = ?, rules = ?,
			pending = ?, updated_at = ? WHERE id = ?`, db.T(end), observed, round(expected), round(score), mustJSON(rules),
			len(rules) > 0, db.T(now), id)
		if err != nil {
			return fmt.Errorf("signals: extend alert: %w", err)
		}
		return nil
	}
	if extendOnly {
		return nil
	}
	rules := matching(set, sr, p.Score, p.Count)
	if _, err := tx.Exec(ctx, `INSERT INTO signal_alerts (key, series_id, window_start, window_end, observed, expected, score,
		status, rules, done, pending, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, '[]', ?, ?, ?)
		ON CONFLICT (key) DO NOTHING`, sr.Key+"@"+p.At.Format(time.RFC3339), sr.ID, db.T(p.At), db.T(end), p.Count,
		round(p.Expected), round(p.Score), mustJSON(rules), len(rules) > 0, db.T(now), db.T(now)); err != nil {
		return fmt.Errorf("signals: alert: %w", err)
	}
	return nil
}

func matching(set Settings, sr *Series, score, observed float64) []string {
	out := []string{}
	for _, r := range set.Rules {
		if r.matches(sr, score, observed) {
			out = append(out, r.Name)
		}
	}
	return out
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// act does the pending actions of the alerts' rules. Each action is
// recorded as done in the transaction that does it (or, for a case,
// de-duplicated by the alert's key in intake), so a retry repeats none.
func (s *Service) act(ctx context.Context, cfg *desk.Config) error {
	list, err := s.alerts(ctx, `a.pending = ?`, true)
	if err != nil {
		return err
	}
	slices.Reverse(list) // oldest first: a later alert joins the incident an earlier one declared
	rules := map[string]Rule{}
	for _, r := range SettingsOf(cfg).Rules {
		rules[r.Name] = r
	}
	for _, a := range list {
		failed := false
		for _, name := range a.Rules {
			r, ok := rules[name]
			if !ok {
				continue // the rule was removed since
			}
			if err := s.apply(ctx, a, r); err != nil {
				s.log.Error("signals: alert action", "alert", a.ID, "rule", name, "err", err)
				failed = true // tried again next round
			}
		}
		if failed {
			continue
		}
		if _, err := s.db.Exec(ctx, `UPDATE signal_alerts SET pending = ? WHERE id = ? AND updated_at = ?`,
			false, a.ID, db.T(a.UpdatedAt)); err != nil {
			return fmt.Errorf("signals: alert done: %w", err)
		}
	}
	return nil
}

// done marks an action of an alert done in tx; false if it was already.
func markDone(ctx context.Context, tx *db.Tx, id int64, action string) (bool, error) {
	lock := ""
	if tx.Dialect() == db.Postgres {
		lock = " FOR UPDATE"
	}
	var raw string
	if err := tx.QueryRow(ctx, `SELECT done FROM signal_alerts WHERE id = ?`+lock, id).Scan(&raw); err != nil {
		return false, fmt.Errorf("signals: alert: %w", err)
	}
	var done []string
	_ = json.Unmarshal([]byte(raw), &done)
	if slices.Contains(done, action) {
		return false, nil
	}
	if _, err := tx.Exec(ctx, `UPDATE signal_alerts SET done = ? WHERE id = ?`, mustJSON(append(done, action)), id); err != nil {
		return false, fmt.Errorf("signals: alert: %w", err)
	}
	return true, nil
}

func (s *Service) apply(ctx context.Context, a *Alert, r Rule) error {
	now := s.clock.Now()
	if r.Notify != "" && !slices.Contains(a.Done, "notify:"+r.Name) {
		err := s.db.InTx(ctx, func(tx *db.Tx) error {
			if ok, err := markDone(ctx, tx, a.ID, "notify:"+r.Name); !ok || err != nil {
				return err
			}
			return s.cases.Bus().Publish(ctx, tx, events.Event{Type: events.SignalAlert, At: now, Data: &events.Alert{
				AlertID: a.ID, Key: a.Key, Series: a.Series.Key, Label: a.Series.Label, Rule: r.Name, Team: r.Notify,
				WindowStart: a.WindowStart, WindowEnd: a.WindowEnd, Observed: a.Observed, Expected: a.Expected, Score: a.Score}})
		})
		if err != nil {
			return err
		}
	}
	if r.OpenCase != "" && a.CaseNumber == "" {
		res, err := s.intake.Submit(ctx, system, intake.Submission{
			Source: intake.Source{Channel: "alert", Key: "signals", ExternalID: a.Key},
			Case: cases.CreateInput{Title: clipTitle("Anomaly: " + a.Series.Label), Category: r.OpenCase, Market: a.Series.Dims["market"],
				Description: fmt.Sprintf("%s: %.0f observed against %.1f expected between %s and %s (score %.2f, rule %q).",
					a.Series.Label, a.Observed, a.Expected, a.WindowStart.Format("2006-01-02 15:04"), a.WindowEnd.Format("15:04 MST"), a.Score, r.Name),
				Tags: []string{Tag}},
		})
		if err != nil {
			return fmt.Errorf("open case: %w", err)
		}
		if _, err := s.db.Exec(ctx, `UPDATE signal_alerts SET case_number = ? WHERE id = ?`, res.Case.Number, a.ID); err != nil {
			return fmt.Errorf("signals: alert case: %w", err)
		}
		a.CaseNumber = res.Case.Number
	}
	if d := r.Declare; !d.IsZero() && a.IncidentID == 0 {
		return s.declare(ctx, a, r, d)
	}
	return nil
}

func clipTitle(t string) string {
	if r := []rune(t); len(r) > 150 {
		return string(r[:150])
	}
	return t
}

// declare declares the rule's incident for the alert, unless the last
// incident declared for the same signal is still open: then the alert
// joins that one.
func (s *Service) declare(ctx context.Context, a *Alert, r Rule, d Declare) error {
	var last int64
	err := s.db.QueryRow(ctx, `SELECT COALESCE(MAX(incident_id), 0) FROM signal_alerts WHERE series_id = ?`, a.Series.ID).Scan(&last)
	if err != nil {
		return fmt.Errorf("signals: last incident: %w", err)
	}
	if last != 0 {
		inc, err := s.incidents.Get(ctx, system, incidents.FormatNumber(last))
		if err != nil {
			return err
		}
		if inc.Status.Active() {
			_, err := s.db.Exec(ctx, `UPDATE signal_alerts SET incident_id = ? WHERE id = ? AND incident_id IS NULL`, last, a.ID)
			return err
		}
	}
	in := incidents.DeclareInput{
		Title:    clipTitle("Surge: " + a.Series.Label),
		Summary:  fmt.Sprintf("Detected by the rule %q: %.0f observed against %.1f expected from %s (score %.2f).", r.Name, a.Observed, a.Expected, a.WindowStart.Format("2006-01-02 15:04 MST"), a.Score),
		Type:     d.Type,
		Severity: d.Severity,
		Case:     a.CaseNumber,
	}
	if m := a.Series.Dims["market"]; m != "" {
		in.Markets = []string{m}
	}
	if c := a.Series.Dims["category"]; c != "" {
		in.Categories = []string{c}
	}
	start := a.WindowStart
	in.StartedAt = &start
	if now := s.clock.Now(); now.Sub(a.WindowEnd) > time.Hour {
		in.At = a.WindowEnd.Add(Grace) // catching up on the past (a restart, the demo): declared when it was seen
	}
	_, err = s.incidents.Declare(ctx, system, in, func(tx *db.Tx, inc *incidents.Incident) error {
		if ok, err := markDone(ctx, tx, a.ID, "incident:"+r.Name); !ok || err != nil {
			if err == nil {
				err = errors.New("signals: incident declared already")
			}
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE signal_alerts SET incident_id = ? WHERE id = ?`, inc.ID, a.ID)
		return err
	})
	return err
}
