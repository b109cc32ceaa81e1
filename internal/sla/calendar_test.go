package sla

import (
	"math"
	"testing"
	"time"
)

// Hand-checked expectations. Facts used below (2026):
//   Europe/London  GMT = UTC+0, BST = UTC+1; BST starts Sun 29 Mar 01:00Z
//                  (01:00 → 02:00 local), ends Sun 25 Oct 01:00Z (02:00 → 01:00).
//   Europe/Berlin  CET = UTC+1, CEST = UTC+2; same instants (02:00 → 03:00,
//                  03:00 → 02:00 local).
//   America/Los_Angeles PST = UTC−8, PDT = UTC−7; PDT starts Sun 8 Mar 10:00Z
//                  (02:00 → 03:00 local), ends Sun 1 Nov 09:00Z (02:00 → 01:00).
//   Weekdays: Mon 2 Mar, Fri 6 Mar, Fri 27 Mar, Thu 2 Apr, Easter Sunday 5 Apr,
//   Wed 13 May, Thu 2 Jul, Fri 7 Aug, Fri 23 Oct, Fri 30 Oct, Wed 25 Nov,
//   Sat 19 Dec, Wed 23 Dec, Thu 24 Dec, Thu 31 Dec 2026; Fri 1 Jan 2027.
// The market calendars are Monday–Friday 09:00–18:00 local.

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func demo(t *testing.T, key string) *Calendar {
	t.Helper()
	for _, s := range DemoSpecs() {
		if s.Key == key {
			return MustCompile(s)
		}
	}
	t.Fatalf("no demo calendar %q", key)
	return nil
}

