package sla

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxDuration is the longest duration Flare reads (SLA targets, handoff
// due times, the calendar API and CLI): 3,660 days of 24 hours, ten years.
// Anything longer is a typo, and it keeps every sum of a duration and an
// instant far from where time.Duration overflows (292 years) and where
// Calendar.Add stops counting (250 years).
const MaxDuration = 3660 * 24 * time.Hour

// ParseDuration reads an SLA duration: Go's units ("90m", "4h30m") plus
// days, "d", of 24 hours of the clock's own time ("2d" of business time is
// 48 business hours, not two working days). It refuses negative durations
// and those longer than MaxDuration.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("a duration such as 30m, 4h or 2d is required")
	}
	in := s
	tooLong := fmt.Errorf("%q is too long (at most %dd)", in, MaxDuration/(24*time.Hour))
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.Atoi(s[:i])
		switch {
		case errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(s, "-"):
			return 0, tooLong
		case err != nil || n < 0:
			return 0, fmt.Errorf("%q is not a duration such as 30m, 4h or 2d", in)
		case time.Duration(n) > MaxDuration/(24*time.Hour): // before multiplying, which could overflow
			return 0, tooLong
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
	}
	var rest time.Duration
	if s != "" {
		var err error
		if rest, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a duration such as 30m, 4h or 2d", s)
		}
	}
	switch {
	case rest < 0: // also "2d-1h"
		return 0, fmt.Errorf("duration must not be negative")
	case rest > MaxDuration || days+rest > MaxDuration: // both at most MaxDuration: the sum cannot overflow
		return 0, tooLong
	}
	return days + rest, nil
}

// ValidateRange checks a range of instants from outside (the calendar API
// and CLI) for Between: to must not be before from, nor more than
// MaxDuration after it. The error is about to.
func ValidateRange(from, to time.Time) error {
	switch {
	case to.Before(from):
		return errors.New("must not be before from")
	case to.Sub(from) > MaxDuration: // Sub saturates: no overflow
		return fmt.Errorf("must be at most %dd after from", MaxDuration/(24*time.Hour))
	}
	return nil
}

// lastYear is the last year RFC 3339 can write (four digits).
const lastYear = 9999

// AddChecked is Add for an instant and a duration from outside (the
// calendar API and CLI): ok is false when Add has no instant to show, as d
// does not run out within the 250 years Add counts (a calendar open a few
// hours a year) or runs out after the year 9999.
func (c *Calendar) AddChecked(t time.Time, d time.Duration) (due time.Time, ok bool) {
	due = c.Add(t, d)
	if due.Sub(t) > maxSpanSecs*time.Second || due.UTC().Year() > lastYear {
		return time.Time{}, false
	}
	return due, true
}
