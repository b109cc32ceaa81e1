package sla

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/flare-desk/flare/internal/apperr"
)

func TestValidate(t *testing.T) {
	base := func() CalendarSpec {
		return CalendarSpec{Key: "GB", Timezone: "Europe/London", Hours: map[string][]string{"mon": {"09:00-18:00"}}}
	}
	cases := []struct {
		name  string
		edit  func(*CalendarSpec)
		paths []string
	}{
		{"ok", func(*CalendarSpec) {}, nil},
		{"ok 24:00 end", func(s *CalendarSpec) { s.Hours["tue"] = []string{"18:00-24:00"} }, nil},
		{"ok touching windows", func(s *CalendarSpec) { s.Hours["tue"] = []string{"09:00-13:00", "13:00-18:00"} }, nil},
		{"ok always", func(s *CalendarSpec) { s.Hours = nil; s.Always = true }, nil},
		{"ok closures and special", func(s *CalendarSpec) {
			s.Closures = []Closure{{Date: "2026-12-24"}, {From: "2026-12-29", To: "2026-12-30", Name: "Stocktake"}}
			s.Special = []SpecialHours{{Date: "2026-12-31", Hours: []string{"09:00-13:00"}}}
		}, nil},
		{"no key", func(s *CalendarSpec) { s.Key = "" }, []string{"key"}},
		{"bad key", func(s *CalendarSpec) { s.Key = "a b" }, []string{"key"}},
		{"no timezone", func(s *CalendarSpec) { s.Timezone = "" }, []string{"timezone"}},
		{"bad timezone", func(s *CalendarSpec) { s.Timezone = "Europe/Londres" }, []string{"timezone"}},
		{"Local timezone", func(s *CalendarSpec) { s.Timezone = "Local" }, []string{"timezone"}},
		{"unknown day", func(s *CalendarSpec) { s.Hours["monday"] = []string{"09:00-18:00"} }, []string{"hours.monday"}},
		{"bad window", func(s *CalendarSpec) { s.Hours["mon"] = []string{"09:00-18:00", "9-17"} }, []string{"hours.mon[1]"}},
		{"bad minute", func(s *CalendarSpec) { s.Hours["mon"] = []string{"09:60-18:00"} }, []string{"hours.mon[0]"}},
		{"24:30", func(s *CalendarSpec) { s.Hours["mon"] = []string{"09:00-24:30"} }, []string{"hours.mon[0]"}},
		{"start 24:00", func(s *CalendarSpec) { s.Hours["mon"] = []string{"24:00-24:00"} }, []string{"hours.mon[0]"}},
		{"crosses midnight", func(s *CalendarSpec) { s.Hours["mon"] = []string{"22:00-06:00"} }, []string{"hours.mon[0]"}},
		{"empty window", func(s *CalendarSpec) { s.Hours["mon"] = []string{"09:00-09:00"} }, []string{"hours.mon[0]"}},
		{"overlap", func(s *CalendarSpec) { s.Hours["mon"] = []string{"14:00-18:00", "09:00-14:30"} }, []string{"hours.mon[1]"}},
		{"no hours", func(s *CalendarSpec) { s.Hours = nil }, []string{"hours"}},
		{"only empty days", func(s *CalendarSpec) { s.Hours = map[string][]string{"mon": {}} }, []string{"hours"}},
		{"always and hours", func(s *CalendarSpec) { s.Always = true }, []string{"hours"}},
		{"bad holidays", func(s *CalendarSpec) { s.Holidays = "GB" }, []string{"holidays"}},
		{"closure bad date", func(s *CalendarSpec) { s.Closures = []Closure{{Date: "24/12/2026"}} }, []string{"closures[0].date"}},
		{"closure no date", func(s *CalendarSpec) { s.Closures = []Closure{{Name: "x"}} }, []string{"closures[0].date"}},
		{"closure both", func(s *CalendarSpec) { s.Closures = []Closure{{Date: "2026-12-24", From: "2026-12-24"}} }, []string{"closures[0]"}},
		{"closure half range", func(s *CalendarSpec) { s.Closures = []Closure{{From: "2026-12-24"}} }, []string{"closures[0].to"}},
		{"closure reversed", func(s *CalendarSpec) { s.Closures = []Closure{{From: "2026-12-24", To: "2026-12-23"}} }, []string{"closures[0].to"}},
		{"closure too long", func(s *CalendarSpec) { s.Closures = []Closure{{From: "2026-01-01", To: "2027-01-02"}} }, []string{"closures[0].to"}},
		{"closure out of range", func(s *CalendarSpec) { s.Closures = []Closure{{Date: "2200-01-01"}} }, []string{"closures[0].date"}},
		{"special no hours", func(s *CalendarSpec) { s.Special = []SpecialHours{{Date: "2026-12-31"}} }, []string{"special[0].hours"}},
		{"special bad window", func(s *CalendarSpec) {
			s.Special = []SpecialHours{{Date: "2026-12-31", Hours: []string{"09:00-13:00", "x"}}}
		}, []string{"special[0].hours[1]"}},
		{"special twice", func(s *CalendarSpec) {
			s.Special = []SpecialHours{{Date: "2026-12-31", Hours: []string{"09:00-13:00"}}, {Date: "2026-12-31", Hours: []string{"09:00-12:00"}}}
		}, []string{"special[1].date"}},
		{"special on closure", func(s *CalendarSpec) {
			s.Closures = []Closure{{From: "2026-12-30", To: "2026-12-31"}}
			s.Special = []SpecialHours{{Date: "2026-12-31", Hours: []string{"09:00-13:00"}}}
		}, []string{"special[0].date"}},
		{"several", func(s *CalendarSpec) { s.Key = ""; s.Timezone = "Mars/Olympus"; s.Hours["sun"] = []string{"x"} }, []string{"hours.sun[0]", "key", "timezone"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			tc.edit(&s)
			errs := s.Validate()
			var paths []string
			for _, e := range errs {
				paths = append(paths, e.Field)
				if e.Message == "" {
					t.Errorf("%s: empty message", e.Field)
				}
			}
			slices.Sort(paths)
			if !slices.Equal(paths, tc.paths) {
				t.Fatalf("paths %q, want %q (%v)", paths, tc.paths, errs)
			}
			c, err := Compile(s)
			if (err == nil) != (tc.paths == nil) || (err == nil) != (c != nil) {
				t.Fatalf("Compile = %v, %v", c, err)
			}
			var se *apperr.Invalid
			if err != nil && (!errors.As(err, &se) || len(se.Errors) != len(errs)) {
				t.Fatalf("Compile error %T %v", err, err)
			}
		})
	}
}