func mustCompile(t *testing.T, s CalendarSpec) *Calendar {
	t.Helper()
	c, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func everyDay(wins ...string) map[string][]string {
	h := map[string][]string{}
	for _, d := range dayOrder {
		h[d] = append([]string(nil), wins...)
	}
	return h
}

type addCase struct {
	name string
	cal  string
	from string
	d    time.Duration
	want string
}

func TestAddMarkets(t *testing.T) {
	cases := []addCase{
		// --- GB, Europe/London ---
		{"GB ordinary", "GB", "2026-03-02T10:00:00Z", 4 * time.Hour, "2026-03-02T14:00:00Z"},
		// Mon 2 Mar 07:00 GMT is before opening: count from 09:00, 1h → 10:00.
		{"GB before opening", "GB", "2026-03-02T07:00:00Z", time.Hour, "2026-03-02T10:00:00Z"},
		// Saturday: count from Mon 9 Mar 09:00 GMT.
		{"GB weekend start", "GB", "2026-03-07T12:00:00Z", time.Hour, "2026-03-09T10:00:00Z"},
		// Used up exactly at closing: the closing instant, not the next opening.
		{"GB ends at closing", "GB", "2026-03-02T09:00:00Z", 9 * time.Hour, "2026-03-02T18:00:00Z"},
		{"GB ends at closing 2", "GB", "2026-03-02T17:00:00Z", time.Hour, "2026-03-02T18:00:00Z"},
		// At closing with time left: the rest starts next morning.
		{"GB from closing", "GB", "2026-03-02T18:00:00Z", time.Hour, "2026-03-03T10:00:00Z"},
		// 2 business days (18h) from Mon 10:00: Mon 8h, Tue 9h, Wed 1h → Wed 10:00.
		{"GB two days", "GB", "2026-03-02T10:00:00Z", 18 * time.Hour, "2026-03-04T10:00:00Z"},
		// Sub-second: 0.5s left on Mon, the other 0.5s from Tue 09:00.
		{"GB sub-second", "GB", "2026-03-02T17:59:59.5Z", time.Second, "2026-03-03T09:00:00.5Z"},
		// Spring forward: Fri 27 Mar 17:00 GMT (17:00Z) + 2h = 1h Fri, Mon 30 Mar
		// 09:00 BST (08:00Z) + 1h = 10:00 BST = 09:00Z.
		{"GB spring DST", "GB", "2026-03-27T17:00:00Z", 2 * time.Hour, "2026-03-30T09:00:00Z"},
		// Fall back: Fri 23 Oct 17:00 BST (16:00Z) + 2h → Mon 26 Oct 10:00 GMT = 10:00Z.
		{"GB fall DST", "GB", "2026-10-23T16:00:00Z", 2 * time.Hour, "2026-10-26T10:00:00Z"},
		// Easter: Thu 2 Apr 17:00 BST (16:00Z) 1h; Good Friday 3 Apr, weekend,
		// Easter Monday 6 Apr closed; Tue 7 Apr 09:00 BST + 1h = 09:00Z.
		{"GB Easter", "GB", "2026-04-02T16:00:00Z", 2 * time.Hour, "2026-04-07T09:00:00Z"},
		// Christmas: Thu 24 Dec 17:00 GMT 1h; Fri 25 Christmas, Sat 26, Sun 27,
		// Mon 28 Boxing Day substitute closed; Tue 29 Dec 09:00 + 1h.
		{"GB Christmas", "GB", "2026-12-24T17:00:00Z", 2 * time.Hour, "2026-12-29T10:00:00Z"},
		// Year end: Thu 31 Dec 10:00 → 18:00 is 8h; Fri 1 Jan 2027 New Year, weekend;
		// Mon 4 Jan 09:00 + 1h.
		{"GB New Year", "GB", "2026-12-31T10:00:00Z", 9 * time.Hour, "2027-01-04T10:00:00Z"},

		// --- DE, Europe/Berlin (national + Berlin) ---
		// Tue 10 Mar 2026 10:00 CET = 09:00Z; + 8h → 18:00 CET = 17:00Z.
		{"DE ordinary", "DE", "2026-03-10T09:00:00Z", 8 * time.Hour, "2026-03-10T17:00:00Z"},
		// Fri 27 Mar 17:00 CET (16:00Z) 1h; Mon 30 Mar 09:00 CEST (07:00Z) + 1h = 08:00Z.
		{"DE spring DST", "DE", "2026-03-27T16:00:00Z", 2 * time.Hour, "2026-03-30T08:00:00Z"},
		// Fri 23 Oct 17:00 CEST (15:00Z) 1h; Mon 26 Oct 09:00 CET (08:00Z) + 1h = 09:00Z.
		{"DE fall DST", "DE", "2026-10-23T15:00:00Z", 2 * time.Hour, "2026-10-26T09:00:00Z"},
		// Thu 2 Apr 17:00 CEST (15:00Z) 1h; Karfreitag, weekend, Ostermontag closed;
		// Tue 7 Apr 09:00 CEST (07:00Z) + 1h = 08:00Z.
		{"DE Easter", "DE", "2026-04-02T15:00:00Z", 2 * time.Hour, "2026-04-07T08:00:00Z"},
		// Christi Himmelfahrt Thu 14 May: Wed 13 May 17:00 CEST (15:00Z) 1h;
		// Fri 15 May 09:00 CEST (07:00Z) + 1h = 08:00Z.
		{"DE Ascension", "DE", "2026-05-13T15:00:00Z", 2 * time.Hour, "2026-05-15T08:00:00Z"},
		// 24 Dec is a working day in Germany: Thu 24 Dec 17:00 CET (16:00Z) 1h;
		// Fri 25 and Sat 26 Dec holidays, Sun; Mon 28 Dec 09:00 CET (08:00Z) + 1h.
		{"DE Christmas", "DE", "2026-12-24T16:00:00Z", 2 * time.Hour, "2026-12-28T09:00:00Z"},
		// Thu 31 Dec 17:00 CET (16:00Z) 1h; Neujahr Fri 1 Jan 2027, weekend;
		// Mon 4 Jan 09:00 CET (08:00Z) + 1h = 09:00Z.
		{"DE New Year", "DE", "2026-12-31T16:00:00Z", 2 * time.Hour, "2027-01-04T09:00:00Z"},

		// --- US, America/Los_Angeles (federal holidays) ---
		// A PST business day is 17:00Z–02:00Z next day, so it crosses UTC midnight:
		// Mon 2 Mar 17:00 PST = Tue 01:00Z; + 30m = 01:30Z.
		{"US across UTC midnight", "US", "2026-03-03T01:00:00Z", 30 * time.Minute, "2026-03-03T01:30:00Z"},
		// Mon 2 Mar 16:00 PST (Tue 00:00Z) + 4h = 2h Mon (to 18:00 PST = 02:00Z),
		// Tue 3 Mar 09:00 PST (17:00Z) + 2h = 19:00Z.
		{"US next morning", "US", "2026-03-03T00:00:00Z", 4 * time.Hour, "2026-03-03T19:00:00Z"},
		// Fri 6 Mar 17:00 PST (Sat 01:00Z) 1h; weekend with the switch; Mon 9 Mar
		// 09:00 PDT (16:00Z) + 1h = 17:00Z.
		{"US spring DST", "US", "2026-03-07T01:00:00Z", 2 * time.Hour, "2026-03-09T17:00:00Z"},
		// Fri 30 Oct 17:00 PDT (Sat 00:00Z) 1h; Mon 2 Nov 09:00 PST (17:00Z) + 1h.
		{"US fall DST", "US", "2026-10-31T00:00:00Z", 2 * time.Hour, "2026-11-02T18:00:00Z"},
		// Independence Day Sat 4 Jul is observed Fri 3 Jul: Thu 2 Jul 17:00 PDT
		// (Fri 00:00Z) 1h; Mon 6 Jul 09:00 PDT (16:00Z) + 1h = 17:00Z.
		{"US July 3 observed", "US", "2026-07-03T00:00:00Z", 2 * time.Hour, "2026-07-06T17:00:00Z"},
		// Thanksgiving Thu 26 Nov: Wed 25 Nov 17:00 PST (Thu 01:00Z) 1h; Fri 27 Nov
		// 09:00 PST (17:00Z) + 1h = 18:00Z.
		{"US Thanksgiving", "US", "2026-11-26T01:00:00Z", 2 * time.Hour, "2026-11-27T18:00:00Z"},
		// Thu 24 Dec 17:00 PST (25 Dec 01:00Z) 1h; Christmas Fri 25, weekend;
		// Mon 28 Dec 09:00 PST (17:00Z) + 1h = 18:00Z.
		{"US Christmas", "US", "2026-12-25T01:00:00Z", 2 * time.Hour, "2026-12-28T18:00:00Z"},
		// Thu 31 Dec 17:00 PST (1 Jan 01:00Z) 1h; New Year Fri 1 Jan 2027; Mon 4 Jan
		// 09:00 PST (17:00Z) + 1h = 18:00Z.
		{"US New Year", "US", "2027-01-01T01:00:00Z", 2 * time.Hour, "2027-01-04T18:00:00Z"},

		// --- emergency, 24/7 UTC ---
		{"24/7", "emergency", "2026-03-28T23:30:00Z", 25 * time.Hour, "2026-03-30T00:30:00Z"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := demo(t, tc.cal)
			from := utc(tc.from)
			got := c.Add(from, tc.d)
			if want := utc(tc.want); !got.Equal(want) {
				t.Fatalf("Add(%s, %v) = %s, want %s", tc.from, tc.d, got.UTC().Format(time.RFC3339Nano), tc.want)
			}
			// The definition of Add: exactly d of business time is used.
			if b := c.Between(from, got); b != tc.d {
				t.Errorf("Between(from, Add) = %v, want %v", b, tc.d)
			}
		})
	}
}

