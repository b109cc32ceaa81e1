package live

import (
	"testing"
	"time"
)

// A transaction that took seq 3 commits after the one that took 4: the
// tail reads 4, keeps looking from 2 for the hole, and delivers 3 once.
// A hole that never fills (a rolled-back seq) is given up after the gap.
func TestTailHoles(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	tl := newTail(2, 5*time.Second)
	if !tl.take(4, t0) {
		t.Fatal("4 is new")
	}
	tl.settle(t0)
	if tl.from() != 2 {
		t.Fatalf("from = %d, want 2 while 3 is awaited", tl.from())
	}
	if tl.take(4, t0.Add(time.Second)) {
		t.Fatal("4 delivered twice")
	}
	if !tl.take(3, t0.Add(time.Second)) {
		t.Fatal("3 arrived late and is new")
	}
	tl.settle(t0.Add(time.Second))
	if tl.from() != 4 {
		t.Fatalf("from = %d, want 4", tl.from())
	}
	if !tl.take(6, t0.Add(2*time.Second)) { // 5 rolled back
		t.Fatal("6 is new")
	}
	tl.settle(t0.Add(3 * time.Second))
	if tl.from() != 4 {
		t.Fatalf("from = %d, want 4 within the gap", tl.from())
	}
	tl.settle(t0.Add(8 * time.Second))
	if tl.from() != 6 || len(tl.above) != 0 || len(tl.holes) != 0 {
		t.Fatalf("after the gap: from %d, above %v, holes %v", tl.from(), tl.above, tl.holes)
	}
	if tl.take(5, t0.Add(9*time.Second)) {
		t.Fatal("a seq below from is not new")
	}
}

func TestDup(t *testing.T) {
	s := &Sub{}
	if s.dup("a") || !s.dup("a") || s.dup("") || s.dup("") {
		t.Fatal("dup: the first is new, the second a copy; no id is never a copy")
	}
	for i := range 300 {
		s.dup(string(rune('A' + i)))
	}
	if len(s.seen) > 256 {
		t.Fatalf("seen grows without bound: %d", len(s.seen))
	}
}
