package assign

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/sla"
)

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func weekdays(w string) map[string][]string {
	m := map[string][]string{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri"} {
		m[d] = []string{w}
	}
	return m
}

func mustAgent(t *testing.T, email string, p Profile, defaultZone string) Agent {
	t.Helper()
	a, err := NewAgent(email, nil, nil, p, defaultZone)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestEligibleRules(t *testing.T) {
	base := Agent{Email: "a@x.io"}
	gbLogistics := Case{Team: "logistics", Category: "logistics/lost_parcel", Market: "GB", Language: "en-GB", Priority: "P3"}
	now := utc("2026-03-06 12:00")
	tests := []struct {
		name  string
		agent func(a *Agent)
		c     Case
		want  Code // "" for eligible
		text  string
	}{
		{"no restrictions", func(a *Agent) {}, gbLogistics, "", ""},
		{"away", func(a *Agent) { a.Away = true }, gbLogistics, CodeAway, "away (out of office)"},
		{"away wins over other rules", func(a *Agent) { a.Away, a.Markets = true, []string{"DE"} }, gbLogistics, CodeAway, "away (out of office)"},
		{"member of the team", func(a *Agent) { a.Teams = []string{"payments", "logistics"} }, gbLogistics, "", ""},
		{"not a member", func(a *Agent) { a.Teams = []string{"payments"} }, gbLogistics, CodeTeam, "not a member of team logistics"},
		{"market covered", func(a *Agent) { a.Markets = []string{"IE", "GB"} }, gbLogistics, "", ""},
		{"market not covered", func(a *Agent) { a.Markets = []string{"DE", "FR"} }, gbLogistics, CodeMarket, "does not cover market GB"},
		{"case without market", func(a *Agent) { a.Markets = []string{"DE"} }, Case{Priority: "P3"}, "", ""},
		{"language by base tag", func(a *Agent) { a.Languages = []string{"de", "fr"} }, Case{Language: "fr-BE", Priority: "P3"}, "", ""},
		{"agent's regional tag fits the base", func(a *Agent) { a.Languages = []string{"fr-FR"} }, Case{Language: "fr", Priority: "P3"}, "", ""},
		{"language tags ignore case", func(a *Agent) { a.Languages = []string{"FR"} }, Case{Language: "fr-BE", Priority: "P3"}, "", ""},
		{"language not spoken", func(a *Agent) { a.Languages = []string{"en", "de"} }, Case{Language: "fr-BE", Priority: "P3"}, CodeLanguage, "does not speak fr-BE"},
		{"base tag is not a prefix match", func(a *Agent) { a.Languages = []string{"f"} }, Case{Language: "fr", Priority: "P3"}, CodeLanguage, "does not speak fr"},
		{"case without language", func(a *Agent) { a.Languages = []string{"de"} }, Case{Priority: "P3"}, "", ""},
		{"skill by group", func(a *Agent) { a.Skills = []string{"logistics/"} }, gbLogistics, "", ""},
		{"skill by key", func(a *Agent) { a.Skills = []string{"payments/refund", "logistics/lost_parcel"} }, gbLogistics, "", ""},
		{"other key in the group", func(a *Agent) { a.Skills = []string{"logistics/damaged"} }, gbLogistics, CodeSkill, "category logistics/lost_parcel is outside their skills"},
		{"group needs the slash", func(a *Agent) { a.Skills = []string{"logistics/"} }, Case{Category: "logistics_b2b/late", Priority: "P3"}, CodeSkill, "category logistics_b2b/late is outside their skills"},
		{"market checked before language", func(a *Agent) { a.Markets, a.Languages = []string{"DE"}, []string{"de"} }, gbLogistics, CodeMarket, "does not cover market GB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := base
			tt.agent(&a)
			ok, r := Eligible(a, tt.c, now, TeamSettings{})
			if ok != (tt.want == "") || r.Code != tt.want || r.Text != tt.text {
				t.Errorf("Eligible = %v, %+v; want code %q text %q", ok, r, tt.want, tt.text)
			}
		})
	}
}

