// Package nab scores anomaly detectors the way the Numenta Anomaly
// Benchmark (NAB) does: anomaly windows from the labels, the scaled sigmoid
// that rewards early detections and discounts false positives that follow
// a window, the three application profiles, one threshold optimised over
// the whole corpus, and normalisation between the null detector (0) and
// the perfect one (100).
//
// The package is a pure core: it computes over values and reads files only
// through an fs.FS handed to it.
package nab

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Profile is an application profile: the weights of a true positive, a
// false positive and a false negative (a missed window).
type Profile struct {
	Name string
	TP   float64
	FP   float64
	FN   float64
}

// Profiles are NAB's three published profiles, in the order scores are
// reported.
func Profiles() []Profile {
	return []Profile{
		{Name: "standard", TP: 1, FP: 0.11, FN: 1},
		{Name: "reward_low_FP_rate", TP: 1, FP: 0.22, FN: 1},
		{Name: "reward_low_FN_rate", TP: 1, FP: 0.11, FN: 2},
	}
}

// Window is one labelled anomaly window, both ends included.
type Window struct {
	Start, End time.Time
}

// ProbationPercent is the share of each file NAB does not score: the
// detector's learning period, at most 15% of 5,000 rows.
const ProbationPercent = 0.15

// ProbationLength is the number of leading rows of an n-row file that
// are not scored.
func ProbationLength(n int) int {
	return int(math.Min(math.Floor(ProbationPercent*float64(n)), ProbationPercent*5000))
}

// ScaledSigmoid is NAB's weighting of a detection by its relative
// position y: -1 is the left edge of a window, 0 its right edge, positive
// values are rows after the window in window widths. It returns a value in
// (-1, 1): near 1 for the earliest detections, near 0 at the window's end,
// falling to -1 (a full false positive) three widths after it.
func ScaledSigmoid(y float64) float64 {
	if y > 3 {
		return -1
	}
	return 2/(1+math.Exp(5*y)) - 1
}

// maxTP is the weight of a detection in a window's first row; detections
// inside windows are scaled by it so that the earliest one is worth 1.
var maxTP = ScaledSigmoid(-1)

// File is one data file's detector output: a score per row.
type File struct {
	Times  []time.Time
	Scores []float64
}

// Row is one scored row: its anomaly score, its sweep weight (the scaled
// sigmoid of its position) and the window it lies in (-1: outside every
// window).
type Row struct {
	Score  float64
	Weight float64
	Window int
}

// Sweep turns one file's scores into scorable rows: probationary rows are
// dropped, rows inside a window carry the window's id (firstID + its index
// among the file's windows, sorted by start) and the weight of a detection
// there, rows outside carry the (negative) weight of a false positive: -1
// before the first window, rising towards 0 just after a window.
func Sweep(f File, windows []Window, firstID int) ([]Row, error) {
	if len(f.Times) != len(f.Scores) {
		return nil, fmt.Errorf("nab: %d timestamps but %d scores", len(f.Times), len(f.Scores))
	}
	ws := append([]Window(nil), windows...)
	sort.Slice(ws, func(i, j int) bool { return ws[i].Start.Before(ws[j].Start) })
	type span struct{ lo, hi int }
	spans := make([]span, 0, len(ws))
	for _, w := range ws {
		lo := sort.Search(len(f.Times), func(i int) bool { return !f.Times[i].Before(w.Start) })
		hi := sort.Search(len(f.Times), func(i int) bool { return f.Times[i].After(w.End) }) - 1
		spans = append(spans, span{lo, hi})
	}
	prob := ProbationLength(len(f.Times))
	rows := make([]Row, 0, len(f.Times)-prob)
	cur, prev := 0, -1 // next window not yet left; last window left
	for i, s := range f.Scores {
		for cur < len(spans) && i > spans[cur].hi {
			prev, cur = cur, cur+1
		}
		r := Row{Score: s, Window: -1}
		switch {
		case cur < len(spans) && i >= spans[cur].lo:
			width := float64(spans[cur].hi - spans[cur].lo + 1)
			r.Weight = ScaledSigmoid(-float64(spans[cur].hi-i+1)/width) / maxTP
			r.Window = firstID + cur
		case prev >= 0:
			width := float64(spans[prev].hi - spans[prev].lo + 1)
			r.Weight = ScaledSigmoid(float64(i-spans[prev].hi) / (width - 1))
		default:
			r.Weight = -1
		}
		if i >= prob {
			rows = append(rows, r)
		}
	}
	return rows, nil
}

