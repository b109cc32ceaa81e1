package demo

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/incidents"
	"github.com/flare-desk/flare/internal/signals"
)

// The demo's signals. The generated history is written without the event
// stream (Replay wires no bus), so the signals get two weeks of 5-minute
// counts generated consistently with it: the busiest category × market
// pairs of the generated cases, safety-term hits and external alerts, at
// a large marketplace's volume, with the markets' working days and hours.
// On the last weekday at least three days ago, at 10:00 UTC, a carrier
// outage quadrupled cases in the busiest logistics pair for half an hour:
// scoring the history raises that alert, and the desk's rule declares its
// incident — whatever the day and hour the demo starts.

// signalDays is how much history the demo's signals have.
const signalDays = 14

// signalsDesk is the demo desk's detection section: carriers counted per
// market; surges of logistics cases tell Logistics and declare a
// logistics disruption; safety-term surges tell Trust & Safety and open a
// case for them.
func signalsDesk(cfg *desk.Config) {
	desk.Set(cfg, signals.SettingsKey, signals.Settings{
		Dimensions: []string{"field:carrier"},
		Rules: []signals.Rule{
			{Name: "Logistics surge", Signals: []string{signals.KindIntake}, Categories: []string{"logistics/"}, MinScore: 0.9, MinCount: 10,
				Notify: "logistics", Declare: signals.Declare{Type: incidents.TypeLogisticsDisruption, Severity: incidents.SEV2}},
			{Name: "Safety-term surge", Signals: []string{signals.KindSafetyTerm}, MinScore: 0.9, MinCount: 4,
				Notify: "trust_safety", OpenCase: "safety/product_safety"},
			{Name: "Intake surge", Signals: []string{signals.KindIntake, signals.KindAlert}, MinScore: 0.95, MinCount: 15, Notify: "escalations"},
		},
	})
}

// seedSignals writes the demo's signal history ending at now and scores it.
func seedSignals(ctx context.Context, a *app.App, specs []CaseSpec, now time.Time) error {
	type pair struct {
		category, market string
		n                int
	}
	byPair := map[[2]string]int{}
	for _, s := range specs {
		byPair[[2]string{s.Input.Category, s.Input.Market}]++
	}
	var pairs []pair
	for k, n := range byPair {
		pairs = append(pairs, pair{k[0], k[1], n})
	}
	slices.SortFunc(pairs, func(x, y pair) int {
		return cmp.Or(cmp.Compare(y.n, x.n), cmp.Compare(x.category, y.category), cmp.Compare(x.market, y.market))
	})
	// The six busiest pairs, the busiest logistics pair among them: it has
	// the outage, whatever the generated mix looks like.
	surge := slices.IndexFunc(pairs, func(p pair) bool { return strings.HasPrefix(p.category, "logistics/") })
	if surge >= 6 {
		pairs[5], surge = pairs[surge], 5
	}
	pairs = pairs[:min(len(pairs), 6)]
	end := signals.Floor(now)
	start := end.Add(-signalDays * 24 * time.Hour)
	n := int(end.Sub(start) / signals.Bucket)
	r := rand.New(rand.NewPCG(7, 15))
	series := func(kind string, dims map[string]string, peak float64, outage bool) error {
		tz := time.UTC
		for _, m := range markets {
			if m.Code == dims["market"] {
				tz, _ = time.LoadLocation(m.Timezone)
			}
		}
		counts := make([]int, n)
		lam := make([]float64, n)
		for i := range counts {
			lam[i] = peak * dayShape(start.Add(time.Duration(i)*signals.Bucket).In(tz))
			counts[i] = poisson(r, lam[i])
		}
		if outage {
			// 10:00 UTC on the last weekday at least three days ago, for
			// half an hour: a weekday's normal volume, whatever today is.
			day := end.Add(-3 * 24 * time.Hour).Truncate(24 * time.Hour)
			for day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
				day = day.Add(-24 * time.Hour)
			}
			at := int(day.Add(10*time.Hour).Sub(start) / signals.Bucket)
			// Four times the usual volume and 15 more in every bucket, the
			// first one included: the detector flags a surge at its first
			// bucket and damps the next ones, so a first bucket that drew
			// few cases by chance would leave the outage without an alert.
			for i := at; i < at+6 && i < n; i++ {
				counts[i] += 15 + int(math.Round(3*lam[i]))
			}
		}
		if err := a.Signals.Import(ctx, kind, dims, start, counts); err != nil {
			return fmt.Errorf("demo signals: %w", err)
		}
		return nil
	}
	for i, p := range pairs {
		// The busiest pair has three cases in a 5-minute bucket at its
		// peak: sparser series would see a median of zeros while their
		// model learns, and raise alerts on 5 cases against 0 expected.
		peak := 3 * float64(p.n) / float64(pairs[0].n)
		if err := series(signals.KindIntake, map[string]string{"category": p.category, "market": p.market}, peak, i == surge); err != nil {
			return err
		}
	}
	for _, m := range []string{"GB", "DE", "FR"} {
		if err := series(signals.KindSafetyTerm, map[string]string{"market": m}, 0.25, false); err != nil {
			return err
		}
	}
	if err := series(signals.KindAlert, map[string]string{"market": "GB"}, 0.4, false); err != nil {
		return err
	}
	_, err := a.Signals.Fire(ctx)
	return err
}

// dayShape is a marketplace's intake through the week in local time: low
// at night, high from mid-morning, lighter at weekends (1 at the peak).
func dayShape(t time.Time) float64 {
	h := float64(t.Hour()) + float64(t.Minute())/60
	v := 0.08 + 0.92*math.Max(0, math.Sin((h-6)/16*math.Pi))
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		v *= 0.55
	}
	return v
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
