package rota

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func plan(t *testing.T, s Schedule) *Plan {
	t.Helper()
	if s.Team == "" {
		s.Team = "t"
	}
	p, errs := Compile("oncall[0]", s)
	if len(errs) > 0 {
		t.Fatalf("compile: %v", errs)
	}
	return p
}

// who is on call at each instant, as "person" or "" (nobody).
func checkWho(t *testing.T, p *Plan, extra []Cover, want map[string]string) {
	t.Helper()
	for at, person := range want {
		if got := p.Person(utc(at), extra); got != person {
			t.Errorf("at %s: %q on call, want %q", at, got, person)
		}
		cur, _ := p.At(utc(at), extra)
		switch {
		case person == "" && cur != nil:
			t.Errorf("at %s: At gives %+v in a hole", at, cur)
		case person != "" && (cur == nil || cur.Person != person):
			t.Errorf("at %s: At gives %+v, want %s", at, cur, person)
		}
	}
}

func daily(people ...string) Layer {
	return Layer{Name: "EMEA", Rotation: Daily, Timezone: "Europe/London", Start: "2026-01-05", Handoff: "09:00", Participants: people}
}

func TestWallClockAcrossClockChanges(t *testing.T) {
	london, _ := time.LoadLocation("Europe/London")
	la, _ := time.LoadLocation("America/Los_Angeles")
	for _, c := range []struct {
		loc        *time.Location
		y          int
		m          time.Month
		d, h, min  int
		want, note string
	}{
		// The clocks skip 01:00–02:00 in London and 02:00–03:00 in Los
		// Angeles: a time they skip happens when they resume, whichever way
		// Go's time.Date leans.
		{london, 2026, 3, 29, 1, 30, "2026-03-29T01:00:00Z", "London spring gap"},
		{london, 2026, 3, 29, 1, 0, "2026-03-29T01:00:00Z", "London spring gap start"},
		{la, 2026, 3, 8, 2, 30, "2026-03-08T10:00:00Z", "LA spring gap"},
		{la, 2026, 3, 8, 2, 0, "2026-03-08T10:00:00Z", "LA spring gap start"},
		// A time that happens twice happens the first time.
		{london, 2026, 10, 25, 1, 30, "2026-10-25T00:30:00Z", "London autumn repeat"},
		{la, 2026, 11, 1, 1, 30, "2026-11-01T08:30:00Z", "LA autumn repeat"},
		// Ordinary times.
		{london, 2026, 3, 29, 9, 0, "2026-03-29T08:00:00Z", "London summer"},
		{la, 2026, 11, 1, 9, 0, "2026-11-01T17:00:00Z", "LA winter"},
		{london, 2026, 10, 25, 2, 0, "2026-10-25T02:00:00Z", "London after the repeat"},
	} {
		got := wall(c.y, c.m, c.d, c.h*3600+c.min*60, c.loc)
		if !got.Equal(utc(c.want)) {
			t.Errorf("%s: %s, want %s", c.note, got.UTC().Format(time.RFC3339), c.want)
		}
	}
}

func TestDailyRotation(t *testing.T) {
	p := plan(t, Schedule{Layers: []Layer{daily("a@x", "b@x", "c@x")}})
	checkWho(t, p, nil, map[string]string{
		"2026-01-05T08:59:59Z": "", // before the first turn
		"2026-01-05T09:00:00Z": "a@x",
		"2026-01-06T08:59:59Z": "a@x",
		"2026-01-06T09:00:00Z": "b@x",
		"2026-01-07T12:00:00Z": "c@x",
		"2026-01-08T09:00:00Z": "a@x",
		// The hand-off stays at 09:00 in London: 08:00 UTC in summer.
		"2026-07-01T07:59:00Z": p.layers[0].person(176),
		"2026-07-01T08:00:00Z": p.layers[0].person(177),
	})
	cur, next := p.At(utc("2026-01-06T12:00:00Z"), nil)
	if cur.Turn != 1 || !cur.Start.Equal(utc("2026-01-06T09:00:00Z")) || !cur.End.Equal(utc("2026-01-07T09:00:00Z")) ||
		cur.Source != SourceLayer || cur.Layer != "EMEA" || cur.LayerIndex != 0 {
		t.Errorf("current shift %+v", cur)
	}
	if next == nil || next.Person != "c@x" || !next.Start.Equal(cur.End) {
		t.Errorf("next shift %+v", next)
	}
}

