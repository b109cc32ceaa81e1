package oncall_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/oncall"
)

// The follow-the-sun schedule as a desk author writes it.
const sectionYAML = `
oncall:
  - team: trust_safety
    layers:
      - name: US
        rotation: weekly
        timezone: America/Los_Angeles
        start: 2026-10-05
        handoff: "10:00"
        participants: [Marcus.Reed@flare.example]
        window: 10:00-24:00
      - name: EMEA
        rotation: daily
        timezone: Europe/London
        start: 2026-10-05
        handoff: "07:00"
        participants: [amelia.clarke@flare.example, jonas.weber@flare.example]
        window: 07:00-19:00
        days: [sun, mon, tue, wed, thu, fri, sat]
    overrides:
      - person: priya.shah@flare.example
        from: 2026-11-03T08:00:00+01:00
        to: 2026-11-03T12:00:00Z
        reason: training swap
  - team: governance
    allow_gaps: true
    layers:
      - name: Office
        rotation: custom
        length: 2w
        timezone: Europe/London
        start: 2026-01-05
        handoff: "09:00"
        participants: [amelia.clarke@flare.example]
        window: 09:00-17:30
        days: [mon, tue, wed, thu, fri]
`

func parse(t *testing.T, extra string) (*desk.Config, error) {
	t.Helper()
	schema, err := app.DeskSchema()
	if err != nil {
		t.Fatal(err)
	}
	return schema.Parse(append(bytes.Clone(desk.ExampleYAML), extra...))
}

func fieldErrors(t *testing.T, err error) map[string]string {
	t.Helper()
	var inv *apperr.Invalid
	if !errors.As(err, &inv) {
		t.Fatalf("want invalid, got %v", err)
	}
	out := map[string]string{}
	for _, e := range inv.Errors {
		out[e.Field] = e.Message
	}
	return out
}

func TestSectionRoundTrips(t *testing.T) {
	cfg, err := parse(t, sectionYAML)
	if err != nil {
		t.Fatal(err)
	}
	ss := oncall.SchedulesOf(cfg)
	if len(ss) != 2 || ss[0].Layers[0].Participants[0] != "marcus.reed@flare.example" ||
		ss[0].Overrides[0].From != "2026-11-03T07:00:00Z" || ss[0].Layers[1].Days[0] != "mon" {
		t.Fatalf("canonical: %+v", ss)
	}
	out, err := desk.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	again, err := parse(t, "")
	if err != nil {
		t.Fatal(err)
	}
	schema, _ := app.DeskSchema()
	if again, err = schema.Parse(out); err != nil {
		t.Fatalf("export does not parse: %v\n%s", err, out)
	}
	out2, _ := desk.Marshal(again)
	if !bytes.Equal(out, out2) || !reflect.DeepEqual(oncall.SchedulesOf(again), ss) {
		t.Errorf("no round trip:\n%s\n---\n%s", out, out2)
	}
}

func TestSectionRefusesHolesAndUnknowns(t *testing.T) {
	// The naive follow-the-sun (the US until 23:00 in Los Angeles) has a
	// hole each day the US has changed its clocks and the UK not yet.
	naive := strings.Replace(sectionYAML, "window: 10:00-24:00", "window: 11:00-23:00", 1)
	_, err := parse(t, naive)
	errs := fieldErrors(t, err)
	msg := errs["oncall[0].layers"]
	if len(errs) != 1 || !strings.Contains(msg, "nobody is on call Sun 25 Oct 2026 06:00–07:00 UTC, and 20 more times in the year from 5 Oct 2026 (21h in all)") ||
		!strings.Contains(msg, "allow_gaps: true") {
		t.Fatalf("errors %v", errs)
	}
	// Allowing gaps accepts it.
	if _, err := parse(t, strings.Replace(naive, "  - team: trust_safety\n", "  - team: trust_safety\n    allow_gaps: true\n", 1)); err != nil {
		t.Fatalf("allow_gaps: %v", err)
	}

	bad := strings.NewReplacer(
		"team: governance", "team: trust_safety",
		"participants: [amelia.clarke@flare.example]", "participants: [sophie.martin@flare.example, nobody@flare.example]",
		"person: priya.shah@flare.example", "person: ghost@flare.example",
		"rotation: custom", "rotation: fortnightly",
	).Replace(sectionYAML) + "  - team: nope\n    layers: []\n"
	errs = fieldErrors(t, func() error { _, err := parse(t, bad); return err }())
	for field, want := range map[string]string{
		"oncall[1].team":                      "team trust_safety already has a schedule (oncall[0])",
		"oncall[1].layers[0].participants[0]": "sophie.martin@flare.example is account_manager: only admins, leads and agents can be on call",
		"oncall[1].layers[0].participants[1]": `unknown user "nobody@flare.example"`,
		"oncall[0].overrides[0].person":       `unknown user "ghost@flare.example"`,
		"oncall[1].layers[0].rotation":        `unknown rotation "fortnightly"`,
		"oncall[2].team":                      `unknown team "nope"`,
		"oncall[2].layers":                    "at least one layer",
	} {
		if !strings.Contains(errs[field], want) {
			t.Errorf("%s: %q, want %q", field, errs[field], want)
		}
	}
	// Strict decoding: unknown keys are errors with their path.
	_, err = parse(t, strings.Replace(sectionYAML, "allow_gaps: true", "allow_holes: true", 1))
	if err == nil || !strings.Contains(err.Error(), "oncall[1].allow_holes") {
		t.Errorf("unknown key: %v", err)
	}
}
