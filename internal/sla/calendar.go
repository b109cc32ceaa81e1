// Package sla holds the SLA engine. This file and its neighbours are the
// business-hours calendars: pure functions over instants, with no clock of
// their own (callers pass `now`).
//
// # How a calendar reads time
//
// An instant is open when its wall-clock time in the calendar's zone, on its
// local date, lies inside one of that date's windows [start, end). The
// date's windows are the weekday's hours, or none on a holiday or closure, or
// the special hours given for that date (which win over both). Everything
// else follows from this one rule, instant by instant:
//
//   - Business time is the real (elapsed) time during which the calendar is
//     open. A 09:00–18:00 day is 9 real hours even on a DST switch day,
//     because the switch (01:00–03:00 local in Europe and the US) is outside
//     the window. A window that spans the switch is shorter or longer: on the
//     spring-forward day 00:00–24:00 is 23 hours, on the fall-back day 25.
//   - Local times that do not exist (the spring-forward gap) are never open:
//     a window 02:00–03:00 on the day Europe/Berlin jumps from 02:00 to 03:00
//     contributes nothing; 01:30–03:00 in Europe/London on 29 Mar 2026
//     (01:00 GMT → 02:00 BST) is open 02:00–03:00 BST only, one hour.
//   - Local times that happen twice (the fall-back overlap) are open both
//     times: 01:00–02:00 in Europe/London on 25 Oct 2026 is two real hours.
//     No interval is ever negative and nothing panics.
//   - A window ending at 24:00 is open up to the next local midnight and
//     joins a 00:00 window of the next date with no gap; a 24/7 calendar is
//     open at every instant, so Add(t, d) == t.Add(d) and
//     Between(a, b) == b.Sub(a) exactly, across DST changes too.
//   - Holidays and closures close the whole local date, from local midnight
//     to the next local midnight. A holiday closes its own date and, when the
//     holiday library moves it (GB and IE substitute days, US federal
//     observed days: Sat → Fri, Sun → Mon), the substitute date as well.
//   - Add(t, d) is the earliest instant x >= t with Between(t, x) == d: when
//     d runs out exactly at a closing time, that closing instant.
//
// Holidays (from github.com/rickar/cal/v2) and closure/special dates are
// known for FirstYear–LastYear; outside those years a calendar keeps its
// weekly hours and zone rules but has no holidays.
package sla

import (
	"fmt"
	"math"
	"time"
	_ "time/tzdata" // calendars name IANA zones; a bare machine has no zoneinfo

	"github.com/flare-desk/flare/internal/apperr"
)

// Calendar is a compiled CalendarSpec. It is immutable and safe for
// concurrent use.
type Calendar struct {
	key, name string
	loc       *time.Location
	always    bool // open at every instant: Add and Between are plain time arithmetic

	weekly [7][]window // by time.Weekday

	// Exceptional dates (holidays, closures, special hours) in
	// [dayLo, dayLo+64*len(exc)) are flagged in exc; their windows are in over.
	dayLo int64
	exc   []uint64
	over  map[int64]dayOver

	zones *zoneTable // shared by calendars in the same zone
}

type dayOver struct {
	wins    []window // nil: closed all day
	holiday string   // holiday or closure name, if any
	special string   // name of the special hours, if any
}

// Compile validates the spec and precomputes what the calendar needs.
func Compile(s CalendarSpec) (*Calendar, error) {
	p, errs := s.parse()
	if len(errs) > 0 {
		return nil, &apperr.Invalid{Subject: fmt.Sprintf("calendar %q", s.Key), Errors: errs}
	}
	c := &Calendar{key: s.Key, name: s.Name, loc: p.loc, weekly: p.weekly}
	if c.name == "" {
		c.name = s.Key
	}
	c.zones = zoneTableFor(p.loc)
	n := len(p.closures) + len(p.special)
	if p.holidays != nil {
		n += len(p.holidays.days)
	}
	c.over = make(map[int64]dayOver, n)
	get := func(day int64) dayOver {
		o, ok := c.over[day]
		if !ok {
			o.wins = c.weekly[weekday(day)]
		}
		return o
	}
	if p.holidays != nil {
		for day, name := range p.holidays.days {
			c.over[day] = dayOver{holiday: name}
		}
	}
	for day, name := range p.closures {
		o := get(day)
		o.wins, o.holiday = nil, joinNames(o.holiday, name)
		if o.holiday == "" {
			o.holiday = "Closed"
		}
		c.over[day] = o
	}
	for day, sp := range p.special {
		o := get(day)
		o.wins, o.special = sp.wins, sp.name
		if o.special == "" {
			o.special = "Special hours"
		}
		c.over[day] = o
	}
	c.always = s.Always && len(c.over) == 0
	if len(c.over) > 0 {
		lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
		for d := range c.over {
			lo, hi = min(lo, d), max(hi, d)
		}
		c.dayLo = lo
		c.exc = make([]uint64, (hi-lo)/64+1)
		for d := range c.over {
			i := d - lo
			c.exc[i>>6] |= 1 << (i & 63)
		}
	}
	return c, nil
}

// MustCompile is Compile for specs known to be valid (tests, the demo).
func MustCompile(s CalendarSpec) *Calendar {
	c, err := Compile(s)
	if err != nil {
		panic(err)
	}
	return c
}

// Key returns the calendar's key, e.g. "GB" or "emergency".
func (c *Calendar) Key() string { return c.key }

// Name returns the display name (the key when the spec has none).
func (c *Calendar) Name() string { return c.name }

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// Always reports whether the calendar is open at every instant (24/7 with
// no holidays, closures or special hours).
func (c *Calendar) Always() bool { return c.always }

