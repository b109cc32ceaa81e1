package cases

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/sla"
)

// The SLA engine's edge. internal/sla computes a case's clocks from its
// history (status changes and public messages) under the policy that
// matches it; here they are evaluated whenever the case changes and kept on
// the case row (cases.sla) with its next deadline (cases.sla_due_at), in the
// same transaction as the change. That column is the durable schedule: the
// deadline timer (sla_timer.go) fires every case whose deadline has come.
// Warnings and breaches are recorded once per clock cycle (a unique key),
// whichever transaction sees them first.

// storedClock is a clock as kept on the case row.
type storedClock struct {
	Metric      sla.Metric `json:"metric"`
	State       string     `json:"state"`
	Paused      bool       `json:"paused,omitempty"`
	Policy      string     `json:"policy"`
	Calendar    string     `json:"calendar,omitempty"`
	Business    bool       `json:"business"`
	TargetS     int64      `json:"target_s"`
	ElapsedS    int64      `json:"elapsed_s"`
	StartedAt   time.Time  `json:"started_at"`
	DueAt       *time.Time `json:"due_at,omitempty"`
	WarnAt      *time.Time `json:"warn_at,omitempty"`
	MetAt       *time.Time `json:"met_at,omitempty"`
	EvaluatedAt time.Time  `json:"evaluated_at"`
}

// Clock is an SLA clock as the API shows it, brought forward to now.
type Clock struct {
	Metric    sla.Metric `json:"metric"`
	State     string     `json:"state"`
	Policy    string     `json:"policy"`
	Target    string     `json:"target"`
	Business  bool       `json:"business"`
	Calendar  string     `json:"calendar"`
	StartedAt time.Time  `json:"started_at"`
	DueAt     *time.Time `json:"due_at"`
	WarnAt    *time.Time `json:"warn_at"`
	MetAt     *time.Time `json:"met_at"`
	Elapsed   string     `json:"elapsed"`
	Remaining string     `json:"remaining"` // negative when overdue
	// Seconds, for clients that count down themselves.
	ElapsedSeconds   int64 `json:"elapsed_seconds"`
	RemainingSeconds int64 `json:"remaining_seconds"`
}

// noDue is the queue-order due instant of a case with no running clock:
// after every real one.
var noDue = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// slaHit is a warning or breach found by an evaluation.
type slaHit struct {
	clock  sla.Clock
	kind   string // warning | breach
	at     time.Time
	policy string
}

// policyFor picks the case's SLA policy and its calendar.
func policyFor(cfg *desk.Config, c *Case, tier int) (sla.PolicySpec, *sla.Calendar, bool) {
	i, ok := -1, false
	if c.SLAPolicy != "" { // a routing rule chose it
		i = slices.IndexFunc(cfg.SLAPolicies, func(p sla.PolicySpec) bool { return p.Name == c.SLAPolicy })
		ok = i >= 0
	}
	if !ok {
		i, ok = sla.SelectPolicy(cfg.SLAPolicies, sla.CaseFacts{Priority: c.Priority, Category: c.Category,
			Market: c.Market, Channel: string(c.Channel), SellerTier: tier})
	}
	if !ok {
		return sla.PolicySpec{}, nil, false
	}
	p := cfg.SLAPolicies[i]
	team, _ := cfg.Team(c.Team)
	cal, _ := cfg.Calendar(p.CalendarKey(team.Calendar, c.Market))
	return p, cal, true // no such calendar: counted as 24/7
}

// evaluateSLA computes the case's clocks at now and keeps them on c; it
// returns the warnings and breaches to record and the next deadline.
func evaluateSLA(cfg *desk.Config, c *Case, tier int, h sla.History, now time.Time) ([]slaHit, time.Time) {
	c.slaStored, c.dueSort = []storedClock{}, noDue
	p, cal, ok := policyFor(cfg, c, tier)
	if !ok {
		return nil, time.Time{}
	}
	var hits []slaHit
	var next time.Time
	for _, ck := range sla.EvaluateAll(p, cal, h, now) {
		c.slaStored = append(c.slaStored, storedClock{Metric: ck.Metric, State: string(ck.State), Paused: ck.Paused,
			Policy: p.Name, Calendar: ck.Calendar, Business: ck.Business, TargetS: int64(ck.Target / time.Second),
			ElapsedS: int64(ck.Elapsed / time.Second), StartedAt: ck.StartedAt, DueAt: ptr(ck.DueAt),
			WarnAt: ptr(ck.WarnAt), MetAt: ptr(ck.MetAt), EvaluatedAt: now})
		if counts := ck.State == sla.ClockRunning || (ck.State == sla.ClockBreached && !ck.Paused); counts && !ck.DueAt.IsZero() && ck.DueAt.Before(c.dueSort) {
			c.dueSort = ck.DueAt.UTC()
		}
		if ck.Warned {
			hits = append(hits, slaHit{clock: ck, kind: "warning", at: ck.WarnedAt, policy: p.Name})
		}
		if ck.Breached { // met at or after the due instant is late too
			hits = append(hits, slaHit{clock: ck, kind: "breach", at: ck.BreachedAt, policy: p.Name})
		}
		w, b := sla.NextDeadlines(ck)
		for _, d := range []time.Time{w, b} {
			if d.After(now) && (next.IsZero() || d.Before(next)) {
				next = d
			}
		}
	}
	return hits, next
}

