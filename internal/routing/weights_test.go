package routing

import (
	"reflect"
	"testing"
)

// The baseline cases below were worked out by hand from the scoring Flare
// used before weights were configurable (cases.Score): severity
// {1:40,2:25,3:10,4:0}, tier {1:25,2:15,3:5,4:0}, channel {leadership:20,
// external:20, social:15}, high risk 30, P1 ≥ 70, P2 ≥ 45, P3 ≥ 20.
func TestScoreBaseline(t *testing.T) {
	tests := []struct {
		name    string
		f       Facts
		prio    string
		total   int
		reasons []Reason
	}{
		{"lost parcel, tier 1, email", Facts{Category: "logistics/lost_parcel", CategorySeverity: 3, SellerTier: 1, Channel: "email"},
			"P3", 35, []Reason{
				{FactorSeverity, "logistics/lost_parcel is severity 3", 10},
				{FactorSellerTier, "tier 1 seller", 25},
			}},
		{"suspension, tier 1, leadership", Facts{Category: "governance/account_suspension", CategorySeverity: 2, SellerTier: 1, Channel: "leadership"},
			"P1", 70, []Reason{
				{FactorSeverity, "governance/account_suspension is severity 2", 25},
				{FactorSellerTier, "tier 1 seller", 25},
				{FactorChannel, "raised through leadership", 20},
			}},
		{"funds held, tier 2, api", Facts{Category: "payments/funds_held", CategorySeverity: 2, SellerTier: 2, Channel: "api"},
			"P3", 40, []Reason{
				{FactorSeverity, "payments/funds_held is severity 2", 25},
				{FactorSellerTier, "tier 2 seller", 15},
			}},
		{"funds held, tier 2, high risk", Facts{Category: "payments/funds_held", CategorySeverity: 2, SellerTier: 2, Channel: "api", HighRisk: true},
			"P1", 70, []Reason{
				{FactorSeverity, "payments/funds_held is severity 2", 25},
				{FactorSellerTier, "tier 2 seller", 15},
				{FactorHighRisk, "flagged high risk", 30},
			}},
		{"suspension, tier 3, social", Facts{Category: "governance/account_suspension", CategorySeverity: 2, SellerTier: 3, Channel: "social"},
			"P2", 45, []Reason{
				{FactorSeverity, "governance/account_suspension is severity 2", 25},
				{FactorSellerTier, "tier 3 seller", 5},
				{FactorChannel, "raised through social", 15},
			}},
		{"delayed delivery, no seller", Facts{Category: "logistics/delayed_delivery", CategorySeverity: 4, Channel: "web_form"},
			"P4", 0, []Reason{}},
		{"severity not given counts as 3", Facts{Category: "x/y", SellerTier: 4, Channel: "external"},
			"P3", 30, []Reason{
				{FactorSeverity, "x/y is severity 3", 10},
				{FactorChannel, "raised through external", 20},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, w := range []Weights{{}, DefaultWeights()} {
				prio, reasons, total := Score(w, tt.f)
				if prio != tt.prio || total != tt.total || !reflect.DeepEqual(reasons, tt.reasons) {
					t.Errorf("Score = %s, %d, %+v; want %s, %d, %+v", prio, total, reasons, tt.prio, tt.total, tt.reasons)
				}
			}
		})
	}
}

