// Package oncall is who is on call for each team: the teams' schedules in
// the desk document (`oncall:` — rotations in layers, windows in their own
// time zones, standing overrides; see internal/oncall/rota for the rules),
// overrides made in the API and UI (a person covers a team for a span),
// the answer to "who is on call at this instant, and why", the shifts of
// the coming weeks, and the teams' iCalendar feeds that calendar apps
// subscribe to with a secret token in the URL.
//
// One person, or nobody, is on call for a team at any instant: layers do
// not add up (a later layer wins where it has someone) and an override
// replaces whoever the layers have. OnCallAt, which escalation uses for
// "a team's current on-call", therefore returns at most one email.
//
// Who may do what:
//   - see schedules, shifts and overrides: everyone on the desk's staff
//     (admins, leads, agents, QA, viewers), not account managers;
//   - add and end overrides, and make and revoke calendar feeds: admins and
//     leads, for any team (as they set anyone away);
//   - read a feed: whoever holds its URL, while the person who made it is
//     active and may still see schedules, until it is revoked.
package oncall

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/oncall/rota"
)

// Service answers who is on call and keeps overrides and calendar feeds.
type Service struct {
	db    *db.DB
	desk  *desk.Service
	clock clock.Clock
}

// New returns the on-call service.
func New(d *db.DB, dk *desk.Service, c clock.Clock) *Service {
	return &Service{db: d, desk: dk, clock: c}
}

// MaySee reports whether actor may see the teams' on-call schedules: the
// desk's own staff, not account managers.
func MaySee(a auth.Actor) bool { return a.Can(auth.PermCaseRead) && a.Role != auth.RoleAccountManager }

// MayManage reports whether actor may add and end overrides and make and
// revoke calendar feeds: leads and admins.
func MayManage(a auth.Actor) bool { return a.Role == auth.RoleAdmin || a.Role == auth.RoleLead }

func forbiddenSee() error {
	return &apperr.Forbidden{Detail: "on-call schedules are for the desk's own staff"}
}

func forbiddenManage() error {
	return &apperr.Forbidden{Detail: "only leads and admins change who is on call"}
}

// OnCallAt returns the emails of who is on call for team at the instant
// at: at most one (see the package comment), none in a hole or for a team
// without a schedule or override. An unknown team is apperr.ErrNotFound.
// It is escalation's "a team's current on-call".
func (s *Service) OnCallAt(ctx context.Context, team string, at time.Time) ([]string, error) {
	return s.OnCallIn(ctx, s.db, team, at)
}

// OnCallIn is OnCallAt reading through q: a transaction sees the overrides
// it has written.
func (s *Service) OnCallIn(ctx context.Context, q db.Querier, team string, at time.Time) ([]string, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	if _, ok := cfg.Team(team); !ok {
		return nil, fmt.Errorf("on call for team %q: %w", team, apperr.ErrNotFound)
	}
	_, plan, _ := scheduleOf(cfg, team)
	covers, err := s.covers(ctx, q, team, at, at.Add(time.Second))
	if err != nil {
		return nil, err
	}
	if p := plan.Person(at, covers); p != "" {
		return []string{p}, nil
	}
	return []string{}, nil
}

// Shift is a rota.Shift with the names of the people in it.
type Shift struct {
	rota.Shift
	Name       string `json:"name"`
	CoversName string `json:"covers_name,omitempty"`
	Why        string `json:"why"` // the reason in words
}

// TeamNow is who is on call for one team at an instant.
type TeamNow struct {
	Team     string `json:"team"`
	TeamName string `json:"team_name"`
	Schedule bool   `json:"schedule"` // the team has an on-call schedule
	// OnCall is the shift under way (null in a hole, or without a schedule
	// or override); Next is the one after it.
	OnCall *Shift `json:"on_call"`
	Next   *Shift `json:"next"`
}

// Answer is GET /oncall: who is on call at an instant.
type Answer struct {
	At    time.Time `json:"at"`
	Teams []TeamNow `json:"teams"`
}

