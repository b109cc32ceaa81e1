package routing

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/sla"
)

func mustCompile(t testing.TB, rules ...Rule) *Ruleset {
	t.Helper()
	rs, err := Compile(rules)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

var tag = Actions{AddTags: []string{"matched"}}

// calendars: GB open Mon–Fri 09:00–17:00 London time; "night" open
// 18:00–24:00 every day (UTC).
func calendars(t testing.TB) (func(string) (*sla.Calendar, bool), func(string) string) {
	week := []string{"09:00-17:00"}
	gb := sla.MustCompile(sla.CalendarSpec{Key: "GB", Timezone: "Europe/London",
		Hours: map[string][]string{"mon": week, "tue": week, "wed": week, "thu": week, "fri": week}})
	night := []string{"18:00-24:00"}
	nt := sla.MustCompile(sla.CalendarSpec{Key: "night", Timezone: "UTC",
		Hours: map[string][]string{"mon": night, "tue": night, "wed": night, "thu": night, "fri": night, "sat": night, "sun": night}})
	cals := map[string]*sla.Calendar{"GB": gb, "night": nt}
	teams := map[string]string{"logistics": "GB", "trust_safety": "night"}
	return func(k string) (*sla.Calendar, bool) { c, ok := cals[k]; return c, ok },
		func(team string) string { return teams[team] }
}

// A Monday in November 2026 at 10:00 in London (GMT): GB open, night closed.
var monday10 = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

func baseFacts(t testing.TB) Facts {
	cal, teamCal := calendars(t)
	return Facts{
		Category: "logistics/lost_parcel", CategorySeverity: 3, Market: "GB", Language: "en-GB", Channel: "email",
		Team: "logistics", SellerID: "S-1", SellerTier: 2, SellerRiskFlags: []string{"new_seller"},
		RequesterEmail: "Anna.Kowalska@Seller.example", Tags: []string{"carrier:dhl"}, Priority: "P3",
		Sensitivity: "normal", Title: "Parcel lost", Description: "The DHL parcel never arrived; customer wants a refund.",
		Now: monday10, Calendar: cal, TeamCalendar: teamCal,
	}
}

func TestConditions(t *testing.T) {
	tests := []struct {
		name string
		when Conditions
		f    func(*Facts) // change to the base facts; nil: none
		want bool
	}{
		{"empty matches all", Conditions{}, nil, true},
		{"category exact", Conditions{Category: []string{"logistics/lost_parcel"}}, nil, true},
		{"category group", Conditions{Category: []string{"logistics"}}, nil, true},
		{"category group with slash", Conditions{Category: []string{"logistics/"}}, nil, true},
		{"category other key", Conditions{Category: []string{"logistics/delayed_delivery"}}, nil, false},
		{"category group is not a string prefix", Conditions{Category: []string{"logistic"}}, nil, false},
		{"category any of", Conditions{Category: []string{"payments", "logistics/lost_parcel"}}, nil, true},
		{"market", Conditions{Market: []string{"DE", "GB"}}, nil, true},
		{"market miss", Conditions{Market: []string{"DE"}}, nil, false},
		{"language primary matches region", Conditions{Language: []string{"en"}}, nil, true},
		{"language exact case-insensitive", Conditions{Language: []string{"EN-gb"}}, nil, true},
		{"language other region", Conditions{Language: []string{"en-US"}}, nil, false},
		{"language not a prefix of another", Conditions{Language: []string{"en"}}, func(f *Facts) { f.Language = "eng" }, false},
		{"language region vs bare", Conditions{Language: []string{"en-GB"}}, func(f *Facts) { f.Language = "en" }, false},
		{"channel", Conditions{Channel: []string{"email"}}, nil, true},
		{"channel miss", Conditions{Channel: []string{"social"}}, nil, false},
		{"team", Conditions{Team: []string{"logistics"}}, nil, true},
		{"team miss", Conditions{Team: []string{"payments"}}, nil, false},
		{"seller tier", Conditions{SellerTier: []int{1, 2}}, nil, true},
		{"seller tier miss", Conditions{SellerTier: []int{1}}, nil, false},
		{"no seller never matches tier", Conditions{SellerTier: []int{1, 2, 3, 4}}, func(f *Facts) { f.SellerTier = 0 }, false},
		{"risk flag", Conditions{SellerRiskFlags: []string{"vip", "new_seller"}}, nil, true},
		{"risk flag miss", Conditions{SellerRiskFlags: []string{"vip"}}, nil, false},
		{"requester email case-insensitive", Conditions{Requester: []string{"anna.kowalska@seller.example"}}, nil, true},
		{"requester domain", Conditions{Requester: []string{"@SELLER.example"}}, nil, true},
		{"requester other domain", Conditions{Requester: []string{"@other.example"}}, nil, false},
		{"requester subdomain is another domain", Conditions{Requester: []string{"@seller.example"}},
			func(f *Facts) { f.RequesterEmail = "a@eu.seller.example" }, false},
		{"requester none", Conditions{Requester: []string{"@seller.example"}}, func(f *Facts) { f.RequesterEmail = "" }, false},
		{"tags", Conditions{Tags: []string{"vip", "carrier:dhl"}}, nil, true},
		{"tags miss", Conditions{Tags: []string{"vip"}}, nil, false},
		{"priority", Conditions{Priority: []string{"P2", "P3"}}, nil, true},
		{"priority miss", Conditions{Priority: []string{"P1"}}, nil, false},
		{"no priority matches none", Conditions{Priority: []string{"P1", "P2", "P3", "P4"}}, func(f *Facts) { f.Priority = "" }, false},
		{"high risk false", Conditions{HighRisk: False}, nil, true},
		{"high risk true miss", Conditions{HighRisk: True}, nil, false},
		{"high risk true", Conditions{HighRisk: True}, func(f *Facts) { f.HighRisk = true }, true},
		{"team calendar open", Conditions{BusinessHours: BusinessHours{Open: True}}, nil, true},
		{"team calendar closed wanted", Conditions{BusinessHours: BusinessHours{Calendar: "team", Open: False}}, nil, false},
		{"team calendar on Saturday", Conditions{BusinessHours: BusinessHours{Open: False}},
			func(f *Facts) { f.Now = monday10.AddDate(0, 0, -2) }, true},
		{"market calendar", Conditions{BusinessHours: BusinessHours{Calendar: "market", Open: True}}, nil, true},
		{"named calendar closed", Conditions{BusinessHours: BusinessHours{Calendar: "night", Open: False}}, nil, true},
		{"named calendar at night", Conditions{BusinessHours: BusinessHours{Calendar: "night", Open: True}},
			func(f *Facts) { f.Now = monday10.Add(10 * time.Hour) }, true},
		{"unknown calendar is always open", Conditions{BusinessHours: BusinessHours{Calendar: "market", Open: True}},
			func(f *Facts) { f.Market, f.Now = "DE", monday10.AddDate(0, 0, -1) }, true},
		{"no calendars is always open", Conditions{BusinessHours: BusinessHours{Open: False}},
			func(f *Facts) { f.Calendar = nil }, false},
		{"keywords any", Conditions{Keywords: []string{"chargeback", "refund"}}, nil, true},
		{"keywords none", Conditions{Keywords: []string{"chargeback"}}, nil, false},
		{"all keywords", Conditions{AllKeywords: []string{"dhl", "refund", "parcel"}}, nil, true},
		{"all keywords one missing", Conditions{AllKeywords: []string{"dhl", "refund", "damaged"}}, nil, false},
		{"several conditions all hold", Conditions{Market: []string{"GB"}, Channel: []string{"email"}, Keywords: []string{"refund"}}, nil, true},
		{"several conditions one fails", Conditions{Market: []string{"GB"}, Channel: []string{"api"}, Keywords: []string{"refund"}}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := baseFacts(t)
			if tt.f != nil {
				tt.f(&f)
			}
			rs := mustCompile(t, Rule{Name: "r", When: tt.when, Then: tag})
			if got := len(rs.Route(f, EventCreate).Fired) == 1; got != tt.want {
				t.Errorf("when %+v: fired %v, want %v", tt.when, got, tt.want)
			}
			// The same condition as a veto fires the rule exactly when the
			// condition does not hold (an empty veto list vetoes nothing).
			if strings.HasPrefix(tt.name, "several") {
				return // vetoes are ORed; TestUnlessAny covers them
			}
			rs = mustCompile(t, Rule{Name: "r", Unless: tt.when, Then: tag})
			wantVeto := !tt.want || tt.when.IsZero()
			if got := len(rs.Route(f, EventCreate).Fired) == 1; got != wantVeto {
				t.Errorf("unless %+v: fired %v, want %v", tt.when, got, wantVeto)
			}
		})
	}
}