func TestAddZeroAndNegative(t *testing.T) {
	c := demo(t, "GB")
	sat := utc("2026-03-07T12:00:00Z")
	if got := c.Add(sat, 0); !got.Equal(sat) {
		t.Errorf("Add(t, 0) = %v, want t", got)
	}
	if got := c.Add(sat, -time.Hour); !got.Equal(sat) {
		t.Errorf("Add(t, -1h) = %v, want t", got)
	}
	// The result keeps t's location.
	in := sat.In(c.Location())
	if got := c.Add(in, time.Hour); got.Location() != c.Location() {
		t.Errorf("Add changed the location to %v", got.Location())
	}
}

type betweenCase struct {
	name     string
	cal      string
	from, to string
	want     time.Duration
}

func TestBetweenMarkets(t *testing.T) {
	cases := []betweenCase{
		{"GB same day", "GB", "2026-03-02T10:00:00Z", "2026-03-02T12:30:00Z", 150 * time.Minute},
		{"GB reversed", "GB", "2026-03-02T12:00:00Z", "2026-03-02T10:00:00Z", 0},
		{"GB empty", "GB", "2026-03-02T12:00:00Z", "2026-03-02T12:00:00Z", 0},
		{"GB night", "GB", "2026-03-02T18:00:00Z", "2026-03-03T09:00:00Z", 0},
		// One week Mon 00:00 → Mon 00:00: five 9h days.
		{"GB week", "GB", "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z", 45 * time.Hour},
		// Fri 27 Mar 17:00 GMT → Mon 30 Mar 10:00 BST (09:00Z): 1h + 1h; 64h elapsed.
		{"GB spring DST", "GB", "2026-03-27T17:00:00Z", "2026-03-30T09:00:00Z", 2 * time.Hour},
		// Fri 23 Oct 17:00 BST (16:00Z) → Mon 26 Oct 10:00 GMT (10:00Z): 2h.
		{"GB fall DST", "GB", "2026-10-23T16:00:00Z", "2026-10-26T10:00:00Z", 2 * time.Hour},
		// Wed 23 Dec 09:00 → Mon 4 Jan 2027 09:00 GMT: Wed 23, Thu 24, Tue 29,
		// Wed 30, Thu 31 Dec = 5 × 9h (25, 28 Dec and 1 Jan are holidays).
		{"GB Christmas to New Year", "GB", "2026-12-23T09:00:00Z", "2027-01-04T09:00:00Z", 45 * time.Hour},
		// Easter week Mon 30 Mar 00:00 BST → Mon 13 Apr 00:00 BST: 10 weekdays
		// minus Good Friday and Easter Monday = 8 × 9h.
		{"GB Easter fortnight", "GB", "2026-03-29T23:00:00Z", "2026-04-12T23:00:00Z", 72 * time.Hour},
		// Same fortnight in Berlin (local midnights at 22:00Z): also 8 × 9h.
		{"DE Easter fortnight", "DE", "2026-03-29T22:00:00Z", "2026-04-12T22:00:00Z", 72 * time.Hour},
		// Mon 28 Dec 00:00 CET → Mon 4 Jan 2027 00:00 CET: Mon 28 – Thu 31 = 4 × 9h.
		{"DE year end", "DE", "2026-12-27T23:00:00Z", "2027-01-03T23:00:00Z", 36 * time.Hour},
		// Fri 27 Mar 16:00Z (17:00 CET) → Mon 30 Mar 08:00Z (10:00 CEST).
		{"DE spring DST", "DE", "2026-03-27T16:00:00Z", "2026-03-30T08:00:00Z", 2 * time.Hour},
		{"DE fall DST", "DE", "2026-10-23T15:00:00Z", "2026-10-26T09:00:00Z", 2 * time.Hour},
		// Mon 2 Mar 16:00Z → Tue 3 Mar 16:00Z holds all of Mon 09:00–18:00 PST
		// (17:00Z–02:00Z): 9h.
		{"US UTC day", "US", "2026-03-02T16:00:00Z", "2026-03-03T16:00:00Z", 9 * time.Hour},
		{"US spring DST", "US", "2026-03-07T01:00:00Z", "2026-03-09T17:00:00Z", 2 * time.Hour},
		{"US fall DST", "US", "2026-10-31T00:00:00Z", "2026-11-02T18:00:00Z", 2 * time.Hour},
		// Week of 29 Jun: Mon–Thu open, Fri 3 Jul observed holiday: 4 × 9h.
		// Mon 29 Jun 00:00 PDT = 07:00Z; Mon 6 Jul 00:00 PDT = 07:00Z.
		{"US July 4th week", "US", "2026-06-29T07:00:00Z", "2026-07-06T07:00:00Z", 36 * time.Hour},
		// 24/7 across the London spring switch: plain elapsed time.
		{"24/7", "emergency", "2026-03-28T12:00:00Z", "2026-03-30T12:00:00Z", 48 * time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := demo(t, tc.cal)
			if got := c.Between(utc(tc.from), utc(tc.to)); got != tc.want {
				t.Fatalf("Between(%s, %s) = %v, want %v", tc.from, tc.to, got, tc.want)
			}
		})
	}
}

