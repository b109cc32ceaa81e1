package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

// alertmanagerBin is Debian's prometheus-alertmanager (.ci/run installs it).
const alertmanagerBin = "/usr/bin/prometheus-alertmanager"

// TestRealAlertmanager runs a real Alertmanager whose webhook receiver is
// this Flare: an alert posted to Alertmanager's API opens a case, and the
// same alert posted again with endsAt in the past resolves it.
func TestRealAlertmanager(t *testing.T) {
	if _, err := os.Stat(alertmanagerBin); err != nil {
		if os.Getenv("FLARE_TEST_REQUIRE_ALERTMANAGER") == "1" {
			t.Fatalf("%s is required: %v", alertmanagerBin, err)
		}
		t.Skipf("no Alertmanager (%v); apt-get install prometheus-alertmanager", err)
	}
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		withIntakeEndpoints(t, e.app)
		amURL := startAlertmanager(t, e.srv.URL+"/api/v1/intake/alertmanager/prod", testSecrets["FLARE_TEST_AM"])

		startsAt := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
		alert := map[string]any{
			"labels":       map[string]string{"alertname": "PayoutsFailing", "market": "GB", "severity": "critical"},
			"annotations":  map[string]string{"summary": "Payouts to GB sellers are failing"},
			"startsAt":     startsAt,
			"generatorURL": "http://prometheus.example/graph?g0.expr=payouts_failed",
		}
		postAlerts(t, amURL, alert)
		c := waitForCase(t, e, func(c *cases.Case) bool { return true })
		if c.Channel != "alert" || !strings.Contains(c.Title, "PayoutsFailing") || c.Category != "payments/payout_failed" {
			t.Fatalf("case %+v", c)
		}
		alert["endsAt"] = time.Now().UTC().Add(-time.Second)
		postAlerts(t, amURL, alert)
		c = waitForCase(t, e, func(c *cases.Case) bool { return c.Status == cases.StatusResolved })
		evs, err := e.app.Cases.Events(context.Background(), auth.System("test"), c.Number)
		if err != nil {
			t.Fatal(err)
		}
		var resolved bool
		for _, ev := range evs {
			resolved = resolved || (ev.Type == "status" && ev.Data["to"] == "resolved")
		}
		if !resolved || c.Resolution != "fixed" {
			t.Fatalf("no resolution on the timeline: %+v", evs)
		}
		var n int
		if err := d.QueryRow(context.Background(), `SELECT COUNT(*) FROM cases`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d cases, %v", n, err)
		}
	})
}

// startAlertmanager runs Alertmanager on a free port with one webhook
// receiver, grouping by alertname with short waits, and returns its URL.
func startAlertmanager(t *testing.T, webhookURL, token string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  resolve_timeout: 1m
route:
  receiver: flare
  group_by: [alertname]
  group_wait: 100ms
  group_interval: 500ms
  repeat_interval: 1h
receivers:
  - name: flare
    webhook_configs:
      - url: %q
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: %q
`, webhookURL, token)
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	var out bytes.Buffer
	cmd := exec.Command(alertmanagerBin, "--config.file="+filepath.Join(dir, "alertmanager.yml"),
		"--storage.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("alertmanager:\n%s", out.String())
		}
	})
	url := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(url + "/-/ready")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return url
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager not ready: %v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func postAlerts(t *testing.T, amURL string, alerts ...map[string]any) {
	t.Helper()
	body, _ := json.Marshal(alerts)
	res, err := http.Post(amURL+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("alertmanager refused the alert: %d", res.StatusCode)
	}
}

// waitForCase polls (bounded) for the store's only alert case to satisfy ok.
func waitForCase(t *testing.T, e *apiEnv, ok func(*cases.Case) bool) *cases.Case {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var number int64
		err := e.app.DB.QueryRow(ctx, `SELECT number FROM cases WHERE channel = 'alert' ORDER BY id LIMIT 1`).Scan(&number)
		if err == nil {
			c, err := e.app.Cases.Get(ctx, auth.System("test"), cases.FormatNumber(number))
			if err != nil {
				t.Fatal(err)
			}
			if ok(c) {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no such alert case within 30 s (last: %v)", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
