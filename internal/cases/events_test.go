package cases_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/events"
)

// eventLog is a durable subscriber that keeps what it got.
type eventLog struct {
	mu  sync.Mutex
	got []events.Event
}

func (l *eventLog) handle(_ context.Context, e events.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, e)
	return nil
}

// take delivers what is pending and returns it, one line per event.
func (l *eventLog) take(t *testing.T, bus *events.Bus) []string {
	t.Helper()
	for {
		n, err := bus.Deliver(context.Background(), "log")
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.got {
		out = append(out, describe(e))
	}
	l.got = nil
	return out
}

func describe(e events.Event) string {
	s := string(e.Type)
	switch d := e.Data.(type) {
	case *events.Changed:
		s += " " + strings.Join(d.Fields(), ",")
	case *events.StatusChanged:
		s += fmt.Sprintf(" %s>%s", d.From, d.To)
		if d.Resolution != "" {
			s += " " + d.Resolution
		}
		if d.Reopened {
			s += " reopened"
		}
	case *events.Assigned:
		s += " " + d.Owner + " via " + d.Via
	case *events.Comment:
		s += " " + strings.Join(d.Mentions, ",")
	case *events.SLA:
		s += " " + d.Metric
	}
	return strings.TrimSpace(s)
}

// Every write path publishes its events in order, in its transaction, with
// the case as it is after the change and the actor who made it.
func TestCaseEvents(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		log := &eventLog{}
		f.App.Bus.Subscribe("log", log.handle, events.SubscriberOptions{})
		amelia, priya := f.actor("amelia.clarke"), f.actor("priya.shah")
		c, err := f.svc.Create(ctx, amelia, lostParcel(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := log.take(t, f.App.Bus); !slices.Equal(got, []string{"case.created"}) {
			t.Fatalf("create: %v", got)
		}
		owner, title := priya.Email, "Parcel never arrived (14 items)"
		if _, err := f.svc.Update(ctx, amelia, c.Number, cases.UpdateInput{Owner: &owner, Title: &title}); err != nil {
			t.Fatal(err)
		}
		want := []string{"case.changed title,owner", "case.status_changed new>open", "case.assigned priya.shah@flare.example via manual"}
		if got := log.take(t, f.App.Bus); !slices.Equal(got, want) {
			t.Fatalf("update: %v, want %v", got, want)
		}
		f.clock.Advance(10 * time.Minute)
		if _, err := f.svc.AddComment(ctx, priya, c.Number, cases.CommentInput{
			Body: "We are on it. @amelia.clarke can you check the seller's history? cc @nobody"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AddComment(ctx, priya, c.Number, cases.CommentInput{Body: "Carrier called", Internal: true}); err != nil {
			t.Fatal(err)
		}
		want = []string{"case.replied amelia.clarke@flare.example", "sla.met first_response", "case.note_added"}
		if got := log.take(t, f.App.Bus); !slices.Equal(got, want) {
			t.Fatalf("comments: %v, want %v", got, want)
		}
		if _, err := f.svc.Transition(ctx, priya, c.Number, cases.TransitionInput{To: cases.StatusResolved,
			Resolution: "refunded", Note: "Refunded the buyer"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Transition(ctx, amelia, c.Number, cases.TransitionInput{To: cases.StatusOpen, Note: "Buyer wrote back"}); err != nil {
			t.Fatal(err)
		}
		want = []string{"case.status_changed open>resolved refunded", "sla.met resolution", "case.status_changed resolved>open reopened"}
		if got := log.take(t, f.App.Bus); !slices.Equal(got, want) {
			t.Fatalf("resolve and reopen: %v, want %v", got, want)
		}
		// What an event carries of its case and actor.
		if _, err := f.svc.AddComment(ctx, amelia, c.Number, cases.CommentInput{Body: "Noted"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.App.Bus.Deliver(ctx, "log"); err != nil {
			t.Fatal(err)
		}
		e := log.got[0]
		if e.Actor.Email != amelia.Email || e.Case.Number != c.Number || e.Case.Owner != priya.Email || e.Case.Status != "open" ||
			e.Case.Team != "logistics" || e.Case.SellerID != "S-1001" || !e.At.Equal(f.clock.Now()) {
			t.Fatalf("event carries %+v %+v at %v", e.Actor, e.Case, e.At)
		}
	})
}
