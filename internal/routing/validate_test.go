package routing

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/apperr"
)

func set(vals ...string) func(string) bool {
	return func(v string) bool { return slices.Contains(vals, v) }
}

var refs = Refs{
	Market:           set("GB", "DE", "US"),
	Team:             set("logistics", "payments", "governance", "trust_safety"),
	Category:         set("logistics/lost_parcel", "payments/funds_held", "safety/product_safety"),
	Group:            set("logistics", "payments", "safety", "governance"),
	User:             set("amelia.clarke@flare.example", "jonas.weber@flare.example"),
	Calendar:         set("GB", "emea_business"),
	SLAPolicy:        set("Tier-1 sellers"),
	EscalationPolicy: set("Safety emergency"),
	MoneyField:       set("amount_held"),
}

func paths(errs []apperr.FieldError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Field)
	}
	return out
}

func TestValidateRulesValid(t *testing.T) {
	rules := []Rule{{
		Name: "Everything", On: []Event{EventCreate},
		When: Conditions{Category: []string{"logistics", "payments/", "safety/product_safety"}, Market: []string{"GB"},
			Language: []string{"de", "fr-BE"}, Channel: []string{"email"}, Team: []string{"logistics"}, SellerTier: []int{1, 2},
			SellerRiskFlags: []string{"new_seller"}, Requester: []string{"a@b.example", "@Seller.example"}, Tags: []string{"vip"},
			Priority: []string{"P1"}, HighRisk: False, BusinessHours: BusinessHours{Calendar: "GB", Open: True},
			Keywords: []string{"refund*", "account suspended", "返金"}, AllKeywords: []string{"dhl"}},
		Unless: Conditions{BusinessHours: BusinessHours{Open: False}},
		Then: Actions{Team: "payments", Priority: PriorityAction{Raise: 2}, AddTags: []string{"x.y:z-1"}, HighRisk: true,
			Sensitivity: "restricted", Assign: "Amelia.Clarke@flare.example", AddWatchers: []string{"jonas.weber@flare.example"},
			SLAPolicy: "Tier-1 sellers", Escalate: "Safety emergency", Notify: []string{"owner", "team", "governance", "amelia.clarke@flare.example"}},
	}, {Name: "Stop only", When: Conditions{Tags: []string{"test"}}, Stop: true}}
	if errs := ValidateRules(rules, refs); len(errs) != 0 {
		t.Errorf("valid rules: %v", errs)
	}
}