func ptr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// syncSLA re-evaluates the clocks of a stored case in tx and saves them
// with its next deadline: the timer's batch of one.
func (s *Service) syncSLA(ctx context.Context, tx *db.Tx, cfg *desk.Config, c *Case, now time.Time) error {
	hs, err := histories(ctx, tx, []int64{c.ID})
	if err != nil {
		return err
	}
	tiers, err := sellerTiers(ctx, tx, []*Case{c})
	if err != nil {
		return err // a wrong tier could pick the wrong SLA policy
	}
	return s.syncSLABatch(ctx, tx, cfg, []*Case{c}, tiers, hs, now)
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return db.T(t)
}

// histories reads what the clocks of the cases ids are computed from: their
// status changes and public messages, in order.
func histories(ctx context.Context, q db.Querier, ids []int64) (map[int64]sla.History, error) {
	out := make(map[int64]sla.History, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	in := db.Placeholders(len(ids))
	rows, err := q.Query(ctx, `SELECT case_id, type, data, created_at FROM case_events
		WHERE case_id IN (`+in+`) AND type IN ('created', 'status') ORDER BY case_id, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("sla history: %w", err)
	}
	for rows.Next() {
		var id int64
		var typ, data string
		var at db.Time
		if err := rows.Scan(&id, &typ, &data, &at); err != nil {
			rows.Close()
			return nil, err
		}
		status := string(StatusNew)
		if typ == "status" {
			var d struct {
				To string `json:"to"`
			}
			_ = json.Unmarshal([]byte(data), &d)
			status = d.To
		}
		h := out[id]
		h.Changes = append(h.Changes, sla.Change{At: at.Time, Status: status})
		out[id] = h
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Public comments; account managers speak for the requester's side.
	rows, err = q.Query(ctx, `SELECT cm.case_id, cm.created_at, COALESCE(u.role, ''), cm.from_email <> '' FROM case_comments cm
		LEFT JOIN users u ON u.id = cm.author_id WHERE cm.case_id IN (`+in+`) AND cm.internal = FALSE ORDER BY cm.case_id, cm.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("sla history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var at db.Time
		var role string
		var outside bool
		if err := rows.Scan(&id, &at, &role, &outside); err != nil {
			return nil, err
		}
		h := out[id]
		h.Messages = append(h.Messages, sla.Message{At: at.Time, FromRequester: outside || auth.Role(role) == auth.RoleAccountManager})
		out[id] = h
	}
	return out, rows.Err()
}

// event is the hit as hooks and the breaches list see it.
func (h slaHit) event(c *Case, now time.Time) SLAEvent {
	return SLAEvent{Case: c.Number, CaseID: c.ID, Title: c.Title, Metric: h.clock.Metric, Kind: h.kind, Policy: h.policy,
		Team: c.Team, Market: c.Market, DueAt: h.at.UTC(), FiredAt: now, Priority: c.Priority, Status: c.Status}
}

// timeline is the hit's timeline entry data.
func (h slaHit) timeline() map[string]any {
	return map[string]any{"metric": h.clock.Metric, "policy": h.policy, "at": h.at.UTC(), "target": h.clock.Target.String()}
}

// CheckSLA re-evaluates one case's clocks now (the timer does this in
// batches; tests and tools call it for one case).
func (s *Service) CheckSLA(ctx context.Context, caseID int64) error {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		c, err := s.load(ctx, tx, fmt.Sprint(caseID), true)
		if errors.Is(err, apperr.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return s.syncSLA(ctx, tx, cfg, c, s.clock.Now())
	})
}

// attachSLA turns the stored clocks of cases into API clocks brought
// forward to now: a running clock has kept counting since it was stored.
func (s *Service) attachSLA(cfg *desk.Config, cs []*Case) {
	now := s.clock.Now()
	for _, c := range cs {
		c.SLA = make([]Clock, 0, len(c.slaStored))
		for _, st := range c.slaStored {
			ck := Clock{Metric: st.Metric, State: st.State, Policy: st.Policy, Business: st.Business, Calendar: st.Calendar,
				StartedAt: st.StartedAt, DueAt: st.DueAt, WarnAt: st.WarnAt, MetAt: st.MetAt}
			el := time.Duration(st.ElapsedS) * time.Second
			counting := st.State == string(sla.ClockRunning) || (st.State == string(sla.ClockBreached) && !st.Paused)
			if counting && now.After(st.EvaluatedAt) {
				if cal, ok := cfg.Calendar(st.Calendar); ok && st.Business {
					el += cal.Between(st.EvaluatedAt, now)
				} else {
					el += now.Sub(st.EvaluatedAt)
				}
				if st.State == string(sla.ClockRunning) && st.DueAt != nil && !now.Before(*st.DueAt) {
					ck.State = string(sla.ClockBreached) // the deadline timer may not have run yet
				}
			}
			if st.State == string(sla.ClockPaused) {
				ck.DueAt, ck.WarnAt = nil, nil // no deadline while paused
			}
			el = el.Truncate(time.Second)
			tg := time.Duration(st.TargetS) * time.Second
			ck.Target, ck.Elapsed, ck.Remaining = tg.String(), el.String(), (tg - el).String()
			ck.ElapsedSeconds, ck.RemainingSeconds = int64(el/time.Second), int64((tg-el)/time.Second)
			c.SLA = append(c.SLA, ck)
		}
		slices.SortFunc(c.SLA, func(a, b Clock) int {
			return slices.Index(sla.Metrics, a.Metric) - slices.Index(sla.Metrics, b.Metric)
		})
	}
}
