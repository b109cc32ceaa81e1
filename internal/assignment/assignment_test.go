package assignment_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/assignment"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
)

var t0 = apptest.T0

type fixture struct {
	*apptest.Fixture
	svc   *cases.Service
	as    *assignment.Service
	clock *clock.Fake
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	fx := apptest.New(t, d)
	return &fixture{Fixture: fx, svc: fx.App.Cases, as: fx.App.Assignment, clock: fx.Clock}
}

func (f *fixture) actor(name string) auth.Actor { return f.Actor(name) }

func lostParcel() cases.CreateInput {
	return cases.CreateInput{
		Title: "Parcel never arrived", Description: "Buyer says the parcel never arrived", Category: "logistics/lost_parcel",
		Market: "GB", SellerID: "S-1001", Requester: &cases.Requester{Name: "Sam Buyer", Email: "Sam@Example.com"},
		Fields: map[string]any{"order_id": "ORD-778812", "tracking_number": "JD0002211", "carrier": "DPD"},
	}
}

// parcel is a logistics case of the given priority (the default weights:
// severity 3 = 10, tier-1 seller S-1001 +25, tier-3 seller S-1002 +5, high
// risk +30, leadership +20 and a rule raising it a level, +5 per earlier
// case about the same seller and category).
func parcel(title, priority string) cases.CreateInput {
	in := lostParcel()
	in.Title = title
	switch priority {
	case "P4":
		in.SellerID = ""
	case "P2":
		in.SellerID, in.HighRisk = "S-1002", true
	case "P1":
		in.HighRisk, in.Channel = true, "leadership"
	}
	return in
}

func conflictText(err error) string {
	var c *apperr.Conflict
	if errors.As(err, &c) {
		return c.Detail
	}
	return ""
}

// Take-next hands out the highest priority first, then the oldest, only
// cases the agent may take (languages, markets), and opens them.
func TestTakeNextOrderAndFilter(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		admin := f.actor("amelia.clarke")
		made := map[string]string{}
		for _, p := range [][2]string{{"low", "P4"}, {"medium", "P3"}, {"high first", "P2"}, {"high second", "P2"}} {
			c, err := f.svc.Create(ctx, admin, parcel(p[0], p[1]), nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.Priority != p[1] {
				t.Fatalf("%s is %s, want %s", p[0], c.Priority, p[1])
			}
			made[c.Number] = p[0]
			f.clock.Advance(time.Minute)
		}
		german := parcel("German parcel", "P1")
		german.Market, german.Language, german.SellerID = "DE", "de", ""
		if _, err := f.svc.Create(ctx, admin, german, nil); err != nil {
			t.Fatal(err)
		}
		priya := f.actor("priya.shah") // speaks en only
		var got []string
		for range 4 {
			c, err := f.as.TakeNext(ctx, priya, "logistics")
			if err != nil {
				t.Fatal(err)
			}
			if c.Owner == nil || *c.Owner != "priya.shah@flare.example" || c.Status != cases.StatusOpen {
				t.Fatalf("taken case: owner %v status %s", c.Owner, c.Status)
			}
			got = append(got, c.Title)
		}
		if want := "high first,high second,medium,low"; strings.Join(got, ",") != want {
			t.Fatalf("take-next order %v, want %s", got, want)
		}
		_, err := f.as.TakeNext(ctx, priya, "logistics")
		if !strings.Contains(conflictText(err), "no unassigned case in team logistics that you can take") {
			t.Fatalf("the German case is not for priya: %v", err)
		}
		c, err := f.as.TakeNext(ctx, f.actor("jonas.weber"), "logistics") // covers DE, speaks de
		if err != nil || c.Title != "German parcel" {
			t.Fatalf("jonas takes %v, %v", c, err)
		}
		evs, err := f.svc.Events(ctx, admin, c.Number)
		if err != nil {
			t.Fatal(err)
		}
		last := evs[len(evs)-2:]
		if last[0].Type != "assigned" || last[0].Data["via"] != "take_next" || last[1].Type != "status" || last[1].Data["to"] != "open" {
			t.Fatalf("timeline ends with %+v", last)
		}
		if _, err := f.as.TakeNext(ctx, f.actor("marcus.reed"), "logistics"); !isForbidden(err) {
			t.Fatalf("a non-member takes from logistics: %v", err)
		}
		var inv *apperr.Invalid
		if _, err := f.as.TakeNext(ctx, priya, "nope"); !errors.As(err, &inv) {
			t.Fatalf("unknown team: %v", err)
		}
	})
}