// Who answers who is on call at at (zero: now) for teams (none: every team
// with a schedule, then those without).
func (s *Service) Who(ctx context.Context, actor auth.Actor, teams []string, at time.Time) (*Answer, error) {
	if !MaySee(actor) {
		return nil, forbiddenSee()
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	v := &apperr.Invalid{}
	cfg.CheckTeams(v, "team", teams)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if at.IsZero() {
		at = s.clock.Now()
	}
	at = at.UTC()
	teams = slices.Clone(teams)
	if len(teams) == 0 {
		for _, t := range cfg.Teams {
			teams = append(teams, t.Key)
		}
		slices.SortStableFunc(teams, func(a, b string) int { // teams with a schedule first
			_, _, x := scheduleOf(cfg, a)
			_, _, y := scheduleOf(cfg, b)
			switch {
			case x && !y:
				return -1
			case y && !x:
				return 1
			}
			return 0
		})
	}
	out := &Answer{At: at, Teams: []TeamNow{}}
	for _, key := range slices.Compact(teams) {
		t, _ := cfg.Team(key)
		spec, plan, has := scheduleOf(cfg, key)
		covers, err := s.covers(ctx, s.db, key, at.Add(-rota.MaxOverride-24*time.Hour), at.Add(rota.MaxOverride+24*time.Hour))
		if err != nil {
			return nil, err
		}
		cur, next := plan.At(at, covers)
		tn := TeamNow{Team: key, TeamName: t.Name, Schedule: has}
		var shifts []rota.Shift
		for _, sh := range []*rota.Shift{cur, next} {
			if sh != nil {
				shifts = append(shifts, *sh)
			}
		}
		named, err := s.name(ctx, spec, covers, shifts)
		if err != nil {
			return nil, err
		}
		if cur != nil {
			tn.OnCall = &named[0]
			named = named[1:]
		}
		if next != nil {
			tn.Next = &named[0]
		}
		out.Teams = append(out.Teams, tn)
	}
	return out, nil
}

// MaxShiftsRange is the longest range GET /oncall/{team}/shifts answers.
const MaxShiftsRange = 92 * 24 * time.Hour

// DefaultShiftsRange is the range shown when none is asked: two weeks.
const DefaultShiftsRange = 14 * 24 * time.Hour

// LayerView is a layer of a schedule as the API and UI show it.
type LayerView struct {
	rota.Layer
	Names []string `json:"participant_names"`
}

// TeamShifts is a team's on-call over a range.
type TeamShifts struct {
	Team      string      `json:"team"`
	TeamName  string      `json:"team_name"`
	From      time.Time   `json:"from"`
	To        time.Time   `json:"to"`
	Schedule  bool        `json:"schedule"`
	AllowGaps bool        `json:"allow_gaps"`
	Layers    []LayerView `json:"layers"`
	Shifts    []Shift     `json:"shifts"`
	Gaps      []rota.Gap  `json:"gaps"` // nobody on call
}

// Shifts is team's on-call from from to to (zero: now, and two weeks after
// from), at most MaxShiftsRange.
func (s *Service) Shifts(ctx context.Context, actor auth.Actor, team string, from, to time.Time) (*TeamShifts, error) {
	if !MaySee(actor) {
		return nil, forbiddenSee()
	}
	if from.IsZero() {
		from = s.clock.Now()
	}
	if to.IsZero() {
		to = from.Add(DefaultShiftsRange)
	}
	v := &apperr.Invalid{}
	switch {
	case !to.After(from):
		v.Add("to", "must be after from")
	case to.Sub(from) > MaxShiftsRange:
		v.Add("to", "the range is at most %d days", int(MaxShiftsRange/(24*time.Hour)))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.shifts(ctx, team, from, to)
}

// shifts computes team's on-call over [from, to) for whoever may see it.
func (s *Service) shifts(ctx context.Context, team string, from, to time.Time) (*TeamShifts, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	t, ok := cfg.Team(team)
	if !ok {
		return nil, apperr.ErrNotFound
	}
	spec, plan, has := scheduleOf(cfg, team)
	covers, err := s.covers(ctx, s.db, team, from, to)
	if err != nil {
		return nil, err
	}
	raw, gaps := plan.Shifts(from, to, covers)
	shifts, err := s.name(ctx, spec, covers, raw)
	if err != nil {
		return nil, err
	}
	out := &TeamShifts{Team: team, TeamName: t.Name, From: from.UTC(), To: to.UTC(), Schedule: has, AllowGaps: spec.AllowGaps,
		Layers: []LayerView{}, Shifts: shifts, Gaps: gaps}
	if out.Gaps == nil {
		out.Gaps = []rota.Gap{}
	}
	if has {
		var emails []string
		for _, l := range spec.Layers {
			emails = append(emails, l.Participants...)
		}
		names, err := s.names(ctx, emails)
		if err != nil {
			return nil, err
		}
		for _, l := range spec.Layers {
			lv := LayerView{Layer: l}
			for _, p := range l.Participants {
				lv.Names = append(lv.Names, nameOr(names, p))
			}
			out.Layers = append(out.Layers, lv)
		}
	}
	return out, nil
}

// Holes is the gaps in team's on-call over [from, to), for the team page's
// flag: nil for a team without a schedule (it has no on-call to have holes in).
func (s *Service) Holes(ctx context.Context, actor auth.Actor, team string, from, to time.Time) ([]rota.Gap, error) {
	ts, err := s.Shifts(ctx, actor, team, from, to)
	if err != nil || !ts.Schedule {
		return nil, err
	}
	return ts.Gaps, nil
}

// name adds people's names and the reasons in words to shifts.
func (s *Service) name(ctx context.Context, spec rota.Schedule, covers []rota.Cover, shifts []rota.Shift) ([]Shift, error) {
	var emails []string
	for _, sh := range shifts {
		emails = append(emails, sh.Person, sh.Covers)
	}
	names, err := s.names(ctx, emails)
	if err != nil {
		return nil, err
	}
	out := make([]Shift, len(shifts))
	for i, sh := range shifts {
		out[i] = Shift{Shift: sh, Name: nameOr(names, sh.Person)}
		if sh.Covers != "" {
			out[i].CoversName = nameOr(names, sh.Covers)
		}
		out[i].Why = why(spec, covers, out[i])
	}
	return out, nil
}

// why says in words why a shift's person is on call.
func why(spec rota.Schedule, covers []rota.Cover, sh Shift) string {
	if sh.Source == rota.SourceOverride {
		var b strings.Builder
		if strings.HasPrefix(sh.Override, "desk:") {
			b.WriteString("a standing override in the desk document")
		} else {
			b.WriteString("override #" + sh.Override)
		}
		if sh.Reason != "" {
			b.WriteString(" (" + sh.Reason + ")")
		}
		if sh.Covers != "" {
			b.WriteString(", covering " + sh.CoversName)
		} else {
			b.WriteString(", where nobody else is on call")
		}
		return b.String()
	}
	if sh.LayerIndex < 0 || sh.LayerIndex >= len(spec.Layers) {
		return "layer " + sh.Layer
	}
	l := spec.Layers[sh.LayerIndex]
	kind := l.Rotation + " rotation"
	if l.Rotation == rota.Custom {
		kind = l.Length + " rotation"
	}
	text := fmt.Sprintf("layer “%s”: turn %d of its %s (%d people, hand-off %s %s)", l.Name, sh.Turn+1, kind,
		len(l.Participants), l.Handoff, l.Timezone)
	if l.Window != "" {
		text += ", window " + l.Window
	}
	if len(l.Days) > 0 {
		text += " on " + strings.Join(l.Days, ", ")
	}
	return text
}

// names looks up the names of people by email (lower case).
func (s *Service) names(ctx context.Context, emails []string) (map[string]string, error) {
	var args []any
	seen := map[string]bool{}
	for _, e := range emails {
		if e = strings.ToLower(e); e != "" && !seen[e] {
			seen[e] = true
			args = append(args, e)
		}
	}
	out := map[string]string{}
	if len(args) == 0 {
		return out, nil
	}
	rows, err := s.db.Query(ctx, `SELECT email, name FROM users WHERE email IN (`+db.Placeholders(len(args))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("on-call names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e, n string
		if err := rows.Scan(&e, &n); err != nil {
			return nil, fmt.Errorf("on-call names: %w", err)
		}
		out[e] = n
	}
	return out, rows.Err()
}

func nameOr(names map[string]string, email string) string {
	if n := names[strings.ToLower(email)]; n != "" {
		return n
	}
	return email
}
