package routing

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestExplain(t *testing.T) {
	rules := []Rule{
		{Name: "Germany", When: Conditions{Market: []string{"DE", "AT"}}, Then: Actions{Team: "governance"}},
		{Name: "Refunds", When: Conditions{Category: []string{"logistics"}, Keywords: []string{"chargeback", "refund*", "dhl"}},
			Then: Actions{Team: "payments", Priority: PriorityAction{Raise: 1}, AddTags: []string{"refund"}}},
		{Name: "Not for tests", Unless: Conditions{Tags: []string{"test", "refund"}}, Then: Actions{Notify: []string{"owner"}}},
		{Name: "Only updates", On: []Event{EventUpdate}, Then: tag},
		{Name: "Needs all", When: Conditions{AllKeywords: []string{"parcel", "damaged", "refund"}}, Then: tag},
		{Name: "Tier 1", When: Conditions{SellerTier: []int{1}}, Then: tag},
		{Name: "Out of hours", When: Conditions{BusinessHours: BusinessHours{Calendar: "team", Open: False}}, Then: tag},
		{Name: "Stop here", When: Conditions{Team: []string{"payments"}}, Then: Actions{Assign: "round_robin"}, Stop: true},
		{Name: "Never reached", Then: Actions{Team: "logistics"}},
	}
	f := baseFacts(t)
	x, err := Explain(rules, f, EventCreate)
	if err != nil {
		t.Fatal(err)
	}
	want := []RuleResult{
		{Index: 0, Name: "Germany", Condition: "when.market", Reason: "market is GB, not DE, AT"},
		{Index: 1, Name: "Refunds", Matched: true,
			Actions:  []string{"set team payments", "raise priority 1 level", "add tags refund"},
			Changes:  []Change{{"Refunds", "team", "payments", "logistics"}, {"Refunds", "priority", "P2", "P3"}, {"Refunds", "add_tags", "refund", ""}},
			Keywords: []string{"refund*", "dhl"}},
		{Index: 2, Name: "Not for tests", Condition: "unless.tags", Reason: "the case has tag refund"},
		{Index: 3, Name: "Only updates", Skipped: "runs only on update"},
		{Index: 4, Name: "Needs all", Condition: "when.all_keywords", Reason: `the title and description lack "damaged"`},
		{Index: 5, Name: "Tier 1", Condition: "when.seller_tier", Reason: "seller tier is 2, not 1"},
		{Index: 6, Name: "Out of hours", Condition: "when.business_hours", Reason: "the team calendar (none: always open) is open at 2026-11-30 10:00 UTC"}, // payments has none
		{Index: 7, Name: "Stop here", Matched: true, Stop: true, Actions: []string{"assign round robin within the team"},
			Changes: []Change{{"Stop here", "assign", "round_robin", ""}}},
		{Index: 8, Name: "Never reached", Skipped: `not evaluated: rule "Stop here" stopped the evaluation`},
	}
	if !reflect.DeepEqual(x.Rules, want) {
		a, _ := json.MarshalIndent(x.Rules, "", "  ")
		t.Errorf("explanation\n%s", a)
	}
	// Explain and Route agree.
	rs := mustCompile(t, rules...)
	out := rs.Route(f, EventCreate)
	if !reflect.DeepEqual(out, x.Outcome) {
		t.Errorf("Route %+v\nExplain %+v", out, x.Outcome)
	}
	if out.Team != "payments" || !reflect.DeepEqual(out.Fired, []string{"Refunds", "Stop here"}) {
		t.Errorf("outcome %+v", out)
	}
}

