package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/incidents"
	"github.com/flare-desk/flare/internal/reports"
)

// The desk's performance metrics (internal/reports): the metrics, the live
// dashboard, the reporting page's charts and summary, and staffing. Every
// table comes as JSON, CSV (format=csv) and, where it is a table, XLSX.

// reportFilter reads the filters every report takes; extra names the
// endpoint's own parameters.
func reportFilter(r *http.Request, v *apperr.Invalid, extra ...string) reports.Filter {
	q := r.URL.Query()
	allowed := append([]string{"from", "to", "market", "team", "category", "channel", "priority", "tier", "format"}, extra...)
	for k := range q {
		if !slices.Contains(allowed, k) {
			v.Add(k, "unknown query parameter")
		}
	}
	f := reports.Filter{By: q.Get("by"), Market: strings.ToUpper(q.Get("market")), Team: q.Get("team"),
		Category: q.Get("category"), Channel: q.Get("channel"), Priority: strings.ToUpper(q.Get("priority"))}
	if t := q.Get("tier"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil {
			v.Add("tier", "must be a seller tier from 1 to 4")
		}
		f.Tier = n
	}
	f.Period.From, f.Period.To = dayOrInstant(q.Get("from"), "from", v), dayOrInstant(q.Get("to"), "to", v)
	return f
}

// reportFormat reads format: json (default), csv, and xlsx where allowed.
func reportFormat(r *http.Request, v *apperr.Invalid, xlsx bool) string {
	f := r.URL.Query().Get("format")
	switch {
	case f == "" || f == "json" || f == "csv":
	case f == "xlsx" && xlsx:
	case xlsx:
		v.Add("format", "must be json, csv or xlsx")
	default:
		v.Add("format", "must be json or csv")
	}
	return f
}