// Unless vetoes when any one of its conditions holds.
func TestUnlessAny(t *testing.T) {
	rs := mustCompile(t, Rule{Name: "r", When: Conditions{Market: []string{"GB"}},
		Unless: Conditions{Tags: []string{"test"}, Channel: []string{"api"}}, Then: tag})
	f := baseFacts(t)
	if len(rs.Route(f, EventCreate).Fired) != 1 {
		t.Error("no veto holds, but the rule did not fire")
	}
	f.Channel = "api"
	if len(rs.Route(f, EventCreate).Fired) != 0 {
		t.Error("channel veto held, but the rule fired")
	}
	f.Channel, f.Tags = "email", []string{"test"}
	if len(rs.Route(f, EventCreate).Fired) != 0 {
		t.Error("tag veto held, but the rule fired")
	}
}

func TestActions(t *testing.T) {
	rs := mustCompile(t, Rule{Name: "all actions", Then: Actions{
		Team: "payments", Priority: PriorityAction{Raise: 1}, AddTags: []string{"vip", "carrier:dhl", "funds"},
		HighRisk: true, Sensitivity: "restricted", Assign: "Jonas.Weber@flare.example",
		AddWatchers: []string{"amelia.clarke@flare.example"}, SLAPolicy: "Tier-1 sellers", Escalate: "Payments escalation",
		Notify: []string{"owner", "team", "governance", "Lead@flare.example"},
	}})
	out := rs.Route(baseFacts(t), EventCreate)
	want := Outcome{
		Fired: []string{"all actions"}, Team: "payments", Priority: "P2", PriorityAdjusted: true, HighRisk: true,
		Sensitivity: "restricted", AddTags: []string{"vip", "funds"}, Assign: "jonas.weber@flare.example",
		Watchers: []string{"amelia.clarke@flare.example"}, SLAPolicy: "Tier-1 sellers", Escalate: "Payments escalation",
		Notify: []string{"owner", "team", "governance", "lead@flare.example"},
		Changes: []Change{
			{"all actions", ActionTeam, "payments", "logistics"},
			{"all actions", ActionPriority, "P2", "P3"},
			{"all actions", ActionAddTags, "vip", ""},
			{"all actions", ActionAddTags, "funds", ""},
			{"all actions", ActionHighRisk, "true", "false"},
			{"all actions", ActionSensitivity, "restricted", "normal"},
			{"all actions", ActionAssign, "jonas.weber@flare.example", ""},
			{"all actions", ActionWatchers, "amelia.clarke@flare.example", ""},
			{"all actions", ActionSLAPolicy, "Tier-1 sellers", ""},
			{"all actions", ActionEscalate, "Payments escalation", ""},
			{"all actions", ActionNotify, "owner", ""},
			{"all actions", ActionNotify, "team", ""},
			{"all actions", ActionNotify, "governance", ""},
			{"all actions", ActionNotify, "lead@flare.example", ""},
		},
	}
	out.prioOps = nil
	if !reflect.DeepEqual(out, want) {
		t.Errorf("outcome\n%+v\nwant\n%+v", out, want)
	}
}

