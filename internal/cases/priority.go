package cases

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/assign"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/routing"
	"github.com/flare-desk/flare/internal/routing/routingdesk"
	"github.com/flare-desk/flare/internal/sla"
)

// Priority and routing: internal/routing scores a case with the desk's
// weights and runs its routing rules; here the facts they read are
// gathered from the case, its seller and the store, and their outcome is
// applied to the case.

// repeatWindow is how far back earlier cases about the same seller and
// category count as repeat contacts.
const repeatWindow = 30 * 24 * time.Hour

// factsFor gathers what the score and the rules read about c. seller may
// be nil (no seller, or not known here).
func factsFor(ctx context.Context, q db.Querier, cfg *desk.Config, c *Case, seller *desk.Seller, now time.Time) (routing.Facts, error) {
	cat, _ := cfg.Category(c.Category)
	f := routing.Facts{Category: c.Category, CategorySeverity: cat.Severity, Market: c.Market, Language: c.Language,
		Channel: string(c.Channel), Team: c.Team, RequesterEmail: c.Requester.Email, Tags: c.Tags,
		Priority: c.Priority, PriorityOverridden: overridden(c.PriorityReasons), HighRisk: c.HighRisk,
		Sensitivity: c.Sensitivity, Title: c.Title, Description: c.Description, Reopens: c.ReopenCount,
		SLAState: slaState(c.slaStored, now), Now: now,
		Calendar: cfg.Calendar,
		TeamCalendar: func(team string) string {
			t, _ := cfg.Team(team)
			return t.Calendar
		}}
	f.MoneyAtStake, f.Currency = moneyAtStake(routingdesk.WeightsOf(cfg), cat, c.Fields)
	if seller != nil {
		f.SellerID, f.SellerTier, f.SellerRiskFlags = seller.ID, seller.Tier, seller.RiskFlags
		// Earlier cases about the same seller and category: an indexed count.
		err := q.QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE seller_id = ? AND created_at >= ? AND category = ? AND id <> ?`,
			seller.ID, db.T(now.Add(-repeatWindow)), c.Category, c.ID).Scan(&f.RepeatContacts)
		if err != nil {
			return f, fmt.Errorf("repeat contacts: %w", err)
		}
	}
	return f, nil
}

// slaState is the most pressing clock's state for the score.
func slaState(clocks []storedClock, now time.Time) string {
	state := ""
	for _, ck := range clocks {
		switch {
		case ck.State == string(sla.ClockBreached):
			return routing.SLABreached
		case ck.State == string(sla.ClockRunning) && ck.DueAt != nil && !now.Before(*ck.DueAt):
			return routing.SLABreached
		case ck.State == string(sla.ClockRunning) && ck.WarnAt != nil && !now.Before(*ck.WarnAt):
			state = routing.SLAWarning
		}
	}
	return state
}

// moneyAtStake is the largest amount among the case's money fields (those
// the weights name, or all of the category's).
func moneyAtStake(w routing.Weights, cat desk.Category, fields map[string]any) (float64, string) {
	best, cur := 0.0, ""
	for _, fd := range cat.Fields {
		if fd.Type != desk.FieldMoney || (len(w.MoneyFields) > 0 && !slices.Contains(w.MoneyFields, fd.Key)) {
			continue
		}
		m, ok := fields[fd.Key].(map[string]any)
		if !ok {
			continue
		}
		s, _ := m["amount"].(string)
		if v, err := strconv.ParseFloat(s, 64); err == nil && v > best {
			best, cur = v, fmt.Sprint(m["currency"])
		}
	}
	return best, cur
}

// assessment is a case's score and routing outcome, applied to it.
type assessment struct {
	routing.Assessment
	assignTo string // a user email a rule assigned the case to
}

// assess scores c and runs the routing rules for ev, and applies the
// result to c: priority and reasons (unless a person set them), team,
// tags, high risk, sensitivity, SLA policy and the assignment strategy.
// keepTeam keeps a team a person just chose.
func assess(cfg *desk.Config, c *Case, f routing.Facts, ev routing.Event, keepTeam bool) assessment {
	a := assessment{Assessment: routing.Assess(routingdesk.WeightsOf(cfg), routingdesk.RulesetOf(cfg), f, ev)}
	out := a.Outcome
	if !f.PriorityOverridden {
		c.Priority = a.Priority
		c.PriorityReasons = make([]Reason, len(a.Reasons))
		for i, r := range a.Reasons {
			c.PriorityReasons[i] = Reason{Factor: r.Factor, Detail: r.Detail, Points: r.Points}
		}
	}
	if !keepTeam && out.Team != "" {
		c.Team = out.Team
	}
	c.HighRisk = out.HighRisk
	if out.Sensitivity != "" {
		c.Sensitivity = out.Sensitivity
	}
	for _, t := range out.AddTags {
		if !slices.Contains(c.Tags, t) && len(c.Tags) < maxTags {
			c.Tags = append(c.Tags, t)
		}
	}
	if out.SLAPolicy != "" {
		c.SLAPolicy = out.SLAPolicy
	}
	switch out.Assign {
	case "":
	case string(assign.StrategyRoundRobin), string(assign.StrategyLeastLoaded):
		c.assignVia = assign.Strategy(out.Assign)
	default:
		a.assignTo = out.Assign
	}
	return a
}

// routedEntry is the timeline entry saying which rules fired and what they
// changed; nil when none fired.
func routedEntry(a assessment) *eventRec {
	if len(a.Outcome.Fired) == 0 {
		return nil
	}
	data := map[string]any{"rules": a.Outcome.Fired, "changes": a.Outcome.Changes}
	if a.Outcome.Escalate != "" {
		data["escalate"] = a.Outcome.Escalate // started by the escalations capability once it exists
	}
	if len(a.Outcome.Notify) > 0 {
		data["notify"] = a.Outcome.Notify
	}
	return &eventRec{typ: "routed", data: data}
}

// onlyNew keeps, after an update, what the rules newly did: a rule whose
// conditions still hold would otherwise notify or escalate again on every
// update. Its notify and escalate actions count only when the same rule
// also changed something on this update.
func onlyNew(a assessment) assessment {
	changed := map[string]bool{}
	for _, c := range a.Outcome.Changes {
		if c.Action != routing.ActionNotify && c.Action != routing.ActionEscalate {
			changed[c.Rule] = true
		}
	}
	out := a
	out.Outcome.Changes, out.Outcome.Notify, out.Outcome.Escalate = nil, nil, ""
	for _, c := range a.Outcome.Changes {
		if !changed[c.Rule] {
			continue
		}
		out.Outcome.Changes = append(out.Outcome.Changes, c)
		switch c.Action {
		case routing.ActionNotify:
			out.Outcome.Notify = append(out.Outcome.Notify, c.Value)
		case routing.ActionEscalate:
			out.Outcome.Escalate = c.Value
		}
	}
	out.Outcome.Fired = nil
	for _, name := range a.Outcome.Fired {
		if changed[name] {
			out.Outcome.Fired = append(out.Outcome.Fired, name)
		}
	}
	return out
}

// overridden reports whether a person has set the priority by hand.
func overridden(reasons []Reason) bool {
	return len(reasons) > 0 && reasons[0].Factor == "override"
}

// Explanation is what the score and the routing rules make of a case,
// rule by rule, without writing anything.
type Explanation struct {
	Event    routing.Event        `json:"event"`
	Priority string               `json:"priority"`
	Score    int                  `json:"score"`
	Reasons  []Reason             `json:"priority_reasons"`
	Rules    []routing.RuleResult `json:"rules"`
	Outcome  routing.Outcome      `json:"outcome"`
}

// mayExplain: how the rules decide is for admins and leads.
func mayExplain(a auth.Actor) error {
	if a.Role != auth.RoleAdmin && a.Role != auth.RoleLead {
		return &apperr.Forbidden{Detail: "only admins and leads see how the rules decide"}
	}
	return nil
}

// ExplainNew explains a case body as if it were created now.
func (s *Service) ExplainNew(ctx context.Context, actor auth.Actor, in CreateInput) (*Explanation, error) {
	if err := mayExplain(actor); err != nil {
		return nil, err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.prepare(ctx, cfg, in)
	if err != nil {
		return nil, err
	}
	return s.explain(ctx, cfg, c, routing.EventCreate)
}

// ExplainCase explains what the rules would do to a stored case on its
// next update.
func (s *Service) ExplainCase(ctx context.Context, actor auth.Actor, ref string) (*Explanation, error) {
	if err := mayExplain(actor); err != nil {
		return nil, err
	}
	c, err := s.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	if c.SellerID != nil {
		if sl, ok, err := desk.SellerByID(ctx, s.db, *c.SellerID); err != nil {
			return nil, err
		} else if ok {
			c.seller = &sl
		}
	}
	return s.explain(ctx, cfg, c, routing.EventUpdate)
}

func (s *Service) explain(ctx context.Context, cfg *desk.Config, c *Case, ev routing.Event) (*Explanation, error) {
	f, err := factsFor(ctx, s.db, cfg, c, c.seller, s.clock.Now())
	if err != nil {
		return nil, err
	}
	a := routing.Assess(routingdesk.WeightsOf(cfg), routingdesk.RulesetOf(cfg), f, ev)
	x := &Explanation{Event: ev, Priority: a.Priority, Score: a.Score, Outcome: a.Outcome, Rules: []routing.RuleResult{}}
	if f.PriorityOverridden {
		x.Priority = c.Priority
	}
	for _, r := range a.Reasons {
		x.Reasons = append(x.Reasons, Reason{Factor: r.Factor, Detail: r.Detail, Points: r.Points})
	}
	if rs := routingdesk.RulesetOf(cfg); rs != nil {
		x.Rules = rs.Explain(f, ev).Rules
	}
	return x, nil
}
