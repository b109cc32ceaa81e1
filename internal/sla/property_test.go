package sla

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

// ref is a deliberately naive calendar: it reads every instant through
// time.Time.In and the spec's own strings. The compiled Calendar must agree
// with it instant by instant.
type ref struct {
	loc     *time.Location
	always  bool
	weekly  [7][]window
	closed  map[string]bool // holidays and closures, "2006-01-02"
	special map[string][]window
}

func newRef(t *testing.T, s CalendarSpec) *ref {
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil {
		t.Fatal(err)
	}
	r := &ref{loc: loc, always: s.Always, closed: map[string]bool{}, special: map[string][]window{}}
	parse := func(list []string) []window {
		var out []window
		for _, v := range list {
			w, msg := parseWindow(v)
			if msg != "" {
				t.Fatal(msg)
			}
			out = append(out, w)
		}
		return out
	}
	for k, v := range s.Hours {
		r.weekly[dayKey[k]] = parse(v)
	}
	if s.Holidays != "" {
		for _, h := range regionLists[s.Holidays].list {
			for y := FirstYear - 1; y <= LastYear+1; y++ {
				act, obs := h.Calc(y)
				for _, d := range []time.Time{act, obs} {
					if !d.IsZero() && d.Year() >= FirstYear && d.Year() <= LastYear {
						r.closed[d.Format(time.DateOnly)] = true
					}
				}
			}
		}
	}
	for _, c := range s.Closures {
		if c.Date != "" {
			r.closed[c.Date] = true
			continue
		}
		from, _ := time.Parse(time.DateOnly, c.From)
		to, _ := time.Parse(time.DateOnly, c.To)
		for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
			r.closed[d.Format(time.DateOnly)] = true
		}
	}
	for _, sp := range s.Special {
		r.special[sp.Date] = parse(sp.Hours)
	}
	return r
}

func (r *ref) open(t time.Time) bool {
	lt := t.In(r.loc)
	date := lt.Format(time.DateOnly)
	h, m, sec := lt.Clock()
	sod := int32(h*3600 + m*60 + sec)
	wins, ok := r.special[date]
	if !ok {
		if r.closed[date] {
			return false
		}
		if r.always {
			return true
		}
		wins = r.weekly[lt.Weekday()]
	}
	for _, w := range wins {
		if w.s <= sod && sod < w.e {
			return true
		}
	}
	return false
}

// brute counts open minutes in [a, b); a and b are whole minutes and every
// window edge and zone change used here is on a whole minute.
func (r *ref) between(a, b time.Time) time.Duration {
	var n time.Duration
	for t := a; t.Before(b); t = t.Add(time.Minute) {
		if r.open(t) {
			n += time.Minute
		}
	}
	return n
}

var propZones = []string{
	"Europe/London", "Europe/Berlin", "America/Los_Angeles", "UTC", "Europe/Dublin",
	"Australia/Lord_Howe",                                // 30-minute DST shift at 02:00
	"America/Havana",                                     // switches at midnight: 00:00 does not exist on the spring day
	"America/St_Johns", "Asia/Kathmandu", "Pacific/Apia", // Apia skipped 30 Dec 2011 entirely
	"Pacific/Chatham", "America/Santiago",
}

// anchors are instants near interesting local times (DST switches, year
// ends, Easter, the Apia date-line jump).
var anchors = []string{
	"2026-03-08T10:00:00Z", "2026-11-01T09:00:00Z", // US
	"2026-03-29T01:00:00Z", "2026-10-25T01:00:00Z", // EU
	"2026-04-05T00:00:00Z", "2026-10-04T00:00:00Z", // Lord Howe, southern hemisphere
	"2026-03-08T05:00:00Z", "2026-11-01T05:00:00Z", // Havana
	"2026-04-04T12:00:00Z", "2026-12-25T00:00:00Z", "2026-12-31T23:00:00Z",
	"2011-12-30T10:00:00Z", "2026-06-15T12:00:00Z",
}

