package routing

import (
	"reflect"
	"testing"
)

func TestAssess(t *testing.T) {
	// Lost parcel, tier 2, email: 10 + 15 = 25 → P3.
	f := Facts{Category: "logistics/lost_parcel", CategorySeverity: 3, SellerTier: 2, Channel: "email", Team: "logistics",
		Title: "Counterfeit goods", Description: "The seller ships counterfeit trainers."}
	rs := mustCompile(t,
		Rule{Name: "P3 lost parcels up", When: Conditions{Priority: []string{"P3"}}, Then: Actions{Priority: PriorityAction{Raise: 1}}},
		Rule{Name: "Counterfeit", When: Conditions{Keywords: []string{"counterfeit"}}, Then: Actions{HighRisk: true, Team: "trust_safety"}},
		Rule{Name: "Tag", Then: Actions{AddTags: []string{"seen"}}},
	)
	a := Assess(Weights{}, rs, f, EventCreate)
	// Re-scored with high risk: 25 + 30 = 55 → P2, then raised by the first
	// rule's action → P1.
	if a.Priority != "P1" || a.Score != 55 || a.Outcome.Priority != "P1" || !a.Outcome.PriorityAdjusted {
		t.Errorf("assessment %+v", a)
	}
	wantReasons := []Reason{
		{FactorSeverity, "logistics/lost_parcel is severity 3", 10},
		{FactorSellerTier, "tier 2 seller", 15},
		{FactorHighRisk, "flagged high risk", 30},
		{FactorRoutingRule, `rule "P3 lost parcels up" moved the priority from P2 to P1`, 0},
	}
	if !reflect.DeepEqual(a.Reasons, wantReasons) {
		t.Errorf("reasons %+v", a.Reasons)
	}
	wantChanges := []Change{
		{"P3 lost parcels up", ActionPriority, "P1", "P2"},
		{"Counterfeit", ActionTeam, "trust_safety", "logistics"},
		{"Counterfeit", ActionHighRisk, "true", "false"},
		{"Tag", ActionAddTags, "seen", ""},
	}
	if !reflect.DeepEqual(a.Outcome.Changes, wantChanges) {
		t.Errorf("changes %+v", a.Outcome.Changes)
	}

	// Without the keyword: no re-score, P3 raised to P2.
	f.Title, f.Description = "Lost", "Nothing special."
	a = Assess(Weights{}, rs, f, EventCreate)
	if a.Priority != "P2" || a.Score != 25 || len(a.Reasons) != 3 || a.Reasons[2].Detail != `rule "P3 lost parcels up" moved the priority from P3 to P2` {
		t.Errorf("assessment %+v", a)
	}

	// A person's priority stands, and the score is still given.
	f.PriorityOverridden, f.Priority = true, "P4"
	a = Assess(Weights{}, rs, f, EventCreate)
	if a.Priority != "P4" || a.Score != 25 || a.Outcome.PriorityAdjusted {
		t.Errorf("overridden: %+v", a)
	}

	// No rules.
	f.PriorityOverridden = false
	if a := Assess(Weights{}, nil, f, EventCreate); a.Priority != "P3" || a.Outcome.Team != "logistics" {
		t.Errorf("no rules: %+v", a)
	}
}

// Replaying can turn an action that changed nothing into one that does,
// and back; the changes follow, in rule order.
func TestAssessReplay(t *testing.T) {
	// sev 2 (25) + tier 3 (5) = 30 → P3; with high risk 60 → P2.
	f := Facts{Category: "governance/account_suspension", CategorySeverity: 2, SellerTier: 3, Channel: "email"}
	rs := mustCompile(t,
		Rule{Name: "lower", Then: Actions{Priority: PriorityAction{Lower: 1}}}, // P3→P4; replayed P2→P3
		Rule{Name: "flag", Then: Actions{HighRisk: true}},
		Rule{Name: "lower again", Then: Actions{Priority: PriorityAction{Lower: 1}}}, // P4→P4 nothing; replayed P3→P4
	)
	a := Assess(Weights{}, rs, f, EventCreate)
	want := []Change{
		{"lower", ActionPriority, "P3", "P2"},
		{"flag", ActionHighRisk, "true", "false"},
		{"lower again", ActionPriority, "P4", "P3"},
	}
	if a.Priority != "P4" || !reflect.DeepEqual(a.Outcome.Changes, want) {
		t.Errorf("priority %s, changes %+v", a.Priority, a.Outcome.Changes)
	}
}
