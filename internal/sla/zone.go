package sla

import (
	"math"
	"sync"
	"time"
)

// zoneTable holds a location's UTC offsets as a sorted list of spans, so the
// hot path reads offsets with a binary search instead of time.Time.In. It
// covers the holiday years with a month to spare on each side; outside that
// the time package is asked directly (slower, same answers).
type zoneTable struct {
	loc    *time.Location
	lo, hi int64   // Unix seconds covered: [lo, hi)
	starts []int64 // starts[0] == lo; starts[i] is when offs[i] takes effect
	offs   []int64 // seconds east of UTC
}

// zspan is one span of constant offset: instants [start, end) are at
// UTC+off. The zero value matches nothing.
type zspan struct {
	start, end, off int64
}

var (
	zoneMu   sync.Mutex
	zoneMemo = map[string]*zoneTable{}
)

// zoneTableFor returns the (shared, read-only) table of a location.
func zoneTableFor(loc *time.Location) *zoneTable {
	zoneMu.Lock()
	defer zoneMu.Unlock()
	if z := zoneMemo[loc.String()]; z != nil {
		return z
	}
	z := newZoneTable(loc)
	zoneMemo[loc.String()] = z
	return z
}

func newZoneTable(loc *time.Location) *zoneTable {
	z := &zoneTable{
		loc: loc,
		lo:  time.Date(FirstYear-1, 12, 1, 0, 0, 0, 0, time.UTC).Unix(),
		hi:  time.Date(LastYear+1, 2, 1, 0, 0, 0, 0, time.UTC).Unix(),
	}
	for u := z.lo; u < z.hi; {
		off, end := offsetSpan(loc, u, z.hi)
		if n := len(z.offs); n == 0 || z.offs[n-1] != off {
			z.starts = append(z.starts, u)
			z.offs = append(z.offs, off)
		}
		u = end
	}
	return z
}

func offsetAt(loc *time.Location, u int64) int64 {
	_, off := time.Unix(u, 0).In(loc).Zone()
	return int64(off)
}

// offsetSpan returns the offset at u and the first instant after u with a
// different offset, or limit (or later) if there is none before limit.
//
// time.Time.ZoneBounds is only a hint here: for instants past the end of
// the zone's transition table (rule-based years, e.g. Europe/London after
// 2037) it reports a year-end bound one day early in leap years, where the
// "end" can even lie before the instant (Go 1.26: 2040-12-31 00:00 GMT is
// reported as the end of the zone containing 2040-12-31 12:00; golang/go
// issue 81583, open at the time of writing). So every
// candidate is checked against Zone(), the exact change is found by bisection,
// and no step is longer than 31 days.
func offsetSpan(loc *time.Location, u, limit int64) (off, end int64) {
	const maxStep = 31 * 86400
	off = offsetAt(loc, u)
	hint := func(v int64) int64 {
		_, e := time.Unix(v, 0).In(loc).ZoneBounds()
		if e.IsZero() {
			return math.MaxInt64 // the zone goes on for ever
		}
		return e.Unix()
	}
	h := hint(u)
	if h == math.MaxInt64 && offsetAt(loc, u+maxStep) == off {
		return off, math.MaxInt64 // UTC and other fixed zones
	}
	lo := u // offset at lo is off
	for lo < limit {
		c := lo + maxStep
		if h > lo && h < c {
			c = h
		}
		if offsetAt(loc, c) != off {
			if c == h && offsetAt(loc, c-1) == off {
				return off, c
			}
			for c-lo > 1 { // the first second with another offset, in (lo, c]
				m := lo + (c-lo)/2
				if offsetAt(loc, m) == off {
					lo = m
				} else {
					c = m
				}
			}
			return off, c
		}
		if c == h || h <= c { // passed the hint (or it was bad): ask again from here
			h = hint(c)
		}
		lo = c
	}
	return off, lo
}

// lookup fills s with the span around u, unless s already holds it.
func (z *zoneTable) lookup(u int64, s *zspan) {
	if u >= s.start && u < s.end {
		return
	}
	if u < z.lo || u >= z.hi {
		z.slow(u, s)
		return
	}
	// the last start <= u
	i, j := 0, len(z.starts)
	for j-i > 1 {
		h := int(uint(i+j) >> 1)
		if z.starts[h] <= u {
			i = h
		} else {
			j = h
		}
	}
	s.start, s.off = z.starts[i], z.offs[i]
	if i+1 < len(z.starts) {
		s.end = z.starts[i+1]
	} else {
		s.end = z.hi
	}
}

func (z *zoneTable) slow(u int64, s *zspan) {
	limit := int64(math.MaxInt64)
	if u < z.lo {
		limit = z.lo // stay on the table's side of its bounds
	} else {
		limit = min(u+366*86400, math.MaxInt64-maxStepGuard)
	}
	off, end := offsetSpan(z.loc, u, limit)
	if u < z.lo {
		end = min(end, z.lo)
	}
	s.start, s.end, s.off = u, end, off
}

// maxStepGuard keeps offsetSpan's arithmetic away from int64 overflow.
const maxStepGuard = 64 * 86400
