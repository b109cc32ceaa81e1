package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
)

// flare runs the CLI and returns stdout; it fails the test on error unless wantErr.
func flare(t *testing.T, stdin string, wantErr bool, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	if (err != nil) != wantErr {
		t.Fatalf("flare %s: err=%v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func TestCLIAdminFlow(t *testing.T) {
	dir := t.TempDir()
	dbURL := "sqlite:" + filepath.Join(dir, "flare.db")
	deskFile := filepath.Join(dir, "desk.yaml")
	if err := os.WriteFile(deskFile, desk.ExampleYAML, 0o644); err != nil {
		t.Fatal(err)
	}
	flare(t, "", false, "migrate", "--db", dbURL)
	out := flare(t, "", false, "desk", "apply", deskFile, "--db", dbURL)
	if !strings.Contains(out, "version 1 applied") {
		t.Fatalf("apply: %s", out)
	}
	// A second apply of the same document changes nothing.
	if out := flare(t, "", false, "desk", "apply", deskFile, "--db", dbURL); !strings.Contains(out, "(0 changes)") {
		t.Fatalf("re-apply: %s", out)
	}
	// Export round-trips byte for byte.
	exported := flare(t, "", false, "desk", "export", "--db", dbURL)
	schema, err := app.DeskSchema()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := schema.Example()
	canon, _ := desk.Marshal(want)
	if exported != string(canon) {
		t.Fatalf("export differs from the applied document:\n%s", exported)
	}
	// An invalid document lists its problems with paths and applies nothing.
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(strings.Replace(string(desk.ExampleYAML), "timezone: Europe/London", "timezone: Mars/Olympus", 1)), 0o644)
	out = flare(t, "", true, "desk", "apply", bad, "--db", dbURL)
	if !strings.Contains(out, "markets[0].timezone") {
		t.Fatalf("bad desk: %s", out)
	}
	out = flare(t, "correct horse battery\n", false, "user", "add", "--db", dbURL, "--email", "Nina@Flare.example",
		"--name", "Nina Novak", "--role", "agent", "--team", "logistics", "--password-stdin")
	if !strings.Contains(out, "nina@flare.example (agent) created") {
		t.Fatalf("user add: %s", out)
	}
	flare(t, "", true, "user", "add", "--db", dbURL, "--email", "x@flare.example", "--name", "X", "--role", "pilot")
	token := lastLine(flare(t, "", false, "token", "create", "--db", dbURL, "--email", "nina@flare.example"))
	if !strings.HasPrefix(token, "flr_") {
		t.Fatalf("token on the last line: %q", token)
	}
	// Wed 23 Dec 2026 17:30 London + 1h of emea_business: closed on the 24th, bank holidays on the 25th and 28th.
	if due := lastLine(flare(t, "", false, "sla", "due", "--db", dbURL, "--calendar", "emea_business",
		"--from", "2026-12-23T17:30:00Z", "--add", "1h")); due != "2026-12-29T09:30:00Z" {
		t.Fatalf("sla due: %q", due)
	}
	if out := lastLine(flare(t, "", false, "sla", "between", "--db", dbURL, "--calendar", "emea_business",
		"--from", "2026-12-23T17:30:00Z", "--to", "2026-12-29T10:00:00Z")); out != "1h30m0s" {
		t.Fatalf("sla between: %q", out)
	}
	flare(t, "", true, "sla", "due", "--db", dbURL, "--calendar", "nope", "--from", "2026-12-23T17:30:00Z", "--add", "1h")
	flare(t, "", true, "sla", "due", "--db", dbURL, "--calendar", "emea_business", "--from", "tomorrow", "--add", "1h")
	if out := flare(t, "", false, "audit", "verify", "--db", dbURL); !strings.Contains(out, "audit chain intact") {
		t.Fatalf("verify: %s", out)
	}
	d, err := db.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(context.Background(), `UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if out := flare(t, "", true, "audit", "verify", "--db", dbURL); !strings.Contains(out, "BROKEN at record 2") {
		t.Fatalf("tampered chain: %s", out)
	}
	if out := flare(t, "", false, "version"); !strings.HasPrefix(out, "flare ") {
		t.Fatalf("version: %s", out)
	}
	flare(t, "", true, "frobnicate")
}

// serve answers, then shuts down cleanly when its context ends (SIGINT/SIGTERM).
func TestServeShutsDownGracefully(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		var out bytes.Buffer
		done <- run(ctx, []string{"serve", "--addr", addr, "--db", "sqlite:" + filepath.Join(t.TempDir(), "f.db")}, strings.NewReader(""), &out, io.Discard)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(25 * time.Second):
		t.Fatal("server did not stop")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Fatal("server still answers after shutdown")
	}
}
