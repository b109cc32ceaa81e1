package demo

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/notify"
)

// The demo's notifications. The generated history is written without the
// event stream (Replay wires no bus: a thousand cases' mail would be
// noise), so the bells are filled afterwards from what that history left:
// the latest assignments, SLA warnings and breaches, answered handoffs and
// resolutions of sellers' cases, each handed to the notification service
// as the event it was — the same rules, texts and preferences as live
// traffic. The demo desk has no SMTP server (no mail goes out) and two
// webhook subscriptions: a Slack one to a loopback port nothing listens on
// (its deliveries fail at once and show the retry log) and a disabled one.

// notifyLimit bounds each kind of seeded event.
const notifyLimit = 20

// demoWebhooks are the demo desk's subscriptions.
var demoWebhooks = []notify.WebhookInput{
	{Name: ptr("#escalations-alerts (Slack)"), URL: ptr("http://127.0.0.1:9/services/T0DEMO/B0DEMO/slack"), Format: ptr(notify.FormatSlack),
		EventTypes: &[]events.Type{events.SLABreached, events.EscalationStarted, events.EscalationStepped}},
	{Name: ptr("Data warehouse (disabled)"), URL: ptr("https://hooks." + EmailDomain + "/flare/events"), Format: ptr(notify.FormatJSON),
		EventTypes: &[]events.Type{}, Active: ptr(false)},
}

func ptr[T any](v T) *T { return &v }

// seedNotifications fills the demo users' bells; it is idempotent (events
// get stable ids) and runs in one transaction.
func seedNotifications(ctx context.Context, a *app.App) error {
	admin := auth.System("demo")
	hooks, err := a.Notify.Webhooks(ctx, admin)
	if err != nil {
		return err
	}
	for _, w := range demoWebhooks {
		if len(hooks) > 0 {
			break // loaded before
		}
		if _, err := a.Notify.CreateWebhook(ctx, admin, w); err != nil {
			return fmt.Errorf("demo webhook: %w", err)
		}
	}
	return a.DB.InTx(ctx, func(tx *db.Tx) error {
		jctx := db.Join(ctx, tx)
		evs, err := demoEvents(jctx, a, tx)
		if err != nil {
			return err
		}
		for _, e := range evs {
			if err := a.Notify.Handle(jctx, e); err != nil {
				return fmt.Errorf("demo notification %s: %w", e.Type, err)
			}
		}
		return nil
	})
}

