package routing

import (
	"testing"
)

var testWatch = CompileWatch([]WatchList{
	{Language: "en", Terms: []string{"fire", "caught fire", "explod*", "electric shock*", "recall*"}},
	{Language: "de", AccentInsensitive: true, Terms: []string{"Stromschlag*", "Rückruf*", "verbrannt*"}},
	{Language: "fr", AccentInsensitive: true, Terms: []string{"brûlé*", "choc électrique", "incendie*"}},
	{Language: "pl", AccentInsensitive: true, Terms: []string{"pożar*", "zapalił się"}},
	{Language: "es", AccentInsensitive: true, Terms: []string{"se incendió", "quemad*"}},
	{Language: "it", AccentInsensitive: true, Terms: []string{"preso fuoco"}},
	{Language: "nl", AccentInsensitive: true, Terms: []string{"in brand", "geëlektrocuteerd"}},
})

func TestWatchFindsTermsAcrossLanguagesAndForms(t *testing.T) {
	for _, tc := range []struct {
		title, desc string
		want        string // term; "" for none
		lang        string
	}{
		{"Product caught fire in customer's home", "", "fire", "en"}, // the first listed term that matches
		{"Battery EXPLODED on charge", "", "explod*", "en"},
		{"Kettle gave an electric shock", "", "electric shock*", "en"},
		{"Order 4411", "The seller announced a recall of this model.", "recall*", "en"},
		{"Ladegerät", "Mein Sohn hat einen Stromschlag bekommen", "Stromschlag*", "de"},
		{"Rueckruf", "Gibt es einen Rückruf für dieses Modell?", "Rückruf*", "de"},
		{"Hand verbrannt", "", "verbrannt*", "de"},
		{"Le câble a brûlé", "", "brûlé*", "fr"},
		{"le cable a brule", "", "brûlé*", "fr"}, // typed without accents
		{"CHOC ÉLECTRIQUE", "", "choc électrique", "fr"},
		{"Pozar w kuchni", "", "pożar*", "pl"},                     // typed without the ogonek
		{"Telefon zapalil sie w nocy", "", "zapalił się", "pl"},    // ł typed as l
		{"La batería se incendio", "", "se incendió", "es"},        // accent dropped
		{"Il caricatore ha preso  fuoco", "", "preso fuoco", "it"}, // white space runs are one
		{"Mijn broer is geelektrocuteerd", "", "geëlektrocuteerd", "nl"},
		{"ﬁre in the box", "", "fire", "en"},                                 // a ligature (NFKC)
		{"ＦＩＲＥ", "", "fire", "en"},                                           // full-width letters (NFKC)
		{"Cafe\u0301 machine burst into an incendie", "", "incendie*", "fr"}, // decomposed text
		// Not hits: words that only contain a term, or split across title and description.
		{"Ceasefire notice", "", "", ""},
		{"The seller fired the courier", "", "", ""},
		{"Caught", "fire", "fire", "en"}, // the word alone is in the description
		{"Brand new phone, wrong colour", "", "", ""},
		{"Electric", "shock absorbers missing", "", ""},
	} {
		hit, ok := testWatch.Find(tc.title, tc.desc)
		if tc.want == "" {
			if ok {
				t.Errorf("%q / %q: found %v, want nothing", tc.title, tc.desc, hit)
			}
			continue
		}
		if !ok || hit.Term != tc.want || hit.Language != tc.lang {
			t.Errorf("%q / %q: found %v (%v), want %q (%s)", tc.title, tc.desc, hit, ok, tc.want, tc.lang)
		}
	}
}

// Accents count in a list that is not accent-insensitive.
func TestWatchAccentSensitiveList(t *testing.T) {
	w := CompileWatch([]WatchList{{Language: "fr", Terms: []string{"brûlé"}}})
	if _, ok := w.Find("brule", ""); ok {
		t.Fatal("an accent-sensitive list matched without the accent")
	}
	if _, ok := w.Find("Brûlé !", ""); !ok {
		t.Fatal("an accent-sensitive list missed its own term")
	}
	var none *Watch
	if _, ok := none.Find("fire", ""); ok {
		t.Fatal("no watch found something")
	}
}

func TestWatchScoresAndRules(t *testing.T) {
	hit, _ := testWatch.Find("Product caught fire in customer's home", "")
	f := Facts{Category: "logistics/lost_parcel", Title: "Product caught fire in customer's home", SafetyTerm: &hit}
	rs, err := Compile([]Rule{{Name: "watch", When: Conditions{SafetyTerm: True}, Then: Actions{Team: "trust_safety", HighRisk: true}}})
	if err != nil {
		t.Fatal(err)
	}
	a := Assess(DefaultWeights(), rs, f, EventCreate)
	if a.Outcome.Team != "trust_safety" || !a.Outcome.HighRisk {
		t.Fatalf("outcome %+v", a.Outcome)
	}
	var got *Reason
	for i, r := range a.Reasons {
		if r.Factor == FactorSafetyTerm {
			got = &a.Reasons[i]
		}
	}
	if got == nil || got.Detail != `safety term "fire" (en)` || got.Points != 30 {
		t.Fatalf("reasons %+v", a.Reasons)
	}
	f.SafetyTerm = nil
	if a := Assess(DefaultWeights(), rs, f, EventCreate); a.Outcome.Team == "trust_safety" {
		t.Fatal("the rule fired without a hit")
	}
}

func TestValidateWatch(t *testing.T) {
	errs := ValidateWatch("safety_watch", []WatchList{{Language: "en", Terms: []string{"fire"}}, {Language: "EN", Terms: []string{" "}}, {Terms: nil}})
	want := map[string]bool{"safety_watch[1].language": true, "safety_watch[1].terms[0]": true,
		"safety_watch[2].language": true, "safety_watch[2].terms": true}
	for _, e := range errs {
		if !want[e.Field] {
			t.Errorf("unexpected %v", e)
		}
		delete(want, e.Field)
	}
	if len(want) > 0 {
		t.Errorf("missing %v in %v", want, errs)
	}
}
