// Package opsmetrics exposes the desk's operational state to Prometheus:
// open cases by team and priority, intake by channel, SLA warnings and
// breaches, open escalations, the event outbox, the job queue and the
// notification deliveries. It reads the capabilities' tables, never writes
// them, and its labels carry no personal data (teams, priorities,
// channels, metrics, states — never a person, a seller or a case).
//
// Each scrape reads a handful of GROUP BY counts; the answer is kept for a
// short while so that several Prometheus servers (or a fast scrape
// interval) do not multiply the load.
package opsmetrics

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
)

// metric is one family: its description and the query giving its samples,
// labels first, then the value.
type metric struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	query string
}

// Collector is the prometheus.Collector of the desk's state.
type Collector struct {
	db      *db.DB
	clock   clock.Clock
	log     *slog.Logger
	ttl     time.Duration
	metrics []metric
	up      *prometheus.Desc

	mu     sync.Mutex
	at     time.Time
	cached []prometheus.Metric
}

// CacheFor is how long one reading of the store answers scrapes.
const CacheFor = 10 * time.Second

// New returns the collector over d.
func New(d *db.DB, c clock.Clock, log *slog.Logger) *Collector {
	active := ""
	for i, st := range cases.ActiveStatuses {
		if i > 0 {
			active += ", "
		}
		active += "'" + string(st) + "'"
	}
	m := func(name, help string, kind prometheus.ValueType, query string, labels ...string) metric {
		return metric{desc: prometheus.NewDesc(name, help, labels, nil), kind: kind, query: query}
	}
	return &Collector{db: d, clock: c, log: log, ttl: CacheFor,
		up: prometheus.NewDesc("flare_store_up", "1 when the last reading of the store succeeded.", nil, nil),
		metrics: []metric{
			m("flare_cases_open", "Cases still being worked, by owning team and priority.", prometheus.GaugeValue,
				`SELECT team, priority, COUNT(*) FROM cases WHERE status IN (`+active+`) GROUP BY team, priority`, "team", "priority"),
			m("flare_cases_unassigned", "Cases still being worked that have no owner, by team.", prometheus.GaugeValue,
				`SELECT team, COUNT(*) FROM cases WHERE status IN (`+active+`) AND owner_id IS NULL GROUP BY team`, "team"),
			m("flare_cases_created_total", "Cases created, by intake channel.", prometheus.CounterValue,
				`SELECT channel, COUNT(*) FROM cases GROUP BY channel`, "channel"),
			m("flare_sla_events_total", "SLA warnings and breaches fired, by metric, kind and team.", prometheus.CounterValue,
				`SELECT metric, kind, team, COUNT(*) FROM sla_events GROUP BY metric, kind, team`, "metric", "kind", "team"),
			m("flare_escalations_open", "Escalations open or acknowledged, by level.", prometheus.GaugeValue,
				`SELECT CAST(level AS TEXT), COUNT(*) FROM escalations WHERE state <> 'closed' GROUP BY level`, "level"),
			m("flare_event_deliveries", "Event deliveries not yet done, by durable subscriber and state (pending, dead).", prometheus.GaugeValue,
				`SELECT subscriber, state, COUNT(*) FROM event_deliveries GROUP BY subscriber, state`, "subscriber", "state"),
			m("flare_jobs", "Jobs in the job queue, by kind and state.", prometheus.GaugeValue,
				`SELECT kind, state, COUNT(*) FROM river_job GROUP BY kind, state`, "kind", "state"),
			m("flare_notification_deliveries", "Notification deliveries, by channel (email, webhook) and state (pending, sent, failed).",
				prometheus.GaugeValue, `SELECT channel, state, COUNT(*) FROM notify_deliveries GROUP BY channel, state`, "channel", "state"),
		}}
}

// Describe sends every family's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.up
	for _, m := range c.metrics {
		ch <- m.desc
	}
}

// Collect sends the families' samples, read from the store at most once
// per CacheFor.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	if c.cached == nil || now.Sub(c.at) >= c.ttl {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		samples, err := c.read(ctx)
		cancel()
		up := 1.0
		if err != nil {
			c.log.Warn("metrics: reading the store", "err", err)
			up, samples = 0, nil
		}
		c.cached, c.at = append(samples, prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up)), now
	}
	for _, s := range c.cached {
		ch <- s
	}
}

func (c *Collector) read(ctx context.Context) ([]prometheus.Metric, error) {
	var out []prometheus.Metric
	for _, m := range c.metrics {
		samples, err := c.sample(ctx, m)
		if err != nil {
			return nil, err
		}
		out = append(out, samples...)
	}
	return out, nil
}

// sample runs m's query: its labels, then the count.
func (c *Collector) sample(ctx context.Context, m metric) ([]prometheus.Metric, error) {
	rows, err := c.db.Query(ctx, m.query)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.desc, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []prometheus.Metric
	for rows.Next() {
		labels := make([]string, len(cols)-1)
		var n float64
		dest := make([]any, len(cols))
		for i := range labels {
			dest[i] = &labels[i]
		}
		dest[len(labels)] = &n
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("%s: %w", m.desc, err)
		}
		s, err := prometheus.NewConstMetric(m.desc, m.kind, n, labels...)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