func TestIsOpenAndNextOpen(t *testing.T) {
	cases := []struct {
		name string
		cal  string
		at   string
		open bool
		next string // NextOpen
	}{
		{"GB opening instant", "GB", "2026-03-02T09:00:00Z", true, "2026-03-02T09:00:00Z"},
		{"GB before opening", "GB", "2026-03-02T08:59:59Z", false, "2026-03-02T09:00:00Z"},
		{"GB last nanosecond", "GB", "2026-03-02T17:59:59.999999999Z", true, "2026-03-02T17:59:59.999999999Z"},
		{"GB closing instant", "GB", "2026-03-02T18:00:00Z", false, "2026-03-03T09:00:00Z"},
		{"GB Saturday", "GB", "2026-03-07T12:00:00Z", false, "2026-03-09T09:00:00Z"},
		// Fri 27 Mar 18:00 GMT → Mon 30 Mar 09:00 BST = 08:00Z.
		{"GB over spring DST", "GB", "2026-03-27T18:00:00Z", false, "2026-03-30T08:00:00Z"},
		// Fri 23 Oct 18:00 BST (17:00Z) → Mon 26 Oct 09:00 GMT = 09:00Z.
		{"GB over fall DST", "GB", "2026-10-23T17:00:00Z", false, "2026-10-26T09:00:00Z"},
		// Good Friday 10:00 BST (09:00Z) → Tue 7 Apr 09:00 BST = 08:00Z.
		{"GB Good Friday", "GB", "2026-04-03T09:00:00Z", false, "2026-04-07T08:00:00Z"},
		{"GB Boxing Day substitute", "GB", "2026-12-28T12:00:00Z", false, "2026-12-29T09:00:00Z"},
		// Berlin 09:00 CET = 08:00Z.
		{"DE open", "DE", "2026-03-02T08:00:00Z", true, "2026-03-02T08:00:00Z"},
		{"DE 07:59 UTC", "DE", "2026-03-02T07:59:00Z", false, "2026-03-02T08:00:00Z"},
		// Tag der Deutschen Einheit is Sat 3 Oct 2026 (weekend anyway); Ostermontag:
		{"DE Ostermontag", "DE", "2026-04-06T10:00:00Z", false, "2026-04-07T07:00:00Z"},
		// Neujahr 2027 (Fri) 12:00 CET → Mon 4 Jan 09:00 CET = 08:00Z.
		{"DE Neujahr", "DE", "2027-01-01T11:00:00Z", false, "2027-01-04T08:00:00Z"},
		// Mon 2 Mar 17:59 PST = Tue 01:59Z: open, after UTC midnight.
		{"US open after UTC midnight", "US", "2026-03-03T01:59:00Z", true, "2026-03-03T01:59:00Z"},
		{"US closed at 18:00 PST", "US", "2026-03-03T02:00:00Z", false, "2026-03-03T17:00:00Z"},
		// Sat 7 Mar (PST) → Mon 9 Mar 09:00 PDT = 16:00Z.
		{"US over spring DST", "US", "2026-03-07T20:00:00Z", false, "2026-03-09T16:00:00Z"},
		// Fri 3 Jul (observed holiday) 10:00 PDT → Mon 6 Jul 09:00 PDT = 16:00Z.
		{"US July 3", "US", "2026-07-03T17:00:00Z", false, "2026-07-06T16:00:00Z"},
		{"24/7", "emergency", "2026-12-25T00:00:00Z", true, "2026-12-25T00:00:00Z"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := demo(t, tc.cal)
			at := utc(tc.at)
			if got := c.IsOpen(at); got != tc.open {
				t.Errorf("IsOpen(%s) = %v, want %v", tc.at, got, tc.open)
			}
			if got := c.NextOpen(at); !got.Equal(utc(tc.next)) {
				t.Errorf("NextOpen(%s) = %s, want %s", tc.at, got.UTC().Format(time.RFC3339Nano), tc.next)
			}
		})
	}
}

