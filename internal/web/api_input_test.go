package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/input"
)

// Regression tests for the input rules (internal/input) at the HTTP edge:
// each case was a 500 on PostgreSQL, a stored NUL on SQLite, or bad input
// written, before the rules.

// inputRows counts the rows a refused request must not add.
func inputRows(t *testing.T, d *db.DB) string {
	t.Helper()
	out := countRows(t, d)
	for _, q := range []string{"SELECT COUNT(*) FROM handoffs", "SELECT COUNT(*) FROM case_watchers",
		"SELECT COUNT(*) FROM agent_status WHERE away"} {
		var n int
		if err := d.QueryRow(context.Background(), q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out += fmt.Sprintf(" %d", n)
	}
	return out
}

// checkProblem fails unless r is a problem with status that names field.
func checkProblem(t *testing.T, name string, r reply, status int, field string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: %d, want %d: %.300s", name, r.status, status, r.body)
		return
	}
	if r.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("%s: not a problem: %s", name, r.body)
		return
	}
	if field != "" && !strings.Contains(string(r.body), `"field":"`+field+`"`) {
		t.Errorf("%s: problem does not name %s: %s", name, field, r.body)
	}
}

func TestNULAndControlCharactersAreRefusedEverywhere(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		ref := e.ownedCase(governanceCase(), "amelia.clarke@flare.example")
		hid := e.do("admin", "POST", "/api/v1/cases/"+ref+"/handoffs",
			map[string]any{"team": "logistics", "request": "Confirm the carrier scans."}).json(t)["id"]
		handoff := fmt.Sprintf("/api/v1/handoffs/%v", hid)
		before := inputRows(t, d)
		type tc struct {
			name, method, path string
			body               any
			status             int
			field              string
		}
		var tcs []tc
		// Query parameters: every list filter, with a NUL, an escape and a
		// right-to-left override.
		for _, bad := range []string{"%00", "%1B%5B31m", "%E2%80%AE", "%FF"} {
			for _, p := range []string{"team", "owner", "seller_id", "category", "market", "q", "status", "priority", "sort", "cursor", "field.order_id"} {
				tcs = append(tcs, tc{"cases " + p + "=" + bad, "GET", "/api/v1/cases?" + p + "=x" + bad, nil, 400, p})
			}
			for _, p := range []string{"team", "from_team", "owner", "case", "status", "cursor"} {
				tcs = append(tcs, tc{"handoffs " + p + "=" + bad, "GET", "/api/v1/handoffs?" + p + "=x" + bad, nil, 400, p})
			}
			for _, p := range []string{"object_type", "object_id", "actor_id"} {
				tcs = append(tcs, tc{"audit " + p + "=" + bad, "GET", "/api/v1/audit?" + p + "=x" + bad, nil, 400, p})
			}
			for _, p := range []string{"team", "market", "kind", "metric"} {
				tcs = append(tcs, tc{"breaches " + p + "=" + bad, "GET", "/api/v1/sla/breaches?" + p + "=x" + bad, nil, 400, p})
			}
		}
		tcs = append(tcs,
			tc{"malformed query", "GET", "/api/v1/cases?team=%zz", nil, 400, "query"},
			tc{"NUL in a parameter name", "GET", "/api/v1/cases?field.%00=1", nil, 400, ""},
			tc{"too many list values", "GET", "/api/v1/cases?team=" + strings.Repeat("a,", 100) + "a", nil, 400, "team"},
			tc{"explain case=NUL", "POST", "/api/v1/routing/explain?case=%00", nil, 400, "case"},
			// Path parameters.
			tc{"away for NUL", "PUT", "/api/v1/agents/%00/away", map[string]any{"away": true}, 400, "email"},
			tc{"case ref NUL", "GET", "/api/v1/cases/ESC-1%00", nil, 400, "ref"},
			tc{"patch ref escape", "PATCH", "/api/v1/cases/%1B%5B2J", map[string]any{"title": "x"}, 400, "ref"},
			tc{"team NUL", "POST", "/api/v1/teams/%00/take-next", nil, 400, "team"},
			tc{"calendar NUL", "GET", "/api/v1/calendars/GB%00/due?from=2026-11-02T09:00:00Z&add=1h", nil, 400, "key"},
		)
		// String fields of bodies: a NUL (JSON \u0000) is a 422 naming the field.
		create := func(k string, v any) map[string]any {
			b := lostParcelBody()
			if strings.HasPrefix(k, "requester.") {
				b["requester"] = map[string]any{strings.TrimPrefix(k, "requester."): v}
			} else if strings.HasPrefix(k, "fields.") {
				b["fields"] = map[string]any{strings.TrimPrefix(k, "fields."): v}
			} else {
				b[k] = v
			}
			return b
		}
		for _, f := range []string{"title", "description", "category", "market", "channel", "language", "seller_id", "sensitivity",
			"requester.name", "requester.email", "fields.order_id"} {
			tcs = append(tcs, tc{"create " + f, "POST", "/api/v1/cases", create(f, "a\x00b"), 422, f})
		}
		tcs = append(tcs, tc{"create tags[0]", "POST", "/api/v1/cases", create("tags", []string{"a\x00"}), 422, "tags[0]"})
		for _, f := range []string{"title", "description", "category", "market", "language", "seller_id", "sensitivity", "team",
			"owner", "priority"} {
			tcs = append(tcs, tc{"patch " + f, "PATCH", "/api/v1/cases/" + ref, map[string]any{f: "a\x00b"}, 422, f})
		}
		tcs = append(tcs,
			tc{"patch priority_reason", "PATCH", "/api/v1/cases/" + ref, map[string]any{"priority": "P1", "priority_reason": "a\x00"}, 422, "priority_reason"},
			tc{"patch watchers[0]", "PATCH", "/api/v1/cases/" + ref, map[string]any{"watchers": []string{"a\x00"}}, 422, "watchers[0]"},
			tc{"patch fields", "PATCH", "/api/v1/cases/" + ref, map[string]any{"fields": map[string]any{"policy": "\x00"}}, 422, "fields.policy"},
			tc{"transition note", "POST", "/api/v1/cases/" + ref + "/transitions", map[string]any{"to": "open", "note": "\x00"}, 422, "note"},
			tc{"comment NUL", "POST", "/api/v1/cases/" + ref + "/comments", map[string]any{"body": "hi\x00"}, 422, "body"},
			tc{"handoff team", "POST", "/api/v1/cases/" + ref + "/handoffs", map[string]any{"team": "\x00", "request": "x"}, 422, "team"},
			tc{"handoff request", "POST", "/api/v1/cases/" + ref + "/handoffs", map[string]any{"team": "logistics", "request": "\x00"}, 422, "request"},
			tc{"handoff due_within", "POST", "/api/v1/cases/" + ref + "/handoffs", map[string]any{"team": "logistics", "request": "x", "due_within": "1h\x00"}, 422, "due_within"},
			tc{"handoff answer", "POST", handoff + "/answer", map[string]any{"answer": "\x00"}, 422, "answer"},
			tc{"handoff decline", "POST", handoff + "/decline", map[string]any{"reason": "no\x00"}, 422, "reason"},
			tc{"away note", "PUT", "/api/v1/agents/priya.shah@flare.example/away", map[string]any{"away": true, "note": "\x00"}, 422, "note"},
			// Control characters and bidi overrides: display spoofing and log injection.
			tc{"ANSI title", "POST", "/api/v1/cases", create("title", "\x1b[31mURGENT\x1b[0m"), 422, "title"},
			tc{"RLO title", "POST", "/api/v1/cases", create("title", "refund \u202egpj.exe"), 422, "title"},
			tc{"newline title", "POST", "/api/v1/cases", create("title", "ok\n2026-11-02 INFO admin logged in"), 422, "title"},
			tc{"RLO requester", "POST", "/api/v1/cases", create("requester.name", "\u202eSam"), 422, "requester.name"},
			tc{"ANSI comment", "POST", "/api/v1/cases/" + ref + "/comments", map[string]any{"body": "see \x1b[2J"}, 422, "body"},
			tc{"RLO comment", "POST", "/api/v1/cases/" + ref + "/comments", map[string]any{"body": "ok\n\u202ereversed"}, 422, "body"},
			tc{"bare CR comment", "POST", "/api/v1/cases/" + ref + "/comments", map[string]any{"body": "10%\r99%"}, 422, "body"},
			tc{"ANSI handoff", "POST", "/api/v1/cases/" + ref + "/handoffs", map[string]any{"team": "logistics", "request": "\x1b]0;pwned\x07"}, 422, "request"},
			tc{"RLO patch title", "PATCH", "/api/v1/cases/" + ref, map[string]any{"title": "\u202dx"}, 422, "title"},
			tc{"RLO priority_reason", "PATCH", "/api/v1/cases/" + ref, map[string]any{"priority": "P1", "priority_reason": "\u202ex"}, 422, "priority_reason"},
			// Lengths.
			tc{"long priority_reason", "PATCH", "/api/v1/cases/" + ref, map[string]any{"priority": "P1", "priority_reason": strings.Repeat("x", 3_000_000)}, 422, "priority_reason"},
			tc{"long title", "POST", "/api/v1/cases", create("title", strings.Repeat("é", 301)), 422, "title"},
			tc{"too many watchers", "PATCH", "/api/v1/cases/" + ref, map[string]any{"watchers": make([]string, 51)}, 422, "watchers"},
			tc{"bad language", "PATCH", "/api/v1/cases/" + ref, map[string]any{"language": "english"}, 422, "language"},
		)
		for _, c := range tcs {
			checkProblem(t, c.name, e.do("admin", c.method, c.path, c.body), c.status, c.field)
		}
		if after := inputRows(t, d); after != before {
			t.Fatalf("refused requests wrote rows: before %v after %v", before, after)
		}
	})
}

