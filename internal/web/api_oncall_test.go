package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/oncall"
	"github.com/flare-desk/flare/internal/oncall/rota"
)

// oncallSchedule is follow-the-sun for trust & safety on the example desk:
// Europe by day in London (on top), the US the rest of the day in Los
// Angeles, with a standing override whose reason needs escaping (not a
// backslash before an n: python3-icalendar 4.0.3 reads "\\n" as a
// backslash and a line break; the feed writes it as RFC 5545 says).
func oncallSchedule() rota.Schedule {
	return rota.Schedule{Team: "trust_safety", Layers: []rota.Layer{
		{Name: "US", Rotation: rota.Weekly, Timezone: "America/Los_Angeles", Start: "2026-10-05", Handoff: "10:00",
			Participants: []string{"marcus.reed@flare.example"}, Window: "10:00-24:00"},
		{Name: "EMEA days, London", Rotation: rota.Daily, Timezone: "Europe/London", Start: "2026-10-05", Handoff: "07:00",
			Participants: []string{"amelia.clarke@flare.example", "jonas.weber@flare.example"}, Window: "07:00-19:00"},
	}, Overrides: []rota.Override{{Person: "priya.shah@flare.example", From: "2026-11-05T07:00:00Z", To: "2026-11-05T12:00:00Z",
		Reason: `Swap; Amelia at the café, back at noon — “naïve” ünïcode, notes in C:\temp, a long reason that folds over 75 octets`}}}
}

// withOncall applies the example desk with trust & safety's schedule (the
// env's extra QA and viewer users are deactivated by it).
func (e *apiEnv) withOncall() {
	e.t.Helper()
	cfg, err := e.app.Desk.Schema().Example()
	if err != nil {
		e.t.Fatal(err)
	}
	desk.Set(cfg, oncall.SchedulesKey, []rota.Schedule{oncallSchedule()})
	if _, err := e.app.Desk.Apply(context.Background(), auth.System("test"), e.app.Clock.Now(), cfg); err != nil {
		e.t.Fatal(err)
	}
}

