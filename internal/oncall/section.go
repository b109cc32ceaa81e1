package oncall

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/oncall/rota"
)

// SchedulesKey is on-call's section of the desk document: one schedule per
// team.
const SchedulesKey desk.Key[[]rota.Schedule] = "oncall"

// Sections are on-call's desk sections, for desk.NewSchema: `oncall:`, the
// teams' schedules, checked against the document's teams and users, and for
// holes.
func Sections() []desk.Section {
	return []desk.Section{desk.SectionOf[[]rota.Schedule]{
		Key:       SchedulesKey,
		Validate:  validate,
		Canonical: canonical,
		Diff:      diff,
	}}
}

// SchedulesOf returns the desk's on-call schedules as written.
func SchedulesOf(c *desk.Config) []rota.Schedule { return desk.Get(c, SchedulesKey) }

// plansOf returns the desk's schedules compiled, by team, once per Config.
// A schedule that does not compile (which a validated desk rules out) is
// left out.
func plansOf(c *desk.Config) map[string]*rota.Plan {
	return desk.Memo(c, SchedulesKey, func(ss []rota.Schedule) map[string]*rota.Plan {
		out := make(map[string]*rota.Plan, len(ss))
		for i, s := range ss {
			if p, errs := rota.Compile(fmt.Sprintf("oncall[%d]", i), s); len(errs) == 0 {
				out[s.Team] = p
			}
		}
		return out
	})
}

// scheduleOf returns the team's schedule as written and compiled (false
// when the team has none).
func scheduleOf(c *desk.Config, team string) (rota.Schedule, *rota.Plan, bool) {
	for _, s := range SchedulesOf(c) {
		if s.Team == team {
			p := plansOf(c)[team]
			return s, p, p != nil
		}
	}
	return rota.Schedule{}, nil, false
}

// onCallRoles are the roles that can be on call: those who work cases.
var onCallRoles = []auth.Role{auth.RoleAdmin, auth.RoleLead, auth.RoleAgent}

// validate checks the schedules against the document: a known team, once;
// the rotations and overrides (rota.Compile); people who are users of the
// desk who work cases (when the document has users); and, unless the
// schedule allows gaps, that its layers leave nobody's hole in the year of
// their steady state (both clock changes of every zone, every weekday).
func validate(doc *desk.Config, ss []rota.Schedule) []apperr.FieldError {
	var errs []apperr.FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, apperr.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	person := func(field, email string) {
		if len(doc.Users) == 0 || email == "" {
			return
		}
		u, ok := doc.User(email)
		switch {
		case !ok:
			add(field, "unknown user %q", email)
		case !slices.Contains(onCallRoles, u.Role):
			add(field, "%s is %s: only admins, leads and agents can be on call", email, u.Role)
		}
	}
	seen := map[string]int{}
	for i, s := range ss {
		path := fmt.Sprintf("oncall[%d]", i)
		switch _, ok := doc.Team(s.Team); {
		case s.Team == "":
			add(path+".team", "is required: the team this schedule is for")
		case !ok:
			add(path+".team", "unknown team %q", s.Team)
		}
		if j, dup := seen[s.Team]; dup && s.Team != "" {
			add(path+".team", "team %s already has a schedule (oncall[%d]): put its rotations in one schedule, as layers", s.Team, j)
		}
		seen[s.Team] = i
		for j, l := range s.Layers {
			for k, p := range l.Participants {
				person(fmt.Sprintf("%s.layers[%d].participants[%d]", path, j, k), p)
			}
		}
		for j, o := range s.Overrides {
			person(fmt.Sprintf("%s.overrides[%d].person", path, j), o.Person)
		}
		plan, cerrs := rota.Compile(path, s)
		errs = append(errs, cerrs...)
		if plan == nil || s.AllowGaps {
			continue
		}
		if from, _, gaps := plan.Shape(); len(gaps) > 0 {
			errs = append(errs, apperr.FieldError{Field: path + ".layers", Message: holesMessage(from, gaps)})
		}
	}
	return errs
}

