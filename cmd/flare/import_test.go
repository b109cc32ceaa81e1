package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImportCasesCommand(t *testing.T) {
	dir := t.TempDir()
	dbURL := "sqlite:" + filepath.Join(dir, "flare.db")
	ctx := context.Background()
	var out strings.Builder
	if err := run(ctx, []string{"desk", "apply", filepath.Join("..", "..", "internal", "desk", "example.yaml"), "--db", dbURL}, nil, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "cases.csv")
	csv := "title,category,market,field.order_id,external_id\nLost parcel,logistics/lost_parcel,GB,ORD-1,old-1\nBad row,logistics/nope,GB,,old-2\n"
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(ctx, []string{"import", "cases", file, "--db", dbURL}, nil, &out, io.Discard)
	if err == nil || !strings.Contains(out.String(), "line 3: category: unknown category") || !strings.Contains(out.String(), "nothing imported") {
		t.Fatalf("bad file: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"import", "cases", "--partial", file, "--db", dbURL}, nil, &out, io.Discard); err != nil ||
		!strings.Contains(out.String(), "1 cases created") {
		t.Fatalf("partial: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"import", "cases", "-", "--partial", "--db", dbURL}, strings.NewReader(csv), &out, io.Discard); err != nil ||
		!strings.Contains(out.String(), "0 cases created, 1 seen before") {
		t.Fatalf("again from stdin: %v\n%s", err, out.String())
	}
}
