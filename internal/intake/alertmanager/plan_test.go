package alertmanager

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
)

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// notification is a v4 payload of alerts (fingerprint:status pairs).
func notification(status string, alerts ...Alert) *Payload {
	return &Payload{Version: "4", GroupKey: `{}:{alertname="PayoutsFailing"}`, Status: status, Receiver: "flare",
		GroupLabels: map[string]string{"alertname": "PayoutsFailing"}, CommonLabels: map[string]string{"alertname": "PayoutsFailing", "severity": "critical"},
		CommonAnnotations: map[string]string{"summary": "Payouts failing in DE"}, Alerts: alerts}
}

func alert(fp, status string, starts time.Time) Alert {
	a := Alert{Fingerprint: fp, Status: status, StartsAt: starts, Labels: map[string]string{"alertname": "PayoutsFailing", "instance": fp}}
	if status == Resolved {
		a.EndsAt = starts.Add(time.Hour)
	}
	return a
}

func TestDiff(t *testing.T) {
	first := notification(Firing, alert("a1", Firing, t0))
	if ch := Diff(nil, first); len(ch) != 1 || ch[0].Kind != ChangeNew {
		t.Fatalf("first: %+v", ch)
	}
	rec := States(first)
	if ch := Diff(rec, first); len(ch) != 0 {
		t.Fatalf("a repeat changes %+v", ch)
	}
	second := notification(Firing, alert("a1", Firing, t0), alert("b2", Firing, t0.Add(time.Minute)))
	if ch := Diff(rec, second); len(ch) != 1 || ch[0].Alert.Fingerprint != "b2" || ch[0].Kind != ChangeNew {
		t.Fatalf("second: %+v", ch)
	}
	rec = States(second)
	if AllResolved(rec, second) {
		t.Fatal("all resolved while firing")
	}
	partly := notification(Firing, alert("a1", Resolved, t0), alert("b2", Firing, t0.Add(time.Minute)))
	if ch := Diff(rec, partly); len(ch) != 1 || ch[0].Kind != ChangeResolved || AllResolved(rec, partly) {
		t.Fatalf("partly: %+v", ch)
	}
	// Alertmanager sends only the alerts it still knows: a1 left out stays resolved.
	rec = append(States(partly)[:1], State{Fingerprint: "b2", Status: Firing, StartsAt: t0.Add(time.Minute)})
	done := notification(Resolved, alert("b2", Resolved, t0.Add(time.Minute)))
	if ch := Diff(rec, done); len(ch) != 1 || ch[0].Kind != ChangeResolved || !AllResolved(rec, done) {
		t.Fatalf("done: %+v", ch)
	}
	again := notification(Firing, alert("a1", Firing, t0.Add(2*time.Hour)))
	if ch := Diff(States(partly), again); len(ch) != 1 || ch[0].Kind != ChangeRefired {
		t.Fatalf("again: %+v", ch)
	}
	if Digest("g", Diff(nil, first)) != Digest("g", Diff(nil, first)) || Digest("g", Diff(nil, first)) == Digest("g", Diff(nil, second)) {
		t.Fatal("digest is not a function of the changes")
	}
}

func TestTexts(t *testing.T) {
	p := notification(Firing, alert("a1", Firing, t0))
	p.Alerts[0].Annotations = map[string]string{"runbook": "https://runbooks.example/payouts"}
	if got := Title(p); got != "PayoutsFailing: Payouts failing in DE" {
		t.Fatalf("title %q", got)
	}
	p.CommonAnnotations = nil
	p.GroupLabels["market"] = "DE"
	if got := Title(p); got != `PayoutsFailing {market="DE"}` {
		t.Fatalf("title %q", got)
	}
	d := Description(p)
	for _, want := range []string{"**PayoutsFailing** firing (a1)", `instance="a1"`, "runbook: https://runbooks.example/payouts"} {
		if !strings.Contains(d, want) {
			t.Fatalf("description lacks %q:\n%s", want, d)
		}
	}
}

func TestDecode(t *testing.T) {
	good := `{"version":"4","groupKey":"{}:{alertname=\"X\"}","status":"firing","receiver":"flare","groupLabels":{"alertname":"X"},
		"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am:9093","truncatedAlerts":0,"groupId":"new-in-a-later-version",
		"alerts":[{"status":"firing","labels":{"alertname":"X"},"annotations":{},"startsAt":"2026-11-02T09:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"abc123"}]}`
	p, err := Decode([]byte(good))
	if err != nil || p.Alerts[0].Fingerprint != "abc123" {
		t.Fatalf("%+v %v", p, err)
	}
	for _, tc := range []struct{ body, field string }{
		{`{"version":"3"}`, "version"},
		{strings.Replace(good, `"status":"firing","receiver"`, `"status":"burning","receiver"`, 1), "status"},
		{strings.Replace(good, `"fingerprint":"abc123"`, `"fingerprint":""`, 1), "alerts[0].fingerprint"},
		{strings.Replace(good, `"startsAt":"2026-11-02T09:00:00Z"`, `"startsAt":"0001-01-01T00:00:00Z"`, 1), "alerts[0].startsAt"},
		{strings.Replace(good, `"groupKey":"{}:{alertname=\"X\"}"`, `"groupKey":""`, 1), "groupKey"},
		{strings.Replace(good, `"startsAt":"2026-11-02T09:00:00Z"`, `"startsAt":"yesterday"`, 1), "body"},
		{`[]`, "body"},
		{`{"alerts": {}}`, "body"},
	} {
		_, err := Decode([]byte(tc.body))
		var inv *apperr.Invalid
		if !errors.As(err, &inv) || !hasField(inv, tc.field) {
			t.Errorf("%.60s: %v, want %s", tc.body, err, tc.field)
		}
	}
}

func hasField(inv *apperr.Invalid, f string) bool {
	for _, e := range inv.Errors {
		if e.Field == f {
			return true
		}
	}
	return false
}
