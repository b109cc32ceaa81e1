package sla

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
)

// CalendarSpec is a business-hours calendar as written in the desk document
// (under the top-level `calendars:` key). It is plain data: Validate checks
// it and Compile turns it into a Calendar.
//
//	calendars:
//	  - key: DE
//	    name: Germany business hours
//	    timezone: Europe/Berlin
//	    hours:
//	      mon: ["09:00-13:00", "14:00-18:00"]
//	      tue: ["09:00-18:00"]
//	    holidays: DE-BE
//	    closures:
//	      - {date: "2026-12-24", name: Heiligabend}
//	      - {from: "2026-12-29", to: "2026-12-30", name: Inventur}
//	    special:
//	      - {date: "2026-12-31", hours: ["09:00-13:00"]}
type CalendarSpec struct {
	Key      string              `yaml:"key" json:"key"`                               // e.g. "GB", "emergency"
	Name     string              `yaml:"name" json:"name"`                             // display name; optional
	Timezone string              `yaml:"timezone" json:"timezone"`                     // IANA zone, e.g. "Europe/London"
	Always   bool                `yaml:"always,omitempty" json:"always,omitempty"`     // open 24/7 (no hours may be given)
	Hours    map[string][]string `yaml:"hours,omitempty" json:"hours,omitempty"`       // "mon".."sun" → ["09:00-13:00", "14:00-18:00"]; "24:00" allowed as an end
	Holidays string              `yaml:"holidays,omitempty" json:"holidays,omitempty"` // holiday region, see HolidayRegions
	Closures []Closure           `yaml:"closures,omitempty" json:"closures,omitempty"` // extra whole closed days
	Special  []SpecialHours      `yaml:"special,omitempty" json:"special,omitempty"`   // dates with their own hours
}

// Closure closes whole local days: either one Date, or the inclusive range
// From–To (at most 366 days). Dates are "YYYY-MM-DD".
type Closure struct {
	Date string `yaml:"date,omitempty" json:"date,omitempty"`
	From string `yaml:"from,omitempty" json:"from,omitempty"`
	To   string `yaml:"to,omitempty" json:"to,omitempty"`
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
}

// SpecialHours gives one date its own windows. They replace the weekday's
// hours and win over a holiday on that date; a weekend date can be opened
// this way. A date cannot be both special and a closure.
type SpecialHours struct {
	Date  string   `yaml:"date" json:"date"`
	Name  string   `yaml:"name,omitempty" json:"name,omitempty"`
	Hours []string `yaml:"hours" json:"hours"`
}

// Dates a calendar can name (closures, special hours) and the years for
// which holidays are known. Outside these years a calendar keeps its weekly
// hours and time zone but has no holidays.
const (
	FirstYear = 1970
	LastYear  = 2199
)

var (
	reKey  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	dayKey = map[string]time.Weekday{
		"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
		"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	}
	dayOrder = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
)

// window is [s, e) in seconds since local midnight; 0 <= s < e <= 86400.
type window struct{ s, e int32 }

// parseWindow reads "HH:MM-HH:MM" (24:00 allowed as the end only).
func parseWindow(v string) (window, string) {
	a, b, ok := strings.Cut(strings.TrimSpace(v), "-")
	if !ok {
		return window{}, fmt.Sprintf("%q is not a window like \"09:00-18:00\"", v)
	}
	s, ok1 := parseClock(strings.TrimSpace(a))
	e, ok2 := parseClock(strings.TrimSpace(b))
	switch {
	case !ok1 || !ok2:
		return window{}, fmt.Sprintf("%q is not a window like \"09:00-18:00\" (times are HH:MM, 00:00–24:00)", v)
	case s == 86400:
		return window{}, fmt.Sprintf("%q starts at 24:00; use 00:00 of the next day", v)
	case e <= s:
		return window{}, fmt.Sprintf("%q ends before it starts (a window cannot cross midnight: split it and end the first part at 24:00)", v)
	}
	return window{int32(s), int32(e)}, ""
}

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

// parseWindows parses a day's list; problems are reported at path[i].
// The result is sorted with touching windows merged.
func parseWindows(path string, list []string, errs *[]apperr.FieldError) []window {
	type iw struct {
		w window
		i int
	}
	var ws []iw
	for i, v := range list {
		w, msg := parseWindow(v)
		if msg != "" {
			*errs = append(*errs, apperr.FieldError{Field: fmt.Sprintf("%s[%d]", path, i), Message: msg})
			continue
		}
		ws = append(ws, iw{w, i})
	}
	slices.SortStableFunc(ws, func(a, b iw) int { return int(a.w.s - b.w.s) })
	var out []window
	for k, x := range ws {
		if k > 0 && x.w.s < ws[k-1].w.e {
			lo, hi := ws[k-1], x
			if hi.i < lo.i {
				lo, hi = hi, lo
			}
			*errs = append(*errs, apperr.FieldError{Field: fmt.Sprintf("%s[%d]", path, hi.i),
				Message: fmt.Sprintf("%q overlaps %q", list[hi.i], list[lo.i])})
			continue
		}
		if n := len(out); n > 0 && out[n-1].e == x.w.s {
			out[n-1].e = x.w.e // 09:00-13:00 + 13:00-18:00 = 09:00-18:00
		} else {
			out = append(out, x.w)
		}
	}
	return out
}

// parseDate reads "YYYY-MM-DD" and returns the civil day number (days since
// 1970-01-01).
func parseDate(v string) (int64, string) {
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return 0, fmt.Sprintf("%q is not a date like \"2026-12-24\"", v)
	}
	if y := t.Year(); y < FirstYear || y > LastYear {
		return 0, fmt.Sprintf("%q is outside the supported years %d–%d", v, FirstYear, LastYear)
	}
	return t.Unix() / 86400, ""
}

