package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/cases"
)

// Take-next from the queue opens the case taken; with nothing left the
// queue says so. The team page shows loads and sets people away.
func TestUITakeNextAndTeam(t *testing.T) {
	e := newUIEnv(t) // Alice: a lead in escalations and logistics
	ctx := context.Background()
	c, err := e.app.Cases.Create(ctx, e.lead, cases.CreateInput{Title: "Parcel stuck in depot", Category: "logistics/lost_parcel",
		Market: "GB", Fields: map[string]any{"order_id": "ORD-1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl := e.client(t)
	e.signIn(t, cl, "/cases")
	_, body := e.get(t, cl, "/cases")
	if !strings.Contains(body, `action="/cases/take-next"`) || !strings.Contains(body, `name="team" value="logistics"`) {
		t.Fatalf("the queue has no take-next buttons:\n%s", body)
	}
	resp, _ := e.postForm(t, cl, "/cases/take-next", url.Values{"team": {"logistics"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/cases/"+c.Number {
		t.Fatalf("take next: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body = e.get(t, cl, "/cases/"+c.Number); !strings.Contains(body, "assigned it to "+uiTestEmail+" (took the next case)") {
		t.Fatalf("the timeline does not say how the case was taken:\n%s", body)
	}
	resp, _ = e.postForm(t, cl, "/cases/take-next", url.Values{"team": {"logistics"}})
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/cases?") {
		t.Fatalf("empty queue: %d to %q", resp.StatusCode, loc)
	}
	if _, body = e.get(t, cl, loc); !strings.Contains(body, "no unassigned case in team logistics that you can take") {
		t.Fatalf("the queue does not say why nothing was taken:\n%s", body)
	}

	_, body = e.get(t, cl, "/teams/logistics")
	if !strings.Contains(body, "Alice Moreau") || !strings.Contains(body, "Bob Fischer") || !strings.Contains(body, "1/20") {
		t.Fatalf("team page:\n%s", body)
	}
	resp, body = e.postForm(t, cl, "/teams/logistics/away", url.Values{"away": {"1"}, "note": {"Training day"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("set away: %d\n%s", resp.StatusCode, body)
	}
	if _, body = e.get(t, cl, "/teams/logistics"); !strings.Contains(body, "You are away") || !strings.Contains(body, "Training day") {
		t.Fatalf("away not shown:\n%s", body)
	}
	resp, body = e.postForm(t, cl, "/teams/logistics/away", url.Values{"away": {"1"}, "until": {"2001-01-01T10:00"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "must be in the future") {
		t.Fatalf("away until in the past: %d", resp.StatusCode)
	}
	resp, _ = e.postForm(t, cl, "/teams/logistics/away", url.Values{"email": {"bob@flare.test"}, "away": {"1"}, "note": {"Sick today"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a lead sets Bob away: %d", resp.StatusCode)
	}
	if resp, _ := e.get(t, cl, "/teams/nope"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown team: %d", resp.StatusCode)
	}

	// Why is it where it is: the score's factors and each rule.
	if _, body = e.get(t, cl, "/cases/"+c.Number); !strings.Contains(body, `href="/routing/explain?case=`+c.Number+`"`) {
		t.Fatalf("a lead's case page has no link to the routing explanation")
	}
	resp, body = e.get(t, cl, "/routing/explain?case="+c.Number)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Priority P4") || !strings.Contains(body, "The desk has no routing rules") {
		t.Fatalf("explain: %d\n%s", resp.StatusCode, body)
	}
}