func TestScoreNewFactors(t *testing.T) {
	base := Facts{Category: "logistics/delayed_delivery", CategorySeverity: 4, Channel: "email"}
	tests := []struct {
		name   string
		change func(*Facts)
		reason Reason // the one reason expected
	}{
		{"money over 10,000", func(f *Facts) { f.MoneyAtStake, f.Currency = 12500, "EUR" },
			Reason{FactorMoney, "EUR 12,500 at stake (at least 10,000)", 20}},
		{"money over 1,000 with cents", func(f *Facts) { f.MoneyAtStake, f.Currency = 1234.5, "GBP" },
			Reason{FactorMoney, "GBP 1,234.50 at stake (at least 1,000)", 10}},
		{"money in a million, no currency", func(f *Facts) { f.MoneyAtStake = 1_250_000 },
			Reason{FactorMoney, "1,250,000 at stake (at least 10,000)", 20}},
		{"one repeat contact", func(f *Facts) { f.RepeatContacts = 1 },
			Reason{FactorRepeatContacts, "1 earlier contact about this seller and category", 5}},
		{"repeat contacts capped", func(f *Facts) { f.RepeatContacts = 7 },
			Reason{FactorRepeatContacts, "7 earlier contacts about this seller and category", 15}},
		{"linked repeats", func(f *Facts) { f.LinkedRepeats = 2 },
			Reason{FactorRepeatContacts, "2 repeat contacts linked to this case", 10}},
		{"linked and earlier repeats", func(f *Facts) { f.LinkedRepeats, f.RepeatContacts = 1, 1 },
			Reason{FactorRepeatContacts, "1 repeat contact linked to this case and 1 earlier contact about this seller and category", 10}},
		{"reopens", func(f *Facts) { f.Reopens = 2 }, Reason{FactorReopens, "reopened 2 times", 10}},
		{"reopened once", func(f *Facts) { f.Reopens = 1 }, Reason{FactorReopens, "reopened once", 5}},
		{"sla warning", func(f *Facts) { f.SLAState = SLAWarning },
			Reason{FactorSLAPressure, "an SLA clock is past its warning threshold", 10}},
		{"sla breached", func(f *Facts) { f.SLAState = SLABreached }, Reason{FactorSLAPressure, "an SLA clock has breached", 20}},
		{"safety category group", func(f *Facts) { f.Category = "safety/dangerous_goods" },
			Reason{FactorSafety, "safety category safety/dangerous_goods", 30}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := base
			tt.change(&f)
			_, reasons, total := Score(Weights{}, f)
			if len(reasons) != 1 || reasons[0] != tt.reason || total != tt.reason.Points {
				t.Errorf("reasons %+v (total %d), want [%+v]", reasons, total, tt.reason)
			}
		})
	}
	// Below every threshold: nothing.
	f := base
	f.MoneyAtStake = 999.99
	if _, reasons, _ := Score(Weights{}, f); len(reasons) != 0 {
		t.Errorf("999.99 at stake gave %+v", reasons)
	}
}

func TestScoreSafetyFlagsAndEverything(t *testing.T) {
	w := Weights{SafetyFlags: []string{"counterfeit_reports"}}
	f := Facts{Category: "governance/listing_removal", CategorySeverity: 3, SellerTier: 1, Channel: "social",
		SellerRiskFlags: []string{"new_seller", "counterfeit_reports"}, HighRisk: true, MoneyAtStake: 50000, Currency: "USD",
		RepeatContacts: 2, Reopens: 5, SLAState: SLABreached}
	prio, reasons, total := Score(w, f)
	want := []Reason{
		{FactorSeverity, "governance/listing_removal is severity 3", 10},
		{FactorSellerTier, "tier 1 seller", 25},
		{FactorMoney, "USD 50,000 at stake (at least 10,000)", 20},
		{FactorChannel, "raised through social", 15},
		{FactorHighRisk, "flagged high risk", 30},
		{FactorSafety, "seller flagged counterfeit_reports", 30},
		{FactorRepeatContacts, "2 earlier contacts about this seller and category", 10},
		{FactorReopens, "reopened 5 times", 15},
		{FactorSLAPressure, "an SLA clock has breached", 20},
	}
	if prio != "P1" || total != 175 || !reflect.DeepEqual(reasons, want) {
		t.Errorf("Score = %s, %d, %+v", prio, total, reasons)
	}
	// The flag alone is not a safety signal without safety_flags.
	if _, reasons, _ := Score(Weights{}, f); slicesHasFactor(reasons, FactorSafety) {
		t.Error("safety counted without safety_flags")
	}
}

