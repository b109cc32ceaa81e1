package incidents_test

import (
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/incidents"
)

// The incidents section: every problem with its path; defaults for what
// the desk leaves out.
func TestDeskSection(t *testing.T) {
	schema, err := app.DeskSchema() // the example desk has routing's sections too
	if err != nil {
		t.Fatal(err)
	}
	doc := string(desk.ExampleYAML) + `
incidents:
  commander_team: nobody
  severities:
    - {severity: SEV7}
    - {severity: SEV2, update_every: 10s}
  roles:
    - {key: commander, name: Boss}
  templates:
    - {name: x, audience: press, body: "{{.Nope}}"}
  stakeholders:
    - {key: l, name: L, audience: leadership, users: [ghost@flare.example]}
  auto_link:
    - {name: everything}
`
	_, err = schema.Parse([]byte(doc))
	if err == nil {
		t.Fatal("a bad section was accepted")
	}
	for _, want := range []string{"incidents.commander_team", "incidents.severities[0].severity", "incidents.severities[1].update_every",
		"incidents.roles[0].key", "incidents.templates[0].audience", "incidents.templates[0].body", "incidents.stakeholders[0].users[0]",
		"incidents.auto_link[0]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no problem at %s in %v", want, err)
		}
	}
	cfg, err := schema.Parse(desk.ExampleYAML)
	if err != nil {
		t.Fatal(err)
	}
	if d := incidents.SeverityOf(cfg, incidents.SEV1); !d.Page || d.Cadence().Minutes() != 30 || !incidents.RequiresPostmortem(cfg, incidents.SEV2) ||
		incidents.RequiresPostmortem(cfg, incidents.SEV3) {
		t.Fatalf("defaults: %+v", d)
	}
	if got := incidents.TemplatesFor(cfg, incidents.TypeSafety, incidents.AudiencePublic, "resolve"); len(got) != 1 {
		t.Fatalf("resolve templates: %+v", got)
	}
}
