package reports_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/reports"
)

// A report from a node whose fact cache is warm gives, after every write
// made through another node, exactly the figures of a node that has read
// nothing yet (its cache cold): creates, resolutions, reopens, a market
// and a team changed, over days, through the current, the previous and
// later periods, sliced by team, agent and seller tier, filtered by
// market and tier — also with a cache bounded to a few rows, which drops
// buckets on every report.
func TestFactCacheFollowsWritesOfEveryNode(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		agent, lead := f.Actor("priya.shah"), f.Actor("jonas.weber")
		other := reports.New(d, f.App.Desk, f.App.Cases, f.Clock) // another node's reports
		bounded := reports.New(d, f.App.Desk, f.App.Cases, f.Clock)
		reports.SetFactCacheRows(bounded, 3)
		r := rand.New(rand.NewPCG(3, 4))
		markets := []string{"GB", "DE", "US"}
		var open, resolved []*cases.Case
		start := f.Clock.Now()
		filters := func() []reports.Filter {
			now := f.Clock.Now()
			week := reports.Period{From: now.Add(-3 * 24 * time.Hour), To: now.Add(time.Hour)}
			return []reports.Filter{
				{Period: week, By: "team"},
				{Period: week, By: "agent"},
				{Period: week, By: "seller_tier"},
				{Period: week, Market: "GB"},
				{Period: week, Tier: 1},
				{Period: reports.Period{From: start, To: start.Add(24 * time.Hour)}, By: "market"},
				{Period: reports.Period{From: now.Add(24 * time.Hour), To: now.Add(48 * time.Hour)}},
			}
		}
		check := func(step string) {
			t.Helper()
			cold := reports.New(d, f.App.Desk, f.App.Cases, f.Clock)
			for _, flt := range filters() {
				want, err := cold.Report(ctx, lead, flt)
				if err != nil {
					t.Fatal(err)
				}
				for name, s := range map[string]*reports.Service{"this node": f.App.Reports, "another node": other, "bounded": bounded} {
					got, err := s.Report(ctx, lead, flt)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("%s, %s, %+v:\n got %+v\nwant %+v", step, name, flt, got, want)
					}
				}
				if len(want.Slices) == 0 && flt.By == "team" {
					t.Fatalf("%s, %+v: nothing counted; the test checks nothing", step, flt)
				}
			}
			wantCh, err := cold.Charts(ctx, lead, filters()[0])
			if err != nil {
				t.Fatal(err)
			}
			if gotCh, err := other.Charts(ctx, lead, filters()[0]); err != nil || !reflect.DeepEqual(gotCh, wantCh) {
				t.Fatalf("%s: charts %+v (%v), want %+v", step, gotCh, err, wantCh)
			}
		}
		for step := range 24 {
			switch op := r.IntN(5); {
			case op <= 1 || len(open) == 0:
				in := cases.CreateInput{Title: fmt.Sprintf("Payout held %d", step), Category: "payments/payout_failed",
					Market: markets[r.IntN(len(markets))]}
				if r.IntN(2) == 0 {
					in.SellerID = "S-1001"
				}
				c, err := f.App.Cases.Create(ctx, agent, in, nil)
				if err != nil {
					t.Fatal(err)
				}
				open = append(open, c)
			case op == 2:
				c := open[0]
				open = open[1:]
				if _, err := f.App.Cases.Transition(ctx, agent, c.Number, cases.TransitionInput{To: cases.StatusResolved,
					Resolution: "refunded", Note: "Paid out."}); err != nil {
					t.Fatal(err)
				}
				resolved = append(resolved, c)
			case op == 3 && len(resolved) > 0:
				c := resolved[0]
				resolved = resolved[1:]
				if _, err := f.App.Cases.Transition(ctx, agent, c.Number, cases.TransitionInput{To: cases.StatusOpen, Note: "Not paid after all."}); err != nil {
					t.Fatal(err)
				}
				open = append(open, c)
			default:
				c := open[r.IntN(len(open))]
				market := markets[r.IntN(len(markets))]
				if _, err := f.App.Cases.Update(ctx, agent, c.Number, cases.UpdateInput{Market: &market}); err != nil {
					t.Fatal(err)
				}
			}
			check(fmt.Sprintf("step %d", step))
			f.Clock.Advance(time.Duration(2+r.IntN(20)) * time.Hour)
		}
	})
}

