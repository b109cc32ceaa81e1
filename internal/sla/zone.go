package sla

import (
	"math"
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

func newZoneTable(loc *time.Location) zoneTable {
	z := zoneTable{
		loc: loc,
		lo:  time.Date(FirstYear-1, 12, 1, 0, 0, 0, 0, time.UTC).Unix(),
		hi:  time.Date(LastYear+1, 2, 1, 0, 0, 0, 0, time.UTC).Unix(),
	}
	u := z.lo
	for {
		t := time.Unix(u, 0).In(loc)
		_, off := t.Zone()
		if n := len(z.offs); n == 0 || z.offs[n-1] != int64(off) {
			z.starts = append(z.starts, u)
			z.offs = append(z.offs, int64(off))
		}
		_, end := t.ZoneBounds()
		if end.IsZero() || end.Unix() >= z.hi || end.Unix() <= u {
			break
		}
		u = end.Unix()
	}
	return z
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
	t := time.Unix(u, 0).In(z.loc)
	_, off := t.Zone()
	start, end := t.ZoneBounds()
	s.off, s.start, s.end = int64(off), math.MinInt64, math.MaxInt64
	if !start.IsZero() {
		s.start = start.Unix()
	}
	if !end.IsZero() {
		s.end = end.Unix()
	}
	// stay on the table's side of its bounds
	if u < z.lo {
		s.end = min(s.end, z.lo)
	} else {
		s.start = max(s.start, z.hi)
	}
	if s.end <= u { // never: but do not loop forever on a broken zone
		s.end = u + 1
	}
}
