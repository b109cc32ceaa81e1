package sla

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestTargetDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"4h", 4 * time.Hour, ""},
		{"30m", 30 * time.Minute, ""},
		{"2d", 48 * time.Hour, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"1d4h", 28 * time.Hour, ""},
		{" 8h ", 8 * time.Hour, ""},
		{"", 0, "required"},
		{"0h", 0, "longer than zero"},
		{"4", 0, "not a duration"},
		{"4s", 0, "whole minutes"},
		{"1.5h", 90 * time.Minute, ""},
		{"-4h", 0, "negative"},
		{"h", 0, "not a duration"},
		{"4000d", 0, "too long"},
		{"99999999999999999999m", 0, "not a duration"},
	} {
		got, err := Target{Within: tc.in}.Duration()
		if tc.err == "" {
			if err != nil || got != tc.want {
				t.Errorf("%q: got %v, %v; want %v", tc.in, got, err, tc.want)
			}
		} else if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%q: got %v, %v; want an error with %q", tc.in, got, err, tc.err)
		}
	}
	if !(Target{}).Business() || !(Target{Time: "business"}).Business() || (Target{Time: "calendar"}).Business() {
		t.Error("Business() wrong")
	}
}

func TestSelectPolicy(t *testing.T) {
	policies := []PolicySpec{
		{Name: "p1", Match: PolicyMatch{Priorities: []string{"P1"}}},
		{Name: "logistics tier 1", Match: PolicyMatch{Categories: []string{"logistics/"}, Tiers: []int{1}}},
		{Name: "lost parcel GB/DE", Match: PolicyMatch{Categories: []string{"logistics/lost_parcel", "payments/"}, Markets: []string{"GB", "DE"}}},
		{Name: "social", Match: PolicyMatch{Channels: []string{"social", "leadership"}}},
		{Name: "P2 tier 2 by email", Match: PolicyMatch{Priorities: []string{"P2"}, Tiers: []int{2}, Channels: []string{"email"}}},
		{Name: "default"},
	}
	for _, tc := range []struct {
		name string
		f    CaseFacts
		want string
	}{
		{"priority wins first", CaseFacts{Priority: "P1", Category: "logistics/lost_parcel", Market: "GB", SellerTier: 1, Channel: "social"}, "p1"},
		{"category group and tier", CaseFacts{Priority: "P3", Category: "logistics/damaged", SellerTier: 1}, "logistics tier 1"},
		{"tier mismatch falls through", CaseFacts{Priority: "P3", Category: "logistics/damaged", SellerTier: 2, Market: "GB"}, "default"},
		{"unknown tier does not match a tier list", CaseFacts{Priority: "P3", Category: "logistics/damaged"}, "default"},
		{"exact category and market", CaseFacts{Priority: "P3", Category: "logistics/lost_parcel", Market: "DE", SellerTier: 3}, "lost parcel GB/DE"},
		{"exact category is not a prefix", CaseFacts{Priority: "P3", Category: "logistics/lost_parcel_x", Market: "DE"}, "default"},
		{"group entry in the same list", CaseFacts{Priority: "P3", Category: "payments/refund", Market: "GB"}, "lost parcel GB/DE"},
		{"group needs the slash", CaseFacts{Priority: "P3", Category: "paymentsx/refund", Market: "GB"}, "default"},
		{"market mismatch", CaseFacts{Priority: "P3", Category: "logistics/lost_parcel", Market: "FR"}, "default"},
		{"channel", CaseFacts{Priority: "P4", Channel: "leadership"}, "social"},
		{"all of several fields", CaseFacts{Priority: "P2", SellerTier: 2, Channel: "email"}, "P2 tier 2 by email"},
		{"one of several fields missing", CaseFacts{Priority: "P2", SellerTier: 2, Channel: "web_form"}, "default"},
		{"empty facts", CaseFacts{}, "default"},
	} {
		i, ok := SelectPolicy(policies, tc.f)
		if !ok || policies[i].Name != tc.want {
			t.Errorf("%s: got %d %v, want %q", tc.name, i, ok, tc.want)
		}
	}
	if i, ok := SelectPolicy(policies[:2], CaseFacts{Priority: "P4"}); ok || i != -1 {
		t.Errorf("no match: got %d, %v", i, ok)
	}
	if _, ok := SelectPolicy(nil, CaseFacts{}); ok {
		t.Error("no policies matched")
	}
}

