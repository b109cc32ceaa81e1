package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"time"

	"github.com/flare-desk/flare/internal/classify"
	"github.com/flare-desk/flare/internal/detect"
	"github.com/flare-desk/flare/internal/detect/nab"
)

// cmdAnalytics runs the offline detection and classification commands:
// flare detect nab-run|nab-score, flare classify eval|cv|split.
func cmdAnalytics(ctx context.Context, cmd string, args []string, stdout io.Writer) error {
	sub := ""
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	switch cmd + " " + sub {
	case "detect nab-run":
		return cmdNABRun(ctx, args, stdout)
	case "detect nab-score":
		return cmdNABScore(args, stdout)
	case "classify eval":
		return cmdClassifyEval(args, stdout)
	case "classify cv":
		return cmdClassifyCV(args, stdout)
	case "classify split":
		return cmdClassifySplit(args, stdout)
	}
	return usageError{fmt.Sprintf("unknown command %q", joinArgs(cmd, sub))}
}

func required(flags map[string]*string) error {
	for name, v := range flags {
		if *v == "" {
			return usageError{"--" + name + " is required"}
		}
	}
	return nil
}

// cmdNABRun runs Flare's detector over every series of a NAB-layout data
// folder, one series after another on one goroutine, and writes NAB-layout
// result files.
func cmdNABRun(ctx context.Context, args []string, stdout io.Writer) error {
	fs, _ := newFlags("detect nab-run", stdout)
	data := fs.String("data", "", "NAB-layout data folder: <category>/<file>.csv with timestamp,value")
	out := fs.String("out", "", "results folder: <category>/flare_<file>.csv is written")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if err := required(map[string]*string{"data": data, "out": out}); err != nil {
		return err
	}
	fsys := os.DirFS(*data)
	names, err := nab.DataFiles(fsys)
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	if len(names) == 0 {
		return fmt.Errorf("detect: no <category>/<file>.csv under %s", *data)
	}
	var points int
	var busy time.Duration
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := fsys.Open(name)
		if err != nil {
			return fmt.Errorf("detect: %w", err)
		}
		t, err := nab.ReadColumn(f, "value")
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		start := time.Now()
		d := detect.New(detect.DefaultParams())
		scores := make([]float64, len(t.Values))
		for i, v := range t.Values {
			scores[i] = d.Update(t.Times[i], v)
		}
		busy += time.Since(start)
		points += len(scores)
		dir, base := path.Split(name)
		if err := writeNABResult(filepath.Join(*out, filepath.FromSlash(dir), "flare_"+base), t, scores); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "files=%d points=%d detector_seconds=%.3f points_per_second=%.0f\n",
		len(names), points, busy.Seconds(), float64(points)/busy.Seconds())
	return nil
}

