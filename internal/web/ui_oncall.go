package web

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/oncall"
	"github.com/flare-desk/flare/internal/oncall/rota"
)

// On-call pages: who is on call for every team now (/oncall), a team's next
// two weeks with its overrides and calendar feeds (/oncall/{team}), where
// leads and admins add and end overrides and make feed URLs; and the
// summary on the team page, which flags a schedule with holes.

// oncallData is the on-call pages' content: Teams for the overview, One for
// a team's page.
type oncallData struct {
	Now   time.Time
	Teams []oncallTeamRow
	One   *oncallTeamView
}

// oncallTeamRow is a team on the overview.
type oncallTeamRow struct {
	oncall.TeamNow
	Holes []rota.Gap // in the next two weeks
}

// oncallTeamView is a team's on-call page.
type oncallTeamView struct {
	Shifts    *oncall.TeamShifts
	Now       oncall.TeamNow
	Days      []oncallDay
	Overrides []oncall.Override
	CanManage bool
	People    []oncall.Person
	Feeds     []oncall.Feed
	NewFeed   *newFeedAnswer // just made: its URL is shown this once
	Message   string
	Error     bool
	Form      overrideForm
}

// oncallDay is one UTC day of the two weeks.
type oncallDay struct {
	Day  time.Time
	Rows []oncallRow
}

// oncallRow is a shift or a hole within a day.
type oncallRow struct {
	Start, End time.Time
	Shift      *oncall.Shift // nil: nobody on call
	Current    bool
}

// overrideForm keeps what was typed when the override is refused.
type overrideForm struct {
	Person, From, To, Reason string
}

func (u *ui) oncallPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	ctx := r.Context()
	now := u.s.app.Clock.Now()
	ans, err := u.s.app.OnCall.Who(ctx, a, nil, now)
	if err != nil {
		return err
	}
	d := oncallData{Now: now}
	for _, t := range ans.Teams {
		row := oncallTeamRow{TeamNow: t}
		if t.Schedule {
			if row.Holes, err = u.s.app.OnCall.Holes(ctx, a, t.Team, now, now.Add(oncall.DefaultShiftsRange)); err != nil {
				return err
			}
		}
		d.Teams = append(d.Teams, row)
	}
	u.render(w, r, http.StatusOK, "oncall", view{Me: &a, Title: "On call", Nav: "oncall", Data: d})
	return nil
}

func (u *ui) oncallTeamPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	msg := r.URL.Query().Get("msg")
	return u.renderOncallTeam(w, r, a, http.StatusOK, &oncallTeamView{Message: msg})
}

// renderOncallTeam fills v (which may carry a message, a kept form or a
// new feed) with the team's two weeks and renders it.
func (u *ui) renderOncallTeam(w http.ResponseWriter, r *http.Request, a auth.Actor, status int, v *oncallTeamView) error {
	ctx := r.Context()
	team := r.PathValue("team")
	now := u.s.app.Clock.Now()
	ts, err := u.s.app.OnCall.Shifts(ctx, a, team, now, now.Add(oncall.DefaultShiftsRange))
	if err != nil {
		return err
	}
	ans, err := u.s.app.OnCall.Who(ctx, a, []string{team}, now)
	if err != nil {
		return err
	}
	if v.Overrides, err = u.s.app.OnCall.Overrides(ctx, a, team, now, time.Time{}); err != nil {
		return err
	}
	v.Shifts, v.Now, v.Days, v.CanManage = ts, ans.Teams[0], oncallDays(ts, now), oncall.MayManage(a)
	if v.CanManage {
		if v.People, err = u.s.app.OnCall.People(ctx, a); err != nil {
			return err
		}
		if v.Feeds, err = u.s.app.OnCall.Feeds(ctx, a, team); err != nil {
			return err
		}
	}
	if v.Form.From == "" {
		v.Form.From = now.UTC().Format("2006-01-02T15:04")
		v.Form.To = now.UTC().Add(4 * time.Hour).Format("2006-01-02T15:04")
	}
	u.render(w, r, status, "oncall", view{Me: &a, Title: ts.TeamName + " on call", Nav: "oncall", Data: oncallData{Now: now, One: v}})
	return nil
}