func TestPriorityActions(t *testing.T) {
	tests := []struct {
		from string
		act  PriorityAction
		want string
	}{
		{"P3", PriorityAction{Set: "P1"}, "P1"},
		{"P1", PriorityAction{Set: "P4"}, "P4"},
		{"P3", PriorityAction{Raise: 1}, "P2"},
		{"P2", PriorityAction{Raise: 3}, "P1"}, // clamped
		{"P3", PriorityAction{Lower: 1}, "P4"},
		{"P4", PriorityAction{Lower: 2}, "P4"}, // clamped: no change
		{"", PriorityAction{Raise: 1}, "P3"},   // none counts as P4
		{"P2", PriorityAction{Set: "P2"}, "P2"},
	}
	for _, tt := range tests {
		rs := mustCompile(t, Rule{Name: "p", Then: Actions{Priority: tt.act}})
		f := baseFacts(t)
		f.Priority = tt.from
		out := rs.Route(f, EventCreate)
		if out.Priority != tt.want || out.PriorityAdjusted != (tt.want != tt.from) {
			t.Errorf("%s %+v: %s (adjusted %v), want %s", tt.from, tt.act, out.Priority, out.PriorityAdjusted, tt.want)
		}
		if (len(out.Changes) == 1) != (tt.want != tt.from) {
			t.Errorf("%s %+v: changes %+v", tt.from, tt.act, out.Changes)
		}
	}
	// A person's priority stands.
	rs := mustCompile(t, Rule{Name: "p", Then: Actions{Priority: PriorityAction{Set: "P1"}}})
	f := baseFacts(t)
	f.PriorityOverridden = true
	if out := rs.Route(f, EventCreate); out.Priority != "P3" || out.PriorityAdjusted || len(out.Changes) != 0 {
		t.Errorf("overridden priority changed: %+v", out)
	}
}

