package desk_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	. "github.com/flare-desk/flare/internal/desk" // read as if inside desk: see config_test.go
)

func TestParseStrict(t *testing.T) {
	base := string(ExampleYAML)
	cases := []struct {
		name, old, new string
		path, msg      string
	}{
		{"unknown top-level key", "resolutions:\n", "calendar:\n  x: 1\nresolutions:\n", "calendar", "unknown key (line"},
		{"unknown market key", "timezone: Europe/Berlin", "timezone: Europe/Berlin\n    tz: CET", "markets[1].tz", "unknown key (line 12)"},
		{"unknown field key", "type: date", "type: date\n        format: iso", "categories[1].fields[1].format", "unknown key"},
		{"misspelt seller key", "account_manager: sophie.martin@flare.example\n    risk_flags", "acount_manager: sophie.martin@flare.example\n    risk_flags", "sellers[2].acount_manager", "unknown key"},
		{"tier not a number", "tier: 4", "tier: four", "sellers[3].tier", "whole number"},
		{"tier a float", "tier: 4", "tier: 4.5", "sellers[3].tier", "whole number"},
		{"required not bool", "required: true\n        options: [counterfeit", "required: yes please\n        options: [counterfeit", "categories[2].fields[0].required", "true or false"},
		{"languages not a list", "languages: [de, en]\n    holidays", "languages: de\n    holidays", "markets[1].languages", "must be a list"},
		{"market not a mapping", "  - code: US\n", "  - US\n  - code: US\n", "markets[2]", "must be a mapping"},
		{"name a mapping", "name: Germany", "name: {de: Deutschland}", "markets[1].name", "must be a string"},
		{"duplicate key", "timezone: Europe/Berlin", "timezone: Europe/Berlin\n    timezone: Europe/Paris", "markets[1].timezone", "duplicate key (line 12; first at line 11)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := parseErrors(t, replace(t, base, tc.old, tc.new))
			for _, e := range errs {
				if e.Field == tc.path && strings.Contains(e.Message, tc.msg) {
					return
				}
			}
			t.Errorf("errors %v lack %s: …%s…", errs, tc.path, tc.msg)
		})
	}

	t.Run("every unknown key at once", func(t *testing.T) {
		doc := replace(t, base, "code: GB", "code: GB\n    colour: red")
		doc = replace(t, doc, "tier: 4", "tier: 4\n    rating: 5")
		doc = replace(t, doc, "resolutions:\n", "sla_policies: []\nresolutions:\n")
		got := paths(parseErrors(t, doc))
		want := []string{"markets[0].colour", "sla_policies", "sellers[3].rating"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("paths = %v, want %v", got, want)
		}
	})

	t.Run("syntax error", func(t *testing.T) {
		errs := parseErrors(t, "markets:\n  - code: GB\n   name: x\n")
		if len(errs) != 1 || errs[0].Field != "" || !strings.Contains(errs[0].Message, "line") {
			t.Errorf("errors = %v", errs)
		}
	})
	t.Run("two documents", func(t *testing.T) {
		errs := parseErrors(t, base+"\n---\nmarkets: []\n")
		if len(errs) != 1 || !strings.Contains(errs[0].Message, "single YAML document") {
			t.Errorf("errors = %v", errs)
		}
	})
	t.Run("not a mapping", func(t *testing.T) {
		errs := parseErrors(t, "- a\n- b\n")
		if len(errs) != 1 || !strings.Contains(errs[0].Message, "must be a mapping") {
			t.Errorf("errors = %v", errs)
		}
	})
	t.Run("empty", func(t *testing.T) {
		got := paths(parseErrors(t, ""))
		if !reflect.DeepEqual(got, []string{"users", "resolutions"}) {
			t.Errorf("paths = %v", got)
		}
	})
	t.Run("too large", func(t *testing.T) {
		errs := parseErrors(t, base+strings.Repeat("#", MaxDocumentSize))
		if len(errs) != 1 || !strings.Contains(errs[0].Message, "larger") {
			t.Errorf("errors = %v", errs)
		}
	})
	t.Run("alias bomb", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
		for i := 1; i < 9; i++ {
			b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
			for j := range 10 {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString("*a" + string(rune('0'+i-1)))
			}
			b.WriteString("]\n")
		}
		b.WriteString("resolutions: *a8\n")
		errs := parseErrors(t, b.String())
		if len(errs) > 20 {
			t.Errorf("%d errors", len(errs))
		}
	})
	t.Run("aliases work", func(t *testing.T) {
		doc := replace(t, base, "languages: [en]\n    holidays: GB-ENG", "languages: &english [en]\n    holidays: GB-ENG")
		doc = replace(t, doc, "    name: Priya Shah\n    role: agent\n    languages: [en]", "    name: Priya Shah\n    role: agent\n    languages: *english")
		c, err := Parse([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c, mustExample(t)) {
			t.Error("aliased document differs from the example")
		}
	})
}

