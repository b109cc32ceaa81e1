package sla

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseDuration reads an SLA duration: Go's units ("90m", "4h30m") plus
// days, "d", of 24 hours of the clock's own time ("2d" of business time is
// 48 business hours, not two working days).
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("a duration such as 30m, 4h or 2d is required")
	}
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a duration such as 30m, 4h or 2d", s)
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
	d := days + rest
	if d < 0 {
		return 0, fmt.Errorf("duration must not be negative")
	}
	return d, nil
}