func isForbidden(err error) bool {
	var f *apperr.Forbidden
	return errors.As(err, &f)
}

// An agent takes only what fits their capacity (open cases weighted by
// priority) and nothing while away.
func TestTakeNextCapacityAndAway(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d) // priya: capacity 15; P1 weighs 4
		admin, priya := f.actor("amelia.clarke"), f.actor("priya.shah")
		for i := range 4 {
			if _, err := f.svc.Create(ctx, admin, parcel(fmt.Sprint("urgent ", i), "P1"), nil); err != nil {
				t.Fatal(err)
			}
		}
		for range 3 {
			if _, err := f.as.TakeNext(ctx, priya, "logistics"); err != nil {
				t.Fatal(err)
			}
		}
		// 12 of 15: another P1 would make 16.
		if _, err := f.as.TakeNext(ctx, priya, "logistics"); !strings.Contains(conflictText(err), "no unassigned case") {
			t.Fatalf("a fourth P1: %v", err)
		}
		if _, err := f.svc.Create(ctx, admin, parcel("routine", "P3"), nil); err != nil {
			t.Fatal(err)
		}
		if c, err := f.as.TakeNext(ctx, priya, "logistics"); err != nil || c.Title != "routine" {
			t.Fatalf("a P2 still fits: %v %v", c, err)
		}
		if err := f.as.SetAway(ctx, priya, "priya.shah@flare.example", assignment.AwayInput{Away: true, Note: "Dentist"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.as.TakeNext(ctx, priya, "logistics"); !strings.Contains(conflictText(err), "away") {
			t.Fatalf("away: %v", err)
		}
		agents, err := f.as.Agents(ctx, admin, "logistics")
		if err != nil {
			t.Fatal(err)
		}
		var p assignment.AgentStatus
		for _, a := range agents {
			if a.Email == "priya.shah@flare.example" {
				p = a
			}
		}
		// Three P1s (4 each) and the routine case, a P2 by now (repeat contacts).
		if !p.Away || p.AwayNote != "Dentist" || p.Load != 14 || p.Capacity != 15 || p.Open["P1"] != 3 || p.Open["P2"] != 1 {
			t.Fatalf("priya in the agents list: %+v", p)
		}
		if err := f.as.SetAway(ctx, priya, "jonas.weber@flare.example", assignment.AwayInput{Away: true}); !isForbidden(err) {
			t.Fatalf("an agent sets a colleague away: %v", err)
		}
		until := t0.Add(time.Hour)
		if err := f.as.SetAway(ctx, f.actor("jonas.weber"), "priya.shah@flare.example", assignment.AwayInput{Away: true, Until: &until}); err != nil {
			t.Fatal(err)
		}
		f.clock.Set(until) // back by herself
		if _, err := f.as.TakeNext(ctx, priya, "logistics"); !strings.Contains(conflictText(err), "no unassigned case") {
			t.Fatalf("after her away time ends: %v", err)
		}
	})
}

// Fifty agents' clicks at once never hand one case to two people.
func TestTakeNextConcurrentClaims(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		f.Reapply(t, func(c *desk.Config) {
			apptest.Team(c, "logistics").Assignment.Capacity = 1000
			apptest.User(c, "priya.shah").Capacity = 1000
			apptest.User(c, "jonas.weber").Markets = nil
		})
		admin := f.actor("amelia.clarke")
		for i := range 60 {
			if _, err := f.svc.Create(ctx, admin, parcel(fmt.Sprint("parcel ", i), "P3"), nil); err != nil {
				t.Fatal(err)
			}
		}
		agents := []auth.Actor{f.actor("priya.shah"), f.actor("jonas.weber")}
		var mu sync.Mutex
		seen := map[string]string{}
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for i := range 50 {
			wg.Go(func() {
				a := agents[i%2]
				c, err := f.as.TakeNext(ctx, a, "logistics")
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if prev, dup := seen[c.Number]; dup {
					errs <- fmt.Errorf("%s given to %s and %s", c.Number, prev, a.Email)
				}
				seen[c.Number] = a.Email
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		var owned, assigned int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE owner_id IS NOT NULL`).Scan(&owned); err != nil {
			t.Fatal(err)
		}
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM case_events WHERE type = 'assigned'`).Scan(&assigned); err != nil {
			t.Fatal(err)
		}
		if len(seen) != 50 || owned != 50 || assigned != 50 {
			t.Fatalf("claims %d, owned cases %d, assigned events %d; want 50 each", len(seen), owned, assigned)
		}
	})
}