func TestOnCallAPIRoundTrip(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		e.withOncall()
		// Monday 2 November 09:00 UTC: Amelia's EMEA day.
		r := e.do("agent", "GET", "/api/v1/oncall?team=trust_safety", nil)
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		var ans oncall.Answer
		if err := json.Unmarshal(r.body, &ans); err != nil {
			t.Fatal(err)
		}
		now := ans.Teams[0]
		if len(ans.Teams) != 1 || now.OnCall == nil || now.OnCall.Person != "amelia.clarke@flare.example" || now.OnCall.Source != "layer" ||
			now.OnCall.Layer != "EMEA days, London" || now.Next == nil || now.Next.Person != "marcus.reed@flare.example" {
			t.Fatalf("%s", r.body)
		}
		r = e.do("agent", "GET", "/api/v1/oncall?team=trust_safety&at=2026-11-02T20:00:00Z", nil)
		if !strings.Contains(string(r.body), `"person":"marcus.reed@flare.example"`) {
			t.Fatalf("at 20:00: %s", r.body)
		}

		// A lead covers Marcus's evening; the override shows in who is on
		// call and why, and is retried safely with an Idempotency-Key.
		body := map[string]any{"person": "priya.shah@flare.example", "from": "2026-11-02T19:30:00Z", "to": "2026-11-02T21:00:00Z",
			"reason": "Marcus travelling"}
		r = e.do("lead", "POST", "/api/v1/oncall/trust_safety/overrides", body, "Idempotency-Key", "cover-1")
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		o := r.json(t)
		again := e.do("lead", "POST", "/api/v1/oncall/trust_safety/overrides", body, "Idempotency-Key", "cover-1")
		if again.status != 201 || again.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.body, r.body) {
			t.Fatalf("replay: %d %s", again.status, again.body)
		}
		r = e.do("agent", "GET", "/api/v1/oncall?team=trust_safety&at=2026-11-02T20:00:00Z", nil)
		if !strings.Contains(string(r.body), `"person":"priya.shah@flare.example"`) || !strings.Contains(string(r.body), `"covers":"marcus.reed@flare.example"`) ||
			!strings.Contains(string(r.body), "Marcus travelling") {
			t.Fatalf("during the override: %s", r.body)
		}
		r = e.do("agent", "GET", "/api/v1/oncall/trust_safety/overrides", nil)
		if r.status != 200 || !strings.Contains(string(r.body), `"source":"desk"`) || !strings.Contains(string(r.body), `"person":"priya.shah@flare.example"`) {
			t.Fatalf("overrides: %d %s", r.status, r.body)
		}
		// Shifts: two weeks by default, no holes.
		r = e.do("agent", "GET", "/api/v1/oncall/trust_safety/shifts", nil)
		var ts oncall.TeamShifts
		if err := json.Unmarshal(r.body, &ts); err != nil {
			t.Fatal(err)
		}
		if r.status != 200 || len(ts.Gaps) != 0 || !ts.To.Equal(ts.From.Add(14*24*time.Hour)) || len(ts.Layers) != 2 ||
			ts.Layers[1].Names[0] != "Amelia Clarke" || len(ts.Shifts) < 28 {
			t.Fatalf("shifts: %d %s", r.status, r.body)
		}

		// Withdrawing it: agents may not; a lead may; twice is a conflict.
		del := fmt.Sprintf("/api/v1/oncall/trust_safety/overrides/%v", o["id"])
		for _, c := range []struct {
			role, path string
			status     int
		}{
			{"agent", del, 403}, {"account_manager", del, 403}, {"anonymous", del, 401},
			{"lead", strings.Replace(del, "trust_safety", "logistics", 1), 404}, {"lead", "/api/v1/oncall/trust_safety/overrides/x", 404},
			{"admin", del, 200}, {"admin", del, 409},
		} {
			if r := e.do(c.role, "DELETE", c.path, nil); r.status != c.status {
				t.Errorf("DELETE %s as %s: %d %s, want %d", c.path, c.role, r.status, r.body, c.status)
			}
		}

		// Bad input: a 4xx naming the field, nothing written.
		var before int
		_ = d.QueryRow(context.Background(), `SELECT COUNT(*) FROM oncall_overrides`).Scan(&before)
		for _, c := range []struct {
			name, method, path string
			body               any
			status             int
			field              string
		}{
			{"unknown team filter", "GET", "/api/v1/oncall?team=nope", nil, 422, "team"},
			{"bad at", "GET", "/api/v1/oncall?at=monday", nil, 422, "at"},
			{"unknown parameter", "GET", "/api/v1/oncall?who=me", nil, 422, "who"},
			{"long range", "GET", "/api/v1/oncall/trust_safety/shifts?from=2026-11-02T00:00:00Z&to=2027-03-01T00:00:00Z", nil, 422, "to"},
			{"unknown team", "GET", "/api/v1/oncall/nope/shifts", nil, 404, ""},
			{"NUL team", "GET", "/api/v1/oncall/a%00/shifts", nil, 400, "team"},
			{"person", "POST", "/api/v1/oncall/trust_safety/overrides", map[string]any{"person": "x\x00", "from": "2026-11-02T10:00:00Z", "to": "2026-11-02T11:00:00Z"}, 422, "person"},
			{"past", "POST", "/api/v1/oncall/trust_safety/overrides", map[string]any{"person": "priya.shah@flare.example", "from": "2026-11-01T10:00:00Z", "to": "2026-11-01T11:00:00Z"}, 422, "to"},
			{"unknown member", "POST", "/api/v1/oncall/trust_safety/overrides", `{"person":"priya.shah@flare.example","from":"2026-11-02T10:00:00Z","to":"2026-11-02T11:00:00Z","who":1}`, 400, "who"},
			{"feed name", "POST", "/api/v1/oncall/trust_safety/feeds", map[string]any{"name": "\u202eevil"}, 422, "name"},
		} {
			checkProblem(t, c.name, e.do("admin", c.method, c.path, c.body), c.status, c.field)
		}
		var after int
		_ = d.QueryRow(context.Background(), `SELECT COUNT(*) FROM oncall_overrides`).Scan(&after)
		if after != before {
			t.Errorf("refused requests wrote overrides: %d → %d", before, after)
		}
	})
}

func TestOnCallFeedRoles(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		r := e.do("lead", "POST", "/api/v1/oncall/trust_safety/feeds", nil)
		if r.status != 201 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		id := r.json(t)["id"]
		path := fmt.Sprintf("/api/v1/oncall/trust_safety/feeds/%v", id)
		roles := []string{"agent", "account_manager", "qa", "viewer", "anonymous", "admin", "lead"}
		want := []int{403, 403, 403, 403, 401, 200, 200}
		for i, role := range roles {
			if r := e.do(role, "DELETE", path, nil); r.status != want[i] {
				t.Errorf("revoke as %s: %d %s", role, r.status, r.body)
			}
		}
		if r := e.do("admin", "DELETE", strings.Replace(path, "trust_safety", "logistics", 1), nil); r.status != 404 {
			t.Errorf("another team's feed: %d", r.status)
		}
	})
}

