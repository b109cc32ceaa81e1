package detect_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/detect"
	"github.com/flare-desk/flare/internal/detect/nab"
)

func TestExperiment(t *testing.T) {
	if os.Getenv("EXP") == "" {
		t.Skip()
	}
	dir := "/work/shared/data/nab"
	wf, _ := os.Open(filepath.Join(dir, "labels", "combined_windows.json"))
	windows, _ := nab.ReadWindows(wf)
	p := detect.DefaultParams()
	if s := os.Getenv("PARAMS"); s != "" {
		if err := json.Unmarshal([]byte(s), &p); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]nab.File{}
	fsys := os.DirFS(filepath.Join(dir, "data"))
	names, _ := nab.DataFiles(fsys)
	start := time.Now()
	pts := 0
	for _, n := range names {
		f, _ := fsys.Open(n)
		tb, err := nab.ReadColumn(f, "value")
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		d := detect.New(p)
		sc := make([]float64, len(tb.Values))
		for i := range sc {
			sc[i] = d.Update(tb.Times[i], tb.Values[i])
		}
		pts += len(sc)
		files[n] = nab.File{Times: tb.Times, Scores: sc}
	}
	el := time.Since(start)
	res, err := nab.Corpus{Files: files, Windows: windows}.Score(nab.Profiles())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%.0f pts/s  ", float64(pts)/el.Seconds())
	for _, r := range res {
		fmt.Printf("%s=%.2f (th %.3f det %d fp %d) ", r.Profile.Name, r.Normalized, r.Best.Threshold, r.Best.Detected, r.Best.FP)
	}
	fmt.Println()
	if os.Getenv("PERFILE") != "" {
		std := res[0].Best.Threshold
		id := 0
		for _, n := range sortedKeys(windows) {
			rows, _ := nab.Sweep(files[n], windows[n], 0)
			o := nab.At(nab.ByThreshold(rows, len(windows[n]), nab.Profiles()[0]), std)
			fmt.Printf("%-60s win %d det %d fp %d score %.2f\n", n, len(windows[n]), o.Detected, o.FP, o.Score)
			id++
		}
	}
	_ = strings.Join
}

func sortedKeys(m map[string][]nab.Window) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	for i := range k {
		for j := i + 1; j < len(k); j++ {
			if k[j] < k[i] {
				k[i], k[j] = k[j], k[i]
			}
		}
	}
	return k
}
