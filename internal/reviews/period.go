package reviews

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
)

// Period is the closed period a pack covers, [From, To), from midnight in
// the cadence's time zone:
//
//   - weekly: an ISO week, Monday to Monday ("2026-W47");
//   - biweekly: two ISO weeks, the pairs counted from Monday 2024-01-01
//     (ISO 2024-W01), named by their first week ("2026-W47" covers W47 and
//     W48); any week of a pair names the pair;
//   - monthly: a calendar month ("2026-11").
type Period struct {
	Kind  Kind      `json:"kind"`
	Label string    `json:"label"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
}

// biweeklyEpoch is the Monday the bi-weekly pairs are counted from.
var biweeklyEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// ParsePeriod reads a period's label for kind in loc.
func ParsePeriod(kind Kind, label string, loc *time.Location) (Period, error) {
	label = strings.TrimSpace(label)
	switch kind {
	case Weekly, Biweekly:
		y, w, ok := parseWeek(label)
		if !ok {
			return Period{}, apperr.InvalidField("period", "a %s period is an ISO week such as 2026-W47", kind)
		}
		return PeriodAt(kind, isoMonday(y, w, loc), loc), nil
	case Monthly:
		t, err := time.ParseInLocation("2006-01", label, loc)
		if err != nil {
			return Period{}, apperr.InvalidField("period", "a monthly period is a month such as 2026-11")
		}
		return PeriodAt(kind, t, loc), nil
	}
	return Period{}, apperr.InvalidField("cadence", "must be weekly, biweekly or monthly")
}

func parseWeek(s string) (year, week int, ok bool) {
	ys, ws, found := strings.Cut(strings.ToUpper(s), "-W")
	if !found || len(ys) != 4 || len(ws) != 2 {
		return 0, 0, false
	}
	y, err1 := strconv.Atoi(ys)
	w, err2 := strconv.Atoi(ws)
	if err1 != nil || err2 != nil || y < 2000 || y > 2200 || w < 1 || w > 53 {
		return 0, 0, false
	}
	if _, last := time.Date(y, 12, 28, 0, 0, 0, 0, time.UTC).ISOWeek(); w > last {
		return 0, 0, false // 2026 has 53 weeks, 2027 52
	}
	return y, w, true
}

// isoMonday is midnight in loc of the Monday of ISO week w of year y.
func isoMonday(y, w int, loc *time.Location) time.Time {
	jan4 := time.Date(y, 1, 4, 0, 0, 0, 0, loc)
	back := (int(jan4.Weekday()) + 6) % 7 // days since Monday
	return time.Date(y, 1, 4-back+7*(w-1), 0, 0, 0, 0, loc)
}

// PeriodAt is kind's period that contains t, in loc.
func PeriodAt(kind Kind, t time.Time, loc *time.Location) Period {
	t = t.In(loc)
	y, m, d := t.Date()
	switch kind {
	case Monthly:
		from := time.Date(y, m, 1, 0, 0, 0, 0, loc)
		return Period{Kind: kind, Label: from.Format("2006-01"), From: from, To: time.Date(y, m+1, 1, 0, 0, 0, 0, loc)}
	case Biweekly:
		back := (int(t.Weekday()) + 6) % 7
		monday := time.Date(y, m, d-back, 0, 0, 0, 0, loc)
		// Whole days between two midnights, counted on the calendar so that
		// daylight saving does not shift them.
		days := int(time.Date(monday.Year(), monday.Month(), monday.Day(), 0, 0, 0, 0, time.UTC).Sub(biweeklyEpoch).Hours() / 24)
		if wk := days / 7; days < 0 && (-days/7)%2 != 0 || days >= 0 && wk%2 != 0 {
			monday = time.Date(monday.Year(), monday.Month(), monday.Day()-7, 0, 0, 0, 0, loc)
		}
		return Period{Kind: kind, Label: weekLabel(monday), From: monday,
			To: time.Date(monday.Year(), monday.Month(), monday.Day()+14, 0, 0, 0, 0, loc)}
	default:
		back := (int(t.Weekday()) + 6) % 7
		monday := time.Date(y, m, d-back, 0, 0, 0, 0, loc)
		return Period{Kind: Weekly, Label: weekLabel(monday), From: monday,
			To: time.Date(monday.Year(), monday.Month(), monday.Day()+7, 0, 0, 0, 0, loc)}
	}
}

func weekLabel(monday time.Time) string {
	y, w := monday.ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// Previous is the period of the same kind just before p.
func (p Period) Previous() Period {
	return PeriodAt(p.Kind, p.From.Add(-time.Nanosecond), p.From.Location())
}

// Next is the period of the same kind just after p.
func (p Period) Next() Period { return PeriodAt(p.Kind, p.To, p.To.Location()) }

// SendAt is when c's pack for p is built and sent: the first of c's day at
// c's time after p closes (weekly, biweekly: that weekday, Monday by
// default; monthly: that day of the following month, the 1st by default),
// in c's time zone.
func (c Cadence) SendAt(p Period) time.Time {
	loc := c.Location()
	h, m := c.clockTime()
	end := p.To.In(loc)
	y, mo, d := end.Date()
	switch c.Every {
	case Monthly:
		day := 1
		if n, err := strconv.Atoi(c.Day); err == nil && n >= 1 && n <= 28 {
			day = n
		}
		return time.Date(y, mo, day, h, m, 0, 0, loc)
	default:
		want := time.Monday
		if wd, ok := weekdays[c.Day]; ok {
			want = wd
		}
		ahead := (int(want) - int(end.Weekday()) + 7) % 7
		return time.Date(y, mo, d+ahead, h, m, 0, 0, loc)
	}
}

// Due is c's latest period whose pack has come due by now, and when the
// next pack after it is due.
func (c Cadence) Due(now time.Time) (due Period, next time.Time) {
	cur := PeriodAt(c.Every, now, c.Location())
	prev := cur.Previous()
	if at := c.SendAt(prev); at.After(now) {
		return prev.Previous(), at
	}
	return prev, c.SendAt(cur)
}