func TestValidateRulesErrors(t *testing.T) {
	rules := []Rule{
		{Name: "", Then: tag},        // 0
		{Name: " padded", Then: tag}, // 1
		{Name: "dup", Then: tag},     // 2
		{Name: "dup", On: []Event{"delete", "create", "create"}, Then: tag}, // 3
		{Name: "conditions", Then: tag, When: Conditions{ // 4
			Category:        []string{"logistics/unknown", "nogroup", "Bad Key", "logistics", "logistics"},
			Market:          []string{"FR", "gb"},
			Language:        []string{"english", "de_DE"},
			Channel:         []string{"fax"},
			Team:            []string{"marketing", "Logistics"},
			SellerTier:      []int{0, 5, 1, 1},
			SellerRiskFlags: []string{"Bad-Flag"},
			Requester:       []string{"not-an-email", "@nodot", "Name <a@b.example>"},
			Tags:            []string{"Has Space", strings.Repeat("t", 41)},
			Priority:        []string{"P5", "p1"},
			HighRisk:        "yes",
			BusinessHours:   BusinessHours{Calendar: "mars"},
			Keywords:        []string{"", "  ", "re*fund", "ok*"},
			AllKeywords:     []string{strings.Repeat("x", 201)},
		}},
		{Name: "business hours", Then: tag, Unless: Conditions{BusinessHours: BusinessHours{Calendar: "GB", Open: "maybe"}}}, // 5
		{Name: "actions", Then: Actions{ // 6
			Team:        "marketing",
			Priority:    PriorityAction{Set: "P0", Raise: 4},
			AddTags:     []string{"ok", "ok", "NO"},
			Sensitivity: "secret",
			Assign:      "randomly",
			AddWatchers: []string{"nobody@flare.example", "x"},
			SLAPolicy:   "Gold",
			Escalate:    "Nope",
			Notify:      []string{"everyone", "marketing", "nobody@flare.example", "owner", "owner"},
		}},
		{Name: "no actions"}, // 7
		{Name: "lower", Then: Actions{Priority: PriorityAction{Lower: -1}}},     // 8
		{Name: "assign unknown", Then: Actions{Assign: "nobody@flare.example"}}, // 9
		{Name: "escalate spaces", Then: Actions{Escalate: " Safety emergency"}}, // 10
	}
	got := ValidateRules(rules, refs)
	want := []string{
		"routing_rules[0].name",
		"routing_rules[1].name",
		"routing_rules[3].name",
		"routing_rules[3].on[0]",
		"routing_rules[3].on[2]",
		"routing_rules[4].when.category[0]",
		"routing_rules[4].when.category[1]",
		"routing_rules[4].when.category[2]",
		"routing_rules[4].when.category[4]",
		"routing_rules[4].when.market[0]",
		"routing_rules[4].when.market[1]",
		"routing_rules[4].when.language[0]",
		"routing_rules[4].when.language[1]",
		"routing_rules[4].when.channel[0]",
		"routing_rules[4].when.team[0]",
		"routing_rules[4].when.team[1]",
		"routing_rules[4].when.seller_tier[0]",
		"routing_rules[4].when.seller_tier[1]",
		"routing_rules[4].when.seller_tier[3]",
		"routing_rules[4].when.seller_risk_flags[0]",
		"routing_rules[4].when.requester[0]",
		"routing_rules[4].when.requester[1]",
		"routing_rules[4].when.requester[2]",
		"routing_rules[4].when.tags[0]",
		"routing_rules[4].when.tags[1]",
		"routing_rules[4].when.priority[0]",
		"routing_rules[4].when.priority[1]",
		"routing_rules[4].when.high_risk",
		"routing_rules[4].when.business_hours.open",
		"routing_rules[4].when.business_hours.calendar",
		"routing_rules[4].when.keywords[0]",
		"routing_rules[4].when.keywords[1]",
		"routing_rules[4].when.keywords[2]",
		"routing_rules[4].when.all_keywords[0]",
		"routing_rules[5].unless.business_hours.open",
		"routing_rules[6].then.team",
		"routing_rules[6].then.priority",
		"routing_rules[6].then.priority.set",
		"routing_rules[6].then.priority.raise",
		"routing_rules[6].then.add_tags[1]",
		"routing_rules[6].then.add_tags[2]",
		"routing_rules[6].then.sensitivity",
		"routing_rules[6].then.assign",
		"routing_rules[6].then.add_watchers[0]",
		"routing_rules[6].then.add_watchers[1]",
		"routing_rules[6].then.sla_policy",
		"routing_rules[6].then.escalate",
		"routing_rules[6].then.notify[0]",
		"routing_rules[6].then.notify[1]",
		"routing_rules[6].then.notify[2]",
		"routing_rules[6].then.notify[4]",
		"routing_rules[7].then",
		"routing_rules[8].then.priority.lower",
		"routing_rules[9].then.assign",
		"routing_rules[10].then.escalate",
	}
	if !reflect.DeepEqual(paths(got), want) {
		t.Errorf("paths\n%s\nwant\n%s", strings.Join(paths(got), "\n"), strings.Join(want, "\n"))
	}
	// A few messages in full.
	msgs := map[string]string{}
	for _, e := range got {
		if _, ok := msgs[e.Field]; !ok {
			msgs[e.Field] = e.Message
		}
	}
	for path, msg := range map[string]string{
		"routing_rules[3].name":                         `duplicate rule name "dup" (also routing_rules[2])`,
		"routing_rules[4].when.market[0]":               `unknown market "FR"`,
		"routing_rules[4].when.channel[0]":              `"fax" is not a channel (one of api, email, web_form, social, leadership, external, alert, phone, internal)`,
		"routing_rules[4].when.category[0]":             `unknown category "logistics/unknown"`,
		"routing_rules[4].when.category[1]":             `unknown category group "nogroup"`,
		"routing_rules[4].when.keywords[2]":             `"*" is allowed only at the end (a prefix: "refund*")`,
		"routing_rules[6].then.sla_policy":              `no SLA policy named "Gold" in sla_policies`,
		"routing_rules[4].when.business_hours.calendar": `no calendar "mars" in calendars`,
	} {
		if msgs[path] != msg {
			t.Errorf("%s: %q, want %q", path, msgs[path], msg)
		}
	}
}