// TestSwitchDays uses calendars open on Sundays, since every 2026 DST switch
// is on a Sunday, and measures whole local days with Between.
func TestSwitchDays(t *testing.T) {
	cal := func(zone string, always bool, hours map[string][]string) *Calendar {
		return mustCompile(t, CalendarSpec{Key: "x", Timezone: zone, Always: always, Hours: hours})
	}
	cases := []struct {
		name     string
		c        *Calendar
		from, to string // local midnight to local midnight, in UTC
		want     time.Duration
	}{
		// London spring day: 00:00 GMT (00:00Z) → next 00:00 BST (23:00Z); 23h long.
		{"London spring 09-18", cal("Europe/London", false, everyDay("09:00-18:00")), "2026-03-29T00:00:00Z", "2026-03-29T23:00:00Z", 9 * time.Hour},
		{"London spring 00-24", cal("Europe/London", false, everyDay("00:00-24:00")), "2026-03-29T00:00:00Z", "2026-03-29T23:00:00Z", 23 * time.Hour},
		{"London spring 24/7", cal("Europe/London", true, nil), "2026-03-29T00:00:00Z", "2026-03-29T23:00:00Z", 23 * time.Hour},
		// 01:00–02:00 GMT does not exist on 29 Mar: nothing.
		{"London spring gap window", cal("Europe/London", false, everyDay("01:00-02:00")), "2026-03-29T00:00:00Z", "2026-03-29T23:00:00Z", 0},
		// 01:30–03:00: only 02:00–03:00 BST (01:00Z–02:00Z) exists.
		{"London spring window into gap", cal("Europe/London", false, everyDay("01:30-03:00")), "2026-03-29T00:00:00Z", "2026-03-29T23:00:00Z", time.Hour},
		// London autumn day: 00:00 BST (24 Oct 23:00Z) → 00:00 GMT (26 Oct 00:00Z); 25h.
		{"London fall 09-18", cal("Europe/London", false, everyDay("09:00-18:00")), "2026-10-24T23:00:00Z", "2026-10-26T00:00:00Z", 9 * time.Hour},
		{"London fall 00-24", cal("Europe/London", false, everyDay("00:00-24:00")), "2026-10-24T23:00:00Z", "2026-10-26T00:00:00Z", 25 * time.Hour},
		{"London fall 24/7", cal("Europe/London", true, nil), "2026-10-24T23:00:00Z", "2026-10-26T00:00:00Z", 25 * time.Hour},
		// 01:00–02:00 happens twice: 00:00Z–01:00Z (BST) and 01:00Z–02:00Z (GMT).
		{"London fall repeated window", cal("Europe/London", false, everyDay("01:00-02:00")), "2026-10-24T23:00:00Z", "2026-10-26T00:00:00Z", 2 * time.Hour},
		// Two windows that join at midnight, 18:00–24:00 and 00:00–06:00 every day,
		// across the London spring night: Sat 28 Mar 18:00 GMT → Sun 06:00 BST
		// (05:00Z) is 11h real, all open.
		{"London evening+night spring", cal("Europe/London", false, everyDay("00:00-06:00", "18:00-24:00")), "2026-03-28T18:00:00Z", "2026-03-29T05:00:00Z", 11 * time.Hour},
		// Berlin spring day: 00:00 CET (28 Mar 23:00Z) → 00:00 CEST (29 Mar 22:00Z).
		{"Berlin spring 09-18", cal("Europe/Berlin", false, everyDay("09:00-18:00")), "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", 9 * time.Hour},
		{"Berlin spring 00-24", cal("Europe/Berlin", false, everyDay("00:00-24:00")), "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", 23 * time.Hour},
		{"Berlin spring 02-03 gap", cal("Europe/Berlin", false, everyDay("02:00-03:00")), "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", 0},
		// Berlin autumn day: 00:00 CEST (24 Oct 22:00Z) → 00:00 CET (25 Oct 23:00Z).
		{"Berlin fall 09-18", cal("Europe/Berlin", false, everyDay("09:00-18:00")), "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", 9 * time.Hour},
		{"Berlin fall 00-24", cal("Europe/Berlin", false, everyDay("00:00-24:00")), "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", 25 * time.Hour},
		{"Berlin fall 24/7", cal("Europe/Berlin", true, nil), "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", 25 * time.Hour},
		// 02:00–03:00 twice: 00:00Z–01:00Z (CEST) and 01:00Z–02:00Z (CET).
		{"Berlin fall 02-03 twice", cal("Europe/Berlin", false, everyDay("02:00-03:00")), "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", 2 * time.Hour},
		// LA spring day: 00:00 PST (08:00Z) → 00:00 PDT (9 Mar 07:00Z).
		{"LA spring 09-18", cal("America/Los_Angeles", false, everyDay("09:00-18:00")), "2026-03-08T08:00:00Z", "2026-03-09T07:00:00Z", 9 * time.Hour},
		{"LA spring 00-24", cal("America/Los_Angeles", false, everyDay("00:00-24:00")), "2026-03-08T08:00:00Z", "2026-03-09T07:00:00Z", 23 * time.Hour},
		{"LA spring 24/7", cal("America/Los_Angeles", true, nil), "2026-03-08T08:00:00Z", "2026-03-09T07:00:00Z", 23 * time.Hour},
		{"LA spring 02-03 gap", cal("America/Los_Angeles", false, everyDay("02:00-03:00")), "2026-03-08T08:00:00Z", "2026-03-09T07:00:00Z", 0},
		// LA autumn day: 00:00 PDT (1 Nov 07:00Z) → 00:00 PST (2 Nov 08:00Z).
		{"LA fall 09-18", cal("America/Los_Angeles", false, everyDay("09:00-18:00")), "2026-11-01T07:00:00Z", "2026-11-02T08:00:00Z", 9 * time.Hour},
		{"LA fall 00-24", cal("America/Los_Angeles", false, everyDay("00:00-24:00")), "2026-11-01T07:00:00Z", "2026-11-02T08:00:00Z", 25 * time.Hour},
		// 01:00–02:00 twice: 08:00Z–09:00Z (PDT) and 09:00Z–10:00Z (PST).
		{"LA fall 01-02 twice", cal("America/Los_Angeles", false, everyDay("01:00-02:00")), "2026-11-01T07:00:00Z", "2026-11-02T08:00:00Z", 2 * time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			from, to := utc(tc.from), utc(tc.to)
			if got := tc.c.Between(from, to); got != tc.want {
				t.Fatalf("Between = %v, want %v", got, tc.want)
			}
			// Adding the day's business time from local midnight ends at or
			// before the next local midnight, and uses exactly that much.
			if tc.want > 0 {
				end := tc.c.Add(from, tc.want)
				if end.After(to) || tc.c.Between(from, end) != tc.want {
					t.Fatalf("Add(from, %v) = %s", tc.want, end.UTC())
				}
			}
		})
	}
}

func TestSwitchDayAdd(t *testing.T) {
	// 7-day 09:00–18:00 in London: Sat 28 Mar 17:00 GMT + 2h = 1h Sat, then
	// Sun 29 Mar 09:00 BST (08:00Z) + 1h = 09:00Z.
	london := mustCompile(t, CalendarSpec{Key: "x", Timezone: "Europe/London", Hours: everyDay("09:00-18:00")})
	if got, want := london.Add(utc("2026-03-28T17:00:00Z"), 2*time.Hour), utc("2026-03-29T09:00:00Z"); !got.Equal(want) {
		t.Errorf("London spring: got %s want %s", got.UTC(), want)
	}
	// Only Sundays 02:00–03:00 in Berlin: on 29 Mar that hour does not exist, so
	// from Sun 29 Mar 00:00Z (01:00 CET) 30m ends on Sun 5 Apr 02:30 CEST = 00:30Z.
	berlin := mustCompile(t, CalendarSpec{Key: "x", Timezone: "Europe/Berlin", Hours: map[string][]string{"sun": {"02:00-03:00"}}})
	if got, want := berlin.Add(utc("2026-03-29T00:00:00Z"), 30*time.Minute), utc("2026-04-05T00:30:00Z"); !got.Equal(want) {
		t.Errorf("Berlin gap: got %s want %s", got.UTC(), want)
	}
	// On 25 Oct the hour happens twice: from 00:00Z (02:00 CEST), 90m runs to
	// 01:00Z (03:00 CEST = 02:00 CET) and on to 01:30Z (02:30 CET).
	if got, want := berlin.Add(utc("2026-10-25T00:00:00Z"), 90*time.Minute), utc("2026-10-25T01:30:00Z"); !got.Equal(want) {
		t.Errorf("Berlin overlap: got %s want %s", got.UTC(), want)
	}
	if !berlin.IsOpen(utc("2026-10-25T00:30:00Z")) || !berlin.IsOpen(utc("2026-10-25T01:30:00Z")) || berlin.IsOpen(utc("2026-10-25T02:00:00Z")) {
		t.Error("Berlin overlap: IsOpen wrong")
	}
	// LA 7-day: Sat 7 Mar 17:30 PST (8 Mar 01:30Z) + 1h = 30m Sat, then Sun 8 Mar
	// 09:00 PDT (16:00Z) + 30m.
	la := mustCompile(t, CalendarSpec{Key: "x", Timezone: "America/Los_Angeles", Hours: everyDay("09:00-18:00")})
	if got, want := la.Add(utc("2026-03-08T01:30:00Z"), time.Hour), utc("2026-03-08T16:30:00Z"); !got.Equal(want) {
		t.Errorf("LA spring: got %s want %s", got.UTC(), want)
	}
}

