package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// sharedData returns a folder under ../shared/data, or skips the test
// when it is absent (unless FLARE_TEST_REQUIRE_SHARED=1).
func sharedData(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "data", name)
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("FLARE_TEST_REQUIRE_SHARED") == "1" {
			t.Fatalf("shared data required: %v", err)
		}
		t.Skipf("shared data absent (%v)", err)
	}
	return dir
}

// scores parses "standard=… reward_low_FP_rate=… reward_low_FN_rate=…".
func scores(t *testing.T, line string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, f := range strings.Fields(line) {
		k, v, ok := strings.Cut(f, "=")
		x, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			t.Fatalf("bad score line %q", line)
		}
		out[k] = x
	}
	if len(out) != 3 {
		t.Fatalf("score line %q: want three profiles", line)
	}
	return out
}

// The published detectors' folders score as NAB published them, at
// NAB's thresholds.
func TestCLINABScorePublished(t *testing.T) {
	d := sharedData(t, "nab")
	out := flare(t, "", false, "detect", "nab-score", "--results", filepath.Join(d, "results", "numenta"),
		"--labels", filepath.Join(d, "labels", "combined_windows.json"), "--thresholds", filepath.Join(d, "config", "thresholds.json"))
	if got := lastLine(out); got != "standard=70.101 reward_low_FP_rate=63.117 reward_low_FN_rate=74.320" {
		t.Errorf("numenta: %s", got)
	}
}

// Flare's detector over the whole NAB corpus, one parameter set, scored
// with an optimised threshold: at least 60 on the standard profile.
func TestCLINABPipeline(t *testing.T) {
	d := sharedData(t, "nab")
	out := t.TempDir()
	run := flare(t, "", false, "detect", "nab-run", "--data", filepath.Join(d, "data"), "--out", out)
	t.Log(strings.TrimSpace(run))
	if _, err := os.Stat(filepath.Join(out, "realKnownCause", "flare_nyc_taxi.csv")); err != nil {
		t.Fatal(err)
	}
	res := flare(t, "", false, "detect", "nab-score", "--results", out, "--labels", filepath.Join(d, "labels", "combined_windows.json"))
	t.Log(strings.TrimSpace(res))
	s := scores(t, lastLine(res))
	if s["standard"] < 60 {
		t.Errorf("standard profile %.3f, want at least 60", s["standard"])
	}
}

func TestCLIClassifyEval(t *testing.T) {
	dir := t.TempDir()
	train, test := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
	if err := os.WriteFile(train, []byte("text,category\nparcel not arrived,delivery\nwhere is my package,delivery\n"+
		"charged twice,billing\nrefund missing,billing\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(test, []byte("text,category\nmy package has not arrived,delivery\nI was charged twice,billing\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := lastLine(flare(t, "", false, "classify", "eval", "--train", train, "--test", test)); got != "accuracy=1.0000 macro_f1=1.0000" {
		t.Errorf("eval: %s", got)
	}
	flare(t, "", true, "classify", "eval", "--train", train)
}

// BANKING77: a stratified fifth held out of train.csv, trained on the
// rest, reaches 0.85 accuracy well within a minute.
func TestCLIClassifyBanking77(t *testing.T) {
	d := sharedData(t, "banking77")
	dir := t.TempDir()
	train, test := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
	flare(t, "", false, "classify", "split", "--data", filepath.Join(d, "train.csv"), "--train-out", train, "--test-out", test)
	out := flare(t, "", false, "classify", "eval", "--train", train, "--test", test)
	t.Log(strings.TrimSpace(out))
	acc, err := strconv.ParseFloat(strings.TrimPrefix(strings.Fields(lastLine(out))[0], "accuracy="), 64)
	if err != nil {
		t.Fatal(err)
	}
	if acc < 0.85 {
		t.Errorf("accuracy %.4f, want at least 0.85", acc)
	}
}
