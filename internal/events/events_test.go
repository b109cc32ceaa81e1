package events_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/events"
)

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

var quiet = slog.New(slog.DiscardHandler)

var admin = auth.Actor{UserID: 1, Email: "ada@flare.test", Role: auth.RoleAdmin}

func each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	dbtest.Each(t, db.Migrate, fn)
}

func caseEvent(caseID int64, typ events.Type, note string) events.Event {
	var data events.Payload
	switch typ {
	case events.CaseStatusChanged:
		data = &events.StatusChanged{From: "open", To: "resolved", Note: note}
	case events.CaseChanged:
		data = &events.Changed{Changes: []events.FieldChange{{Field: "title", Old: "a", New: note}}}
	default:
		data = &events.Created{Channel: note}
	}
	return events.Event{Type: typ, Case: &events.Case{ID: caseID, Number: fmt.Sprintf("ESC-%d", caseID)}, Data: data}
}

func publish(t *testing.T, d *db.DB, b *events.Bus, evs ...events.Event) {
	t.Helper()
	if err := d.InTx(context.Background(), func(tx *db.Tx) error { return b.Publish(context.Background(), tx, evs...) }); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

// recorder is a durable subscriber that remembers what it got, per stream,
// and fails the events fail says.
type recorder struct {
	mu   sync.Mutex
	got  []events.Event
	fail func(events.Event) error
}

func (r *recorder) handle(_ context.Context, e events.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		if err := r.fail(e); err != nil {
			return err
		}
	}
	r.got = append(r.got, e)
	return nil
}

func (r *recorder) notes(stream string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.got {
		if e.Stream() == stream {
			out = append(out, note(e))
		}
	}
	return out
}

func note(e events.Event) string {
	switch d := e.Data.(type) {
	case *events.StatusChanged:
		return d.Note
	case *events.Changed:
		return d.Changes[0].New.(string)
	case *events.Created:
		return d.Channel
	}
	return ""
}

