package desk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/routing/routingdesk"
)

// Two sections as a capability would register them from its own package:
// escalation policies whose steps target teams, users and on-call
// rotations, and the rotations (another section) they may name.
type escPolicy struct {
	Name  string    `yaml:"name" json:"name"`
	Steps []escStep `yaml:"steps" json:"steps"`
}

type escStep struct {
	After   string      `yaml:"after" json:"after"`
	Targets []escTarget `yaml:"targets" json:"targets"`
}

type escTarget struct {
	Team     string `yaml:"team,omitempty" json:"team,omitempty"`
	User     string `yaml:"user,omitempty" json:"user,omitempty"`
	Rotation string `yaml:"rotation,omitempty" json:"rotation,omitempty"`
}

type rotation struct {
	Key     string   `yaml:"key" json:"key"`
	Team    string   `yaml:"team" json:"team"`
	Members []string `yaml:"members" json:"members"`
}

const (
	policiesKey  desk.Key[[]escPolicy] = "escalation_policies"
	rotationsKey desk.Key[[]rotation]  = "oncall_rotations"
)

func validatePolicies(doc *desk.Config, ps []escPolicy) []apperr.FieldError {
	v := &apperr.Invalid{}
	rotations := map[string]bool{}
	for _, r := range desk.Get(doc, rotationsKey) {
		rotations[r.Key] = true
	}
	names := map[string]bool{}
	for i, p := range ps {
		path := fmt.Sprintf("escalation_policies[%d]", i)
		if p.Name == "" || names[p.Name] {
			v.Add(path+".name", "is required and unique")
		}
		names[p.Name] = true
		for j, s := range p.Steps {
			sp := fmt.Sprintf("%s.steps[%d]", path, j)
			if _, err := time.ParseDuration(s.After); err != nil {
				v.Add(sp+".after", "%q is not a duration", s.After)
			}
			for k, t := range s.Targets {
				tp := fmt.Sprintf("%s.targets[%d]", sp, k)
				switch {
				case t.Team != "":
					if _, ok := doc.Team(t.Team); !ok {
						v.Add(tp, "unknown team %q", t.Team)
					}
				case t.User != "":
					if _, ok := doc.User(t.User); !ok && len(doc.Users) > 0 {
						v.Add(tp, "unknown user %q", t.User)
					}
				case t.Rotation != "":
					if !rotations[t.Rotation] {
						v.Add(tp, "unknown rotation %q", t.Rotation)
					}
				default:
					v.Add(tp, "needs a team, a user or a rotation")
				}
			}
		}
	}
	return v.Errors
}

func validateRotations(doc *desk.Config, rs []rotation) []apperr.FieldError {
	v := &apperr.Invalid{}
	for i, r := range rs {
		if _, ok := doc.Team(r.Team); !ok {
			v.Add(fmt.Sprintf("oncall_rotations[%d].team", i), "unknown team %q", r.Team)
		}
	}
	return v.Errors
}

func testSections() []desk.Section {
	return []desk.Section{
		desk.SectionOf[[]escPolicy]{
			Key:      policiesKey,
			Validate: validatePolicies,
			Canonical: func(ps []escPolicy) []escPolicy {
				out := make([]escPolicy, len(ps))
				for i, p := range ps {
					p.Steps = slices.Clone(p.Steps)
					for j := range p.Steps {
						p.Steps[j].Targets = slices.Clone(p.Steps[j].Targets)
						for k := range p.Steps[j].Targets {
							p.Steps[j].Targets[k].User = strings.ToLower(p.Steps[j].Targets[k].User)
						}
					}
					out[i] = p
				}
				return out
			},
			Diff: func(prev, next []escPolicy) []string {
				return desk.DiffList("escalation policy", prev, next, func(p escPolicy) string { return p.Name },
					func(a, b escPolicy) []string {
						return desk.DiffFields("escalation policy "+a.Name, "steps", a.Steps, b.Steps)
					})
			},
		},
		// No Canonical and no Diff: the defaults.
		desk.SectionOf[[]rotation]{Key: rotationsKey, Validate: validateRotations},
	}
}

