package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/events"
)

// sink is a webhook receiver: it verifies each request as a receiver
// would and answers with what status says.
type sink struct {
	t      *testing.T
	secret []byte
	clk    clock.Clock
	status func(e events.Event, attempt int) int // nil: 204

	mu       sync.Mutex
	got      []events.Event // accepted, in arrival order
	attempts map[string]int // per event id, accepted or not
	problems []string       // what a receiver would reject
}

func newSink(t *testing.T, secret string, clk clock.Clock) (*sink, *httptest.Server) {
	s := &sink{t: t, secret: []byte(secret), clk: clk, attempts: map[string]int{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	bad := func(f string, a ...any) {
		s.problems = append(s.problems, fmt.Sprintf(f, a...))
		http.Error(w, "rejected", http.StatusBadRequest)
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		bad("%s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
		return
	}
	if len(s.secret) > 0 {
		if err := events.VerifySignature(s.secret, r.Header.Get(events.HeaderTimestamp), r.Header.Get(events.HeaderSignature), body,
			s.clk.Now(), 5*time.Minute); err != nil {
			bad("signature: %v", err)
			return
		}
	}
	var e events.Event
	if err := json.Unmarshal(body, &e); err != nil {
		bad("body: %v", err)
		return
	}
	if r.Header.Get(events.HeaderEventID) != e.ID || r.Header.Get(events.HeaderEvent) != string(e.Type) {
		bad("headers %q %q for event %s %s", r.Header.Get(events.HeaderEventID), r.Header.Get(events.HeaderEvent), e.ID, e.Type)
		return
	}
	s.attempts[e.ID]++
	code := http.StatusNoContent
	if s.status != nil {
		code = s.status(e, s.attempts[e.ID])
	}
	if code >= 200 && code < 300 {
		s.got = append(s.got, e)
	}
	w.WriteHeader(code)
	fmt.Fprintf(w, "answer %d", code)
}

func (s *sink) notes(stream string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, e := range s.got {
		if e.Stream() == stream {
			out = append(out, note(e))
		}
	}
	return out
}

func (s *sink) check() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.problems) > 0 {
		s.t.Fatalf("the receiver rejected requests: %v", s.problems)
	}
}

func webhookBus(t *testing.T, d *db.DB, clk clock.Clock, opt events.WebhookOptions) *events.Bus {
	t.Helper()
	b := events.New(d, clk, quiet, events.Options{BackoffBase: time.Second, BackoffMax: time.Minute})
	wh, err := events.NewWebhook(opt, clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(wh.Close)
	b.Subscribe(events.WebhookSubscriber, wh.Deliver, wh.SubscriberOptions())
	return b
}

func deliveries(t *testing.T, d *db.DB) (pending, dead int, lastError string) {
	t.Helper()
	rows, err := d.Query(context.Background(), `SELECT state, last_error FROM event_deliveries ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var state, msg string
		if err := rows.Scan(&state, &msg); err != nil {
			t.Fatal(err)
		}
		if state == "dead" {
			dead++
		} else {
			pending++
		}
		if msg != "" {
			lastError = msg
		}
	}
	return pending, dead, lastError
}

func TestWebhookDeliversSignedEvents(t *testing.T) {
	each(t, func(t *testing.T, d *db.DB) {
		clk := clock.NewFake(t0)
		s, srv := newSink(t, "s3cret", clk)
		b := webhookBus(t, d, clk, events.WebhookOptions{URL: srv.URL + "/hooks/flare", Secret: "s3cret"})
		sent := caseEvent(42, events.CaseCreated, "api")
		sent.Actor = events.Actor{ID: 7, Email: "ada@flare.test"}
		publish(t, d, b, sent)
		drain(t, b, events.WebhookSubscriber)
		s.check()
		if len(s.got) != 1 {
			t.Fatalf("receiver got %d events, want 1", len(s.got))
		}
		e := s.got[0]
		if e.ID == "" || e.Seq == 0 || e.Type != events.CaseCreated || !e.At.Equal(t0) || e.Actor.Email != "ada@flare.test" ||
			e.Case.Number != "ESC-42" || note(e) != "api" || e.Version != 1 {
			t.Fatalf("receiver got %+v", e)
		}
		if p, dead, _ := deliveries(t, d); p+dead != 0 {
			t.Fatalf("%d pending, %d dead after a 2xx", p, dead)
		}
	})
}

func TestWebhookRetriesA500ThenDelivers(t *testing.T) {
	each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(t0)
		s, srv := newSink(t, "k", clk)
		s.status = func(e events.Event, attempt int) int {
			if attempt <= 2 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		}
		b := webhookBus(t, d, clk, events.WebhookOptions{URL: srv.URL, Secret: "k"})
		publish(t, d, b, caseEvent(1, events.CaseCreated, "api"))
		drain(t, b, events.WebhookSubscriber)
		p, _, msg := deliveries(t, d)
		if p != 1 || !strings.Contains(msg, "500 Internal Server Error") || !strings.Contains(msg, "answer 500") {
			t.Fatalf("after a 500: %d pending, last error %q", p, msg)
		}
		if n, err := b.Deliver(ctx, events.WebhookSubscriber); err != nil || n != 0 {
			t.Fatalf("retried before its back-off: %d %v", n, err)
		}
		clk.Advance(time.Second)
		drain(t, b, events.WebhookSubscriber) // second 500
		clk.Advance(2 * time.Second)          // signed afresh: the receiver's clock moved on too
		drain(t, b, events.WebhookSubscriber)
		s.check()
		if len(s.got) != 1 || s.attempts[s.got[0].ID] != 3 {
			t.Fatalf("got %d events after %v attempts, want one after three", len(s.got), s.attempts)
		}
		if p, dead, _ := deliveries(t, d); p+dead != 0 {
			t.Fatalf("%d pending, %d dead after the retry", p, dead)
		}
	})
}

// A case's events arrive in order although cases are delivered at once,
// and a failure holds up its own case only.
func TestWebhookKeepsOrderPerCase(t *testing.T) {
	each(t, func(t *testing.T, d *db.DB) {
		clk := clock.NewFake(t0)
		s, srv := newSink(t, "", clk)
		s.status = func(e events.Event, attempt int) int {
			if note(e) == "c2-03" && attempt == 1 {
				return http.StatusServiceUnavailable
			}
			return http.StatusAccepted
		}
		b := webhookBus(t, d, clk, events.WebhookOptions{URL: srv.URL, Concurrency: 4})
		const cases, per = 6, 8
		for i := range per {
			var evs []events.Event
			for c := range cases {
				evs = append(evs, caseEvent(int64(c+1), events.CaseChanged, fmt.Sprintf("c%d-%02d", c+1, i)))
			}
			publish(t, d, b, evs...)
		}
		drain(t, b, events.WebhookSubscriber)
		if got := s.notes("case:2"); !slices.Equal(got, []string{"c2-00", "c2-01", "c2-02"}) {
			t.Fatalf("case 2 behind its failure: %v", got)
		}
		clk.Advance(time.Second)
		drain(t, b, events.WebhookSubscriber)
		s.check()
		for c := range cases {
			got := s.notes(fmt.Sprintf("case:%d", c+1))
			if len(got) != per || !slices.IsSorted(got) {
				t.Fatalf("case %d arrived as %v", c+1, got)
			}
		}
	})
}

// 410 Gone gives the event up at once; a redirect is not followed; a
// receiver that does not answer in time is a failure. Errors never show
// the URL's query or credentials.
func TestWebhookFailures(t *testing.T) {
	each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(t0)
		release := make(chan struct{})
		var redirected atomic.Bool
		mux := http.NewServeMux()
		mux.HandleFunc("/gone", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no such hook", http.StatusGone) })
		mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) })
		mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) { redirected.Store(true) })
		mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		srv := httptest.NewServer(mux)
		defer srv.Close()
		defer close(release)
		for _, tc := range []struct {
			path, want string
			dead       bool
		}{
			{"/gone?token=hush", "410 Gone: no such hook", true},
			{"/moved?token=hush", "302 Found", false},
			{"/slow?token=hush", "Client.Timeout exceeded", false},
		} {
			if _, err := d.Exec(ctx, `DELETE FROM event_deliveries`); err != nil {
				t.Fatal(err)
			}
			url := strings.Replace(srv.URL, "http://", "http://user:pw@", 1) + tc.path
			b := webhookBus(t, d, clk, events.WebhookOptions{URL: url, Timeout: 200 * time.Millisecond})
			publish(t, d, b, caseEvent(9, events.CaseCreated, tc.path))
			if _, err := b.Deliver(ctx, events.WebhookSubscriber); err != nil {
				t.Fatal(err)
			}
			p, dead, msg := deliveries(t, d)
			if !strings.Contains(msg, tc.want) || strings.Contains(msg, "hush") || strings.Contains(msg, "pw@") {
				t.Errorf("%s: last error %q, want it to say %q without the query or credentials", tc.path, msg, tc.want)
			}
			if wantDead := map[bool]int{true: 1}[tc.dead]; dead != wantDead || p != 1-wantDead {
				t.Errorf("%s: %d pending, %d dead", tc.path, p, dead)
			}
		}
		if redirected.Load() {
			t.Error("the redirect was followed")
		}
	})
}

func TestVerifySignature(t *testing.T) {
	secret, body := []byte("whsec"), []byte(`{"id":"0192","type":"case.created"}`)
	sent := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	ts, sig := events.Sign(secret, sent, body)
	if ts != "1793610000" || !strings.HasPrefix(sig, "v1=") || len(sig) != 3+64 {
		t.Fatalf("signed %q %q", ts, sig)
	}
	_, old := events.Sign([]byte("old secret"), sent, body)
	for _, tc := range []struct {
		name    string
		secret  []byte
		ts, sig string
		body    []byte
		now     time.Time
		want    error
	}{
		{"as sent", secret, ts, sig, body, sent.Add(30 * time.Second), nil},
		{"receiver's clock behind", secret, ts, sig, body, sent.Add(-4 * time.Minute), nil},
		{"rotating: one of two v1", secret, ts, old + ", " + sig, body, sent, nil},
		{"replayed later", secret, ts, sig, body, sent.Add(6 * time.Minute), events.ErrSignatureTooOld},
		{"body changed", secret, ts, sig, []byte(`{"id":"0193","type":"case.created"}`), sent, events.ErrSignatureMismatch},
		{"other secret", []byte("other"), ts, sig, body, sent, events.ErrSignatureMismatch},
		{"timestamp changed", secret, "1793610001", sig, body, sent, events.ErrSignatureMismatch},
		{"no timestamp", secret, "", sig, body, sent, events.ErrSignatureMissing},
		{"no v1", secret, ts, "", body, sent, events.ErrSignatureMissing},
	} {
		if err := events.VerifySignature(tc.secret, tc.ts, tc.sig, tc.body, tc.now, 5*time.Minute); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestNewWebhookRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"", "ftp://example.com/x", "example.com/hook", "http://"} {
		if _, err := events.NewWebhook(events.WebhookOptions{URL: u}, clock.Real{}); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}
