package web

// Signals in the UI: the Signals page (/signals: every series with its
// last day drawn against the expected band, anomalies marked; /signals/{id}:
// one series over up to two weeks, with its alerts) and the Alerts list
// (/alerts: each alert with its small chart, acknowledge and close).

import (
	"html/template"
	"net/http"
	"strconv"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/signals"
)

func (u *ui) addSignalFuncs(fm template.FuncMap) {
	fm["seesSignals"] = func(a *auth.Actor) bool { return a != nil && signals.MayRead(*a) }
}

type signalRow struct {
	signals.SeriesSummary
	Chart template.HTML
}

type signalsData struct {
	Rows   []signalRow
	Series *signals.View
	Chart  template.HTML
	Hours  int
	Alerts []alertRow
}

type alertRow struct {
	*signals.Alert
	Chart    template.HTML
	CanWrite bool
}

// signalsShown bounds the charts on the Signals page: the busiest series.
const signalsShown = 40

func (u *ui) signalsPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	ctx := r.Context()
	list, err := u.s.app.Signals.List(ctx, a)
	if err != nil {
		return err
	}
	cfg, err := u.s.app.Desk.Config(ctx)
	if err != nil {
		return err
	}
	d := signalsData{}
	for i, sm := range list {
		row := signalRow{SeriesSummary: sm}
		if i < signalsShown {
			v, err := u.s.app.Signals.Points(ctx, a, sm.ID, 24)
			if err != nil {
				return err
			}
			row.Chart = template.HTML(signals.Chart(v.Points, v.Alerts, 360, 60, signals.AlertScoreOf(cfg))) // built from numbers and escaped text
		}
		d.Rows = append(d.Rows, row)
	}
	u.render(w, r, http.StatusOK, "signals", view{Me: &a, Title: "Signals", Nav: "signals", Data: d})
	return nil
}

func (u *ui) signalPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	ctx := r.Context()
	id, ok := signals.ParseID(r.PathValue("id"))
	if !ok {
		return apperr.ErrNotFound
	}
	hours := 72
	if h, err := strconv.Atoi(r.URL.Query().Get("hours")); err == nil && h >= 1 && h <= signals.MaxHours {
		hours = h
	}
	v, err := u.s.app.Signals.Points(ctx, a, id, hours)
	if err != nil {
		return err
	}
	cfg, err := u.s.app.Desk.Config(ctx)
	if err != nil {
		return err
	}
	d := signalsData{Series: v, Hours: hours,
		Chart: template.HTML(signals.Chart(v.Points, v.Alerts, 960, 220, signals.AlertScoreOf(cfg)))} // built from numbers and escaped text
	for _, al := range v.Alerts {
		d.Alerts = append(d.Alerts, alertRow{Alert: al, CanWrite: a.Can(auth.PermCaseWrite)})
	}
	u.render(w, r, http.StatusOK, "signals", view{Me: &a, Title: v.Series.Label, Nav: "signals", Data: d})
	return nil
}

func (u *ui) alertsPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	ctx := r.Context()
	status := r.URL.Query().Get("status")
	if status == "" {
		status = "active"
	}
	list, err := u.s.app.Signals.Alerts(ctx, a, signals.AlertFilter{Status: status})
	if err != nil {
		return err
	}
	d := signalsData{}
	for _, al := range list {
		chart, err := u.s.app.Signals.AlertChart(ctx, al)
		if err != nil {
			return err
		}
		d.Alerts = append(d.Alerts, alertRow{Alert: al, Chart: template.HTML(chart), CanWrite: a.Can(auth.PermCaseWrite)}) // built from numbers and escaped text
	}
	u.render(w, r, http.StatusOK, "alerts", view{Me: &a, Title: "Alerts", Nav: "signals", Data: map[string]any{"Rows": d.Alerts, "Status": status}})
	return nil
}

func (u *ui) postAlertAction(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, ok := signals.ParseID(r.PathValue("id"))
	if !ok {
		return apperr.ErrNotFound
	}
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	var err error
	switch r.PostForm.Get("action") {
	case "acknowledge":
		_, err = u.s.app.Signals.Acknowledge(r.Context(), a, id)
	case "close":
		_, err = u.s.app.Signals.Close(r.Context(), a, id)
	default:
		return badRequest("Unknown action.")
	}
	if err != nil {
		return err
	}
	next := safeNext(r.PostForm.Get("next"))
	if r.PostForm.Get("next") == "" {
		next = "/alerts"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}
