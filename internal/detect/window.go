package detect

import (
	"math"
	"sort"
)

// ring is a fixed-capacity window of the most recent values.
type ring struct {
	buf  []float64
	next int
	full bool
}

func newRing(n int) *ring { return &ring{buf: make([]float64, n)} }

// push adds v and returns the value it evicted (ok false while filling).
func (r *ring) push(v float64) (old float64, ok bool) {
	old, ok = r.buf[r.next], r.full
	r.buf[r.next] = v
	r.next++
	if r.next == len(r.buf) {
		r.next, r.full = 0, true
	}
	return old, ok
}

func (r *ring) len() int {
	if r.full {
		return len(r.buf)
	}
	return r.next
}

// ago returns the value k steps back (0: the latest); ok false when the
// window does not reach that far.
func (r *ring) ago(k int) (float64, bool) {
	if k >= r.len() {
		return 0, false
	}
	i := r.next - 1 - k
	if i < 0 {
		i += len(r.buf)
	}
	return r.buf[i], true
}

// sortedWindow keeps the last n values both in arrival order and sorted,
// for medians and quantiles over a sliding window in O(n) per update.
type sortedWindow struct {
	r      *ring
	sorted []float64
}

func newSortedWindow(n int) *sortedWindow {
	return &sortedWindow{r: newRing(n), sorted: make([]float64, 0, n)}
}

func (w *sortedWindow) push(v float64) {
	if old, ok := w.r.push(v); ok {
		i := sort.SearchFloat64s(w.sorted, old)
		w.sorted = append(w.sorted[:i], w.sorted[i+1:]...)
	}
	i := sort.SearchFloat64s(w.sorted, v)
	w.sorted = append(w.sorted, 0)
	copy(w.sorted[i+1:], w.sorted[i:])
	w.sorted[i] = v
}

func (w *sortedWindow) len() int { return len(w.sorted) }

// quantile returns the q-quantile (linear interpolation) of the window.
func (w *sortedWindow) quantile(q float64) float64 {
	return quantileSorted(w.sorted, q)
}

func quantileSorted(s []float64, q float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	f := pos - float64(i)
	return s[i]*(1-f) + s[i+1]*f
}

// mad is the median absolute deviation around m. The deviations of the
// sorted values below m and of those above it are two sorted runs; their
// middle is found by bisection in O(log n).
func (w *sortedWindow) mad(m float64) float64 {
	s := w.sorted
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	j := sort.SearchFloat64s(s, m)
	below := func(i int) float64 { return m - s[j-1-i] } // i-th smallest deviation below m
	above := func(i int) float64 { return s[j+i] - m }
	kth := func(k int) float64 { // k-th smallest deviation, from 0
		na, nb := j, n-j
		lo, hi := max(0, k+1-nb), min(k+1, na)
		for lo < hi { // find how many of the k+1 smallest lie below m
			i := (lo + hi) / 2
			if below(i) < above(k-i) {
				lo = i + 1
			} else {
				hi = i
			}
		}
		i := lo
		v := math.Inf(-1)
		if i > 0 {
			v = below(i - 1)
		}
		if k-i >= 0 && k-i < nb {
			v = math.Max(v, above(k-i))
		}
		return v
	}
	if n%2 == 1 {
		return kth(n / 2)
	}
	return (kth(n/2-1) + kth(n/2)) / 2
}

// slidingMax is the maximum of the last n values pushed (a monotonic
// deque: O(1) amortised per push, at most n entries).
type slidingMax struct {
	n    int
	t    int
	idx  []int
	vals []float64
}

func newSlidingMax(n int) *slidingMax { return &slidingMax{n: n} }

func (m *slidingMax) push(v float64) {
	m.t++
	for len(m.vals) > 0 && m.vals[len(m.vals)-1] <= v {
		m.vals, m.idx = m.vals[:len(m.vals)-1], m.idx[:len(m.idx)-1]
	}
	m.vals, m.idx = append(m.vals, v), append(m.idx, m.t)
	for m.idx[0] <= m.t-m.n {
		m.vals, m.idx = m.vals[1:], m.idx[1:]
	}
	if cap(m.vals) > 4*m.n+16 { // keep the backing arrays bounded
		m.vals, m.idx = append([]float64(nil), m.vals...), append([]int(nil), m.idx...)
	}
}

// max returns the window's maximum, or -Inf when empty.
func (m *slidingMax) max() float64 {
	if len(m.vals) == 0 {
		return math.Inf(-1)
	}
	return m.vals[0]
}