// reportMetrics answers GET /reports/metrics: the period's figures, sliced,
// beside the previous period's; as JSON, or CSV with format=csv.
func (s *Server) reportMetrics(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	v := &apperr.Invalid{}
	f := reportFilter(r, v, "by")
	format := reportFormat(r, v, false)
	if err := v.Err(); err != nil {
		return err
	}
	rep, err := s.app.Reports.Report(r.Context(), a, f)
	if err != nil {
		return err
	}
	if format == "csv" {
		csvHeaders(w, "flare-metrics.csv")
		return rep.WriteCSV(w)
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// dayOrInstant reads a date (2026-11-02, midnight UTC) or an RFC 3339 instant.
func dayOrInstant(raw, name string, v *apperr.Invalid) time.Time {
	if raw == "" {
		v.Add(name, "is required: a date (2026-11-02) or an RFC 3339 instant")
		return time.Time{}
	}
	if t, err := time.Parse(time.DateOnly, raw); err == nil {
		return t
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		v.Add(name, "is not a date (2026-11-02) or an RFC 3339 instant (2026-11-02T09:00:00Z)")
	}
	return t
}

func csvHeaders(w http.ResponseWriter, name string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
}

// table is one exportable table: the same rows as CSV and as an XLSX sheet.
type table struct {
	name string
	head []string
	rows [][]any
}

func writeTablesCSV(w http.ResponseWriter, file string, ts ...table) error {
	csvHeaders(w, file)
	cw := csv.NewWriter(w)
	for i, t := range ts {
		if len(ts) > 1 {
			if i > 0 {
				_ = cw.Write(nil)
			}
			_ = cw.Write([]string{"# " + t.name})
		}
		_ = cw.Write(t.head)
		for _, r := range t.rows {
			rec := make([]string, len(r))
			for j, c := range r {
				rec[j] = cell(c)
			}
			_ = cw.Write(rec)
		}
	}
	cw.Flush()
	return cw.Error()
}

func cell(c any) string {
	switch x := c.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case *float64:
		if x == nil {
			return ""
		}
		return strconv.FormatFloat(*x, 'f', -1, 64)
	case *bool:
		if x == nil {
			return ""
		}
		return strconv.FormatBool(*x)
	}
	return fmt.Sprint(c)
}

// writeTablesXLSX writes one sheet per table (numbers as numbers).
func writeTablesXLSX(w http.ResponseWriter, file string, ts ...table) error {
	x := excelize.NewFile()
	defer x.Close()
	for i, t := range ts {
		name := t.name
		if len(name) > 31 { // Excel's limit
			name = name[:31]
		}
		if i == 0 {
			if err := x.SetSheetName("Sheet1", name); err != nil {
				return fmt.Errorf("xlsx: %w", err)
			}
		} else if _, err := x.NewSheet(name); err != nil {
			return fmt.Errorf("xlsx: %w", err)
		}
		sw, err := x.NewStreamWriter(name)
		if err != nil {
			return fmt.Errorf("xlsx: %w", err)
		}
		head := make([]any, len(t.head))
		for j, h := range t.head {
			head[j] = h
		}
		if err := sw.SetRow("A1", head); err != nil {
			return fmt.Errorf("xlsx: %w", err)
		}
		for k, r := range t.rows {
			vals := make([]any, len(r))
			for j, c := range r {
				switch y := c.(type) {
				case *float64:
					if y != nil {
						vals[j] = *y
					}
				case *bool:
					if y != nil {
						vals[j] = *y
					}
				default:
					vals[j] = c
				}
			}
			at, _ := excelize.CoordinatesToCellName(1, k+2)
			if err := sw.SetRow(at, vals); err != nil {
				return fmt.Errorf("xlsx: %w", err)
			}
		}
		if err := sw.Flush(); err != nil {
			return fmt.Errorf("xlsx: %w", err)
		}
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="`+file+`"`)
	_, err := x.WriteTo(w)
	return err
}

func writeTables(w http.ResponseWriter, format, base string, ts ...table) error {
	if format == "xlsx" {
		return writeTablesXLSX(w, base+".xlsx", ts...)
	}
	return writeTablesCSV(w, base+".csv", ts...)
}

// reportLive answers GET /reports/live: the operations dashboard now; CSV
// and XLSX are its per-market table.
func (s *Server) reportLive(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	v := &apperr.Invalid{}
	for k := range r.URL.Query() {
		if k != "format" {
			v.Add(k, "unknown query parameter")
		}
	}
	format := reportFormat(r, v, true)
	if err := v.Err(); err != nil {
		return err
	}
	l, err := s.app.Reports.Live(r.Context(), a)
	if err != nil {
		return err
	}
	if format == "csv" || format == "xlsx" {
		return writeTables(w, format, "flare-live", liveTable(l))
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

func liveTable(l *reports.Live) table {
	t := table{name: "markets", head: []string{"market", "name", "backlog", "breaching_next_hour", "breached", "intake_24h", "intake_normal_24h", "intake_ratio", "state"}}
	for _, m := range l.Markets {
		t.rows = append(t.rows, []any{m.Market, m.Name, m.Backlog, m.BreachingNextHour, m.Breached, m.Intake24h, m.IntakeNormal24h, m.IntakeRatio, m.State})
	}
	t.rows = append(t.rows, []any{"all", "All markets", l.Backlog, l.BreachingNextHour, l.Breached, nil, nil, nil, ""})
	return t
}

// reportCharts answers GET /reports/charts: the reporting page's series;
// format=csv with chart=days|categories|team_sla|heat gives one of them.
func (s *Server) reportCharts(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	v := &apperr.Invalid{}
	f := reportFilter(r, v, "chart")
	format := reportFormat(r, v, false)
	chart := r.URL.Query().Get("chart")
	if format == "csv" && !slices.Contains([]string{"days", "categories", "team_sla", "heat"}, chart) {
		v.Add("chart", "with format=csv, name the chart: days, categories, team_sla or heat")
	}
	if err := v.Err(); err != nil {
		return err
	}
	c, err := s.app.Reports.Charts(r.Context(), a, f)
	if err != nil {
		return err
	}
	if format == "csv" {
		return writeTablesCSV(w, "flare-"+chart+".csv", chartTable(c, chart))
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func chartTable(c *reports.Charts, chart string) table {
	switch chart {
	case "days":
		t := table{name: "days", head: []string{"day", "intake", "resolved", "backlog"}}
		for _, d := range c.Days {
			t.rows = append(t.rows, []any{d.Day, d.Intake, d.Resolved, d.Backlog})
		}
		return t
	case "categories":
		t := table{name: "categories", head: []string{"category", "intake", "previous"}}
		for _, d := range c.Categories {
			t.rows = append(t.rows, []any{d.Key, d.Value, d.Previous})
		}
		return t
	case "team_sla":
		t := table{name: "team_sla", head: []string{"team", "met", "breached"}}
		for _, d := range c.TeamSLA {
			t.rows = append(t.rows, []any{d.Team, d.Met, d.Breached})
		}
		return t
	}
	t := table{name: "heat", head: []string{"weekday", "hour", "intake"}}
	days := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	for d := range 7 {
		for h := range 24 {
			t.rows = append(t.rows, []any{days[d], h, c.Heat[d][h]})
		}
	}
	return t
}

// summary is the reporting page's tables (reports.Summary) with the
// capabilities whose figures stand beside the metrics.
func (s *Server) summary(r *http.Request, a auth.Actor, f reports.Filter) (*reports.Summary, error) {
	return s.app.Reports.Summary(r.Context(), a, f, reports.Sources{Handoffs: s.app.Handoffs, Incidents: s.app.Incidents, Postmortems: s.app.Postmortems})
}

// reportSummary answers GET /reports/summary.
func (s *Server) reportSummary(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	v := &apperr.Invalid{}
	f := reportFilter(r, v)
	format := reportFormat(r, v, true)
	if err := v.Err(); err != nil {
		return err
	}
	sm, err := s.summary(r, a, f)
	if err != nil {
		return err
	}
	if format == "csv" || format == "xlsx" {
		return writeTables(w, format, "flare-summary", summaryTables(sm)...)
	}
	writeJSON(w, http.StatusOK, sm)
	return nil
}

func summaryTables(sm *reports.Summary) []table {
	h := table{name: "headlines", head: []string{"figure", "value", "previous", "change", "target", "on_target"}}
	for _, x := range sm.Headlines {
		h.rows = append(h.rows, []any{x.Figure, x.Value, x.Previous, x.Change, x.Target, x.OnTarget})
	}
	e := table{name: "escalation_time", head: []string{"level", "started", "unacknowledged", "to_acknowledge_median_seconds", "to_acknowledge_p90_seconds", "to_close_median_seconds"}}
	for _, x := range sm.Escalations {
		e.rows = append(e.rows, []any{x.Level, x.Started, x.Unacknowledged, x.ToAcknowledge.Median, x.ToAcknowledge.P90, x.ToClose.Median})
	}
	ho := table{name: "handoff_wait", head: []string{"team", "requested", "open", "overdue", "wait_median_hours", "wait_p90_hours"}}
	for _, x := range sm.Handoffs {
		ho.rows = append(ho.rows, []any{x.Team, x.Requested, x.Open, x.Overdue, x.WaitMedianHours, x.WaitP90Hours})
	}
	in := table{name: "incidents", head: []string{"by", "key", "incidents", "mtta_seconds", "mttr_seconds"}}
	for _, g := range []struct {
		by string
		l  []incidents.Stat
	}{{"all", []incidents.Stat{sm.Incidents.Overall}}, {"type", sm.Incidents.ByType}, {"severity", sm.Incidents.BySeverity}} {
		for _, x := range g.l {
			in.rows = append(in.rows, []any{g.by, x.Key, x.Incidents, x.MTTA, x.MTTR})
		}
	}
	ac := table{name: "postmortem_actions", head: []string{"open", "overdue"}, rows: [][]any{{sm.Actions.Open, sm.Actions.Overdue}}}
	return []table{h, e, ho, in, ac}
}

// reportStaffing answers GET /reports/staffing: agents needed per market
// and hour of the week.
func (s *Server) reportStaffing(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	v := &apperr.Invalid{}
	q := r.URL.Query()
	for k := range q {
		if k != "format" && k != "weeks" && k != "market" {
			v.Add(k, "unknown query parameter")
		}
	}
	weeks := 0
	if raw := q.Get("weeks"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 26 {
			v.Add("weeks", "must be a number of weeks from 1 to 26")
		}
		weeks = n
	}
	format := reportFormat(r, v, true)
	if err := v.Err(); err != nil {
		return err
	}
	sv, err := s.app.Reports.Staffing(r.Context(), a, weeks, strings.ToUpper(q.Get("market")))
	if err != nil {
		return err
	}
	if format == "csv" || format == "xlsx" {
		return writeTables(w, format, "flare-staffing", staffingTables(sv)...)
	}
	writeJSON(w, http.StatusOK, sv)
	return nil
}

func staffingTables(sv *reports.StaffingView) []table {
	days := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	t := table{name: "staffing", head: []string{"market", "weekday", "hour", "forecast", "aht_seconds", "agents", "service_level", "asa_seconds"}}
	for _, m := range sv.Markets {
		for _, h := range m.Hours {
			t.rows = append(t.rows, []any{m.Market, days[h.Weekday], h.Hour, h.Forecast, h.AHTSeconds, h.Agents, h.ServiceLevel, h.ASASeconds})
		}
	}
	c := table{name: "handling_time", head: []string{"category", "aht_seconds", "samples", "measured"}}
	for _, x := range sv.Categories {
		c.rows = append(c.rows, []any{x.Category, x.AHTSeconds, x.Samples, x.Measured})
	}
	return []table{t, c}
}