func TestStrictJSONBodies(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		ref := e.newCase("")
		before := inputRows(t, d)
		good := `{"title":"Parcel lost","category":"logistics/lost_parcel","market":"GB","fields":{"order_id":"ORD-1"}}`
		for _, c := range []struct {
			name, method, path, body string
			field                    string
		}{
			{"trailing brace", "POST", "/api/v1/cases", good + "}", ""},
			{"trailing object", "POST", "/api/v1/cases", good + `{"title":"again"}`, ""},
			{"trailing garbage on a patch", "PATCH", "/api/v1/cases/" + ref, `{"title":"x"} trailing`, ""},
			{"invalid UTF-8", "POST", "/api/v1/cases", strings.Replace(good, "Parcel", "Parcel \xff\xfe", 1), ""},
			{"lone surrogate", "POST", "/api/v1/cases", strings.Replace(good, "Parcel", `\ud800`, 1), ""},
			{"lone surrogate in a comment", "POST", "/api/v1/cases/" + ref + "/comments", `{"body":"a\udfffb"}`, ""},
			{"null body", "PATCH", "/api/v1/cases/" + ref, `null`, ""},
			{"null comment", "POST", "/api/v1/cases/" + ref + "/comments", `null`, ""},
			{"array body", "POST", "/api/v1/cases", `[` + good + `]`, ""},
			{"duplicate member", "PATCH", "/api/v1/cases/" + ref, `{"title":"a","title":"b"}`, "title"},
			{"case-folded member", "PATCH", "/api/v1/cases/" + ref, `{"Title":"a"}`, "Title"},
			{"unknown nested member", "POST", "/api/v1/cases", strings.Replace(good, `"fields"`, `"requester":{"name":"x","age":3},"fields"`, 1), "requester.age"},
			{"wrong element type", "PATCH", "/api/v1/cases/" + ref, `{"tags":["a",1]}`, "tags[1]"},
		} {
			checkProblem(t, c.name, e.do("admin", c.method, c.path, c.body), 400, c.field)
		}
		if after := inputRows(t, d); after != before {
			t.Fatalf("refused bodies wrote rows: before %v after %v", before, after)
		}
		// Media types and auth schemes are case-insensitive.
		r := e.do("admin", "POST", "/api/v1/cases", good, "Content-Type", "APPLICATION/JSON; Charset=UTF-8")
		if r.status != 201 {
			t.Fatalf("upper-case media type: %d %s", r.status, r.body)
		}
		checkProblem(t, "latin-1 JSON", e.do("admin", "POST", "/api/v1/cases", good, "Content-Type", "application/json; charset=latin1"), 415, "")
		checkProblem(t, "bad media type", e.do("admin", "POST", "/api/v1/cases", good, "Content-Type", "application/"), 415, "")
		if r := e.do("admin", "PUT", "/api/v1/desk?dry_run=true", "markets: []\n", "Content-Type", "Application/YAML"); r.status == 415 {
			t.Fatalf("upper-case YAML media type: %d %s", r.status, r.body)
		}
		for _, scheme := range []string{"bearer", "BEARER", "Bearer  "} {
			if r := e.do("", "GET", "/api/v1/me", nil, "Authorization", scheme+" "+e.tokens["agent"]); r.status != 200 {
				t.Errorf("scheme %q: %d %s", scheme, r.status, r.body)
			}
		}
		checkProblem(t, "basic scheme", e.do("", "GET", "/api/v1/me", nil, "Authorization", "Basic "+e.tokens["agent"]), 401, "")
		// A body that passes keeps its text: CRLF in a comment, a closed
		// isolate, accents, a surrogate pair.
		r = e.do("admin", "POST", "/api/v1/cases/"+ref+"/comments", `{"body":"Merci \u2067مرحبا\u2069\r\nline two \ud83d\ude80"}`)
		if r.status != 201 || r.json(t)["body"] != "Merci \u2067مرحبا\u2069\r\nline two 🚀" {
			t.Fatalf("good comment: %d %s", r.status, r.body)
		}
		// Language tags: one rule, stored in canonical case.
		r = e.do("admin", "PATCH", "/api/v1/cases/"+ref, `{"language":"fr-be"}`)
		if r.status != 200 || r.json(t)["language"] != "fr-BE" {
			t.Fatalf("language: %d %s", r.status, r.body)
		}
	})
}

