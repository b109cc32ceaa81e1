package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
)

// The outbox's promise, end to end: `flare serve` ships every event to a
// webhook, is killed (SIGKILL) while cases pour in and while the webhook is
// in the middle of deliveries, and is started again on the same store.
// Once nothing is pending, the receiver has seen every committed event —
// exactly the events table — each once after deduplicating by id, every
// case has its case.created, and redeliveries are byte for byte the same.
//
// On SQLite the lease is ten minutes, so the test passes only if a restart
// hands the dead process's leases back at once; on PostgreSQL, where
// another node could hold them, leases run out (two seconds here).
func TestCrashRedeliversEveryCommittedEvent(t *testing.T) {
	dbtest.EachURL(t, func(t *testing.T, dbURL string) {
		deskFile := filepath.Join(t.TempDir(), "desk.yaml")
		if err := os.WriteFile(deskFile, desk.ExampleYAML, 0o644); err != nil {
			t.Fatal(err)
		}
		flare(t, "", false, "desk", "apply", deskFile, "--db", dbURL)
		token := lastLine(flare(t, "", false, "token", "create", "--db", dbURL, "--email", "amelia.clarke@flare.example"))

		const secret = "whsec_crash_test"
		sink := newEventSink(t, []byte(secret))
		lease := "10m"
		if strings.HasPrefix(dbURL, "postgres") {
			lease = "2s"
		}
		env := []string{"FLARE_EVENTS_WEBHOOK_SECRET=" + secret, "FLARE_EVENTS_LEASE=" + lease}
		args := []string{"--events-webhook", sink.url + "/flare", "--rate-limit-ip", "0", "--rate-limit-token", "0", "--access-log", "off"}
		store, err := db.Open(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()

		var created []int64 // cases the API answered 201 for
		const kills = 2
		for round := range kills {
			started := time.Now()
			p := startFlareProc(t, dbURL, env, args...)
			load := startLoad(p.base, token, 16, round)
			// Mid-load and mid-delivery: cases keep coming, and the
			// receiver holds the requests it gets from now on, so the
			// server dies with deliveries claimed and unanswered.
			load.waitFor(t, 150)
			sink.hold()
			sink.waitHeld(t, 1)
			p.kill(t)
			created = append(created, load.stop()...)
			sink.release()
			var leased int // by the process just killed
			if err := store.QueryRow(context.Background(), `SELECT COUNT(*) FROM event_deliveries WHERE leased_at >= ?`, db.T(started)).Scan(&leased); err != nil {
				t.Fatal(err)
			}
			if leased == 0 {
				t.Fatalf("round %d: killed with no delivery leased; the test did not kill mid-delivery", round)
			}
			t.Logf("round %d: killed with %d cases answered so far, %d deliveries leased", round, len(created), leased)
		}

		p := startFlareProc(t, dbURL, env, args...)
		start := time.Now()
		deadline := start.Add(20 * time.Second)
		for {
			var left int
			if err := store.QueryRow(context.Background(), `SELECT COUNT(*) FROM event_deliveries`).Scan(&left); err != nil {
				t.Fatal(err)
			}
			if left == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d deliveries still waiting 20 s after the restart (lease %s)", left, lease)
			}
			time.Sleep(50 * time.Millisecond) // polling another process's progress
		}
		t.Logf("restart: the outbox drained in %s", time.Since(start).Round(time.Millisecond))
		p.stop(t)

		stored := map[string]bool{}
		rows, err := store.Query(context.Background(), `SELECT id FROM events`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			stored[id] = true
		}
		rows.Close()
		got, dups, problems := sink.result()
		if len(problems) > 0 {
			t.Fatalf("the receiver saw %d problems, first: %s", len(problems), problems[0])
		}
		for id := range stored {
			if !got[id] {
				t.Errorf("committed event %s never delivered", id)
			}
		}
		for id := range got {
			if !stored[id] {
				t.Errorf("delivered event %s is not in the events table (never committed?)", id)
			}
		}
		var orphans, ncases int
		if err := store.QueryRow(context.Background(), `SELECT COUNT(*) FROM cases c WHERE NOT EXISTS
			(SELECT 1 FROM events e WHERE e.type = 'case.created' AND e.stream = 'case:' || c.id)`).Scan(&orphans); err != nil {
			t.Fatal(err)
		}
		if err := store.QueryRow(context.Background(), `SELECT COUNT(*) FROM cases`).Scan(&ncases); err != nil {
			t.Fatal(err)
		}
		if orphans > 0 {
			t.Errorf("%d of %d cases have no case.created event", orphans, ncases)
		}
		for _, id := range created {
			var n int
			if err := store.QueryRow(context.Background(), `SELECT COUNT(*) FROM cases WHERE id = ?`, id).Scan(&n); err != nil || n != 1 {
				t.Errorf("case %d was answered 201 but is not stored (%v)", id, err)
			}
		}
		t.Logf("%d cases (%d answered 201), %d events, all delivered; %d duplicates after %d kills", ncases, len(created), len(stored), dups, kills)
	})
}

