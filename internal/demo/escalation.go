package demo

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/escalation"
)

// The demo desk's escalations: the ladder with who holds each level, and
// policies for safety emergencies, high-risk cases and key (tier 1)
// sellers, plus the desk's policy for escalating by hand. The replayed cases
// start them through the same triggers as live ones (P1, high risk, SLA
// breaches, reopens, the escalations team's hand-offs); settleEscalations
// then has most of those still running acknowledged by their owners, as a
// staffed desk would, and leaves the recent ones open.

func escalationDesk(cfg *desk.Config) {
	rachel, sophie := personByKey("rachel").email(), personByKey("sophie").email()
	desk.Set(cfg, escalation.LevelsKey, []escalation.Level{
		{Name: "Frontline", Description: "the owning agent and team"},
		{Name: "Escalation specialist", Targets: []escalation.Target{{OnCall: "escalations"}}},
		{Name: "Specialist team / team lead", Targets: []escalation.Target{{Role: "lead"}}},
		{Name: "Risk & emergency program manager", Targets: []escalation.Target{{User: rachel}}},
		{Name: "Leadership", Targets: []escalation.Target{{Role: "admin"}}},
	})
	desk.Set(cfg, escalation.PoliciesKey, []escalation.Policy{
		{Name: "Safety emergency", Triggers: []string{"high_risk", "sla_breach:first_response"},
			When:   escalation.Match{Categories: []string{"safety/", "trust_safety/"}},
			Repeat: 1,
			Steps: []escalation.Step{
				{Level: 2, Targets: []escalation.Target{{Owner: true}, {OnCall: "trust_safety"}}, AckWithin: "15m"},
				{Level: 3, Targets: []escalation.Target{{Role: "lead", Team: "trust_safety"}}, AckWithin: "30m"},
				{Level: 4, Targets: []escalation.Target{{User: rachel}}, AckWithin: "1h",
					Fallback: []escalation.Target{{Role: "admin"}}},
			}},
		{Name: "High-risk case", Triggers: []string{"high_risk", "sla_breach:first_response"},
			When: escalation.Match{HighRisk: true},
			Steps: []escalation.Step{
				{Level: 2, Targets: []escalation.Target{{OnCall: "escalations"}}, AckWithin: "30m"},
				{Level: 3, Targets: []escalation.Target{{Role: "lead"}}, AckWithin: "1h",
					Fallback: []escalation.Target{{User: rachel}}},
			}},
		{Name: "Key seller", Triggers: []string{"p1", "sla_breach", "reopen", "manual"},
			When: escalation.Match{SellerTiers: []int{1}},
			Steps: []escalation.Step{
				{Level: 2, Targets: []escalation.Target{{Team: "escalations"}}, AckWithin: "1h"},
				{Level: 3, Targets: []escalation.Target{{User: sophie}}, AckWithin: "2h",
					Fallback: []escalation.Target{{Role: "admin"}}},
			}},
		{Name: "Escalated by hand", Triggers: []string{"manual"},
			Steps: []escalation.Step{
				{Level: 2, Targets: []escalation.Target{{OnCall: "escalations"}}, AckWithin: "1h"},
				{Level: 3, Targets: []escalation.Target{{Role: "lead"}}, AckWithin: "2h"},
			}},
	})
}

// escalateReasons are why the leads hand cases to the escalations team.
var escalateReasons = []string{
	"Seller is threatening to leave the marketplace; needs an escalation specialist.",
	"Third contact on the same issue without a fix: taking it to escalations.",
	"Account manager asked for senior handling: key commercial relationship.",
	"Press enquiry mentions this case.",
	"Customer harm possible if this waits for the normal queue.",
}

// escalateReason picks a reason for the case ref, the same on every load.
func escalateReason(ref string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(ref))
	return escalateReasons[h.Sum32()%uint32(len(escalateReasons))]
}

// keepOpen is how many of the latest escalations settleEscalations leaves
// waiting; older ones still running are acknowledged.
const keepOpen = 6

// settleEscalations acknowledges the replayed escalations still waiting
// except the latest few, each by its case's owner (or the step's first
// target, or a lead) a few minutes after its step started, and escalates
// a few recent active cases by hand so that some wait with live deadlines.
func settleEscalations(ctx context.Context, caps app.Capabilities, clk *clock.Fake,
	actors map[string]auth.Actor, now time.Time) error {
	lead := actors[personByKey("rachel").email()]
	page, err := caps.Escalation.List(ctx, lead, escalation.Filter{State: []escalation.State{escalation.Open}, Limit: 200})
	if err != nil {
		return err
	}
	waiting := page.Escalations // oldest first
	recent := 0
	for i, e := range waiting {
		if len(waiting)-i <= keepOpen && e.DueAt != nil && e.DueAt.After(now) {
			recent++
			continue // recent enough to wait, with its deadline ahead
		}
		c, err := caps.Cases.Get(ctx, lead, e.Case)
		if err != nil {
			return err
		}
		who := lead
		switch {
		case c.Owner != nil && actors[*c.Owner].UserID != 0:
			who = actors[*c.Owner]
		case len(e.Targets) > 0 && actors[e.Targets[0]].UserID != 0:
			who = actors[e.Targets[0]]
		}
		if !escalation.MayAcknowledge(who, e, c) || !caps.Cases.CanSee(ctx, who, c) {
			who = lead
		}
		clk.Set(e.StepStartedAt.Add(time.Duration(3+e.ID%10) * time.Minute))
		if _, err := caps.Escalation.Acknowledge(ctx, who, e.Case, e.ID); err != nil {
			return fmt.Errorf("demo: acknowledge escalation %d of %s: %w", e.ID, e.Case, err)
		}
	}
	// Cases escalated by hand in the last half hour, still waiting.
	need := keepOpen - recent
	if need <= 0 {
		return nil
	}
	list, err := caps.Cases.List(ctx, lead, cases.ListFilter{Status: []cases.Status{cases.StatusOpen}, Sort: "-created_at", Limit: 60})
	if err != nil {
		return err
	}
	for i, c := range list.Cases {
		if need == 0 {
			break
		}
		if c.EscalationLevel > 1 || c.Team == "escalations" {
			continue
		}
		clk.Set(now.Add(-time.Duration(5+7*i%25) * time.Minute))
		if _, err := caps.Escalation.Escalate(ctx, lead, c.Number, escalation.Input{Reason: escalateReason(c.Number)}, nil); err != nil {
			return fmt.Errorf("demo: escalate %s: %w", c.Number, err)
		}
		need--
	}
	return nil
}
