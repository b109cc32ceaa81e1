package detect

import (
	"math"
	"sort"
	"time"
)

// Params are the detector's settings; DefaultParams is the one set used
// for every series.
type Params struct {
	Window   int     // points in the robust-z windows
	Smooth   int     // points averaged by the level channel
	History  int     // points of feature history a new point is compared with
	Learn    int     // points before any score is given
	Seasonal bool    // use the daily seasonal-difference channel
	Weekly   bool    // use the weekly seasonal-difference channel
	Decay    float64 // if > 0, the record decays by this factor per point instead of a sliding window
	Chans    int     // bitmask of channels (0: all)
	Refract  int     // points after a score during which lower ones are damped
	Damp     float64 // factor applied to damped scores
	Cap      float64 // if > 0, a point beyond the record raises it at most by this factor
}

// DefaultParams is the parameter set used for every series.
func DefaultParams() Params {
	return Params{Window: 1000, Smooth: 20, History: 4000, Learn: 150, Seasonal: true, Refract: 50, Damp: 0.5, Cap: 1.2}
}

// robustZ is a channel's feature: how far x lies from the median of its
// last values, in robust standard deviations.
type robustZ struct {
	win    *sortedWindow
	lo, hi float64
}

func newRobustZ(n int) *robustZ {
	return &robustZ{win: newSortedWindow(n), lo: math.Inf(1), hi: math.Inf(-1)}
}

func (z *robustZ) update(x float64) float64 {
	f := 0.0
	if z.win.len() >= 10 {
		med := z.win.quantile(0.5)
		scale := 1.4826*z.win.mad(med) + 1e-3*(z.hi-z.lo) + 1e-9
		f = math.Log1p(math.Abs(x-med) / scale)
	}
	z.win.push(x)
	z.lo, z.hi = math.Min(z.lo, x), math.Max(z.hi, x)
	return f
}

// record compares a feature with its own recent maximum.
type record struct {
	peak  *slidingMax
	decay float64
	cap   float64
	m     float64
}

func (r *record) ratio(f float64) float64 {
	var prev float64
	if r.decay > 0 {
		prev = r.m
	} else {
		prev = r.peak.max()
	}
	g := f
	if r.cap > 0 && prev > 0 && g > prev*r.cap {
		g = prev * r.cap
	}
	if r.decay > 0 {
		r.m = math.Max(g, r.m*r.decay)
	} else {
		r.peak.push(g)
	}
	if prev <= 0 {
		return 0
	}
	return f / prev
}

type channel struct {
	z   *robustZ
	rec *record
}

// Detector scores one series online: each point is scored from the past
// only, with memory bounded by the parameters.
type Detector struct {
	p      Params
	n      int
	first  []time.Time // timestamps of the first points, to find the period
	period int         // points per day, 0 while unknown or none
	lag    *ring       // the last week of values, for seasonal differences
	smooth *ring
	sum    float64
	chans  []*channel // value, smoothed level, daily difference, weekly difference
	recent *slidingMax
}

// New returns a detector for one series.
func New(p Params) *Detector {
	d := &Detector{p: p, smooth: newRing(p.Smooth), recent: newSlidingMax(max(p.Refract, 1))}
	for range 4 {
		rec := &record{peak: newSlidingMax(p.History), decay: p.Decay, cap: p.Cap}
		d.chans = append(d.chans, &channel{z: newRobustZ(p.Window), rec: rec})
	}
	return d
}

// Update scores v, observed at t, and learns it. The score is in [0, 1].
func (d *Detector) Update(t time.Time, v float64) float64 {
	d.n++
	if d.period == 0 && len(d.first) < 50 {
		d.first = append(d.first, t)
		if len(d.first) == 50 {
			d.period = pointsPerDay(d.first)
			if d.period > 0 {
				d.lag = newRing(7 * d.period)
			}
		}
	}
	if old, ok := d.smooth.push(v); ok {
		d.sum -= old
	}
	d.sum += v
	feats := [4]float64{d.chans[0].z.update(v), d.chans[1].z.update(d.sum / float64(d.smooth.len()))}
	if d.lag != nil {
		if d.p.Seasonal {
			if prev, ok := d.lag.ago(d.period - 1); ok {
				feats[2] = d.chans[2].z.update(v - prev)
			}
		}
		if d.p.Weekly {
			if prev, ok := d.lag.ago(7*d.period - 1); ok {
				feats[3] = d.chans[3].z.update(v - prev)
			}
		}
		d.lag.push(v)
	}
	best := 0.0
	for i, c := range d.chans {
		r := c.rec.ratio(feats[i])
		if d.p.Chans != 0 && d.p.Chans&(1<<i) == 0 {
			continue
		}
		best = math.Max(best, r)
	}
	if d.n <= d.p.Learn {
		return 0
	}
	s := best / (1 + best)
	prev := d.recent.max()
	d.recent.push(s)
	if d.p.Refract > 0 && s <= prev {
		return s * d.p.Damp
	}
	return s
}

// pointsPerDay is the number of points in a day at the series' typical
// spacing, or 0 when points are more than an hour apart or the day is
// not a whole number of them.
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
	if math.Abs(n-math.Round(n)) > 0.01 {
		return 0
	}
	return int(math.Round(n))
}