// turnOf is the turn of layer i under way at t, as its hand-off instants.
func turnOf(t *testing.T, p *Plan, at string) (start, end string) {
	t.Helper()
	cur, _ := p.At(utc(at), nil)
	if cur == nil || cur.TurnStart == nil {
		t.Fatalf("no turn at %s", at)
	}
	return cur.TurnStart.Format(time.RFC3339), cur.TurnEnd.Format(time.RFC3339)
}

// Turns keep their wall-clock hand-off across both clock changes in both
// zones: a weekly turn over a change is 167 or 169 hours, a daily one 23 or
// 25.
func TestRotationsAcrossClockChanges(t *testing.T) {
	weekly := func(zone, start string) *Plan {
		return plan(t, Schedule{Layers: []Layer{{Name: "W", Rotation: Weekly, Timezone: zone, Start: start,
			Handoff: "09:00", Participants: []string{"a@x", "b@x"}}}})
	}
	dailyIn := func(zone string) *Plan {
		return plan(t, Schedule{Layers: []Layer{{Name: "D", Rotation: Daily, Timezone: zone, Start: "2026-01-01",
			Handoff: "09:00", Participants: []string{"a@x", "b@x"}}}})
	}
	for _, c := range []struct {
		name       string
		p          *Plan
		at         string
		start, end string
		hours      float64
	}{
		{"London weekly, spring", weekly("Europe/London", "2026-03-02"), "2026-03-29T12:00:00Z", "2026-03-23T09:00:00Z", "2026-03-30T08:00:00Z", 167},
		{"London weekly, autumn", weekly("Europe/London", "2026-03-02"), "2026-10-25T12:00:00Z", "2026-10-19T08:00:00Z", "2026-10-26T09:00:00Z", 169},
		{"LA weekly, spring", weekly("America/Los_Angeles", "2026-03-02"), "2026-03-08T12:00:00Z", "2026-03-02T17:00:00Z", "2026-03-09T16:00:00Z", 167},
		{"LA weekly, autumn", weekly("America/Los_Angeles", "2026-03-02"), "2026-11-01T12:00:00Z", "2026-10-26T16:00:00Z", "2026-11-02T17:00:00Z", 169},
		{"London daily, spring", dailyIn("Europe/London"), "2026-03-29T03:00:00Z", "2026-03-28T09:00:00Z", "2026-03-29T08:00:00Z", 23},
		{"London daily, autumn", dailyIn("Europe/London"), "2026-10-25T03:00:00Z", "2026-10-24T08:00:00Z", "2026-10-25T09:00:00Z", 25},
		{"LA daily, spring", dailyIn("America/Los_Angeles"), "2026-03-08T12:00:00Z", "2026-03-07T17:00:00Z", "2026-03-08T16:00:00Z", 23},
		{"LA daily, autumn", dailyIn("America/Los_Angeles"), "2026-11-01T12:00:00Z", "2026-10-31T16:00:00Z", "2026-11-01T17:00:00Z", 25},
	} {
		s, e := turnOf(t, c.p, c.at)
		if s != c.start || e != c.end {
			t.Errorf("%s: turn %s → %s, want %s → %s", c.name, s, e, c.start, c.end)
		}
		if h := utc(e).Sub(utc(s)).Hours(); h != c.hours {
			t.Errorf("%s: %v hours, want %v", c.name, h, c.hours)
		}
	}
}

func TestCustomLengths(t *testing.T) {
	twelve := plan(t, Schedule{Layers: []Layer{{Name: "H", Rotation: Custom, Length: "12h", Timezone: "Europe/London",
		Start: "2026-03-27", Handoff: "08:00", Participants: []string{"a@x", "b@x", "c@x"}}}})
	// Hand-offs at 08:00 and 20:00 London: the night turn over the spring
	// change is 11 hours.
	s, e := turnOf(t, twelve, "2026-03-29T03:00:00Z")
	if s != "2026-03-28T20:00:00Z" || e != "2026-03-29T07:00:00Z" {
		t.Errorf("12h turn over the change: %s → %s", s, e)
	}
	checkWho(t, twelve, nil, map[string]string{
		"2026-03-27T08:00:00Z": "a@x", "2026-03-27T20:00:00Z": "b@x", "2026-03-28T08:00:00Z": "c@x",
		"2026-03-28T20:00:00Z": "a@x", "2026-03-29T07:00:00Z": "b@x", "2026-03-29T19:00:00Z": "c@x",
	})
	three := plan(t, Schedule{Layers: []Layer{{Name: "D3", Rotation: Custom, Length: "3d", Timezone: "UTC",
		Start: "2026-01-01", Handoff: "00:00", Participants: []string{"a@x", "b@x"}}}})
	checkWho(t, three, nil, map[string]string{
		"2026-01-01T00:00:00Z": "a@x", "2026-01-03T23:59:59Z": "a@x", "2026-01-04T00:00:00Z": "b@x", "2026-01-07T00:00:00Z": "a@x",
	})
	two := plan(t, Schedule{Layers: []Layer{{Name: "W2", Rotation: Custom, Length: "2w", Timezone: "UTC",
		Start: "2026-01-05", Handoff: "09:00", Participants: []string{"a@x", "b@x"}}}})
	checkWho(t, two, nil, map[string]string{"2026-01-18T12:00:00Z": "a@x", "2026-01-19T09:00:00Z": "b@x"})
}

