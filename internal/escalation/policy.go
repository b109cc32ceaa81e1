package escalation

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/sla"
)

// The pure core: levels, policies and their steps, triggers, matching and
// who a step asks, as functions over values. The service (service.go) reads
// and writes the store around them.

// Level is one rung of the desk's escalation ladder; its number is its
// place in escalation_levels (the first is L1).
type Level struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Targets hold the level when a case is escalated to it by hand (or by a
	// routing rule's level) without a policy; none: nobody in particular.
	Targets []Target `yaml:"targets,omitempty" json:"targets,omitempty"`
}

// DefaultLevels is the ladder of a desk whose document names none.
var DefaultLevels = []Level{
	{Name: "Frontline", Description: "the owning agent and team"},
	{Name: "Escalation specialist"},
	{Name: "Specialist team / team lead"},
	{Name: "Risk & emergency program manager"},
	{Name: "Leadership"},
}

// Limits on the ladder and on policies.
const (
	minLevels  = 2
	maxLevels  = 9
	maxSteps   = 10
	maxTargets = 20
	maxRepeat  = 10
	minAck     = time.Minute
	maxAck     = 7 * 24 * time.Hour
)

// Policy is an escalation policy: ordered steps, each asking people to
// acknowledge within a deadline; when it passes nobody has, the next step
// asks (and the case rises to its level). After the last step the steps run
// again Repeat times, then the last step's Fallback is asked, with no
// deadline, and the policy waits for someone to acknowledge.
type Policy struct {
	Name string `yaml:"name" json:"name"`
	// Triggers start the policy on a case its When fits: p1, high_risk,
	// reopen (a second reopen or later), manual (escalating by hand without
	// naming a policy), sla_warning and sla_breach (any metric, or one:
	// "sla_breach:first_response"). A routing rule's `escalate: NAME` starts
	// it whatever its triggers.
	Triggers []string `yaml:"triggers,omitempty" json:"triggers,omitempty"`
	When     Match    `yaml:"when,omitempty" json:"when,omitempty"`
	Steps    []Step   `yaml:"steps" json:"steps"`
	Repeat   int      `yaml:"repeat,omitempty" json:"repeat,omitempty"`
}

// Match narrows the cases a policy's triggers start it on; an empty field
// matches every case.
type Match struct {
	Teams       []string `yaml:"teams,omitempty" json:"teams,omitempty"`
	Categories  []string `yaml:"categories,omitempty" json:"categories,omitempty"` // keys, or a group "safety/"
	Markets     []string `yaml:"markets,omitempty" json:"markets,omitempty"`
	Priorities  []string `yaml:"priorities,omitempty" json:"priorities,omitempty"`
	SellerTiers []int    `yaml:"seller_tiers,omitempty" json:"seller_tiers,omitempty"`
	HighRisk    bool     `yaml:"high_risk,omitempty" json:"high_risk,omitempty"` // only high-risk cases
}

// Step is one step of a policy.
type Step struct {
	Level     int      `yaml:"level" json:"level"` // the case rises to it (never falls)
	Targets   []Target `yaml:"targets" json:"targets"`
	AckWithin string   `yaml:"ack_within" json:"ack_within"` // "15m", "1h": calendar time
	// Fallback (the last step only) is asked once the steps and their
	// repeats have all passed unacknowledged.
	Fallback []Target `yaml:"fallback,omitempty" json:"fallback,omitempty"`
}

// Ack is the step's acknowledgement deadline as a duration.
func (s Step) Ack() time.Duration {
	d, err := sla.ParseDuration(s.AckWithin)
	if err != nil {
		return 0
	}
	return d
}

// CaseTeam names the case's own team in a target's on_call or team.
const CaseTeam = "case"

// Target is who a step asks: exactly one of a user, a team's current
// on-call (the whole team when it has no schedule), a whole team, a role
// (its people in Team, or in the case's team, or everywhere when that team
// has none), or the case's owner.
type Target struct {
	User   string `yaml:"user,omitempty" json:"user,omitempty"`
	OnCall string `yaml:"on_call,omitempty" json:"on_call,omitempty"` // a team key, or "case"
	Team   string `yaml:"team,omitempty" json:"team,omitempty"`       // a team key, or "case"
	Role   string `yaml:"role,omitempty" json:"role,omitempty"`       // lead, admin, agent
	Owner  bool   `yaml:"owner,omitempty" json:"owner,omitempty"`
}

// String describes the target for people.
func (t Target) String() string {
	team := func(k string) string {
		if k == CaseTeam {
			return "the case's team"
		}
		return k
	}
	switch {
	case t.User != "":
		return t.User
	case t.OnCall != "":
		return "on-call of " + team(t.OnCall)
	case t.Role != "" && t.Team != "":
		return t.Role + "s of " + team(t.Team)
	case t.Role != "":
		return t.Role + "s of the case's team"
	case t.Team != "":
		return "everyone in " + team(t.Team)
	case t.Owner:
		return "the case's owner"
	}
	return "nobody"
}

