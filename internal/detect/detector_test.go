package detect_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/detect"
)

// series is a synthetic 5-minute series: a daily cycle, a weekly one, a
// slow trend and Gaussian noise.
func series(n int, seed uint64) ([]time.Time, []float64) {
	rng := rand.New(rand.NewPCG(seed, 2))
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	ts, vs := make([]time.Time, n), make([]float64, n)
	for i := range n {
		ts[i] = start.Add(time.Duration(i) * 5 * time.Minute)
		day := 2 * math.Pi * float64(i) / 288
		week := 2 * math.Pi * float64(i) / (7 * 288)
		vs[i] = 100 + 20*math.Sin(day) + 5*math.Sin(week) + 0.002*float64(i) + rng.NormFloat64()*2
	}
	return ts, vs
}

func scoreAll(ts []time.Time, vs []float64) []float64 {
	d := detect.New(detect.DefaultParams())
	out := make([]float64, len(vs))
	for i := range vs {
		out[i] = d.Update(ts[i], vs[i])
	}
	return out
}

// quiet checks the points before the anomaly: in [0, 1], low on the
// whole, and all below the anomaly's score.
func quiet(t *testing.T, s []float64, from, to int, anomaly float64) {
	t.Helper()
	var sum, peak float64
	for i, v := range s {
		if v < 0 || v > 1 || math.IsNaN(v) {
			t.Fatalf("score %d = %v, outside [0, 1]", i, v)
		}
	}
	for _, v := range s[from:to] {
		sum += v
		peak = math.Max(peak, v)
	}
	if mean := sum / float64(to-from); mean > 0.3 {
		t.Errorf("quiet points score %.3f on average, want low", mean)
	}
	if peak >= anomaly {
		t.Errorf("a quiet point scores %.3f, at least the anomaly's %.3f", peak, anomaly)
	}
}

func maxIn(s []float64) (float64, int) {
	best, at := -1.0, -1
	for i, v := range s {
		if v > best {
			best, at = v, i
		}
	}
	return best, at
}

func TestSpikeScoresHigh(t *testing.T) {
	ts, vs := series(4032, 1)
	vs[3000] += 40 // a spike of 20 noise deviations
	s := scoreAll(ts, vs)
	if s[3000] < 0.6 {
		t.Errorf("spike scores %.3f, want high", s[3000])
	}
	quiet(t, s, 1000, 3000, s[3000])
}

func TestLevelShiftScoresHighOnce(t *testing.T) {
	ts, vs := series(4032, 2)
	for i := 3000; i < len(vs); i++ {
		vs[i] += 25 // the level moves up and stays
	}
	s := scoreAll(ts, vs)
	peak, at := maxIn(s[3000:3030])
	if peak < 0.6 {
		t.Errorf("level shift scores at most %.3f in its first 30 points, want high", peak)
	}
	quiet(t, s, 1000, 3000, peak)
	// Repeats are suppressed: the new level is not reported again and again.
	high := 0
	for _, v := range s[3000+at+1:] {
		if v >= 0.55 {
			high++
		}
	}
	if high > 5 {
		t.Errorf("%d more high scores after the shift was reported, want at most a few", high)
	}
}

func TestLowCountsBurst(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n := 3000
	ts, vs := make([]time.Time, n), make([]float64, n)
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for i := range n {
		ts[i] = start.Add(time.Duration(i) * 5 * time.Minute)
		// Poisson(1.5) counts: mostly 0, 1, 2 cases per bucket.
		k, p, l := 0, 1.0, math.Exp(-1.5)
		for p *= rng.Float64(); p > l; p *= rng.Float64() {
			k++
		}
		vs[i] = float64(k)
	}
	for i := 2500; i < 2504; i++ {
		vs[i] = 12 // a burst of cases
	}
	s := scoreAll(ts, vs)
	peak, _ := maxIn(s[2500:2504])
	if peak < 0.6 {
		t.Errorf("burst scores at most %.3f, want high", peak)
	}
	quiet(t, s, 800, 2500, peak)
}

// A daily cycle that stalls for half a day breaks the daily channel's
// record. Its surprise grows gradually, so it scores less than a spike;
// noise alone breaks a record now and then too (here once in 2,000
// points), which a threshold above 0.5 filters.
func TestStalledDailyCycleBreaksTheRecord(t *testing.T) {
	ts, vs := series(4032, 5)
	for i := 3000; i < 3144; i++ {
		vs[i] = vs[2999] // the daily cycle stops: the value stays flat
	}
	s := scoreAll(ts, vs)
	peak, _ := maxIn(s[3000:3144])
	if peak < 0.6 {
		t.Errorf("a stalled daily cycle scores at most %.3f, want above the record", peak)
	}
	above := 0
	for _, v := range s[1000:3000] {
		if v > 0.5 {
			above++
		}
	}
	if above > 2 {
		t.Errorf("%d quiet points break the record, want at most 2 in 2,000", above)
	}
}

// BenchmarkUpdate measures one series' scoring cost per point (the
// reported figure: points/s on one core).
func BenchmarkUpdate(b *testing.B) {
	ts, vs := series(20000, 9)
	d := detect.New(detect.DefaultParams())
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		d.Update(ts[i%len(ts)], vs[i%len(vs)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
}
