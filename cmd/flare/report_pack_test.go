package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/desk"
)

// report pack builds a closed period's pack in each format, to stdout or
// a file, and refuses bad flags with a usage error.
func TestCLIReportPack(t *testing.T) {
	dir := t.TempDir()
	dbURL := "sqlite:" + filepath.Join(dir, "flare.db")
	deskFile := filepath.Join(dir, "desk.yaml")
	if err := os.WriteFile(deskFile, desk.ExampleYAML, 0o644); err != nil {
		t.Fatal(err)
	}
	flare(t, "", false, "migrate", "--db", dbURL)
	flare(t, "", false, "desk", "apply", deskFile, "--db", dbURL)
	pack := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"report", "pack", "--db", dbURL}, args...), strings.NewReader(""), &out, &out)
		return out.String(), err
	}
	out, err := pack("--cadence", "weekly", "--period", "2026-W45", "--format", "csv")
	if err != nil || !strings.HasPrefix(out, "section,key,figure,value,previous,target\nkpis,desk,intake,0,0,\n") {
		t.Fatalf("csv: %v\n%s", err, out)
	}
	out, err = pack("--cadence", "monthly", "--period", "2026-10", "--format", "json")
	var p struct {
		Title  string
		Period struct{ From, To string }
	}
	if err != nil || json.Unmarshal([]byte(out), &p) != nil || p.Title != "Monthly review — 2026-10" || p.Period.From != "2026-10-01T00:00:00Z" {
		t.Fatalf("json: %v %+v\n%s", err, p, out)
	}
	file := filepath.Join(dir, "pack.html")
	if out, err = pack("--cadence", "biweekly", "--period", "2026-W45", "-o", file); err != nil || !strings.Contains(out, "wrote "+file+" (html") {
		t.Fatalf("-o: %v %s", err, out)
	}
	if b, _ := os.ReadFile(file); !bytes.Contains(b, []byte("<h1")) || !bytes.Contains(b, []byte("Bi-weekly review — 2026-W45")) {
		t.Fatalf("html file:\n%s", b)
	}
	for _, bad := range [][]string{{"--cadence", "weekly"}, {"--cadence", "weekly", "--period", "2026-11"},
		{"--cadence", "daily", "--period", "2026-W45"}, {"--cadence", "weekly", "--period", "2026-W45", "--format", "xlsx"},
		{"--cadence", "weekly", "--period", "2199-W01"}} {
		var ue usageError
		if _, err := pack(bad...); !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error", bad, err)
		}
	}
	if _, err := exec.LookPath("chromium"); err != nil {
		t.Log("no chromium: the PDF is not checked")
		return
	}
	pdf := filepath.Join(dir, "pack.pdf")
	if out, err := pack("--cadence", "weekly", "--period", "2026-W45", "-o", pdf); err != nil {
		t.Fatalf("pdf: %v %s", err, out)
	}
	if b, _ := os.ReadFile(pdf); !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %.40q", b)
	}
}
