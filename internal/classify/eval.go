package classify

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
)

// ReadCSV reads examples from a CSV file with a text,category header.
func ReadCSV(r io.Reader) ([]Example, error) {
	cr := csv.NewReader(r)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("classify: header: %w", err)
	}
	ti, ci := -1, -1
	for i, h := range head {
		switch strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) {
		case "text":
			ti = i
		case "category":
			ci = i
		}
	}
	if ti < 0 || ci < 0 {
		return nil, fmt.Errorf("classify: header %q needs text and category columns", strings.Join(head, ","))
	}
	var out []Example
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("classify: %w", err)
		}
		if strings.TrimSpace(rec[ci]) == "" {
			return nil, fmt.Errorf("classify: line %d: empty category", line)
		}
		out = append(out, Example{Text: rec[ti], Category: strings.TrimSpace(rec[ci])})
	}
}

// Metrics are a model's scores on labelled examples.
type Metrics struct {
	N        int
	Accuracy float64
	MacroF1  float64 // the mean F1 over the categories present in the truth or the predictions
}

// Evaluate predicts each example and scores the predictions.
func (m *Model) Evaluate(examples []Example) Metrics {
	pred := make([]string, len(examples))
	for i, e := range examples {
		pred[i] = m.Suggest(e.Text).Category
	}
	return Score(examples, pred)
}

// Score compares predicted categories with the examples' own.
func Score(examples []Example, pred []string) Metrics {
	tp, fp, fn := map[string]int{}, map[string]int{}, map[string]int{}
	correct := 0
	for i, e := range examples {
		if pred[i] == e.Category {
			correct++
			tp[e.Category]++
		} else {
			fp[pred[i]]++
			fn[e.Category]++
		}
	}
	cats := map[string]bool{}
	for _, m := range []map[string]int{tp, fp, fn} {
		for c := range m {
			cats[c] = true
		}
	}
	var f1 float64
	for c := range cats {
		if d := 2*tp[c] + fp[c] + fn[c]; d > 0 {
			f1 += 2 * float64(tp[c]) / float64(d)
		}
	}
	met := Metrics{N: len(examples)}
	if len(examples) > 0 {
		met.Accuracy = float64(correct) / float64(len(examples))
	}
	if len(cats) > 0 {
		met.MacroF1 = f1 / float64(len(cats))
	}
	return met
}

// Folds splits examples into k stratified folds (each category spread
// evenly), deterministically for a seed.
func Folds(examples []Example, k int, seed uint64) [][]Example {
	by := map[string][]Example{}
	for _, e := range examples {
		by[e.Category] = append(by[e.Category], e)
	}
	cats := make([]string, 0, len(by))
	for c := range by {
		cats = append(cats, c)
	}
	sort.Strings(cats)
	rng := rand.New(rand.NewPCG(seed, 1))
	folds := make([][]Example, k)
	next := 0
	for _, c := range cats {
		es := by[c]
		rng.Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i] })
		for _, e := range es {
			folds[next%k] = append(folds[next%k], e)
			next++
		}
	}
	return folds
}

// CalibrationError is the expected calibration error of the model's
// confidences on labelled examples: the mean, over ten equal-width
// confidence bins weighted by their size, of |accuracy − confidence|.
func (m *Model) CalibrationError(examples []Example) float64 {
	var n, conf, acc [10]float64
	for _, e := range examples {
		s := m.Suggest(e.Text)
		b := min(int(s.Confidence*10), 9)
		n[b]++
		conf[b] += s.Confidence
		if s.Category == e.Category {
			acc[b]++
		}
	}
	var ece float64
	for b := range n {
		if n[b] > 0 {
			ece += math.Abs(acc[b]-conf[b]) / float64(len(examples))
		}
	}
	return ece
}
