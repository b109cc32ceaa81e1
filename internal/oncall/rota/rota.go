// Package rota is on-call's pure core: a team's schedule — rotations in
// layers, each optionally restricted to a daily window in its own time
// zone, with overrides on top — turned into shifts (who is on call from
// when to when, and why) over a range of instants, and into the holes where
// nobody is. It computes over values: no store, no clock (callers pass the
// instants), no I/O.
//
// The model, in the order it decides who is on call at an instant:
//
//  1. Overrides: a person covers the team for a span. Where overrides
//     overlap, the later one wins (the desk document's standing overrides in
//     their order, then those made in the API and UI in the order made).
//  2. Layers: a later layer wins where it has someone. A layer is one
//     rotation: ordered participants taking turns of a fixed length (a day,
//     a week, a custom number of days or weeks, or hours that divide a day),
//     handing over at a wall-clock time in a named time zone from a start
//     date; a window ("07:00-19:00", which may cross midnight, on some days
//     of the week) restricts it to part of the day in that zone. The
//     rotation runs on underneath the window: whoever's turn it is takes the
//     window's hours.
//  3. Otherwise nobody: a hole.
//
// So exactly one person (or nobody) is on call at any instant. Wall-clock
// times that the clocks skip (spring forward) happen when they resume;
// times that happen twice (autumn back) happen the first time.
package rota

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // layers name IANA zones; a bare machine has no zoneinfo

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/input"
)

// Schedule is one team's on-call schedule as the desk document writes it.
type Schedule struct {
	Team      string     `yaml:"team" json:"team"`
	Layers    []Layer    `yaml:"layers" json:"layers"`
	Overrides []Override `yaml:"overrides,omitempty" json:"overrides,omitempty"` // standing overrides
	// AllowGaps accepts holes in the layers: a team that is not on call
	// around the clock. Without it a schedule with a hole is refused.
	AllowGaps bool `yaml:"allow_gaps,omitempty" json:"allow_gaps,omitempty"`
}

// Layer is one rotation of a schedule.
type Layer struct {
	Name string `yaml:"name" json:"name"`
	// Rotation is daily, weekly or custom (with Length).
	Rotation string `yaml:"rotation" json:"rotation"`
	// Length of a custom rotation's turn: days ("3d", at most 28d), weeks
	// ("2w", at most 4w) or hours that divide a day ("12h", "8h").
	Length   string `yaml:"length,omitempty" json:"length,omitempty"`
	Timezone string `yaml:"timezone" json:"timezone"` // IANA zone of Start, Handoff and Window
	// Start is the date ("2026-01-05") the first participant's first turn
	// begins, at Handoff; a weekly rotation hands over on its weekday.
	Start   string `yaml:"start" json:"start"`
	Handoff string `yaml:"handoff" json:"handoff"` // "09:00": when turns change hands
	// Participants take turns in this order (emails; one may appear twice).
	Participants []string `yaml:"participants" json:"participants"`
	// Window restricts the layer to part of each day ("07:00-19:00";
	// "19:00-07:00" crosses midnight); none: around the clock.
	Window string `yaml:"window,omitempty" json:"window,omitempty"`
	// Days restricts the layer to days of the week (mon … sun): the days a
	// window opens on, or whole days without a window; none: every day.
	Days []string `yaml:"days,omitempty" json:"days,omitempty"`
}

// Override is a standing override in the desk document: Person covers the
// team from From to To (RFC 3339 instants).
type Override struct {
	Person string `yaml:"person" json:"person"`
	From   string `yaml:"from" json:"from"`
	To     string `yaml:"to" json:"to"`
	Reason string `yaml:"reason,omitempty" json:"reason,omitempty"`
}

// Limits of a schedule.
const (
	MaxLayers       = 10
	MaxParticipants = 100
	MaxOverrides    = 200            // standing overrides per schedule
	MaxOverride     = 31 * day       // the longest override
	MaxTurn         = 28 * day       // the longest turn of a rotation
	MaxRange        = 400 * day      // the longest range Shifts computes
	firstYear       = 2000           // start dates from …
	lastYear        = 2199           // … to (the zone rules Go knows)
	day             = 24 * time.Hour //
)

// Rotation kinds.
const (
	Daily  = "daily"
	Weekly = "weekly"
	Custom = "custom"
)

