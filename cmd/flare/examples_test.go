package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The documentation's shell examples are run against a demo desk and must
// answer as the documentation says.
//
// An example is a command in a ```sh block of README.md or docs/*.md
// (continued over lines ending in \) whose last line ends with a comment
// giving the HTTP status it answers with, optionally followed by text the
// answer's body contains:
//
//	curl -s -H "Authorization: Bearer $TOKEN" $FLARE/api/v1/cases/ESC-3001   # 200 "priority_reasons"
//
// The examples run in document order in one bash session (a variable one
// sets is there for the next), with FLARE and TOKEN as `flare demo` prints
// them; other lines of the blocks are not run.

// docFiles are the documents whose examples TestDocExamples runs.
func docFiles(t *testing.T) []string {
	t.Helper()
	files := []string{filepath.Join("..", "..", "README.md")}
	docs, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append(files, docs...)
}

type docExample struct {
	file   string
	line   int // of the command's first line
	cmd    string
	status int
	body   string // text the answer contains; "" for none
}

func (e docExample) String() string {
	return fmt.Sprintf("%s:%d: %s", filepath.Base(e.file), e.line, firstLine(e.cmd))
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

var expectRe = regexp.MustCompile(`\s#\s*([1-5][0-9][0-9])(?:\s+(.*?))?\s*$`)

// parseExamples reads the examples of one Markdown document.
func parseExamples(file string, r io.Reader) ([]docExample, error) {
	var out []docExample
	sc := bufio.NewScanner(r)
	inSh, n := false, 0
	var cmd []string
	start := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case !inSh && (trimmed == "```sh" || trimmed == "```bash"):
			inSh, cmd = true, nil
			continue
		case inSh && trimmed == "```":
			inSh = false
			continue
		case !inSh:
			continue
		}
		if len(cmd) == 0 {
			start = n
		}
		cmd = append(cmd, line)
		if strings.HasSuffix(trimmed, `\`) || openQuote(strings.Join(cmd, "\n")) {
			continue
		}
		full := strings.Join(cmd, "\n")
		cmd = nil
		m := expectRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		status, _ := strconv.Atoi(m[1])
		out = append(out, docExample{file: file, line: start, cmd: full, status: status, body: m[2]})
	}
	if inSh {
		return nil, fmt.Errorf("%s: a ```sh block is not closed", file)
	}
	return out, sc.Err()
}

// openQuote reports whether shell text ends inside a quoted string (a
// JSON body over several lines). Comments do not count.
func openQuote(s string) bool {
	var q, prev rune = 0, '\n'
	escaped, comment := false, false
	for _, c := range s {
		switch {
		case comment:
			comment = c != '\n'
		case escaped:
			escaped = false
		case c == '\\' && q != '\'':
			escaped = true
		case q == 0 && c == '#' && (prev == ' ' || prev == '\t' || prev == '\n'):
			comment = true
		case q == 0 && (c == '\'' || c == '"'):
			q = c
		case c == q:
			q = 0
		}
		prev = c
	}
	return q != 0
}

func TestParseExamples(t *testing.T) {
	doc := "Text\n```sh\ngo run ./cmd/flare demo   # the desk's demo, not an example\ncurl -s $FLARE/readyz   # 200\n" +
		"curl -s -d '{\"a\": 1,\n  \"b\": 2}' \\\n  $FLARE/api/v1/cases   # 201 \"number\":\"ESC-1\"\n```\n```yaml\nx: 1   # 200\n```\n"
	got, err := parseExamples("doc.md", strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].status != 200 || got[0].line != 4 || got[1].status != 201 || got[1].line != 5 ||
		got[1].body != `"number":"ESC-1"` || !strings.Contains(got[1].cmd, "\"b\": 2}' \\\n  $FLARE/api/v1/cases") {
		t.Fatalf("examples: %+v", got)
	}
	if _, err := parseExamples("doc.md", strings.NewReader("```sh\ncurl x # 200\n")); err == nil {
		t.Fatal("an unclosed block is not reported")
	}
}

func TestDocExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the full demo desk; not in -short mode")
	}
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the examples need %s: %v", tool, err)
		}
	}
	var examples []docExample
	for _, f := range docFiles(t) {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		ex, err := parseExamples(f, fh)
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		examples = append(examples, ex...)
	}
	if len(examples) < 10 {
		t.Fatalf("found only %d examples in the documentation", len(examples))
	}

	// The demo desk exactly as the README starts it, on a free port.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"demo", "--addr", "127.0.0.1:0", "--db", "sqlite:" + filepath.Join(t.TempDir(), "demo.db")},
			strings.NewReader(""), pw, io.Discard)
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	env, err := waitForDemo(pr, 10*time.Minute)
	if err != nil {
		cancel()
		t.Fatalf("%v (demo: %v)", err, <-done)
	}
	go io.Copy(io.Discard, pr) //nolint:errcheck // keep the demo's output flowing

	dir := t.TempDir()
	var script strings.Builder
	script.WriteString("curl() { command curl -m 30 -D \"$EX/headers\" \"$@\" | tee \"$EX/body\"; }\n")
	for i, e := range examples {
		ex := filepath.Join(dir, strconv.Itoa(i))
		if err := os.Mkdir(ex, 0o755); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&script, "EX=%s\n{\n%s\n} >%s/out 2>%s/err\n", ex, e.cmd, ex, ex)
	}
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-c", script.String())
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("running the examples: %v\n%s", err, out)
	}
	for i, e := range examples {
		ex := filepath.Join(dir, strconv.Itoa(i))
		headers, _ := os.ReadFile(filepath.Join(ex, "headers"))
		body, _ := os.ReadFile(filepath.Join(ex, "body"))
		stderr, _ := os.ReadFile(filepath.Join(ex, "err"))
		status := lastStatus(string(headers))
		switch {
		case status != e.status:
			t.Errorf("%s\nanswered %d, the documentation says %d\n%s%s", e, status, e.status, body, stderr)
		case e.body != "" && !strings.Contains(string(body), e.body):
			t.Errorf("%s\nthe answer does not contain %s:\n%s", e, e.body, body)
		}
	}
	t.Logf("ran %d examples", len(examples))
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("demo: %v", err)
	}
}

// waitForDemo reads the demo's output until its cases are loaded and
// returns the FLARE and TOKEN it says to export.
func waitForDemo(r io.Reader, timeout time.Duration) ([]string, error) {
	type result struct {
		env []string
		err error
	}
	res := make(chan result, 1)
	go func() {
		sc := bufio.NewScanner(r)
		var env []string
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if vars, ok := strings.CutPrefix(line, "export "); ok {
				env = strings.Fields(vars)
			}
			if strings.HasPrefix(line, "Demo desk loaded") {
				if len(env) != 2 || !strings.HasPrefix(env[0], "FLARE=http://") || !strings.HasPrefix(env[1], "TOKEN=flr_") {
					res <- result{err: fmt.Errorf("flare demo printed no usable export line: %q", env)}
				} else {
					res <- result{env: env}
				}
				return
			}
		}
		res <- result{err: fmt.Errorf("flare demo ended before its desk was loaded: %v", sc.Err())}
	}()
	select {
	case r := <-res:
		return r.env, r.err
	case <-time.After(timeout):
		return nil, fmt.Errorf("the demo desk did not load within %s", timeout)
	}
}

// lastStatus is the status of the last response in a curl header dump.
func lastStatus(headers string) int {
	status := 0
	for _, l := range strings.Split(headers, "\n") {
		if f := strings.Fields(l); len(f) >= 2 && strings.HasPrefix(f[0], "HTTP/") {
			status, _ = strconv.Atoi(f[1])
		}
	}
	return status
}