// Round-robin on create skips agents who are off shift (in their own zone)
// or away, and says so on the timeline.
func TestAssignOnCreateRoundRobin(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		f.Reapply(t, func(c *desk.Config) {
			apptest.Team(c, "trust_safety").Assignment.AssignOnCreate = true // round_robin
			apptest.User(c, "amelia.clarke").Markets = nil
		})
		admin := f.actor("amelia.clarke")
		usCase := func() *cases.Case {
			in := safetyCase()
			in.Market = "US"
			c, err := f.svc.Create(ctx, admin, in, nil)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		owner := func(c *cases.Case) string {
			if c.Owner == nil {
				return ""
			}
			return strings.TrimSuffix(*c.Owner, "@flare.example")
		}
		// Monday 09:00 London is 01:00 in Los Angeles: Marcus is off shift.
		if c := usCase(); owner(c) != "amelia.clarke" || c.Status != cases.StatusOpen {
			t.Fatalf("first case: owner %q status %s", owner(c), c.Status)
		}
		c := usCase() // Marcus's turn, but he is off shift
		if owner(c) != "amelia.clarke" {
			t.Fatalf("second case: owner %q", owner(c))
		}
		evs, err := f.svc.Events(ctx, admin, c.Number)
		if err != nil {
			t.Fatal(err)
		}
		skipped := fmt.Sprint(evs[len(evs)-1].Data["skipped"])
		if evs[len(evs)-1].Type != "assigned" || !strings.Contains(skipped, "off shift until Mon 2 Nov 08:00 PST") {
			t.Fatalf("the timeline says why Marcus was skipped: %+v", evs[len(evs)-1])
		}
		f.clock.Set(t0.Add(8 * time.Hour)) // 09:00 in Los Angeles
		var got []string
		for range 3 {
			got = append(got, owner(usCase()))
		}
		if want := "marcus.reed,amelia.clarke,marcus.reed"; strings.Join(got, ",") != want { // after Amelia
			t.Fatalf("round robin gave %v, want %s", got, want)
		}
		if err := f.as.SetAway(ctx, f.actor("marcus.reed"), "marcus.reed@flare.example", assignment.AwayInput{Away: true}); err != nil {
			t.Fatal(err)
		}
		if o := owner(usCase()); o != "amelia.clarke" {
			t.Fatalf("Marcus is away, yet %s", o)
		}
		if o := owner(usCase()); o != "amelia.clarke" {
			t.Fatalf("Marcus is still away, yet %s", o)
		}
	})
}

// Least-loaded gives each case to the agent with the most room relative to
// their capacity.
func TestAssignOnCreateLeastLoaded(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		f.Reapply(t, func(c *desk.Config) {
			apptest.Team(c, "logistics").Assignment.AssignOnCreate = true // least_loaded, capacity 20
			apptest.User(c, "jonas.weber").Markets = nil                  // priya: capacity 15
		})
		var got []string
		for i := range 4 {
			c, err := f.svc.Create(ctx, f.actor("amelia.clarke"), parcel(fmt.Sprint("parcel ", i), "P3"), nil)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, strings.TrimSuffix(*c.Owner, "@flare.example"))
		}
		// Both empty: the tie goes by email (jonas). Then priya 0/15 < jonas
		// 1/20; jonas 1/20 < priya 1/15; priya 1/15 < jonas 2/20.
		if want := "jonas.weber,priya.shah,jonas.weber,priya.shah"; strings.Join(got, ",") != want {
			t.Fatalf("least loaded gave %v, want %s", got, want)
		}
	})
}

func safetyCase() cases.CreateInput {
	return cases.CreateInput{Title: "Charger caught fire", Category: "safety/product_safety", Market: "GB"}
}