// --- triggers ---

// The triggers that start an escalation (events.Escalation.Trigger).
const (
	TriggerManual     = "manual"
	TriggerSLAWarning = "sla_warning"
	TriggerSLABreach  = "sla_breach"
	TriggerHighRisk   = "high_risk"
	TriggerP1         = "p1"
	TriggerReopen     = "reopen"
	TriggerRouting    = "routing_rule"
)

// policyTriggers are the triggers a policy may list (routing_rule is not
// one: a rule names its policy).
var policyTriggers = []string{TriggerP1, TriggerHighRisk, TriggerReopen, TriggerManual, TriggerSLAWarning, TriggerSLABreach}

// Trigger is what happened to a case: a kind and, for SLA triggers, the
// clock's metric.
type Trigger struct {
	Kind   string
	Metric string
}

// String is the trigger as a policy lists it.
func (t Trigger) String() string {
	if t.Metric != "" {
		return t.Kind + ":" + t.Metric
	}
	return t.Kind
}

// parseTrigger reads a policy's trigger: "p1", "sla_breach:resolution".
func parseTrigger(s string) (Trigger, bool) {
	kind, metric, hasMetric := strings.Cut(s, ":")
	if !slices.Contains(policyTriggers, kind) {
		return Trigger{}, false
	}
	if hasMetric {
		if (kind != TriggerSLAWarning && kind != TriggerSLABreach) || !sla.Metric(metric).Valid() {
			return Trigger{}, false
		}
	}
	return Trigger{Kind: kind, Metric: metric}, true
}

// Facts are what a policy's When is matched against.
type Facts struct {
	Team, Category, Market, Priority string
	HighRisk                         bool
	SellerTier                       int // 0: no seller
}

// Fits reports whether the case's facts fit m.
func (m Match) Fits(f Facts) bool {
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	if !in(m.Teams, f.Team) || !in(m.Markets, f.Market) || !in(m.Priorities, f.Priority) {
		return false
	}
	if len(m.Categories) > 0 && !slices.ContainsFunc(m.Categories, func(c string) bool {
		return c == f.Category || (strings.HasSuffix(c, "/") && strings.HasPrefix(f.Category, c))
	}) {
		return false
	}
	if len(m.SellerTiers) > 0 && !slices.Contains(m.SellerTiers, f.SellerTier) {
		return false
	}
	return !m.HighRisk || f.HighRisk
}

// Starts reports whether t starts p on a case with facts f.
func (p Policy) Starts(t Trigger, f Facts) bool {
	listed := slices.ContainsFunc(p.Triggers, func(s string) bool {
		pt, ok := parseTrigger(s)
		return ok && pt.Kind == t.Kind && (pt.Metric == "" || pt.Metric == t.Metric)
	})
	return listed && p.When.Fits(f)
}

// FirstFor returns the first of policies that t starts on a case with
// facts f: policies are ordered, like routing rules.
func FirstFor(policies []Policy, t Trigger, f Facts) (Policy, bool) {
	for _, p := range policies {
		if p.Starts(t, f) {
			return p, true
		}
	}
	return Policy{}, false
}

// --- steps ---

// Position is where a running policy is: the step waiting (FallbackStep
// once the fallback is asked) and the repeat.
type Position struct {
	Step, Round int
}

// FallbackStep is the step number of a policy's fallback.
const FallbackStep = -1

// Fallback reports whether the position is the policy's fallback.
func (p Position) Fallback() bool { return p.Step == FallbackStep }

// StartAt is where a policy starts on a case escalated to level (0: its
// first step): its first step at that level or above, else its last.
func (p Policy) StartAt(level int) Position {
	if level <= 0 {
		return Position{}
	}
	for i, s := range p.Steps {
		if s.Level >= level {
			return Position{Step: i}
		}
	}
	return Position{Step: len(p.Steps) - 1}
}

// Next is where the policy goes when pos's deadline passes unacknowledged:
// the next step, the first step of the next round, or the fallback; ok is
// false when nothing follows (the fallback, or a last step without one,
// which then waits with no deadline).
func (p Policy) Next(pos Position) (next Position, ok bool) {
	switch {
	case pos.Fallback() || len(p.Steps) == 0:
		return pos, false
	case pos.Step+1 < len(p.Steps):
		return Position{Step: pos.Step + 1, Round: pos.Round}, true
	case pos.Round < p.Repeat:
		return Position{Step: 0, Round: pos.Round + 1}, true
	case len(p.Steps[len(p.Steps)-1].Fallback) > 0:
		return Position{Step: FallbackStep, Round: pos.Round}, true
	}
	return pos, false
}

// Level is the level a position raises the case to (the fallback: the last step's).
func (p Policy) Level(pos Position) int {
	if len(p.Steps) == 0 {
		return 0
	}
	if pos.Fallback() || pos.Step >= len(p.Steps) {
		return p.Steps[len(p.Steps)-1].Level
	}
	return p.Steps[pos.Step].Level
}

