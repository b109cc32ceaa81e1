package detect

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

func TestSortedWindowMedianAndMAD(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{1, 2, 3, 10, 101} {
		w := newSortedWindow(n)
		var last []float64
		for step := range 500 {
			v := math.Round(rng.NormFloat64() * 5) // ties on purpose
			if step%7 == 0 {
				v = rng.ExpFloat64() * 100
			}
			w.push(v)
			last = append(last, v)
			if len(last) > n {
				last = last[1:]
			}
			s := append([]float64(nil), last...)
			sort.Float64s(s)
			med := quantileSorted(s, 0.5)
			if got := w.quantile(0.5); got != med {
				t.Fatalf("n=%d step %d: median %v, want %v", n, step, got, med)
			}
			dev := make([]float64, len(s))
			for i, x := range s {
				dev[i] = math.Abs(x - med)
			}
			sort.Float64s(dev)
			if got, want := w.mad(med), quantileSorted(dev, 0.5); math.Abs(got-want) > 1e-9 {
				t.Fatalf("n=%d step %d: MAD %v, want %v", n, step, got, want)
			}
		}
	}
}

func TestSlidingMax(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	m := newSlidingMax(17)
	var last []float64
	for range 1000 {
		v := rng.Float64()
		m.push(v)
		last = append(last, v)
		if len(last) > 17 {
			last = last[1:]
		}
		want := math.Inf(-1)
		for _, x := range last {
			want = math.Max(want, x)
		}
		if m.max() != want {
			t.Fatalf("max %v, want %v", m.max(), want)
		}
		if len(m.vals) > 17 || cap(m.vals) > 4*17+16 {
			t.Fatalf("deque holds %d (capacity %d), want bounded", len(m.vals), cap(m.vals))
		}
	}
}
