package cases

import (
	"context"
	"encoding/json"
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

// factsFor gathers what the score and the rules read about c at now. seller
// may be nil (no seller, or not known here). Repeat contacts are the cases
// about the same seller and category created in the repeatWindow before c
// was: a property of the case, the same whenever it is assessed (counting
// back from now would let the count drift, and count later cases too).
func factsFor(ctx context.Context, q db.Querier, cfg *desk.Config, c *Case, seller *desk.Seller, now time.Time) (routing.Facts, error) {
	f := caseFacts(cfg, c, seller, now)
	if seller != nil {
		// An indexed count (cases_repeat: seller_id, category, created_at).
		// Earlier means created before, or at the same instant with a lower
		// id; a case not yet written (id 0) comes after every stored one.
		before, args := `created_at <= ?`, []any{seller.ID, c.Category, db.T(c.CreatedAt.Add(-repeatWindow)), db.T(c.CreatedAt)}
		if c.ID != 0 {
			before, args = `(created_at < ? OR (created_at = ? AND id < ?))`, append(args, db.T(c.CreatedAt), c.ID)
		}
		err := q.QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE seller_id = ? AND category = ? AND created_at >= ? AND `+before,
			args...).Scan(&f.RepeatContacts)
		if err != nil {
			return f, fmt.Errorf("repeat contacts: %w", err)
		}
	}
	return f, nil
}

// caseFacts is factsFor without the store: everything but the repeat
// contacts, which it leaves at 0.
func caseFacts(cfg *desk.Config, c *Case, seller *desk.Seller, now time.Time) routing.Facts {
	cat, _ := cfg.Category(c.Category)
	f := routing.Facts{Category: c.Category, CategorySeverity: cat.Severity, Market: c.Market, Language: c.Language,
		Channel: string(c.Channel), Team: c.Team, RequesterEmail: c.Requester.Email, Tags: c.Tags,
		Priority: c.Priority, PriorityOverridden: overridden(c.PriorityReasons), HighRisk: c.HighRisk,
		Sensitivity: c.Sensitivity, Title: c.Title, Description: c.Description, Reopens: c.ReopenCount,
		LinkedRepeats: c.RepeatContacts,
		SLAState:      slaState(c.slaStored, now), Now: now}
	withCalendars(cfg, &f)
	if hit, ok := routingdesk.WatchOf(cfg).Find(c.Title, c.Description); ok {
		f.SafetyTerm = &hit
	}
	f.MoneyAtStake, f.Currency = moneyAtStake(routingdesk.WeightsOf(cfg), cat, c.Fields)
	if seller != nil {
		f.SellerID, f.SellerTier, f.SellerRiskFlags = seller.ID, seller.Tier, seller.RiskFlags
	}
	return f
}

// withCalendars gives f the desk's calendar look-ups, which stored facts
// do not keep.
func withCalendars(cfg *desk.Config, f *routing.Facts) {
	f.Calendar = cfg.Calendar
	f.TeamCalendar = func(team string) string {
		t, _ := cfg.Team(team)
		return t.Calendar
	}
}

// AssessNew scores and routes a case made from in as Prepare would at at,
// without the store: seller is the case's seller (nil for none; its id must
// be in.SellerID) and repeatContacts the number of cases about the same
// seller and category created in the 30 days before at, the one fact
// Prepare reads from the store. The demo generator uses it to know, as it
// writes a case's history, which team will get the case and at what
// priority.
func AssessNew(cfg *desk.Config, in CreateInput, seller *desk.Seller, repeatContacts int, at time.Time) (routing.Assessment, error) {
	c, err := prepareWith(cfg, in, func(id string) (desk.Seller, bool, error) {
		if seller != nil && seller.ID == id {
			return *seller, true, nil
		}
		return desk.Seller{}, false, nil
	})
	if err != nil {
		return routing.Assessment{}, err
	}
	c.CreatedAt = at.UTC().Truncate(time.Microsecond)
	f := caseFacts(cfg, c, c.seller, c.CreatedAt)
	if c.seller != nil {
		f.RepeatContacts = repeatContacts
	}
	return assess(cfg, c, f, routing.EventCreate, false).Assessment, nil
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
	facts    routing.Facts // what it read; kept on the timeline entry of the write (see lastAssessment)
	assignTo string        // a user email a rule assigned the case to
}

// assess scores c and runs the routing rules for ev, and applies the
// result to c: priority and reasons (unless a person set them), team,
// tags, high risk, sensitivity, SLA policy and the assignment strategy.
// keepTeam keeps a team a person just chose.
func assess(cfg *desk.Config, c *Case, f routing.Facts, ev routing.Event, keepTeam bool) assessment {
	a := assessment{Assessment: routing.Assess(routingdesk.WeightsOf(cfg), routingdesk.RulesetOf(cfg), f, ev), facts: f}
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
	// AssessedAt is the instant of the facts explained: now for a case
	// body; for a stored case, when it was last scored and routed.
	AssessedAt time.Time `json:"assessed_at"`
	// DeskChanged is set for a stored case when the desk's current weights
	// or rules, applied to the facts the case was assessed on, give another
	// priority or other reasons than the case holds: the desk changed since.
	DeskChanged bool `json:"desk_changed,omitempty"`
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
	c.CreatedAt = s.clock.Now()
	f, err := factsFor(ctx, s.db, cfg, c, c.seller, c.CreatedAt)
	if err != nil {
		return nil, err
	}
	return explain(cfg, c, f, routing.EventCreate), nil
}

// ExplainCase explains a stored case's priority and routing: the score and
// the rules applied to the facts its last assessment read (on create or on
// its last update), the very computation whose result the case holds, so
// the explanation and the case's priority reasons agree. Only a change of
// the desk's weights or rules since can make them differ (DeskChanged).
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
	f, ev, ok, err := lastAssessment(ctx, s.db, c.ID)
	if err != nil {
		return nil, err
	}
	if !ok { // written before assessments were kept: gather the facts now
		var seller *desk.Seller
		if c.SellerID != nil {
			if sl, found, err := desk.SellerByID(ctx, s.db, *c.SellerID); err != nil {
				return nil, err
			} else if found {
				seller = &sl
			}
		}
		if f, err = factsFor(ctx, s.db, cfg, c, seller, s.clock.Now()); err != nil {
			return nil, err
		}
		ev = routing.EventUpdate
	}
	f.Title, f.Description = c.Title, c.Description
	withCalendars(cfg, &f)
	if overridden(c.PriorityReasons) { // set by hand after that assessment
		f.Priority, f.PriorityOverridden = c.Priority, true
	}
	x := explain(cfg, c, f, ev)
	x.DeskChanged = !f.PriorityOverridden && (x.Priority != c.Priority || !slices.Equal(x.Reasons, c.PriorityReasons))
	return x, nil
}

// explain runs the assessment once, with its rule-by-rule explanation.
func explain(cfg *desk.Config, c *Case, f routing.Facts, ev routing.Event) *Explanation {
	a, rx := routing.AssessExplain(routingdesk.WeightsOf(cfg), routingdesk.RulesetOf(cfg), f, ev)
	x := &Explanation{Event: ev, Priority: a.Priority, Score: a.Score, Outcome: a.Outcome, Rules: rx.Rules,
		Reasons: []Reason{}, AssessedAt: f.Now}
	if f.PriorityOverridden {
		x.Priority = c.Priority
	}
	for _, r := range a.Reasons {
		x.Reasons = append(x.Reasons, Reason{Factor: r.Factor, Detail: r.Detail, Points: r.Points})
	}
	return x
}

// assessedKey is where a "created" or "update" timeline entry keeps the
// facts the case's assessment read.
const assessedKey = "assessed"

// lastAssessment reads the facts of the case's latest assessment from its
// timeline, with the event it ran for; ok is false when none is recorded.
func lastAssessment(ctx context.Context, q db.Querier, caseID int64) (routing.Facts, routing.Event, bool, error) {
	rows, err := q.Query(ctx, `SELECT type, data FROM case_events WHERE case_id = ? AND type IN ('created', 'update', 'repeat_contact') ORDER BY id DESC`, caseID)
	if err != nil {
		return routing.Facts{}, "", false, fmt.Errorf("last assessment of case %d: %w", caseID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var typ, data string
		if err := rows.Scan(&typ, &data); err != nil {
			return routing.Facts{}, "", false, fmt.Errorf("last assessment of case %d: %w", caseID, err)
		}
		var d struct {
			Assessed *routing.Facts `json:"assessed"`
		}
		if err := json.Unmarshal([]byte(data), &d); err != nil {
			return routing.Facts{}, "", false, fmt.Errorf("last assessment of case %d: %w", caseID, err)
		}
		if d.Assessed == nil {
			continue // an update that did not score the case (a priority set by hand)
		}
		ev := routing.EventUpdate
		if typ == "created" {
			ev = routing.EventCreate
		}
		return *d.Assessed, ev, true, nil
	}
	return routing.Facts{}, "", false, rows.Err()
}
