package web

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/live"
)

// sseNote is one event read from a stream.
type sseNote struct {
	event string
	note  live.Note
}

// openStream opens GET /api/v1/stream on srv with a token and returns its
// notes as they arrive.
func openStream(t *testing.T, srvURL, token, query string) <-chan sseNote {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srvURL+"/api/v1/stream"+query, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	out := make(chan sseNote, 64)
	t.Cleanup(func() { cancel(); res.Body.Close() })
	go func() {
		defer close(out)
		sc := bufio.NewScanner(res.Body)
		var ev string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				var n live.Note
				if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &n) == nil {
					out <- sseNote{ev, n}
				}
			}
		}
	}()
	return out
}

// waitNote waits up to d for a note match accepts, failing after it.
func waitNote(t *testing.T, c <-chan sseNote, d time.Duration, what string, match func(sseNote) bool) sseNote {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case n, ok := <-c:
			if !ok {
				t.Fatalf("%s: the stream ended", what)
			}
			if match(n) {
				return n
			}
		case <-deadline:
			t.Fatalf("%s: nothing within %s", what, d)
		}
	}
}

// noNote checks that no note match accepts arrives within d.
func noNote(t *testing.T, c <-chan sseNote, d time.Duration, what string, match func(sseNote) bool) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case n := <-c:
			if match(n) {
				t.Fatalf("%s: got %+v", what, n)
			}
		case <-deadline:
			return
		}
	}
}

// TestLiveStreamAcrossNodes runs two Flare servers on one database: a case
// created on node A reaches a stream open on node B (the events table is
// tailed), only for users who may see the case, and two people with the
// same case open on different nodes see each other.
func TestLiveStreamAcrossNodes(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		a := newAPIEnv(t, d) // node A, with the users and their tokens
		b, err := app.New(d, app.Options{Clock: a.app.Clock, Live: live.Options{Poll: 50 * time.Millisecond, Presence: 100 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { b.Live.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		sb, err := New(b, Options{Limits: &Limits{}})
		if err != nil {
			t.Fatal(err)
		}
		nodeB := httptest.NewServer(sb.Handler())
		t.Cleanup(nodeB.Close)
		<-b.Live.Tailing() // the tail starts after what is already stored

		lead := openStream(t, nodeB.URL, a.tokens["lead"], "")
		agent := openStream(t, nodeB.URL, a.tokens["agent"], "")
		restricted := a.newCase("restricted") // payments: not the agent's
		isCase := func(num string) func(sseNote) bool {
			return func(n sseNote) bool { return n.event == "case" && n.note.Case == num }
		}
		start := time.Now()
		n := waitNote(t, lead, 2*time.Second, "the lead on node B hears of node A's case", isCase(restricted))
		if n.note.Type != "case.created" || n.note.Kind != live.KindCase {
			t.Fatalf("note = %+v", n.note)
		}
		t.Logf("node A → node B in %s", time.Since(start))
		normal := a.newCase("normal") // logistics GB: the agent's team
		waitNote(t, agent, 2*time.Second, "the agent hears of a case of their team", isCase(normal))
		noNote(t, agent, 300*time.Millisecond, "the agent must not hear of a restricted case of another team", isCase(restricted))

		// Presence: the lead views the case on node A, the agent on node B.
		onA := openStream(t, a.srv.URL, a.tokens["lead"], "?case="+normal)
		onB := openStream(t, nodeB.URL, a.tokens["agent"], "?case="+normal)
		name := a.actors["lead"].Name
		waitNote(t, onB, 2*time.Second, "the agent sees the lead viewing", func(n sseNote) bool {
			return n.event == "presence" && len(n.note.Viewers) == 1 && n.note.Viewers[0].Name == name
		})
		// Node A runs the default options: it re-reads a case's viewers every 2 s.
		waitNote(t, onA, 5*time.Second, "the lead sees the agent viewing", func(n sseNote) bool {
			return n.event == "presence" && len(n.note.Viewers) == 1 && n.note.Viewers[0].Name == a.actors["agent"].Name
		})

		// Streams refuse what a page would: no login, a case one may not see.
		if r := a.do("", "GET", "/api/v1/stream", nil); r.status != 401 {
			t.Fatalf("no token: %d", r.status)
		}
		if r := a.do("agent", "GET", "/api/v1/stream?case="+restricted, nil); r.status != 404 && r.status != 403 {
			t.Fatalf("agent viewing a restricted case: %d %s", r.status, r.body)
		}
	})
}

// TestLivePreferences: the time zone is stored per user; a bad zone is a
// 422 naming the field, and nothing is stored.
func TestLivePreferences(t *testing.T) {
	e := newAPIEnv(t, dbtest.SQLite(t, app.Migrate))
	if r := e.do("agent", "GET", "/api/v1/me/preferences", nil); r.status != 200 || r.json(t)["time_zone"] != "" {
		t.Fatalf("default: %d %s", r.status, r.body)
	}
	if r := e.do("agent", "PUT", "/api/v1/me/preferences", map[string]any{"time_zone": "Europe/Berlin"}); r.status != 200 {
		t.Fatalf("set: %d %s", r.status, r.body)
	}
	r := e.do("agent", "PUT", "/api/v1/me/preferences", map[string]any{"time_zone": "Mars/Olympus"})
	if r.status != 422 || !strings.Contains(string(r.body), "time_zone") || !strings.Contains(string(r.body), "Europe/Berlin") {
		t.Fatalf("bad zone: %d %s", r.status, r.body)
	}
	if r := e.do("agent", "PUT", "/api/v1/me/preferences", map[string]any{"time_zone": "UTC", "theme": "dark"}); r.status != 400 {
		t.Fatalf("unknown key: %d %s", r.status, r.body)
	}
	if r := e.do("agent", "GET", "/api/v1/me/preferences", nil); r.json(t)["time_zone"] != "Europe/Berlin" {
		t.Fatalf("after the refused writes: %s", r.body)
	}
	if r := e.do("lead", "GET", "/api/v1/me/preferences", nil); r.json(t)["time_zone"] != "" {
		t.Fatalf("another user's: %s", r.body)
	}
	if r := e.do("", "GET", "/api/v1/me/preferences", nil); r.status != 401 {
		t.Fatalf("no token: %d", r.status)
	}
}
