package web

// The shell's live parts in the UI: the template functions the layout uses
// (the viewer's time zone, their team queues) and the settings page where
// a user picks the time zone every time is shown in.

import (
	"context"
	"errors"
	"html/template"
	"net/http"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/prefs"
)

// navTeam is a team queue in the left navigation.
type navTeam struct{ Key, Name string }

// addLiveFuncs adds the layout's functions.
func (u *ui) addLiveFuncs(fm template.FuncMap) {
	// userTZ is the viewer's chosen zone ("" : the browser's).
	fm["userTZ"] = func(a *auth.Actor) string {
		if a == nil || a.UserID == 0 {
			return ""
		}
		ctx, cancel := context.WithTimeout(context.Background(), funcTimeout)
		defer cancel()
		p, err := u.s.app.Prefs.Get(ctx, a.UserID)
		if err != nil {
			u.s.log.Warn("preferences", "err", err)
		}
		return p.TimeZone
	}
	fm["liveOn"] = func() bool { return u.s.opt.Live }
	fm["navTeams"] = func(a *auth.Actor) []navTeam {
		if a == nil || len(a.Teams) == 0 {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), funcTimeout)
		defer cancel()
		cfg, err := u.s.app.Desk.Config(ctx)
		if err != nil {
			u.s.log.Warn("nav teams", "err", err)
			return nil
		}
		out := make([]navTeam, 0, len(a.Teams))
		for _, k := range a.Teams {
			out = append(out, navTeam{Key: k, Name: teamName(cfg, k)})
		}
		return out
	}
}

// settingsData is the settings page.
type settingsData struct {
	TimeZone string
	Zones    []string // suggestions; any IANA name is accepted
	Saved    bool
	Error    string
}

// commonZones are the settings page's suggestions.
var commonZones = []string{"UTC", "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Europe/Madrid", "Europe/Paris", "Europe/Berlin",
	"Europe/Amsterdam", "Europe/Rome", "Europe/Warsaw", "Europe/Athens", "Europe/Istanbul", "America/New_York", "America/Chicago",
	"America/Denver", "America/Los_Angeles", "America/Sao_Paulo", "America/Mexico_City", "Asia/Dubai", "Asia/Kolkata",
	"Asia/Singapore", "Asia/Tokyo", "Australia/Sydney"}

func (u *ui) settingsPage(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	p, err := u.s.app.Prefs.Get(r.Context(), a.UserID)
	if err != nil {
		return err
	}
	u.render(w, r, http.StatusOK, "settings", view{Me: &a, Title: "Settings", Nav: "settings",
		Data: settingsData{TimeZone: p.TimeZone, Zones: commonZones, Saved: r.URL.Query().Get("saved") == "1"}})
	return nil
}

func (u *ui) postSettings(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	tz := r.PostForm.Get("time_zone")
	if _, err := u.s.app.Prefs.Set(r.Context(), a.UserID, prefs.Prefs{TimeZone: tz}); err != nil {
		var inv *apperr.Invalid
		if !errors.As(err, &inv) {
			return err
		}
		u.render(w, r, http.StatusUnprocessableEntity, "settings", view{Me: &a, Title: "Settings", Nav: "settings",
			Data: settingsData{TimeZone: tz, Zones: commonZones, Error: "Time zone: " + inv.Errors[0].Message}})
		return nil
	}
	http.Redirect(w, r, "/settings?saved=1", http.StatusSeeOther)
	return nil
}
