// Package classify suggests a category for a text: TF-IDF over word
// uni- and bigrams and character n-grams, and a multinomial logistic
// regression trained with seeded stochastic gradient descent, whose
// softmax gives each suggestion's confidence.
//
// The package is a pure core: it computes over values (only the standard
// library).
package classify

import (
	"math"
	"sort"
	"strings"
	"unicode"
)

// Options are the feature and training settings.
type Options struct {
	CharMin, CharMax int     // character n-gram lengths, inside word boundaries
	MinDF            int     // features seen in fewer training texts are dropped
	Epochs           int     // passes over the training set
	Rate             float64 // initial learning rate
	L2               float64 // L2 regularisation per example
	Seed             uint64  // shuffling seed: training is deterministic
}

// DefaultOptions are the settings measured on BANKING77.
func DefaultOptions() Options {
	return Options{CharMin: 2, CharMax: 5, MinDF: 2, Epochs: 12, Rate: 1.0, L2: 1e-6, Seed: 1}
}

// words lower-cases text and splits it into runs of letters and digits.
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// terms are a text's features before weighting: word unigrams and
// bigrams and the character n-grams of each word padded with spaces.
func terms(text string, o Options) map[string]int {
	ws := words(text)
	tf := map[string]int{}
	for i, w := range ws {
		tf["w "+w]++
		if i > 0 {
			tf["b "+ws[i-1]+" "+w]++
		}
		r := []rune(" " + w + " ")
		for n := o.CharMin; n <= o.CharMax; n++ {
			for j := 0; j+n <= len(r); j++ {
				tf["c "+string(r[j:j+n])]++
			}
		}
	}
	return tf
}

// vocab maps features to columns and holds their inverse document
// frequencies.
type vocab struct {
	index map[string]int32
	idf   []float64
}

func buildVocab(docs []map[string]int, o Options) *vocab {
	df := map[string]int{}
	for _, d := range docs {
		for t := range d {
			df[t]++
		}
	}
	keys := make([]string, 0, len(df))
	for t, n := range df {
		if n >= o.MinDF {
			keys = append(keys, t)
		}
	}
	sort.Strings(keys) // columns do not depend on map order
	v := &vocab{index: make(map[string]int32, len(keys)), idf: make([]float64, len(keys))}
	n := float64(len(docs))
	for i, t := range keys {
		v.index[t] = int32(i)
		v.idf[i] = math.Log((1+n)/(1+float64(df[t]))) + 1
	}
	return v
}

// sparse is a feature vector: sorted columns and their values.
type sparse struct {
	idx []int32
	val []float32
}

// vector weighs a text's terms: sublinear term frequency times idf,
// normalised to unit length.
func (v *vocab) vector(tf map[string]int) sparse {
	type cell struct {
		j int32
		w float64
	}
	cells := make([]cell, 0, len(tf))
	var norm float64
	for t, n := range tf {
		if j, ok := v.index[t]; ok {
			w := (1 + math.Log(float64(n))) * v.idf[j]
			cells = append(cells, cell{j, w})
			norm += w * w
		}
	}
	sort.Slice(cells, func(a, b int) bool { return cells[a].j < cells[b].j })
	s := sparse{idx: make([]int32, len(cells)), val: make([]float32, len(cells))}
	for i, c := range cells {
		s.idx[i] = c.j
		s.val[i] = float32(c.w / math.Sqrt(norm))
	}
	return s
}
