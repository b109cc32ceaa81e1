package events_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/events"
)

// A server killed mid-delivery leaves its claimed events leased. Started
// again on SQLite — one process per database file, so the lease can only
// be the dead process's — the bus hands them back and delivers them at
// once; on PostgreSQL another node may hold them, so they wait for the
// lease to run out. A retry's back-off is not a lease and stays.
func TestRunReleasesLeasesOnSQLiteOnly(t *testing.T) {
	each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(t0)
		opt := events.Options{Lease: 10 * time.Minute, Poll: time.Hour, BackoffBase: time.Hour, BackoffMax: 2 * time.Hour}
		crashed := events.New(d, clk, quiet, opt)
		hung, started := make(chan struct{}), make(chan struct{}, 1)
		crashed.Subscribe("rec", func(ctx context.Context, e events.Event) error {
			if note(e) == "failing" {
				return errors.New("receiver down")
			}
			started <- struct{}{}
			<-hung
			return errors.New("killed")
		}, events.SubscriberOptions{})
		publish(t, d, crashed, caseEvent(1, events.CaseCreated, "failing"))
		if _, err := crashed.Deliver(ctx, "rec"); err != nil { // fails: waits an hour for its retry
			t.Fatal(err)
		}
		publish(t, d, crashed, caseEvent(2, events.CaseCreated, "leased"))
		dctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { _, _ = crashed.Deliver(dctx, "rec"); close(done) }()
		<-started // claimed, and the process "dies" here
		defer func() { cancel(); close(hung); <-done }()

		restarted := events.New(d, clk, quiet, opt)
		got := make(chan string, 10)
		restarted.Subscribe("rec", func(_ context.Context, e events.Event) error { got <- note(e); return nil }, events.SubscriberOptions{})
		rctx, stop := context.WithCancel(ctx)
		ran := make(chan struct{})
		go func() { restarted.Run(rctx); close(ran) }()
		defer func() { stop(); <-ran }()
		if d.Dialect() == db.SQLite {
			if n := <-got; n != "leased" { // the loop's first round, the clock unmoved
				t.Fatalf("delivered %q, want the leased event at once", n)
			}
		} else {
			if n, err := restarted.Deliver(ctx, "rec"); err != nil || n != 0 {
				t.Fatalf("claimed %d (%v) while another node may hold the lease", n, err)
			}
			clk.Advance(opt.Lease + time.Second)
			if _, err := restarted.Deliver(ctx, "rec"); err != nil {
				t.Fatal(err)
			}
			if n := <-got; n != "leased" {
				t.Fatalf("delivered %q after the lease, want the leased event", n)
			}
		}
		var next db.Time
		var leased *string
		if err := d.QueryRow(ctx, `SELECT next_at, leased_at FROM event_deliveries WHERE attempts = 1 AND state = 'pending'`).Scan(&next, &leased); err != nil {
			t.Fatal(err)
		}
		if !next.Equal(t0.Add(time.Hour)) || leased != nil {
			t.Fatalf("the failed event is due at %v (leased %v), want its back-off kept: %v", next.Time, leased, t0.Add(time.Hour))
		}
	})
}

// A round never delivers past its lease: with slow deliveries, what is
// left when the lease is about to end is handed back, due at once, and the
// next round takes it with a fresh lease — so another node that takes over
// an expired lease never races this one.
func TestSlowRoundHandsBackBeforeItsLeaseEnds(t *testing.T) {
	each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(t0)
		b := events.New(d, clk, quiet, events.Options{Lease: time.Minute})
		var got []string
		b.Subscribe("rec", func(_ context.Context, e events.Event) error {
			got = append(got, note(e))
			clk.Advance(20 * time.Second) // a slow receiver
			return nil
		}, events.SubscriberOptions{Concurrency: 1, Timeout: 15 * time.Second})
		for i := range 5 {
			publish(t, d, b, caseEvent(1, events.CaseChanged, fmt.Sprint(i)))
		}
		// The lease is 60 s and a delivery may take 15 s: deliveries start
		// until 45 s after the claim, at 0, 20 and 40 s.
		if n, err := b.Deliver(ctx, "rec"); err != nil || n != 5 || len(got) != 3 {
			t.Fatalf("first round: claimed %d (%v), delivered %v", n, err, got)
		}
		var pending int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM event_deliveries WHERE leased_at IS NULL AND next_at <= ?`, db.T(clk.Now())).Scan(&pending); err != nil || pending != 2 {
			t.Fatalf("%d handed back (%v), want 2 due now", pending, err)
		}
		drain(t, b, "rec")
		if !slices.Equal(got, []string{"0", "1", "2", "3", "4"}) {
			t.Fatalf("delivered %v", got)
		}
	})
}
