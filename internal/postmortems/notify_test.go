package postmortems_test

import (
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/notify"
)

// notify tells an action item's owner when it is theirs, due soon and
// overdue — not of every change, and never the person who made it.
func TestNotifyTellsTheOwner(t *testing.T) {
	priya := notify.Person{ID: 4, Email: "priya.shah@flare.example", Name: "Priya Shah", Role: auth.RoleAgent}
	facts := notify.Facts{People: map[string]notify.Person{priya.Email: priya}}
	item := &events.ActionItem{ActionItemID: 1, Incident: "INC-3", Title: "Alert on carrier feed gaps", Owner: priya.Email,
		Team: "logistics", Status: "open", DueDate: "2026-11-06"}
	for typ, want := range map[events.Type]string{
		events.ActionItemAssigned: "An action item of INC-3 is yours: Alert on carrier feed gaps",
		events.ActionItemDueSoon:  "Due 2026-11-06: Alert on carrier feed gaps (INC-3)",
		events.ActionItemOverdue:  "Overdue since 2026-11-06: Alert on carrier feed gaps (INC-3)",
	} {
		e := events.Event{Type: typ, Data: item}
		rs := notify.Recipients(e, facts)
		if len(rs) != 1 || rs[0].Email != priya.Email || rs[0].Kind != notify.KindActionItem {
			t.Fatalf("%s tells %+v", typ, rs)
		}
		c := notify.Describe(e, &rs[0], notify.Text{BaseURL: "https://flare.example"}, time.UTC)
		if c.Title != want || !strings.HasSuffix(c.Link, "/action-items?mine=1") {
			t.Errorf("%s: %q %q", typ, c.Title, c.Link)
		}
	}
	if rs := notify.Recipients(events.Event{Type: events.ActionItemChanged, Data: item}, facts); len(rs) != 0 {
		t.Errorf("a change tells %+v", rs)
	}
	self := events.Event{Type: events.ActionItemAssigned, Actor: events.Actor{Email: priya.Email}, Data: item}
	if rs := notify.Recipients(self, facts); len(rs) != 0 {
		t.Errorf("her own item tells %+v", rs)
	}
}
