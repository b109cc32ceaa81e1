package routing

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// deskDoc is the part of the desk document this package owns.
type deskDoc struct {
	Priority     Weights `yaml:"priority"`
	RoutingRules []Rule  `yaml:"routing_rules"`
}

// docExample is the YAML example of the package doc, so that the example
// the README copies is known to decode strictly and validate.
func docExample(t *testing.T) []byte {
	t.Helper()
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	in := false
	for _, line := range strings.Split(string(src), "\n") {
		switch {
		case strings.HasPrefix(line, "//\t"):
			in = true
			b.WriteString(strings.TrimPrefix(line, "//\t") + "\n")
		case line == "//" && in:
			b.WriteString("\n")
		case in:
			return b.Bytes()
		}
	}
	return b.Bytes()
}

func strictDecode(t *testing.T, data []byte) deskDoc {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var d deskDoc
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("decode: %v\n%s", err, data)
	}
	return d
}

func TestDocExample(t *testing.T) {
	d := strictDecode(t, docExample(t))
	r := refs
	r.Team = set("logistics", "payments", "governance", "trust_safety", "escalations")
	r.User = set("amelia.clarke@flare.example", "lead@flare.example")
	r.Calendar = set("GB")
	if errs := Validate(d.RoutingRules, d.Priority, r); len(errs) != 0 {
		t.Fatalf("the doc example does not validate: %v", errs)
	}
	// The priority block spells out the defaults (plus safety flags and a
	// money field).
	want := DefaultWeights()
	want.SafetyFlags = []string{"counterfeit_reports", "product_safety_history"}
	want.MoneyFields = []string{"amount_held"}
	if got := d.Priority.Effective(); !reflect.DeepEqual(got, want) {
		t.Errorf("priority\n%+v\nwant\n%+v", got, want)
	}
	if len(d.RoutingRules) != 3 || d.RoutingRules[2].When.BusinessHours != (BusinessHours{Calendar: "market", Open: False}) ||
		d.RoutingRules[2].On[0] != EventCreate || d.RoutingRules[1].When.Keywords[3] != "火災" {
		t.Errorf("rules %+v", d.RoutingRules)
	}
	rs, err := Compile(d.RoutingRules)
	if err != nil {
		t.Fatal(err)
	}
	out := rs.Route(Facts{Category: "safety/product_safety", Channel: "social", Description: "The charger caught  fire."}, EventCreate)
	if !reflect.DeepEqual(out.Fired, []string{"Regulator and press go to escalations", "Product safety is restricted"}) ||
		out.Sensitivity != "restricted" || out.Escalate != "Safety emergency" {
		t.Errorf("outcome %+v", out)
	}
}

func TestUnknownFieldsRejected(t *testing.T) {
	for _, doc := range []string{
		"routing_rules: [{name: x, when: {markets: [GB]}, then: {team: a}}]",
		"routing_rules: [{name: x, then: {tags: [a]}}]",
		"routing_rules: [{name: x, then: {priority: {up: 1}}}]",
		"priority: {severity: {1: 40}}",
		"priority: {repeat_contacts: {per: 5}}",
	} {
		dec := yaml.NewDecoder(strings.NewReader(doc))
		dec.KnownFields(true)
		var d deskDoc
		if err := dec.Decode(&d); err == nil {
			t.Errorf("%s: decoded", doc)
		}
	}
}

// Rules and weights survive JSON (how the desk stores its document) and
// YAML round trips; optional booleans stay booleans.
func TestRoundTrips(t *testing.T) {
	d := strictDecode(t, docExample(t))
	d.RoutingRules[0].When.HighRisk = False
	d.RoutingRules[0].Unless.HighRisk = True

	j, err := json.Marshal(d.RoutingRules)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(j, []byte(`"high_risk":false`)) || !bytes.Contains(j, []byte(`"open":false`)) {
		t.Errorf("JSON %s", j)
	}
	var back []Rule
	if err := json.Unmarshal(j, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, d.RoutingRules) {
		t.Errorf("JSON round trip\n%+v\n%+v", back, d.RoutingRules)
	}
	// JSON is YAML: the stored JSON decodes strictly too.
	if got := strictDecode(t, append(append([]byte(`{"routing_rules":`), j...), '}')); !reflect.DeepEqual(got.RoutingRules, d.RoutingRules) {
		t.Errorf("JSON as YAML\n%+v", got.RoutingRules)
	}

	y, err := yaml.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(y, []byte("high_risk: false")) || bytes.Contains(y, []byte(`"false"`)) {
		t.Errorf("YAML\n%s", y)
	}
	if got := strictDecode(t, y); !reflect.DeepEqual(got, d) {
		t.Errorf("YAML round trip\n%+v\n%+v", got, d)
	}

	var b OptBool
	if err := json.Unmarshal([]byte(`"true"`), &b); err != nil || b != True {
		t.Errorf("string form: %q %v", b, err)
	}
	if err := json.Unmarshal([]byte(`3`), &b); err == nil {
		t.Error("a number decoded as an optional boolean")
	}
}
