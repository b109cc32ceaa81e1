package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/events"
)

const crashSecret = "whsec_bench"

// crash runs a real `flare serve` (built from ./cmd/flare) with its webhook
// pointed at a receiver in this process, kills it with SIGKILL at a random
// moment while many clients post cases, starts it again on the same store,
// and after the last restart waits until nothing is pending. Then the
// receiver's event ids must be exactly the events table's, every case must
// have its case.created, and every case answered 201 must be stored.
func crash(ctx context.Context, c config) error {
	dir, err := os.MkdirTemp("", "flare-bench-crash-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "flare")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/flare")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build flare (run the bench from the repository root): %w", err)
	}
	s, err := openStore(ctx, c.db, 20000)
	if err != nil {
		return err
	}
	defer s.cleanup()
	sink, err := newSink()
	if err != nil {
		return err
	}
	defer sink.close()
	env := []string{"FLARE_EVENTS_WEBHOOK_SECRET=" + crashSecret}
	if c.lease > 0 {
		env = append(env, "FLARE_EVENTS_LEASE="+c.lease.String())
	}
	rng := rand.New(rand.NewPCG(uint64(c.seed), 42))
	var answered []int64
	var leasedAtKill int
	var restarts []time.Duration
	offset := 0
	for round := range c.kills {
		up := time.Now()
		p, err := startServer(ctx, bin, s.d.URL, sink.url, env)
		if err != nil {
			return err
		}
		restarts = append(restarts, time.Since(up))
		l := startLoad(p.base, s.token, s.bodies, offset, c.crashCli)
		wait := time.Duration(1000+rng.IntN(3000)) * time.Millisecond
		time.Sleep(wait)
		p.kill()
		ids := l.stop()
		offset += len(ids) + c.crashCli
		answered = append(answered, ids...)
		// Leased by the process just killed, and still leased by the one before (PostgreSQL: the lease has not run out).
		var leased, older int
		if err := s.d.QueryRow(ctx, `SELECT COUNT(*) FROM event_deliveries WHERE leased_at >= ?`, db.T(up)).Scan(&leased); err != nil {
			return err
		}
		if err := s.d.QueryRow(ctx, `SELECT COUNT(*) FROM event_deliveries WHERE leased_at < ?`, db.T(up)).Scan(&older); err != nil {
			return err
		}
		leasedAtKill += leased
		fmt.Printf("<!-- kill %d after %s: %d cases answered 201 in this round, %d deliveries leased by the killed process (%d still leased from before) -->\n",
			round+1, wait, len(ids), leased, older)
	}
	up := time.Now()
	p, err := startServer(ctx, bin, s.d.URL, sink.url, env)
	if err != nil {
		return err
	}
	restarts = append(restarts, time.Since(up))
	start := time.Now()
	for {
		var left int
		if err := s.d.QueryRow(ctx, `SELECT COUNT(*) FROM event_deliveries`).Scan(&left); err != nil {
			return err
		}
		if left == 0 {
			break
		}
		if time.Since(start) > 5*time.Minute {
			return fmt.Errorf("%d deliveries still waiting 5 minutes after the last restart", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
	drained := time.Since(start)
	if err := p.stop(); err != nil {
		return err
	}

	stored := map[string]bool{}
	rows, err := s.d.Query(ctx, `SELECT id FROM events`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		stored[id] = true
	}
	rows.Close()
	var missing, extra int
	sink.mu.Lock()
	for id := range stored {
		if _, ok := sink.first[id]; !ok {
			missing++
		}
	}
	for id := range sink.first {
		if !stored[id] {
			extra++
		}
	}
	got, dups, arrivals, problems, order := len(sink.first), sink.dups, sink.arrivals, len(sink.problems), sink.order
	var firstProblem string
	if problems > 0 {
		firstProblem = sink.problems[0]
	}
	sink.mu.Unlock()
	var ncases, orphans, created int
	if err := s.d.QueryRow(ctx, `SELECT COUNT(*) FROM cases`).Scan(&ncases); err != nil {
		return err
	}
	if err := s.d.QueryRow(ctx, `SELECT COUNT(*) FROM cases c WHERE NOT EXISTS
		(SELECT 1 FROM events e WHERE e.type = 'case.created' AND e.stream = 'case:' || c.id)`).Scan(&orphans); err != nil {
		return err
	}
	if err := s.d.QueryRow(ctx, `SELECT COUNT(*) FROM events WHERE type = 'case.created'`).Scan(&created); err != nil {
		return err
	}
	lost := 0
	for _, id := range answered {
		var n int
		if err := s.d.QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			lost++
		}
	}
	lease := "60s (default)"
	if c.lease > 0 {
		lease = c.lease.String()
	}
	fmt.Printf("### Crash: %d × SIGKILL of flare serve under load (%d clients), lease %s\n\n", c.kills, c.crashCli, lease)
	fmt.Printf("| | |\n|---|---:|\n")
	fmt.Printf("| cases stored / answered 201 (answered but not stored) | %d / %d (%d) |\n", ncases, len(answered), lost)
	fmt.Printf("| events committed (events table), of them case.created | %d, %d |\n", len(stored), created)
	fmt.Printf("| cases without a case.created event | **%d** |\n", orphans)
	fmt.Printf("| distinct event ids received / missing / not committed | %d / **%d** / **%d** |\n", got, missing, extra)
	fmt.Printf("| deliveries received in all, duplicates (same id again, same bytes) | %d, %d (%.2f %%) |\n", arrivals, dups, 100*float64(dups)/float64(max(1, got)))
	fmt.Printf("| events first received out of order within their case | **%d** |\n", order)
	fmt.Printf("| receiver rejections (signature, body) | %d %s |\n", problems, firstProblem)
	fmt.Printf("| deliveries leased by the killed processes (sum over the kills) | %d |\n", leasedAtKill)
	fmt.Printf("| start-up to ready (median of %d) | %s |\n", len(restarts), medianDur(restarts).Round(time.Millisecond))
	fmt.Printf("| last restart to nothing pending | %s |\n\n", drained.Round(time.Millisecond))
	if missing > 0 || extra > 0 || orphans > 0 || lost > 0 || problems > 0 || order > 0 {
		return errors.New("the crash guarantee does not hold (see the table)")
	}
	return nil
}

// sink is the webhook receiver: it verifies each request and counts
// arrivals by event id.
type sink struct {
	url string
	srv *http.Server

	mu       sync.Mutex
	first    map[string][]byte // event id → body of its first arrival
	lastSeq  map[string]int64  // stream → seq of its latest first arrival
	arrivals int
	dups     int
	order    int
	problems []string
}

func newSink() (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{url: "http://" + ln.Addr().String() + "/flare", first: map[string][]byte{}, lastSeq: map[string]int64{}}
	s.srv = &http.Server{Handler: s}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *sink) close() { _ = s.srv.Close() }

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the sender died mid-request
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	reject := func(f string, a ...any) {
		if len(s.problems) < 100 {
			s.problems = append(s.problems, fmt.Sprintf(f, a...))
		}
		http.Error(w, "rejected", http.StatusBadRequest)
	}
	if err := events.VerifySignature([]byte(crashSecret), r.Header.Get(events.HeaderTimestamp), r.Header.Get(events.HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
		reject("signature: %v", err)
		return
	}
	var e events.Event
	if err := json.Unmarshal(body, &e); err != nil || e.ID != r.Header.Get(events.HeaderEventID) {
		reject("body of %q: %v", r.Header.Get(events.HeaderEventID), err)
		return
	}
	s.arrivals++
	if prev, ok := s.first[e.ID]; ok {
		s.dups++
		if !bytes.Equal(prev, body) {
			reject("event %s redelivered with another body", e.ID)
			return
		}
	} else {
		s.first[e.ID] = body
		if e.Seq < s.lastSeq[e.Stream()] {
			s.order++
		}
		s.lastSeq[e.Stream()] = max(s.lastSeq[e.Stream()], e.Seq)
	}
	w.WriteHeader(http.StatusNoContent)
}

// server is a `flare serve` process.
type server struct {
	cmd    *exec.Cmd
	base   string
	exited chan error
	stderr *bytes.Buffer
}

func startServer(ctx context.Context, bin, dbURL, hook string, env []string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &server{base: "http://" + addr, exited: make(chan error, 1), stderr: &bytes.Buffer{}}
	p.cmd = exec.Command(bin, "serve", "--addr", addr, "--db", dbURL, "--events-webhook", hook,
		"--rate-limit-ip", "0", "--rate-limit-token", "0", "--access-log", "off")
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = io.Discard, &lockedWriter{w: p.stderr}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.exited <- p.cmd.Wait() }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		res, err := http.Get(p.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case err := <-p.exited:
			return nil, fmt.Errorf("flare serve exited: %v\n%s", err, p.stderr.String())
		case <-ctx.Done():
			return nil, ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			_ = p.cmd.Process.Kill()
			return nil, fmt.Errorf("flare serve did not become ready: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *server) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

func (p *server) stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		if err != nil {
			return fmt.Errorf("flare serve: %w", err)
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		return errors.New("flare serve did not stop on SIGTERM")
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// load posts case bodies from clients until stopped or the server is gone,
// and keeps the ids of the cases answered 201.
type load struct {
	done chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	ids  []int64
}

func startLoad(base, token string, bodies [][]byte, offset, clients int) *load {
	l := &load{done: make(chan struct{})}
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var next atomic.Int64
	next.Store(int64(offset))
	for range clients {
		l.wg.Go(func() {
			for {
				select {
				case <-l.done:
					return
				default:
				}
				body := bodies[int(next.Add(1))%len(bodies)]
				req, _ := http.NewRequest("POST", base+"/api/v1/cases", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				res, err := hc.Do(req)
				if err != nil {
					return // killed
				}
				var c struct {
					ID int64 `json:"id"`
				}
				err = json.NewDecoder(res.Body).Decode(&c)
				res.Body.Close()
				if res.StatusCode != http.StatusCreated || err != nil {
					return
				}
				l.mu.Lock()
				l.ids = append(l.ids, c.ID)
				l.mu.Unlock()
			}
		})
	}
	return l
}

func (l *load) stop() []int64 {
	close(l.done)
	l.wg.Wait()
	return l.ids
}
