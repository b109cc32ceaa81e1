package events_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/events"
)

// Transactions committed together (group commit) have their outbox rows
// written together on SQLite: every event still gets its own seq, the one
// the feed and the subscriber see and its stored row has, its deliveries
// point at it, and a transaction of the batch that fails leaves nothing.
func TestGroupCommittedPublishesKeepTheirOwnRows(t *testing.T) {
	each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		b := events.New(d, clock.NewFake(t0), quiet, events.Options{})
		r := &recorder{}
		b.Subscribe("rec", r.handle, events.SubscriberOptions{})
		l := b.Feed().Listen(1000, nil)
		defer l.Close()
		const writers, per = 24, 3
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range per {
					evs := []events.Event{caseEvent(int64(w+1), events.CaseChanged, fmt.Sprintf("w%02d-%d-a", w, i))}
					if w%2 == 0 {
						evs = append(evs, caseEvent(int64(w+1), events.CaseChanged, fmt.Sprintf("w%02d-%d-b", w, i)))
					}
					err := d.InTx(ctx, func(tx *db.Tx) error {
						if err := b.Publish(ctx, tx, evs...); err != nil {
							return err
						}
						if w == 5 && i == 1 {
							return errors.New("this write fails")
						}
						return nil
					})
					if (err != nil) != (w == 5 && i == 1) {
						t.Errorf("writer %d, write %d: %v", w, i, err)
					}
				}
			})
		}
		wg.Wait()
		want := 0
		for w := range writers {
			n := per
			if w == 5 {
				n--
			}
			if w%2 == 0 {
				n *= 2
			}
			want += n
		}
		fed := map[string]events.Event{}
		for len(fed) < want {
			e := <-l.C()
			fed[e.ID] = e
		}
		rows, err := d.Query(ctx, `SELECT seq, id FROM events`)
		if err != nil {
			t.Fatal(err)
		}
		stored := 0
		for rows.Next() {
			var seq int64
			var id string
			if err := rows.Scan(&seq, &id); err != nil {
				t.Fatal(err)
			}
			stored++
			if e, ok := fed[id]; !ok || e.Seq != seq {
				t.Errorf("stored event %s has seq %d; the feed gave %d (%v)", id, seq, e.Seq, ok)
			}
		}
		rows.Close()
		if stored != want {
			t.Fatalf("stored %d events, want %d", stored, want)
		}
		drain(t, b, "rec")
		if len(r.got) != want {
			t.Fatalf("delivered %d events, want %d", len(r.got), want)
		}
		for _, e := range r.got {
			f := fed[e.ID]
			if f.Seq != e.Seq || note(f) != note(e) {
				t.Fatalf("delivered %s as seq %d %q; published as seq %d %q", e.ID, e.Seq, note(e), f.Seq, note(f))
			}
		}
		for w := range writers {
			got := r.notes(fmt.Sprintf("case:%d", w+1))
			for i := 1; i < len(got); i++ {
				if got[i] < got[i-1] {
					t.Fatalf("case %d delivered out of order: %v", w+1, got)
				}
			}
		}
	})
}

// A loop that has just delivered something waits until Coalesce after
// that round's start before the next, so that a steady stream of commits
// is delivered in a few larger rounds; an idle loop answers at once.
func TestBusyLoopCoalescesRounds(t *testing.T) {
	each(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		clk := clock.NewFake(t0)
		b := events.New(d, clk, quiet, events.Options{Coalesce: 50 * time.Millisecond})
		got := make(chan string, 10)
		b.Subscribe("rec", func(_ context.Context, e events.Event) error { got <- note(e); return nil }, events.SubscriberOptions{})
		done := make(chan struct{})
		go func() { b.Run(ctx); close(done) }()
		defer func() { cancel(); <-done }()
		if err := clk.BlockUntilDeadline(ctx, t0.Add(time.Second)); err != nil { // idle: polling
			t.Fatal(err)
		}
		publish(t, d, b, caseEvent(1, events.CaseCreated, "first"))
		if n := <-got; n != "first" { // at once
			t.Fatalf("got %q", n)
		}
		publish(t, d, b, caseEvent(2, events.CaseCreated, "second"))
		if err := clk.BlockUntilDeadline(ctx, t0.Add(50*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		select {
		case n := <-got:
			t.Fatalf("delivered %q without waiting", n)
		default:
		}
		clk.Advance(50 * time.Millisecond)
		if n := <-got; n != "second" {
			t.Fatalf("got %q", n)
		}
	})
}
