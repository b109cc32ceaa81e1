package web

// Reports in the UI: the live operations dashboard (/reports/dashboard),
// the reporting page with filters and charts (/reports) and the staffing
// view (/reports/staffing). Tables are rendered here from the same
// figures the /api/v1/reports endpoints serve; charts are drawn in the
// browser by Apache ECharts (embedded under static/vendor) from those
// endpoints' JSON, named in data- attributes (no inline script: the CSP).

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/reports"
)

func (u *ui) addReportFuncs(fm template.FuncMap) {
	fm["seesReports"] = func(a *auth.Actor) bool { return a != nil && a.Can(auth.PermReportRead) }
	fm["figure"] = figureText
	fm["figureLabel"] = func(name string) string {
		if l, ok := figureLabels[name]; ok {
			return l
		}
		return name
	}
	fm["pct"] = func(x float64) string { return strconv.FormatFloat(x*100, 'f', 1, 64) + "%" }
	fm["secs"] = func(sec float64) string { return shortDuration(time.Duration(sec * float64(time.Second))) }
	fm["rpTarget"] = func(h reports.Headline) string {
		if h.Target == nil {
			return ""
		}
		return figureText(h.Figure, *h.Target)
	}
	fm["rpOn"] = func(h reports.Headline) bool { return h.OnTarget != nil && *h.OnTarget }
	fm["channels"] = func() []cases.Channel { return cases.Channels }
	fm["tiers"] = func() []int { return []int{1, 2, 3, 4} }
	fm["seq"] = func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	fm["weekday"] = func(i int) string { return []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}[i] }
}

var figureLabels = map[string]string{
	"intake": "Intake", "resolved": "Resolved", "backlog": "Backlog at the end",
	"first_response.median_seconds": "First response, median", "resolution.median_seconds": "Resolution, median",
	"sla_attainment.first_response": "SLA attainment, first response", "sla_attainment.resolution": "SLA attainment, resolution",
	"reopen_rate": "Reopen rate", "escalation_rate": "Escalation rate", "repeat_rate": "Repeat-contact rate",
}

// figureText shows a headline figure as people read it.
func figureText(name string, v float64) string {
	switch {
	case strings.HasSuffix(name, "_seconds"):
		return shortDuration(time.Duration(v * float64(time.Second)))
	case strings.HasSuffix(name, "_rate") || strings.HasPrefix(name, "sla_attainment."):
		return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func shortDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return strconv.FormatFloat(d.Hours()/24, 'f', 1, 64) + " d"
	case d >= time.Hour:
		return strconv.FormatFloat(d.Hours(), 'f', 1, 64) + " h"
	case d >= time.Minute:
		return strconv.FormatFloat(d.Minutes(), 'f', 0, 64) + " min"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 0, 64) + " s"
}

type dashboardData struct {
	Live *reports.Live
}

func (u *ui) dashboardPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	l, err := u.s.app.Reports.Live(r.Context(), a)
	if err != nil {
		return err
	}
	u.render(w, r, http.StatusOK, "dashboard", view{Me: &a, Title: "Operations dashboard", Nav: "reports", Data: dashboardData{Live: l}})
	return nil
}

type reportsData struct {
	Form    url.Values
	Query   template.URL // the filters, for the API links (url.Values.Encode: safe)
	Desk    *desk.Config
	Summary *reports.Summary
	Error   string
}

func (u *ui) reportsPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	ctx := r.Context()
	cfg, err := u.s.app.Desk.Config(ctx)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	// The default period: the last 28 whole days.
	if q.Get("from") == "" && q.Get("to") == "" {
		today := u.s.app.Clock.Now().UTC().Truncate(24 * time.Hour)
		q.Set("from", today.AddDate(0, 0, -28).Format(time.DateOnly))
		q.Set("to", today.Format(time.DateOnly))
	}
	clean := url.Values{}
	for _, k := range []string{"from", "to", "market", "team", "category", "channel", "tier", "priority"} {
		if v := strings.TrimSpace(q.Get(k)); v != "" {
			clean.Set(k, v)
		}
	}
	d := reportsData{Form: clean, Query: template.URL(clean.Encode()), Desk: cfg}
	req := r.Clone(ctx)
	req.URL.RawQuery = string(d.Query)
	v := &apperr.Invalid{}
	f := reportFilter(req, v)
	status := http.StatusOK
	if err = v.Err(); err == nil {
		d.Summary, err = u.s.summary(req, a, f)
	}
	var inv *apperr.Invalid
	switch {
	case errors.As(err, &inv):
		status, d.Error = http.StatusBadRequest, fieldErrorsText(inv.Errors)
	case err != nil:
		return err
	}
	u.render(w, r, status, "reports", view{Me: &a, Title: "Reports", Nav: "reports", Data: d})
	return nil
}

type staffingData struct {
	View   *reports.StaffingView
	Market string
	Weeks  int
	Rows   []staffingRow
}

// staffingRow is one market's agents for one hour of the day, Monday to Sunday.
type staffingRow struct {
	Market string
	Hour   int
	Cells  [7]reports.StaffHour
}

func (u *ui) staffingPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	q := r.URL.Query()
	weeks, _ := strconv.Atoi(q.Get("weeks"))
	if weeks < 0 || weeks > 26 {
		weeks = 0
	}
	market := strings.ToUpper(strings.TrimSpace(q.Get("market")))
	cfg, err := u.s.app.Desk.Config(r.Context())
	if err != nil {
		return err
	}
	if market == "" && len(cfg.Markets) > 0 {
		market = cfg.Markets[0].Code
	}
	sv, err := u.s.app.Reports.Staffing(r.Context(), a, weeks, market)
	if err != nil {
		return err
	}
	d := staffingData{View: sv, Market: market, Weeks: sv.Weeks}
	for _, m := range sv.Markets {
		for h := range 24 {
			row := staffingRow{Market: m.Market, Hour: h}
			for _, c := range m.Hours {
				if c.Hour == h {
					row.Cells[c.Weekday] = c
				}
			}
			d.Rows = append(d.Rows, row)
		}
	}
	u.render(w, r, http.StatusOK, "staffing", view{Me: &a, Title: "Staffing", Nav: "reports", Data: struct {
		staffingData
		Desk *desk.Config
	}{d, cfg}})
	return nil
}