// A hand-off at a time the clocks skip happens when they resume; at a time
// they repeat, the first time.
func TestHandoffAtATimeTheClocksSkip(t *testing.T) {
	p := plan(t, Schedule{Layers: []Layer{{Name: "N", Rotation: Daily, Timezone: "Europe/London", Start: "2026-03-01",
		Handoff: "01:30", Participants: []string{"a@x", "b@x"}}}})
	if s, e := turnOf(t, p, "2026-03-29T00:45:00Z"); s != "2026-03-28T01:30:00Z" || e != "2026-03-29T01:00:00Z" {
		t.Errorf("spring: %s → %s", s, e)
	}
	if s, e := turnOf(t, p, "2026-10-25T00:45:00Z"); s != "2026-10-25T00:30:00Z" || e != "2026-10-26T01:30:00Z" {
		t.Errorf("autumn: %s → %s", s, e)
	}
	// Hourly turns: the skipped hour's turn is passed over, nobody loses cover.
	hourly := plan(t, Schedule{Layers: []Layer{{Name: "H", Rotation: Custom, Length: "1h", Timezone: "Europe/London",
		Start: "2026-03-29", Handoff: "00:00", Participants: []string{"a@x", "b@x", "c@x"}}}})
	shifts, gaps := hourly.Shifts(utc("2026-03-29T00:00:00Z"), utc("2026-03-29T03:00:00Z"), nil)
	if len(gaps) != 0 || len(shifts) != 3 || shifts[1].Turn != 2 || !shifts[1].Start.Equal(utc("2026-03-29T01:00:00Z")) {
		t.Errorf("hourly over the gap: %+v gaps %v", shifts, gaps)
	}
}

// emea and us are the two halves of follow-the-sun: Europe by day in
// London (on top: it wins where they overlap), the US for the rest of the
// day in Los Angeles.
func followTheSun(usWindow string) Schedule {
	return Schedule{Layers: []Layer{
		{Name: "US", Rotation: Weekly, Timezone: "America/Los_Angeles", Start: "2026-01-05", Handoff: "10:00",
			Participants: []string{"us1@x", "us2@x"}, Window: usWindow},
		{Name: "EMEA", Rotation: Weekly, Timezone: "Europe/London", Start: "2026-01-05", Handoff: "07:00",
			Participants: []string{"eu1@x", "eu2@x", "eu3@x"}, Window: "07:00-19:00"},
	}}
}