func TestExplainReasons(t *testing.T) {
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC) // a Saturday
	tests := []struct {
		name   string
		rule   Rule
		f      func(*Facts)
		reason string
	}{
		{"category", Rule{When: Conditions{Category: []string{"payments", "safety/product_safety"}}},
			nil, "category is logistics/lost_parcel, not group payments, safety/product_safety"},
		{"no language", Rule{When: Conditions{Language: []string{"de"}}},
			func(f *Facts) { f.Language = "" }, "the case has no language; the rule wants de"},
		{"channel", Rule{When: Conditions{Channel: []string{"social"}}}, nil, "channel is email, not social"},
		{"team", Rule{When: Conditions{Team: []string{"payments"}}}, nil, "team is logistics, not payments"},
		{"no seller", Rule{When: Conditions{SellerTier: []int{1, 2}}},
			func(f *Facts) { f.SellerTier = 0 }, "the case has no seller tier; the rule wants tier 1, 2"},
		{"flags", Rule{When: Conditions{SellerRiskFlags: []string{"vip"}}}, nil,
			"the seller's risk flags (new_seller) include none of vip"},
		{"flag veto", Rule{Unless: Conditions{SellerRiskFlags: []string{"new_seller"}}}, nil, "the seller is flagged new_seller"},
		{"requester", Rule{When: Conditions{Requester: []string{"@flare.example"}}}, nil,
			"requester is anna.kowalska@seller.example, not @flare.example"},
		{"tags", Rule{When: Conditions{Tags: []string{"vip"}}}, nil, "the case's tags (carrier:dhl) include none of vip"},
		{"priority", Rule{When: Conditions{Priority: []string{"P1"}}}, nil, "priority is P3, not P1"},
		{"high risk", Rule{When: Conditions{HighRisk: True}}, nil, "the case is not high risk"},
		{"high risk veto", Rule{Unless: Conditions{HighRisk: True}}, func(f *Facts) { f.HighRisk = true }, "the case is high risk"},
		{"market calendar", Rule{When: Conditions{BusinessHours: BusinessHours{Calendar: "market", Open: True}}},
			func(f *Facts) { f.Now = at }, "the market calendar GB is closed at 2026-11-28 12:00 UTC"},
		{"named calendar", Rule{When: Conditions{BusinessHours: BusinessHours{Calendar: "GB", Open: False}}},
			nil, "calendar GB is open at 2026-11-30 10:00 UTC"},
		{"team calendar", Rule{When: Conditions{BusinessHours: BusinessHours{Open: True}}},
			func(f *Facts) { f.Team = "trust_safety" }, "the team calendar night is closed at 2026-11-30 10:00 UTC"},
		{"no team calendar", Rule{When: Conditions{BusinessHours: BusinessHours{Open: False}}},
			func(f *Facts) { f.Team = "payments" }, "the team calendar (none: always open) is open at 2026-11-30 10:00 UTC"},
		{"keywords", Rule{When: Conditions{Keywords: []string{"chargeback", "Damaged"}}}, nil,
			`the title and description contain none of "chargeback", "Damaged"`},
		{"keyword veto", Rule{Unless: Conditions{Keywords: []string{"chargeback", "DHL"}}}, nil, `the text contains "DHL"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := baseFacts(t)
			if tt.f != nil {
				tt.f(&f)
			}
			tt.rule.Name, tt.rule.Then = "r", tag
			x, err := Explain([]Rule{tt.rule}, f, EventCreate)
			if err != nil {
				t.Fatal(err)
			}
			if r := x.Rules[0]; r.Matched || r.Reason != tt.reason {
				t.Errorf("reason %q, want %q", r.Reason, tt.reason)
			}
		})
	}
	if _, err := Explain([]Rule{{Name: ""}}, Facts{}, EventCreate); err == nil {
		t.Error("Explain of invalid rules did not fail")
	}
}

func TestExplainOverriddenPriority(t *testing.T) {
	f := baseFacts(t)
	f.PriorityOverridden = true
	x, err := Explain([]Rule{{Name: "r", Then: Actions{Priority: PriorityAction{Set: "P1"}}}}, f, EventCreate)
	if err != nil {
		t.Fatal(err)
	}
	r := x.Rules[0]
	if !r.Matched || len(r.Changes) != 0 || !reflect.DeepEqual(r.Actions, []string{"set priority P1 (not applied: a person set the priority)"}) {
		t.Errorf("%+v", r)
	}
}
