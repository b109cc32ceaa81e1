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
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/flare-desk/flare/bench/internal/benchload"
	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/intake/webhook"
)

const secret = "bench-secret"

var target float64

var memProfile string

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
	flag.StringVar(&memProfile, "memprofile", "", "write a profile of the webhook phase's allocations to FILE")
	flag.Float64Var(&target, "target", 1000, "fail when webhook intake is slower (requests/s)")
	flag.Parse()
	gc, limit := app.SetRuntimeDefaults() // as flare serves
	fmt.Printf("GC percent %d, memory limit %d MiB\n", gc, limit>>20)
	if err := run(context.Background(), *dbFlag, *n, *dup, *clients, *profile); err != nil {
		fmt.Fprintln(os.Stderr, "intake_webhook:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, which string, n int, dup float64, clients int, profile string) error {
	e, err := benchload.Start(ctx, which, func(a *app.App, cfg *desk.Config) {
		a.Webhooks.UseSecrets(func(string) string { return secret })
		desk.Set(cfg, webhook.EndpointsKey, []webhook.Endpoint{endpoint})
	})
	if err != nil {
		return err
	}
	defer e.Close()
	d, token, url := e.App.DB, e.Token, e.URL
	ins, apiBodies, err := benchload.Cases(e.Desk, n, e.App.Clock.Now())
	if err != nil {
		return err
	}
	// The same generated cases for both: the baseline as API bodies, the
	// webhook as a monitor's posts (ids 1..n), some of them twice.
	var hookBodies [][]byte
	for i, in := range ins {
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
	base, err := benchload.Parallel(n, clients, func(i int) error {
		return do("/api/v1/cases", apiBodies[i], map[string]string{"Authorization": "Bearer " + token}, http.StatusCreated)
	})
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	if err := e.Drain(ctx, &base, 5*time.Minute); err != nil {
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
	if memProfile != "" {
		runtime.MemProfileRate = 64 << 10
		runtime.GC()
		defer func() {
			if f, err := os.Create(memProfile); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	hook, err := benchload.Parallel(len(sends), clients, func(i int) error {
		return do("/api/v1/intake/bench", sends[i], map[string]string{"X-Signature-256": auth.Sign(sends[i], secret, 0)},
			http.StatusCreated, http.StatusOK)
	})
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	if err := e.Drain(ctx, &hook, 5*time.Minute); err != nil {
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
	label := "SQLite"
	if d.Dialect() == db.Postgres {
		label = "PostgreSQL"
	}
	fmt.Printf("## %s — %d distinct deliveries + %d repeated, %d clients\n\n", label, n, len(sends)-n, clients)
	fmt.Printf("| | requests/s | p50 | p99 | CPU per request (outbox drained after: %s, %s) |\n|---|---:|---:|---:|---:|\n",
		base.Drained.Round(time.Millisecond), hook.Drained.Round(time.Millisecond))
	fmt.Printf("| POST /api/v1/cases (baseline) | %.0f | %s | %s | %.0f µs |\n", base.Rate(), benchload.Ms(base.Pct(.5)), benchload.Ms(base.Pct(.99)), base.CPUPer())
	fmt.Printf("| POST /api/v1/intake/bench (signed, mapped, de-duplicated) | %.0f | %s | %s | %.0f µs |\n", hook.Rate(), benchload.Ms(hook.Pct(.5)), benchload.Ms(hook.Pct(.99)), hook.CPUPer())
	fmt.Printf("\nwebhook / baseline: **%.0f%%**; cases from the webhook: %d, receipts %d, distinct ids %d\n", 100*hook.Rate()/base.Rate(), social, receipts, n)
	if social != n || receipts != n || distinctCases != n {
		return fmt.Errorf("lost or doubled: %d cases, %d receipts (%d cases) for %d distinct ids", social, receipts, distinctCases, n)
	}
	if hook.Rate() < target {
		return fmt.Errorf("webhook intake %.0f/s is under the %.0f/s target", hook.Rate(), target)
	}
	return nil
}