func drain(t *testing.T, b *events.Bus, name string) {
	t.Helper()
	for range 100 {
		n, err := b.Deliver(context.Background(), name)
		if err != nil {
			t.Fatalf("deliver: %v", err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("deliveries never ran dry")
}

func TestDurableInOrderPerStreamOnceCommitted(t *testing.T) {
	each(t, func(t *testing.T, d *db.DB) {
		b := events.New(d, clock.NewFake(t0), quiet, events.Options{Batch: 3}) // small batches: order across claims
		r := &recorder{}
		b.Subscribe("rec", r.handle, events.SubscriberOptions{})
		for i := range 5 {
			publish(t, d, b, caseEvent(1, events.CaseChanged, fmt.Sprintf("a%d", i)), caseEvent(2, events.CaseChanged, fmt.Sprintf("b%d", i)))
		}
		// A rolled-back write publishes nothing.
		err := d.InTx(context.Background(), func(tx *db.Tx) error {
			if err := b.Publish(context.Background(), tx, caseEvent(1, events.CaseChanged, "never")); err != nil {
				return err
			}
			return errors.New("roll back")
		})
		if err == nil {
			t.Fatal("want the write's error")
		}
		drain(t, b, "rec")
		if got, want := r.notes("case:1"), []string{"a0", "a1", "a2", "a3", "a4"}; !slices.Equal(got, want) {
			t.Errorf("case 1 got %v, want %v", got, want)
		}
		if got, want := r.notes("case:2"), []string{"b0", "b1", "b2", "b3", "b4"}; !slices.Equal(got, want) {
			t.Errorf("case 2 got %v, want %v", got, want)
		}
		ids := map[string]bool{}
		for _, e := range r.got {
			if e.ID == "" || ids[e.ID] || e.Version != 1 || e.Seq == 0 || !e.At.Equal(t0) {
				t.Fatalf("event %+v: want a unique id, version 1, a seq and the publish time", e)
			}
			ids[e.ID] = true
		}
		var left int
		if err := d.QueryRow(context.Background(), `SELECT COUNT(*) FROM event_deliveries`).Scan(&left); err != nil || left != 0 {
			t.Fatalf("deliveries left: %d (%v)", left, err)
		}
	})
}

func TestFailureHoldsItsStreamRetriesThenDeadAndReplay(t *testing.T) {
	each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(t0)
		b := events.New(d, clk, quiet, events.Options{BackoffBase: time.Second, BackoffMax: 4 * time.Second})
		broken := true
		r := &recorder{fail: func(e events.Event) error {
			if broken && note(e) == "a1" {
				return errors.New("webhook answered 503")
			}
			return nil
		}}
		other := &recorder{}
		b.Subscribe("rec", r.handle, events.SubscriberOptions{MaxAttempts: 3})
		b.Subscribe("other", other.handle, events.SubscriberOptions{})
		publish(t, d, b, caseEvent(1, events.CaseChanged, "a0"), caseEvent(1, events.CaseChanged, "a1"), caseEvent(1, events.CaseChanged, "a2"))
		publish(t, d, b, caseEvent(2, events.CaseChanged, "b0"))
		drain(t, b, "rec")
		drain(t, b, "other")
		if got := r.notes("case:1"); !slices.Equal(got, []string{"a0"}) {
			t.Fatalf("case 1 after a failure: %v, want only a0 (a2 waits behind a1)", got)
		}
		if got := r.notes("case:2"); !slices.Equal(got, []string{"b0"}) {
			t.Fatalf("another case is not held up: got %v", got)
		}
		if got := other.notes("case:1"); len(got) != 3 {
			t.Fatalf("another subscriber is not held up: got %v", got)
		}
		// Not due before its back-off: 1 s, then 2 s.
		if n, _ := b.Deliver(ctx, "rec"); n != 0 {
			t.Fatalf("retried %d before the back-off", n)
		}
		clk.Advance(time.Second)
		drain(t, b, "rec")
		clk.Advance(2 * time.Second)
		drain(t, b, "rec") // third failure: dead
		page, err := b.Deliveries(ctx, admin, events.DeliveryFilter{Subscriber: "rec"})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Deliveries) != 1 || page.Deliveries[0].Attempts != 3 || page.Deliveries[0].LastError != "webhook answered 503" ||
			note(page.Deliveries[0].Event) != "a1" {
			t.Fatalf("dead deliveries: %+v", page.Deliveries)
		}
		// A dead event no longer holds its stream.
		drain(t, b, "rec")
		if got := r.notes("case:1"); !slices.Equal(got, []string{"a0", "a2"}) {
			t.Fatalf("after the dead letter: %v, want a0 a2", got)
		}
		stats, err := b.Stats(ctx, admin)
		if err != nil {
			t.Fatal(err)
		}
		if len(stats) != 2 || stats[1].Name != "rec" || stats[1].Dead != 1 || stats[1].Pending != 0 || stats[1].LastError == "" {
			t.Fatalf("stats: %+v", stats)
		}
		// Replayed once fixed, with the same id.
		broken = false
		deadID := page.Deliveries[0].Event.ID
		if n, err := b.Replay(ctx, admin, events.ReplayInput{Subscriber: "rec"}); err != nil || n != 1 {
			t.Fatalf("replay: %d, %v", n, err)
		}
		drain(t, b, "rec")
		if got := r.notes("case:1"); !slices.Equal(got, []string{"a0", "a2", "a1"}) {
			t.Fatalf("after replay: %v", got)
		}
		if r.got[len(r.got)-1].ID != deadID {
			t.Fatal("a replayed event keeps its id")
		}
	})
}

func TestLeaseEndsAfterACrash(t *testing.T) {
	each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(t0)
		opt := events.Options{Lease: 30 * time.Second}
		// The first node claims and dies: its handler never returns before the process is gone.
		crashed := events.New(d, clk, quiet, opt)
		hung := make(chan struct{})
		started := make(chan struct{}, 1)
		crashed.Subscribe("rec", func(ctx context.Context, e events.Event) error {
			started <- struct{}{}
			<-hung
			return errors.New("killed")
		}, events.SubscriberOptions{})
		publish(t, d, crashed, caseEvent(7, events.CaseCreated, "api"))
		dctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { _, _ = crashed.Deliver(dctx, "rec"); close(done) }()
		<-started
		// Another node finds nothing while the lease runs, then takes it over.
		r := &recorder{}
		survivor := events.New(d, clk, quiet, opt)
		survivor.Subscribe("rec", r.handle, events.SubscriberOptions{})
		if n, err := survivor.Deliver(ctx, "rec"); err != nil || n != 0 {
			t.Fatalf("claimed a leased event: %d, %v", n, err)
		}
		clk.Advance(31 * time.Second)
		drain(t, survivor, "rec")
		if len(r.got) != 1 || note(r.got[0]) != "api" {
			t.Fatalf("after the lease: %+v", r.got)
		}
		cancel()
		close(hung)
		<-done
	})
}