func TestMidnightWindows(t *testing.T) {
	// Berlin: Mon 18:00–24:00, Tue 00:00–06:00, Wed 00:00–06:00.
	c := mustCompile(t, CalendarSpec{Key: "night", Timezone: "Europe/Berlin", Hours: map[string][]string{
		"mon": {"18:00-24:00"}, "tue": {"00:00-06:00"}, "thu": {"00:00-06:00"},
	}})
	// Mon 2 Mar 23:30 CET (22:30Z) + 1h → Tue 00:30 CET = Mon 23:30Z: no gap at midnight.
	if got, want := c.Add(utc("2026-03-02T22:30:00Z"), time.Hour), utc("2026-03-02T23:30:00Z"); !got.Equal(want) {
		t.Errorf("join: got %s want %s", got.UTC(), want)
	}
	// Midnight itself (Tue 00:00 CET = Mon 23:00Z) is open; so is the second before.
	for _, at := range []string{"2026-03-02T22:59:59Z", "2026-03-02T23:00:00Z"} {
		if !c.IsOpen(utc(at)) {
			t.Errorf("IsOpen(%s) = false", at)
		}
	}
	// Mon 18:00 → Tue 06:00 CET is 12 hours of one unbroken stretch.
	if got := c.Between(utc("2026-03-02T17:00:00Z"), utc("2026-03-03T05:00:00Z")); got != 12*time.Hour {
		t.Errorf("Between over midnight = %v", got)
	}
	// Tue 05:30 CET (04:30Z) + 1h: 30m Tue, Wed closed, Thu 00:00 CET (Wed 23:00Z) + 30m.
	if got, want := c.Add(utc("2026-03-03T04:30:00Z"), time.Hour), utc("2026-03-04T23:30:00Z"); !got.Equal(want) {
		t.Errorf("after gap: got %s want %s", got.UTC(), want)
	}
	// Mon 23:00 CET (22:00Z) + 1h ends exactly at midnight = Tue 00:00 CET.
	if got, want := c.Add(utc("2026-03-02T22:00:00Z"), time.Hour), utc("2026-03-02T23:00:00Z"); !got.Equal(want) {
		t.Errorf("to midnight: got %s want %s", got.UTC(), want)
	}
	// Several windows a day: 09:00–13:00 and 14:00–18:00 in London (GMT in March).
	split := mustCompile(t, CalendarSpec{Key: "split", Timezone: "Europe/London", Hours: map[string][]string{"mon": {"14:00-18:00", "09:00-13:00"}}})
	// Mon 2 Mar 12:00 + 2h: 1h to 13:00, lunch, 14:00 + 1h = 15:00.
	if got, want := split.Add(utc("2026-03-02T12:00:00Z"), 2*time.Hour), utc("2026-03-02T15:00:00Z"); !got.Equal(want) {
		t.Errorf("split: got %s want %s", got.UTC(), want)
	}
	if got := split.Between(utc("2026-03-02T00:00:00Z"), utc("2026-03-03T00:00:00Z")); got != 8*time.Hour {
		t.Errorf("split day = %v", got)
	}
	// 13:00 is the end of a window: Add ending there returns 13:00, not 14:00.
	if got, want := split.Add(utc("2026-03-02T12:00:00Z"), time.Hour), utc("2026-03-02T13:00:00Z"); !got.Equal(want) {
		t.Errorf("split closing: got %s want %s", got.UTC(), want)
	}
}

func TestAlwaysIsPlainTime(t *testing.T) {
	for _, zone := range []string{"UTC", "Europe/London", "America/Los_Angeles"} {
		c := mustCompile(t, CalendarSpec{Key: "x", Timezone: zone, Always: true})
		if !c.Always() {
			t.Fatalf("%s: Always() = false", zone)
		}
		for _, at := range []string{"2026-03-08T09:30:00Z", "2026-03-29T00:59:59.5Z", "2026-10-25T00:30:00Z", "2026-11-01T08:00:00Z", "2026-12-31T23:59:59Z"} {
			from := utc(at)
			for _, d := range []time.Duration{0, time.Nanosecond, time.Hour, 25 * time.Hour, 400 * 24 * time.Hour} {
				if got := c.Add(from, d); !got.Equal(from.Add(d)) {
					t.Errorf("%s Add(%s, %v) = %s", zone, at, d, got)
				}
				if got := c.Between(from, from.Add(d)); got != d {
					t.Errorf("%s Between(%s, +%v) = %v", zone, at, d, got)
				}
			}
		}
	}
	// always + holidays is 24/7 except the holidays, not plain time.
	c := mustCompile(t, CalendarSpec{Key: "x", Timezone: "Europe/London", Always: true, Holidays: "GB-ENG"})
	if c.Always() {
		t.Fatal("24/7 with holidays reports Always")
	}
	// Thu 24 Dec 2026 23:00 GMT + 2h: 1h to midnight, Christmas Day closed,
	// Sat 26 Dec (Boxing Day) closed, Sun 27 00:00 + 1h.
	if got, want := c.Add(utc("2026-12-24T23:00:00Z"), 2*time.Hour), utc("2026-12-27T01:00:00Z"); !got.Equal(want) {
		t.Errorf("24/7 with holidays: got %s want %s", got.UTC(), want)
	}
}

