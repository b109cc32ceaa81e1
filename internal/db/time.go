package db

import (
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// timeLayout is fixed-width so that SQLite's text comparison is time order.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// Time is an instant stored in UTC with microsecond precision. Use it for
// every timestamp argument and scan target so both dialects behave the same.
type Time struct{ time.Time }

// T wraps t for use as a query argument.
func T(t time.Time) Time { return Time{t} }

// Value implements driver.Valuer: fixed-width UTC text, which PostgreSQL
// parses into TIMESTAMPTZ and SQLite compares correctly as text.
func (t Time) Value() (driver.Value, error) {
	if t.IsZero() {
		return nil, nil
	}
	return t.UTC().Truncate(time.Microsecond).Format(timeLayout), nil
}

// TimestamptzValue lets the PostgreSQL driver (pgx) encode the instant
// itself. Without it pgx gets Value's text, fails to encode that as a
// timestamptz, formats an error, parses the text and encodes the result —
// for every timestamp argument.
func (t Time) TimestamptzValue() (pgtype.Timestamptz, error) {
	if t.IsZero() {
		return pgtype.Timestamptz{}, nil // NULL, as Value gives
	}
	return pgtype.Timestamptz{Time: t.UTC().Truncate(time.Microsecond), Valid: true}, nil
}

// Scan implements sql.Scanner for TIMESTAMPTZ values and SQLite text.
func (t *Time) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		t.Time = time.Time{}
	case time.Time:
		t.Time = x.UTC()
	case string:
		return t.parse(x)
	case []byte:
		return t.parse(string(x))
	default:
		return fmt.Errorf("db.Time: cannot scan %T", v)
	}
	return nil
}

func (t *Time) parse(s string) error {
	if p, ok := parseLayout(s); ok {
		t.Time = p
		return nil
	}
	p, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("db.Time: %w", err)
	}
	t.Time = p.UTC()
	return nil
}

// Ptr returns nil for the zero time, else a pointer to the UTC instant.
func (t Time) Ptr() *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// parseLayout reads s written in timeLayout (what Value writes: every
// timestamp SQLite holds) by hand, about ten times faster than
// time.Parse — a report reads hundreds of thousands. ok is false for
// anything else, which time.Parse then reads or rejects.
func parseLayout(s string) (time.Time, bool) {
	if len(s) != len(timeLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
		s[19] != '.' || s[26] != 'Z' {
		return time.Time{}, false
	}
	num := func(a, b int) int {
		n := 0
		for i := a; i < b; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day, hour, minute, sec, micro := num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19), num(20, 26)
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
		sec < 0 || sec > 59 || micro < 0 {
		return time.Time{}, false
	}
	p := time.Date(year, time.Month(month), day, hour, minute, sec, micro*1000, time.UTC)
	if p.Day() != day { // 31 April: time.Date would roll it over; time.Parse rejects it
		return time.Time{}, false
	}
	return p, true
}