func TestInTxSubscribersCommitWithTheWrite(t *testing.T) {
	each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		b := events.New(d, clock.NewFake(t0), quiet, events.Options{})
		if _, err := d.Exec(ctx, `CREATE TABLE seen (note TEXT)`); err != nil {
			t.Fatal(err)
		}
		b.OnTx("seen", func(ctx context.Context, tx *db.Tx, e events.Event) error {
			if note(e) == "refuse" {
				return errors.New("rule broken")
			}
			_, err := tx.Exec(ctx, `INSERT INTO seen (note) VALUES (?)`, note(e))
			if err != nil {
				return err
			}
			// Answering an event with another: it follows in the stream.
			if e.Type == events.CaseStatusChanged {
				return b.Publish(ctx, tx, caseEvent(e.Case.ID, events.CaseChanged, "answer to "+note(e)))
			}
			return nil
		}, events.CaseStatusChanged, events.CaseChanged)
		r := &recorder{}
		b.Subscribe("rec", r.handle, events.SubscriberOptions{Types: []events.Type{events.CaseStatusChanged, events.CaseChanged}})
		l := b.Feed().Listen(10, nil)
		defer l.Close()
		publish(t, d, b, caseEvent(3, events.CaseStatusChanged, "resolved"), caseEvent(3, events.CaseCreated, "not wanted"))
		err := d.InTx(ctx, func(tx *db.Tx) error {
			return b.Publish(ctx, tx, caseEvent(3, events.CaseChanged, "refuse"))
		})
		if err == nil || !strings.Contains(err.Error(), "rule broken") {
			t.Fatalf("a failing in-transaction subscriber fails the write: %v", err)
		}
		var seen []string
		rows, err := d.Query(ctx, `SELECT note FROM seen ORDER BY note`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			_ = rows.Scan(&s)
			seen = append(seen, s)
		}
		rows.Close()
		if !slices.Equal(seen, []string{"answer to resolved", "resolved"}) {
			t.Fatalf("in-transaction subscriber wrote %v", seen)
		}
		drain(t, b, "rec")
		if got := r.notes("case:3"); !slices.Equal(got, []string{"resolved", "answer to resolved"}) {
			t.Fatalf("durable got %v: the answer follows the event, unwanted types are left out", got)
		}
		var stored int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM events`).Scan(&stored); err != nil || stored != 2 {
			t.Fatalf("stored %d events (%v): only those a durable subscriber wants", stored, err)
		}
		// The feed saw the committed events only: three, none of the refused write.
		var fed []string
		for len(fed) < 3 {
			select {
			case e := <-l.C():
				fed = append(fed, note(e))
			default:
				t.Fatalf("feed gave %v", fed)
			}
		}
		select {
		case e := <-l.C():
			t.Fatalf("feed gave an uncommitted event %v", note(e))
		default:
		}
	})
}

func TestFeedDropsForASlowListener(t *testing.T) {
	each(t, func(t *testing.T, d *db.DB) {
		b := events.New(d, clock.NewFake(t0), quiet, events.Options{})
		slow := b.Feed().Listen(1, nil)
		cases := b.Feed().Listen(10, func(e events.Event) bool { return e.Case.ID == 2 })
		defer slow.Close()
		defer cases.Close()
		publish(t, d, b, caseEvent(1, events.CaseCreated, "x"), caseEvent(2, events.CaseCreated, "y"), caseEvent(1, events.CaseChanged, "z"))
		if !slow.Lagged() || slow.Lagged() {
			t.Fatal("a full listener is told it lagged, once")
		}
		if e := <-slow.C(); note(e) != "x" {
			t.Fatalf("slow got %v first", note(e))
		}
		if e := <-cases.C(); note(e) != "y" || len(cases.C()) != 0 {
			t.Fatalf("filtered listener got %v", note(e))
		}
	})
}

func TestConcurrentNodesKeepStreamOrder(t *testing.T) {
	each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(t0)
		r := &recorder{}
		var nodes []*events.Bus
		for range 3 {
			b := events.New(d, clk, quiet, events.Options{Batch: 7})
			b.Subscribe("rec", r.handle, events.SubscriberOptions{Concurrency: 2})
			nodes = append(nodes, b)
		}
		const streams, per = 10, 12
		for i := range per {
			var evs []events.Event
			for c := range streams {
				evs = append(evs, caseEvent(int64(c+1), events.CaseChanged, fmt.Sprintf("%02d", i)))
			}
			publish(t, d, nodes[i%3], evs...)
		}
		var wg sync.WaitGroup
		for _, b := range nodes {
			wg.Go(func() {
				for {
					n, err := b.Deliver(ctx, "rec")
					if err != nil {
						t.Error(err)
						return
					}
					if n == 0 {
						var left int
						if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM event_deliveries`).Scan(&left); err != nil || left == 0 {
							return
						}
					}
				}
			})
		}
		wg.Wait()
		if len(r.got) != streams*per {
			t.Fatalf("delivered %d events, want %d exactly once each", len(r.got), streams*per)
		}
		for c := range streams {
			got := r.notes(fmt.Sprintf("case:%d", c+1))
			if !slices.IsSorted(got) || len(got) != per {
				t.Fatalf("case %d got %v, want in order", c+1, got)
			}
		}
	})
}