func slicesHasFactor(rs []Reason, factor string) bool {
	for _, r := range rs {
		if r.Factor == factor {
			return true
		}
	}
	return false
}

func TestScoreCustomWeights(t *testing.T) {
	f := Facts{Category: "payments/payout_failed", CategorySeverity: 2, SellerTier: 2, Channel: "phone", MoneyAtStake: 600, Currency: "EUR"}
	tests := []struct {
		name  string
		w     Weights
		prio  string
		total int
	}{
		{"defaults", Weights{}, "P3", 40},
		{"channel merges key by key", Weights{Channel: map[string]int{"phone": 10}}, "P2", 50},
		{"severity key override keeps others", Weights{CategorySeverity: map[string]int{"2": 35}}, "P2", 50},
		{"explicit zero in a map", Weights{SellerTier: map[string]int{"2": 0}}, "P3", 25},
		{"money steps replace", Weights{MoneyAtStake: []MoneyStep{{AtLeast: 500, Points: 40}}}, "P1", 80},
		{"thresholds", Weights{Thresholds: map[string]int{"P3": 41}}, "P4", 40},
		{"thresholds P1 lowered", Weights{Thresholds: map[string]int{"P1": 40}}, "P1", 40},
		{"off", Weights{Off: []string{FactorSeverity}}, "P4", 15},
		{"negative weight", Weights{Channel: map[string]int{"phone": -20}}, "P3", 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prio, reasons, total := Score(tt.w, f)
			if prio != tt.prio || total != tt.total {
				t.Errorf("Score = %s, %d (%+v); want %s, %d", prio, total, reasons, tt.prio, tt.total)
			}
			sum := 0
			for _, r := range reasons {
				if r.Points == 0 {
					t.Errorf("zero reason listed: %+v", r)
				}
				sum += r.Points
			}
			if sum != total {
				t.Errorf("reasons add to %d, total %d", sum, total)
			}
		})
	}
	// Custom high-risk, safety and per-count points.
	w := Weights{HighRisk: 50, Safety: 5, Reopens: PerCount{Each: 10, Max: 40}, RepeatContacts: PerCount{Max: 8}}
	g := Facts{Category: "safety/x", CategorySeverity: 4, HighRisk: true, Reopens: 3, RepeatContacts: 3}
	_, reasons, total := Score(w, g)
	want := []Reason{
		{FactorHighRisk, "flagged high risk", 50},
		{FactorSafety, "safety category safety/x", 5},
		{FactorRepeatContacts, "3 earlier contacts about this seller and category", 8},
		{FactorReopens, "reopened 3 times", 30},
	}
	if total != 93 || !reflect.DeepEqual(reasons, want) {
		t.Errorf("got %d %+v", total, reasons)
	}
}

func TestEffectiveWeights(t *testing.T) {
	if got := (Weights{}).Effective(); !reflect.DeepEqual(got, DefaultWeights()) {
		t.Errorf("Weights{}.Effective() = %+v, want the defaults", got)
	}
	got := Weights{Channel: map[string]int{"phone": 10, "social": 0}, HighRisk: 45, Reopens: PerCount{Max: 30}}.Effective()
	if want := map[string]int{"leadership": 20, "external": 20, "social": 0, "phone": 10}; !reflect.DeepEqual(got.Channel, want) {
		t.Errorf("channel %v, want %v", got.Channel, want)
	}
	if got.HighRisk != 45 || got.Reopens != (PerCount{5, 30}) || got.Safety != 30 {
		t.Errorf("got %+v", got)
	}
	// Effective never shares the caller's maps.
	w := Weights{Channel: map[string]int{"phone": 1}}
	w.Effective().Channel["phone"] = 99
	if w.Channel["phone"] != 1 {
		t.Error("Effective wrote into the caller's map")
	}
}