// Without references only the syntax is checked: what Compile does.
func TestCompileChecksSyntaxOnly(t *testing.T) {
	ok := []Rule{{Name: "r", When: Conditions{Market: []string{"FR"}, Team: []string{"marketing"}},
		Then: Actions{SLAPolicy: "Gold", Assign: "nobody@flare.example", Escalate: "Whatever"}}}
	if _, err := Compile(ok); err != nil {
		t.Errorf("Compile: %v", err)
	}
	_, err := Compile([]Rule{{Name: "r", When: Conditions{Channel: []string{"fax"}}, Then: tag}})
	var e *apperr.Invalid
	if !errors.As(err, &e) || len(e.Errors) != 1 || e.Errors[0].Field != "routing_rules[0].when.channel[0]" {
		t.Fatalf("Compile error %v", err)
	}
	if want := `invalid routing configuration: routing_rules[0].when.channel[0]: "fax" is not a channel`; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error text %q", err)
	}
}

func TestValidateWeights(t *testing.T) {
	if errs := ValidateWeights(Weights{}, refs); len(errs) != 0 {
		t.Errorf("zero weights: %v", errs)
	}
	if errs := ValidateWeights(DefaultWeights(), refs); len(errs) != 0 {
		t.Errorf("default weights: %v", errs)
	}
	w := Weights{
		CategorySeverity: map[string]int{"0": 5, "1": 2000},
		SellerTier:       map[string]int{"tier1": 5},
		Channel:          map[string]int{"fax": 10, "phone": 5},
		MoneyAtStake:     []MoneyStep{{AtLeast: 1000, Points: 5}, {AtLeast: 1000, Points: 10}, {AtLeast: -1, Points: 1}},
		MoneyFields:      []string{"amount_held", "order_value", "Bad"},
		HighRisk:         -1001,
		SafetyCategories: []string{"safety", "nope", "safety/unknown"},
		SafetyFlags:      []string{"Counterfeit"},
		RepeatContacts:   PerCount{Each: -1},
		Reopens:          PerCount{Max: 5000},
		SLAPressure:      map[string]int{"late": 5},
		Thresholds:       map[string]int{"P2": 80, "P4": 1},
		Off:              []string{"channel", "mood"},
	}
	want := []string{
		"priority.category_severity.0",
		"priority.category_severity.1",
		"priority.seller_tier.tier1",
		"priority.channel.fax",
		"priority.sla_pressure.late",
		"priority.money_at_stake[1].at_least",
		"priority.money_at_stake[2].at_least",
		"priority.money_fields[1]",
		"priority.money_fields[2]",
		"priority.high_risk",
		"priority.safety_categories[1]",
		"priority.safety_categories[2]",
		"priority.safety_flags[0]",
		"priority.repeat_contacts.each",
		"priority.reopens.max",
		"priority.thresholds.P4",
		"priority.thresholds",
		"priority.off[1]",
	}
	got := ValidateWeights(w, refs)
	if !reflect.DeepEqual(paths(got), want) {
		t.Errorf("paths\n%s\nwant\n%s", strings.Join(paths(got), "\n"), strings.Join(want, "\n"))
	}
	for _, e := range got {
		if e.Field == "priority.thresholds" && e.Message != "must fall from P1 to P3 (now P1 70, P2 80, P3 20)" {
			t.Errorf("thresholds message %q", e.Message)
		}
		if e.Field == "priority.channel.fax" && !strings.HasPrefix(e.Message, `unknown channel "fax" (one of api,`) {
			t.Errorf("channel message %q", e.Message)
		}
	}
	// Validate runs both, weights first.
	all := Validate([]Rule{{Name: "r"}}, Weights{Off: []string{"x"}}, refs)
	if want := []string{"priority.off[0]", "routing_rules[0].then"}; !reflect.DeepEqual(paths(all), want) {
		t.Errorf("Validate paths %v, want %v", paths(all), want)
	}
}