// oncallDays lays shifts and holes out by the UTC day they start on.
func oncallDays(ts *oncall.TeamShifts, now time.Time) []oncallDay {
	var rows []oncallRow
	for i := range ts.Shifts {
		s := &ts.Shifts[i]
		rows = append(rows, oncallRow{Start: s.Start, End: s.End, Shift: s})
	}
	if ts.Schedule {
		for _, g := range ts.Gaps {
			rows = append(rows, oncallRow{Start: g.Start, End: g.End})
		}
	}
	slices.SortFunc(rows, func(a, b oncallRow) int { return a.Start.Compare(b.Start) }) // they never overlap
	var days []oncallDay
	for _, row := range rows {
		day := row.Start.UTC().Truncate(24 * time.Hour)
		if len(days) == 0 || !days[len(days)-1].Day.Equal(day) {
			days = append(days, oncallDay{Day: day})
		}
		row.Current = !now.Before(row.Start) && now.Before(row.End)
		days[len(days)-1].Rows = append(days[len(days)-1].Rows, row)
	}
	return days
}

// pageTime reads a datetime-local value (UTC) as RFC 3339.
func pageTime(v string) (string, bool) {
	t, err := time.ParseInLocation("2006-01-02T15:04", strings.TrimSpace(v), time.UTC)
	if err != nil {
		return "", false
	}
	return t.Format(time.RFC3339), true
}

// postOverride adds an override from the team's on-call page.
func (u *ui) postOverride(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	f := r.PostForm
	form := overrideForm{Person: f.Get("person"), From: f.Get("from"), To: f.Get("to"), Reason: f.Get("reason")}
	in := oncall.OverrideInput{Person: form.Person, Reason: form.Reason}
	var bad []string
	var ok bool
	if in.From, ok = pageTime(form.From); !ok {
		bad = append(bad, "From: give a date and time.")
	}
	if in.To, ok = pageTime(form.To); !ok {
		bad = append(bad, "Until: give a date and time.")
	}
	if len(bad) > 0 {
		return u.renderOncallTeam(w, r, a, http.StatusUnprocessableEntity, &oncallTeamView{Message: strings.Join(bad, " "), Error: true, Form: form})
	}
	o, err := u.s.app.OnCall.AddOverride(r.Context(), a, r.PathValue("team"), in, nil)
	if err != nil {
		return u.oncallRefused(w, r, a, err, form)
	}
	msg := "Override added: " + o.PersonName + " is on call " + fmtTime(o.From) + " – " + fmtTime(o.To) + "."
	http.Redirect(w, r, "/oncall/"+url.PathEscape(o.Team)+"?"+url.Values{"msg": {msg}}.Encode(), http.StatusSeeOther)
	return nil
}

// oncallRefused shows a refused change on the team's page with what was
// typed; unexpected errors go to the error page.
func (u *ui) oncallRefused(w http.ResponseWriter, r *http.Request, a auth.Actor, err error, form overrideForm) error {
	p := toProblem(err)
	if p.Status >= 500 || p.Status == http.StatusUnauthorized || p.Status == http.StatusNotFound {
		return err
	}
	msg := p.Detail
	if len(p.Errors) > 0 {
		msg = fieldErrorsText(p.Errors)
	}
	return u.renderOncallTeam(w, r, a, p.Status, &oncallTeamView{Message: msg, Error: true, Form: form})
}

func formID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.ErrNotFound
	}
	return id, nil
}

// postEndOverride ends or cancels an override from the team's page.
func (u *ui) postEndOverride(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := formID(r)
	if err != nil {
		return err
	}
	o, err := u.s.app.OnCall.EndOverride(r.Context(), a, r.PathValue("team"), id)
	if err != nil {
		return u.oncallRefused(w, r, a, err, overrideForm{})
	}
	msg := "Override ended."
	if o.CancelledAt != nil {
		msg = "Override cancelled."
	}
	http.Redirect(w, r, "/oncall/"+url.PathEscape(o.Team)+"?"+url.Values{"msg": {msg}}.Encode(), http.StatusSeeOther)
	return nil
}

