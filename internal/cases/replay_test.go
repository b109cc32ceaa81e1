package cases_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/demo"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/routing"
	"github.com/flare-desk/flare/internal/routing/routingdesk"
	"github.com/flare-desk/flare/internal/sla"
)

// The batched replay (ReplayMany: a chunk of cases, their histories,
// sellers and repeat contacts read in set-based queries, every document
// decided in one pass) gives exactly what the per-case replay gave, one
// document per pass: on the demo's cases (reopened, handed off, paused
// while pending, business-hours and calendar policies, repeat contacts)
// and under a proposal that moves teams, priorities and SLA outcomes.
func TestReplayManyIsTheOneCaseAtATimeReplay(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 18, 14, 30, 0, 0, time.UTC)
		a, err := app.New(d, app.Options{Clock: clock.NewFake(now), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := demo.Load(ctx, a, demo.Options{Seed: 1, Cases: 240, Now: now}); err != nil {
			t.Fatal(err)
		}
		// The edge cases are there: the test is only as good as its cases.
		for what, q := range map[string]string{
			"reopened":          `SELECT COUNT(*) FROM cases WHERE reopen_count > 0`,
			"handed off":        `SELECT COUNT(DISTINCT case_id) FROM handoffs`,
			"pending requester": `SELECT COUNT(*) FROM case_events WHERE type = 'status' AND CAST(data AS TEXT) LIKE '%pending_requester%'`,
			"pending internal":  `SELECT COUNT(*) FROM case_events WHERE type = 'status' AND CAST(data AS TEXT) LIKE '%pending_internal%'`,
			"requester replies": `SELECT COUNT(*) FROM case_comments cm LEFT JOIN users u ON u.id = cm.author_id
				WHERE cm.internal = FALSE AND (cm.from_email <> '' OR u.role = 'account_manager')`,
		} {
			var n int
			if err := d.QueryRow(ctx, q).Scan(&n); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if n == 0 {
				t.Errorf("the demo has no %s case", what)
			}
		}
		current, err := a.Desk.Config(ctx)
		if err != nil {
			t.Fatal(err)
		}
		business := false
		for _, p := range current.SLAPolicies {
			for _, tg := range p.Targets {
				business = business || tg.Time == "" || tg.Time == sla.BusinessTime
			}
		}
		if !business {
			t.Error("no business-hours SLA target in the demo desk")
		}
		proposed := propose(current)
		since := now.AddDate(-1, 0, 0)

		var many [2][]cases.Replayed
		err = a.Cases.ReplayMany(ctx, []*desk.Config{current, proposed}, since, now, func(rs []cases.Replayed) error {
			if len(rs) != 2 {
				return fmt.Errorf("%d results for 2 documents", len(rs))
			}
			many[0], many[1] = append(many[0], rs[0]), append(many[1], rs[1])
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, cfg := range []*desk.Config{current, proposed} {
			var one []cases.Replayed
			if err := a.Cases.ReplayOneAtATime(ctx, cfg, since, now, func(r cases.Replayed) error {
				one = append(one, r)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(one) < 200 || len(one) != len(many[i]) {
				t.Fatalf("document %d: %d cases one at a time, %d batched", i, len(one), len(many[i]))
			}
			for j := range one {
				if !reflect.DeepEqual(one[j], many[i][j]) {
					t.Fatalf("document %d, case %s:\n one at a time %+v\n batched       %+v", i, one[j].Number, one[j], many[i][j])
				}
			}
			var single []cases.Replayed
			if err := a.Cases.Replay(ctx, cfg, since, now, func(r cases.Replayed) error {
				single = append(single, r)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(single, one) {
				t.Fatalf("document %d: Replay differs from the per-case replay", i)
			}
		}
		// The proposal changes outcomes, so equal results are not equal
		// by vacuity.
		moved, reprioritised, decided, breached := 0, 0, [2]int{}, [2]int{}
		for j := range many[0] {
			a, b := many[0][j], many[1][j]
			if a.Team != b.Team {
				moved++
			}
			if a.Priority != b.Priority {
				reprioritised++
			}
			for i, r := range []cases.Replayed{a, b} {
				for _, ck := range r.Clocks {
					if ck.Decided {
						decided[i]++
					}
					if ck.Breached {
						breached[i]++
					}
				}
			}
		}
		if moved == 0 || reprioritised == 0 || decided[0] == 0 || breached[1] <= breached[0] {
			t.Fatalf("moved %d reprioritised %d decided %v breached %v", moved, reprioritised, decided, breached)
		}

		// In small chunks (many rounds of reads, each read while the one
		// before is decided) it is the same again.
		var chunked [2][]cases.Replayed
		err = a.Cases.ReplayManyInChunks(ctx, 7, []*desk.Config{current, proposed}, since, now, func(rs []cases.Replayed) error {
			chunked[0], chunked[1] = append(chunked[0], rs[0]), append(chunked[1], rs[1])
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(chunked, many) {
			t.Fatal("the replay in chunks of 7 differs")
		}

		// fn's error stops the replay and is what it returns.
		stop, calls := errors.New("enough"), 0
		err = a.Cases.ReplayManyInChunks(ctx, 2, []*desk.Config{current, proposed}, since, now, func([]cases.Replayed) error {
			if calls++; calls == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || calls != 3 {
			t.Fatalf("replay after fn failed: %v, %d calls", err, calls)
		}

		// The repeat contacts, counted for a whole batch in one statement,
		// are factsFor's count case by case.
		batched, single, err := a.Cases.RepeatContacts(ctx, current, since)
		if err != nil {
			t.Fatal(err)
		}
		repeats := 0
		for num, n := range single {
			if batched[num] != n {
				t.Errorf("%s: %d repeat contacts batched, %d one at a time", num, batched[num], n)
			}
			if n > 0 {
				repeats++
			}
		}
		if repeats == 0 {
			t.Error("no case with repeat contacts: the count is untested")
		}
	})
}

// propose is current with every SLA target 40% shorter and in calendar
// time, the first category sent to another team, and a rule and weights
// that move priorities (repeat contacts count for more).
func propose(current *desk.Config) *desk.Config {
	p := *current
	p.SLAPolicies = slices.Clone(current.SLAPolicies)
	for i, pol := range p.SLAPolicies {
		ts := map[sla.Metric]sla.Target{}
		for m, tg := range pol.Targets {
			if d, err := sla.ParseDuration(tg.Within); err == nil {
				tg.Within = fmt.Sprintf("%dm", max(1, int((d*3/5).Minutes())))
			}
			if i%2 == 0 {
				tg.Time = sla.CalendarTime
			}
			ts[m] = tg
		}
		p.SLAPolicies[i].Targets = ts
	}
	p.Categories = slices.Clone(current.Categories)
	for i := 1; i < len(p.Categories); i++ {
		if p.Categories[i].Team != p.Categories[0].Team {
			p.Categories[0].Team = p.Categories[i].Team
			break
		}
	}
	w := routingdesk.WeightsOf(current)
	w.RepeatContacts = routing.PerCount{Each: 30, Max: 90}
	desk.Set(&p, routingdesk.WeightsKey, w)
	rules := append(slices.Clone(routingdesk.RulesOf(current)), routing.Rule{Name: "Replay test: payments first",
		When: routing.Conditions{Category: []string{p.Categories[len(p.Categories)-1].Key}},
		Then: routing.Actions{Priority: routing.PriorityAction{Set: "P1"}}})
	desk.Set(&p, routingdesk.RulesKey, rules)
	return &p
}