// TestServeEventsFlags: the webhook from a flag or the environment, its
// secret from the environment only, and the lease.
func TestServeEventsFlags(t *testing.T) {
	appOpts := func(args ...string) (string, string, time.Duration, error) {
		fs, _ := newFlags("serve", io.Discard)
		sf := addServeFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if _, err := sf.webOptions(); err != nil {
			return "", "", 0, err
		}
		opt, err := sf.appOptions(nil)
		return opt.Webhook.URL, opt.Webhook.Secret, opt.Events.Lease, err
	}
	if u, s, l, err := appOpts(); err != nil || u != "" || s != "" || l != time.Minute {
		t.Fatalf("defaults: %q %q %s %v", u, s, l, err)
	}
	t.Setenv("FLARE_EVENTS_WEBHOOK", "https://hooks.example/flare")
	t.Setenv("FLARE_EVENTS_WEBHOOK_SECRET", "whsec")
	t.Setenv("FLARE_EVENTS_LEASE", "15s")
	if u, s, l, err := appOpts(); err != nil || u != "https://hooks.example/flare" || s != "whsec" || l != 15*time.Second {
		t.Fatalf("environment: %q %q %s %v", u, s, l, err)
	}
	if u, _, l, err := appOpts("--events-webhook", "http://127.0.0.1:9/x", "--events-lease", "2m"); err != nil || u != "http://127.0.0.1:9/x" || l != 2*time.Minute {
		t.Fatalf("flags: %q %s %v", u, l, err)
	}
	for _, args := range [][]string{{"--events-webhook", "hooks.example/flare"}, {"--events-lease", "0s"}} {
		if _, _, _, err := appOpts(args...); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	t.Setenv("FLARE_EVENTS_LEASE", "a while")
	if _, _, _, err := appOpts(); err == nil {
		t.Error("FLARE_EVENTS_LEASE=a while accepted")
	}
}

// eventSink is a webhook receiver that verifies signatures, counts every
// arrival by event id and can hold requests (a receiver slow to answer).
type eventSink struct {
	secret []byte
	url    string

	mu       sync.Mutex
	first    map[string][]byte // event id → body of its first arrival
	lastSeq  map[string]int64  // stream → seq of the latest first arrival
	dups     int
	problems []string
	holding  bool
	held     int
	gate     chan struct{} // closed to let held requests answer
}

func newEventSink(t *testing.T, secret []byte) *eventSink {
	s := &eventSink{secret: secret, first: map[string][]byte{}, lastSeq: map[string]int64{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

func (s *eventSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the sender died mid-request
	}
	s.mu.Lock()
	problem := func(f string, a ...any) {
		s.problems = append(s.problems, fmt.Sprintf(f, a...))
		s.mu.Unlock()
		http.Error(w, "rejected", http.StatusBadRequest)
	}
	if err := events.VerifySignature(s.secret, r.Header.Get(events.HeaderTimestamp), r.Header.Get(events.HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
		problem("signature: %v", err)
		return
	}
	var e events.Event
	if err := json.Unmarshal(body, &e); err != nil || e.ID != r.Header.Get(events.HeaderEventID) {
		problem("event %q under id %q: %v", body, r.Header.Get(events.HeaderEventID), err)
		return
	}
	if prev, ok := s.first[e.ID]; ok {
		s.dups++
		if !bytes.Equal(prev, body) {
			problem("event %s redelivered with another body", e.ID)
			return
		}
	} else {
		s.first[e.ID] = body
		if last := s.lastSeq[e.Stream()]; e.Seq < last {
			problem("%s: event seq %d arrived after seq %d", e.Stream(), e.Seq, last)
			return
		}
		s.lastSeq[e.Stream()] = e.Seq
	}
	var gate chan struct{}
	if s.holding {
		s.held++
		gate = s.gate
	}
	s.mu.Unlock()
	if gate != nil {
		<-gate // received, but the answer comes too late for the sender
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *eventSink) hold() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holding, s.held, s.gate = true, 0, make(chan struct{})
}

func (s *eventSink) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holding {
		s.holding = false
		close(s.gate)
	}
}

func (s *eventSink) waitHeld(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s.mu.Lock()
		held := s.held
		s.mu.Unlock()
		if held >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server sent no delivery within 15 s")
		}
		time.Sleep(10 * time.Millisecond) // waiting for another process
	}
}

func (s *eventSink) result() (ids map[string]bool, dups int, problems []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids = map[string]bool{}
	for id := range s.first {
		ids[id] = true
	}
	return ids, s.dups, s.problems
}

// load posts cases from several clients until stopped or the server is gone.
type load struct {
	n    atomic.Int64
	done chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	ids  []int64
}

func startLoad(base, token string, clients, round int) *load {
	l := &load{done: make(chan struct{})}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	for c := range clients {
		l.wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-l.done:
					return
				default:
				}
				body, _ := json.Marshal(map[string]any{"title": fmt.Sprintf("Parcel lost %d-%d-%d", round, c, i),
					"category": "logistics/lost_parcel", "market": "GB", "seller_id": "S-1001",
					"requester": map[string]any{"name": "Sam", "email": "sam@example.com"},
					"fields":    map[string]any{"order_id": fmt.Sprintf("ORD-%d-%d-%d", round, c, i)}})
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
					return // a dying server may answer anything; what counts is what is stored
				}
				l.mu.Lock()
				l.ids = append(l.ids, c.ID)
				l.mu.Unlock()
				l.n.Add(1)
			}
		})
	}
	return l
}

