package reviews

import (
	"testing"
	"time"
)

func TestPeriods(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	day := func(y int, m time.Month, d int, loc *time.Location) time.Time {
		return time.Date(y, m, d, 0, 0, 0, 0, loc)
	}
	for _, tc := range []struct {
		kind     Kind
		label    string
		loc      *time.Location
		from, to time.Time
		want     string
	}{
		{Weekly, "2026-W47", time.UTC, day(2026, 11, 16, time.UTC), day(2026, 11, 23, time.UTC), "2026-W47"},
		{Weekly, "2026-w01", time.UTC, day(2025, 12, 29, time.UTC), day(2026, 1, 5, time.UTC), "2026-W01"},
		{Weekly, "2026-W53", time.UTC, day(2026, 12, 28, time.UTC), day(2027, 1, 4, time.UTC), "2026-W53"},
		// Periods start at midnight in the cadence's zone; the week that ends summer time is 169 hours.
		{Weekly, "2026-W43", berlin, day(2026, 10, 19, berlin), day(2026, 10, 26, berlin), "2026-W43"},
		{Monthly, "2026-11", berlin, day(2026, 11, 1, berlin), day(2026, 12, 1, berlin), "2026-11"},
		{Monthly, "2026-12", time.UTC, day(2026, 12, 1, time.UTC), day(2027, 1, 1, time.UTC), "2026-12"},
		// Bi-weekly pairs count from 2024-W01 (2024 and 2025 have 52 weeks, so
		// 2026's pairs start on odd weeks): W46 is the second week of W45+W46.
		{Biweekly, "2026-W47", time.UTC, day(2026, 11, 16, time.UTC), day(2026, 11, 30, time.UTC), "2026-W47"},
		{Biweekly, "2026-W46", time.UTC, day(2026, 11, 2, time.UTC), day(2026, 11, 16, time.UTC), "2026-W45"},
		{Biweekly, "2024-W01", time.UTC, day(2024, 1, 1, time.UTC), day(2024, 1, 15, time.UTC), "2024-W01"},
	} {
		p, err := ParsePeriod(tc.kind, tc.label, tc.loc)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.kind, tc.label, err)
		}
		if !p.From.Equal(tc.from) || !p.To.Equal(tc.to) || p.Label != tc.want {
			t.Errorf("%s %s = %s [%v, %v), want %s [%v, %v)", tc.kind, tc.label, p.Label, p.From, p.To, tc.want, tc.from, tc.to)
		}
		if prev := p.Previous(); !prev.To.Equal(p.From) || prev.Next().Label != p.Label {
			t.Errorf("%s %s: previous %+v", tc.kind, tc.label, prev)
		}
	}
	if h := mustParse(t, Weekly, "2026-W43", berlin); h.To.Sub(h.From) != 169*time.Hour {
		t.Errorf("the week summer time ends is %v", h.To.Sub(h.From))
	}
	for _, bad := range []struct {
		kind  Kind
		label string
	}{{Weekly, "2026-47"}, {Weekly, "2027-W53"}, {Weekly, "2026-W00"}, {Monthly, "2026-13"}, {Monthly, "2026-W47"}, {"daily", "2026-11"}} {
		if _, err := ParsePeriod(bad.kind, bad.label, time.UTC); err == nil {
			t.Errorf("%s %q parsed", bad.kind, bad.label)
		}
	}
}

func mustParse(t *testing.T, k Kind, label string, loc *time.Location) Period {
	t.Helper()
	p, err := ParsePeriod(k, label, loc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSendAtAndDue(t *testing.T) {
	c := Cadence{Key: "w", Every: Weekly, Day: "tuesday", Time: "07:30", Timezone: "Europe/Berlin"}
	berlin := c.Location()
	w47 := mustParse(t, Weekly, "2026-W47", berlin)
	if got, want := c.SendAt(w47), time.Date(2026, 11, 24, 7, 30, 0, 0, berlin); !got.Equal(want) {
		t.Errorf("weekly send %v, want %v", got, want)
	}
	// Monday 23 November 12:00 Berlin: W47 is not due until Tuesday, so W46 is the latest due.
	due, next := c.Due(time.Date(2026, 11, 23, 12, 0, 0, 0, berlin))
	if due.Label != "2026-W46" || !next.Equal(c.SendAt(w47)) {
		t.Errorf("due %s next %v", due.Label, next)
	}
	due, next = c.Due(c.SendAt(w47))
	if due.Label != "2026-W47" || !next.Equal(time.Date(2026, 12, 1, 7, 30, 0, 0, berlin)) {
		t.Errorf("at the send time: due %s next %v", due.Label, next)
	}
	m := Cadence{Key: "m", Every: Monthly, Day: "3"}
	nov := mustParse(t, Monthly, "2026-11", time.UTC)
	if got := m.SendAt(nov); !got.Equal(time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("monthly send %v", got)
	}
	if due, _ := m.Due(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)); due.Label != "2026-10" {
		t.Errorf("2 December: due %s, want 2026-10", due.Label)
	}
	b := Cadence{Key: "b", Every: Biweekly} // Monday 08:00 UTC after each pair
	if got := b.SendAt(mustParse(t, Biweekly, "2026-W46", time.UTC)); !got.Equal(time.Date(2026, 11, 16, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("biweekly send %v", got)
	}
}
