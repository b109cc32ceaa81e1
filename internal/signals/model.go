package signals

import (
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/detect"
)

// Bucket is the width of a signal's counts.
const Bucket = 5 * time.Minute

const (
	perDay  = int(24 * time.Hour / Bucket)
	perWeek = 7 * perDay
	// memory is how many past buckets a series' model keeps: four weeks,
	// for the same bucket of previous weeks; the detector's own windows
	// (detectorParams) are shorter.
	memory = 4 * perWeek
)

// Floor is the start of the bucket holding t.
func Floor(t time.Time) time.Time { return t.UTC().Truncate(Bucket) }

// The kinds of series.
const (
	KindIntake     = "intake"      // per category × market
	KindSafetyTerm = "safety_term" // safety-term hits per market
	KindAlert      = "alert"       // external alerts (cases of channel alert) per market
	KindSeller     = "intake_seller"
	KindChannel    = "intake_channel"
	KindTag        = "intake_tag"
	KindField      = "intake_field"
)

// Kinds lists every kind of series.
var Kinds = []string{KindIntake, KindSafetyTerm, KindAlert, KindSeller, KindChannel, KindTag, KindField}

// dimensionKind is the kind of series a desk dimension counts.
func dimensionKind(d string) (string, bool) {
	switch {
	case d == "seller":
		return KindSeller, true
	case d == "channel":
		return KindChannel, true
	case d == "tag":
		return KindTag, true
	case strings.HasPrefix(d, "field:") && len(d) > len("field:"):
		return KindField, true
	}
	return "", false
}

// seriesKey names a series: its kind, then its dimensions in order,
// "intake|category=logistics/late_delivery|market=DE".
func seriesKey(kind string, dims map[string]string) string {
	keys := make([]string, 0, len(dims))
	for k := range dims {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(kind)
	for _, k := range keys {
		b.WriteString("|" + k + "=" + dims[k])
	}
	return b.String()
}

// detectorParams are internal/detect's settings for 5-minute count
// series: robust-z windows and the record over about three and a half
// days (its daily channel compares each bucket with the same bucket a day
// earlier), a day of learning before any score, and half an hour of
// damping after one. The weekly comparison is the model's expected count.
func detectorParams() detect.Params {
	p := detect.DefaultParams()
	p.Window, p.History = 1000, 1000
	p.Learn = perDay
	p.Refract = 6
	return p
}

// model scores one series online: internal/detect's detector, seeing only
// the past, and the expected count from the same bucket of previous weeks
// (or days, while the series is younger than two weeks), whose Poisson
// band decides whether a count is unusual at all — so that on a quiet
// series a single case is not an anomaly.
type model struct {
	det  *detect.Detector
	past []float64 // the last memory buckets' counts, oldest first (a ring)
	head int       // next write position in past once full
	n    int       // buckets seen
	next time.Time // the bucket it expects next
}

func newModel() *model { return &model{det: detect.New(detectorParams())} }

// ago is the count k buckets before the next one (k ≥ 1).
func (m *model) ago(k int) (float64, bool) {
	if k < 1 || k > len(m.past) {
		return 0, false
	}
	if len(m.past) < memory {
		return m.past[len(m.past)-k], true
	}
	return m.past[(m.head-k+memory)%memory], true
}

// Point is one scored bucket.
type Point struct {
	At       time.Time `json:"at"`
	Count    float64   `json:"count"`
	Expected float64   `json:"expected"`
	Lo       float64   `json:"lo"` // the expected band
	Hi       float64   `json:"hi"`
	Score    float64   `json:"score"` // in [0, 1]
	Scored   bool      `json:"-"`
	surprise float64   // the Poisson surprise alone (above the band)
}

// Anomalous reports whether the point is above its band with at least
// the score min.
func (p Point) Anomalous(min float64) bool { return p.Scored && p.Count > p.Hi && p.Score >= min }

// lasting reports whether the point keeps an alert going: far above its
// band by the Poisson surprise alone (the detector reports a lasting
// anomaly at its start and damps the buckets after).
func (p Point) lasting(min float64) bool { return p.Scored && p.Count > p.Hi && p.surprise >= min }

// expected is the count the series' past expects next: the median of the
// same bucket (with its neighbours) in up to four previous weeks, else in
// up to seven previous days, else the mean of the last hour.
func (m *model) expected() float64 {
	slot := func(back int) (float64, bool) {
		var sum float64
		var n int
		for _, k := range []int{back - 1, back, back + 1} {
			if v, ok := m.ago(k); ok {
				sum += v
				n++
			}
		}
		return sum / float64(max(n, 1)), n == 3
	}
	var vals []float64
	for w := 1; w <= 4; w++ {
		if v, ok := slot(w * perWeek); ok {
			vals = append(vals, v)
		}
	}
	if len(vals) < 2 {
		vals = vals[:0]
		for d := 1; d <= 7; d++ {
			if v, ok := slot(d * perDay); ok {
				vals = append(vals, v)
			}
		}
	}
	if len(vals) >= 2 {
		sort.Float64s(vals)
		if len(vals)%2 == 1 {
			return vals[len(vals)/2]
		}
		return (vals[len(vals)/2-1] + vals[len(vals)/2]) / 2
	}
	var sum float64
	var n int
	for k := 1; k <= 12; k++ {
		if v, ok := m.ago(k); ok {
			sum += v
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// update scores the count v of the bucket at t and learns it. Buckets
// must come in order, one after the other (missing ones are zeros, which
// the caller supplies).
func (m *model) update(t time.Time, v float64) Point {
	e := m.expected()
	lo, hi := poissonBand(e)
	d := m.det.Update(t, v)
	p := Point{At: t, Count: v, Expected: e, Lo: lo, Hi: hi, Scored: m.n >= perDay}
	switch {
	case !p.Scored:
	case v > hi:
		// Above the band: the detector's score averaged with the Poisson
		// surprise of so many against the same bucket of past weeks —
		// both must agree for a high score, so that neither a quiet
		// series' wobble nor a usual weekly peak is an anomaly.
		p.surprise = poissonSurprise(v, e)
		p.Score = (d + p.surprise) / 2
	default:
		// Inside the band (or below it): the detector's view, damped —
		// low counts wobble.
		p.Score = d * 0.5
	}
	if len(m.past) < memory {
		m.past = append(m.past, v)
	} else {
		m.past[m.head] = v
		m.head = (m.head + 1) % memory
	}
	m.n++
	m.next = t.Add(Bucket)
	return p
}

// poissonBand is the central 99.8 % of a Poisson count with mean e: what
// a bucket is expected to hold.
func poissonBand(e float64) (lo, hi float64) {
	lam := math.Max(e, 0.05)
	cdf, k := 0.0, 0
	pk := math.Exp(-lam)
	lo = -1
	for ; k < 10000; k++ {
		cdf += pk
		if lo < 0 && cdf > 0.001 {
			lo = float64(k)
		}
		if cdf >= 0.999 {
			break
		}
		pk *= lam / float64(k+1)
	}
	return math.Max(lo, 0), float64(k)
}

// poissonSurprise maps the chance of at least v against a Poisson mean e
// to [0, 1]: one in a thousand is 0.3, one in ten billion or less is 1.
func poissonSurprise(v, e float64) float64 {
	lam := math.Max(e, 0.05)
	// log P(X ≥ v) ≈ log P(X = v) for v well above lam (an upper bound on the surprise's error).
	k := math.Floor(v)
	lg, _ := math.Lgamma(k + 1)
	logp := k*math.Log(lam) - lam - lg
	s := -logp / math.Ln10 / 10
	return math.Max(0, math.Min(1, s))
}