func TestFollowTheSun(t *testing.T) {
	// Naively, 11:00-23:00 in Los Angeles meets 07:00-19:00 in London in
	// winter and summer, but not in the weeks the US changes its clocks and
	// the UK has not: a 06:00–07:00 UTC hole every day, 20 days in spring
	// and 8 in autumn.
	naive := plan(t, followTheSun("11:00-23:00"))
	from, to, gaps := naive.Shape()
	if !from.Equal(utc("2026-01-05T18:00:00Z")) || !to.Equal(from.AddDate(1, 0, 0)) {
		t.Errorf("shape %s → %s", from, to)
	}
	var spring, autumn int
	for _, g := range gaps {
		if g.Start.UTC().Hour() != 6 || g.End.Sub(g.Start) != time.Hour {
			t.Errorf("gap %s → %s", g.Start, g.End)
		}
		switch g.Start.Month() {
		case time.March:
			spring++
		case time.October, time.November:
			autumn++
		default:
			t.Errorf("gap in %s", g.Start)
		}
	}
	if spring != 20 || autumn != 8 || !gaps[0].Start.Equal(utc("2026-03-09T06:00:00Z")) ||
		!gaps[len(gaps)-1].Start.Equal(utc("2026-11-01T06:00:00Z")) {
		t.Errorf("%d spring and %d autumn gaps, first %v, last %v", spring, autumn, gaps[0], gaps[len(gaps)-1])
	}

	// Until midnight in Los Angeles, the US overlaps Europe at both ends all
	// year: one continuous schedule through all four clock changes.
	p := plan(t, followTheSun("10:00-24:00"))
	if _, _, gaps := p.Shape(); len(gaps) != 0 {
		t.Fatalf("gaps: %v", gaps)
	}
	for _, r := range [][2]string{{"2026-03-01T00:00:00Z", "2026-04-06T00:00:00Z"}, {"2026-10-18T00:00:00Z", "2026-11-09T00:00:00Z"}} {
		shifts, gaps := p.Shifts(utc(r[0]), utc(r[1]), nil)
		if len(gaps) != 0 {
			t.Errorf("gaps in %v: %v", r, gaps)
		}
		for i := 1; i < len(shifts); i++ {
			if !shifts[i].Start.Equal(shifts[i-1].End) {
				t.Errorf("shifts %v and %v do not meet", shifts[i-1], shifts[i])
			}
		}
	}
	layer := func(at string) string {
		cur, _ := p.At(utc(at), nil)
		return cur.Layer
	}
	for at, want := range map[string]string{
		"2026-01-14T07:00:00Z": "EMEA", // 07:00 GMT
		"2026-01-14T18:59:00Z": "EMEA",
		"2026-01-14T19:00:00Z": "US", // 11:00 PST
		"2026-01-15T06:59:00Z": "US",
		"2026-03-15T06:30:00Z": "US", // 23:30 PDT while London is still on GMT
		"2026-03-15T18:30:00Z": "EMEA",
		"2026-07-01T05:59:00Z": "US",   // 22:59 PDT
		"2026-07-01T06:00:00Z": "EMEA", // 07:00 BST
		"2026-07-01T18:00:00Z": "US",   // 19:00 BST, 11:00 PDT
		"2026-10-28T06:30:00Z": "US",   // London back on GMT, LA still on PDT
		"2026-10-28T07:00:00Z": "EMEA",
	} {
		if got := layer(at); got != want {
			t.Errorf("at %s: layer %s, want %s", at, got, want)
		}
	}
}

func TestOverridesWinOverLayers(t *testing.T) {
	p := plan(t, Schedule{Layers: []Layer{daily("a@x", "b@x")}})
	// c covers across the 09:00 hand-off from a to b: two shifts, each
	// saying whom it covers.
	extra := []Cover{{ID: "7", Person: "c@x", From: utc("2026-01-06T08:00:00Z"), To: utc("2026-01-06T10:00:00Z"), Reason: "swap"}}
	shifts, gaps := p.Shifts(utc("2026-01-06T00:00:00Z"), utc("2026-01-07T00:00:00Z"), extra)
	want := []string{"a@x layer 00:00-08:00", "c@x override covers a@x 08:00-09:00", "c@x override covers b@x 09:00-10:00",
		"b@x layer 10:00-00:00"}
	if len(gaps) != 0 || len(shifts) != len(want) {
		t.Fatalf("shifts %v gaps %v", shifts, gaps)
	}
	for i, s := range shifts {
		got := s.Person + " " + s.Source
		if s.Covers != "" {
			got += " covers " + s.Covers
		}
		got += " " + s.Start.Format("15:04") + "-" + s.End.Format("15:04")
		if got != want[i] {
			t.Errorf("shift %d: %s, want %s", i, got, want[i])
		}
	}
	if shifts[1].Override != "7" || shifts[1].Reason != "swap" || shifts[1].LayerIndex != -1 || shifts[1].Turn != -1 {
		t.Errorf("override shift %+v", shifts[1])
	}
	// Overlapping overrides: the later one wins; a standing one is below
	// those made in the API.
	q := plan(t, Schedule{Layers: []Layer{daily("a@x", "b@x")},
		Overrides: []Override{{Person: "d@x", From: "2026-01-06T07:00:00Z", To: "2026-01-06T12:00:00Z"}}})
	checkWho(t, q, extra, map[string]string{
		"2026-01-06T06:59:00Z": "a@x", "2026-01-06T07:00:00Z": "d@x", "2026-01-06T08:00:00Z": "c@x",
		"2026-01-06T10:00:00Z": "d@x", "2026-01-06T12:00:00Z": "b@x",
	})
	cur, _ := q.At(utc("2026-01-06T11:00:00Z"), extra)
	if cur.Override != "desk:0" || !cur.Start.Equal(utc("2026-01-06T10:00:00Z")) || !cur.End.Equal(utc("2026-01-06T12:00:00Z")) {
		t.Errorf("standing override shift %+v", cur)
	}
	// A team without a schedule has its overrides only.
	var none *Plan
	checkWho(t, none, extra, map[string]string{"2026-01-06T08:30:00Z": "c@x", "2026-01-06T10:30:00Z": ""})
	if sh, gaps := none.Shifts(utc("2026-01-06T00:00:00Z"), utc("2026-01-07T00:00:00Z"), extra); len(sh) != 1 || len(gaps) != 2 {
		t.Errorf("no schedule: %v %v", sh, gaps)
	}
}

