package desk_test

import (
	"strings"
	"testing"

	. "github.com/flare-desk/flare/internal/desk" // read as if inside desk: see config_test.go
)

// Strings in the desk document pass the input rules, with the path of the
// offending value: YAML escapes can carry what the YAML reader itself lets
// through (NUL, ANSI escapes, bidi overrides).
func TestParseAppliesTheInputRules(t *testing.T) {
	base := string(ExampleYAML)
	for _, tc := range []struct {
		name, old, new string
		path, msg      string
	}{
		{"NUL in a name", "name: Germany", `name: "Germ\0any"`, "markets[1].name", "NUL"},
		{"ANSI escape in a name", "name: Germany", `name: "\e[31mGermany"`, "markets[1].name", "control characters (U+001B)"},
		{"unclosed override", "name: Germany", `name: "\u202eGermany"`, "markets[1].name", "bidirectional"},
		{"bare CR", "name: Germany", `name: "Germ\rany"`, "markets[1].name", "carriage return"},
		{"map key with a NUL", "  money_fields: [amount_held]", "  money_fields: [amount_held]\n  channel: {\"lead\\0ership\": 20}", `priority.channel.lead\x00ership`, "key must not contain NUL"},
		{"language in the one rule", "languages: [de, en]", "languages: [de, en-XX-1]", "markets[1].languages[1]", "not a language tag"},
		{"language unknown", "languages: [de, en]", "languages: [de, zz]", "markets[1].languages[1]", "unknown subtag"},
		{"language duplicate in another case", "languages: [de, en]", "languages: [de, DE]", "markets[1].languages[1]", "duplicate"},
	} {
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
	// Tags in another case are accepted and stored canonically.
	c, err := Parse([]byte(replace(t, base, "languages: [de, en]", "languages: [de, EN-gb]")))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Markets[1].Languages; len(got) != 2 || got[1] != "en-GB" {
		t.Fatalf("languages %v", got)
	}
}
