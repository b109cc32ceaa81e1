// Command notify measures outbound webhook deliveries end to end: events
// published through the real write path's bus, the durable "notify"
// subscriber turning each into a delivery, the notify timer POSTing it —
// to a local receiver that refuses a share of requests at random. It
// checks that every event reaches the receiver exactly once (what a failed
// attempt carried is retried until it succeeds, and never accepted twice)
// and reports how soon after its event a delivery arrives. See
// bench/BENCHMARKS.md.
//
//	go run ./bench/notify -events 10000 -fail 0.2 -rate 250
//
// The receiver verifies every signature (X-Flare-Signature over the
// timestamp and body), answers 500 to a random fail share of requests, and
// accepts the rest. "First attempt" latency is from the event's instant to
// its arrival, for deliveries whose first attempt was accepted; retried
// deliveries wait for their back-off (1 s, 2 s, 4 s…) by design.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/notify"
)

func main() {
	n := flag.Int("events", 10000, "webhook deliveries (one event each)")
	fail := flag.Float64("fail", 0.2, "share of requests the receiver refuses at random")
	rate := flag.Float64("rate", 250, "events published per second")
	ncases := flag.Int("cases", 100, "cases the events are about (their streams)")
	dbURL := flag.String("db", "", "store (default: a new temporary SQLite file); postgres://… for PostgreSQL")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up after")
	flag.Parse()
	if err := run(context.Background(), *n, *fail, *rate, *ncases, *dbURL, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "notify bench:", err)
		os.Exit(1)
	}
}

