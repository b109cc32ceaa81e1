// Command intake_webhook measures sustained inbound-webhook intake over
// real HTTP (POST /api/v1/intake/{key}, HMAC-signed, mapped, submitted
// through the intake with its de-duplication) against a baseline measured
// in the same run on the same server: the authenticated POST
// /api/v1/cases of the same cases. Some deliveries are repeated, as
// senders retry; at the end the store must hold exactly one case per
// distinct external id. See bench/BENCHMARKS.md.
//
//	go run ./bench/intake_webhook -n 10000 -dup 0.1
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flare-desk/flare/bench/internal/benchstore"
	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/demo"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/intake/webhook"
	"github.com/flare-desk/flare/internal/web"
)

const secret = "bench-secret"

var target float64

var endpoint = webhook.Endpoint{Key: "bench", Name: "Benchmark monitor", Channel: "social",
	Auth:       webhook.Auth{Type: webhook.AuthHMAC, SecretEnv: "FLARE_BENCH_WEBHOOK_SECRET", Header: "X-Signature-256", Prefix: "sha256="},
	ExternalID: "{{/id}}",
	Map: webhook.Mapping{Title: "{{/title}}", Description: "{{/text}}", Category: "{{/category}}", Market: "{{/market}}",
		Tags: []string{"social", "{{/platform}}"}},
}

func main() {
	dbFlag := flag.String("db", "sqlite", "sqlite, or a postgres:// server URL (a scratch database is created on it)")
	n := flag.Int("n", 10000, "distinct webhook deliveries (and baseline cases)")
	dup := flag.Float64("dup", 0.1, "share of deliveries sent a second time")
	clients := flag.Int("clients", 16, "concurrent HTTP clients")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the webhook phase to FILE")
	flag.Float64Var(&target, "target", 1000, "fail when webhook intake is slower (requests/s)")
	flag.Parse()
	if err := run(context.Background(), *dbFlag, *n, *dup, *clients, *profile); err != nil {
		fmt.Fprintln(os.Stderr, "intake_webhook:", err)
		os.Exit(1)
	}
}

type result struct {
	n       int
	elapsed time.Duration
	lat     []time.Duration
}

func (r result) rate() float64 { return float64(r.n) / r.elapsed.Seconds() }

func (r result) pct(p float64) time.Duration {
	s := slices.Clone(r.lat)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func parallel(n, k int, f func(i int) error) (result, error) {
	var next atomic.Int64
	lat := make([]time.Duration, n)
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range k {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t := time.Now()
				if err := f(i); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				lat[i] = time.Since(t)
			}
		})
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return result{}, err
	}
	return result{n: n, elapsed: time.Since(start), lat: lat}, nil
}

func run(ctx context.Context, which string, n int, dup float64, clients int, profile string) error {
	d, cleanup, err := benchstore.Open(ctx, which)
	if err != nil {
		return err
	}
	defer cleanup()
	a, err := app.New(d, app.Options{Logger: slog.New(slog.DiscardHandler), Work: true})
	if err != nil {
		return err
	}
	a.Webhooks.UseSecrets(func(string) string { return secret })
	now := a.Clock.Now()
	cfg := demo.Desk(1)
	desk.Set(cfg, webhook.EndpointsKey, []webhook.Endpoint{endpoint})
	if _, err := a.Desk.Apply(ctx, auth.System("bench"), now, cfg); err != nil {
		return err
	}
	var admin auth.Actor
	users, err := auth.ListUsers(ctx, d)
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.Role == auth.RoleAdmin {
			admin = auth.ActorFor(u)
			break
		}
	}
	var token string
	if err := d.InTx(ctx, func(tx *db.Tx) error {
		token, _, err = auth.CreateToken(ctx, tx, now, admin.UserID, "bench")
		return err
	}); err != nil {
		return err
	}
	srv, err := web.New(a, web.Options{Limits: &web.Limits{}}) // no rate limits: one sender, one address
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = http.Serve(ln, srv.Handler()) }()
	url := "http://" + ln.Addr().String()
	if err := a.Start(ctx); err != nil {
		return err
	}
	defer func() { _ = a.Stop(context.Background()) }()

	// The same generated cases for both: the baseline as API bodies, the
	// webhook as a monitor's posts (ids 1..n), some of them twice.
	var apiBodies, hookBodies [][]byte
	for i, spec := range demo.Generate(cfg, 7, n, now) {
		in := spec.Input
		in.At = time.Time{}
		b, _ := json.Marshal(in)
		apiBodies = append(apiBodies, b)
		h, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("post-%d", i+1), "platform": "x", "title": in.Title,
			"text": in.Description, "category": in.Category, "market": in.Market})
		hookBodies = append(hookBodies, h)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	sends := make([][]byte, 0, n+int(float64(n)*dup))
	sends = append(sends, hookBodies...)
	for range int(float64(n) * dup) {
		sends = append(sends, hookBodies[rng.IntN(n)])
	}
	rng.Shuffle(len(sends), func(i, j int) { sends[i], sends[j] = sends[j], sends[i] })

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients * 2}}
	do := func(path string, body []byte, hdr map[string]string, want ...int) error {
		req, _ := http.NewRequestWithContext(ctx, "POST", url+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !slices.Contains(want, res.StatusCode) {
			return fmt.Errorf("POST %s: %d %s", path, res.StatusCode, b)
		}
		return nil
	}
	base, err := parallel(n, clients, func(i int) error {
		return do("/api/v1/cases", apiBodies[i], map[string]string{"Authorization": "Bearer " + token}, http.StatusCreated)
	})
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	auth := endpoint.Auth.Canonical()
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	hook, err := parallel(len(sends), clients, func(i int) error {
		return do("/api/v1/intake/bench", sends[i], map[string]string{"X-Signature-256": auth.Sign(sends[i], secret, 0)},
			http.StatusCreated, http.StatusOK)
	})
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	pprof.StopCPUProfile()

	var total, receipts, distinctCases int
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM cases`).Scan(&total); err != nil {
		return err
	}
	social := total - n // the baseline's cases are the other n
	if err := d.QueryRow(ctx, `SELECT COUNT(*), COUNT(DISTINCT case_id) FROM intake_receipts WHERE source_key = 'webhook:bench'`).Scan(&receipts, &distinctCases); err != nil {
		return err
	}
	fmt.Printf("## SQLite — %d distinct deliveries + %d repeated, %d clients\n\n", n, len(sends)-n, clients)
	fmt.Printf("| | requests/s | p50 | p99 |\n|---|---:|---:|---:|\n")
	fmt.Printf("| POST /api/v1/cases (baseline) | %.0f | %s | %s |\n", base.rate(), ms(base.pct(.5)), ms(base.pct(.99)))
	fmt.Printf("| POST /api/v1/intake/bench (signed, mapped, de-duplicated) | %.0f | %s | %s |\n", hook.rate(), ms(hook.pct(.5)), ms(hook.pct(.99)))
	fmt.Printf("\nwebhook / baseline: **%.0f%%**; cases from the webhook: %d, receipts %d, distinct ids %d\n", 100*hook.rate()/base.rate(), social, receipts, n)
	if social != n || receipts != n || distinctCases != n {
		return fmt.Errorf("lost or doubled: %d cases, %d receipts (%d cases) for %d distinct ids", social, receipts, distinctCases, n)
	}
	if hook.rate() < target {
		return fmt.Errorf("webhook intake %.0f/s is under the %.0f/s target", hook.rate(), target)
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