// Validate reports every problem in the spec; nil means Compile will succeed.
func (s CalendarSpec) Validate() []apperr.FieldError {
	_, errs := s.parse()
	return errs
}

// parsed is a validated spec, ready for Compile.
type parsed struct {
	loc      *time.Location
	weekly   [7][]window
	holidays *holidaySet
	closures map[int64]string // day → name ("" when none is given)
	special  map[int64]specialDay
}

type specialDay struct {
	name string
	wins []window
}

func (s CalendarSpec) parse() (*parsed, []apperr.FieldError) {
	var errs []apperr.FieldError
	add := func(path, format string, a ...any) {
		errs = append(errs, apperr.FieldError{Field: path, Message: fmt.Sprintf(format, a...)})
	}
	p := &parsed{}

	if s.Key == "" {
		add("key", "is required")
	} else if !reKey.MatchString(s.Key) {
		add("key", "%q must be letters, digits, '_', '-' or '.' (at most 64)", s.Key)
	}

	switch {
	case s.Timezone == "":
		add("timezone", "is required (an IANA zone such as \"Europe/London\" or \"UTC\")")
	case s.Timezone == "Local":
		add("timezone", "\"Local\" depends on the server; name an IANA zone")
	default:
		loc, err := time.LoadLocation(s.Timezone)
		if err != nil {
			add("timezone", "%q is not a known IANA time zone", s.Timezone)
		} else {
			p.loc = loc
		}
	}

	if s.Always {
		if len(s.Hours) > 0 {
			add("hours", "must be empty when always is true (the calendar is open 24/7)")
		}
		for d := range p.weekly {
			p.weekly[d] = []window{{0, 86400}}
		}
	} else {
		keys := make([]string, 0, len(s.Hours))
		for k := range s.Hours {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		open := false
		for _, k := range keys {
			wd, ok := dayKey[k]
			if !ok {
				add("hours."+k, "unknown day (use %s)", strings.Join(dayOrder, ", "))
				continue
			}
			p.weekly[wd] = parseWindows("hours."+k, s.Hours[k], &errs)
			open = open || len(p.weekly[wd]) > 0
		}
		if !open && !hasPrefix(errs, "hours.") {
			add("hours", "at least one day needs working hours (or set always: true)")
		}
	}

	if s.Holidays != "" {
		hs, ok := holidayRegion(s.Holidays)
		if !ok {
			add("holidays", "%q is not a known holiday region (one of %s)", s.Holidays, strings.Join(HolidayRegions(), ", "))
		} else {
			p.holidays = hs
		}
	}

	p.closures = map[int64]string{}
	for i, c := range s.Closures {
		path := fmt.Sprintf("closures[%d]", i)
		var from, to int64
		switch {
		case c.Date != "" && (c.From != "" || c.To != ""):
			add(path, "give either date or from/to, not both")
			continue
		case c.Date != "":
			d, msg := parseDate(c.Date)
			if msg != "" {
				add(path+".date", "%s", msg)
				continue
			}
			from, to = d, d
		case c.From == "" && c.To == "":
			add(path+".date", "is required (or a range with from and to)")
			continue
		default:
			var msg1, msg2 string
			if c.From == "" {
				msg1 = "is required with to"
			} else {
				from, msg1 = parseDate(c.From)
			}
			if c.To == "" {
				msg2 = "is required with from"
			} else {
				to, msg2 = parseDate(c.To)
			}
			if msg1 != "" {
				add(path+".from", "%s", msg1)
			}
			if msg2 != "" {
				add(path+".to", "%s", msg2)
			}
			if msg1 != "" || msg2 != "" {
				continue
			}
			if to < from {
				add(path+".to", "%q is before from %q", c.To, c.From)
				continue
			}
			if to-from >= 366 {
				add(path+".to", "a closure spans at most 366 days")
				continue
			}
		}
		for d := from; d <= to; d++ {
			p.closures[d] = joinNames(p.closures[d], c.Name)
		}
	}

	p.special = map[int64]specialDay{}
	for i, sp := range s.Special {
		path := fmt.Sprintf("special[%d]", i)
		d, msg := parseDate(sp.Date)
		if sp.Date == "" {
			msg = "is required"
		}
		if msg != "" {
			add(path+".date", "%s", msg)
		} else if _, dup := p.special[d]; dup {
			add(path+".date", "%q has special hours twice", sp.Date)
			msg = "dup"
		} else if _, closed := p.closures[d]; closed {
			add(path+".date", "%q is also a closure; a date is either closed or has special hours", sp.Date)
			msg = "closed"
		}
		nerr := len(errs)
		wins := parseWindows(path+".hours", sp.Hours, &errs)
		if len(sp.Hours) == 0 {
			add(path+".hours", "at least one window is required (a closed day belongs in closures)")
		}
		if msg == "" && len(errs) == nerr {
			p.special[d] = specialDay{name: sp.Name, wins: wins}
		}
	}

	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

func hasPrefix(errs []apperr.FieldError, prefix string) bool {
	for _, e := range errs {
		if strings.HasPrefix(e.Field, prefix) {
			return true
		}
	}
	return false
}

// joinNames joins two names of the same date with " / ", skipping empty
// names and repeats.
func joinNames(a, b string) string {
	switch {
	case a == "" || a == b:
		return b
	case b == "":
		return a
	}
	return a + " / " + b
}