// receiver is the local webhook endpoint.
type receiver struct {
	secret []byte
	fail   float64
	mu     sync.Mutex
	rnd    *rand.Rand
	// per event id
	tries    map[string]int       // requests seen
	accepted map[string]int       // requests accepted
	firstOK  map[string]bool      // accepted on its first request
	arrived  map[string]time.Time // when it was accepted
	at       map[string]time.Time // the event's instant
	refused  int
	badSig   int
	done     chan struct{}
	want     int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	now := time.Now()
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	if err := events.VerifySignature(r.secret, req.Header.Get(events.HeaderTimestamp), req.Header.Get(events.HeaderSignature),
		body, now, 5*time.Minute); err != nil {
		r.mu.Lock()
		r.badSig++
		r.mu.Unlock()
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var e struct {
		ID string    `json:"id"`
		At time.Time `json:"at"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.ID != req.Header.Get(events.HeaderEventID) {
		http.Error(w, "body", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries[e.ID]++
	if r.rnd.Float64() < r.fail {
		r.refused++
		http.Error(w, "refused at random", http.StatusInternalServerError)
		return
	}
	r.accepted[e.ID]++
	if r.accepted[e.ID] == 1 {
		r.firstOK[e.ID] = r.tries[e.ID] == 1
		r.arrived[e.ID], r.at[e.ID] = now, e.At
		if len(r.arrived) == r.want {
			close(r.done)
		}
	}
}

func run(ctx context.Context, n int, fail, rate float64, ncases int, dbURL string, timeout time.Duration) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	if dbURL == "" {
		dir, err := os.MkdirTemp("", "flare-bench-notify-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dbURL = "sqlite:" + filepath.Join(dir, "bench.db")
	}
	d, err := db.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := app.Migrate(ctx, d); err != nil {
		return err
	}
	a, err := app.New(d, app.Options{Logger: log, Work: true})
	if err != nil {
		return err
	}
	cfg, err := a.Desk.Schema().Example()
	if err != nil {
		return err
	}
	sys := auth.System("bench")
	if _, err := a.Desk.Apply(ctx, sys, time.Now(), cfg); err != nil {
		return err
	}

	rcv := &receiver{fail: fail, rnd: rand.New(rand.NewPCG(1, 2)), tries: map[string]int{}, accepted: map[string]int{},
		firstOK: map[string]bool{}, arrived: map[string]time.Time{}, at: map[string]time.Time{}, done: make(chan struct{}), want: n}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: rcv, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()
	hook, err := a.Notify.CreateWebhook(ctx, sys, notify.WebhookInput{Name: ptr("bench"), URL: ptr("http://" + l.Addr().String() + "/hook"),
		EventTypes: &[]events.Type{events.CaseChanged}})
	if err != nil {
		return err
	}
	rcv.secret = []byte(hook.Secret)

	// The cases the events are about (not published as case.changed: only
	// the bench's own events go to the webhook).
	var cs []*cases.Case
	for i := range ncases {
		c, err := a.Cases.Create(ctx, sys, cases.CreateInput{Title: fmt.Sprintf("Bench case %d", i), Category: "logistics/lost_parcel",
			Market: "GB", Fields: map[string]any{"order_id": fmt.Sprintf("ORD-%d", i)}}, nil)
		if err != nil {
			return err
		}
		cs = append(cs, c)
	}
	if err := a.Start(ctx); err != nil {
		return err
	}
	defer func() { _ = a.Stop(context.Background()) }()

	fmt.Printf("%d events at %.0f/s about %d cases; the receiver refuses %.0f%% of requests at random\n", n, rate, ncases, fail*100)
	start := time.Now()
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	sem := make(chan struct{}, 8) // publishers at once: the group commit batches them
	for i := range n {
		<-tick.C
		sem <- struct{}{}
		c := cs[i%len(cs)]
		wg.Go(func() {
			defer func() { <-sem }()
			err := d.InTx(ctx, func(tx *db.Tx) error {
				return a.Bus.Publish(ctx, tx, events.Event{Type: events.CaseChanged, Actor: cases.EventActor(sys), Case: cases.EventCase(c),
					Data: &events.Changed{Changes: []events.FieldChange{{Field: "tags", Old: []string{}, New: []string{fmt.Sprintf("bench-%d", i)}}}}})
			})
			if err != nil {
				select {
				case errc <- err:
				default:
				}
			}
		})
	}
	wg.Wait()
	published := time.Since(start)
	select {
	case err := <-errc:
		return err
	default:
	}
	select {
	case <-rcv.done:
	case <-time.After(timeout):
	}
	all := time.Since(start)
	time.Sleep(2 * time.Second) // anything sent twice would arrive now

	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	var first, retried []time.Duration
	dup := 0
	for id, k := range rcv.accepted {
		if k > 1 {
			dup++
		}
		lat := rcv.arrived[id].Sub(rcv.at[id])
		if rcv.firstOK[id] {
			first = append(first, lat)
		} else {
			retried = append(retried, lat)
		}
	}
	page, err := a.Notify.Deliveries(ctx, sys, notify.DeliveryFilter{WebhookID: hook.ID, State: "failed", Limit: 500})
	if err != nil {
		return err
	}
	requests := 0
	for _, t := range rcv.tries {
		requests += t
	}
	fmt.Printf("published in %s; all delivered %s after the first event\n", published.Round(time.Millisecond), all.Round(time.Millisecond))
	fmt.Printf("receiver: %d requests, %d refused at random, %d bad signatures; %d of %d events accepted, %d accepted more than once; %d deliveries failed for good\n",
		requests, rcv.refused, rcv.badSig, len(rcv.accepted), n, dup, len(page.Deliveries))
	fmt.Printf("first attempt accepted (%d): p50 %s  p90 %s  p99 %s  max %s\n", len(first), pct(first, 0.5), pct(first, 0.9), pct(first, 0.99), pct(first, 1))
	fmt.Printf("retried (%d):                p50 %s  p90 %s  p99 %s  max %s\n", len(retried), pct(retried, 0.5), pct(retried, 0.9), pct(retried, 0.99), pct(retried, 1))
	fmt.Printf("load average: %s\n", loadavg())
	var problems []string
	if len(rcv.accepted) != n {
		problems = append(problems, fmt.Sprintf("%d events never arrived", n-len(rcv.accepted)))
	}
	if dup > 0 {
		problems = append(problems, fmt.Sprintf("%d events arrived more than once", dup))
	}
	if p := pct(first, 0.99); p > time.Second {
		problems = append(problems, fmt.Sprintf("first-attempt p99 %s is over 1 s", p))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	fmt.Println("ok: every event arrived exactly once; first-attempt p99 within 1 s")
	return nil
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p * float64(len(s)-1))
	return s[i].Round(time.Millisecond)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func ptr[T any](v T) *T { return &v }
