package db

import (
	"testing"
	"time"
)

// pgx encodes db.Time itself: the instant in UTC at microseconds, and the
// zero Time as NULL, as Value does.
func TestTimeTimestamptzValue(t *testing.T) {
	if v, err := (Time{}).TimestamptzValue(); err != nil || v.Valid {
		t.Fatalf("zero: %+v %v, want NULL", v, err)
	}
	in := time.Date(2026, 11, 2, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))
	v, err := T(in).TimestamptzValue()
	if err != nil || !v.Valid || !v.Time.Equal(in.Truncate(time.Microsecond)) || v.Time.Location() != time.UTC {
		t.Fatalf("got %+v %v", v, err)
	}
}