// demoEvents rebuilds recent events from the stored history.
func demoEvents(ctx context.Context, a *app.App, q db.Querier) ([]events.Event, error) {
	var out []events.Event
	caseOf := map[int64]*cases.Case{}
	load := func(id int64) (*cases.Case, error) {
		if c, ok := caseOf[id]; ok {
			return c, nil
		}
		c, err := a.Cases.Find(ctx, q, strconv.FormatInt(id, 10))
		caseOf[id] = c
		return c, err
	}
	add := func(id string, t events.Type, c *cases.Case, at time.Time, actor events.Actor, d events.Payload) {
		out = append(out, events.Event{ID: "demo-" + id, Type: t, Version: 1, At: at, Actor: actor, Case: cases.EventCase(c), Data: d})
	}
	// Assignments of the latest active cases.
	rows, err := q.Query(ctx, `SELECT c.id, c.updated_at FROM cases c WHERE c.owner_id IS NOT NULL
		AND c.status IN ('open', 'pending_internal', 'pending_requester') ORDER BY c.created_at DESC LIMIT ?`, notifyLimit)
	if err != nil {
		return nil, fmt.Errorf("demo notifications: %w", err)
	}
	type idAt struct {
		id int64
		at db.Time
	}
	scan := func(rows interface {
		Next() bool
		Scan(...any) error
		Close() error
		Err() error
	}) ([]idAt, error) {
		defer rows.Close()
		var l []idAt
		for rows.Next() {
			var x idAt
			if err := rows.Scan(&x.id, &x.at); err != nil {
				return nil, err
			}
			l = append(l, x)
		}
		return l, rows.Err()
	}
	list, err := scan(rows)
	if err != nil {
		return nil, fmt.Errorf("demo notifications: %w", err)
	}
	for _, x := range list {
		c, err := load(x.id)
		if err != nil {
			return nil, err
		}
		add("assigned-"+strconv.FormatInt(c.ID, 10), events.CaseAssigned, c, c.CreatedAt.Add(7*time.Minute), events.Actor{Name: "demo"},
			&events.Assigned{Owner: *c.Owner, Via: "least_loaded"})
	}
	// SLA warnings and breaches.
	srows, err := q.Query(ctx, `SELECT id, case_id, metric, kind, due_at, fired_at, policy FROM sla_events
		ORDER BY fired_at DESC LIMIT ?`, notifyLimit)
	if err != nil {
		return nil, fmt.Errorf("demo notifications: %w", err)
	}
	type hit struct {
		id, caseID           int64
		metric, kind, policy string
		due, fired           db.Time
	}
	var hits []hit
	for srows.Next() {
		var h hit
		if err := srows.Scan(&h.id, &h.caseID, &h.metric, &h.kind, &h.due, &h.fired, &h.policy); err != nil {
			srows.Close()
			return nil, fmt.Errorf("demo notifications: %w", err)
		}
		hits = append(hits, h)
	}
	srows.Close()
	if err := srows.Err(); err != nil {
		return nil, fmt.Errorf("demo notifications: %w", err)
	}
	for _, h := range hits {
		c, err := load(h.caseID)
		if err != nil {
			return nil, err
		}
		t := events.SLAWarning
		if h.kind == "breach" {
			t = events.SLABreached
		}
		add("sla-"+strconv.FormatInt(h.id, 10), t, c, h.fired.Time, events.Actor{},
			&events.SLA{Metric: h.metric, Policy: h.policy, DueAt: h.due.Time, At: h.fired.Time, SLAID: h.id})
	}
	// Answered handoffs, for the cases' owners.
	hrows, err := q.Query(ctx, `SELECT id, closed_at FROM handoffs WHERE status IN ('completed', 'declined')
		ORDER BY closed_at DESC LIMIT ?`, notifyLimit)
	if err != nil {
		return nil, fmt.Errorf("demo notifications: %w", err)
	}
	if list, err = scan(hrows); err != nil {
		return nil, fmt.Errorf("demo notifications: %w", err)
	}
	for _, x := range list {
		h, err := a.Handoffs.Get(ctx, auth.System("demo"), x.id)
		if err != nil {
			return nil, err
		}
		c, err := load(h.CaseID)
		if err != nil {
			return nil, err
		}
		t := events.HandoffCompleted
		if h.Status == "declined" {
			t = events.HandoffDeclined
		}
		actor := events.Actor{}
		if h.ClosedBy != nil {
			actor = events.Actor{Email: *h.ClosedBy, Name: *h.ClosedBy}
		}
		add("handoff-"+strconv.FormatInt(h.ID, 10), t, c, x.at.Time, actor, &events.Handoff{HandoffID: h.ID, FromTeam: h.FromTeam,
			ToTeam: h.ToTeam, Status: string(h.Status), Answer: h.Answer, Reason: h.DeclineReason, DueAt: h.DueAt, Hold: h.Hold})
	}
	// Resolutions of sellers' cases, for their account managers.
	rrows, err := q.Query(ctx, `SELECT id, resolved_at FROM cases WHERE status = 'resolved' AND seller_id IS NOT NULL
		AND sensitivity = 'normal' ORDER BY resolved_at DESC LIMIT ?`, notifyLimit)
	if err != nil {
		return nil, fmt.Errorf("demo notifications: %w", err)
	}
	if list, err = scan(rrows); err != nil {
		return nil, fmt.Errorf("demo notifications: %w", err)
	}
	for _, x := range list {
		c, err := load(x.id)
		if err != nil {
			return nil, err
		}
		actor := events.Actor{}
		if c.Owner != nil {
			actor = events.Actor{ID: c.OwnerID, Email: *c.Owner, Name: c.OwnerName}
		}
		add("resolved-"+strconv.FormatInt(c.ID, 10), events.CaseStatusChanged, c, x.at.Time, actor,
			&events.StatusChanged{From: "open", To: "resolved", Resolution: c.Resolution})
	}
	return out, nil
}