func TestClosuresAndSpecialHours(t *testing.T) {
	c := mustCompile(t, CalendarSpec{
		Key: "gbx", Timezone: "Europe/London", Holidays: "GB-ENG",
		Hours: map[string][]string{"mon": {"09:00-18:00"}, "tue": {"09:00-18:00"}, "wed": {"09:00-18:00"}, "thu": {"09:00-18:00"}, "fri": {"09:00-18:00"}},
		Closures: []Closure{
			{Date: "2026-12-24", Name: "Christmas Eve"},
			{From: "2026-08-10", To: "2026-08-14", Name: "Office move"},
		},
		Special: []SpecialHours{
			{Date: "2026-12-31", Hours: []string{"09:00-13:00"}},
			{Date: "2026-12-19", Name: "Peak Saturday", Hours: []string{"10:00-14:00"}},
			{Date: "2026-12-28", Hours: []string{"09:00-12:00"}}, // reopens the Boxing Day substitute
		},
	})
	cases := []addCase{
		// Wed 23 Dec 17:00 1h; Thu 24 closure; Fri 25, weekend; Mon 28 special
		// 09:00–12:00: 09:00 + 1h.
		{"closure then special on holiday", "", "2026-12-23T17:00:00Z", 2 * time.Hour, "2026-12-28T10:00:00Z"},
		// Mon 28 Dec 11:00 + 2h: 1h to 12:00; Tue 29 09:00 + 1h.
		{"special closes early", "", "2026-12-28T11:00:00Z", 2 * time.Hour, "2026-12-29T10:00:00Z"},
		// Thu 31 Dec 12:00 + 2h: 1h to 13:00; 1 Jan holiday, weekend; Mon 4 Jan 10:00.
		{"New Year's Eve special", "", "2026-12-31T12:00:00Z", 2 * time.Hour, "2027-01-04T10:00:00Z"},
		// Fri 18 Dec 17:00 + 2h: 1h Fri; Sat 19 special 10:00 + 1h = 11:00.
		{"special Saturday", "", "2026-12-18T17:00:00Z", 2 * time.Hour, "2026-12-19T11:00:00Z"},
		// Fri 7 Aug 17:00 BST (16:00Z) 1h; 10–14 Aug closed; Mon 17 Aug 09:00 BST
		// (08:00Z) + 1h = 09:00Z.
		{"closure range", "", "2026-08-07T16:00:00Z", 2 * time.Hour, "2026-08-17T09:00:00Z"},
	}
	for _, tc := range cases {
		if got := c.Add(utc(tc.from), tc.d); !got.Equal(utc(tc.want)) {
			t.Errorf("%s: Add = %s, want %s", tc.name, got.UTC(), tc.want)
		}
	}
	// Sat 19 Dec is open 10:00–14:00 only: 4h that weekend.
	if got := c.Between(utc("2026-12-19T00:00:00Z"), utc("2026-12-21T00:00:00Z")); got != 4*time.Hour {
		t.Errorf("special Saturday weekend = %v", got)
	}
	for _, tc := range []struct {
		date, holiday, special string
	}{
		{"2026-12-24", "Christmas Eve", ""},
		{"2026-12-25", "Christmas Day", ""},
		{"2026-12-26", "Boxing Day", ""},
		{"2026-12-28", "Boxing Day (substitute day)", "Special hours"},
		{"2026-12-19", "", "Peak Saturday"},
		{"2026-08-12", "Office move", ""},
		{"2026-12-29", "", ""},
	} {
		day, _ := time.Parse(time.DateOnly, tc.date)
		h, ok := c.HolidayName(day)
		if h != tc.holiday || ok != (tc.holiday != "") {
			t.Errorf("HolidayName(%s) = %q, %v; want %q", tc.date, h, ok, tc.holiday)
		}
		s, ok := c.SpecialName(day)
		if s != tc.special || ok != (tc.special != "") {
			t.Errorf("SpecialName(%s) = %q, %v; want %q", tc.date, s, ok, tc.special)
		}
	}
}