// Each rule sees what the rules before it changed, and single values are
// won by the last rule that sets them.
func TestRulesSeeEarlierChanges(t *testing.T) {
	rs := mustCompile(t,
		Rule{Name: "refunds to payments", When: Conditions{Keywords: []string{"refund"}},
			Then: Actions{Team: "payments", AddTags: []string{"refund"}, Assign: "round_robin"}},
		Rule{Name: "payments team", When: Conditions{Team: []string{"payments"}}, Then: Actions{Priority: PriorityAction{Raise: 1}}},
		Rule{Name: "refund tag", When: Conditions{Tags: []string{"refund"}}, Then: Actions{HighRisk: true}},
		Rule{Name: "high risk P2", When: Conditions{HighRisk: True, Priority: []string{"P2"}},
			Then: Actions{Priority: PriorityAction{Set: "P1"}, Assign: "least_loaded"}},
		Rule{Name: "still logistics", When: Conditions{Team: []string{"logistics"}}, Then: Actions{AddTags: []string{"never"}}},
		Rule{Name: "P1 and payments", When: Conditions{Priority: []string{"P1"}, Team: []string{"payments"}}, Then: Actions{Notify: []string{"team"}}},
	)
	out := rs.Route(baseFacts(t), EventCreate)
	if want := []string{"refunds to payments", "payments team", "refund tag", "high risk P2", "P1 and payments"}; !reflect.DeepEqual(out.Fired, want) {
		t.Errorf("fired %v, want %v", out.Fired, want)
	}
	if out.Team != "payments" || out.Priority != "P1" || !out.HighRisk || out.Assign != "least_loaded" ||
		!reflect.DeepEqual(out.AddTags, []string{"refund"}) || !reflect.DeepEqual(out.Notify, []string{"team"}) {
		t.Errorf("outcome %+v", out)
	}
	// Attribution: which rule changed what.
	var got []string
	for _, c := range out.Changes {
		got = append(got, c.Rule+": "+c.Action+" "+c.Was+"→"+c.Value)
	}
	want := []string{
		"refunds to payments: team logistics→payments",
		"refunds to payments: add_tags →refund",
		"refunds to payments: assign →round_robin",
		"payments team: priority P3→P2",
		"refund tag: high_risk false→true",
		"high risk P2: priority P2→P1",
		"high risk P2: assign round_robin→least_loaded",
		"P1 and payments: notify →team",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes\n%q\nwant\n%q", got, want)
	}
	// The input facts are untouched.
	f := baseFacts(t)
	rs.Route(f, EventCreate)
	if f.Team != "logistics" || len(f.Tags) != 1 || f.Priority != "P3" {
		t.Errorf("facts modified: %+v", f)
	}
}

