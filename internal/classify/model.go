package classify

import (
	"errors"
	"math"
	"math/rand/v2"
	"sort"
)

// Example is one labelled text.
type Example struct {
	Text     string
	Category string
}

// Model is a trained classifier.
type Model struct {
	opts    Options
	vocab   *vocab
	classes []string
	w       []float32 // feature-major: w[j*len(classes)+c]
	b       []float32
	temp    float64 // softmax temperature fitted on held-out examples
}

// Suggestion is a predicted category with its probability.
type Suggestion struct {
	Category   string
	Confidence float64
}

// Train fits a model on the examples. The same examples and options give
// the same model. Its confidences are calibrated: a first model trained on
// 90% of the examples fits the softmax temperature that minimises the
// log-loss on the other 10%, and the final model, trained on all of them,
// uses it.
func Train(examples []Example, o Options) (*Model, error) {
	if len(examples) == 0 {
		return nil, errors.New("classify: no training examples")
	}
	temp := 1.0
	if len(examples) >= 100 {
		folds := Folds(examples, 10, o.Seed)
		var rest []Example
		for _, f := range folds[1:] {
			rest = append(rest, f...)
		}
		m, err := train(rest, o)
		if err != nil {
			return nil, err
		}
		temp = m.fitTemperature(folds[0])
	}
	m, err := train(examples, o)
	if err != nil {
		return nil, err
	}
	m.temp = temp
	return m, nil
}

// fitTemperature finds the temperature minimising the log-loss of the
// held-out examples (golden-section search over its logarithm).
func (m *Model) fitTemperature(held []Example) float64 {
	type obs struct {
		z []float64
		y int
	}
	var data []obs
	for _, e := range held {
		y := sort.SearchStrings(m.classes, e.Category)
		if y == len(m.classes) || m.classes[y] != e.Category {
			continue // a category the first model never saw
		}
		z := make([]float64, len(m.classes))
		m.logits(m.vocab.vector(terms(e.Text, m.opts)), 1, z)
		data = append(data, obs{z, y})
	}
	if len(data) == 0 {
		return 1
	}
	p := make([]float64, len(m.classes))
	loss := func(logT float64) float64 {
		t := math.Exp(logT)
		var l float64
		for _, d := range data {
			for c := range p {
				p[c] = d.z[c] / t
			}
			softmax(p)
			l -= math.Log(math.Max(p[d.y], 1e-300))
		}
		return l
	}
	lo, hi := math.Log(0.05), math.Log(20.0)
	g := (math.Sqrt(5) - 1) / 2
	a, b := hi-g*(hi-lo), lo+g*(hi-lo)
	fa, fb := loss(a), loss(b)
	for range 40 {
		if fa < fb {
			hi, b, fb = b, a, fa
			a = hi - g*(hi-lo)
			fa = loss(a)
		} else {
			lo, a, fa = a, b, fb
			b = lo + g*(hi-lo)
			fb = loss(b)
		}
	}
	return math.Exp((lo + hi) / 2)
}

func train(examples []Example, o Options) (*Model, error) {
	docs := make([]map[string]int, len(examples))
	classOf := map[string]int{}
	for i, e := range examples {
		docs[i] = terms(e.Text, o)
		classOf[e.Category] = 0
	}
	classes := make([]string, 0, len(classOf))
	for c := range classOf {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	for i, c := range classes {
		classOf[c] = i
	}
	m := &Model{opts: o, vocab: buildVocab(docs, o), classes: classes, temp: 1}
	xs := make([]sparse, len(docs))
	ys := make([]int, len(docs))
	for i, d := range docs {
		xs[i] = m.vocab.vector(d)
		ys[i] = classOf[examples[i].Category]
	}
	m.fit(xs, ys)
	return m, nil
}

// fit runs SGD on the softmax loss with L2 decay applied lazily through a
// global scale (w = scale * stored).
func (m *Model) fit(xs []sparse, ys []int) {
	o := m.opts
	C := len(m.classes)
	m.w = make([]float32, len(m.vocab.idf)*C)
	m.b = make([]float32, C)
	rng := rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	z := make([]float64, C)
	active := make([]int, 0, C)
	scale := 1.0
	t := 0
	total := o.Epochs * len(xs)
	for range o.Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			lr := o.Rate * (1 - float64(t)/float64(total)) // linear decay to 0
			t++
			x := xs[i]
			m.logits(x, scale, z)
			softmax(z)
			z[ys[i]] -= 1 // gradient of the loss with respect to the logits
			scale *= 1 - lr*o.L2
			step := lr / scale
			// Only the classes with a gradient worth applying: after the
			// first epoch most probabilities are ~0 and their updates no-ops.
			active = active[:0]
			for c, g := range z {
				if math.Abs(g) > 1e-4 {
					active = append(active, c)
				}
			}
			for k, j := range x.idx {
				row := m.w[int(j)*C : int(j)*C+C]
				xv := step * float64(x.val[k])
				for _, c := range active {
					row[c] -= float32(xv * z[c])
				}
			}
			for c := range m.b {
				m.b[c] -= float32(lr * z[c])
			}
			if scale < 1e-6 { // fold the scale back into the weights
				for k := range m.w {
					m.w[k] *= float32(scale)
				}
				scale = 1
			}
		}
	}
	for k := range m.w {
		m.w[k] *= float32(scale)
	}
}

func (m *Model) logits(x sparse, scale float64, z []float64) {
	C := len(m.classes)
	for c := range z {
		z[c] = 0
	}
	for k, j := range x.idx {
		row := m.w[int(j)*C : int(j)*C+C]
		xv := float64(x.val[k])
		for c, w := range row {
			z[c] += float64(w) * xv
		}
	}
	for c := range z {
		z[c] = z[c]*scale + float64(m.b[c])
	}
}

func softmax(z []float64) {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = math.Max(mx, v)
	}
	var sum float64
	for i, v := range z {
		z[i] = math.Exp(v - mx)
		sum += z[i]
	}
	for i := range z {
		z[i] /= sum
	}
}

// Classes are the categories the model knows, sorted.
func (m *Model) Classes() []string { return m.classes }

// Probabilities returns the probability of each class (in Classes order).
func (m *Model) Probabilities(text string) []float64 {
	z := make([]float64, len(m.classes))
	m.logits(m.vocab.vector(terms(text, m.opts)), 1, z)
	for c := range z {
		z[c] /= m.temp
	}
	softmax(z)
	return z
}

// Suggest returns the most likely category and its probability.
func (m *Model) Suggest(text string) Suggestion {
	p := m.Probabilities(text)
	best := 0
	for c := range p {
		if p[c] > p[best] {
			best = c
		}
	}
	return Suggestion{Category: m.classes[best], Confidence: p[best]}
}
