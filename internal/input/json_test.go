package input

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
)

type testBody struct {
	Title     string   `json:"title"`
	Count     int      `json:"count"`
	Tags      []string `json:"tags"`
	Requester *struct {
		Name string `json:"name"`
	} `json:"requester"`
	Fields map[string]any `json:"fields"`
	Until  *time.Time     `json:"until"`
	Owner  *string        `json:"owner"`
}

func TestDecodeJSONAcceptsOneStrictObject(t *testing.T) {
	var b testBody
	err := DecodeJSON([]byte(` {"title":"Parcel \u00e9 lost\nagain","count":2,"tags":["a","b"],"requester":{"name":"Sam"},
		"fields":{"amount":12.5,"note":"x"},"until":"2026-11-06T15:00:00Z","owner":null} `), &b)
	if err != nil {
		t.Fatal(err)
	}
	if b.Title != "Parcel é lost\nagain" || b.Count != 2 || len(b.Tags) != 2 || b.Requester.Name != "Sam" ||
		b.Fields["amount"] != 12.5 || b.Until == nil || b.Owner != nil {
		t.Fatalf("decoded %+v", b)
	}
	// A real surrogate pair is a character, not a lone surrogate.
	if err := DecodeJSON([]byte(`{"title":"\ud83d\ude80"}`), &b); err != nil || b.Title != "🚀" {
		t.Fatalf("surrogate pair: %q %v", b.Title, err)
	}
}

func TestDecodeJSONRefusals(t *testing.T) {
	long := `{"tags":[` + strings.Repeat(`"x",`, MaxJSONItems) + `"x"]}`
	deep := `{"fields":` + strings.Repeat(`{"a":`, MaxJSONDepth) + `1` + strings.Repeat(`}`, MaxJSONDepth) + `}`
	cases := []struct {
		name, body string
		detail     string // part of the BodyError's detail
		field      string
	}{
		{"empty", "  ", "empty", ""},
		{"null", "null", "must be a JSON object, not null", ""},
		{"array", `[{"title":"x"}]`, "not an array", ""},
		{"string", `"x"`, "not a string", ""},
		{"trailing brace", `{"title":"x"}}`, "data after its JSON object", ""},
		{"trailing garbage", `{"title":"x"} xyz`, "data after", ""},
		{"two objects", `{"title":"a"} {"title":"b"}`, "more than one JSON value", ""},
		{"malformed", `{"title": `, "ends early", ""},
		{"bad syntax", `{"title" "x"}`, "not valid JSON (at byte", ""},
		{"lone high surrogate", `{"title":"\ud800"}`, "not valid JSON", ""},
		{"lone low surrogate", `{"title":"a\udc00b"}`, "not valid JSON", ""},
		{"reversed pair", `{"title":"\ude00\ud83d"}`, "not valid JSON", ""},
		{"invalid UTF-8", "{\"title\":\"a\xffb\"}", "not valid JSON", ""},
		{"invalid UTF-8 in a name", "{\"t\xffitle\":\"x\"}", "not valid JSON", ""},
		{"raw control character", "{\"title\":\"a\x01b\"}", "not valid JSON", ""},
		{"duplicate member", `{"title":"a","title":"b"}`, "names a member twice", "title"},
		{"unknown member", `{"title":"a","colour":"red"}`, "does not know", "colour"},
		{"case-folded member", `{"Title":"a"}`, "does not know", "Title"},
		{"unknown nested member", `{"requester":{"name":"a","age":3}}`, "does not know", "requester.age"},
		{"wrong type", `{"title":42}`, "wrong type", "title"},
		{"wrong element type", `{"tags":["a",2]}`, "wrong type", "tags[1]"},
		{"fraction for int", `{"count":1.5}`, "", "count"},
		{"bad instant", `{"until":"tomorrow"}`, "", "until"},
		{"too many items", long, "too long", "tags"},
		{"too deep", deep, "nested more than", ""},
	}
	for _, c := range cases {
		var b testBody
		err := DecodeJSON([]byte(c.body), &b)
		var be *BodyError
		if !errors.As(err, &be) {
			t.Errorf("%s: %v, want a *BodyError", c.name, err)
			continue
		}
		if !strings.Contains(be.Detail, c.detail) || be.Field != c.field {
			t.Errorf("%s: %+v, want detail with %q and field %q", c.name, be, c.detail, c.field)
		}
	}
}

func TestDecodeJSONGatesEveryString(t *testing.T) {
	var b testBody
	err := DecodeJSON([]byte(`{"title":"a\u0000b","tags":["ok","\u001b[31m"],"requester":{"name":"x\ry"},
		"fields":{"note":"fine\r\n","k\u0007":"v"},"owner":"me\u0000"}`), &b)
	var inv *apperr.Invalid
	if !errors.As(err, &inv) {
		t.Fatalf("%v, want *apperr.Invalid", err)
	}
	want := map[string]string{
		"title":          "must not contain NUL characters",
		"tags[1]":        "must not contain control characters (U+001B)",
		"requester.name": "must not contain a carriage return (U+000D) that does not end a line",
		`fields.k\a`:     "must not contain control characters (U+0007)",
		"owner":          "must not contain NUL characters",
	}
	got := map[string]string{}
	for _, e := range inv.Errors {
		got[e.Field] = e.Message
	}
	if len(got) != len(want) {
		t.Fatalf("errors %+v, want %v", inv.Errors, want)
	}
	for f, m := range want {
		if got[f] != m {
			t.Errorf("%s: %q, want %q", f, got[f], m)
		}
	}
	// A body that is malformed as well is reported as malformed (400) first.
	err = DecodeJSON([]byte(`{"title":"a\u0000b","colour":1}`), &b)
	var be *BodyError
	if !errors.As(err, &be) || be.Field != "colour" {
		t.Fatalf("%v, want the unknown member", err)
	}
}