var dayKeys = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"} // by time.Weekday

// Cover is an override as the computation sees it: Person is on call from
// From to To, above every layer.
type Cover struct {
	ID     string // "desk:N" for the N-th standing override, else the stored id
	Person string
	From   time.Time
	To     time.Time
	Reason string
}

// Plan is a compiled schedule.
type Plan struct {
	Team      string
	AllowGaps bool
	layers    []*layer
	standing  []Cover
}

// layer is a compiled Layer.
type layer struct {
	index       int
	name        string
	loc         *time.Location
	year        int
	month       time.Month
	day         int
	handoff     int // seconds after midnight
	days, hours int // turn length: whole days, or hours dividing a day
	people      []string
	window      *window
	on          [7]bool // by time.Weekday: the days it is on
}

// window is [from, to) in seconds after local midnight; to <= from crosses midnight.
type window struct{ from, to int }

// LayerInfo describes a compiled layer for display.
type LayerInfo struct {
	Index        int      `json:"index"`
	Name         string   `json:"name"`
	Timezone     string   `json:"timezone"`
	Participants []string `json:"participants"`
}

// Layers describes the plan's layers, bottom first.
func (p *Plan) Layers() []LayerInfo {
	out := make([]LayerInfo, len(p.layers))
	for i, l := range p.layers {
		out[i] = LayerInfo{Index: l.index, Name: l.name, Timezone: l.loc.String(), Participants: slices.Clone(l.people)}
	}
	return out
}

// Standing returns the schedule's standing overrides.
func (p *Plan) Standing() []Cover { return slices.Clone(p.standing) }