// Form posts from the UI pass the same gate: a NUL or a control character
// is the error page (400) and writes nothing; CRLF from a textarea is
// stored as LF.
func TestUIFormsPassTheInputRules(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		ref := e.newCase("")
		ctx := context.Background()
		var token string
		err := d.InTx(ctx, func(tx *db.Tx) error {
			var err error
			token, err = auth.CreateSession(ctx, tx, e.app.Clock.Now(), e.actors["admin"].UserID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		post := func(path string, form url.Values) (int, string, string) {
			req, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: token})
			res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, res.Header.Get("Content-Type"), string(b)
		}
		before := inputRows(t, d)
		for name, f := range map[string]struct {
			path string
			form url.Values
		}{
			"comment NUL":    {"/cases/" + ref + "/comments", url.Values{"body": {"hello\x00"}}},
			"comment escape": {"/cases/" + ref + "/comments", url.Values{"body": {"\x1b[2J"}}},
			"owner NUL":      {"/cases/" + ref + "/update", url.Values{"owner": {"amelia\x00"}}},
			"new case title": {"/cases/new", url.Values{"title": {"x\x00"}, "category": {"logistics/lost_parcel"}, "market": {"GB"}}},
			"bad UTF-8":      {"/cases/new", url.Values{"title": {"\xff"}}},
		} {
			status, ct, body := post(f.path, f.form)
			if status != 400 || !strings.HasPrefix(ct, "text/html") || !strings.Contains(body, "Bad request") {
				t.Errorf("%s: %d %s\n%.400s", name, status, ct, body)
			}
		}
		if after := inputRows(t, d); after != before {
			t.Fatalf("refused forms wrote rows: before %v after %v", before, after)
		}
		// Query parameters of pages too.
		req, _ := http.NewRequest("GET", e.srv.URL+"/cases?team=%00", nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: token})
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 400 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("queue with NUL: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		// A one-line field with an override is the form again with its message.
		if status, _, body := post("/cases/"+ref+"/update", url.Values{"priority": {"P1"}, "priority_reason": {"\u202eevil"}}); status != 422 ||
			!strings.Contains(body, "bidirectional") {
			t.Fatalf("override in reason: %d\n%.400s", status, body)
		}
		if status, _, body := post("/cases/"+ref+"/comments", url.Values{"body": {"line one\r\nline two"}}); status != 303 {
			t.Fatalf("good comment: %d %.300s", status, body)
		}
		var stored string
		if err := d.QueryRow(ctx, `SELECT body FROM case_comments ORDER BY id DESC LIMIT 1`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored != "line one\nline two" {
			t.Fatalf("stored comment %q", stored)
		}
	})
}

