package signals_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/incidents"
	"github.com/flare-desk/flare/internal/signals"
)

const category, market = "payments/payout_failed", "DE"

var intakeDims = map[string]string{"category": category, "market": market}

// rules: a surge of payout failures in Germany (at least 10 in the alert)
// tells payments and declares a SEV2 service incident.
func rules() signals.Settings {
	return signals.Settings{Rules: []signals.Rule{{
		Name: "Payout surge", Signals: []string{signals.KindIntake}, Categories: []string{"payments/"}, Markets: []string{market},
		MinScore: 0.9, MinCount: 10, Notify: "payments",
		Declare: signals.Declare{Type: incidents.TypeService, Severity: incidents.SEV2},
	}}}
}

type fixture struct {
	*apptest.Fixture
	ctx context.Context
	sig *signals.Service
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	f := &fixture{Fixture: apptest.New(t, d), ctx: context.Background()}
	f.Reapply(t, func(c *desk.Config) { desk.Set(c, signals.SettingsKey, rules()) })
	f.sig = f.App.Signals
	return f
}

// history is weeks of normal 5-minute counts ending at end: about one
// case an hour at night and three in a busy bucket by day, Poisson.
func history(weeks int, end time.Time, seed uint64) (time.Time, []int) {
	n := weeks * 7 * 288
	start := end.Add(-time.Duration(n) * signals.Bucket)
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]int, n)
	for i := range out {
		at := start.Add(time.Duration(i) * signals.Bucket)
		h := float64(at.Hour()) + float64(at.Minute())/60
		lam := 0.1 + 1.4*math.Max(0, math.Sin((h-6)/16*math.Pi))
		out[i] = poisson(r, lam)
	}
	return start, out
}

