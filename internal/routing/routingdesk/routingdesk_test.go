package routingdesk

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/routing"
)

func deskSchema(t *testing.T) *desk.Schema {
	t.Helper()
	s, err := desk.NewSchema(Sections()...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The example desk's priority and rules, read through the accessors.
func TestSections(t *testing.T) {
	c, err := deskSchema(t).Example()
	if err != nil {
		t.Fatal(err)
	}
	if w := WeightsOf(c); !slices.Equal(w.MoneyFields, []string{"amount_held"}) {
		t.Errorf("weights %+v", w)
	}
	rules := RulesOf(c)
	if len(rules) == 0 || rules[0].Name != "Counterfeit reports go to Trust & Safety" {
		t.Fatalf("rules %+v", rules)
	}
	rs := RulesetOf(c)
	if rs == nil || RulesetOf(c) != rs {
		t.Fatal("RulesetOf does not keep one compiled ruleset per Config")
	}
	out := rs.Route(routing.Facts{Category: "logistics/lost_parcel", Title: "Fake trainers", Description: "counterfeit"}, routing.EventCreate)
	if out.Team != "trust_safety" {
		t.Errorf("route %+v", out)
	}
	// A desk without the sections has default weights and no rules.
	var empty desk.Config
	if RulesOf(&empty) != nil || !reflect.DeepEqual(WeightsOf(&empty), routing.Weights{}) || RulesetOf(&empty) == nil {
		t.Error("empty desk")
	}
}

// The sections check names against the rest of the document.
func TestSectionsValidate(t *testing.T) {
	doc := strings.NewReplacer(
		"team: trust_safety\n      add_tags", "team: dispatch\n      add_tags",
		"money_fields: [amount_held]", "money_fields: [amount]",
	).Replace(string(desk.ExampleYAML))
	_, err := deskSchema(t).Parse([]byte(doc))
	var inv *apperr.Invalid
	if !errors.As(err, &inv) {
		t.Fatalf("Parse = %v", err)
	}
	var got []string
	for _, e := range inv.Errors {
		got = append(got, e.String())
	}
	want := []string{`priority.money_fields[0]: no money field "amount" in any category`, `routing_rules[0].then.team: unknown team "dispatch"`}
	if !slices.Equal(got, want) {
		t.Errorf("errors\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestDiffRules(t *testing.T) {
	a := []routing.Rule{{Name: "A", Then: routing.Actions{AddTags: []string{"a"}}}, {Name: "B", Then: routing.Actions{AddTags: []string{"b"}}}}
	b := []routing.Rule{a[1], {Name: "A", Then: routing.Actions{AddTags: []string{"x"}}}}
	got := diffRules(a, b)
	want := []string{`routing rule A definition {"name":"A","then":{"add_tags":["a"]}} -> {"name":"A","then":{"add_tags":["x"]}}`, "routing rules reordered"}
	if !slices.Equal(got, want) {
		t.Errorf("diff\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
