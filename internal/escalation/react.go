package escalation

import (
	"context"
	"fmt"
	"strconv"

	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
)

// react is the in-transaction subscriber: what happens to a case starts
// and closes its escalations in the same transaction.
//
//	case.created         P1, high risk: the p1 and high_risk triggers
//	case.changed         priority to P1, high_risk to true: likewise
//	case.routed          a rule's escalate: a policy (whatever its triggers) or a level
//	sla.warning/breached the sla_warning / sla_breach triggers, with the metric
//	case.status_changed  resolved or closed: its escalations close;
//	                     a second reopen or later: the reopen trigger
func (s *Service) react(ctx context.Context, tx *db.Tx, e events.Event) error {
	if e.Case == nil {
		return nil
	}
	var triggers []Trigger
	switch d := e.Data.(type) {
	case *events.Created:
		if e.Case.Priority == "P1" {
			triggers = append(triggers, Trigger{Kind: TriggerP1})
		}
		if e.Case.HighRisk {
			triggers = append(triggers, Trigger{Kind: TriggerHighRisk})
		}
	case *events.Changed:
		for _, ch := range d.Changes {
			switch {
			case ch.Field == "priority" && ch.New == "P1" && ch.Old != "P1":
				triggers = append(triggers, Trigger{Kind: TriggerP1})
			case ch.Field == "high_risk" && ch.New == true && ch.Old != true:
				triggers = append(triggers, Trigger{Kind: TriggerHighRisk})
			}
		}
	case *events.SLA:
		kind := TriggerSLAWarning
		if e.Type == events.SLABreached {
			kind = TriggerSLABreach
		} else if e.Type != events.SLAWarning {
			return nil
		}
		triggers = append(triggers, Trigger{Kind: kind, Metric: d.Metric})
	case *events.Routed:
		return s.routed(ctx, tx, e, d)
	case *events.StatusChanged:
		switch {
		case d.To == string(cases.StatusResolved) || d.To == string(cases.StatusClosed):
			return s.closeAll(ctx, tx, e)
		case d.Reopened:
			c, err := s.cases.Find(ctx, tx, strconv.FormatInt(e.Case.ID, 10))
			if err != nil {
				return err
			}
			if c.ReopenCount >= 2 {
				triggers = append(triggers, Trigger{Kind: TriggerReopen})
			}
		}
	}
	if len(triggers) == 0 || e.Case.Status == string(cases.StatusResolved) || e.Case.Status == string(cases.StatusClosed) {
		return nil
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return err
	}
	policies := PoliciesOf(cfg)
	if len(policies) == 0 {
		return nil
	}
	f, err := s.facts(ctx, tx, e.Case)
	if err != nil {
		return err
	}
	for _, t := range triggers {
		p, ok := FirstFor(policies, t, f)
		if !ok {
			continue
		}
		sp := startSpec{trigger: t.Kind, reason: triggerReason(t, e), policy: &p}
		if _, err := s.start(ctx, tx, cfg, flare, strconv.FormatInt(e.Case.ID, 10), sp); err != nil {
			return err
		}
	}
	return nil
}

// routed starts what a routing rule's escalate action names.
func (s *Service) routed(ctx context.Context, tx *db.Tx, e events.Event, d *events.Routed) error {
	if len(d.Escalate) == 0 {
		return nil
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return err
	}
	for _, x := range d.Escalate {
		sp := startSpec{trigger: TriggerRouting, reason: fmt.Sprintf("routing rule %q", x.Rule)}
		if p, ok := PolicyNamed(cfg, x.Policy); ok {
			sp.policy = &p
		} else if n, ok := ParseLevel(x.Policy); ok && n <= len(LevelsOf(cfg)) {
			sp.level = n
		} else {
			// A desk applied before this check existed may name a policy
			// since removed: the rule's other actions stand.
			s.log.Warn("routing rule names no escalation policy", "rule", x.Rule, "escalate", x.Policy)
			continue
		}
		if _, err := s.start(ctx, tx, cfg, flare, strconv.FormatInt(e.Case.ID, 10), sp); err != nil {
			return err
		}
	}
	return nil
}

// triggerReason is the reason an automatic escalation gives.
func triggerReason(t Trigger, e events.Event) string {
	switch t.Kind {
	case TriggerP1:
		return "the case is P1"
	case TriggerHighRisk:
		return "the case is high risk"
	case TriggerReopen:
		return "the case was reopened again"
	case TriggerSLAWarning:
		return "the " + metricText(t.Metric) + " SLA is due soon"
	case TriggerSLABreach:
		return "the " + metricText(t.Metric) + " SLA was breached"
	}
	return t.Kind
}

func metricText(m string) string {
	switch m {
	case "first_response":
		return "first response"
	case "next_response":
		return "next response"
	}
	return m
}

// facts are what policies match the case on.
func (s *Service) facts(ctx context.Context, q db.Querier, c *events.Case) (Facts, error) {
	f := Facts{Team: c.Team, Category: c.Category, Market: c.Market, Priority: c.Priority, HighRisk: c.HighRisk}
	if c.SellerID != "" {
		sl, ok, err := desk.SellerByID(ctx, q, c.SellerID)
		if err != nil {
			return f, err
		}
		if ok {
			f.SellerTier = sl.Tier
		}
	}
	return f, nil
}

// closeAll closes the case's escalations when it is resolved, in the
// resolving transaction; the entries join that change's timeline (the case
// row is the outer change's, locked already). The level stays: it is the
// case's history.
func (s *Service) closeAll(ctx context.Context, tx *db.Tx, e events.Event) error {
	ids, err := s.activeIDs(ctx, tx, e.Case.ID)
	if err != nil || len(ids) == 0 {
		return err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return err
	}
	c, err := s.cases.Find(ctx, tx, strconv.FormatInt(e.Case.ID, 10))
	if err != nil {
		return err
	}
	actor := flare
	if e.Actor.ID != 0 {
		actor.UserID, actor.Email, actor.Name = e.Actor.ID, e.Actor.Email, e.Actor.Name
	}
	reason := "the case was " + e.Data.(*events.StatusChanged).To
	for _, id := range ids {
		before, err := s.byID(ctx, tx, cfg, id)
		if err != nil {
			return err
		}
		entry, err := s.closeRow(ctx, tx, actor, before, reason, e.At)
		if err != nil {
			return err
		}
		if err := s.cases.AddEntries(ctx, tx, actor, c.ID, e.At, []cases.Entry{entry}); err != nil {
			return err
		}
		after, err := s.byID(ctx, tx, cfg, id)
		if err != nil {
			return err
		}
		if err := s.audit(ctx, tx, actor, "escalation.close", after, before, e.At); err != nil {
			return err
		}
		if err := s.publish(ctx, tx, actor, c, events.EscalationClosed, after, c.EscalationLevel, reason, e.At); err != nil {
			return err
		}
	}
	return nil
}
