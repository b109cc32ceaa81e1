package postmortems

import (
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/desk"
)

// Figures counted by hand: five cases, three markets, two sellers (one
// tier 1), EUR 1,250.00 + 99.95 over two cases and GBP 80.00 over one.
func TestComputeImpact(t *testing.T) {
	eur := func(c int64) *Money { return &Money{Currency: "EUR", Cents: c} }
	cs := []ImpactCase{
		{Market: "DE", Status: "open", SellerID: "S-1", Money: eur(125000)},
		{Market: "DE", Status: "resolved", SellerID: "S-1", Money: eur(9995)},
		{Market: "GB", Status: "closed", SellerID: "S-2", Money: &Money{Currency: "GBP", Cents: 8000}},
		{Market: "FR", Status: "pending_internal"},
		{Market: "DE", Status: "new", SellerID: "S-1"},
	}
	im := ComputeImpact(cs, map[string]Seller{"S-1": {Name: "Kaffeehaus", Market: "DE", Tier: 1}, "S-2": {Name: "Tea Ltd", Market: "GB", Tier: 3}})
	if im.Cases != 5 || im.Open != 3 || im.Sellers != 2 || im.KeySellers != 1 {
		t.Fatalf("counts: %+v", im)
	}
	if got := im.MarketsLine(); got != "DE (3), FR (1), GB (1)" {
		t.Errorf("markets %q", got)
	}
	if got := im.MoneyLine(); got != "EUR 1,349.95 over 2 cases; GBP 80.00 over 1 case" {
		t.Errorf("money %q", got)
	}
	if len(im.TopSellers) != 2 || im.TopSellers[0].Name != "Kaffeehaus" || im.TopSellers[0].Cases != 3 {
		t.Errorf("top sellers %+v", im.TopSellers)
	}
	if (Money{Currency: "EUR", Cents: 123456789}).String() != "EUR 1,234,567.89" {
		t.Errorf("thousands: %s", Money{Currency: "EUR", Cents: 123456789})
	}
}

func TestMoneyAtStake(t *testing.T) {
	cfg := &desk.Config{Categories: []desk.Category{{Key: "payments/funds_held", Name: "Funds held", Team: "payments",
		Fields: []desk.FieldDef{{Key: "amount_held", Type: desk.FieldMoney, Currency: "EUR"}, {Key: "other", Type: desk.FieldMoney}}}}}
	m := MoneyAtStake(cfg, "payments/funds_held", map[string]any{
		"amount_held": map[string]any{"amount": "1250.50", "currency": "EUR"},
		"other":       map[string]any{"amount": "20.00", "currency": "EUR"}})
	if m == nil || m.Cents != 125050 || m.Currency != "EUR" {
		t.Fatalf("money %+v", m)
	}
	if MoneyAtStake(cfg, "payments/funds_held", nil) != nil || MoneyAtStake(cfg, "nope", nil) != nil {
		t.Error("money without a field")
	}
}

// The built-in template pre-fills impact and timeline and leaves the rest
// to the writer; publishing needs the required sections written.
func TestRenderDefaultTemplate(t *testing.T) {
	f := sampleFacts
	f.Timeline = []Moment{{At: time.Date(2026, 11, 2, 9, 5, 0, 0, time.UTC), Text: "Declared SEV1 by Amelia"},
		{At: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC), Text: "Mitigated"}}
	d := Render(DefaultSections, f)
	if len(d) != len(DefaultSections) {
		t.Fatalf("%d sections", len(d))
	}
	ci, _ := d.Section("customer_impact")
	want := "- **3** linked cases in GB (2), DE (1)\n- Money at stake: EUR 1,250.00 over 2 cases\n- 1 of them still open when this was written\n"
	if ci.Body != want {
		t.Errorf("customer impact:\n%q\nwant\n%q", ci.Body, want)
	}
	si, _ := d.Section("seller_impact")
	if si.Body != "- **2** sellers affected, 1 of them tier 1\n- Seller (GB, tier 1): 2 cases\n" {
		t.Errorf("seller impact %q", si.Body)
	}
	tl, _ := d.Section("timeline")
	if tl.Body != "- 2026-11-02 09:05 — Declared SEV1 by Amelia\n- 2026-11-02 10:00 — Mitigated\n" {
		t.Errorf("timeline %q", tl.Body)
	}
	if got := strings.Join(d.Missing(), ", "); got != "Summary, Root cause" {
		t.Errorf("missing %q", got)
	}
}

func TestSettingsValidation(t *testing.T) {
	errs := validateSettings(Settings{RemindBefore: "soon", Sections: []Section{
		{Key: "summary", Title: "Summary"},
		{Key: "summary", Title: ""},
		{Key: "x", Title: "X", Text: "{{.Nope}}"},
		{Key: "y", Title: "Y", Text: "{{if}}"},
	}})
	got := map[string]bool{}
	for _, e := range errs {
		got[e.Field] = true
	}
	for _, f := range []string{"postmortems.remind_before", "postmortems.sections[1].key", "postmortems.sections[1].title",
		"postmortems.sections[2].text", "postmortems.sections[3].text"} {
		if !got[f] {
			t.Errorf("no error for %s in %+v", f, errs)
		}
	}
	if errs := validateSettings(Settings{RemindBefore: "36h", Sections: DefaultSections}); len(errs) != 0 {
		t.Errorf("default template refused: %+v", errs)
	}
	if (Settings{}).remindBefore() != DefaultRemindBefore || (Settings{RemindBefore: "1d"}).remindBefore() != 24*time.Hour {
		t.Error("remind_before")
	}
}