// newTestSchema is routing's sections (the example document has them) and
// extra.
func newTestSchema(t testing.TB, extra ...desk.Section) *desk.Schema {
	t.Helper()
	s, err := desk.NewSchema(append(routingdesk.Sections(), extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const sectionsYAML = `
escalation_policies:
  - name: Safety
    steps:
      - after: 30m
        targets: [{team: trust_safety}, {user: Amelia.Clarke@flare.example}]
      - after: 2h
        targets: [{rotation: safety_oncall}]
oncall_rotations:
  - key: safety_oncall
    team: trust_safety
    members: [marcus.reed@flare.example, amelia.clarke@flare.example]
`

func withSections(t *testing.T, s *desk.Schema) *desk.Config {
	t.Helper()
	c, err := s.Parse(append(bytes.Clone(desk.ExampleYAML), sectionsYAML...))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

func fieldPaths(err error) []string {
	var inv *apperr.Invalid
	if !errors.As(err, &inv) {
		return []string{fmt.Sprintf("not an *apperr.Invalid: %v", err)}
	}
	var out []string
	for _, e := range inv.Errors {
		out = append(out, e.Field+": "+e.Message)
	}
	return out
}

func TestSectionParse(t *testing.T) {
	s := newTestSchema(t, testSections()...)
	c := withSections(t, s)
	ps := desk.Get(c, policiesKey)
	if len(ps) != 1 || len(ps[0].Steps) != 2 || ps[0].Steps[1].Targets[0].Rotation != "safety_oncall" {
		t.Fatalf("policies = %+v", ps)
	}
	if u := ps[0].Steps[0].Targets[1].User; u != "amelia.clarke@flare.example" {
		t.Errorf("Canonical not applied: user %q", u)
	}
	if rs := desk.Get(c, rotationsKey); len(rs) != 1 || rs[0].Team != "trust_safety" {
		t.Errorf("rotations = %+v", rs)
	}
	// An absent section reads as empty.
	plain, err := s.Example()
	if err != nil {
		t.Fatal(err)
	}
	if ps := desk.Get(plain, policiesKey); ps != nil {
		t.Errorf("absent section = %+v", ps)
	}

	// Decoding is as strict as for desk's own keys; every problem at once.
	doc := string(desk.ExampleYAML) + strings.NewReplacer(
		"after: 30m", "after: 30m\n        wait: 1",
		"{rotation: safety_oncall}", "{rotation: [safety_oncall]}",
		"    team: trust_safety\n    members", "    team: trust_safety\n    team: logistics\n    members",
	).Replace(sectionsYAML) + "escalation_levels: []\n"
	_, err = s.Parse([]byte(doc))
	got := fieldPaths(err)
	want := []string{
		"escalation_policies[0].steps[0].wait: unknown key (line",
		"escalation_policies[0].steps[1].targets[0].rotation: must be a string, not a list (line",
		"oncall_rotations[0].team: duplicate key (line",
		"escalation_levels: unknown key (line",
	}
	if len(got) != len(want) {
		t.Fatalf("errors %q, want %q", got, want)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("error %d = %q, want %q…", i, got[i], want[i])
		}
	}

	// A schema without the sections (only routing's) refuses them like any
	// unknown key.
	_, err = newTestSchema(t).Parse(append(bytes.Clone(desk.ExampleYAML), sectionsYAML...))
	if got := fieldPaths(err); len(got) != 2 || !strings.HasPrefix(got[0], "escalation_policies: unknown key") || !strings.HasPrefix(got[1], "oncall_rotations: unknown key") {
		t.Errorf("without the sections: %q", got)
	}
}

// A section validates against the whole document, other sections included,
// and its problems come with desk's own in one error.
func TestSectionValidate(t *testing.T) {
	s := newTestSchema(t, testSections()...)
	doc := strings.Replace(string(desk.ExampleYAML), "timezone: Europe/Berlin", "timezone: Mars/Olympus", 1) + strings.NewReplacer(
		"{team: trust_safety}", "{team: x}",
		"{user: Amelia.Clarke@flare.example}", "{user: nobody@flare.example}, {}",
		"{rotation: safety_oncall}", "{rotation: weekend}",
		"after: 2h", "after: soon",
		"    team: trust_safety\n    members", "    team: safety\n    members",
	).Replace(sectionsYAML)
	_, err := s.Parse([]byte(doc))
	got := fieldPaths(err)
	want := []string{
		`markets[1].timezone: "Mars/Olympus" is not an IANA time zone`,
		`escalation_policies[0].steps[0].targets[0]: unknown team "x"`,
		`escalation_policies[0].steps[0].targets[1]: unknown user "nobody@flare.example"`,
		`escalation_policies[0].steps[0].targets[2]: needs a team, a user or a rotation`,
		`escalation_policies[0].steps[1].after: "soon" is not a duration`,
		`escalation_policies[0].steps[1].targets[0]: unknown rotation "weekend"`,
		`oncall_rotations[0].team: unknown team "safety"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var inv *apperr.Invalid
	if !errors.As(err, &inv) || inv.Subject != "desk configuration" {
		t.Errorf("error %T %v", err, err)
	}
}

func TestSectionRoundTrip(t *testing.T) {
	s := newTestSchema(t, testSections()...)
	c := withSections(t, s)
	out, err := desk.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := s.Parse(out)
	if err != nil {
		t.Fatalf("Parse(Marshal(c)): %v\n%s", err, out)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("Parse(Marshal(c)) != c\n%s", out)
	}
	if out2, _ := desk.Marshal(back); !bytes.Equal(out, out2) {
		t.Errorf("Marshal not stable:\n%s\n---\n%s", out, out2)
	}
	// Sections sit in key order after desk's settings, before users.
	doc := string(out)
	i, j, k := strings.Index(doc, "\n\nescalation_policies:\n  - name: Safety\n"), strings.Index(doc, "\n\noncall_rotations:\n"), strings.Index(doc, "\n\nusers:\n")
	if i < strings.Index(doc, "\n\nsla_policies:\n") || j < i || k < j {
		t.Errorf("layout:\n%s", doc)
	}
	// JSON carries the sections too (the API's view; JSON is YAML).
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := s.Parse(b); err != nil || !reflect.DeepEqual(back, c) {
		t.Errorf("Parse(JSON) = %v\n%s", err, b)
	}
	if b, _ := json.Marshal(&desk.Config{}); string(b) != "{}" {
		t.Errorf("empty JSON %s", b)
	}
}

func TestNewSchemaRefuses(t *testing.T) {
	sec := func(key string) desk.Section { return desk.SectionOf[[]string]{Key: desk.Key[[]string](key)} }
	for _, tc := range []struct {
		name     string
		sections []desk.Section
		want     string
	}{
		{"duplicate", []desk.Section{sec("rotas"), sec("rotas")}, `two sections named "rotas"`},
		{"desk's own key", []desk.Section{sec("teams")}, `"teams" is one of desk's own keys`},
		{"stored key", []desk.Section{sec("profiles")}, `"profiles" is one of desk's own keys`},
		{"not snake_case", []desk.Section{sec("On-call")}, `"On-call" is not snake_case`},
		{"nil", []desk.Section{nil}, "section 0 is nil"},
	} {
		if _, err := desk.NewSchema(tc.sections...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	s, err := desk.NewSchema(sec("zeta"), sec("alpha"))
	if err != nil || !slices.Equal(s.Keys(), []string{"alpha", "zeta"}) {
		t.Errorf("Keys = %v, %v", s.Keys(), err)
	}
}

// Configs built in Go: Set, Get and Memo, and Validate catching a section
// no schema knows.
func TestSectionSetGetMemo(t *testing.T) {
	s := newTestSchema(t, testSections()...)
	c, err := s.Example()
	if err != nil {
		t.Fatal(err)
	}
	shared := *c // shares c's sections
	desk.Set(c, rotationsKey, []rotation{{Key: "weekend", Team: "logistics"}})
	if desk.Get(&shared, rotationsKey) != nil || len(desk.Get(c, rotationsKey)) != 1 {
		t.Fatal("Set changed a Config sharing sections")
	}
	if errs := s.Validate(c); errs != nil {
		t.Fatalf("Validate: %v", errs)
	}

	builds := 0
	count := func(rs []rotation) int { builds++; return len(rs) }
	if n := desk.Memo(c, rotationsKey, count); n != 1 || desk.Memo(c, rotationsKey, count) != 1 || builds != 1 {
		t.Fatalf("Memo = %d after %d builds", n, builds)
	}
	// Another result type is kept apart.
	if keys := desk.Memo(c, rotationsKey, func(rs []rotation) []string { return []string{rs[0].Key} }); !slices.Equal(keys, []string{"weekend"}) {
		t.Errorf("Memo of another type = %v", keys)
	}
	// Set rebuilds memos; an empty value removes the section.
	desk.Set(c, rotationsKey, append(desk.Get(c, rotationsKey), rotation{Key: "nights", Team: "payments"}))
	if n := desk.Memo(c, rotationsKey, count); n != 2 || builds != 2 {
		t.Errorf("Memo after Set = %d after %d builds", n, builds)
	}
	desk.Set(c, rotationsKey, nil)
	plain, _ := s.Example()
	if !reflect.DeepEqual(c, plain) {
		t.Error("a Config whose sections were all removed differs from one that never had any")
	}

	// A section the schema does not know, or its wrong type, is an error.
	desk.Set(c, desk.Key[[]string]("escalation_levels"), []string{"L1"})
	desk.Set(c, desk.Key[[]string]("oncall_rotations"), []string{"weekend"})
	got := paths(s.Validate(c))
	if !slices.Equal(got, []string{"escalation_levels", "oncall_rotations"}) {
		t.Errorf("Validate = %v", s.Validate(c))
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "section oncall_rotations holds a []string") {
			t.Errorf("Get of the wrong type: %v", r)
		}
	}()
	desk.Get(c, rotationsKey)
}

// Sections are stored with the document, loaded by a Service with the same
// schema, exported, diffed on apply and audited with the rest.
func TestSectionApplyExport(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		schema := newTestSchema(t, testSections()...)
		s := desk.NewService(d, desk.WithSchema(schema))
		want := withSections(t, schema)
		res, err := s.Apply(ctx, auth.System("test"), t0, want)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range []string{"escalation policy Safety added", "oncall_rotations changed"} {
			if !slices.Contains(res.Changes, line) {
				t.Errorf("changes lack %q: %v", line, res.Changes)
			}
		}
		cfg, err := s.Config(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ps := desk.Get(cfg, policiesKey); !reflect.DeepEqual(ps, desk.Get(want, policiesKey)) {
			t.Errorf("stored policies = %+v", ps)
		}
		got, err := s.Export(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			gb, _ := desk.Marshal(got)
			t.Fatalf("Export != applied\n%s", gb)
		}
		// The export round-trips: applying it again changes nothing.
		out, _ := desk.Marshal(got)
		again, err := schema.Parse(out)
		if err != nil {
			t.Fatal(err)
		}
		if res2, err := s.Apply(ctx, auth.System("test"), t0, again); err != nil || len(res2.Changes) != 0 || res2.Version != res.Version {
			t.Errorf("re-apply = %+v, %v", res2, err)
		}

		// A change is described by the section's Diff.
		next := withSections(t, schema)
		ps := desk.Get(next, policiesKey)
		ps = append(slices.Clone(ps), escPolicy{Name: "Payments", Steps: []escStep{{After: "1h", Targets: []escTarget{{Team: "payments"}}}}})
		ps[0].Steps = ps[0].Steps[:1]
		desk.Set(next, policiesKey, ps)
		desk.Set(next, rotationsKey, nil)
		res3, err := s.Apply(ctx, auth.System("test"), t0, next)
		if err != nil {
			t.Fatal(err)
		}
		wantLines := []string{
			`escalation policy Safety steps [{"after":"30m","targets":[{"team":"trust_safety"},{"user":"amelia.clarke@flare.example"}]},{"after":"2h","targets":[{"rotation":"safety_oncall"}]}] -> [{"after":"30m","targets":[{"team":"trust_safety"},{"user":"amelia.clarke@flare.example"}]}]`,
			"escalation policy Payments added",
			"oncall_rotations changed",
		}
		if !slices.Equal(res3.Changes, wantLines) {
			t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(res3.Changes, "\n"), strings.Join(wantLines, "\n"))
		}
		if got, _ := s.Export(ctx); !reflect.DeepEqual(got, next) {
			t.Error("Export after the change differs")
		}

		// A Service without the sections refuses a document with them, and
		// leaves stored sections it does not know out of what it loads.
		bare := desk.NewService(d, desk.WithSchema(newTestSchema(t)))
		_, err = bare.Apply(ctx, auth.System("test"), t0, withSections(t, schema))
		if got := fieldPaths(err); len(got) != 2 || !strings.HasPrefix(got[0], "escalation_policies: unknown key") {
			t.Errorf("bare Apply = %q", got)
		}
		cfg, err = bare.Config(ctx)
		if err != nil || desk.Get(cfg, policiesKey) != nil {
			t.Errorf("bare Config = %v, %v", desk.Get(cfg, policiesKey), err)
		}
	})
}