func poisson(r *rand.Rand, lam float64) int {
	l, k, p := math.Exp(-lam), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func (f *fixture) deliver(t *testing.T) {
	t.Helper()
	for {
		n, err := f.App.Bus.Deliver(f.ctx, signals.Subscriber)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func (f *fixture) fire(t *testing.T) {
	t.Helper()
	if _, err := f.sig.Fire(f.ctx); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) burst(t *testing.T, n int) {
	t.Helper()
	amelia := f.Actor("amelia.clarke")
	for i := range n {
		if _, err := f.App.Cases.Create(f.ctx, amelia, cases.CreateInput{Title: "Payout failed again", Category: category,
			Market: market, Description: "Payout " + string(rune('A'+i%26)) + " bounced"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	f.deliver(t)
}

func (f *fixture) incidents(t *testing.T) []*incidents.Incident {
	t.Helper()
	page, err := f.App.Incidents.List(f.ctx, f.Actor("amelia.clarke"), incidents.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return page.Incidents
}

func (f *fixture) alerts(t *testing.T) []*signals.Alert {
	t.Helper()
	list, err := f.sig.Alerts(f.ctx, f.Actor("amelia.clarke"), signals.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// A burst of cases for one category × market after three normal weeks
// declares an incident within two buckets, and only one while it is open.
func TestBurstDeclaresOneIncident(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		start, counts := history(3, apptest.T0, 7)
		if err := f.sig.Import(f.ctx, signals.KindIntake, intakeDims, start, counts); err != nil {
			t.Fatal(err)
		}
		f.Clock.Set(apptest.T0.Add(signals.Grace))
		f.fire(t)
		if n := len(f.alerts(t)); n != 0 {
			t.Fatalf("normal history raised %d alerts: %+v", n, f.alerts(t)[0])
		}

		burstAt := apptest.T0.Add(2 * time.Minute)
		f.Clock.Set(burstAt)
		f.burst(t, 25)
		f.Clock.Set(burstAt.Add(3*time.Minute + 30*time.Second)) // the burst's bucket has ended, its grace has not
		f.fire(t)
		if n := len(f.incidents(t)); n != 0 {
			t.Fatalf("scored before the bucket's grace: %d incidents", n)
		}
		f.Clock.Set(apptest.T0.Add(signals.Bucket + signals.Grace))
		f.fire(t)
		incs := f.incidents(t)
		if len(incs) != 1 {
			t.Fatalf("want 1 incident after the burst's bucket closed, got %d", len(incs))
		}
		inc := incs[0]
		if inc.Type != incidents.TypeService || inc.Severity != incidents.SEV2 || inc.Markets[0] != market {
			t.Fatalf("incident %+v", inc)
		}
		al := f.alerts(t)
		if len(al) != 1 || al[0].Observed != 25 || al[0].Incident != inc.Number || al[0].Score < 0.9 || al[0].Expected > 3 {
			t.Fatalf("alert %+v", al[0])
		}

		// The burst goes on: the alert grows, no second incident.
		f.Clock.Set(apptest.T0.Add(signals.Bucket + 2*time.Minute))
		f.burst(t, 30)
		f.Clock.Set(apptest.T0.Add(2*signals.Bucket + signals.Grace))
		f.fire(t)
		if n := len(f.incidents(t)); n != 1 {
			t.Fatalf("a second incident while the first is open: %d", n)
		}
		al = f.alerts(t)
		if len(al) != 1 || al[0].Observed != 55 || !al[0].WindowEnd.Equal(apptest.T0.Add(2*signals.Bucket)) {
			t.Fatalf("alert not extended: %+v", al[0])
		}

		// Closed alert, a new burst three quarters of an hour later: a new
		// alert, which joins the open incident.
		if _, err := f.sig.Close(f.ctx, f.Actor("amelia.clarke"), al[0].ID); err != nil {
			t.Fatal(err)
		}
		f.Clock.Set(apptest.T0.Add(9*signals.Bucket + 2*time.Minute))
		f.burst(t, 40)
		f.Clock.Set(apptest.T0.Add(10*signals.Bucket + signals.Grace))
		f.fire(t)
		if n := len(f.incidents(t)); n != 1 {
			t.Fatalf("a second incident while the first is open: %d", n)
		}
		if al = f.alerts(t); len(al) != 2 || al[0].Incident != inc.Number {
			t.Fatalf("alerts %d, latest %+v", len(al), al[0])
		}

		// The payments team heard of the first alert (notify routes signal.alert).
		var notified int
		if err := d.QueryRow(f.ctx, `SELECT COUNT(*) FROM events WHERE type = ?`, string(events.SignalAlert)).Scan(&notified); err != nil {
			t.Fatal(err)
		}
		if notified != 2 {
			t.Fatalf("signal.alert events: %d, want one per alert", notified)
		}
	})
}

// A redelivered event counts nothing twice.
func TestCountedOnceUnderRedelivery(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		c, err := f.App.Cases.Create(f.ctx, f.Actor("amelia.clarke"), cases.CreateInput{Title: "Payout failed", Category: category, Market: market}, nil)
		if err != nil {
			t.Fatal(err)
		}
		e := events.Event{ID: "0190aaaa-0000-7000-8000-000000000001", Type: events.CaseCreated, At: c.CreatedAt,
			Case: &events.Case{ID: c.ID, Number: c.Number, Category: category, Market: market}, Data: &events.Created{Channel: "api"}}
		for range 3 {
			if err := f.sig.Handle(f.ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		f.deliver(t) // the real event: counted once more
		f.deliver(t)
		var total int
		if err := d.QueryRow(f.ctx, `SELECT SUM(count) FROM signal_buckets`).Scan(&total); err != nil {
			t.Fatal(err)
		}
		if total != 2 {
			t.Fatalf("counted %d, want 2 (one per event id)", total)
		}
	})
}

// A synthetic series with a spike raises an alert; quiet ones do not.
func TestSpikeAlertsQuietDoesNot(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		for i, m := range []string{"GB", "DE", "US"} {
			start, counts := history(2, apptest.T0, uint64(10+i))
			if m == "DE" {
				counts[len(counts)-30] = 18 // a spike two and a half hours ago
			}
			if err := f.sig.Import(f.ctx, signals.KindSafetyTerm, map[string]string{"market": m}, start, counts); err != nil {
				t.Fatal(err)
			}
		}
		f.Clock.Set(apptest.T0.Add(signals.Grace))
		f.fire(t)
		al := f.alerts(t)
		if len(al) != 1 || al[0].Series.Dims["market"] != "DE" || al[0].Observed != 18 ||
			!al[0].WindowStart.Equal(apptest.T0.Add(-30*signals.Bucket)) {
			for _, a := range al {
				t.Logf("alert %s %v %v score %.2f", a.Series.Key, a.WindowStart, a.Observed, a.Score)
			}
			t.Fatalf("want one alert on the DE spike, got %d", len(al))
		}
		// No rule matches safety terms here: nothing was declared.
		if n := len(f.incidents(t)); n != 0 {
			t.Fatalf("%d incidents", n)
		}
		list, err := f.sig.List(f.ctx, f.Actor("amelia.clarke"))
		if err != nil || len(list) != 3 || list[0].OpenAlerts != 1 {
			t.Fatalf("list %+v %v", list, err)
		}
		v, err := f.sig.Points(f.ctx, f.Actor("amelia.clarke"), list[0].ID, 24)
		if err != nil || len(v.Points) != 288 || len(v.Alerts) != 1 {
			t.Fatalf("points %d alerts %d %v", len(v.Points), len(v.Alerts), err)
		}
	})
}