// postFeed makes a calendar feed and shows its URL once.
func (u *ui) postFeed(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	f, err := u.s.app.OnCall.CreateFeed(r.Context(), a, r.PathValue("team"), r.PostForm.Get("name"))
	if err != nil {
		return u.oncallRefused(w, r, a, err, overrideForm{})
	}
	ans := u.s.feedAnswer(r, f)
	return u.renderOncallTeam(w, r, a, http.StatusOK, &oncallTeamView{NewFeed: &ans,
		Message: "Calendar feed made. Copy its address now: it is shown only this once."})
}

// postRevokeFeed revokes a calendar feed.
func (u *ui) postRevokeFeed(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	id, err := formID(r)
	if err != nil {
		return err
	}
	f, err := u.s.app.OnCall.RevokeFeed(r.Context(), a, r.PathValue("team"), id)
	if err != nil {
		return u.oncallRefused(w, r, a, err, overrideForm{})
	}
	http.Redirect(w, r, "/oncall/"+url.PathEscape(f.Team)+"?"+url.Values{"msg": {"Feed “" + f.Name + "” revoked."}}.Encode(), http.StatusSeeOther)
	return nil
}

// oncallSummaryView is the on-call line of the team page.
type oncallSummaryView struct {
	Team     string
	Schedule bool
	OnCall   *oncall.Shift
	Next     *oncall.Shift
	Holes    []rota.Gap // in the next two weeks
}

// addOncallFuncs adds the template functions of the on-call pages and of
// the team page's summary.
func (u *ui) addOncallFuncs(fm template.FuncMap) {
	fm["seesOncall"] = func(a *auth.Actor) bool { return a != nil && oncall.MaySee(*a) }
	fm["oncallSummary"] = u.oncallSummary
	fm["span"] = func(a, b time.Time) string { return spanText(a, b) }
	fm["hm"] = func(t time.Time) string { return t.UTC().Format("15:04") }
	fm["endHM"] = func(start, end time.Time) string { // the end's weekday when it is another day
		if end.UTC().Truncate(24 * time.Hour).Equal(start.UTC().Truncate(24 * time.Hour)) {
			return end.UTC().Format("15:04")
		}
		return end.UTC().Format("15:04 Mon")
	}
	fm["dayName"] = func(t time.Time) string { return t.UTC().Format("Mon 2 Jan") }
	fm["hoursOf"] = func(a, b time.Time) string { return durationText(b.Sub(a)) }
}

// oncallSummary is who is on call for the team now and the holes in its
// next two weeks; nil for those who may not see schedules.
func (u *ui) oncallSummary(me *auth.Actor, team string) (*oncallSummaryView, error) {
	if me == nil || !oncall.MaySee(*me) {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), funcTimeout)
	defer cancel()
	now := u.s.app.Clock.Now()
	ans, err := u.s.app.OnCall.Who(ctx, *me, []string{team}, now)
	if err != nil {
		return nil, err
	}
	t := ans.Teams[0]
	v := &oncallSummaryView{Team: team, Schedule: t.Schedule, OnCall: t.OnCall, Next: t.Next}
	if t.Schedule {
		if v.Holes, err = u.s.app.OnCall.Holes(ctx, *me, team, now, now.Add(oncall.DefaultShiftsRange)); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// spanText is a span of UTC time: "Tue 3 Nov 19:00 – 07:00" (the end's day
// when it differs).
func spanText(a, b time.Time) string {
	a, b = a.UTC(), b.UTC()
	end := b.Format("15:04")
	if b.Sub(a) >= 24*time.Hour || a.Day() != b.Day() {
		end = b.Format("Mon 2 Jan 15:04")
	}
	return a.Format("Mon 2 Jan 15:04") + " – " + end + " UTC"
}