// A tag added by a rule does not write into the caller's tag slice, even
// when it has spare capacity.
func TestTagsCopyOnWrite(t *testing.T) {
	rs := mustCompile(t, Rule{Name: "t", Then: Actions{AddTags: []string{"x"}}})
	tags := make([]string, 1, 4)
	tags[0] = "a"
	f := baseFacts(t)
	f.Tags = tags
	rs.Route(f, EventCreate)
	if tags[:2][1] != "" {
		t.Error("Route wrote into the caller's tags")
	}
}

func TestStopAndEvents(t *testing.T) {
	rs := mustCompile(t,
		Rule{Name: "create only", On: []Event{EventCreate}, Then: Actions{AddTags: []string{"new"}}},
		Rule{Name: "update only", On: []Event{EventUpdate}, Then: Actions{AddTags: []string{"changed"}}},
		Rule{Name: "both", On: []Event{EventCreate, EventUpdate}, Then: Actions{AddTags: []string{"both"}}},
		Rule{Name: "stop on vip", When: Conditions{Tags: []string{"vip"}}, Then: Actions{Team: "vip_desk"}, Stop: true},
		Rule{Name: "after stop", Then: Actions{Team: "logistics"}},
	)
	f := baseFacts(t)
	if got := rs.Route(f, EventCreate).Fired; !reflect.DeepEqual(got, []string{"create only", "both", "after stop"}) {
		t.Errorf("create: fired %v", got)
	}
	if got := rs.Route(f, EventUpdate).Fired; !reflect.DeepEqual(got, []string{"update only", "both", "after stop"}) {
		t.Errorf("update: fired %v", got)
	}
	f.Tags = []string{"vip"}
	out := rs.Route(f, EventUpdate)
	if !reflect.DeepEqual(out.Fired, []string{"update only", "both", "stop on vip"}) || out.Team != "vip_desk" {
		t.Errorf("stop: fired %v, team %s", out.Fired, out.Team)
	}
	// A rule that does not fire does not stop anything.
	f.Tags = nil
	if out := rs.Route(f, EventUpdate); out.Team != "logistics" {
		t.Errorf("team %s", out.Team)
	}
}

// No-op actions are not changes; re-running rules on an updated case that
// already has their effects changes nothing.
func TestIdempotentOnUpdate(t *testing.T) {
	rs := mustCompile(t, Rule{Name: "r", Then: Actions{Team: "logistics", AddTags: []string{"carrier:dhl"},
		HighRisk: true, Sensitivity: "restricted", Priority: PriorityAction{Set: "P3"}}})
	f := baseFacts(t)
	f.HighRisk, f.Sensitivity = true, "restricted"
	out := rs.Route(f, EventUpdate)
	if len(out.Changes) != 0 || out.PriorityAdjusted || len(out.AddTags) != 0 || len(out.Fired) != 1 {
		t.Errorf("outcome %+v", out)
	}
}

func TestRulesetConcurrentUse(t *testing.T) {
	rs := mustCompile(t, Rule{Name: "k", When: Conditions{Keywords: []string{"refund"}}, Then: tag})
	done := make(chan bool)
	for range 4 {
		go func() {
			ok := true
			for range 200 {
				ok = ok && len(rs.Route(baseFacts(t), EventCreate).Fired) == 1
			}
			done <- ok
		}()
	}
	for range 4 {
		if !<-done {
			t.Error("concurrent Route disagreed")
		}
	}
}