func (l *load) waitFor(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for l.n.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d cases created in 20 s", l.n.Load())
		}
		time.Sleep(10 * time.Millisecond) // waiting for another process
	}
}

func (l *load) stop() []int64 {
	close(l.done)
	l.wg.Wait()
	return l.ids
}

// flareProc is a `flare serve` process that a test may kill.
type flareProc struct {
	cmd    *exec.Cmd
	base   string
	exited chan error
	stderr *lockedBuffer
	gone   bool
}

// startFlareProc starts `flare serve` with the extra environment and
// returns once it is ready; it is stopped with SIGKILL when the test ends
// if still running.
func startFlareProc(t *testing.T, dbURL string, env []string, args ...string) *flareProc {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &flareProc{base: "http://" + addr, exited: make(chan error, 1), stderr: &lockedBuffer{}}
	p.cmd = exec.Command(os.Args[0], append([]string{"serve", "--addr", addr, "--db", dbURL}, args...)...)
	p.cmd.Env = append(append(os.Environ(), runAsFlare+"=1"), env...)
	p.cmd.Stdout, p.cmd.Stderr = io.Discard, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if !p.gone {
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(p.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case err := <-p.exited:
			p.gone = true
			t.Fatalf("flare serve exited: %v\n%s", err, p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("flare serve did not become ready: %v\n%s", err, p.stderr.String())
		}
		time.Sleep(50 * time.Millisecond) // polling another process's start-up
	}
}

func (p *flareProc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
	p.gone = true
}

// stop ends the process with SIGTERM; it must exit cleanly.
func (p *flareProc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		p.gone = true
		if err != nil {
			t.Errorf("flare serve: %v\n%s", err, p.stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Errorf("flare serve did not stop on SIGTERM")
	}
}