func TestWindowsDaysAndGaps(t *testing.T) {
	// Business hours only: a team that allows gaps.
	office := Layer{Name: "Office", Rotation: Weekly, Timezone: "Europe/Berlin", Start: "2026-01-05", Handoff: "09:00",
		Participants: []string{"a@x", "b@x"}, Window: "09:00-17:00", Days: []string{"mon", "tue", "wed", "thu", "fri"}}
	p := plan(t, Schedule{Layers: []Layer{office}, AllowGaps: true})
	shifts, gaps := p.Shifts(utc("2026-01-12T00:00:00Z"), utc("2026-01-19T00:00:00Z"), nil)
	if len(shifts) != 5 || len(gaps) != 6 {
		t.Fatalf("%d shifts, %d gaps: %v %v", len(shifts), len(gaps), shifts, gaps)
	}
	if !shifts[0].Start.Equal(utc("2026-01-12T08:00:00Z")) || !shifts[0].End.Equal(utc("2026-01-12T16:00:00Z")) ||
		shifts[0].Person != "b@x" || shifts[0].Turn != 1 || !shifts[0].TurnStart.Equal(utc("2026-01-12T08:00:00Z")) {
		t.Errorf("monday %+v", shifts[0])
	}
	if weekend := gaps[len(gaps)-1]; !weekend.Start.Equal(utc("2026-01-16T16:00:00Z")) || !weekend.End.Equal(utc("2026-01-19T00:00:00Z")) {
		t.Errorf("weekend gap %v", weekend)
	}
	// A weekend layer of whole days on top of a weekday night layer that
	// crosses midnight.
	nights := Layer{Name: "Nights", Rotation: Daily, Timezone: "Europe/Berlin", Start: "2026-01-05", Handoff: "18:00",
		Participants: []string{"n@x"}, Window: "17:00-09:00"}
	weekend := Layer{Name: "Weekend", Rotation: Weekly, Timezone: "Europe/Berlin", Start: "2026-01-03", Handoff: "00:00",
		Participants: []string{"w@x"}, Days: []string{"sat", "sun"}}
	q := plan(t, Schedule{Layers: []Layer{office, nights, weekend}})
	if _, _, gaps := q.Shape(); len(gaps) != 0 {
		t.Errorf("gaps %v", gaps)
	}
	checkWho(t, q, nil, map[string]string{
		"2026-01-13T12:00:00Z": "b@x", "2026-01-13T16:30:00Z": "n@x", "2026-01-14T03:00:00Z": "n@x",
		"2026-01-17T12:00:00Z": "w@x", "2026-01-18T22:59:00Z": "w@x", "2026-01-18T23:00:00Z": "n@x",
	})
}

func TestShiftsRange(t *testing.T) {
	p := plan(t, Schedule{Layers: []Layer{daily("a@x", "b@x")}})
	shifts, _ := p.Shifts(utc("2026-02-01T12:00:00Z"), utc("2026-02-02T12:00:00Z"), nil)
	if len(shifts) != 2 || !shifts[0].Start.Equal(utc("2026-02-01T12:00:00Z")) || !shifts[1].End.Equal(utc("2026-02-02T12:00:00Z")) ||
		!shifts[0].TurnStart.Equal(utc("2026-02-01T09:00:00Z")) {
		t.Errorf("cut at the range: %+v", shifts)
	}
	if s, g := p.Shifts(utc("2026-02-02T00:00:00Z"), utc("2026-02-01T00:00:00Z"), nil); s != nil || g != nil {
		t.Errorf("empty range: %v %v", s, g)
	}
	shifts, _ = p.Shifts(utc("2026-02-01T09:00:00Z"), utc("2030-01-01T00:00:00Z"), nil)
	if last := shifts[len(shifts)-1].End; !last.Equal(utc("2026-02-01T09:00:00Z").Add(MaxRange)) {
		t.Errorf("a long range is cut at MaxRange: ends %s", last)
	}
}