// holesMessage describes the holes of a schedule's steady state.
func holesMessage(from time.Time, gaps []rota.Gap) string {
	var total time.Duration
	for _, g := range gaps {
		total += g.End.Sub(g.Start)
	}
	g := gaps[0]
	msg := fmt.Sprintf("the schedule has a hole: nobody is on call %s", spanText(g.Start, g.End))
	if len(gaps) > 1 {
		msg += fmt.Sprintf(", and %d more times in the year from %s (%s in all)", len(gaps)-1,
			from.UTC().Format("2 Jan 2006"), durationText(total))
	}
	return msg + "; widen a window or add a layer (zones change their clocks on different dates), or set allow_gaps: true " +
		"if the team is not on call around the clock"
}

// spanText is "Mon 9 Mar 2026 06:00–07:00 UTC" (the end's date when it differs).
func spanText(a, b time.Time) string {
	a, b = a.UTC(), b.UTC()
	end := b.Format("15:04")
	if a.YearDay() != b.YearDay() || a.Year() != b.Year() {
		end = b.Format("Mon 2 Jan 2006 15:04")
	}
	return a.Format("Mon 2 Jan 2006 15:04") + "–" + end + " UTC"
}

// durationText is a short duration: 45m, 3h, 2d 4h.
func durationText(d time.Duration) string {
	d = d.Round(time.Minute)
	days, h, m := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	var parts []string
	if days > 0 {
		parts = append(parts, fmt.Sprintf("%dd", days))
	}
	if h > 0 {
		parts = append(parts, fmt.Sprintf("%dh", h))
	}
	if m > 0 || len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("%dm", m))
	}
	return strings.Join(parts, " ")
}

// canonical lower-cases emails, orders days of the week from Monday, and
// writes standing overrides' instants in UTC, without modifying ss.
func canonical(ss []rota.Schedule) []rota.Schedule {
	out := make([]rota.Schedule, len(ss))
	order := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	for i, s := range ss {
		s.Layers = slices.Clone(s.Layers)
		for j, l := range s.Layers {
			l.Participants = slices.Clone(l.Participants)
			for k, p := range l.Participants {
				l.Participants[k] = strings.ToLower(strings.TrimSpace(p))
			}
			if len(l.Days) > 0 && !slices.ContainsFunc(l.Days, func(d string) bool { return !slices.Contains(order, d) }) {
				l.Days = slices.Clone(l.Days)
				slices.SortStableFunc(l.Days, func(a, b string) int { return slices.Index(order, a) - slices.Index(order, b) })
			}
			s.Layers[j] = l
		}
		s.Overrides = slices.Clone(s.Overrides)
		for j, o := range s.Overrides {
			o.Person = strings.ToLower(strings.TrimSpace(o.Person))
			for _, t := range []*string{&o.From, &o.To} {
				if v, err := time.Parse(time.RFC3339, *t); err == nil {
					*t = v.UTC().Format(time.RFC3339)
				}
			}
			s.Overrides[j] = o
		}
		out[i] = s
	}
	return out
}

// diff describes schedules added, removed and changed.
func diff(prev, next []rota.Schedule) []string {
	return desk.DiffList("on-call schedule", prev, next,
		func(s rota.Schedule) string { return s.Team },
		func(a, b rota.Schedule) []string {
			out := desk.DiffList("on-call schedule "+a.Team+" layer", a.Layers, b.Layers,
				func(l rota.Layer) string { return l.Name },
				func(x, y rota.Layer) []string {
					return desk.DiffFields("on-call schedule "+a.Team+" layer "+x.Name,
						"rotation", x.Rotation, y.Rotation, "length", x.Length, y.Length, "timezone", x.Timezone, y.Timezone,
						"start", x.Start, y.Start, "handoff", x.Handoff, y.Handoff, "participants", x.Participants, y.Participants,
						"window", x.Window, y.Window, "days", x.Days, y.Days)
				})
			return append(out, desk.DiffFields("on-call schedule "+a.Team,
				"overrides", a.Overrides, b.Overrides, "allow_gaps", a.AllowGaps, b.AllowGaps)...)
		})
}