func TestPruneKeepsWhatIsWaited(t *testing.T) {
	each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(t0)
		b := events.New(d, clk, quiet, events.Options{Retention: 24 * time.Hour})
		fail := true
		b.Subscribe("rec", func(context.Context, events.Event) error {
			if fail {
				return errors.New("down")
			}
			return nil
		}, events.SubscriberOptions{MaxAttempts: 1})
		b.Subscribe("ok", func(context.Context, events.Event) error { return nil }, events.SubscriberOptions{})
		publish(t, d, b, caseEvent(1, events.CaseCreated, "x"))
		drain(t, b, "rec")
		drain(t, b, "ok")
		clk.Advance(25 * time.Hour)
		if n, err := b.Prune(ctx); err != nil || n != 0 {
			t.Fatalf("pruned %d (%v) while a dead delivery waits", n, err)
		}
		fail = false
		if _, err := b.Replay(ctx, admin, events.ReplayInput{Subscriber: "rec"}); err != nil {
			t.Fatal(err)
		}
		drain(t, b, "rec")
		if n, err := b.Prune(ctx); err != nil || n != 1 {
			t.Fatalf("pruned %d (%v), want 1", n, err)
		}
	})
}

func TestAdminOnlyAndInputErrors(t *testing.T) {
	each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		b := events.New(d, clock.NewFake(t0), quiet, events.Options{})
		lead := auth.Actor{UserID: 2, Role: auth.RoleLead}
		var fb *apperr.Forbidden
		if _, err := b.Deliveries(ctx, lead, events.DeliveryFilter{}); !errors.As(err, &fb) {
			t.Fatalf("lead lists deliveries: %v", err)
		}
		if _, err := b.Replay(ctx, lead, events.ReplayInput{Subscriber: "x"}); !errors.As(err, &fb) {
			t.Fatalf("lead replays: %v", err)
		}
		var inv *apperr.Invalid
		if _, err := b.Deliveries(ctx, admin, events.DeliveryFilter{State: "delivered", Limit: -1}); !errors.As(err, &inv) || len(inv.Errors) != 2 {
			t.Fatalf("bad filter: %v", err)
		}
		if _, err := b.Replay(ctx, admin, events.ReplayInput{}); !errors.As(err, &inv) {
			t.Fatalf("empty replay: %v", err)
		}
		bad := events.Event{Type: events.CaseCreated, Data: &events.Changed{}}
		if err := d.InTx(ctx, func(tx *db.Tx) error { return b.Publish(ctx, tx, bad) }); err == nil {
			t.Fatal("an event with the wrong payload is refused")
		}
	})
}

// The delivery loop wakes when a write commits, and looks for what other
// nodes published every Poll.
func TestRunWakesOnCommitAndPolls(t *testing.T) {
	each(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		clk := clock.NewFake(t0)
		got := make(chan string, 10)
		handler := func(_ context.Context, e events.Event) error { got <- note(e); return nil }
		here := events.New(d, clk, quiet, events.Options{Poll: 5 * time.Second})
		here.Subscribe("rec", handler, events.SubscriberOptions{})
		other := events.New(d, clk, quiet, events.Options{}) // another node: publishes, does not deliver
		other.Subscribe("rec", handler, events.SubscriberOptions{})
		done := make(chan struct{})
		go func() { here.Run(ctx); close(done) }()
		if err := clk.BlockUntil(ctx, 2); err != nil { // the loop and the pruner wait
			t.Fatal(err)
		}
		publish(t, d, here, caseEvent(1, events.CaseCreated, "local"))
		if n := <-got; n != "local" {
			t.Fatalf("got %q", n)
		}
		if err := clk.BlockUntil(ctx, 2); err != nil {
			t.Fatal(err)
		}
		publish(t, d, other, caseEvent(2, events.CaseCreated, "remote"))
		select {
		case n := <-got:
			t.Fatalf("delivered %q before the poll", n)
		default:
		}
		clk.Advance(5 * time.Second)
		if n := <-got; n != "remote" {
			t.Fatalf("got %q", n)
		}
		cancel()
		<-done
	})
}