func TestCompileErrors(t *testing.T) {
	bad := Schedule{Team: "t", Layers: []Layer{
		{Name: "", Rotation: "monthly", Timezone: "Mars/Olympus", Start: "2026-13-01", Handoff: "9am",
			Participants: []string{"a@x", ""}, Window: "07:00-07:00", Days: []string{"mon", "funday", "mon"}},
		{Name: "X", Rotation: Daily, Length: "2d", Timezone: "Local", Start: "1999-12-31", Handoff: "24:00"},
		{Name: "X", Rotation: Custom, Length: "5h", Timezone: "UTC", Start: "2026-01-01", Handoff: "00:00",
			Participants: []string{"a@x"}, Window: "24:00-06:00"},
		{Name: "Y", Rotation: Custom, Length: "29d", Timezone: "UTC", Start: "2026-01-01", Handoff: "00:00",
			Participants: []string{"a@x"}, Window: "00:00-24:00"},
	}, Overrides: []Override{
		{Person: "", From: "tomorrow", To: "2026-01-01T00:00:00Z"},
		{Person: "a@x", From: "2026-01-02T00:00:00Z", To: "2026-01-01T00:00:00Z"},
		{Person: "a@x", From: "2026-01-01T00:00:00Z", To: "2026-03-01T00:00:00Z"},
	}}
	_, errs := Compile("oncall[3]", bad)
	var got []string
	for _, e := range errs {
		got = append(got, e.Field)
	}
	want := []string{
		"oncall[3].layers[0].name", "oncall[3].layers[0].rotation", "oncall[3].layers[0].timezone", "oncall[3].layers[0].start",
		"oncall[3].layers[0].handoff", "oncall[3].layers[0].participants[1]", "oncall[3].layers[0].window",
		"oncall[3].layers[0].days[1]", "oncall[3].layers[0].days[2]",
		"oncall[3].layers[1].length", "oncall[3].layers[1].timezone", "oncall[3].layers[1].start", "oncall[3].layers[1].handoff",
		"oncall[3].layers[1].participants",
		"oncall[3].layers[2].length", "oncall[3].layers[2].window", "oncall[3].layers[2].name",
		"oncall[3].layers[3].length", "oncall[3].layers[3].window",
		"oncall[3].overrides[0].person", "oncall[3].overrides[0].from", "oncall[3].overrides[1].to", "oncall[3].overrides[2].to",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s\n(%v)", strings.Join(got, "\n"), strings.Join(want, "\n"), errs)
	}
	if _, errs := Compile("oncall[0]", Schedule{Team: "t"}); len(errs) != 1 || errs[0].Field != "oncall[0].layers" {
		t.Errorf("no layers: %v", errs)
	}
	var many Schedule
	for i := range MaxLayers + 1 {
		l := daily("a@x")
		l.Name = fmt.Sprint(i)
		many.Layers = append(many.Layers, l)
	}
	if _, errs := Compile("s", many); len(errs) != 1 || errs[0].Field != "s.layers" {
		t.Errorf("too many layers: %v", errs)
	}
}

func TestShiftsOfASchedule(t *testing.T) {
	shifts, gaps, err := Shifts(Schedule{Team: "t", Layers: []Layer{daily("a@x", "b@x")}}, nil,
		utc("2026-01-05T00:00:00Z"), utc("2026-01-06T12:00:00Z"))
	if err != nil || len(shifts) != 2 || len(gaps) != 1 || shifts[1].Person != "b@x" || !gaps[0].End.Equal(utc("2026-01-05T09:00:00Z")) {
		t.Errorf("%v %v %v", shifts, gaps, err)
	}
	if _, _, err := Shifts(Schedule{Team: "t"}, nil, utc("2026-01-05T00:00:00Z"), utc("2026-01-06T00:00:00Z")); err == nil ||
		!strings.Contains(err.Error(), "schedule.layers") {
		t.Errorf("a schedule without layers: %v", err)
	}
}