func TestEligibleShift(t *testing.T) {
	la := Profile{Timezone: "America/Los_Angeles", Shifts: weekdays("09:00-17:00")}
	london := Profile{Shifts: weekdays("09:00-17:30")} // zone from the default
	usHolidays := Profile{Timezone: "America/Los_Angeles", Shifts: weekdays("09:00-17:00"), Holidays: "US"}
	tests := []struct {
		name  string
		p     Profile
		zone  string
		now   string
		until string // "" when on shift; else the next shift start in UTC
		text  string
	}{
		// Los Angeles: PST (UTC-8) until Sun 8 Mar 2026, then PDT (UTC-7).
		{"LA on shift 09:30 PST", la, "", "2026-03-06 17:30", "", ""},
		{"LA off 18:00 PST the evening before", la, "", "2026-03-06 02:00", "2026-03-06 17:00", "off shift until Fri 6 Mar 09:00 PST"},
		{"LA 08:30 PST is before the shift", la, "", "2026-03-06 16:30", "2026-03-06 17:00", "off shift until Fri 6 Mar 09:00 PST"},
		{"LA weekend, next shift after the switch", la, "", "2026-03-07 18:00", "2026-03-09 16:00", "off shift until Mon 9 Mar 09:00 PDT"},
		{"LA same UTC time is on shift after the switch", la, "", "2026-03-09 16:30", "", ""},
		{"LA 17:00 PDT ends the shift", la, "", "2026-03-10 00:00", "2026-03-10 16:00", "off shift until Tue 10 Mar 09:00 PDT"},
		{"LA the default zone does not override the profile's", la, "Europe/London", "2026-03-06 17:30", "", ""},
		// London: GMT until Sun 29 Mar 2026, then BST (UTC+1).
		{"London 08:30 GMT", london, "Europe/London", "2026-03-27 08:30", "2026-03-27 09:00", "off shift until Fri 27 Mar 09:00 GMT"},
		{"London 09:30 BST is 08:30 UTC", london, "Europe/London", "2026-03-30 08:30", "", ""},
		{"London weekend over the switch", london, "Europe/London", "2026-03-28 12:00", "2026-03-30 08:00", "off shift until Mon 30 Mar 09:00 BST"},
		{"London 17:30 BST is 16:30 UTC", london, "Europe/London", "2026-03-30 16:30", "2026-03-31 08:00", "off shift until Tue 31 Mar 09:00 BST"},
		{"no default zone means UTC", london, "", "2026-03-30 17:00", "", ""},
		{"holiday is a day off", usHolidays, "", "2026-05-25 17:30", "2026-05-26 16:00", "off shift until Tue 26 May 09:00 PDT"},
		{"holidays only on listed days", usHolidays, "", "2026-05-26 17:30", "", ""},
		{"no shifts is always on shift", Profile{Timezone: "America/Los_Angeles"}, "", "2026-03-08 10:00", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustAgent(t, "a@x.io", tt.p, tt.zone)
			ok, r := Eligible(a, Case{Priority: "P3"}, utc(tt.now), TeamSettings{})
			if tt.until == "" {
				if !ok {
					t.Fatalf("Eligible = false, %+v; want on shift", r)
				}
				return
			}
			if ok || r.Code != CodeOffShift || r.Text != tt.text || !r.Until.Equal(utc(tt.until)) {
				t.Fatalf("Eligible = %v, %+v; want off shift until %s (%q)", ok, r, tt.until, tt.text)
			}
		})
	}

	t.Run("require_shift false ignores shifts", func(t *testing.T) {
		a := mustAgent(t, "a@x.io", la, "")
		off := false
		if ok, r := Eligible(a, Case{Priority: "P3"}, utc("2026-03-06 02:00"), TeamSettings{RequireShift: &off}); !ok {
			t.Fatalf("Eligible = false, %+v", r)
		}
	})
}

