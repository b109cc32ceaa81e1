package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/assign"
	"github.com/flare-desk/flare/internal/cases"
)

func TestCapacityLoadBar(t *testing.T) {
	for _, tt := range []struct {
		load, capacity int
		class, text    string
		max            int
	}{
		{5, 20, "ok", "5 of 20", 20},
		{16, 20, "near", "16 of 20", 20},
		{20, 20, "over", "20 of 20: at capacity", 20},
		{90, 20, "over", "90 of 20: over capacity (450 %)", 90}, // the bar is not clamped full and green
	} {
		b := loadOf(tt.load, tt.capacity)
		if b.Class != tt.class || b.Text != tt.text || b.Max != tt.max {
			t.Errorf("loadOf(%d, %d) = %+v", tt.load, tt.capacity, b)
		}
	}
}

// An agent past capacity shows red on the team page, and giving them a
// case asks first.
func TestCapacityWarnsBeforeAssigning(t *testing.T) {
	ctx := context.Background()
	cfg := uiTestDesk()
	cfg.Teams[1].Assignment = assign.TeamSettings{Capacity: 2} // logistics
	e := newUIEnvWith(t, cfg, app.Options{})
	bob := "bob@flare.test"
	for range 2 { // Bob at capacity: two cases of weight 1
		c, err := e.app.Cases.Create(ctx, e.lead, cases.CreateInput{Title: "Parcel late", Category: "logistics/delayed_delivery", Market: "GB"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.app.Cases.Update(ctx, e.lead, c.Number, cases.UpdateInput{Owner: &bob}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := e.app.Cases.Create(ctx, e.lead, cases.CreateInput{Title: "Parcel lost", Category: "logistics/lost_parcel", Market: "GB",
		Fields: map[string]any{"order_id": "ORD-9"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl := e.client(t)
	e.signIn(t, cl, "")
	path := "/cases/" + c.Number + "/update"
	resp, body := e.postForm(t, cl, path, url.Values{"owner": {bob}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="capacity-warning"`) ||
		!strings.Contains(body, "Bob Fischer is at 2 of 2 capacity; this "+c.Priority+" case takes it to") {
		t.Fatalf("assigning past capacity: %d\n%s", resp.StatusCode, body)
	}
	if got, _ := e.app.Cases.Get(ctx, e.lead, c.Number); got.OwnerID != 0 {
		t.Fatal("assigned before the question was answered")
	}
	resp, _ = e.postForm(t, cl, path, url.Values{"owner": {bob}, "capacity_ok": {"1"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("assign anyway: %d", resp.StatusCode)
	}
	if got, _ := e.app.Cases.Get(ctx, e.lead, c.Number); got.Owner == nil || *got.Owner != bob {
		t.Fatal("assign anyway did not assign")
	}
	_, body = e.get(t, cl, "/teams/logistics")
	if !strings.Contains(body, `class="load-text load-over"`) || !strings.Contains(body, "over capacity (") {
		t.Fatalf("the team page does not show Bob over capacity:\n%s", body)
	}
	// Marking someone else away needs a note.
	resp, body = e.postForm(t, cl, "/teams/logistics/away", url.Values{"email": {bob}, "away": {"1"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Say why bob@flare.test is away") {
		t.Fatalf("mark away without a note: %d", resp.StatusCode)
	}
	resp, _ = e.postForm(t, cl, "/teams/logistics/away", url.Values{"email": {bob}, "away": {"1"}, "note": {"Sick today"}})
	if _, body = e.get(t, cl, "/teams/logistics"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(body, "bob@flare.test is marked away.") {
		t.Fatalf("mark away: %d\n%s", resp.StatusCode, body)
	}
}
