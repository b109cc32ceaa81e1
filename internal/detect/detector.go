// Package detect scores time series online for anomalies: each point is
// scored from the past only, with bounded memory per series, and gets a
// score in [0, 1] (above 0.5: the point breaks the series' recent
// record of surprise).
//
// Three channels look at each point: the value against the robust spread
// (median, MAD) of the last Window values, the mean of the last Smooth
// values against the same statistics of past means (slow level shifts,
// drifts and low counts whose single values are noisy), and the difference
// from the same time a day earlier against past differences (the daily
// cycle, when points are at most an hour apart). Each channel's robust z is
// compared with its own maximum over the last History points: a ratio
// above 1 means the point is more surprising than anything recently seen,
// which calibrates one threshold across series of any scale and noise.
// The highest ratio, mapped to [0, 1], is the score; a score no higher
// than one of the last Refract scores is damped, so a lasting anomaly is
// reported at its start rather than at every point.
//
// The package is a pure core: it imports only the standard library.
package detect

import (
	"math"
	"sort"
	"time"
)

// Params are the detector's settings.
type Params struct {
	Window  int     // values in each channel's robust-z window
	Smooth  int     // values averaged by the level channel
	History int     // points of each channel's history the record is kept over
	Learn   int     // points scored 0 while the channels warm up
	Refract int     // points after a score during which scores no higher are damped
	Damp    float64 // the factor damped scores are multiplied by
	Cap     float64 // a surprise beyond the record raises it at most by this factor
}

// DefaultParams is the one parameter set used for every series (and
// measured on all 58 NAB files).
func DefaultParams() Params {
	return Params{Window: 5000, Smooth: 20, History: 5000, Learn: 150, Refract: 50, Damp: 0.5, Cap: 1.2}
}

// maxPeriod bounds the daily lag buffer (one-minute points at most).
const maxPeriod = 1440

// warmZ is the number of values a robust-z window needs before it scores.
const warmZ = 30

// robustZ measures how far a value lies from the median of the window's
// values, in robust standard deviations (1.4826 MAD, floored at a
// thousandth of the range seen so that flat series do not divide by zero).
type robustZ struct {
	win    *sortedWindow
	lo, hi float64
}

func newRobustZ(n int) *robustZ {
	return &robustZ{win: newSortedWindow(n), lo: math.Inf(1), hi: math.Inf(-1)}
}

func (z *robustZ) update(x float64) float64 {
	f := 0.0
	if z.win.len() >= warmZ {
		med := z.win.quantile(0.5)
		scale := 1.4826*z.win.mad(med) + 1e-3*(z.hi-z.lo) + 1e-9
		f = math.Abs(x-med) / scale
	}
	z.win.push(x)
	z.lo, z.hi = math.Min(z.lo, x), math.Max(z.hi, x)
	return f
}

// record compares a channel's surprise with its maximum over the history.
// A surprise beyond the record enters the history capped at cap times the
// record: one anomaly does not hide the next one of similar size.
type record struct {
	peak *slidingMax
	cap  float64
}

func (r *record) ratio(f float64) float64 {
	prev := r.peak.max()
	g := f
	if prev > 0 && g > prev*r.cap {
		g = prev * r.cap
	}
	r.peak.push(g)
	if prev <= 0 {
		return 0
	}
	return f / prev
}

type channel struct {
	z   *robustZ
	rec *record
}

func (c *channel) ratio(x float64) float64 { return c.rec.ratio(c.z.update(x)) }

// Detector scores one series. It is not safe for concurrent use.
type Detector struct {
	p            Params
	n            int
	first        []time.Time // the first points' timestamps, to find the daily period
	period       int         // points per day; 0 while unknown or when there is no usable one
	lag          *ring       // the last day of values
	smooth       *ring
	sum          float64
	value, level channel
	daily        channel
	recent       *slidingMax
}

// New returns a detector for one series.
func New(p Params) *Detector {
	ch := func() channel {
		return channel{z: newRobustZ(p.Window), rec: &record{peak: newSlidingMax(p.History), cap: p.Cap}}
	}
	return &Detector{p: p, smooth: newRing(p.Smooth), value: ch(), level: ch(), daily: ch(),
		recent: newSlidingMax(max(p.Refract, 1))}
}

// periodProbe is the number of leading timestamps the daily period is
// read from.
const periodProbe = 50

// Update scores v, observed at t, then learns it. Points must come in
// time order.
func (d *Detector) Update(t time.Time, v float64) float64 {
	d.n++
	if d.n <= periodProbe {
		d.first = append(d.first, t)
		if d.n == periodProbe {
			if d.period = pointsPerDay(d.first); d.period > 0 {
				d.lag = newRing(d.period)
			}
			d.first = nil
		}
	}
	if old, ok := d.smooth.push(v); ok {
		d.sum -= old
	}
	d.sum += v
	best := math.Max(d.value.ratio(v), d.level.ratio(d.sum/float64(d.smooth.len())))
	if d.lag != nil {
		if prev, ok := d.lag.ago(d.period - 1); ok {
			best = math.Max(best, d.daily.ratio(v-prev))
		}
		d.lag.push(v)
	}
	if d.n <= d.p.Learn {
		return 0
	}
	// 1 - 2^(-r^4): 0.5 at the record, near 0 below 0.6 of it, near 1 at 1.5 times it.
	s := 1 - math.Exp2(-math.Pow(best, 4))
	prev := d.recent.max()
	d.recent.push(s)
	if d.p.Refract > 0 && s <= prev {
		return s * d.p.Damp
	}
	return s
}

// pointsPerDay is the number of points in a day at the series' typical
// (median) spacing, or 0 when there is no usable daily period: points
// more than an hour or less than a minute apart, or a day that is not a
// whole number of them.
func pointsPerDay(ts []time.Time) int {
	gaps := make([]float64, 0, len(ts)-1)
	for i := 1; i < len(ts); i++ {
		gaps = append(gaps, ts[i].Sub(ts[i-1]).Seconds())
	}
	sort.Float64s(gaps)
	g := gaps[len(gaps)/2]
	if g <= 0 || g > 3600 {
		return 0
	}
	n := 86400 / g
	if math.Abs(n-math.Round(n)) > 0.01 || math.Round(n) > maxPeriod {
		return 0
	}
	return int(math.Round(n))
}