func TestEligibleCapacity(t *testing.T) {
	custom := TeamSettings{Capacity: 10, LoadWeights: map[string]int{"P1": 10, "P4": 0}}
	tests := []struct {
		name     string
		open     map[string]int
		capacity int // the agent's own
		s        TeamSettings
		priority string
		ok       bool
		text     string
	}{
		{"room for a P3", map[string]int{"P1": 3, "P3": 6}, 0, TeamSettings{}, "P3", true, ""},
		{"a P2 exactly fills it", map[string]int{"P1": 3, "P3": 6}, 0, TeamSettings{}, "P2", true, ""},
		{"a P1 weighs 4", map[string]int{"P1": 3, "P3": 6}, 0, TeamSettings{}, "P1", false, "at capacity: 18/20, a P1 adds 4"},
		{"over capacity already", map[string]int{"P1": 6}, 0, TeamSettings{}, "P4", false, "at capacity: 24/20, a P4 adds 1"},
		{"own capacity wins", map[string]int{"P1": 6}, 30, TeamSettings{}, "P1", true, ""},
		{"team capacity", map[string]int{"P3": 9}, 0, custom, "P3", true, ""},
		{"team capacity full", map[string]int{"P3": 10}, 0, custom, "P3", false, "at capacity: 10/10, a P3 adds 1"},
		{"team weight for P1", nil, 0, custom, "P1", true, ""},
		{"team weight for P1 over", map[string]int{"P3": 1}, 0, custom, "P1", false, "at capacity: 1/10, a P1 adds 10"},
		{"a weight of 0 never fills", map[string]int{"P3": 10, "P4": 50}, 0, custom, "P4", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Agent{Email: "a@x.io", Open: tt.open, Capacity: tt.capacity}
			ok, r := Eligible(a, Case{Priority: tt.priority}, utc("2026-03-06 12:00"), tt.s)
			if ok != tt.ok || r.Text != tt.text || (!ok && r.Code != CodeCapacity) {
				t.Errorf("Eligible = %v, %+v; want %v %q", ok, r, tt.ok, tt.text)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	all := map[string]int{"P1": 1, "P2": 1, "P3": 1, "P4": 1}
	tests := []struct {
		open map[string]int
		s    TeamSettings
		want int
	}{
		{nil, TeamSettings{}, 0},
		{all, TeamSettings{}, 8},
		{map[string]int{"P1": 2, "P3": 3}, TeamSettings{}, 11},
		{all, TeamSettings{LoadWeights: map[string]int{"P4": 0, "P1": 10}}, 13}, // others keep their defaults
		{map[string]int{"P9": 2}, TeamSettings{}, 2},                            // unknown priorities weigh 1
	}
	for _, tt := range tests {
		if got := tt.s.Load(tt.open); got != tt.want {
			t.Errorf("Load(%v) with %v = %d, want %d", tt.open, tt.s.LoadWeights, got, tt.want)
		}
	}
}

func emails(skips []Skip) []string {
	var out []string
	for _, s := range skips {
		out = append(out, s.Agent+" "+string(s.Code))
	}
	return out
}

func TestRoundRobin(t *testing.T) {
	// Given out of order: the walk is by email.
	team := []Agent{{Email: "dan@x.io"}, {Email: "bea@x.io"}, {Email: "ann@x.io"}, {Email: "cy@x.io"}}
	c := Case{Market: "GB", Priority: "P3"}
	now := utc("2026-03-06 12:00")
	with := func(f func(a []Agent)) []Agent {
		out := append([]Agent(nil), team...)
		f(out)
		return out
	}
	tests := []struct {
		name    string
		agents  []Agent
		last    string
		want    string
		skipped []string
	}{
		{"first time starts at the first email", team, "", "ann@x.io", nil},
		{"after bea comes cy", team, "bea@x.io", "cy@x.io", nil},
		{"wraps after the last email", team, "dan@x.io", "ann@x.io", nil},
		{"last no longer in the team", team, "bob@x.io", "cy@x.io", nil},
		{"skips the ineligible", with(func(a []Agent) { a[3].Away = true; a[0].Markets = []string{"DE"} }), "bea@x.io", "ann@x.io",
			[]string{"cy@x.io away", "dan@x.io market"}},
		{"comes back to last when it is the only one", with(func(a []Agent) {
			a[0].Away, a[2].Away, a[3].Away = true, true, true
		}), "bea@x.io", "bea@x.io", []string{"cy@x.io away", "dan@x.io away", "ann@x.io away"}},
		{"nobody eligible", with(func(a []Agent) {
			for i := range a {
				a[i].Open = map[string]int{"P1": 5}
			}
		}), "ann@x.io", "", []string{"bea@x.io capacity", "cy@x.io capacity", "dan@x.io capacity", "ann@x.io capacity"}},
		{"no agents", nil, "ann@x.io", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, skipped := RoundRobin(tt.agents, c, now, TeamSettings{}, tt.last)
			if got != tt.want || ok != (tt.want != "") || !reflect.DeepEqual(emails(skipped), tt.skipped) {
				t.Errorf("RoundRobin = %q, %v, %v; want %q, %v", got, ok, emails(skipped), tt.want, tt.skipped)
			}
		})
	}
}

func TestLeastLoaded(t *testing.T) {
	now := utc("2026-03-06 12:00")
	c := Case{Category: "logistics/lost_parcel", Priority: "P3"}
	earlier, later := utc("2026-03-06 09:00"), utc("2026-03-06 11:00")
	tests := []struct {
		name    string
		agents  []Agent
		want    string
		skipped []string
	}{
		{"lowest load", []Agent{
			{Email: "ann@x.io", Open: map[string]int{"P3": 5}},
			{Email: "bea@x.io", Open: map[string]int{"P3": 3}},
		}, "bea@x.io", nil},
		{"load relative to capacity", []Agent{
			{Email: "ann@x.io", Open: map[string]int{"P3": 4}, Capacity: 10},  // 0.4
			{Email: "bea@x.io", Open: map[string]int{"P3": 10}, Capacity: 40}, // 0.25
		}, "bea@x.io", nil},
		{"weights count", []Agent{
			{Email: "ann@x.io", Open: map[string]int{"P1": 2}}, // 8
			{Email: "bea@x.io", Open: map[string]int{"P3": 7}}, // 7
		}, "bea@x.io", nil},
		{"tie: fewer P1s", []Agent{
			{Email: "ann@x.io", Open: map[string]int{"P1": 1, "P3": 2}}, // 6
			{Email: "bea@x.io", Open: map[string]int{"P2": 3}},          // 6
		}, "bea@x.io", nil},
		{"tie: assigned least recently", []Agent{
			{Email: "ann@x.io", Open: map[string]int{"P3": 2}, LastAssigned: later},
			{Email: "bea@x.io", Open: map[string]int{"P3": 2}, LastAssigned: earlier},
		}, "bea@x.io", nil},
		{"tie: never assigned first", []Agent{
			{Email: "ann@x.io", LastAssigned: earlier},
			{Email: "bea@x.io"},
		}, "bea@x.io", nil},
		{"tie: email", []Agent{
			{Email: "bea@x.io", LastAssigned: earlier},
			{Email: "ann@x.io", LastAssigned: earlier},
		}, "ann@x.io", nil},
		{"the least loaded is away", []Agent{
			{Email: "ann@x.io", Away: true},
			{Email: "bea@x.io", Open: map[string]int{"P3": 9}},
			{Email: "cy@x.io", Open: map[string]int{"P3": 20}},
		}, "bea@x.io", []string{"ann@x.io away", "cy@x.io capacity"}},
		{"nobody eligible", []Agent{
			{Email: "bea@x.io", Away: true},
			{Email: "ann@x.io", Skills: []string{"payments/"}},
		}, "", []string{"ann@x.io skill", "bea@x.io away"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, skipped := LeastLoaded(tt.agents, c, now, TeamSettings{})
			if got != tt.want || ok != (tt.want != "") || !reflect.DeepEqual(emails(skipped), tt.skipped) {
				t.Errorf("LeastLoaded = %q, %v, %v; want %q, %v", got, ok, emails(skipped), tt.want, tt.skipped)
			}
		})
	}
}

func TestChoose(t *testing.T) {
	agents := []Agent{{Email: "ann@x.io", Open: map[string]int{"P3": 3}}, {Email: "bea@x.io"}}
	c, now := Case{Priority: "P3"}, utc("2026-03-06 12:00")
	for _, tt := range []struct {
		s    Strategy
		want string
	}{{"", ""}, {StrategyManual, ""}, {StrategyRoundRobin, "bea@x.io"}, {StrategyLeastLoaded, "bea@x.io"}} {
		got, ok, _ := Choose(agents, c, now, TeamSettings{Strategy: tt.s}, "ann@x.io")
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("Choose with %q = %q, %v; want %q", tt.s, got, ok, tt.want)
		}
	}
	// Round-robin after bea wraps to ann even though ann has more load.
	if got, _, _ := Choose(agents, c, now, TeamSettings{Strategy: StrategyRoundRobin}, "bea@x.io"); got != "ann@x.io" {
		t.Errorf("round robin after bea = %q", got)
	}
}

func TestFilterFor(t *testing.T) {
	a := Agent{
		Email:     "ann@x.io",
		Teams:     []string{"logistics"},
		Markets:   []string{"GB", "IE"},
		Languages: []string{"en-GB", "fr", "fr-BE", "EN"},
		Skills:    []string{"logistics/", "payments/refund"},
		Shift:     sla.MustCompile(Profile{Timezone: "UTC", Shifts: weekdays("09:00-10:00")}.spec("UTC")),
		Open:      map[string]int{"P1": 3, "P3": 6}, // 18 of 20
	}
	f, err := FilterFor(a, TeamSettings{})
	if err != nil {
		t.Fatal(err)
	}
	want := Filter{
		Teams:      []string{"logistics"},
		Markets:    []string{"GB", "IE"},
		Languages:  []string{"en", "fr"},
		Categories: []string{"logistics/", "payments/refund"},
		Priorities: []string{"P2", "P3", "P4"},
	}
	if !reflect.DeepEqual(f, want) {
		t.Fatalf("FilterFor =\n%+v\nwant\n%+v", f, want)
	}
	gb := Case{Team: "logistics", Category: "logistics/lost_parcel", Market: "GB", Language: "en", Priority: "P2"}
	for _, tt := range []struct {
		name string
		edit func(c *Case)
		want bool
	}{
		{"fits", func(c *Case) {}, true},
		{"other team", func(c *Case) { c.Team = "payments" }, false},
		{"other market", func(c *Case) { c.Market = "DE" }, false},
		{"regional language", func(c *Case) { c.Language = "fr-CA" }, true},
		{"no language", func(c *Case) { c.Language = "" }, true},
		{"language not spoken", func(c *Case) { c.Language = "de" }, false},
		{"category by key", func(c *Case) { c.Category = "payments/refund" }, true},
		{"category outside skills", func(c *Case) { c.Category = "payments/chargeback" }, false},
		{"P1 does not fit the load", func(c *Case) { c.Priority = "P1" }, false},
	} {
		c := gb
		tt.edit(&c)
		if got := f.Allows(c); got != tt.want {
			t.Errorf("%s: Allows(%+v) = %v, want %v", tt.name, c, got, tt.want)
		}
	}

	t.Run("no restrictions is the zero filter", func(t *testing.T) {
		f, err := FilterFor(Agent{Email: "bea@x.io"}, TeamSettings{})
		if err != nil || !reflect.DeepEqual(f, Filter{}) {
			t.Fatalf("FilterFor = %+v, %v; want the zero Filter", f, err)
		}
		if !f.Allows(gb) {
			t.Error("zero filter refuses a case")
		}
	})

	for _, tt := range []struct {
		name string
		a    Agent
		s    TeamSettings
		code Code
		text string
	}{
		{"away", Agent{Away: true}, TeamSettings{}, CodeAway, "away (out of office): come back to take cases"},
		{"over capacity", Agent{Open: map[string]int{"P1": 5, "P3": 2}}, TeamSettings{}, CodeCapacity, "at capacity: 22/20"},
		{"room for no priority", Agent{Open: map[string]int{"P2": 9, "P3": 1}},
			TeamSettings{LoadWeights: map[string]int{"P3": 2, "P4": 2}}, CodeCapacity, "at capacity: 20/20"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FilterFor(tt.a, tt.s)
			var ne *NotEligible
			if !errors.As(err, &ne) || ne.Code != tt.code || err.Error() != tt.text {
				t.Fatalf("FilterFor error = %v; want %s %q", err, tt.code, tt.text)
			}
		})
	}
}