func TestRoundTrip(t *testing.T) {
	c := mustExample(t)
	out, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(out)
	if err != nil {
		t.Fatalf("Parse(Marshal(c)): %v\n%s", err, out)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("Parse(Marshal(c)) != c\n got %+v\nwant %+v", back, c)
	}
	out2, err := Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, out2) {
		t.Errorf("Marshal not stable:\n%s\n---\n%s", out, out2)
	}
	if !bytes.HasPrefix(out, []byte("markets:\n  - code: GB\n")) || !bytes.Contains(out, []byte("\n\nteams:\n")) {
		t.Errorf("unexpected layout:\n%s", out)
	}

	// Awkward values survive: strings that look like numbers or booleans,
	// long text, quotes, unicode, long lists, a hand-built config in
	// non-canonical order.
	c.Markets[0].Name = "yes"
	c.Teams[0].Name = "0123"
	c.Categories[0].Name = strings.Repeat("very long name ", 12)[:169]
	c.Categories[0].Fields[2].Options = append(c.Categories[0].Fields[2].Options, "Post: \"Speedy\" #1", "null", "Évry Colis", "- dash", "true")
	for i := range 40 {
		c.Resolutions = append(c.Resolutions, "extra_resolution_code_"+strings.Repeat("x", i))
	}
	c.Users[0], c.Users[4] = c.Users[4], c.Users[0]
	c.Users[0].Email = "Sophie.Martin@Flare.Example"
	c.Sellers[0], c.Sellers[5] = c.Sellers[5], c.Sellers[0]
	c.Categories[1].Severity = 0
	if errs := testSchema(t).Validate(c); errs != nil {
		t.Fatal(errs)
	}
	out, err = Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err = Parse(out)
	if err != nil {
		t.Fatalf("Parse(Marshal(c)): %v\n%s", err, out)
	}
	if !reflect.DeepEqual(back, c.Canonical()) {
		t.Errorf("Parse(Marshal(c)) != canonical(c)\n%s", out)
	}
	if back.Users[0].Email != "amelia.clarke@flare.example" || back.Users[4].Email != "sophie.martin@flare.example" || back.Sellers[0].ID != "S-1001" {
		t.Errorf("not canonical: users %v sellers %v", back.Users, back.Sellers)
	}
	if back.Categories[1].Severity != DefaultSeverity {
		t.Errorf("severity %d", back.Categories[1].Severity)
	}
	out2, _ = Marshal(back)
	if !bytes.Equal(out, out2) {
		t.Errorf("Marshal not stable:\n%s\n---\n%s", out, out2)
	}
}

func TestMarshalEmpty(t *testing.T) {
	out, err := Marshal(&Config{})
	if err != nil {
		t.Fatal(err)
	}
	want := "markets: []\n\nteams: []\n\ncategories: []\n\nresolutions: []\n\nusers: []\n\nsellers: []\n"
	if string(out) != want {
		t.Errorf("Marshal(empty) = %q", out)
	}
}

// JSON is YAML: the admin API can hand a JSON body to Parse and get the same
// strict checks.
func TestParseJSON(t *testing.T) {
	c := mustExample(t)
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Error("Parse(JSON) differs")
	}
	errs := parseErrors(t, `{"markets": [{"code": "GB", "name": "UK", "timezone": "Europe/London", "languages": ["en"], "colour": 1}]}`)
	if errs[0].Field != "markets[0].colour" {
		t.Errorf("errors = %v", errs)
	}
}
