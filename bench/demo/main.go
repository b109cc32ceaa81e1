// Command demo measures how soon `flare demo` answers (the first 200 from
// /readyz) and how soon its desk is fully loaded (the "loaded" line it
// prints), for a built binary — the figures a newcomer waits for. See
// bench/BENCHMARKS.md.
//
//	go build -o /tmp/flare ./cmd/flare && go run ./bench/demo -bin /tmp/flare -runs 5
//
// With -baseline BIN (a build of an earlier commit) the two binaries run
// alternately, so that both see the same machine. Every run also starts
// `flare serve` on an empty store: the time that takes to answer (process
// start and migrations) is the floor any demo start sits on.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	bin := flag.String("bin", "", "the flare binary to measure (required)")
	baseline := flag.String("baseline", "", "another flare binary to measure alternately (e.g. an earlier commit)")
	runs := flag.Int("runs", 3, "starts per binary")
	cases := flag.Int("cases", 1000, "demo cases (--cases)")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "demo: -bin is required")
		os.Exit(2)
	}
	if err := run(context.Background(), *bin, *baseline, *runs, *cases); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

type sample struct {
	ready, loaded time.Duration
	cpu           float64 // seconds of CPU the process used until loaded (Linux; -1 elsewhere)
	load          string  // the 1-minute load average when it was loaded
}

func run(ctx context.Context, bin, baseline string, runs, cases int) error {
	bins := []string{bin}
	if baseline != "" {
		bins = append(bins, baseline)
	}
	got := map[string][]sample{}
	var floor []time.Duration
	for i := range runs {
		for _, b := range bins {
			s, err := startDemo(ctx, b, cases)
			if err != nil {
				return fmt.Errorf("%s: %w", b, err)
			}
			fmt.Printf("run %d %-28s first answer %6.2f s  fully loaded %6.2f s  cpu %5.1f s  load %s\n",
				i+1, filepath.Base(b), s.ready.Seconds(), s.loaded.Seconds(), s.cpu, s.load)
			got[b] = append(got[b], s)
		}
		f, err := startServe(ctx, bin)
		if err != nil {
			return err
		}
		floor = append(floor, f)
	}
	fmt.Printf("\nmedians over %d runs, %d cases:\n", runs, cases)
	fmt.Printf("  flare serve on an empty store answers after %.2f s (the floor)\n", median(floor).Seconds())
	for _, b := range bins {
		var ready, loaded []time.Duration
		var cpu []float64
		for _, s := range got[b] {
			ready, loaded, cpu = append(ready, s.ready), append(loaded, s.loaded), append(cpu, s.cpu)
		}
		slices.Sort(cpu)
		fmt.Printf("  %-28s first answer %.2f s, fully loaded %.2f s, cpu %.1f s\n",
			filepath.Base(b), median(ready).Seconds(), median(loaded).Seconds(), cpu[len(cpu)/2])
	}
	return nil
}

var urlRe = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+`)

// startDemo starts the demo on a free port and waits for both figures.
func startDemo(ctx context.Context, bin string, cases int) (sample, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, bin, "demo", "--addr", "127.0.0.1:0", "--cases", strconv.Itoa(cases))
	cmd.Env = append(os.Environ(), "FLARE_DB=") // a temporary store, whatever the caller's environment says
	out, err := cmd.StdoutPipe()
	if err != nil {
		return sample{}, err
	}
	if err := cmd.Start(); err != nil {
		return sample{}, err
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	var s sample
	urls := make(chan string, 1)
	loaded := make(chan sample, 1) // its loaded, cpu and load
	go func() {
		sc := bufio.NewScanner(out)
		sent := false
		for sc.Scan() {
			if u := urlRe.FindString(sc.Text()); u != "" && !sent {
				urls <- u
				sent = true
			}
			if strings.Contains(sc.Text(), "loaded") {
				loaded <- sample{loaded: time.Since(start), cpu: cpuSeconds(cmd.Process.Pid), load: loadAverage()}
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	// The old demo prints its URL only once loaded: poll /readyz on the
	// URL as soon as it is known, and keep reading the output meanwhile.
	var url string
	select {
	case url = <-urls:
	case <-ctx.Done():
		return s, errors.New("no URL printed")
	}
	for {
		if res, err := http.Get(url + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				s.ready = time.Since(start)
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case l := <-loaded:
		s.loaded, s.cpu, s.load = l.loaded, l.cpu, l.load
	case <-ctx.Done():
		return s, errors.New("the desk did not load")
	}
	if s.ready > s.loaded { // an old binary: it answered only once loaded
		s.ready = max(s.ready, s.loaded)
	}
	return s, nil
}

// startServe measures how soon `flare serve` on an empty store answers.
func startServe(ctx context.Context, bin string) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "flare-bench-serve-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, bin, "serve", "--addr", "127.0.0.1:18097", "--db", "sqlite:"+filepath.Join(dir, "f.db"))
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	for ctx.Err() == nil {
		if res, err := http.Get("http://127.0.0.1:18097/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0, errors.New("flare serve did not answer")
}

// cpuSeconds is the user and system CPU a process has used (Linux).
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return -1
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // clock ticks; 100 per second on Linux
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