// The store filters with Filter, automatic assignment with Eligible: for an
// agent on shift with room to spare they must agree on every case.
func TestFilterAgreesWithEligible(t *testing.T) {
	agents := []Agent{
		{},
		{Teams: []string{"logistics"}},
		{Markets: []string{"GB"}},
		{Languages: []string{"fr-BE", "de"}},
		{Skills: []string{"logistics/", "payments/refund"}},
		{Teams: []string{"payments"}, Markets: []string{"DE", "FR"}, Languages: []string{"fr"}, Skills: []string{"payments/"}},
	}
	var cases []Case
	for _, team := range []string{"", "logistics", "payments"} {
		for _, cat := range []string{"logistics/lost_parcel", "payments/refund", "payments/chargeback"} {
			for _, m := range []string{"", "GB", "FR"} {
				for _, l := range []string{"", "fr", "fr-FR", "de-AT", "en"} {
					cases = append(cases, Case{Team: team, Category: cat, Market: m, Language: l, Priority: "P1"})
				}
			}
		}
	}
	now := utc("2026-03-06 12:00")
	for i, a := range agents {
		f, err := FilterFor(a, TeamSettings{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			if ok, r := Eligible(a, c, now, TeamSettings{}); ok != f.Allows(c) {
				t.Errorf("agent %d, %+v: Eligible %v (%s), Allows %v", i, c, ok, r, f.Allows(c))
			}
		}
	}
}

func TestTakeNext(t *testing.T) {
	t0 := utc("2026-03-06 08:00")
	queue := []Queued{
		{ID: 1, Created: t0, Case: Case{Market: "GB", Priority: "P2"}},
		{ID: 2, Created: t0.Add(time.Hour), Case: Case{Market: "DE", Priority: "P1"}}, // not covered
		{ID: 5, Created: t0.Add(3 * time.Hour), Case: Case{Market: "GB", Priority: "P1"}},
		{ID: 4, Created: t0.Add(2 * time.Hour), Case: Case{Market: "GB", Priority: "P1"}},
		{ID: 3, Created: t0.Add(2 * time.Hour), Case: Case{Market: "GB", Priority: "P1"}},
	}
	gb := Agent{Email: "ann@x.io", Markets: []string{"GB"}}
	if i, err := TakeNext(gb, TeamSettings{}, queue); err != nil || queue[i].ID != 3 {
		t.Errorf("TakeNext = %d, %v; want the case with id 3", i, err)
	}
	// 18/20: a P1 no longer fits, the P2 does.
	gb.Open = map[string]int{"P3": 18}
	if i, err := TakeNext(gb, TeamSettings{}, queue); err != nil || queue[i].ID != 1 {
		t.Errorf("TakeNext near capacity = %d, %v; want the case with id 1", i, err)
	}
	gb.Markets = []string{"US"}
	if _, err := TakeNext(gb, TeamSettings{}, queue); !errors.Is(err, ErrQueueEmpty) {
		t.Errorf("TakeNext with nothing allowed: %v", err)
	}
	gb.Open = map[string]int{"P3": 22}
	if _, err := TakeNext(gb, TeamSettings{}, queue); err == nil || err.Error() != "at capacity: 22/20" {
		t.Errorf("TakeNext at capacity: %v", err)
	}
}

func TestTakeNextIgnoresShift(t *testing.T) {
	a := mustAgent(t, "ann@x.io", Profile{Timezone: "America/Los_Angeles", Shifts: weekdays("09:00-17:00")}, "")
	queue := []Queued{{ID: 7, Case: Case{Priority: "P3"}}}
	if i, err := TakeNext(a, TeamSettings{}, queue); err != nil || i != 0 {
		t.Errorf("TakeNext = %d, %v", i, err)
	}
}

func TestProfileValidate(t *testing.T) {
	tests := []struct {
		name   string
		p      Profile
		prefix string
		known  func(string) bool
		want   []string // "path: message"; a message ending in "…" is a prefix
	}{
		{"empty profile is valid", Profile{}, "users[0]", nil, nil},
		{"full profile is valid", Profile{
			Timezone: "Europe/London", Shifts: map[string][]string{"mon": {"09:00-13:00", "14:00-17:30"}, "sat": {"10:00-14:00"}},
			Holidays: "GB-ENG", Skills: []string{"logistics/", "payments/refund"}, Capacity: 12,
		}, "users[0]", nil, nil},
		{"everything wrong", Profile{
			Timezone: "Mars/Olympus",
			Shifts:   map[string][]string{"mon": {"09:00-17:00", "16:00-18:00"}, "fri": {"9-5"}, "funday": {"09:00-10:00"}},
			Holidays: "XX",
			Skills:   []string{"logistics", "logistics/", "logistics/", "Payments/Refund"},
			Capacity: -1,
		}, "users[3]", nil, []string{
			`users[3].timezone: "Mars/Olympus" is not an IANA time zone`,
			`users[3].shifts.fri[0]: "9-5" is not a window like "09:00-18:00" (times are HH:MM, 00:00–24:00)`,
			`users[3].shifts.funday: unknown day (use mon, tue, wed, thu, fri, sat, sun)`,
			`users[3].shifts.mon[1]: "16:00-18:00" overlaps "09:00-17:00"`,
			`users[3].holidays: "XX" is not a known holiday region (one of …`,
			`users[3].skills[0]: "logistics" is not a category key; write "logistics/" for the whole group`,
			`users[3].skills[2]: duplicate skill "logistics/"`,
			`users[3].skills[3]: "Payments/Refund" is not a category key ("logistics/lost_parcel") or group ("logistics/")`,
			`users[3].capacity: must be between 1 and 1000 (or 0 for the team's capacity)`,
		}},
		{"shifts with no window", Profile{Shifts: map[string][]string{"mon": {}}}, "users[1]", nil, []string{
			`users[1].shifts: at least one day needs a shift window (leave shifts out for always on shift)`,
		}},
		{"Local is not a zone", Profile{Timezone: "Local"}, "", nil, []string{`timezone: "Local" is not an IANA time zone`}},
		{"unknown categories", Profile{Skills: []string{"logistics/", "payments/", "payments/refund"}}, "users[2]",
			func(s string) bool { return s == "logistics/" }, []string{
				`users[2].skills[1]: no category in group "payments/"`,
				`users[2].skills[2]: unknown category "payments/refund"`,
			}},
		{"capacity too large", Profile{Capacity: 1001}, "users[0]", nil, []string{
			`users[0].capacity: must be between 1 and 1000 (or 0 for the team's capacity)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErrors(t, tt.p.Validate(tt.prefix, tt.known), tt.want)
		})
	}
}

func TestTeamSettingsValidate(t *testing.T) {
	off := false
	tests := []struct {
		name string
		s    TeamSettings
		want []string
	}{
		{"zero is valid", TeamSettings{}, nil},
		{"full is valid", TeamSettings{Strategy: StrategyLeastLoaded, Capacity: 30, LoadWeights: map[string]int{"P1": 5, "P4": 0},
			AssignOnCreate: true, RequireShift: &off}, nil},
		{"everything wrong", TeamSettings{Strategy: "fifo", Capacity: -5, LoadWeights: map[string]int{"P5": 1, "P1": -1, "P2": 101}}, []string{
			`teams[2].assignment.strategy: "fifo" is not a strategy (one of round_robin, least_loaded, manual)`,
			`teams[2].assignment.capacity: must be between 1 and 1000 (or left out for 20)`,
			`teams[2].assignment.load_weights.P1: must be between 0 and 100`,
			`teams[2].assignment.load_weights.P2: must be between 0 and 100`,
			`teams[2].assignment.load_weights.P5: "P5" is not a priority (one of P1, P2, P3, P4)`,
		}},
		{"assign on create needs a strategy", TeamSettings{AssignOnCreate: true}, []string{
			`teams[2].assignment.assign_on_create: needs strategy round_robin or least_loaded`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErrors(t, tt.s.Validate("teams[2].assignment"), tt.want)
		})
	}
}

func checkErrors(t *testing.T, errs []apperr.FieldError, want []string) {
	t.Helper()
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%s", len(errs), len(want), errList(errs))
	}
	for i, e := range errs {
		got, w := e.String(), want[i]
		if p, ok := strings.CutSuffix(w, "…"); ok {
			if !strings.HasPrefix(got, p) {
				t.Errorf("error %d = %q, want it to start with %q", i, got, p)
			}
		} else if got != w {
			t.Errorf("error %d = %q, want %q", i, got, w)
		}
	}
}

func errList(errs []apperr.FieldError) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString("  " + e.String() + "\n")
	}
	return b.String()
}

func TestSettingsDefaults(t *testing.T) {
	var s TeamSettings
	if s.Mode() != StrategyManual || !s.ShiftRequired() || s.CapacityOf(Agent{}) != DefaultCapacity {
		t.Errorf("zero settings: mode %q, shift required %v, capacity %d", s.Mode(), s.ShiftRequired(), s.CapacityOf(Agent{}))
	}
	on := true
	s = TeamSettings{Capacity: 12, RequireShift: &on}
	if !s.ShiftRequired() || s.CapacityOf(Agent{}) != 12 || s.CapacityOf(Agent{Capacity: 5}) != 5 {
		t.Errorf("settings: shift required %v, capacity %d / %d", s.ShiftRequired(), s.CapacityOf(Agent{}), s.CapacityOf(Agent{Capacity: 5}))
	}
}

func TestNewAgentBadShifts(t *testing.T) {
	_, err := NewAgent("ann@x.io", nil, nil, Profile{Shifts: map[string][]string{"mon": {"17:00-09:00"}}}, "")
	if err == nil || !strings.Contains(err.Error(), "shifts of ann@x.io") {
		t.Fatalf("NewAgent error = %v", err)
	}
	_, err = NewAgent("ann@x.io", nil, nil, Profile{Shifts: weekdays("09:00-17:00")}, "Nowhere/Land")
	if err == nil {
		t.Fatal("NewAgent accepted an unknown default zone")
	}
}
