package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
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
