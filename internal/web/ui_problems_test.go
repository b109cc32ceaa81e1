package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/cases"
)

// The similar panel on the case page, a problem made from it, its page
// with the trend chart, and the list.
func TestUIProblems(t *testing.T) {
	ctx := context.Background()
	e := newUIEnv(t)
	var nums []string
	for _, title := range []string{"Payout held after bank change", "Payout held since bank details changed"} {
		cs, err := e.app.Cases.Create(ctx, e.lead, cases.CreateInput{Title: title, Description: "The payout is held after the seller changed bank details.",
			Category: "payments/payout_hold", Market: "DE", Fields: map[string]any{"amount": "2500"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		nums = append(nums, cs.Number)
	}
	c := e.client(t)
	e.signIn(t, c, "")
	resp, body := e.get(t, c, "/cases/"+nums[0])
	if resp.StatusCode != 200 || !strings.Contains(body, "Similar open cases") || !strings.Contains(body, `data-similar="`+nums[1]+`"`) ||
		!strings.Contains(body, "Create problem from these 1 similar cases") {
		t.Fatalf("similar panel: %d\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `id="nav-problems"`) {
		t.Error("no Problems link in the navigation")
	}
	resp, _ = e.postForm(t, c, "/problems/new", url.Values{"title": {"Payouts held after bank changes"}, "from": {nums[0]},
		"cases": {nums[0], nums[1]}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/problems/1" {
		t.Fatalf("create: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = e.get(t, c, "/problems/1")
	if resp.StatusCode != 200 || !strings.Contains(body, "<svg class=\"trend\"") || !strings.Contains(body, `data-case="`+nums[1]+`"`) {
		t.Fatalf("problem page: %d\n%s", resp.StatusCode, body)
	}
	// A known error without its root cause: the page again with the message.
	resp, body = e.postForm(t, c, "/problems/1", url.Values{"status": {"known_error"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "root cause") {
		t.Errorf("bad change: %d", resp.StatusCode)
	}
	resp, _ = e.postForm(t, c, "/problems/1", url.Values{"status": {"known_error"}, "root_cause": {"The bank check holds every change for 7 days."}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("change: %d", resp.StatusCode)
	}
	resp, body = e.get(t, c, "/problems")
	if resp.StatusCode != 200 || !strings.Contains(body, "Payouts held after bank changes") || !strings.Contains(body, "Known error") {
		t.Errorf("list: %d\n%s", resp.StatusCode, body)
	}
	_, body = e.get(t, c, "/cases/"+nums[1])
	if !strings.Contains(body, `id="similar-problem"`) {
		t.Errorf("the case page does not name its problem")
	}
	resp, _ = e.postForm(t, c, "/problems/1/unlink", url.Values{"case": {nums[1]}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("unlink: %d", resp.StatusCode)
	}
	_, body = e.get(t, c, "/cases/"+nums[1])
	if !strings.Contains(body, `id="likely-problem"`) || !strings.Contains(body, `action="/problems/1/link"`) {
		t.Errorf("the likely problem is not offered:\n%s", body)
	}
}