func writeNABResult(file string, t nab.Table, scores []float64) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	w := bufio.NewWriter(f)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"timestamp", "value", "anomaly_score"})
	for i := range scores {
		_ = cw.Write([]string{t.Times[i].Format("2006-01-02 15:04:05"),
			strconv.FormatFloat(t.Values[i], 'g', -1, 64), strconv.FormatFloat(scores[i], 'g', 10, 64)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		f.Close()
		return fmt.Errorf("detect: %s: %w", file, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("detect: %s: %w", file, err)
	}
	return f.Close()
}

// cmdNABScore scores a detector's NAB-layout results folder: one
// threshold optimised over the corpus per profile (or the published ones
// with --thresholds), the normalised scores on the last line.
func cmdNABScore(args []string, stdout io.Writer) error {
	fs, _ := newFlags("detect nab-score", stdout)
	results := fs.String("results", "", "a detector's results folder: <category>/<detector>_<file>.csv with anomaly_score")
	labels := fs.String("labels", "", "NAB's combined_windows.json")
	thresholdsFile := fs.String("thresholds", "", "optional: NAB's config/thresholds.json, to score at the published thresholds instead of optimising")
	detector := fs.String("detector", "", "the detector's name in --thresholds (default: the results folder's name)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if err := required(map[string]*string{"results": results, "labels": labels}); err != nil {
		return err
	}
	lf, err := os.Open(*labels)
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	windows, err := nab.ReadWindows(lf)
	lf.Close()
	if err != nil {
		return err
	}
	var fixed map[string]float64
	if *thresholdsFile != "" {
		tf, err := os.Open(*thresholdsFile)
		if err != nil {
			return fmt.Errorf("detect: %w", err)
		}
		all, err := nab.ReadThresholds(tf)
		tf.Close()
		if err != nil {
			return err
		}
		name := *detector
		if name == "" {
			name = filepath.Base(filepath.Clean(*results))
		}
		if fixed = all[name]; fixed == nil {
			return usageError{fmt.Sprintf("--thresholds has no detector %q (set --detector)", name)}
		}
	}
	files, err := nab.ReadResults(os.DirFS(*results), windows)
	if err != nil {
		return err
	}
	res, err := nab.Corpus{Files: files, Windows: windows}.ScoreAt(nab.Profiles(), fixed)
	if err != nil {
		return err
	}
	last := ""
	for _, r := range res {
		fmt.Fprintf(stdout, "%-18s threshold=%.6f raw=%.3f windows_detected=%d tp_rows=%d fp_rows=%d\n",
			r.Profile.Name, r.Best.Threshold, r.Best.Score, r.Best.Detected, r.Best.TP, r.Best.FP)
		if last != "" {
			last += " "
		}
		last += fmt.Sprintf("%s=%.3f", r.Profile.Name, r.Normalized)
	}
	fmt.Fprintln(stdout, last)
	return nil
}

func readExamples(file string) ([]classify.Example, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("classify: %w", err)
	}
	defer f.Close()
	ex, err := classify.ReadCSV(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return ex, nil
}

// cmdClassifyEval trains on one labelled file and scores the predictions
// on another.
func cmdClassifyEval(args []string, stdout io.Writer) error {
	fs, _ := newFlags("classify eval", stdout)
	trainFile := fs.String("train", "", "CSV with a text,category header to train on")
	testFile := fs.String("test", "", "CSV with a text,category header to predict")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if err := required(map[string]*string{"train": trainFile, "test": testFile}); err != nil {
		return err
	}
	train, err := readExamples(*trainFile)
	if err != nil {
		return err
	}
	test, err := readExamples(*testFile)
	if err != nil {
		return err
	}
	start := time.Now()
	m, err := classify.Train(train, classify.DefaultOptions())
	if err != nil {
		return err
	}
	took := time.Since(start)
	met := m.Evaluate(test)
	fmt.Fprintf(stdout, "train=%d test=%d categories=%d train_seconds=%.2f calibration_error=%.4f\n",
		len(train), met.N, len(m.Classes()), took.Seconds(), m.CalibrationError(test))
	fmt.Fprintf(stdout, "accuracy=%.4f macro_f1=%.4f\n", met.Accuracy, met.MacroF1)
	return nil
}

// cmdClassifyCV cross-validates on one labelled file (stratified folds).
func cmdClassifyCV(args []string, stdout io.Writer) error {
	fs, _ := newFlags("classify cv", stdout)
	data := fs.String("data", "", "CSV with a text,category header")
	k := fs.Int("folds", 5, "number of stratified folds")
	seed := fs.Uint64("seed", 7, "seed of the fold assignment")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if err := required(map[string]*string{"data": data}); err != nil {
		return err
	}
	if *k < 2 {
		return usageError{"--folds must be at least 2"}
	}
	ex, err := readExamples(*data)
	if err != nil {
		return err
	}
	folds := classify.Folds(ex, *k, *seed)
	var acc, f1 float64
	for i := range folds {
		var train []classify.Example
		for j, f := range folds {
			if j != i {
				train = append(train, f...)
			}
		}
		start := time.Now()
		m, err := classify.Train(train, classify.DefaultOptions())
		if err != nil {
			return err
		}
		met := m.Evaluate(folds[i])
		fmt.Fprintf(stdout, "fold=%d train=%d test=%d train_seconds=%.2f accuracy=%.4f macro_f1=%.4f\n",
			i, len(train), met.N, time.Since(start).Seconds(), met.Accuracy, met.MacroF1)
		acc += met.Accuracy
		f1 += met.MacroF1
	}
	fmt.Fprintf(stdout, "accuracy=%.4f macro_f1=%.4f\n", acc/float64(*k), f1/float64(*k))
	return nil
}

// cmdClassifySplit writes one stratified fold of a labelled file as the
// test file and the rest as the training file, for classify eval.
func cmdClassifySplit(args []string, stdout io.Writer) error {
	fs, _ := newFlags("classify split", stdout)
	data := fs.String("data", "", "CSV with a text,category header")
	trainOut := fs.String("train-out", "", "training file to write")
	testOut := fs.String("test-out", "", "held-out file to write")
	k := fs.Int("folds", 5, "the held-out part is one fold of this many")
	seed := fs.Uint64("seed", 7, "seed of the fold assignment")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if err := required(map[string]*string{"data": data, "train-out": trainOut, "test-out": testOut}); err != nil {
		return err
	}
	if *k < 2 {
		return usageError{"--folds must be at least 2"}
	}
	ex, err := readExamples(*data)
	if err != nil {
		return err
	}
	folds := classify.Folds(ex, *k, *seed)
	var train []classify.Example
	for _, f := range folds[1:] {
		train = append(train, f...)
	}
	for file, es := range map[string][]classify.Example{*trainOut: train, *testOut: folds[0]} {
		if err := writeExamples(file, es); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "train=%d test=%d\n", len(train), len(folds[0]))
	return nil
}

func writeExamples(file string, es []classify.Example) error {
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("classify: %w", err)
	}
	cw := csv.NewWriter(f)
	_ = cw.Write([]string{"text", "category"})
	for _, e := range es {
		_ = cw.Write([]string{e.Text, e.Category})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		f.Close()
		return fmt.Errorf("classify: %s: %w", file, err)
	}
	return f.Close()
}
