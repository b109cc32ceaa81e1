package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/signals"
)

// The Signals page draws each series; the Alerts list shows an alert with
// its chart, and a lead acknowledges it there.
func TestUISignalsPages(t *testing.T) {
	e := newUIEnv(t)
	ctx := context.Background()
	end := signals.Floor(e.app.Clock.Now())
	n := 2 * 7 * 288
	counts := make([]int, n)
	for i := range counts {
		counts[i] = i % 3 // a steady trickle
	}
	counts[n-10] = 40
	if err := e.app.Signals.Import(ctx, signals.KindSafetyTerm, map[string]string{"market": "GB"}, end.Add(-time.Duration(n)*signals.Bucket), counts); err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Signals.Fire(ctx); err != nil {
		t.Fatal(err)
	}
	c := e.client(t)
	e.signIn(t, c, "/signals")
	for _, p := range []struct{ path, want string }{
		{"/signals", "safety-term hits in GB"},
		{"/signals/1?hours=24", `class="anomaly"`},
		{"/alerts", "Acknowledge"},
	} {
		resp, body := e.get(t, c, p.path)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, p.want) || !strings.Contains(body, `<svg class="signal-chart"`) {
			t.Fatalf("%s: %d, want %q and a chart", p.path, resp.StatusCode, p.want)
		}
	}
	if resp, _ := e.postForm(t, c, "/alerts/1", url.Values{"action": {"acknowledge"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("acknowledge: %d", resp.StatusCode)
	}
	if _, body := e.get(t, c, "/alerts"); !strings.Contains(body, `alert-row-acknowledged`) {
		t.Fatal("the alert is not acknowledged")
	}
}
