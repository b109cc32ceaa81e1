package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/desk"
)

// sla due and between refuse durations and ranges beyond 3660 days as
// usage errors naming the flag, rather than printing an overflowed or
// far-future answer.
func TestCLISLARefusesAbsurdSpans(t *testing.T) {
	dir := t.TempDir()
	dbURL := "sqlite:" + filepath.Join(dir, "flare.db")
	deskFile := filepath.Join(dir, "desk.yaml")
	if err := os.WriteFile(deskFile, desk.ExampleYAML, 0o644); err != nil {
		t.Fatal(err)
	}
	flare(t, "", false, "migrate", "--db", dbURL)
	flare(t, "", false, "desk", "apply", deskFile, "--db", dbURL)
	refused := func(want string, args ...string) {
		t.Helper()
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"sla"}, append(args, "--db", dbURL)...), strings.NewReader(""), &out, &out)
		var ue usageError
		if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), want) {
			t.Fatalf("flare sla %s: %v (stdout %q), want a usage error with %q", strings.Join(args, " "), err, out.String(), want)
		}
	}
	const from = "2026-12-23T17:30:00Z"
	for _, add := range []string{"100000d", "200000d", "3661d", "87841h"} {
		refused("--add: \""+add+"\" is too long (at most 3660d)", "due", "--calendar", "emea_business", "--from", from, "--add", add)
	}
	refused("--add does not run out", "due", "--calendar", "follow_the_sun", "--from", "9999-06-01T00:00:00Z", "--add", "365d")
	refused("--to must be at most 3660d after from", "between", "--calendar", "emea_business",
		"--from", "0001-01-01T00:00:00Z", "--to", "9999-12-31T23:59:59Z")
	refused("--to must not be before from", "between", "--calendar", "emea_business", "--from", from, "--to", "2026-12-01T00:00:00Z")
	if out := lastLine(flare(t, "", false, "sla", "between", "--db", dbURL, "--calendar", "follow_the_sun",
		"--from", from, "--to", "2036-12-30T17:30:00Z")); out != "87840h0m0s" {
		t.Fatalf("between at the bound: %q", out)
	}
	if due := lastLine(flare(t, "", false, "sla", "due", "--db", dbURL, "--calendar", "follow_the_sun",
		"--from", from, "--add", "3660d")); due != "2036-12-30T17:30:00Z" {
		t.Fatalf("due at the bound: %q", due)
	}
}
