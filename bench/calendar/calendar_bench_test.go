package calendar_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/sla"
)

// The ordinary case: instants drawn uniformly over 2026 (so during hours,
// nights, weekends and holidays in their natural mix) and durations of 1–16
// business hours in whole minutes. The inputs are drawn once, outside the
// timers, and cycled through.
const nInputs = 1 << 14

type input struct {
	at time.Time
	d  time.Duration
	to time.Time // for Between: at + up to 4 days of elapsed time
}

func inputs() []input {
	rng := rand.New(rand.NewPCG(2026, 1))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	year := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).Sub(start)
	out := make([]input, nInputs)
	for i := range out {
		at := start.Add(time.Duration(rng.Int64N(int64(year))))
		out[i] = input{
			at: at,
			d:  time.Duration(60+rng.IntN(15*60+1)) * time.Minute,
			to: at.Add(time.Duration(rng.Int64N(int64(96 * time.Hour)))),
		}
	}
	return out
}

func calendar(b *testing.B, key string) *sla.Calendar {
	for _, s := range sla.DemoSpecs() {
		if s.Key == key {
			return sla.MustCompile(s)
		}
	}
	b.Fatalf("no demo calendar %q", key)
	return nil
}

var sink time.Time
var sinkD time.Duration

// baseline times b.N plain t.Add(d) calls over the same inputs, in ns/op.
func baseline(n int, in []input) float64 {
	var acc time.Time
	start := time.Now()
	for i := range n {
		x := &in[i&(nInputs-1)]
		acc = x.at.Add(x.d)
	}
	el := time.Since(start)
	sink = acc
	return float64(el.Nanoseconds()) / float64(n)
}

func report(b *testing.B, baseNs float64) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(1e9/ns, "calls/s")
	if baseNs > 0 {
		b.ReportMetric(baseNs, "baseline-ns/op")
		b.ReportMetric(ns/baseNs, "x-baseline")
	}
}

// BenchmarkAdd: DE market calendar (Europe/Berlin, Mon–Fri 09:00–18:00,
// national + Berlin holidays). The baseline (plain time.Time.Add over the
// same inputs) is measured after the timed loop, in the same run.
func BenchmarkAdd(b *testing.B) {
	in := inputs()
	b.Run("DE", func(b *testing.B) {
		c := calendar(b, "DE")
		b.ReportAllocs()
		b.ResetTimer()
		var acc time.Time
		for i := 0; i < b.N; i++ {
			x := &in[i&(nInputs-1)]
			acc = c.Add(x.at, x.d)
		}
		b.StopTimer()
		sink = acc
		report(b, baseline(b.N, in))
	})
	// Two business days (18h) from the same instants.
	b.Run("DE-2days", func(b *testing.B) {
		c := calendar(b, "DE")
		b.ReportAllocs()
		b.ResetTimer()
		var acc time.Time
		for i := 0; i < b.N; i++ {
			acc = c.Add(in[i&(nInputs-1)].at, 18*time.Hour)
		}
		b.StopTimer()
		sink = acc
		report(b, baseline(b.N, in))
	})
	b.Run("US", func(b *testing.B) {
		c := calendar(b, "US")
		b.ReportAllocs()
		b.ResetTimer()
		var acc time.Time
		for i := 0; i < b.N; i++ {
			x := &in[i&(nInputs-1)]
			acc = c.Add(x.at, x.d)
		}
		b.StopTimer()
		sink = acc
		report(b, baseline(b.N, in))
	})
	b.Run("emergency-24x7", func(b *testing.B) {
		c := calendar(b, "emergency")
		b.ReportAllocs()
		b.ResetTimer()
		var acc time.Time
		for i := 0; i < b.N; i++ {
			x := &in[i&(nInputs-1)]
			acc = c.Add(x.at, x.d)
		}
		b.StopTimer()
		sink = acc
		report(b, baseline(b.N, in))
	})
	b.Run("baseline-time.Add", func(b *testing.B) {
		b.ReportAllocs()
		var acc time.Time
		for i := 0; i < b.N; i++ {
			x := &in[i&(nInputs-1)]
			acc = x.at.Add(x.d)
		}
		sink = acc
		report(b, 0)
	})
}

// BenchmarkBetween: business time between an instant over 2026 and up to
// four days later, on the DE calendar; the baseline is to.Sub(from).
func BenchmarkBetween(b *testing.B) {
	in := inputs()
	b.Run("DE", func(b *testing.B) {
		c := calendar(b, "DE")
		b.ReportAllocs()
		b.ResetTimer()
		var acc time.Duration
		for i := 0; i < b.N; i++ {
			x := &in[i&(nInputs-1)]
			acc += c.Between(x.at, x.to)
		}
		b.StopTimer()
		sinkD = acc
		var base time.Duration
		start := time.Now()
		for i := 0; i < b.N; i++ {
			x := &in[i&(nInputs-1)]
			base += x.to.Sub(x.at)
		}
		el := time.Since(start)
		sinkD += base
		report(b, float64(el.Nanoseconds())/float64(b.N))
	})
}

// BenchmarkIsOpen and NextOpen on the DE calendar, for completeness.
func BenchmarkIsOpen(b *testing.B) {
	in := inputs()
	c := calendar(b, "DE")
	b.ReportAllocs()
	n := 0
	for i := 0; i < b.N; i++ {
		if c.IsOpen(in[i&(nInputs-1)].at) {
			n++
		}
	}
	sinkD = time.Duration(n)
	report(b, 0)
}

func BenchmarkNextOpen(b *testing.B) {
	in := inputs()
	c := calendar(b, "DE")
	b.ReportAllocs()
	var acc time.Time
	for i := 0; i < b.N; i++ {
		acc = c.NextOpen(in[i&(nInputs-1)].at)
	}
	sink = acc
	report(b, 0)
}

// BenchmarkCompile: compiling all eleven demo calendars (done once per desk
// configuration load).
func BenchmarkCompile(b *testing.B) {
	specs := sla.DemoSpecs()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, s := range specs {
			if _, err := sla.Compile(s); err != nil {
				b.Fatal(err)
			}
		}
	}
}
