package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

// prometheusBin finds a Prometheus binary (Debian's prometheus package);
// without one the test skips, unless CI requires it.
func prometheusBin(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("FLARE_TEST_REQUIRE_PROMETHEUS") == "1" {
			t.Fatalf("%s is required (FLARE_TEST_REQUIRE_PROMETHEUS=1) but not found: apt-get install prometheus", name)
		}
		t.Skipf("%s not found (Debian package prometheus); skipping the real Prometheus check", name)
	}
	return p
}

// The example configuration and alert rules in docs/prometheus are valid,
// and a real Prometheus scrapes a running Flare and can query its desk
// metrics.
func TestPrometheusScrapesFlare(t *testing.T) {
	promtool := prometheusBin(t, "promtool")
	prom := prometheusBin(t, "prometheus")
	docs := filepath.Join("..", "..", "docs", "prometheus")
	for _, args := range [][]string{{"check", "rules", filepath.Join(docs, "flare-rules.yml")},
		{"check", "config", filepath.Join(docs, "prometheus.yml")}} {
		if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
			t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}

	e := newAPIEnv(t, dbtest.SQLite(t, app.Migrate))
	_, err := e.app.Cases.Create(context.Background(), e.actors["agent"], cases.CreateInput{Title: "Lost parcel",
		Category: "logistics/lost_parcel", Market: "GB", Channel: "email", Fields: map[string]any{"order_id": "ORD-1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	body := e.do("", "GET", "/metrics", nil).body
	lint := exec.Command(promtool, "check", "metrics")
	lint.Stdin = strings.NewReader(string(body))
	if out, err := lint.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}

	// A real Prometheus scraping the server every second.
	target := strings.TrimPrefix(e.srv.URL, "http://")
	dir := t.TempDir()
	cfg := fmt.Sprintf("global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: flare\n    static_configs: [{targets: [%q]}]\n", target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, prom, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })

	query := "http://" + addr + "/api/v1/query?query=" + url.QueryEscape(`flare_cases_created_total{channel="email"}`)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if v, ok := promValue(query); ok {
			if v != "1" {
				t.Fatalf("Prometheus read flare_cases_created_total{channel=\"email\"} = %s, want 1", v)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus did not scrape Flare within 60 s; its log:\n%s", log.String())
		}
		time.Sleep(250 * time.Millisecond) // polling a separate process: it scrapes on its own clock
	}
}

// promValue runs an instant query and returns the first sample's value.
func promValue(query string) (string, bool) {
	resp, err := http.Get(query)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if json.NewDecoder(resp.Body).Decode(&r) != nil || len(r.Data.Result) == 0 {
		return "", false
	}
	v, _ := r.Data.Result[0].Value[1].(string)
	return v, true
}
