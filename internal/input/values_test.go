package input

import (
	"net/url"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/apperr"
)

func fields(v *apperr.Invalid) map[string]string {
	out := map[string]string{}
	for _, e := range v.Errors {
		out[e.Field] = e.Message
	}
	return out
}

func TestCheckQuery(t *testing.T) {
	v := &apperr.Invalid{}
	CheckQuery(v, url.Values{"team": {"logistics,payments", "governance"}, "q": {"parcel, lost — Köln"}, "field.order_id": {"ORD-1"}})
	if len(v.Errors) > 0 {
		t.Fatalf("a good query refused: %+v", v.Errors)
	}
	q := url.Values{
		"team":       {"a\x00"},
		"owner":      {"x\u202e"},
		"q":          {"two\nlines"},
		"category":   {"\xff"},
		"market":     {strings.Repeat("GB,", MaxList)},
		"seller_id":  {strings.Repeat("s", Param.Max()+1)},
		"status":     {"open", "\x1b[2J"},
		"field.\x00": {"x"},
	}
	CheckQuery(v, q)
	got := fields(v)
	want := map[string]string{
		"team":       "NUL",
		"owner":      "bidirectional",
		"q":          "one line",
		"category":   "UTF-8",
		"market":     "at most 100 values",
		"seller_id":  "longer than 1000",
		"status":     "control characters",
		`field.\x00`: "parameter name must not contain NUL",
	}
	for f, m := range want {
		if !strings.Contains(got[f], m) {
			t.Errorf("%s: %q, want %q", f, got[f], m)
		}
	}
	if len(got) != len(want) {
		t.Errorf("errors %v", got)
	}
	many := url.Values{}
	for i := range MaxParams + 1 {
		many.Set("p"+strings.Repeat("x", i), "1")
	}
	v = &apperr.Invalid{}
	CheckQuery(v, many)
	if got := fields(v); got["query"] == "" {
		t.Fatalf("too many parameters passed: %v", got)
	}
}

func TestCheckForm(t *testing.T) {
	v := &apperr.Invalid{}
	CheckForm(v, url.Values{"body": {"line one\r\nline two\n\ttabbed"}, "title": {"x"}})
	if len(v.Errors) > 0 {
		t.Fatalf("a good form refused: %+v", v.Errors)
	}
	CheckForm(v, url.Values{"body": {"a\x00"}, "note": {"\x1b[31m"}, "title": {"bare\rCR"}, "description": {strings.Repeat("x", LongText.Max()+1)}})
	got := fields(v)
	for f, m := range map[string]string{"body": "NUL", "note": "control", "title": "carriage return", "description": "longer"} {
		if !strings.Contains(got[f], m) {
			t.Errorf("%s: %q, want %q", f, got[f], m)
		}
	}
	v = &apperr.Invalid{}
	CheckForm(v, url.Values{"x": make([]string, MaxFormValues+1)})
	if fields(v)["form"] == "" {
		t.Fatal("too many form values passed")
	}
}

func TestCheckPath(t *testing.T) {
	v := &apperr.Invalid{}
	if !CheckPath(v, "email", "priya.shah@flare.example") || CheckPath(v, "email", "\x00") || CheckPath(v, "ref", "ESC-1\n") {
		t.Fatal("path rule")
	}
	if got := fields(v); got["email"] == "" || got["ref"] == "" {
		t.Fatalf("errors %v", got)
	}
}