// TestHolidayLibrary pins the dates rickar/cal/v2 gives for the demo markets.
func TestHolidayLibrary(t *testing.T) {
	cases := []struct {
		cal, date, name string // name "" = not a holiday
	}{
		{"GB", "2026-01-01", "New Year's Day"},
		{"GB", "2026-04-03", "Good Friday"},
		{"GB", "2026-04-06", "Easter Monday"},
		{"GB", "2026-05-04", "Early May"},
		{"GB", "2026-05-25", "Spring Bank Holiday"},
		{"GB", "2026-08-31", "Summer Bank Holiday"},
		{"GB", "2026-12-25", "Christmas Day"},
		{"GB", "2026-12-26", "Boxing Day"},
		{"GB", "2026-12-28", "Boxing Day (substitute day)"},
		{"GB", "2026-12-24", ""},
		{"GB", "2027-01-01", "New Year's Day"},
		{"DE", "2026-04-03", "Karfreitag"},
		{"DE", "2026-04-06", "Ostermontag"},
		{"DE", "2026-05-01", "Tag der Arbeit"},
		{"DE", "2026-10-03", "Tag der Deutschen Einheit"},
		{"DE", "2026-12-25", "Weihnachtstag"},
		{"DE", "2026-12-26", "Zweiter Weihnachtsfeiertag"},
		{"DE", "2026-12-28", ""}, // no substitute days in Germany
		{"DE", "2027-01-01", "Neujahrstag"},
		{"DE", "2026-03-08", "Frauentag"}, // Berlin only
		{"US", "2026-07-03", "Independence Day (observed)"},
		{"US", "2026-07-04", "Independence Day"},
		{"US", "2026-11-26", "Thanksgiving Day"},
		{"US", "2026-11-27", ""},
		{"US", "2026-12-25", "Christmas Day"},
		{"US", "2021-12-31", "New Year's Day (observed)"}, // 1 Jan 2022 was a Saturday
		{"IE", "2026-03-17", "Saint Patrick's Day"},
		{"IE", "2026-02-02", "Saint Brigid’s Day"},
		{"IE", "2026-04-03", ""}, // Good Friday is not a public holiday in Ireland
		{"FR", "2026-07-14", "Fête Nationale"},
		{"NL", "2026-04-27", "Koningsdag"},
		{"PL", "2026-11-11", "Narodowe Święto Niepodległości"},
		{"BE", "2026-07-21", "Nationale Feestdag"},
		{"IT", "2026-06-02", "Festa della Repubblica"},
		{"ES", "2026-10-12", "Fiesta Nacional de España"},
	}
	cals := map[string]*Calendar{}
	for _, tc := range cases {
		c := cals[tc.cal]
		if c == nil {
			c = demo(t, tc.cal)
			cals[tc.cal] = c
		}
		day, _ := time.Parse(time.DateOnly, tc.date)
		name, ok := c.HolidayName(day)
		if name != tc.name || ok != (tc.name != "") {
			t.Errorf("%s %s: HolidayName = %q, %v; want %q", tc.cal, tc.date, name, ok, tc.name)
		}
	}
	// A date given in another zone is read as written.
	la, _ := time.LoadLocation("America/Los_Angeles")
	if _, ok := demo(t, "GB").HolidayName(time.Date(2026, 12, 25, 0, 0, 0, 0, la)); !ok {
		t.Error("HolidayName should read the date in day's own location")
	}
}

func TestDemoSpecs(t *testing.T) {
	specs := DemoSpecs()
	want := map[string]string{
		"GB": "Europe/London", "IE": "Europe/Dublin", "DE": "Europe/Berlin", "FR": "Europe/Paris",
		"IT": "Europe/Rome", "ES": "Europe/Madrid", "NL": "Europe/Amsterdam", "PL": "Europe/Warsaw",
		"BE": "Europe/Brussels", "US": "America/Los_Angeles", "emergency": "UTC",
	}
	if len(specs) != len(want) {
		t.Fatalf("%d specs, want %d", len(specs), len(want))
	}
	for _, s := range specs {
		if errs := s.Validate(); errs != nil {
			t.Errorf("%s: %v", s.Key, errs)
		}
		if want[s.Key] != s.Timezone {
			t.Errorf("%s: timezone %q, want %q", s.Key, s.Timezone, want[s.Key])
		}
		c := MustCompile(s)
		if c.Location().String() != s.Timezone {
			t.Errorf("%s: location %v", s.Key, c.Location())
		}
		if s.Key == "emergency" {
			if !c.Always() {
				t.Error("emergency is not 24/7")
			}
			continue
		}
		// A week with no holidays (Mon 2 – Mon 9 Mar 2026, local midnights) is 45h.
		y := 2026
		from := time.Date(y, 3, 2, 0, 0, 0, 0, c.Location())
		if got := c.Between(from, from.AddDate(0, 0, 7)); got != 45*time.Hour {
			t.Errorf("%s: week = %v, want 45h", s.Key, got)
		}
		if s.Holidays == "" {
			t.Errorf("%s: no holidays", s.Key)
		}
	}
}

func TestClosureNames(t *testing.T) {
	c := mustCompile(t, CalendarSpec{Key: "x", Timezone: "Europe/London", Holidays: "GB-ENG",
		Hours: map[string][]string{"mon": {"09:00-18:00"}},
		Closures: []Closure{
			{Date: "2026-12-25"},                   // unnamed, on a holiday: the holiday's name
			{Date: "2026-11-02"},                   // unnamed: "Closed"
			{Date: "2026-12-31", Name: "Shutdown"}, // named, twice (range below)
			{From: "2026-12-30", To: "2026-12-31", Name: "Shutdown"},
			{Date: "2027-01-01", Name: "Shutdown"}, // named, on a holiday
		}})
	for date, want := range map[string]string{
		"2026-12-25": "Christmas Day", "2026-11-02": "Closed", "2026-12-31": "Shutdown",
		"2026-12-30": "Shutdown", "2027-01-01": "New Year's Day / Shutdown",
	} {
		day, _ := time.Parse(time.DateOnly, date)
		if got, ok := c.HolidayName(day); !ok || got != want {
			t.Errorf("HolidayName(%s) = %q, %v; want %q", date, got, ok, want)
		}
	}
}

func TestHugeDurations(t *testing.T) {
	c := demo(t, "GB")
	from := utc("2026-03-02T10:00:00Z")
	// 300 years of elapsed time: split internally, no overflow. Bound it by
	// 45h a week × 300 years.
	to := from.AddDate(300, 0, 0)
	if got := c.Between(from, to); got <= 0 || got > 300*53*45*time.Hour {
		t.Errorf("Between over 300 years = %v", got)
	}
	// Far more business time than 250 years hold: saturates, does not loop for ever.
	if got := c.Add(from, time.Duration(math.MaxInt64)); !got.Equal(from.Add(math.MaxInt64)) {
		t.Errorf("Add(max) = %v", got)
	}
}
