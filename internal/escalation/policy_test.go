package escalation

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/routing/routingdesk"
)

func threeSteps() Policy {
	return Policy{Name: "P", Repeat: 1, Steps: []Step{
		{Level: 2, Targets: []Target{{Owner: true}}, AckWithin: "15m"},
		{Level: 3, Targets: []Target{{Role: "lead"}}, AckWithin: "30m"},
		{Level: 4, Targets: []Target{{User: "x@y.example"}}, AckWithin: "1h", Fallback: []Target{{Role: "admin"}}},
	}}
}

// The steps' walk: each step, a repeat from the first, then the fallback,
// which waits with no deadline.
func TestPolicyWalk(t *testing.T) {
	p := threeSteps()
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var got []string
	pos, at := p.StartAt(0), t0
	for {
		due := p.Deadline(pos, at)
		got = append(got, strings.Join([]string{itoa(pos.Step), itoa(pos.Round), itoa(p.Level(pos)), due.Format("15:04")}, "/"))
		next, ok := p.Next(pos)
		if !ok {
			break
		}
		pos, at = next, due
	}
	want := []string{"0/0/2/09:15", "1/0/3/09:45", "2/0/4/10:45", "0/1/2/11:00", "1/1/3/11:30", "2/1/4/12:30", "-1/1/4/00:00"}
	if !slices.Equal(got, want) {
		t.Fatalf("walk %v\nwant %v", got, want)
	}
	if fb := p.Targets(Position{Step: FallbackStep}); len(fb) != 1 || fb[0].Role != "admin" {
		t.Errorf("fallback targets %v", fb)
	}
	// Without a fallback the last step of the last round has no deadline: it waits.
	p.Steps[2].Fallback, p.Repeat = nil, 0
	if d := p.Deadline(Position{Step: 2}, t0); !d.IsZero() {
		t.Errorf("last step without a fallback has deadline %v", d)
	}
	if pos := p.StartAt(3); pos.Step != 1 {
		t.Errorf("StartAt(3) = %+v", pos)
	}
	if pos := p.StartAt(5); pos.Step != 2 {
		t.Errorf("StartAt(5) = %+v (the last step)", pos)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestTriggersAndMatch(t *testing.T) {
	p := Policy{Triggers: []string{"p1", "sla_breach:first_response"}, When: Match{Categories: []string{"safety/"}, SellerTiers: []int{1}}}
	f := Facts{Team: "trust_safety", Category: "safety/product_safety", Priority: "P1", SellerTier: 1}
	for _, c := range []struct {
		t    Trigger
		f    Facts
		want bool
	}{
		{Trigger{Kind: TriggerP1}, f, true},
		{Trigger{Kind: TriggerSLABreach, Metric: "first_response"}, f, true},
		{Trigger{Kind: TriggerSLABreach, Metric: "resolution"}, f, false},
		{Trigger{Kind: TriggerHighRisk}, f, false},
		{Trigger{Kind: TriggerP1}, Facts{Category: "logistics/lost_parcel", SellerTier: 1}, false},
		{Trigger{Kind: TriggerP1}, Facts{Category: "safety/x", SellerTier: 2}, false},
	} {
		if got := p.Starts(c.t, c.f); got != c.want {
			t.Errorf("Starts(%v, %+v) = %v", c.t, c.f, got)
		}
	}
	if !(Match{HighRisk: true}).Fits(Facts{HighRisk: true}) || (Match{HighRisk: true}).Fits(Facts{}) {
		t.Error("high_risk match")
	}
	for s, ok := range map[string]bool{"p1": true, "sla_warning": true, "sla_warning:next_response": true, "p1:x": false,
		"sla_breach:soon": false, "routing_rule": false, "P1": false} {
		if _, got := parseTrigger(s); got != ok {
			t.Errorf("parseTrigger(%q) = %v", s, got)
		}
	}
	if n, ok := ParseLevel("L3"); !ok || n != 3 {
		t.Error("ParseLevel L3")
	}
	if _, ok := ParseLevel("Level 3"); ok {
		t.Error("ParseLevel accepts words")
	}
}

// Who a step asks: the on-call when there is one, the whole team when not;
// roles in the case's team, or everywhere when it has none.
func TestResolve(t *testing.T) {
	d := Directory{CaseTeam: "ts", Owner: "o@x", OnCall: map[string][]string{"esc": {"c@x"}},
		People: []Person{
			{Email: "a@x", Role: "agent", Teams: []string{"ts"}, Active: true},
			{Email: "b@x", Role: "agent", Teams: []string{"ts", "esc"}, Active: true},
			{Email: "c@x", Role: "agent", Teams: []string{"esc"}, Active: true},
			{Email: "gone@x", Role: "agent", Teams: []string{"ts"}, Active: false},
			{Email: "am@x", Role: "account_manager", Teams: []string{"ts"}, Active: true},
			{Email: "l@x", Role: "lead", Teams: []string{"esc"}, Active: true},
			{Email: "o@x", Role: "agent", Teams: []string{"ts"}, Active: true},
		}}
	for _, c := range []struct {
		ts   []Target
		want string
	}{
		{[]Target{{OnCall: "esc"}}, "c@x"},
		{[]Target{{OnCall: "case"}}, "a@x b@x o@x"},
		{[]Target{{Team: "case"}}, "a@x b@x o@x"},
		{[]Target{{Role: "lead"}}, "l@x"}, // the case's team has no lead: every lead
		{[]Target{{Role: "agent", Team: "esc"}}, "b@x c@x"},
		{[]Target{{Owner: true}, {User: "c@x"}, {User: "gone@x"}}, "c@x o@x"},
	} {
		if got := strings.Join(Resolve(c.ts, d), " "); got != c.want {
			t.Errorf("Resolve(%+v) = %q, want %q", c.ts, got, c.want)
		}
		// Without the people, a target list that does not need them resolves the same.
		bare := d
		bare.People = nil
		if got := strings.Join(Resolve(c.ts, bare), " "); !NeedsPeople(c.ts, d) && got != c.want {
			t.Errorf("NeedsPeople(%+v) = false, but Resolve without people = %q, want %q", c.ts, got, c.want)
		}
	}
	for _, ts := range [][]Target{{{OnCall: "esc"}}, {{Owner: true}}, {{OnCall: "esc"}, {Owner: true}}} {
		if NeedsPeople(ts, d) {
			t.Errorf("NeedsPeople(%+v) = true; on call and the owner are known without the people", ts)
		}
	}
	if got := OnCallTeams([]Target{{OnCall: "case"}, {OnCall: "esc"}, {OnCall: "ts"}}, "ts"); !slices.Equal(got, []string{"ts", "esc"}) {
		t.Errorf("OnCallTeams %v", got)
	}
}

func schema(t *testing.T) *desk.Schema {
	t.Helper()
	s, err := desk.NewSchema(append(routingdesk.Sections(), Sections()...)...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const sectionsYAML = `
escalation_levels:
  - {name: Frontline}
  - {name: Specialist, targets: [{on_call: trust_safety}]}
  - {name: Leadership, targets: [{role: admin}]}
escalation_policies:
  - name: Safety emergency
    triggers: [high_risk, "sla_breach:first_response"]
    when: {categories: [safety/], high_risk: true}
    repeat: 1
    steps:
      - level: 2
        targets: [{owner: true}, {on_call: case}]
        ack_within: 15m
      - level: 3
        targets: [{user: jonas.weber@flare.example}]
        ack_within: 1h
        fallback: [{role: admin}]
`

// The sections parse, validate against the document, and round-trip.
func TestSections(t *testing.T) {
	s := schema(t)
	c, err := s.Parse(append([]byte(string(desk.ExampleYAML)), sectionsYAML...))
	if err != nil {
		t.Fatal(err)
	}
	if ls := LevelsOf(c); len(ls) != 3 || LevelName(ls, 2) != "L2 Specialist" {
		t.Fatalf("levels %+v", ls)
	}
	if p, ok := PolicyNamed(c, "Safety emergency"); !ok || p.Steps[1].Ack() != time.Hour || !p.When.HighRisk {
		t.Fatalf("policy %+v", p)
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
	plain, _ := s.Example()
	if ls := LevelsOf(plain); len(ls) != 5 || LevelName(ls, 5) != "L5 Leadership" {
		t.Errorf("default ladder %+v", ls)
	}

	// Every problem, with its path.
	bad := strings.NewReplacer(
		"triggers: [high_risk,", "triggers: [soon, high_risk,",
		"categories: [safety/]", "categories: [nowhere/]",
		"level: 3\n", "level: 7\n",
		"ack_within: 15m", "ack_within: 10s",
		"{on_call: case}", "{on_call: night_shift}",
		"user: jonas.weber@flare.example", "user: nobody@flare.example",
		"fallback: [{role: admin}]", "fallback: [{role: viewer, user: x@y.example}]",
	).Replace(sectionsYAML) + `routing_rules:
  - name: Go up
    when: {channel: [leadership]}
    then: {escalate: Unknown policy}
  - name: Go to L3
    when: {channel: [leadership]}
    then: {escalate: L3}
`
	doc := strings.Replace(string(desk.ExampleYAML), "routing_rules:", "old_routing_rules:", 1)
	doc = doc[:strings.Index(doc, "old_routing_rules:")] + doc[strings.Index(doc, "\nusers:"):]
	_, err = s.Parse([]byte(doc + bad))
	var inv *apperr.Invalid
	if !errors.As(err, &inv) {
		t.Fatalf("want invalid, got %v", err)
	}
	var got []string
	for _, e := range inv.Errors {
		got = append(got, e.Field)
	}
	want := []string{"escalation_policies[0].triggers[0]", "escalation_policies[0].when.categories[0]",
		"escalation_policies[0].steps[0].ack_within", "escalation_policies[0].steps[0].targets[1].on_call",
		"escalation_policies[0].steps[1].level", "escalation_policies[0].steps[1].targets[0].user",
		"escalation_policies[0].steps[1].fallback[0]", "routing_rules[0].then.escalate"}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("no error at %s in %v", w, inv.Errors)
		}
	}
	if slices.Contains(got, "routing_rules[1].then.escalate") {
		t.Error("a level L3 is refused as a rule's escalate")
	}
}
