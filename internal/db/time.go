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
