package reviews_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/reviews"
)

const packsYAML = `
review_packs:
  cadences:
    - key: weekly_ops
      name: Weekly operations review
      every: weekly
      day: Monday
      time: "08:00"
      timezone: Europe/London
      audience:
        teams: [logistics]
        users: [Jonas.Weber@flare.example]
        emails: [ops-leads@example.com]
    - key: monthly_leadership
      name: Monthly leadership review
      every: monthly
      day: "2"
      sections: [attention, kpis, markets]
`

// The section parses, validates against the document with every
// problem's path, and export round-trips byte for byte.
func TestDeskSection(t *testing.T) {
	s, err := app.DeskSchema()
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Parse(append(slices.Clone(desk.ExampleYAML), packsYAML...))
	if err != nil {
		t.Fatal(err)
	}
	set := reviews.SettingsOf(c)
	w, ok := set.Cadence("weekly")
	if !ok || w.Key != "weekly_ops" || w.Day != "monday" || w.Audience.Users[0] != "jonas.weber@flare.example" || !w.Has(reviews.SecBreaches) {
		t.Fatalf("weekly %+v", w)
	}
	if m, _ := set.Cadence("monthly_leadership"); m.Has(reviews.SecBreaches) || !m.Has(reviews.SecMarkets) {
		t.Fatalf("monthly sections %v", m.Sections)
	}
	out, err := desk.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := s.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := desk.Marshal(back); string(again) != string(out) {
		t.Error("export does not round-trip")
	}

	bad := strings.NewReplacer("every: weekly", "every: daily", `time: "08:00"`, `time: "8am"`,
		"Europe/London", "Mars/Olympus", "[logistics]", "[night_shift]", "Jonas.Weber@flare.example", "nobody@flare.example",
		`day: "2"`, `day: "31"`, "markets]", "charts]", "key: monthly_leadership", "key: weekly_ops").Replace(packsYAML)
	_, err = s.Parse(append(slices.Clone(desk.ExampleYAML), bad...))
	var inv *apperr.Invalid
	if !errors.As(err, &inv) {
		t.Fatalf("want invalid, got %v", err)
	}
	var got []string
	for _, e := range inv.Errors {
		got = append(got, e.Field)
	}
	for _, want := range []string{"review_packs.cadences[0].every",
		"review_packs.cadences[0].time", "review_packs.cadences[0].timezone", "review_packs.cadences[0].audience.teams[0]",
		"review_packs.cadences[0].audience.users[0]", "review_packs.cadences[1].day", "review_packs.cadences[1].sections[2]",
		"review_packs.cadences[1].key"} {
		if !slices.Contains(got, want) {
			t.Errorf("no error at %s in %v", want, inv.Errors)
		}
	}
	// Unknown keys are refused with their path, like every section.
	if _, err := s.Parse(append(slices.Clone(desk.ExampleYAML), "review_packs:\n  cadence: []\n"...)); err == nil ||
		!strings.Contains(err.Error(), "review_packs.cadence") {
		t.Errorf("unknown key: %v", err)
	}
}
