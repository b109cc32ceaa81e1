package nab_test

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/detect/nab"
)

// sharedNAB returns the shared NAB folder, or skips the test when it is
// absent (unless FLARE_TEST_REQUIRE_SHARED=1).
func sharedNAB(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "..", "shared", "data", "nab")
	if _, err := os.Stat(filepath.Join(dir, "labels", "combined_windows.json")); err != nil {
		if os.Getenv("FLARE_TEST_REQUIRE_SHARED") == "1" {
			t.Fatalf("shared NAB data required: %v", err)
		}
		t.Skipf("shared NAB data absent (%v)", err)
	}
	return dir
}

func readWindows(t *testing.T, dir string) map[string][]nab.Window {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "labels", "combined_windows.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := nab.ReadWindows(f)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// Rescoring the published raw results reproduces NAB's published final
// scores: the scorer is faithful to NAB's method.
func TestRescorePublishedResults(t *testing.T) {
	dir := sharedNAB(t)
	windows := readWindows(t, dir)
	tf, err := os.Open(filepath.Join(dir, "config", "thresholds.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer tf.Close()
	thresholds, err := nab.ReadThresholds(tf)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		detector string
		want     [3]float64
	}{
		{"numenta", [3]float64{70.101, 63.117, 74.320}},
		{"twitterADVec", [3]float64{47.062, 33.610, 53.501}},
	} {
		files, err := nab.ReadResults(os.DirFS(filepath.Join(dir, "results", tc.detector)), windows)
		if err != nil {
			t.Fatal(err)
		}
		res, err := nab.Corpus{Files: files, Windows: windows}.ScoreAt(nab.Profiles(), thresholds[tc.detector])
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			t.Logf("%s %s: threshold %.6f raw %.4f normalized %.4f (TP rows %d, FP rows %d, windows %d)",
				tc.detector, r.Profile.Name, r.Best.Threshold, r.Best.Score, r.Normalized, r.Best.TP, r.Best.FP, r.Best.Detected)
			if math.Abs(r.Normalized-tc.want[i]) > 0.01 {
				t.Errorf("%s %s = %.4f, published %.3f", tc.detector, r.Profile.Name, r.Normalized, tc.want[i])
			}
		}
		// The exhaustive optimisation never does worse than the published thresholds.
		opt, err := nab.Corpus{Files: files, Windows: windows}.Score(nab.Profiles())
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range opt {
			if r.Normalized < tc.want[i]-0.01 {
				t.Errorf("%s %s optimised = %.4f, below the published %.3f", tc.detector, r.Profile.Name, r.Normalized, tc.want[i])
			}
		}
	}
}

func TestSweepWeights(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 100
	f := nab.File{Times: make([]time.Time, n), Scores: make([]float64, n)}
	for i := range f.Times {
		f.Times[i] = start.Add(time.Duration(i) * time.Minute)
	}
	w := []nab.Window{{Start: f.Times[50], End: f.Times[59]}}
	rows, err := nab.Sweep(f, w, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != n-nab.ProbationLength(n) {
		t.Fatalf("%d rows, want %d after the probationary period", len(rows), n-15)
	}
	at := func(i int) nab.Row { return rows[i-15] }
	if r := at(20); r.Window != -1 || r.Weight != -1 {
		t.Errorf("row before any window: %+v, want a full false positive", r)
	}
	if r := at(50); r.Window != 0 || r.Weight != 1 {
		t.Errorf("window's first row: %+v, want the maximal weight", r)
	}
	if a, b := at(52).Weight, at(58).Weight; !(a > b && b > 0) {
		t.Errorf("earlier detections must weigh more: %v, %v", a, b)
	}
	if a, b := at(61).Weight, at(90).Weight; !(a < 0 && a > b && b == -1) {
		t.Errorf("false positives just after a window cost less: %v, %v", a, b)
	}
	// One early detection beats a late one; the perfect detector scores 100-ish.
	p := nab.Profiles()[0]
	early := append([]nab.Row(nil), rows...)
	for i := range early {
		if i+15 == 50 {
			early[i].Score = 1
		}
	}
	b := nab.Best(nab.ByThreshold(early, 1, p))
	if b.Detected != 1 || b.FP != 0 || nab.Normalize(b.Score, 1, p) < 99 {
		t.Errorf("perfect detection: %+v normalized %.2f", b, nab.Normalize(b.Score, 1, p))
	}
	if got := nab.Normalize(nab.Best(nab.ByThreshold(rows, 1, p)).Score, 1, p); got != 0 {
		t.Errorf("null detector normalized %v, want 0", got)
	}
}