// TestOnCallFeedParsedByICalendar subscribes to a team's feed as a calendar
// app does and reads it with a real iCalendar parser (Python's icalendar,
// Debian's python3-icalendar): the events are the API's shifts and holes.
func TestOnCallFeedParsedByICalendar(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		e.withOncall()
		// A hole in next week's schedule: the US is away for a day, covered
		// by nobody; and an override of Amelia's Tuesday by Priya.
		cfg, _ := e.app.Desk.Schema().Example()
		s := oncallSchedule()
		s.AllowGaps = true
		s.Layers[0].Days = []string{"mon", "tue", "wed", "fri", "sat", "sun"}
		desk.Set(cfg, oncall.SchedulesKey, []rota.Schedule{s})
		if _, err := e.app.Desk.Apply(context.Background(), auth.System("test"), e.app.Clock.Now(), cfg); err != nil {
			t.Fatal(err)
		}
		if r := e.do("lead", "POST", "/api/v1/oncall/trust_safety/overrides", map[string]any{"person": "priya.shah@flare.example",
			"from": "2026-11-03T08:00:00Z", "to": "2026-11-03T10:00:00Z", "reason": "dentist, then back"}); r.status != 201 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r := e.do("lead", "POST", "/api/v1/oncall/trust_safety/feeds", map[string]any{"name": "T&S shared calendar"})
		if r.status != 201 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		var feed struct {
			URL, WebcalURL, Token string
		}
		var raw map[string]any
		_ = json.Unmarshal(r.body, &raw)
		feed.URL, feed.WebcalURL, feed.Token = raw["url"].(string), raw["webcal_url"].(string), raw["token"].(string)
		if !strings.HasPrefix(feed.URL, e.srv.URL+"/api/v1/oncall/trust_safety.ics?token=flrcal_") ||
			!strings.HasPrefix(feed.WebcalURL, "webcal://") {
			t.Fatalf("feed %s", r.body)
		}
		res, err := http.Get(feed.URL) // no login: the token is in the URL
		if err != nil {
			t.Fatal(err)
		}
		cal := readAll(t, res)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/calendar; charset=utf-8" {
			t.Fatalf("%d %s: %s", res.StatusCode, res.Header.Get("Content-Type"), cal)
		}
		// RFC 5545 §3.1: CRLF line ends, lines of at most 75 octets, folded
		// with a leading space.
		lines := strings.Split(strings.TrimSuffix(string(cal), "\r\n"), "\r\n")
		for i, l := range lines {
			if len(l) > 75 || strings.ContainsAny(l, "\r\n") {
				t.Errorf("line %d is %d octets or has a bare line end: %q", i, len(l), l)
			}
		}
		if !strings.Contains(string(cal), "\r\n ") {
			t.Error("no folded line: the test's long descriptions should fold")
		}

		// What the feed must hold: the API's shifts and gaps over its window.
		now := e.app.Clock.Now().UTC()
		from, to := now.Add(-oncall.FeedPast), now.Add(oncall.FeedFuture)
		r = e.do("admin", "GET", "/api/v1/oncall/trust_safety/shifts?from="+from.Format(time.RFC3339)+"&to="+
			from.Add(oncall.MaxShiftsRange).Format(time.RFC3339), nil)
		var ts oncall.TeamShifts
		if err := json.Unmarshal(r.body, &ts); err != nil || r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		r = e.do("admin", "GET", "/api/v1/oncall/trust_safety/shifts?from="+from.Add(oncall.MaxShiftsRange).Format(time.RFC3339)+
			"&to="+to.Format(time.RFC3339), nil)
		var rest oncall.TeamShifts
		if err := json.Unmarshal(r.body, &rest); err != nil || r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		type event struct{ Start, End, Summary, Description string }
		var want []event
		var gaps int
		// The two ranges cut the shift under way at their meeting point.
		if a, b := &ts.Shifts[len(ts.Shifts)-1], rest.Shifts[0]; a.End.Equal(b.Start) && a.Person == b.Person &&
			a.Source == b.Source && a.Turn == b.Turn && a.Override == b.Override {
			a.End = b.End
			rest.Shifts = rest.Shifts[1:]
		}
		for _, part := range []oncall.TeamShifts{ts, rest} {
			for _, sh := range part.Shifts {
				want = append(want, event{sh.Start.Format(time.RFC3339), sh.End.Format(time.RFC3339), "On call: " + sh.Name,
					"Trust & Safety on call: " + sh.Name + " (" + sh.Person + ").\nWhy: " + sh.Why + "."})
			}
			for _, g := range part.Gaps {
				gaps++
				want = append(want, event{g.Start.Format(time.RFC3339), g.End.Format(time.RFC3339), "Nobody on call",
					"Nobody is on call for Trust & Safety: a hole in the schedule."})
			}
		}
		if gaps < 10 {
			t.Fatalf("the test schedule should have a hole a week: %d gaps", gaps)
		}

		t.Run("python3-icalendar", func(t *testing.T) {
			py := icalendarPython(t)
			file := filepath.Join(t.TempDir(), "feed.ics")
			if err := os.WriteFile(file, cal, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(py, "-c", icalendarScript, file).CombinedOutput()
			if err != nil {
				t.Fatalf("python icalendar: %v\n%s", err, out)
			}
			var got struct {
				Name   string
				Events []struct{ UID, Start, End, Summary, Description, Transp string }
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if got.Name != "Trust & Safety on call" {
				t.Errorf("calendar name %q", got.Name)
			}
			if len(got.Events) != len(want) {
				t.Fatalf("%d events parsed, %d shifts and gaps", len(got.Events), len(want))
			}
			uids := map[string]bool{}
			// Shifts and gaps interleave by time in the feed's reading.
			byStart := map[string]event{}
			for _, w := range want {
				byStart[w.Start] = w
			}
			for _, ev := range got.Events {
				w, ok := byStart[ev.Start]
				if !ok || ev.End != w.End || ev.Summary != w.Summary || ev.Description != w.Description || ev.Transp != "TRANSPARENT" {
					t.Errorf("event %+v\nwant %+v", ev, w)
				}
				if uids[ev.UID] {
					t.Errorf("UID %s twice", ev.UID)
				}
				uids[ev.UID] = true
			}
		})

		// Stable across fetches (but for DTSTAMP, the time of the fetch).
		res2, err := http.Get(feed.URL)
		if err != nil {
			t.Fatal(err)
		}
		if again := readAll(t, res2); !bytes.Equal(again, cal) {
			t.Error("two fetches differ")
		}
		// Without a token nor a login: 401; a wrong or revoked one: 404; a
		// signed-in viewer of the schedules gets it too.
		for _, c := range []struct {
			path   string
			role   string
			status int
		}{
			{"/api/v1/oncall/trust_safety.ics", "anonymous", 401},
			{"/api/v1/oncall/trust_safety.ics?token=flrcal_nope", "anonymous", 404},
			{"/api/v1/oncall/logistics.ics?token=" + feed.Token, "anonymous", 404},
			{"/api/v1/oncall/trust_safety.ical?token=" + feed.Token, "anonymous", 404},
			{"/api/v1/oncall/trust_safety.ics?token=" + feed.Token + "&x=1", "anonymous", 422},
			{"/api/v1/oncall/trust_safety.ics", "agent", 200},
			{"/api/v1/oncall/trust_safety.ics", "account_manager", 403},
		} {
			if r := e.do(c.role, "GET", c.path, nil); r.status != c.status {
				t.Errorf("%s as %s: %d %s", c.path, c.role, r.status, r.body)
			}
		}
		if r := e.do("lead", "DELETE", fmt.Sprintf("/api/v1/oncall/trust_safety/feeds/%v", raw["id"]), nil); r.status != 200 {
			t.Fatalf("revoke: %d %s", r.status, r.body)
		}
		if r := e.do("anonymous", "GET", strings.TrimPrefix(feed.URL, e.srv.URL), nil); r.status != 404 {
			t.Errorf("a revoked feed: %d", r.status)
		}
	})
}

