package desk_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	. "github.com/flare-desk/flare/internal/desk" // read as if inside desk: see config_test.go
	"github.com/flare-desk/flare/internal/routing/routingdesk"
)

// These tests live outside package desk because the example document has
// routing's sections, and routing imports desk; they dot-import desk so
// that they read as from inside. Parse parses with the sections the example
// needs, as Flare's wiring does.

// testSchema is desk's own keys and routing's sections.
func testSchema(t testing.TB) *Schema {
	t.Helper()
	s, err := NewSchema(routingdesk.Sections()...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Parse parses a desk document with the sections routing registers.
func Parse(data []byte) (*Config, error) {
	s, err := NewSchema(routingdesk.Sections()...)
	if err != nil {
		return nil, err
	}
	return s.Parse(data)
}

func mustExample(t testing.TB) *Config {
	t.Helper()
	c, err := Parse(ExampleYAML)
	if err != nil {
		t.Fatalf("example: %v", err)
	}
	return c
}

func TestExample(t *testing.T) {
	c := mustExample(t)
	if len(c.Markets) != 3 || len(c.Teams) != 4 || len(c.Categories) != 8 || len(c.Users) != 5 || len(c.Sellers) != 6 {
		t.Fatalf("example counts: %d markets, %d teams, %d categories, %d users, %d sellers",
			len(c.Markets), len(c.Teams), len(c.Categories), len(c.Users), len(c.Sellers))
	}
	if m, ok := c.Market("DE"); !ok || m.Timezone != "Europe/Berlin" || m.Location().String() != "Europe/Berlin" {
		t.Errorf("Market(DE) = %+v, %v", m, ok)
	}
	if _, ok := c.Market("FR"); ok {
		t.Error("Market(FR) found")
	}
	if tm, ok := c.Team("logistics"); !ok || tm.Name != "Logistics" {
		t.Errorf("Team(logistics) = %+v, %v", tm, ok)
	}
	cat, ok := c.Category("logistics/lost_parcel")
	if !ok || cat.Team != "logistics" || cat.Group() != "logistics" || len(cat.Fields) != 3 {
		t.Errorf("Category(logistics/lost_parcel) = %+v, %v", cat, ok)
	}
	// Severity omitted in the document defaults to 3.
	if cat, _ := c.Category("payments/payout_failed"); cat.Severity != DefaultSeverity {
		t.Errorf("default severity = %d", cat.Severity)
	}
	if !c.HasResolution("refunded") || c.HasResolution("nope") {
		t.Error("HasResolution")
	}
	// A hand-built config defaults severity in lookups too.
	hand := &Config{Categories: []Category{{Key: "a/b", Name: "B", Team: "t"}}}
	if cat, _ := hand.Category("a/b"); cat.Severity != DefaultSeverity {
		t.Errorf("hand-built severity = %d", cat.Severity)
	}
}

// replace returns the example document with old replaced by new (once),
// failing the test if old is not in it.
func replace(t *testing.T, doc, old, new string) string {
	t.Helper()
	if !strings.Contains(doc, old) {
		t.Fatalf("example.yaml has no %q", old)
	}
	return strings.Replace(doc, old, new, 1)
}

func paths(errs []apperr.FieldError) []string {
	var p []string
	for _, e := range errs {
		p = append(p, e.Field)
	}
	return p
}

func parseErrors(t *testing.T, doc string) []apperr.FieldError {
	t.Helper()
	c, err := Parse([]byte(doc))
	if err == nil {
		t.Fatalf("Parse succeeded: %+v", c)
	}
	var ve *apperr.Invalid
	if !errors.As(err, &ve) {
		t.Fatalf("Parse error is %T (%v), want *apperr.Invalid", err, err)
	}
	if c != nil {
		t.Error("Parse returned a config with an error")
	}
	return ve.Errors
}

func TestValidateRules(t *testing.T) {
	base := string(ExampleYAML)
	type edit struct{ old, new string }
	cases := []struct {
		name  string
		edits []edit
		want  []string // paths that must all be reported
	}{
		{"market code lowercase", []edit{{"code: GB", "code: gb"}}, []string{"markets[0].code"}},
		{"market code 3 letters", []edit{{"code: DE", "code: DEU"}}, []string{"markets[1].code"}},
		{"duplicate market", []edit{{"code: DE", "code: GB"}}, []string{"markets[1].code"}},
		{"market name missing", []edit{{"name: Germany", "name: \"\""}}, []string{"markets[1].name"}},
		{"bad time zone", []edit{{"timezone: Europe/Berlin", "timezone: Europe/Munich"}}, []string{"markets[1].timezone"}},
		{"Local time zone", []edit{{"timezone: Europe/Berlin", "timezone: Local"}}, []string{"markets[1].timezone"}},
		{"time zone missing", []edit{{"    timezone: Europe/Berlin\n", ""}}, []string{"markets[1].timezone"}},
		{"bad language", []edit{{"languages: [de, en]\n    holidays", "languages: [de, English]\n    holidays"}}, []string{"markets[1].languages[1]"}},
		{"duplicate language", []edit{{"languages: [de, en]\n    holidays", "languages: [de, de]\n    holidays"}}, []string{"markets[1].languages[1]"}},
		{"no languages", []edit{{"languages: [de, en]\n    holidays", "languages: []\n    holidays"}}, []string{"markets[1].languages"}},
		{"bad holidays", []edit{{"holidays: DE-BY", "holidays: bavaria"}}, []string{"markets[1].holidays"}},
		{"team key", []edit{{"key: payments", "key: Payments"}}, []string{"teams[2].key", "categories[4].team", "categories[5].team"}},
		{"duplicate team", []edit{{"key: payments", "key: logistics"}}, []string{"teams[2].key"}},
		{"team member not a user", []edit{{"members: [jonas.weber@flare.example]", "members: [nobody@flare.example]"}}, []string{"teams[2].members[0]"}},
		{"duplicate team member", []edit{{"members: [jonas.weber@flare.example]", "members: [jonas.weber@flare.example, Jonas.Weber@flare.example]"}}, []string{"teams[2].members[1]"}},
		{"bad calendar key", []edit{{"calendar: follow_the_sun", "calendar: Follow The Sun"}}, []string{"teams[3].calendar"}},
		{"team calendar unknown", []edit{{"calendar: emea_business\n    members: [amelia", "calendar: apac\n    members: [amelia"}}, []string{"teams[1].calendar"}},
		{"policy calendar", []edit{{"calendar: follow_the_sun\n    targets", "calendar: moon\n    targets"}}, []string{"sla_policies[0].calendar"}},
		{"policy target", []edit{{"first_response: {within: 30m}", "first_response: {within: soon}"}}, []string{"sla_policies[0].targets.first_response.within"}},
		{"policy pause status", []edit{{"resolution: [pending_requester, pending_internal]", "resolution: [waiting]"}}, []string{"sla_policies[2].pause.resolution[0]"}},
		{"duplicate calendar", []edit{{"key: follow_the_sun", "key: emea_business"}}, []string{"calendars[1].key"}},
		{"calendar zone", []edit{{"timezone: UTC", "timezone: Mars/Olympus"}}, []string{"calendars[1].timezone"}},
		{"calendar window", []edit{{"fri: [\"09:00-17:00\"]", "fri: [\"17:00-09:00\"]"}}, []string{"calendars[0].hours.fri[0]"}},
		{"calendar weekday", []edit{{"fri: [\"09:00-17:00\"]", "friday: [\"09:00-17:00\"]"}}, []string{"calendars[0].hours.friday"}},
		{"calendar holidays", []edit{{"holidays: GB-ENG\n    closures", "holidays: ATLANTIS\n    closures"}}, []string{"calendars[0].holidays"}},
		{"calendar closure date", []edit{{"date: \"2026-12-24\"", "date: \"2026-02-30\""}}, []string{"calendars[0].closures[0].date"}},
		{"category one level", []edit{{"key: payments/payout_failed", "key: payout_failed"}}, []string{"categories[5].key"}},
		{"category three levels", []edit{{"key: payments/payout_failed", "key: payments/payout/failed"}}, []string{"categories[5].key"}},
		{"category uppercase", []edit{{"key: payments/payout_failed", "key: payments/PayoutFailed"}}, []string{"categories[5].key"}},
		{"duplicate category", []edit{{"key: payments/payout_failed", "key: payments/funds_held"}}, []string{"categories[5].key"}},
		{"category unknown team", []edit{{"team: trust_safety\n    severity: 2", "team: safety\n    severity: 2"}}, []string{"categories[7].team"}},
		{"category severity", []edit{{"severity: 4", "severity: 5"}}, []string{"categories[1].severity"}},
		{"field key", []edit{{"key: promised_date", "key: PromisedDate"}}, []string{"categories[1].fields[1].key"}},
		{"duplicate field", []edit{{"key: promised_date", "key: order_id"}}, []string{"categories[1].fields[1].key"}},
		{"field type", []edit{{"type: date", "type: datetime"}}, []string{"categories[1].fields[1].type"}},
		{"field label", []edit{{"label: Promised delivery date", "label: \" \""}}, []string{"categories[1].fields[1].label"}},
		{"select without options", []edit{{"        options: [warning, listing_removal, suspension_7d, suspension_30d, permanent_ban]\n", ""}}, []string{"categories[2].fields[1].options"}},
		{"options on text", []edit{{"label: Appeal notes\n        type: text", "label: Appeal notes\n        type: text\n        options: [a]"}}, []string{"categories[2].fields[2].options"}},
		{"duplicate option", []edit{{"options: [fire, choking", "options: [fire, fire"}}, []string{"categories[6].fields[1].options[1]"}},
		{"bad currency", []edit{{"currency: EUR", "currency: euro"}}, []string{"categories[4].fields[0].currency"}},
		{"currency on number", []edit{{"type: number", "type: number\n        currency: EUR"}}, []string{"categories[3].fields[0].currency"}},
		{"no resolutions", []edit{{"resolutions:\n  - fixed\n  - refunded\n  - no_action_needed\n  - duplicate\n  - not_reproducible\n  - policy_upheld\n  - policy_reversed\n", "resolutions: []\n"}}, []string{"resolutions"}},
		{"duplicate resolution", []edit{{"  - duplicate\n", "  - fixed\n"}}, []string{"resolutions[3]"}},
		{"resolution not snake", []edit{{"  - duplicate\n", "  - Duplicate case\n"}}, []string{"resolutions[3]"}},
		{"bad email", []edit{{"email: marcus.reed@flare.example", "email: marcus.reed"}}, []string{"users[2].email", "teams[3].members[1]"}},
		{"duplicate email", []edit{{"email: marcus.reed@flare.example", "email: Jonas.Weber@flare.example"}}, []string{"users[2].email"}},
		{"user name", []edit{{"name: Marcus Reed", "name: \"\""}}, []string{"users[2].name"}},
		{"bad role", []edit{{"role: lead", "role: boss"}}, []string{"users[1].role"}},
		{"user unknown market", []edit{{"markets: [US]", "markets: [FR]"}}, []string{"users[2].markets[0]"}},
		{"user language", []edit{{"languages: [en, es]\n    timezone", "languages: [en, spanish]\n    timezone"}}, []string{"users[2].languages[1]"}},
		{"routing rule values", []edit{{"when: {channel: [leadership]}", "when: {channel: [fax]}"}, {"team: trust_safety\n      add_tags", "team: dispatch\n      add_tags"},
			{"add_watchers: [jonas.weber@flare.example]", "add_watchers: [nobody@flare.example]"}, {"money_fields: [amount_held]", "money_fields: [amount]"}},
			[]string{"priority.money_fields[0]", "routing_rules[0].then.team", "routing_rules[1].when.channel[0]", "routing_rules[1].then.add_watchers[0]"}},
		{"user assignment", []edit{{"timezone: America/Los_Angeles", "timezone: Mars/Olympus"}, {"skills: [logistics/]", "skills: [logistics, returns/]"},
			{"capacity: 15", "capacity: -1"}, {"strategy: round_robin", "strategy: random"}, {"P3: 1,", "P7: 1,"}, {"handoff_within: 4h", "handoff_within: soon"}},
			[]string{"teams[0].handoff_within", "users[2].timezone", "users[3].skills[0]", "users[3].skills[1]", "users[3].capacity", "teams[3].assignment.strategy", "teams[0].assignment.load_weights.P7"}},
		{"no admin", []edit{{"role: admin", "role: lead"}}, []string{"users"}},
		{"seller id", []edit{{"id: S-1002", "id: S 1002"}}, []string{"sellers[1].id"}},
		{"duplicate seller", []edit{{"id: S-1002", "id: S-1001"}}, []string{"sellers[1].id"}},
		{"seller name", []edit{{"name: Brick Lane Vintage", "name: \"\""}}, []string{"sellers[1].name"}},
		{"seller market", []edit{{"market: GB\n    tier: 3", "market: FR\n    tier: 3"}}, []string{"sellers[1].market"}},
		{"seller tier 0", []edit{{"tier: 3\n  - id: S-2001", "tier: 0\n  - id: S-2001"}}, []string{"sellers[1].tier"}},
		{"seller tier 5", []edit{{"tier: 3\n  - id: S-2001", "tier: 5\n  - id: S-2001"}}, []string{"sellers[1].tier"}},
		{"account manager unknown", []edit{{"tier: 1\n    account_manager: sophie.martin@flare.example", "tier: 1\n    account_manager: nobody@flare.example"}}, []string{"sellers[0].account_manager"}},
		{"risk flag", []edit{{"risk_flags: [high_chargeback_rate]", "risk_flags: [High chargebacks]"}}, []string{"sellers[2].risk_flags[0]"}},
		{"several at once", []edit{
			{"code: GB", "code: gb"},
			{"timezone: Europe/Berlin", "timezone: Mars/Olympus"},
			{"type: date", "type: when"},
			{"role: admin", "role: root"},
			{"tier: 4", "tier: 9"},
		}, []string{"markets[0].code", "markets[1].timezone", "categories[1].fields[1].type", "users[0].role", "users", "sellers[3].tier"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := base
			for _, e := range tc.edits {
				doc = replace(t, doc, e.old, e.new)
			}
			errs := parseErrors(t, doc)
			got := paths(errs)
			for _, w := range tc.want {
				if !slices.Contains(got, w) {
					t.Errorf("errors %v lack path %s", errs, w)
				}
			}
			for _, e := range errs {
				if e.Message == "" {
					t.Errorf("error without message at %s", e.Field)
				}
			}
		})
	}
}

func TestValidateDoesNotModify(t *testing.T) {
	c := mustExample(t)
	c.Categories[0].Severity = 0
	c.Users[0], c.Users[1] = c.Users[1], c.Users[0]
	before := *c
	if errs := testSchema(t).Validate(c); errs != nil {
		t.Fatalf("Validate: %v", errs)
	}
	if !reflect.DeepEqual(before, *c) {
		t.Error("Validate modified the config")
	}
}

func TestInvalidMessage(t *testing.T) {
	e := InvalidDoc(apperr.FieldError{Field: "markets[0].code", Message: "bad"}, apperr.FieldError{Message: "whole"})
	if got := e.Error(); got != "invalid desk configuration: markets[0].code: bad; whole" {
		t.Errorf("Error() = %q", got)
	}
}

func TestExampleCalendars(t *testing.T) {
	cfg, err := Parse(ExampleYAML)
	if err != nil {
		t.Fatal(err)
	}
	cal, ok := cfg.Calendar("emea_business")
	if !ok {
		t.Fatal("emea_business not compiled")
	}
	// Thu 24 Dec 2026 is a closure; Fri 25 and Mon 28 (Boxing Day substitute) are bank holidays;
	// so 1h of business time from Wed 23 Dec 17:30 lasts until Tue 29 Dec 09:30 London time.
	lon, _ := time.LoadLocation("Europe/London")
	got := cal.Add(time.Date(2026, 12, 23, 17, 30, 0, 0, lon), time.Hour)
	if want := time.Date(2026, 12, 29, 9, 30, 0, 0, lon); !got.Equal(want) {
		t.Fatalf("due %v, want %v", got, want)
	}
	// New Year's Eve has special hours 09:00–13:00.
	if cal.IsOpen(time.Date(2026, 12, 31, 14, 0, 0, 0, lon)) || !cal.IsOpen(time.Date(2026, 12, 31, 12, 0, 0, 0, lon)) {
		t.Fatal("special hours on 31 Dec")
	}
	if _, ok := cfg.Calendar("nope"); ok {
		t.Fatal("unknown calendar found")
	}
}