func TestSpecShape(t *testing.T) {
	doc := `
calendars:
  - key: DE
    name: Germany business hours
    timezone: Europe/Berlin
    hours:
      mon: ["09:00-13:00", "14:00-18:00"]
      fri: ["09:00-16:00"]
    holidays: DE-BY
    closures:
      - {date: "2026-12-24", name: Heiligabend}
      - {from: "2026-12-29", to: "2026-12-30"}
    special:
      - {date: "2026-12-31", name: Silvester, hours: ["09:00-12:00"]}
  - key: emergency
    name: Emergency
    timezone: UTC
    always: true
`
	var d struct {
		Calendars []CalendarSpec `yaml:"calendars" json:"calendars"`
	}
	if err := yaml.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatal(err)
	}
	want := []CalendarSpec{{
		Key: "DE", Name: "Germany business hours", Timezone: "Europe/Berlin",
		Hours:    map[string][]string{"mon": {"09:00-13:00", "14:00-18:00"}, "fri": {"09:00-16:00"}},
		Holidays: "DE-BY",
		Closures: []Closure{{Date: "2026-12-24", Name: "Heiligabend"}, {From: "2026-12-29", To: "2026-12-30"}},
		Special:  []SpecialHours{{Date: "2026-12-31", Name: "Silvester", Hours: []string{"09:00-12:00"}}},
	}, {Key: "emergency", Name: "Emergency", Timezone: "UTC", Always: true}}
	if !reflect.DeepEqual(d.Calendars, want) {
		t.Fatalf("yaml:\n%+v\nwant\n%+v", d.Calendars, want)
	}
	// JSON round trip, snake_case keys, empty fields left out.
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); !strings.Contains(s, `{"key":"emergency","name":"Emergency","timezone":"UTC","always":true}`) {
		t.Errorf("json: %s", s)
	}
	var back struct {
		Calendars []CalendarSpec `json:"calendars"`
	}
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back.Calendars, want) {
		t.Fatalf("json round trip: %v %+v", err, back.Calendars)
	}
	for _, s := range d.Calendars {
		c := mustCompile(t, s)
		if c.Key() != s.Key || c.Name() != s.Name {
			t.Errorf("Key/Name = %q/%q", c.Key(), c.Name())
		}
	}
	// Bavaria has Fronleichnam (Thu 4 Jun 2026); DE national does not.
	de := mustCompile(t, d.Calendars[0])
	if n, ok := de.HolidayName(time.Date(2026, 6, 4, 0, 0, 0, 0, time.UTC)); !ok || n != "Fronleichnam" {
		t.Errorf("DE-BY 4 Jun 2026 = %q %v", n, ok)
	}
	nat := mustCompile(t, CalendarSpec{Key: "de", Timezone: "Europe/Berlin", Holidays: "DE", Hours: map[string][]string{"mon": {"09:00-18:00"}}})
	if _, ok := nat.HolidayName(time.Date(2026, 6, 4, 0, 0, 0, 0, time.UTC)); ok {
		t.Error("DE national should not have Fronleichnam")
	}
	if _, ok := nat.HolidayName(time.Date(2026, 10, 3, 0, 0, 0, 0, time.UTC)); !ok {
		t.Error("DE national should have 3 Oct")
	}
	// 13:00–14:00 lunch on Monday in the DE-BY spec: Mon 2 Mar 2026 is 8h.
	if got := de.Between(time.Date(2026, 3, 2, 0, 0, 0, 0, de.Location()), time.Date(2026, 3, 3, 0, 0, 0, 0, de.Location())); got != 8*time.Hour {
		t.Errorf("DE-BY Monday = %v", got)
	}
}

func TestHolidayRegions(t *testing.T) {
	got := HolidayRegions()
	for _, r := range []string{"GB-ENG", "IE", "DE", "DE-BY", "DE-BE", "FR", "IT", "ES", "NL", "PL", "BE", "US"} {
		if !slices.Contains(got, r) {
			t.Errorf("missing %s", r)
		}
	}
	if len(got) != 10+16 { // GB-ENG IE DE FR IT ES NL PL BE US + 16 German states
		t.Errorf("%d regions: %v", len(got), got)
	}
}

func TestConcurrentUse(t *testing.T) {
	c := demo(t, "DE")
	done := make(chan time.Time)
	for range 4 {
		go func() {
			var last time.Time
			for i := range 2000 {
				last = c.Add(utc("2026-03-27T16:00:00Z").Add(time.Duration(i)*time.Minute), 8*time.Hour)
			}
			done <- last
		}()
	}
	first := <-done
	for range 3 {
		if got := <-done; !got.Equal(first) {
			t.Fatal("concurrent Add disagree")
		}
	}
}
