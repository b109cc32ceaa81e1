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

func staffingLastLine(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), append([]string{"report", "staffing"}, args...), strings.NewReader(""), &out, &out)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	return lines[len(lines)-1], err
}

// The published Erlang C reference case, both ways round.
func TestCLIStaffing(t *testing.T) {
	ref := []string{"--contacts", "100", "--period", "30m", "--aht", "180s", "--target", "20s"}
	line, err := staffingLastLine(t, append(ref, "--agents", "14")...)
	if err != nil || line != "service_level=0.8884 asa=7.84" {
		t.Fatalf("--agents 14: %q %v", line, err)
	}
	line, err = staffingLastLine(t, append(ref, "--service-level", "0.8")...)
	if err != nil || line != "agents=14 service_level=0.8884 asa=7.84" {
		t.Fatalf("--service-level 0.8: %q %v", line, err)
	}
	for _, bad := range [][]string{
		append(ref, "--agents", "10"),                           // cannot keep up
		append(ref, "--agents", "14", "--service-level", "0.8"), // both
		ref, // neither
		{"--contacts", "100", "--aht", "3x", "--agents", "14"},  // bad duration
		{"--contacts", "-5", "--aht", "180s", "--agents", "14"}, // negative load
		append(ref, "--service-level", "1.5"),                   // not a share
	} {
		var ue usageError
		if _, err := staffingLastLine(t, bad...); !errors.As(err, &ue) {
			t.Errorf("flare report staffing %s: %v, want a usage error", strings.Join(bad, " "), err)
		}
	}
}

// desk impact reads a proposed document, refuses a broken one with its
// problems, and prints the comparison's summary on its last line.
func TestCLIDeskImpact(t *testing.T) {
	dir := t.TempDir()
	dbURL := "sqlite:" + filepath.Join(dir, "flare.db")
	deskFile := filepath.Join(dir, "desk.yaml")
	if err := os.WriteFile(deskFile, desk.ExampleYAML, 0o644); err != nil {
		t.Fatal(err)
	}
	flare(t, "", false, "migrate", "--db", dbURL)
	flare(t, "", false, "desk", "apply", deskFile, "--db", dbURL)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"desk", "impact", deskFile, "--days", "30", "--db", dbURL}, strings.NewReader(""), &out, &out); err != nil {
		t.Fatalf("impact: %v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if last := lines[len(lines)-1]; last != "changed_team=0 changed_priority=0 breaches=0→0" {
		t.Fatalf("last line %q\n%s", last, out.String())
	}
	broken := filepath.Join(dir, "broken.yaml")
	if err := os.WriteFile(broken, []byte("markets: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"desk", "impact", broken, "--db", dbURL}, strings.NewReader(""), &out, &out); err == nil {
		t.Fatalf("a broken document was replayed: %s", out.String())
	}
	var ue usageError
	if err := run(context.Background(), []string{"desk", "impact", deskFile, "--days", "0", "--db", dbURL}, strings.NewReader(""), &out, &out); !errors.As(err, &ue) {
		t.Fatalf("--days 0: %v", err)
	}
}