// Targets are who the position asks.
func (p Policy) Targets(pos Position) []Target {
	if len(p.Steps) == 0 {
		return nil
	}
	last := p.Steps[len(p.Steps)-1]
	if pos.Fallback() {
		return last.Fallback
	}
	if pos.Step >= len(p.Steps) {
		return last.Targets
	}
	return p.Steps[pos.Step].Targets
}

// Deadline is the acknowledgement deadline of a position whose step started
// at: zero for the fallback and for a last step nothing follows.
func (p Policy) Deadline(pos Position, started time.Time) time.Time {
	if pos.Fallback() || pos.Step >= len(p.Steps) {
		return time.Time{}
	}
	if _, ok := p.Next(pos); !ok {
		return time.Time{} // nothing would follow: it waits for someone
	}
	return started.Add(p.Steps[pos.Step].Ack())
}

// --- who is asked ---

// Person is someone a target may resolve to.
type Person struct {
	Email  string
	Role   string
	Teams  []string
	Active bool
}

// Directory is what target resolution reads: the desk's people, the case's
// team and owner, and the on-call answer per team (a team missing from
// OnCall has no schedule: its whole team is asked).
type Directory struct {
	People   []Person
	CaseTeam string
	Owner    string              // the case's owner's email; "" when unassigned
	OnCall   map[string][]string // team → emails on call now
}

// teamOf resolves "case" to the case's team.
func (d Directory) teamOf(k string) string {
	if k == CaseTeam {
		return d.CaseTeam
	}
	return k
}

// members are the active people of team who can work cases (not account
// managers, QA or viewers).
func (d Directory) members(team string) []string {
	var out []string
	for _, p := range d.People {
		if p.Active && slices.Contains(p.Teams, team) && worksCases(p.Role) {
			out = append(out, p.Email)
		}
	}
	return out
}

func worksCases(role string) bool { return role == "agent" || role == "lead" || role == "admin" }

// Resolve is the emails targets ask, sorted and without duplicates.
func Resolve(targets []Target, d Directory) []string {
	var out []string
	for _, t := range targets {
		switch {
		case t.User != "":
			for _, p := range d.People {
				if p.Active && strings.EqualFold(p.Email, t.User) {
					out = append(out, p.Email)
				}
			}
		case t.OnCall != "":
			team := d.teamOf(t.OnCall)
			if who, ok := d.OnCall[team]; ok && len(who) > 0 {
				out = append(out, who...)
			} else {
				out = append(out, d.members(team)...)
			}
		case t.Role != "":
			team := d.teamOf(t.Team)
			if team == "" {
				team = d.CaseTeam
			}
			var in, all []string
			for _, p := range d.People {
				if p.Active && p.Role == t.Role {
					all = append(all, p.Email)
					if slices.Contains(p.Teams, team) {
						in = append(in, p.Email)
					}
				}
			}
			if len(in) == 0 {
				in = all // the team has none of that role: everyone who has it
			}
			out = append(out, in...)
		case t.Team != "":
			out = append(out, d.members(d.teamOf(t.Team))...)
		case t.Owner:
			if d.Owner != "" {
				out = append(out, d.Owner)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// NeedsPeople reports whether Resolve reads d.People for targets: not
// when every target is the owner or an on-call team with someone on call
// (the usual step), so the caller need not list the desk's users.
func NeedsPeople(targets []Target, d Directory) bool {
	for _, t := range targets {
		switch {
		case t.User != "", t.Role != "", t.Team != "":
			return true
		case t.OnCall != "":
			if len(d.OnCall[d.teamOf(t.OnCall)]) == 0 {
				return true
			}
		}
	}
	return false
}

// OnCallTeams are the teams whose on-call targets ask, so that the caller
// asks each once.
func OnCallTeams(targets []Target, caseTeam string) []string {
	var out []string
	for _, t := range targets {
		if t.OnCall != "" {
			team := t.OnCall
			if team == CaseTeam {
				team = caseTeam
			}
			if !slices.Contains(out, team) {
				out = append(out, team)
			}
		}
	}
	return out
}

// --- levels ---

// LevelName is "L2 Escalation specialist" for level n of levels.
func LevelName(levels []Level, n int) string {
	s := "L" + strconv.Itoa(n)
	if n >= 1 && n <= len(levels) && levels[n-1].Name != "" {
		s += " " + levels[n-1].Name
	}
	return s
}

// ParseLevel reads "L3" or "l3" (a routing rule's escalate value).
func ParseLevel(s string) (int, bool) {
	if len(s) < 2 || (s[0] != 'L' && s[0] != 'l') {
		return 0, false
	}
	n, err := strconv.Atoi(s[1:])
	return n, err == nil && n >= 1 && n <= maxLevels
}