// IsOpen reports whether t is inside business hours.
func (c *Calendar) IsOpen(t time.Time) bool {
	if c.always {
		return true
	}
	var z zspan
	u := t.Unix()
	c.zones.lookup(u, &z)
	local := u + z.off
	day := floorDiv(local, 86400)
	sod := int32(local - day*86400)
	for _, w := range c.windows(day) {
		if sod < w.s {
			return false
		}
		if sod < w.e {
			return true
		}
	}
	return false
}

// NextOpen returns t itself if the calendar is open at t, otherwise the
// first instant after t at which it opens.
func (c *Calendar) NextOpen(t time.Time) time.Time {
	if c.always {
		return t
	}
	var z zspan
	u := t.Unix()
	a, _ := c.next(u, &z)
	if a == u {
		return t
	}
	return t.Add(time.Duration(a-u)*time.Second - time.Duration(t.Nanosecond()))
}

// maxSpanSecs bounds the distance Add and Between work with in one go
// (about 250 years; a Duration holds 292).
const maxSpanSecs = 250 * 365 * 86400

// Add returns the instant at which d of business time, counted from t, has
// been used up: the earliest instant x >= t with Between(t, x) == d.
//
// So counting starts at NextOpen(t) when t is outside hours; when d runs out
// exactly at a closing time the closing instant is returned (not the next
// opening); Add(t, 0) is t itself, even outside hours; a negative d counts
// as 0. The result is in t's location. (A d whose end would lie more than
// 250 years after t gives t.Add(math.MaxInt64).)
func (c *Calendar) Add(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t
	}
	if c.always {
		return t.Add(d)
	}
	var z zspan
	ts, tf := t.Unix(), int64(t.Nanosecond())
	rem := int64(d)
	u := ts
	for {
		a, b := c.next(u, &z)
		if a-ts > maxSpanSecs { // beyond what a Duration from t can express
			return t.Add(math.MaxInt64)
		}
		ra := (a-ts)*1e9 - tf // offsets from t in nanoseconds
		if ra < 0 {
			ra = 0
		}
		rb := (b-ts)*1e9 - tf
		if rem <= rb-ra {
			return t.Add(time.Duration(ra + rem))
		}
		rem -= rb - ra
		u = b
	}
}

// Between returns the business time in [from, to); 0 if to is not after from.
// Instants are compared by their wall-clock readings (monotonic clock
// readings, as time.Now carries, are ignored).
func (c *Calendar) Between(from, to time.Time) time.Duration {
	from, to = from.Round(0), to.Round(0)
	span := to.Sub(from)
	if span <= 0 {
		return 0
	}
	if c.always {
		return span
	}
	if span > maxSpanSecs*time.Second { // keep the arithmetic below in range
		mid := from.Add(maxSpanSecs * time.Second)
		return c.Between(from, mid) + c.Between(mid, to)
	}
	var z zspan
	fs, ff := from.Unix(), int64(from.Nanosecond())
	rt := int64(span)
	var total int64
	u := fs
	for {
		a, b := c.next(u, &z)
		ra := (a-fs)*1e9 - ff
		if ra >= rt {
			return time.Duration(total)
		}
		if ra < 0 {
			ra = 0
		}
		rb := (b-fs)*1e9 - ff
		if rb >= rt {
			return time.Duration(total + rt - ra)
		}
		total += rb - ra
		u = b
	}
}

// HolidayName reports whether a date is a holiday or closure of this
// calendar, and its name. The date is day's calendar date in day's own
// location (day.Date()); to ask about an instant, pass t.In(c.Location()).
// A holiday that special hours reopen is still reported.
func (c *Calendar) HolidayName(day time.Time) (string, bool) {
	y, m, d := day.Date()
	o := c.over[civilDay(y, m, d)]
	if o.holiday == "" {
		return "", false
	}
	return o.holiday, true
}

// SpecialName reports whether a date has special hours, and their name
// ("Special hours" when the spec gives none). The date is read as in
// HolidayName.
func (c *Calendar) SpecialName(day time.Time) (string, bool) {
	y, m, d := day.Date()
	o := c.over[civilDay(y, m, d)]
	if o.special == "" {
		return "", false
	}
	return o.special, true
}

// windows returns the windows of a local date (a civil day number).
func (c *Calendar) windows(day int64) []window {
	if i := uint64(day - c.dayLo); i < uint64(len(c.exc))*64 && c.exc[i>>6]&(1<<(i&63)) != 0 {
		return c.over[day].wins
	}
	return c.weekly[weekday(day)]
}

// next returns the first open interval [a, b) (Unix seconds) that ends after
// u, with a clipped to u: a == u means the calendar is open at u. Intervals
// never cross a zone offset change, so consecutive results may touch. z
// caches the zone span around u.
func (c *Calendar) next(u int64, z *zspan) (a, b int64) {
	for {
		c.zones.lookup(u, z)
		local := u + z.off
		day := floorDiv(local, 86400)
		base := day*86400 - z.off // local midnight, read with the current offset
		sod := int32(local - day*86400)
		moved := false
		for _, w := range c.windows(day) {
			if w.e <= sod {
				continue
			}
			s := base + int64(w.s)
			if s < u {
				s = u
			}
			if s >= z.end { // the window starts after the offset changes: re-read there
				u, moved = z.end, true
				break
			}
			return s, min(base+int64(w.e), z.end)
		}
		if !moved {
			u = min(base+86400, z.end) // next local midnight, or the offset change
		}
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// weekday of a civil day number; 1970-01-01 was a Thursday.
func weekday(day int64) time.Weekday {
	w := (day + 4) % 7
	if w < 0 {
		w += 7
	}
	return time.Weekday(w)
}
