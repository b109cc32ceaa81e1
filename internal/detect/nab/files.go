package nab

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ParseTime reads NAB's timestamps ("2014-04-10 07:15:00" with optional
// fractional seconds), in UTC.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse("2006-01-02 15:04:05.999999999", strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("nab: timestamp %q: %w", s, err)
	}
	return t, nil
}

// ReadWindows reads a labels file in NAB's combined_windows.json format:
// file path → list of [start, end] pairs.
func ReadWindows(r io.Reader) (map[string][]Window, error) {
	var raw map[string][][2]string
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("nab: labels: %w", err)
	}
	out := make(map[string][]Window, len(raw))
	for name, pairs := range raw {
		ws := make([]Window, 0, len(pairs))
		for _, p := range pairs {
			s, err := ParseTime(p[0])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			e, err := ParseTime(p[1])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			ws = append(ws, Window{Start: s, End: e})
		}
		out[name] = ws
	}
	return out, nil
}

// Table is a CSV file with a header: its timestamps and the values of
// one numeric column.
type Table struct {
	Times  []time.Time
	Values []float64
}

// ReadColumn reads a CSV file with a header holding a timestamp column
// and the named numeric column.
func ReadColumn(r io.Reader, column string) (Table, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return Table{}, fmt.Errorf("nab: header: %w", err)
	}
	ti, vi := -1, -1
	for i, h := range head {
		switch strings.TrimSpace(h) {
		case "timestamp":
			ti = i
		case column:
			vi = i
		}
	}
	if ti < 0 || vi < 0 {
		return Table{}, fmt.Errorf("nab: header %q has no timestamp or %s column", strings.Join(head, ","), column)
	}
	var t Table
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return t, nil
		}
		if err != nil {
			return Table{}, fmt.Errorf("nab: %w", err)
		}
		ts, err := ParseTime(rec[ti])
		if err != nil {
			return Table{}, fmt.Errorf("line %d: %w", line, err)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rec[vi]), 64)
		if err != nil {
			return Table{}, fmt.Errorf("nab: line %d: %s: %w", line, column, err)
		}
		t.Times = append(t.Times, ts)
		t.Values = append(t.Values, v)
	}
}

// DataFiles lists the CSV files of a NAB-layout folder: <category>/<file>.csv,
// as slash paths relative to the folder, sorted.
func DataFiles(fsys fs.FS) ([]string, error) {
	var out []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.Count(p, "/") == 1 && strings.HasSuffix(p, ".csv") {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// ReadResults reads a detector's results folder in NAB's layout
// (<category>/<detector>_<file>.csv with an anomaly_score column) and
// matches each file to its labelled data file. Files matching no label
// (score tables, stray files) are ignored.
func ReadResults(fsys fs.FS, windows map[string][]Window) (map[string]File, error) {
	paths, err := DataFiles(fsys)
	if err != nil {
		return nil, fmt.Errorf("nab: results: %w", err)
	}
	out := map[string]File{}
	for _, p := range paths {
		name := labelFor(p, windows)
		if name == "" {
			continue
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("nab: results: two files for %s", name)
		}
		f, err := fsys.Open(p)
		if err != nil {
			return nil, fmt.Errorf("nab: results: %w", err)
		}
		t, err := ReadColumn(f, "anomaly_score")
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out[name] = File{Times: t.Times, Scores: t.Values}
	}
	return out, nil
}

// labelFor finds the labelled data file a result file belongs to:
// "realTweets/numenta_Twitter_volume_FB.csv" → "realTweets/Twitter_volume_FB.csv".
func labelFor(p string, windows map[string][]Window) string {
	dir, base := path.Split(p)
	for i := 0; i < len(base); i++ {
		if base[i] != '_' {
			continue
		}
		if name := dir + base[i+1:]; hasKey(windows, name) {
			return name
		}
	}
	return ""
}

func hasKey(windows map[string][]Window, name string) bool {
	_, ok := windows[name]
	return ok
}

// ReadThresholds reads NAB's config/thresholds.json: detector → profile →
// {threshold, score}. It returns each detector's threshold per profile.
func ReadThresholds(r io.Reader) (map[string]map[string]float64, error) {
	var raw map[string]map[string]struct {
		Threshold float64 `json:"threshold"`
	}
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("nab: thresholds: %w", err)
	}
	out := make(map[string]map[string]float64, len(raw))
	for det, profiles := range raw {
		out[det] = map[string]float64{}
		for p, v := range profiles {
			out[det][p] = v.Threshold
		}
	}
	return out, nil
}
