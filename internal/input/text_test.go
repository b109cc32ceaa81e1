package input

import (
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/apperr"
)

func TestKindProblems(t *testing.T) {
	cases := []struct {
		name string
		kind Kind
		in   string
		want string // a part of the problem; "" means it passes
	}{
		{"plain title", Title, "Parcel lost in Leeds", ""},
		{"accents and CJK", Title, "Rückerstattung 退款 استرداد", ""},
		{"empty is not a length problem", Title, "", ""},
		{"RLM mark is fine", Title, "שלום\u200fworld", ""},
		{"invalid UTF-8", Title, "bad \xff byte", "valid UTF-8"},
		{"encoded surrogate", Title, "\xed\xa0\x80", "valid UTF-8"},
		{"NUL", Title, "a\x00b", "NUL"},
		{"NUL in text", Text, "a\x00b", "NUL"},
		{"ANSI escape", Title, "\x1b[31mred", "control characters (U+001B)"},
		{"ANSI escape in comment", Comment, "see \x1b[2J", "control characters (U+001B)"},
		{"DEL", Name, "a\x7fb", "U+007F"},
		{"C1 control", Name, "a\u0085b", "U+0085"},
		{"newline in title", Title, "one\ntwo", "one line"},
		{"tab in title", Title, "one\ttwo", "one line"},
		{"CRLF in title", Title, "one\r\ntwo", "one line"},
		{"line separator in title", Title, "one\u2028two", "one line"},
		{"RLO in title", Title, "invoice \u202egnp.exe", "bidirectional formatting characters (U+202E)"},
		{"isolate in name", Name, "\u2067abc\u2069", "bidirectional"},
		{"newline and tab in text", Text, "line one\n\tline two", ""},
		{"CRLF in text", Comment, "line one\r\nline two\r\n", ""},
		{"bare CR in text", Comment, "progress 10%\rprogress 99%", "carriage return (U+000D)"},
		{"CR at the end", Comment, "end\r", "carriage return"},
		{"unclosed RLO in comment", Comment, "fine\nthis \u202eis reversed", "not closed on its line (line 2)"},
		{"RLO closed on the next line", Comment, "\u202eabc\n\u202c", "not closed"},
		{"closed RLO in comment", Comment, "quote: \u202eabc\u202c done", ""},
		{"closed isolate in text", Text, "name: \u2067اسم\u2069 ok", ""},
		{"unclosed isolate", Text, "\u2068abc", "U+2068"},
		{"too long title", Title, strings.Repeat("é", 301), "longer than 300 characters"},
		{"long title in characters not bytes", Title, strings.Repeat("é", 300), ""},
		{"too long reason", Reason, strings.Repeat("x", 1001), "longer than 1000"},
		{"too long text", Text, strings.Repeat("x", 10_001), "longer than 10000"},
	}
	for _, c := range cases {
		got := c.kind.Problem(c.in)
		switch {
		case c.want == "" && got != "":
			t.Errorf("%s: %q refused: %s", c.name, c.in, got)
		case c.want != "" && !strings.Contains(got, c.want):
			t.Errorf("%s: %q: problem %q, want one with %q", c.name, c.in, got, c.want)
		}
	}
}

func TestGateIsTheMultiLineRuleWithoutLength(t *testing.T) {
	if msg := Gate(strings.Repeat("x", 1<<20) + "\n\t"); msg != "" {
		t.Fatalf("long multi-line text refused: %s", msg)
	}
	if msg := Gate("\u202eabc"); msg != "" {
		t.Fatalf("bidi text is the kinds' to judge, not Gate's: %s", msg)
	}
	for _, s := range []string{"\x00", "\x1b", "\r", "\xff"} {
		if Gate(s) == "" {
			t.Errorf("Gate(%q) passed", s)
		}
	}
}

func TestKindsAreOrdered(t *testing.T) {
	for _, k := range Kinds {
		if k.Max() <= 0 || k.String() == "" {
			t.Errorf("kind %+v", k)
		}
	}
	if Title.Multiline() || !Comment.Multiline() {
		t.Fatal("title must be one line, comment multi-line")
	}
	// The limits the case service had before this package keep their values.
	for k, want := range map[Kind]int{Title: 300, LongText: 100_000, Comment: 65_536, Text: 10_000, Name: 200} {
		if k.Max() != want {
			t.Errorf("%s: max %d, want %d", k, k.Max(), want)
		}
	}
}

func TestCheckAndRequired(t *testing.T) {
	v := &apperr.Invalid{}
	if !Check(v, "description", LongText, "") || !Check(v, "title", Title, "ok") {
		t.Fatal("valid values refused")
	}
	if Required(v, "title", Title, "") || Required(v, "body", Comment, "\x00") || Check(v, "note", Text, "\x1b") {
		t.Fatal("invalid values passed")
	}
	if CheckList(v, "watchers", 50, MaxWatchers) != true || CheckList(v, "watchers", 51, MaxWatchers) {
		t.Fatal("list cap")
	}
	want := []apperr.FieldError{
		{Field: "title", Message: "is required"},
		{Field: "body", Message: "must not contain NUL characters"},
		{Field: "note", Message: "must not contain control characters (U+001B)"},
		{Field: "watchers", Message: "at most 50 items"},
	}
	if len(v.Errors) != len(want) {
		t.Fatalf("errors %+v", v.Errors)
	}
	for i := range want {
		if v.Errors[i] != want[i] {
			t.Errorf("error %d: %+v, want %+v", i, v.Errors[i], want[i])
		}
	}
}