// After Warm, a report over the reporting page's default weeks reads no
// bucket from the store; after a write, only the buckets it moved.
func TestWarmReadsTheDefaultPeriodAhead(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		agent, lead := f.Actor("priya.shah"), f.Actor("jonas.weber")
		var last *cases.Case
		for i := range 6 {
			c, err := f.App.Cases.Create(ctx, agent, cases.CreateInput{Title: fmt.Sprintf("Payout held %d", i),
				Category: "payments/payout_failed", Market: "GB"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			last = c
			f.Clock.Advance(30 * time.Hour)
		}
		s := reports.New(d, f.App.Desk, f.App.Cases, f.Clock)
		if err := s.Warm(ctx); err != nil {
			t.Fatal(err)
		}
		warm := reports.FactBucketsRead(s)
		if warm == 0 {
			t.Fatal("Warm read nothing")
		}
		now := f.Clock.Now()
		month := reports.Filter{Period: reports.Period{From: now.AddDate(0, 0, -28), To: now.Add(time.Minute)}}
		if _, err := s.Report(ctx, lead, month); err != nil {
			t.Fatal(err)
		}
		if n := reports.FactBucketsRead(s); n != warm {
			t.Fatalf("the report read %d buckets after Warm", n-warm)
		}
		if _, err := f.App.Cases.Transition(ctx, agent, last.Number, cases.TransitionInput{To: cases.StatusResolved,
			Resolution: "refunded", Note: "Paid out."}); err != nil {
			t.Fatal(err)
		}
		rep, err := s.Report(ctx, lead, month)
		if err != nil {
			t.Fatal(err)
		}
		// The case left its creation day's active bucket and entered today's resolved one.
		if n := reports.FactBucketsRead(s) - warm; n != 2 {
			t.Fatalf("after one resolution the report read %d buckets, want 2", n)
		}
		if m := rep.Slices[0].Metrics; m.Resolved != 1 || m.Intake != 6 {
			t.Fatalf("resolved %d, intake %d; want 1, 6", m.Resolved, m.Intake)
		}
	})
}

// Reports read side by side while cases are written (run under -race in
// CI) and, once the writes stop, give a cold node's figures.
func TestFactCacheConcurrentReports(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		agent, lead := f.Actor("priya.shah"), f.Actor("jonas.weber")
		now := f.Clock.Now()
		flt := reports.Filter{Period: reports.Period{From: now.Add(-24 * time.Hour), To: now.Add(24 * time.Hour)}, By: "market"}
		done := make(chan struct{})
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				for {
					select {
					case <-done:
						errs <- nil
						return
					default:
					}
					if _, err := f.App.Reports.Report(ctx, lead, flt); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		for i := range 20 {
			c, err := f.App.Cases.Create(ctx, agent, cases.CreateInput{Title: fmt.Sprintf("Payout held %d", i),
				Category: "payments/payout_failed", Market: []string{"GB", "DE"}[i%2]}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if i%3 == 0 {
				if _, err := f.App.Cases.Transition(ctx, agent, c.Number, cases.TransitionInput{To: cases.StatusResolved,
					Resolution: "refunded", Note: "Paid out."}); err != nil {
					t.Fatal(err)
				}
			}
		}
		close(done)
		for range 4 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		got, err := f.App.Reports.Report(ctx, lead, flt)
		if err != nil {
			t.Fatal(err)
		}
		want, err := reports.New(d, f.App.Desk, f.App.Cases, f.Clock).Report(ctx, lead, flt)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) || len(want.Slices) != 2 {
			t.Fatalf("after the writes:\n got %+v\nwant %+v", got, want)
		}
	})
}