func randWindows(rng *rand.Rand) []string {
	fm := func(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }
	switch rng.IntN(8) {
	case 0:
		return nil
	case 1:
		return []string{"00:00-24:00"}
	case 2:
		return []string{"09:00-18:00"}
	case 3: // around the usual switch hours
		s := rng.IntN(5) * 30
		return []string{fm(s) + "-" + fm(s+30+rng.IntN(6)*30)}
	case 4: // evening to midnight and early morning
		return []string{"00:00-" + fm(60+rng.IntN(6)*60), fm(18*60+rng.IntN(5)*60) + "-24:00"}
	}
	// 1–3 random windows with minute edges
	n := 1 + rng.IntN(3)
	pts := map[int]bool{}
	for len(pts) < 2*n {
		pts[rng.IntN(1441)] = true
	}
	var ms []int
	for m := range pts {
		ms = append(ms, m)
	}
	sortInts(ms)
	var out []string
	for i := 0; i < len(ms); i += 2 {
		out = append(out, fm(ms[i])+"-"+fm(ms[i+1]))
	}
	return out
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func randSpec(rng *rand.Rand) CalendarSpec {
	for {
		s := CalendarSpec{Key: "p", Timezone: propZones[rng.IntN(len(propZones))]}
		if rng.IntN(6) == 0 {
			s.Always = true
		} else {
			s.Hours = map[string][]string{}
			for _, d := range dayOrder {
				if w := randWindows(rng); len(w) > 0 {
					s.Hours[d] = w
				}
			}
			if len(s.Hours) == 0 {
				continue
			}
		}
		regions := []string{"", "", "GB-ENG", "DE-BY", "US", "IE", "NL"}
		s.Holidays = regions[rng.IntN(len(regions))]
		used := map[string]bool{}
		for range rng.IntN(4) {
			a, _ := time.Parse(time.RFC3339, anchors[rng.IntN(len(anchors))])
			d := a.AddDate(0, 0, rng.IntN(7)-3).Format(time.DateOnly)
			if used[d] {
				continue
			}
			used[d] = true
			if rng.IntN(2) == 0 {
				s.Closures = append(s.Closures, Closure{Date: d})
			} else {
				w := randWindows(rng)
				if len(w) == 0 {
					w = []string{"10:00-12:00"}
				}
				s.Special = append(s.Special, SpecialHours{Date: d, Hours: w})
			}
		}
		if s.Validate() != nil {
			panic(fmt.Sprint(s, s.Validate()))
		}
		return s
	}
}

func randInstant(rng *rand.Rand, minute bool) time.Time {
	a, _ := time.Parse(time.RFC3339, anchors[rng.IntN(len(anchors))])
	t := a.Add(time.Duration(rng.IntN(6*24*60)-3*24*60) * time.Minute)
	if !minute {
		t = t.Add(time.Duration(rng.Int64N(int64(time.Minute))))
	}
	return t
}

var (
	yearLo = time.Date(FirstYear, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	yearHi = time.Date(LastYear+20, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
)

func propSeed() uint64 {
	if v := os.Getenv("SLA_PROP_SEED"); v != "" {
		n, _ := strconv.ParseUint(v, 10, 64)
		return n
	}
	return 20260329
}

// TestAgainstReference compares the compiled calendar with the naive one on
// random calendars around DST switches, year ends and holidays.
func TestAgainstReference(t *testing.T) {
	seed := propSeed()
	rng := rand.New(rand.NewPCG(seed, 1))
	n := 60
	if testing.Short() {
		n = 15
	}
	for i := range n {
		spec := randSpec(rng)
		c := mustCompile(t, spec)
		r := newRef(t, spec)
		fail := func(format string, a ...any) {
			t.Helper()
			t.Fatalf("seed %d calendar %d %+v: %s", seed, i, spec, fmt.Sprintf(format, a...))
		}
		for range 300 {
			at := randInstant(rng, false)
			if c.IsOpen(at) != r.open(at) {
				fail("IsOpen(%s) = %v", at.UTC(), c.IsOpen(at))
			}
		}
		// Anywhere in the years the tables cover, and a little beyond.
		for range 300 {
			at := time.Unix(yearLo+rng.Int64N(yearHi-yearLo), rng.Int64N(1e9))
			if c.IsOpen(at) != r.open(at) {
				fail("IsOpen(%s) = %v", at.UTC(), c.IsOpen(at))
			}
		}
		for range 12 {
			a := randInstant(rng, true)
			b := a.Add(time.Duration(rng.IntN(3*24*60)) * time.Minute)
			want := r.between(a, b)
			if got := c.Between(a, b); got != want {
				fail("Between(%s, %s) = %v, want %v", a.UTC(), b.UTC(), got, want)
			}
			// Add of a whole number of minutes lands where the brute count says.
			if want > 0 {
				d := time.Duration(1+rng.Int64N(int64(want/time.Minute))) * time.Minute
				x := c.Add(a, d)
				if got := r.between(a, x); got != d {
					fail("Add(%s, %v) = %s: brute Between = %v", a.UTC(), d, x.UTC(), got)
				}
				if r.between(a, x.Add(-time.Minute)) >= d {
					fail("Add(%s, %v) = %s is not the earliest", a.UTC(), d, x.UTC())
				}
			}
			no := c.NextOpen(a)
			if !r.open(no) || r.between(a, no) != 0 {
				fail("NextOpen(%s) = %s", a.UTC(), no.UTC())
			}
		}
	}
}

// TestProperties checks the algebra on random calendars and sub-second
// instants.
func TestProperties(t *testing.T) {
	seed := propSeed()
	rng := rand.New(rand.NewPCG(seed, 2))
	for i := range 200 {
		spec := randSpec(rng)
		c := mustCompile(t, spec)
		fail := func(format string, a ...any) {
			t.Helper()
			t.Fatalf("seed %d calendar %d %+v: %s", seed, i, spec, fmt.Sprintf(format, a...))
		}
		for range 50 {
			a := randInstant(rng, false)
			b := a.Add(time.Duration(rng.Int64N(int64(96 * time.Hour))))
			cc := b.Add(time.Duration(rng.Int64N(int64(96 * time.Hour))))
			ab, bc, ac := c.Between(a, b), c.Between(b, cc), c.Between(a, cc)
			if ab+bc != ac {
				fail("Between not additive: %v + %v != %v (%s %s %s)", ab, bc, ac, a, b, cc)
			}
			if ab < 0 || ab > b.Sub(a) {
				fail("Between(%s, %s) = %v out of [0, %v]", a, b, ab, b.Sub(a))
			}
			if c.Between(b, a) != 0 && b.After(a) {
				fail("Between reversed != 0")
			}
			if spec.Always && spec.Holidays == "" && len(spec.Closures) == 0 && len(spec.Special) == 0 {
				if ab != b.Sub(a) || !c.Add(a, ab).Equal(b) {
					fail("24/7 is not plain time")
				}
			}
			d1 := time.Duration(rng.Int64N(int64(40 * time.Hour)))
			d2 := d1 + time.Duration(rng.Int64N(int64(40*time.Hour)))
			x1, x2 := c.Add(a, d1), c.Add(a, d2)
			if x2.Before(x1) || x1.Before(a) {
				fail("Add not monotonic: Add(%s, %v) = %s, Add(.., %v) = %s", a, d1, x1, d2, x2)
			}
			if got := c.Between(a, x1); got != d1 {
				fail("Between(a, Add(a, %v)) = %v (a = %s, Add = %s)", d1, got, a, x1)
			}
			if got := c.Between(c.NextOpen(a), x2); got != d2 {
				fail("Between(NextOpen(a), Add(a, %v)) = %v", d2, got)
			}
			if d1 > 0 && c.Between(a, x1.Add(-time.Nanosecond)) >= d1 {
				fail("Add(%s, %v) = %s is not the earliest instant", a, d1, x1)
			}
			// Add composes: adding d1 then the rest gives the same instant.
			if y := c.Add(x1, d2-d1); !y.Equal(x2) && d2 > d1 {
				fail("Add(Add(a, d1), d2-d1) = %s, Add(a, d2) = %s", y, x2)
			}
			if c.IsOpen(a) != c.NextOpen(a).Equal(a) {
				fail("IsOpen(%s) = %v but NextOpen = %s", a, c.IsOpen(a), c.NextOpen(a))
			}
		}
	}
}

// TestFarInstants: outside the tabulated years the zone comes from the time
// package and there are no holidays; nothing breaks.
func TestFarInstants(t *testing.T) {
	c := demo(t, "GB")
	for _, at := range []string{"1900-03-05T10:00:00Z", "1969-12-31T17:30:00Z", "2230-06-03T12:00:00Z", "2262-01-01T10:00:00Z"} {
		a := utc(at)
		x := c.Add(a, 20*time.Hour)
		if got := c.Between(a, x); got != 20*time.Hour {
			t.Errorf("%s: Between(a, Add(a, 20h)) = %v", at, got)
		}
		if !c.IsOpen(c.NextOpen(a)) {
			t.Errorf("%s: NextOpen not open", at)
		}
	}
	// Mon 5 Jun 2045 08:30Z is 09:30 BST: open. (Past 2037 London's offsets
	// come from the zone's TZ rule; see offsetSpan.)
	if !c.IsOpen(utc("2045-06-05T08:30:00Z")) || c.IsOpen(utc("2045-06-05T07:30:00Z")) {
		t.Error("2045: BST not applied")
	}
	// Mon 25 Dec 2045 is Christmas Day; Tue 26 Boxing Day: Fri 22 Dec 17:00 GMT
	// + 2h → 1h Fri, Wed 27 Dec 09:00 + 1h.
	if got, want := c.Add(utc("2045-12-22T17:00:00Z"), 2*time.Hour), utc("2045-12-27T10:00:00Z"); !got.Equal(want) {
		t.Errorf("2045 Christmas: got %s want %s", got.UTC(), want)
	}
	// 1969-12-31 was a Wednesday: 17:30 GMT… but in 1969 the UK was on British
	// Standard Time (UTC+1 all year), so 17:30Z is 18:30 local: closed.
	if c.IsOpen(utc("1969-12-31T17:30:00Z")) {
		t.Error("1969-12-31T17:30Z should be 18:30 BST (British Standard Time), closed")
	}
}

// TestZoneTable: the precomputed offsets agree with the time package at
// random instants from 1900 to 2300 (both inside and outside the table) and
// right around every tabulated change.
func TestZoneTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(propSeed(), 3))
	lo := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for _, name := range append(propZones, "Europe/Paris", "Europe/Rome", "Europe/Madrid", "Europe/Amsterdam", "Europe/Warsaw", "Europe/Brussels") {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		z := zoneTableFor(loc)
		check := func(u int64) {
			var s zspan
			z.lookup(u, &s)
			_, want := time.Unix(u, 0).In(loc).Zone()
			if s.off != int64(want) || u < s.start || u >= s.end {
				t.Fatalf("%s at %s: offset %d span [%d, %d), want offset %d", name, time.Unix(u, 0).UTC(), s.off, s.start, s.end, want)
			}
		}
		for range 20000 {
			check(lo + rng.Int64N(hi-lo))
		}
		for _, u := range z.starts[1:] {
			check(u - 1)
			check(u)
		}
		// Sequential walk through the rule-based years past the table: one
		// cached span after another, as Add and Between use them.
		var s zspan
		for u := z.hi - 86400; u < z.hi+3*366*86400; u += 3600 {
			z.lookup(u, &s)
			if _, want := time.Unix(u, 0).In(loc).Zone(); s.off != int64(want) {
				t.Fatalf("%s walk at %s: offset %d, want %d", name, time.Unix(u, 0).UTC(), s.off, want)
			}
		}
	}
}
