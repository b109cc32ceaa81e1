package flare_test

// The import rules of ARCHITECTURE.md, kept by this test. It reads the
// imports of every package under internal/ and cmd/ from the source (no
// build needed) and checks the layering.

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/flare-desk/flare/"

// imports maps each package (path below the module) to its non-test imports.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, root := range []string{"internal", "cmd", "bench"} {
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			pkg := filepath.ToSlash(filepath.Dir(path))
			if _, ok := out[pkg]; !ok {
				out[pkg] = nil
			}
			for _, im := range f.Imports {
				p := strings.Trim(im.Path.Value, `"`)
				if rel, ok := strings.CutPrefix(p, module); ok {
					p = rel
				}
				if !slices.Contains(out[pkg], p) {
					out[pkg] = append(out[pkg], p)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// deps is every package pkg imports, directly or not (standard and
// third-party packages included, by import path).
func deps(graph map[string][]string, pkg string) []string {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(p string) {
		for _, d := range graph[p] {
			if !seen[d] {
				seen[d] = true
				walk(d)
			}
		}
	}
	walk(pkg)
	out := make([]string, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

func internal(p string) bool {
	return strings.HasPrefix(p, "internal/") || strings.HasPrefix(p, "cmd/")
}

// Edges are the packages that wire or serve capabilities; the rest of
// internal/ are domain packages.
var edges = []string{"internal/web", "internal/app", "internal/app/apptest", "internal/demo"}

func TestDomainPackagesImportNoEdge(t *testing.T) {
	g := imports(t)
	for pkg := range g {
		if !strings.HasPrefix(pkg, "internal/") || slices.Contains(edges, pkg) {
			continue
		}
		for _, d := range deps(g, pkg) {
			if slices.Contains(edges, d) || strings.HasPrefix(d, "cmd/") {
				t.Errorf("%s imports %s: domain packages never import the web, app, demo or cmd layers", pkg, d)
			}
		}
	}
}

// The pure cores compute over values: no store, no events, no I/O layer.
func TestPureCoresStayPure(t *testing.T) {
	g := imports(t)
	pure := []string{"internal/sla", "internal/routing", "internal/assign", "internal/apperr", "internal/clock", "internal/input",
		"internal/oncall/rota", "internal/detect", "internal/detect/nab", "internal/classify", "internal/staffing"}
	for _, pkg := range pure {
		if _, ok := g[pkg]; !ok {
			continue // not (yet) in this tree
		}
		for _, d := range deps(g, pkg) {
			if (internal(d) && !slices.Contains(pure, d)) || strings.HasPrefix(d, "database/") ||
				strings.Contains(d, "pgx") || strings.Contains(d, "sqlite") || d == "net/http" {
				t.Errorf("%s imports %s: a pure core imports only other pure cores", pkg, d)
			}
		}
	}
}

// cases knows nothing of the capabilities that react to it: they use its
// seams and events. What it may build on is listed here; a capability
// package is never on this list.
func TestCasesImportsNoCapability(t *testing.T) {
	g := imports(t)
	below := []string{"internal/apperr", "internal/assign", "internal/audit", "internal/auth", "internal/clock",
		"internal/db", "internal/deadline", "internal/desk", "internal/events", "internal/input", "internal/jobs", "internal/routing",
		"internal/routing/routingdesk", "internal/sla"}
	for _, d := range deps(g, "internal/cases") {
		if internal(d) && !slices.Contains(below, d) {
			t.Errorf("internal/cases imports %s: cases offers seams and events; capabilities import cases, not the reverse", d)
		}
	}
	for _, d := range deps(g, "internal/events") {
		if internal(d) && !slices.Contains([]string{"internal/apperr", "internal/audit", "internal/auth", "internal/clock", "internal/db"}, d) {
			t.Errorf("internal/events imports %s: the event stream sits below every capability", d)
		}
	}
}

// The HTTP layer asks the capabilities; it holds no SQL and opens no
// transactions of its own.
func TestWebHoldsNoSQL(t *testing.T) {
	files, err := filepath.Glob("internal/web/*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		for _, bad := range []string{`"database/sql"`, ".InTx(", ".QueryRow(", ".Query(ctx", ".Exec(ctx", "SELECT ", "INSERT ", "UPDATE ", "DELETE FROM"} {
			if strings.Contains(src, bad) {
				t.Errorf("%s contains %q: SQL and transactions belong to the capability packages", f, bad)
			}
		}
	}
}