// TestOpenAPIDocumentsInputLimits keeps the document's maxLength and
// maxItems true to the input kinds the services apply.
func TestOpenAPIDocumentsInputLimits(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					MaxLength int `json:"maxLength"`
					MaxItems  int `json:"maxItems"`
					Items     struct {
						MaxLength int `json:"maxLength"`
					} `json:"items"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	s := doc.Components.Schemas
	for _, c := range []struct {
		schema, field string
		got, want     int
	}{
		{"CaseCreate", "title", s["CaseCreate"].Properties["title"].MaxLength, input.Title.Max()},
		{"CaseUpdate", "title", s["CaseUpdate"].Properties["title"].MaxLength, input.Title.Max()},
		{"CaseCreate", "description", s["CaseCreate"].Properties["description"].MaxLength, input.LongText.Max()},
		{"CaseUpdate", "description", s["CaseUpdate"].Properties["description"].MaxLength, input.LongText.Max()},
		{"CaseCreate", "language", s["CaseCreate"].Properties["language"].MaxLength, input.MaxLanguageTag},
		{"CaseCreate", "category", s["CaseCreate"].Properties["category"].MaxLength, input.Key.Max()},
		{"CaseUpdate", "priority_reason", s["CaseUpdate"].Properties["priority_reason"].MaxLength, input.Reason.Max()},
		{"CaseUpdate", "owner", s["CaseUpdate"].Properties["owner"].MaxLength, input.Email.Max()},
		{"CaseUpdate", "watchers", s["CaseUpdate"].Properties["watchers"].MaxItems, input.MaxWatchers},
		{"CaseCreate", "tags", s["CaseCreate"].Properties["tags"].MaxItems, 20},
		{"CaseCreate", "tags[]", s["CaseCreate"].Properties["tags"].Items.MaxLength, 40},
		{"Requester", "name", s["Requester"].Properties["name"].MaxLength, input.Name.Max()},
		{"Requester", "email", s["Requester"].Properties["email"].MaxLength, input.Email.Max()},
		{"Transition", "note", s["Transition"].Properties["note"].MaxLength, input.Text.Max()},
		{"CommentCreate", "body", s["CommentCreate"].Properties["body"].MaxLength, input.Comment.Max()},
		{"HandoffCreate", "request", s["HandoffCreate"].Properties["request"].MaxLength, input.Text.Max()},
		{"HandoffAnswer", "answer", s["HandoffAnswer"].Properties["answer"].MaxLength, input.Text.Max()},
		{"HandoffReason", "reason", s["HandoffReason"].Properties["reason"].MaxLength, input.Text.Max()},
	} {
		if c.got != c.want {
			t.Errorf("%s.%s: documented %d, enforced %d", c.schema, c.field, c.got, c.want)
		}
	}
	if !bytes.Contains(openAPI, []byte(`"maxLength": `+strconv.Itoa(input.Param.Max()))) {
		t.Error("query and path parameters do not document their maxLength")
	}
}

// List filters agree: an unknown name is a 422 naming the parameter (as an
// unknown status is), never a silent empty list, and a read's problem does
// not talk of writing.
func TestListFiltersRefuseUnknownNames(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		for _, tc := range []struct{ path, field string }{
			{"/api/v1/cases?team=nope", "team"},
			{"/api/v1/cases?market=XX", "market"},
			{"/api/v1/cases?owner=nobody@flare.example", "owner"},
			{"/api/v1/cases?status=opn", "status"},
			{"/api/v1/cases?limit=-5", "limit"},
			{"/api/v1/cases?limit=0", "limit"},
			{"/api/v1/handoffs?team=nope", "team"},
			{"/api/v1/handoffs?from_team=nope", "from_team"},
			{"/api/v1/handoffs?limit=-5", "limit"},
			{"/api/v1/sla/breaches?team=nope", "team"},
			{"/api/v1/sla/breaches?market=XX", "market"},
		} {
			r := e.do("admin", "GET", tc.path, nil)
			if r.status != 422 || !strings.Contains(string(r.body), `"field":"`+tc.field+`"`) {
				t.Errorf("%s: %d %s, want 422 naming %s", tc.path, r.status, r.body, tc.field)
				continue
			}
			if strings.Contains(string(r.body), "written") {
				t.Errorf("%s: a read's problem talks of writing: %s", tc.path, r.body)
			}
		}
		for _, ok := range []string{"/api/v1/cases?team=logistics&market=gb&owner=me", "/api/v1/cases?owner=none",
			"/api/v1/cases?owner=priya.shah@flare.example", "/api/v1/handoffs?team=logistics", "/api/v1/sla/breaches?team=logistics"} {
			if r := e.do("admin", "GET", ok, nil); r.status != 200 {
				t.Errorf("%s: %d %s", ok, r.status, r.body)
			}
		}
	})
}

// An X-Request-Id that is not text (invalid UTF-8 passes net/http) was
// recorded in the audit log: a 500 on PostgreSQL for every write. Flare
// now makes its own id instead.
func TestRequestIDMustBeText(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		e := newAPIEnv(t, d)
		body := `{"title":"Parcel lost","category":"logistics/lost_parcel","market":"GB","fields":{"order_id":"ORD-1"}}`
		c, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Written by hand: Go's client refuses to send such a header.
		_, err = io.WriteString(c, "POST /api/v1/cases HTTP/1.1\r\nHost: flare\r\nConnection: close\r\nAuthorization: Bearer "+
			e.tokens["admin"]+"\r\nContent-Type: application/json\r\nX-Request-Id: req-\xff\xfe\r\nContent-Length: "+
			strconv.Itoa(len(body))+"\r\n\r\n"+body)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if id := res.Header.Get("X-Request-Id"); res.StatusCode != 201 || strings.Contains(id, "req-") || len(id) != 16 {
			t.Fatalf("status %d, request id %q", res.StatusCode, id)
		}
	})
}