// Compile checks s and compiles it. Problems are reported with paths under
// path ("oncall[0]"): every one found. Holes are not checked here (see
// Holes); people are checked only for form (the caller knows the users).
func Compile(path string, s Schedule) (*Plan, []apperr.FieldError) {
	var errs []apperr.FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, apperr.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	p := &Plan{Team: s.Team, AllowGaps: s.AllowGaps}
	switch {
	case len(s.Layers) == 0:
		add(path+".layers", "a schedule needs at least one layer")
	case len(s.Layers) > MaxLayers:
		add(path+".layers", "at most %d layers", MaxLayers)
	}
	names := map[string]int{}
	for i, ls := range s.Layers {
		lp := fmt.Sprintf("%s.layers[%d]", path, i)
		l, lerrs := compileLayer(lp, i, ls)
		errs = append(errs, lerrs...)
		if j, dup := names[ls.Name]; dup && ls.Name != "" {
			add(lp+".name", "layer %q is already layers[%d]", ls.Name, j)
		}
		names[ls.Name] = i
		if l != nil {
			p.layers = append(p.layers, l)
		}
	}
	if len(s.Overrides) > MaxOverrides {
		add(path+".overrides", "at most %d standing overrides", MaxOverrides)
	}
	for i, o := range s.Overrides {
		op := fmt.Sprintf("%s.overrides[%d]", path, i)
		c, oerrs := compileOverride(op, o)
		errs = append(errs, oerrs...)
		if len(oerrs) == 0 {
			c.ID = "desk:" + strconv.Itoa(i)
			p.standing = append(p.standing, c)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

func compileLayer(path string, index int, s Layer) (*layer, []apperr.FieldError) {
	v := &apperr.Invalid{}
	l := &layer{index: index, name: s.Name}
	input.Required(v, path+".name", input.Name, strings.TrimSpace(s.Name))
	switch s.Rotation {
	case Daily, Weekly:
		l.days = 1
		if s.Rotation == Weekly {
			l.days = 7
		}
		if s.Length != "" {
			v.Add(path+".length", "only a custom rotation has a length (daily is 1d, weekly 7d)")
		}
	case Custom:
		d, h, msg := parseLength(s.Length)
		if msg != "" {
			v.Add(path+".length", "%s", msg)
		}
		l.days, l.hours = d, h
	case "":
		v.Add(path+".rotation", "is required: daily, weekly or custom (with a length)")
	default:
		v.Add(path+".rotation", "unknown rotation %q; one of daily, weekly, custom", s.Rotation)
	}
	switch loc, err := loadZone(s.Timezone); {
	case s.Timezone == "":
		v.Add(path+".timezone", "is required: the IANA time zone of the hand-off and the window, such as Europe/London")
	case err != nil:
		v.Add(path+".timezone", "%s", err.Error())
	default:
		l.loc = loc
	}
	if t, err := time.Parse(time.DateOnly, s.Start); err != nil {
		v.Add(path+".start", "must be a date such as 2026-01-05: the day the first turn begins")
	} else if t.Year() < firstYear || t.Year() > lastYear {
		v.Add(path+".start", "must be between %d and %d", firstYear, lastYear)
	} else {
		l.year, l.month, l.day = t.Date()
	}
	if sec, ok := parseClock(s.Handoff); !ok || sec == 24*3600 {
		v.Add(path+".handoff", "must be a time of day such as 09:00 (HH:MM, 00:00–23:59): when turns change hands")
	} else {
		l.handoff = sec
	}
	switch {
	case len(s.Participants) == 0:
		v.Add(path+".participants", "a rotation needs at least one participant")
	case len(s.Participants) > MaxParticipants:
		v.Add(path+".participants", "at most %d participants", MaxParticipants)
	}
	for i, p := range s.Participants {
		if input.Required(v, fmt.Sprintf("%s.participants[%d]", path, i), input.Email, p) {
			l.people = append(l.people, strings.ToLower(p))
		}
	}
	if s.Window != "" {
		w, msg := parseWindow(s.Window)
		if msg != "" {
			v.Add(path+".window", "%s", msg)
		}
		l.window = &w
	}
	if len(s.Days) == 0 {
		l.on = [7]bool{true, true, true, true, true, true, true}
	}
	for i, d := range s.Days {
		wd := slices.Index(dayKeys, d)
		switch {
		case wd < 0:
			v.Add(fmt.Sprintf("%s.days[%d]", path, i), "unknown day %q; one of mon, tue, wed, thu, fri, sat, sun", d)
		case l.on[wd]:
			v.Add(fmt.Sprintf("%s.days[%d]", path, i), "%s is listed twice", d)
		default:
			l.on[wd] = true
		}
	}
	if len(v.Errors) > 0 {
		return nil, v.Errors
	}
	return l, nil
}

// loadZone loads an IANA zone by name; "Local" (whatever the server's
// machine says) is refused.
func loadZone(name string) (*time.Location, error) {
	if name == "Local" || strings.TrimSpace(name) != name {
		return nil, fmt.Errorf("%q is not an IANA time zone such as Europe/London", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%q is not an IANA time zone such as Europe/London", name)
	}
	return loc, nil
}

// parseLength reads a custom turn length: "3d", "2w" or "12h".
func parseLength(s string) (days, hours int, msg string) {
	const help = "a custom rotation needs a length: days (3d, at most 28d), weeks (2w, at most 4w) or hours that divide a day (12h, 8h)"
	if len(s) < 2 {
		return 0, 0, help
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 || s[0] == '+' {
		return 0, 0, help
	}
	switch s[len(s)-1] {
	case 'd':
		if n <= int(MaxTurn/day) {
			return n, 0, ""
		}
	case 'w':
		if n*7 <= int(MaxTurn/day) {
			return n * 7, 0, ""
		}
	case 'h':
		if n == 24 {
			return 1, 0, ""
		}
		if n < 24 && 24%n == 0 {
			return 0, n, ""
		}
	}
	return 0, 0, fmt.Sprintf("%q: %s", s, help)
}

// parseClock reads "HH:MM" (00:00–24:00) as seconds after midnight.
func parseClock(v string) (int, bool) {
	if len(v) != 5 || v[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
	}
	h := int(v[0]-'0')*10 + int(v[1]-'0')
	m := int(v[3]-'0')*10 + int(v[4]-'0')
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*3600 + m*60, true
}

// parseWindow reads "HH:MM-HH:MM"; an end at or before the start crosses
// midnight, 24:00 is the end of the day.
func parseWindow(v string) (window, string) {
	a, b, ok := strings.Cut(v, "-")
	from, ok1 := parseClock(a)
	to, ok2 := parseClock(b)
	switch {
	case !ok || !ok1 || !ok2:
		return window{}, fmt.Sprintf("%q is not a window such as 07:00-19:00 or 19:00-07:00 (HH:MM-HH:MM)", v)
	case from == 24*3600:
		return window{}, fmt.Sprintf("%q starts at 24:00; start at 00:00", v)
	case from == to || (from == 0 && to == 24*3600):
		return window{}, fmt.Sprintf("%q is the whole day: leave the window out", v)
	}
	return window{from, to}, ""
}

func compileOverride(path string, o Override) (Cover, []apperr.FieldError) {
	v := &apperr.Invalid{}
	c := Cover{Person: strings.ToLower(o.Person), Reason: o.Reason}
	input.Required(v, path+".person", input.Email, o.Person)
	input.Check(v, path+".reason", input.Reason, o.Reason)
	from, err1 := time.Parse(time.RFC3339, o.From)
	if err1 != nil {
		v.Add(path+".from", "must be an RFC 3339 instant such as 2026-12-24T18:00:00Z")
	}
	to, err2 := time.Parse(time.RFC3339, o.To)
	if err2 != nil {
		v.Add(path+".to", "must be an RFC 3339 instant such as 2026-12-27T09:00:00Z")
	}
	if err1 == nil && err2 == nil {
		if msg := CheckSpan(from, to); msg != "" {
			v.Add(path+".to", "%s", msg)
		}
	}
	c.From, c.To = from.UTC(), to.UTC()
	return c, v.Errors
}

// CheckSpan says what is wrong with an override from from to to, or "".
func CheckSpan(from, to time.Time) string {
	switch {
	case !to.After(from):
		return "must be after from"
	case to.Sub(from) > MaxOverride:
		return fmt.Sprintf("an override is at most %d days long", MaxOverride/day)
	case from.Year() < firstYear || to.Year() > lastYear:
		return fmt.Sprintf("must be between %d and %d", firstYear, lastYear)
	}
	return ""
}

// --- wall-clock arithmetic ---

// wall is the instant of a wall-clock time in loc: sec seconds after the
// midnight that starts the date (y, m, d), both normalised (d may run past
// the month, sec past the day). A time the clocks skip happens when they
// resume; a time that happens twice happens the first time.
func wall(y int, m time.Month, d, sec int, loc *time.Location) time.Time {
	d += sec / 86400
	sec %= 86400
	hh, mm, ss := sec/3600, sec/60%60, sec%60
	t := time.Date(y, m, d, hh, mm, ss, 0, loc)
	want := time.Date(y, m, d, hh, mm, ss, 0, time.UTC) // the wall clock, as a label
	label := func(t time.Time) time.Time {
		y, m, d := t.Date()
		h, mi, s := t.Clock()
		return time.Date(y, m, d, h, mi, s, 0, time.UTC)
	}
	if got := label(t); !got.Equal(want) { // in a gap: Go moved it one way or the other
		start, end := t.ZoneBounds()
		if got.After(want) {
			return start
		}
		return end
	}
	if start, _ := t.ZoneBounds(); !start.IsZero() {
		_, before := start.Add(-time.Second).Zone()
		_, now := t.Zone()
		if before > now { // the clocks went back at start: is there an earlier reading?
			if e := t.Add(-time.Duration(before-now) * time.Second); e.Before(start) && label(e).Equal(want) {
				return e
			}
		}
	}
	return t
}

// turnStart is when the layer's turn k begins (turn 0 is the first).
func (l *layer) turnStart(k int) time.Time {
	if l.days > 0 {
		return wall(l.year, l.month, l.day+k*l.days, l.handoff, l.loc)
	}
	perDay := 24 / l.hours
	return wall(l.year, l.month, l.day+k/perDay, l.handoff+(k%perDay)*l.hours*3600, l.loc)
}

// turnAt is the turn under way at t: the last turn that began at or before
// it (a turn the clocks skip is passed over); -1 before the first.
func (l *layer) turnAt(t time.Time) int {
	first := l.turnStart(0)
	if t.Before(first) {
		return -1
	}
	step := time.Duration(l.days)*day + time.Duration(l.hours)*time.Hour
	k := int(t.Sub(first) / step)
	for k > 0 && l.turnStart(k).After(t) {
		k--
	}
	for !l.turnStart(k + 1).After(t) {
		k++
	}
	return k
}

// person is who takes turn k.
func (l *layer) person(k int) string { return l.people[k%len(l.people)] }