func TestPolicyValidate(t *testing.T) {
	known := func(k string) bool { return k == "GB" || k == "emergency" }
	good := PolicySpec{
		Name: "ok",
		Match: PolicyMatch{Priorities: []string{"P1", "P4"}, Categories: []string{"logistics/", "payments/refund"},
			Markets: []string{"GB"}, Tiers: []int{1, 4}, Channels: []string{"email", "web_form"}},
		Targets: map[Metric]Target{
			FirstResponse: {Within: "30m"},
			NextResponse:  {Within: "2h", Time: "business"},
			Resolution:    {Within: "2d", Time: "calendar"},
		},
		Calendar: "emergency",
		WarnAt:   0.5,
		Pause:    map[Metric][]string{Resolution: {"pending_requester", "pending_internal"}, FirstResponse: {}},
	}
	if errs := good.Validate(known); len(errs) != 0 {
		t.Fatalf("good policy: %v", errs)
	}
	for _, c := range []string{"", "team", "market"} {
		p := good
		p.Calendar = c
		if errs := p.Validate(known); len(errs) != 0 {
			t.Errorf("calendar %q: %v", c, errs)
		}
	}
	if errs := (PolicySpec{Name: "exempt"}).Validate(nil); len(errs) != 0 {
		t.Errorf("a policy with no targets exempts cases: %v", errs)
	}

	bad := PolicySpec{
		Name: " ",
		Match: PolicyMatch{Priorities: []string{"P1", "urgent"}, Categories: []string{"logistics", "Logistics/x", "a/b/c"},
			Markets: []string{"gb", "GBR"}, Tiers: []int{0, 5}, Channels: []string{"fax"}},
		Targets: map[Metric]Target{
			FirstResponse: {Within: "4 hours"},
			Resolution:    {Within: "", Time: "wall"},
			"reply":       {Within: "1h"},
		},
		Calendar: "XX",
		WarnAt:   1,
		Pause:    map[Metric][]string{Resolution: {"pending_requester", "resolved", "waiting"}, "sla": {"open"}},
	}
	want := []string{
		"name",
		"match.priorities[1]",
		"match.categories[0]", "match.categories[1]", "match.categories[2]",
		"match.markets[0]", "match.markets[1]",
		"match.tiers[0]", "match.tiers[1]",
		"match.channels[0]",
		"targets.first_response.within",
		"targets.reply",
		"targets.resolution.within", "targets.resolution.time",
		"calendar",
		"warn_at",
		"pause.resolution[1]", "pause.resolution[2]",
		"pause.sla",
	}
	errs := bad.Validate(known)
	var got []string
	for _, e := range errs {
		got = append(got, e.Field)
		if e.Message == "" {
			t.Errorf("%s: no message", e.Field)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("paths:\n got %q\nwant %q", got, want)
	}
	msg := map[string]string{}
	for _, e := range errs {
		msg[e.Field] = e.Message
	}
	for path, frag := range map[string]string{
		"match.priorities[1]":           `"urgent" is not a priority`,
		"match.categories[0]":           `like "logistics/lost_parcel" or a group like "logistics/"`,
		"match.channels[0]":             `"fax" is not a channel`,
		"targets.first_response.within": `"4 hours" is not a duration`,
		"targets.resolution.within":     "is required",
		"targets.resolution.time":       `"wall" must be "business" or "calendar"`,
		"targets.reply":                 "unknown metric",
		"calendar":                      `"XX" is not a calendar key`,
		"pause.resolution[1]":           "stops the clocks",
		"pause.resolution[2]":           `"waiting" is not a status`,
	} {
		if !strings.Contains(msg[path], frag) {
			t.Errorf("%s: %q does not say %q", path, msg[path], frag)
		}
	}

	for _, w := range []float64{-0.5, 1, 1.5, math.NaN(), math.Inf(1)} {
		p := good
		p.WarnAt = w
		if errs := p.Validate(known); len(errs) != 1 || errs[0].Field != "warn_at" {
			t.Errorf("warn_at %v: %v", w, errs)
		}
	}
	// Without a calendar lookup any key is accepted.
	p := good
	p.Calendar = "anything"
	if errs := p.Validate(nil); len(errs) != 0 {
		t.Errorf("nil knownCalendar: %v", errs)
	}
}

func TestPolicyDefaults(t *testing.T) {
	p := PolicySpec{}
	if p.WarnFraction() != 0.75 {
		t.Errorf("default warn fraction %v", p.WarnFraction())
	}
	if got := p.PauseStatuses(Resolution); !slices.Equal(got, []string{"pending_requester"}) {
		t.Errorf("default resolution pause %q", got)
	}
	if got := p.PauseStatuses(FirstResponse); len(got) != 0 {
		t.Errorf("default first_response pause %q", got)
	}
	p.Pause = map[Metric][]string{Resolution: {}, NextResponse: {"pending_internal"}}
	if got := p.PauseStatuses(Resolution); len(got) != 0 {
		t.Errorf("explicit empty pause list %q", got)
	}
	if got := p.PauseStatuses(NextResponse); !slices.Equal(got, []string{"pending_internal"}) {
		t.Errorf("next_response pause %q", got)
	}
	if got := p.PauseStatuses(FirstResponse); len(got) != 0 {
		t.Errorf("unlisted first_response pause %q", got)
	}
	for _, tc := range []struct{ cal, want string }{{"", "team-cal"}, {"team", "team-cal"}, {"market", "GB"}, {"emergency", "emergency"}} {
		if got := (PolicySpec{Calendar: tc.cal}).CalendarKey("team-cal", "GB"); got != tc.want {
			t.Errorf("CalendarKey with %q = %q, want %q", tc.cal, got, tc.want)
		}
	}
}

func TestPolicyShape(t *testing.T) {
	const doc = `
name: Tier-1 logistics
match:
  categories: ["logistics/"]
  tiers: [1]
  channels: [email]
calendar: market
warn_at: 0.5
pause:
  resolution: [pending_requester, pending_internal]
targets:
  first_response: {within: 4h}
  resolution: {within: 2d, time: calendar}
`
	var p PolicySpec
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil {
		t.Fatal(err)
	}
	if p.Name != "Tier-1 logistics" || p.Calendar != "market" || p.WarnAt != 0.5 ||
		!slices.Equal(p.Match.Categories, []string{"logistics/"}) || !slices.Equal(p.Match.Tiers, []int{1}) ||
		p.Targets[Resolution] != (Target{Within: "2d", Time: "calendar"}) || p.Targets[FirstResponse].Within != "4h" ||
		!slices.Equal(p.Pause[Resolution], []string{"pending_requester", "pending_internal"}) {
		t.Errorf("decoded %+v", p)
	}
	if errs := p.Validate(nil); len(errs) != 0 {
		t.Errorf("validate: %v", errs)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	const wantJSON = `{"name":"Tier-1 logistics","match":{"categories":["logistics/"],"tiers":[1],"channels":["email"]},` +
		`"targets":{"first_response":{"within":"4h"},"resolution":{"within":"2d","time":"calendar"}},` +
		`"calendar":"market","warn_at":0.5,"pause":{"resolution":["pending_requester","pending_internal"]}}`
	if string(b) != wantJSON {
		t.Errorf("JSON:\n got %s\nwant %s", b, wantJSON)
	}
	b, _ = json.Marshal(PolicySpec{Name: "all", Targets: map[Metric]Target{Resolution: {Within: "1d"}}})
	if string(b) != `{"name":"all","targets":{"resolution":{"within":"1d"}}}` {
		t.Errorf("empty match JSON: %s", b)
	}
}