// Outcome is a score at one threshold: rows with a score at or above it
// are detections.
type Outcome struct {
	Threshold float64
	Score     float64 // raw, weighted
	TP, FP    int     // detected rows inside / outside windows
	Detected  int     // windows with at least one detection
}

// ByThreshold returns the raw score at every distinct threshold, highest
// threshold first, starting above every score (nothing detected, every
// window a false negative). numWindows counts every labelled window of the
// rows' files; only the earliest detection in a window counts (the one
// with the greatest weight), every detection outside a window costs its
// weight times the FP weight.
func ByThreshold(rows []Row, numWindows int, p Profile) []Outcome {
	sorted := append([]Row(nil), rows...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Score > sorted[j].Score })
	best := map[int]float64{}
	var tp, fp float64
	o := Outcome{Threshold: math.Inf(1)}
	fn := -p.FN * float64(numWindows)
	out := []Outcome{{Threshold: o.Threshold, Score: fn}}
	for i := 0; i < len(sorted); {
		th := sorted[i].Score
		for ; i < len(sorted) && sorted[i].Score == th; i++ {
			r := sorted[i]
			if r.Window < 0 {
				o.FP++
				fp += r.Weight * p.FP
				continue
			}
			o.TP++
			old, seen := best[r.Window]
			if !seen {
				o.Detected++
				fn += p.FN
				best[r.Window] = r.Weight
				tp += r.Weight * p.TP
			} else if r.Weight > old {
				best[r.Window] = r.Weight
				tp += (r.Weight - old) * p.TP
			}
		}
		o.Threshold = th
		o.Score = tp + fp + fn
		out = append(out, o)
	}
	return out
}

// Best is the outcome with the highest score (the highest threshold among
// equal scores).
func Best(outcomes []Outcome) Outcome {
	b := outcomes[0]
	for _, o := range outcomes[1:] {
		if o.Score > b.Score {
			b = o
		}
	}
	return b
}

// At is the outcome at a given threshold: rows scoring at or above it are
// detections.
func At(outcomes []Outcome, threshold float64) Outcome {
	o := outcomes[0]
	for _, c := range outcomes[1:] {
		if c.Threshold < threshold {
			break
		}
		o = c
	}
	o.Threshold = threshold
	return o
}

// Normalize maps a raw corpus score to NAB's scale: the null detector
// (every window missed) scores 0 and the perfect one (every window
// detected, weight 1) 100.
func Normalize(raw float64, numWindows int, p Profile) float64 {
	null := -p.FN * float64(numWindows)
	perfect := p.TP * float64(numWindows)
	return 100 * (raw - null) / (perfect - null)
}

// Result is a detector's score under one profile.
type Result struct {
	Profile    Profile
	Best       Outcome // at the optimised threshold
	Normalized float64
}

// Corpus holds every file's detector output with its windows, keyed by
// the file's path relative to the data folder ("realTweets/Twitter_volume_FB.csv").
type Corpus struct {
	Files   map[string]File
	Windows map[string][]Window
}

// Score optimises one threshold for the whole corpus under each profile
// and returns the normalised scores. Every file with windows in the labels
// must be present: a missing file would silently score as detected nowhere.
func (c Corpus) Score(profiles []Profile) ([]Result, error) {
	return c.ScoreAt(profiles, nil)
}

// ScoreAt is Score with fixed thresholds per profile name (as NAB's
// config/thresholds.json gives for the published detectors); a profile
// without one is optimised.
func (c Corpus) ScoreAt(profiles []Profile, thresholds map[string]float64) ([]Result, error) {
	names := make([]string, 0, len(c.Windows))
	for name := range c.Windows {
		names = append(names, name)
	}
	sort.Strings(names)
	var rows []Row
	numWindows := 0
	for _, name := range names {
		f, ok := c.Files[name]
		if !ok {
			return nil, fmt.Errorf("nab: no results for %s", name)
		}
		r, err := Sweep(f, c.Windows[name], numWindows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		rows = append(rows, r...)
		numWindows += len(c.Windows[name])
	}
	out := make([]Result, 0, len(profiles))
	for _, p := range profiles {
		outcomes := ByThreshold(rows, numWindows, p)
		b := Best(outcomes)
		if th, ok := thresholds[p.Name]; ok {
			b = At(outcomes, th)
		}
		out = append(out, Result{Profile: p, Best: b, Normalized: Normalize(b.Score, numWindows, p)})
	}
	return out, nil
}