func readAll(t *testing.T, res *http.Response) []byte {
	t.Helper()
	defer res.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(res.Body); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// icalendarScript reads an .ics file with Python's icalendar and prints its
// events as JSON, instants in UTC.
const icalendarScript = `
import json, sys, icalendar
from datetime import timezone
cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
assert cal.get('VERSION') == '2.0', cal.get('VERSION')
out = {'Name': str(cal.get('X-WR-CALNAME')), 'Events': []}
for ev in cal.walk('VEVENT'):
    def at(k):
        return ev.decoded(k).astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    out['Events'].append({'UID': str(ev.get('UID')), 'Start': at('DTSTART'), 'End': at('DTEND'),
        'Summary': str(ev.get('SUMMARY')), 'Description': str(ev.get('DESCRIPTION')), 'Transp': str(ev.get('TRANSP'))})
print(json.dumps(out))
`

// icalendarPython finds a Python 3 that has the icalendar module: the one
// on PATH, else Debian's. Without one the test skips, unless
// FLARE_TEST_REQUIRE_SHARED=1 (CI) makes it required.
func icalendarPython(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if path, err := exec.LookPath(py); err == nil && exec.Command(path, "-c", "import icalendar").Run() == nil {
			return path
		}
	}
	const why = "no python3 with the icalendar module (install Debian's python3-icalendar)"
	if os.Getenv("FLARE_TEST_REQUIRE_SHARED") == "1" || os.Getenv("CI") == "true" {
		t.Fatalf("the iCalendar feed must be read by a real parser in CI, but there is %s", why)
	}
	t.Skipf("iCalendar parser check skipped: %s; set FLARE_TEST_REQUIRE_SHARED=1 to make this a failure", why)
	return ""
}
