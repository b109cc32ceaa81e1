// Command casepage measures the case page (GET /cases/{n}, rendered for a
// signed-in agent: timeline, seller panel, macros, owners' loads) of a
// `flare demo` desk against a baseline measured in the same run on the
// same cases: the API's read of the case (GET /api/v1/cases/{n}). It
// reports p50/p99 of each and their ratio. See bench/BENCHMARKS.md.
//
//	go build -o /tmp/flare ./cmd/flare && go run ./bench/casepage -bin /tmp/flare -requests 2000
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"time"
)

func main() {
	bin := flag.String("bin", "", "the flare binary (required)")
	addr := flag.String("addr", "127.0.0.1:18461", "where the demo listens")
	cases := flag.Int("cases", 1000, "demo cases (--cases)")
	requests := flag.Int("requests", 2000, "requests per measurement")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "casepage: -bin is required")
		os.Exit(2)
	}
	if err := run(*bin, *addr, *cases, *requests); err != nil {
		fmt.Fprintln(os.Stderr, "casepage:", err)
		os.Exit(1)
	}
}

var tokenRe = regexp.MustCompile(`TOKEN=(flr_[A-Za-z0-9_-]+)`)

func run(bin, addr string, n, requests int) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "demo", "--addr", addr, "--cases", fmt.Sprint(n))
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	token, loaded := "", false
	sc := bufio.NewScanner(out)
	for !loaded && sc.Scan() {
		if m := tokenRe.FindStringSubmatch(sc.Text()); m != nil {
			token = m[1]
		}
		loaded = strings.HasPrefix(sc.Text(), "Demo desk loaded")
	}
	if !loaded || token == "" {
		return errors.New("the demo did not load")
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	base := "http://" + addr

	// An agent signed in, as in the README's first five minutes.
	jar, _ := cookiejar.New(nil)
	web := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{
		"email": {"priya.shah@larkspur.example"}, "password": {"flare-demo-2026"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	if resp, err := web.Do(req); err != nil || resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("sign in: %v %v", err, resp)
	}
	api := &http.Client{Timeout: 10 * time.Second}

	// The same random cases for both; both read alternately so that they
	// see the same machine.
	r := rand.New(rand.NewPCG(1, 2))
	var page, read []time.Duration
	for i := 0; len(page) < requests; i++ {
		num := fmt.Sprintf("ESC-%d", 1+r.IntN(n))
		pr, _ := http.NewRequest("GET", base+"/cases/"+num, nil)
		ar, _ := http.NewRequest("GET", base+"/api/v1/cases/"+num, nil)
		ar.Header.Set("Authorization", "Bearer "+token)
		dp, sp, err := timed(web, pr)
		if err != nil {
			return err
		}
		da, sa, err := timed(api, ar)
		if err != nil {
			return err
		}
		if sp != 200 && sp != 404 || sa != 200 && sa != 404 {
			return fmt.Errorf("%s: page %d, api %d", num, sp, sa)
		}
		// The first 50 warm up; a case of a team the agent is not in is a
		// 404 page and is left out of both.
		if i >= 50 && sp == 200 && sa == 200 {
			page, read = append(page, dp), append(read, da)
		}
	}
	p50p, p99p := pct(page, 50), pct(page, 99)
	p50a, p99a := pct(read, 50), pct(read, 99)
	fmt.Printf("demo desk of %d cases, %d case pages read as an agent\n", n, len(page))
	fmt.Printf("  baseline GET /api/v1/cases/{n}  p50 %6.2f ms  p99 %6.2f ms\n", ms(p50a), ms(p99a))
	fmt.Printf("  case page GET /cases/{n}        p50 %6.2f ms  p99 %6.2f ms\n", ms(p50p), ms(p99p))
	fmt.Printf("  ratio page/API                  p50 %6.2f×    p99 %6.2f×\n", ms(p50p)/ms(p50a), ms(p99p)/ms(p99a))
	return nil
}

func timed(c *http.Client, req *http.Request) (time.Duration, int, error) {
	t0 := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return time.Since(t0), resp.StatusCode, nil
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
