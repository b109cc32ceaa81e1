package routing

import (
	"slices"
	"testing"
)

// Rule conditions take language tags by the one rule (internal/input):
// the same tags a case and a market may have, in any case.
func TestRuleLanguagesUseTheOneRule(t *testing.T) {
	good := []string{"de", "fr-be", "EN-GB", "zh-Hant-TW", "es-419"}
	bad := []string{"english", "de_DE", "en-u-co-phonebk", "zz", "x-private", "de\u202e"}
	rules := []Rule{{Name: "Languages", When: Conditions{Language: append(slices.Clone(good), bad...)}, Then: Actions{AddTags: []string{"lang"}}}}
	got := paths(ValidateRules(rules, refs))
	var want []string
	for i := range bad {
		want = append(want, at("routing_rules[0].when.language", len(good)+i))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("errors at %v, want %v", got, want)
	}
}
