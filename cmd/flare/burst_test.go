package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
)

// runAsFlare makes the test binary run as flare itself, so that a test can
// start a real `flare serve` process without building one.
const runAsFlare = "FLARE_TEST_RUN_AS_FLARE"

func TestMain(m *testing.M) {
	if os.Getenv(runAsFlare) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Finding 1: 60 concurrent sign-ins with unknown emails took the server
// from 32 MB to 3.8 GiB (one unbounded 64 MiB argon2id hash each). Now a
// burst of 60 — unknown emails and wrong passwords, each from its own
// client behind a trusted proxy, so that no per-address limit helps — keeps
// the process under 512 MiB and healthy.
func TestLoginBurstKeepsServerSmallAndHealthy(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("reading the peak RSS needs /proc (Linux)")
	}
	dbtest.EachURL(t, func(t *testing.T, dbURL string) {
		deskFile := filepath.Join(t.TempDir(), "desk.yaml")
		if err := os.WriteFile(deskFile, desk.ExampleYAML, 0o644); err != nil {
			t.Fatal(err)
		}
		flare(t, "", false, "desk", "apply", deskFile, "--db", dbURL)
		const password = "the right passphrase"
		known := []string{"amelia.clarke@flare.example", "jonas.weber@flare.example", "marcus.reed@flare.example", "priya.shah@flare.example"}
		spare := "sophie.martin@flare.example" // signs in after the burst
		for _, email := range append(known, spare) {
			flare(t, password+"\n", false, "user", "passwd", "--email", email, "--db", dbURL)
		}

		base, pid := startServe(t, dbURL, "--trusted-proxies", "127.0.0.1", "--access-log", "off")
		start := peakRSS(t, pid)
		client := &http.Client{Timeout: 60 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		login := func(email, pw, from string) (*http.Response, error) {
			form := url.Values{"email": {email}, "password": {pw}}
			req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", from)
			res, err := client.Do(req)
			if err == nil {
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
			return res, err
		}

		var mu sync.Mutex
		statuses := map[int]int{}
		var wg sync.WaitGroup
		for i := range 60 {
			wg.Go(func() {
				email := fmt.Sprintf("nobody%d@example.com", i)
				if i%3 == 0 { // 20 wrong passwords, five for each known user
					email = known[i/3%len(known)]
				}
				res, err := login(email, fmt.Sprintf("wrong password %d", i), fmt.Sprintf("198.51.100.%d", i+1))
				if err != nil {
					t.Errorf("login %d: %v", i, err)
					return
				}
				switch res.StatusCode {
				case http.StatusUnauthorized:
				case http.StatusTooManyRequests, http.StatusServiceUnavailable:
					if res.Header.Get("Retry-After") == "" {
						t.Errorf("login %d: %d without Retry-After", i, res.StatusCode)
					}
				default:
					t.Errorf("login %d: status %d", i, res.StatusCode)
				}
				mu.Lock()
				statuses[res.StatusCode]++
				mu.Unlock()
			})
		}
		// Healthy while the burst runs.
		if res, err := client.Get(base + "/healthz"); err != nil || res.StatusCode != http.StatusOK {
			t.Errorf("/healthz during the burst: %v %v", res, err)
		}
		wg.Wait()
		peak := peakRSS(t, pid)
		t.Logf("60 concurrent logins: %v; peak RSS %d MiB (%d MiB before)", statuses, peak>>20, start>>20)
		if peak >= 512<<20 {
			t.Errorf("peak RSS %d MiB, want under 512 MiB", peak>>20)
		}
		if res, err := client.Get(base + "/healthz"); err != nil || res.StatusCode != http.StatusOK {
			t.Errorf("/healthz after the burst: %v %v", res, err)
		}
		if res, err := login(spare, password, "198.51.100.200"); err != nil || res.StatusCode != http.StatusSeeOther {
			t.Errorf("a sign-in after the burst: %v %v", res, err)
		}
	})
}

// startServe starts `flare serve` in its own process on a free port and
// returns its URL and process id once it is ready; it is stopped with
// SIGTERM when the test ends and must exit cleanly.
func startServe(t *testing.T, dbURL string, args ...string) (string, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--addr", addr, "--db", dbURL}, args...)...)
	cmd.Env = append(os.Environ(), runAsFlare+"=1")
	stderr := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("flare serve: %v\n%s", err, stderr.String())
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("flare serve did not stop on SIGTERM")
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base, cmd.Process.Pid
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("flare serve exited: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("flare serve did not become ready: %v\n%s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond) // polling another process's start-up
	}
}

// lockedBuffer is a buffer a child process's output can be copied into
// while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// peakRSS is the process's peak resident set size (VmHWM), in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}
