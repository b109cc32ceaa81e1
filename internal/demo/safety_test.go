package demo

import (
	"testing"

	"github.com/flare-desk/flare/internal/cases"
)

// The demo desk's safety watch: a fire in any category, in any of its
// markets' languages, comes out high risk with Trust & Safety on it.
func TestSafetyWatchInEveryCategoryAndLanguage(t *testing.T) {
	cfg := Desk(1)
	titles := map[string]string{
		"en": "Product caught fire in customer's home",
		"de": "Ladegerät hat einen Stromschlag verursacht",
		"fr": "Le chargeur a pris feu dans la cuisine",
		"it": "Il caricabatterie ha preso fuoco in casa",
		"es": "El cargador se incendió en casa del cliente",
		"nl": "De oplader is in brand gevlogen",
		"pl": "Ladowarka zapalila sie w nocy", // typed without Polish letters
	}
	for _, cat := range cfg.Categories {
		for lang, title := range titles {
			in := cases.CreateInput{Title: title, Category: cat.Key, Market: "GB", FieldsLater: true}
			a, err := cases.AssessNew(cfg, in, nil, 0, testNow)
			if err != nil {
				t.Fatalf("%s: %v", cat.Key, err)
			}
			if !a.Outcome.HighRisk || a.Outcome.Team != "trust_safety" {
				t.Errorf("%s / %s %q: high risk %v, team %s", cat.Key, lang, title, a.Outcome.HighRisk, a.Outcome.Team)
			}
			found := false
			for _, r := range a.Reasons {
				found = found || r.Factor == "safety_term"
			}
			if !found {
				t.Errorf("%s / %s: no safety_term reason in %+v", cat.Key, lang, a.Reasons)
			}
		}
	}
	// An ordinary complaint stays where its category sends it.
	a, err := cases.AssessNew(cfg, cases.CreateInput{Title: "Brand new phone arrived in the wrong colour",
		Category: "logistics/lost_parcel", Market: "GB", FieldsLater: true}, nil, 0, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if a.Outcome.Team == "trust_safety" || a.Outcome.HighRisk {
		t.Fatalf("an ordinary case went to %s (high risk %v)", a.Outcome.Team, a.Outcome.HighRisk)
	}
}
