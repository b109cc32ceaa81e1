package webhook

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// A template is how a case field is taken from a sender's JSON: literal
// text with JSON Pointers (RFC 6901) in double braces.
//
//	"GB"                                  a constant
//	"{{/post/text}}"                      the value at /post/text
//	"{{/user/name}} on {{/platform}}"     text around values
//	"{{?/user/email}}"                    optional: empty when the payload has no /user/email
//
// A pointer that is the whole template keeps its JSON type (a boolean for
// high_risk, an array for tags, a number for a custom field); in text, a
// number or boolean is written as JSON writes it and null as nothing. A
// required pointer the payload lacks, or an object or array in text, is a
// mapping failure naming the pointer.
type template struct {
	parts []part
}

type part struct {
	text     string           // literal text (ptr empty)
	ptr      jsontext.Pointer // a value
	optional bool
	isPtr    bool
}

// parseTemplate compiles s.
func parseTemplate(s string) (template, error) {
	var t template
	for s != "" {
		i := strings.Index(s, "{{")
		if i < 0 {
			t.parts = append(t.parts, part{text: s})
			break
		}
		if i > 0 {
			t.parts = append(t.parts, part{text: s[:i]})
		}
		rest := s[i+2:]
		j := strings.Index(rest, "}}")
		if j < 0 {
			return template{}, fmt.Errorf("%q opens {{ without closing it", s)
		}
		ref := strings.TrimSpace(rest[:j])
		p := part{isPtr: true}
		if r, ok := strings.CutPrefix(ref, "?"); ok {
			p.optional, ref = true, r
		}
		if ref == "" || ref[0] != '/' || !jsontext.Pointer(ref).IsValid() {
			return template{}, fmt.Errorf("{{%s}} is not a JSON Pointer (RFC 6901: /member/0/member, ~0 for ~ and ~1 for /)", rest[:j])
		}
		p.ptr = jsontext.Pointer(ref)
		t.parts = append(t.parts, p)
		s = rest[j+2:]
	}
	return t, nil
}

// mustTemplate compiles a template already validated with the desk.
func mustTemplate(s string) template {
	t, err := parseTemplate(s)
	if err != nil {
		return template{parts: []part{{text: s}}}
	}
	return t
}

// empty reports whether the template is the empty string.
func (t template) empty() bool { return len(t.parts) == 0 }

// failure is a mapping failure: the pointer that failed and why.
type failure struct {
	ptr jsontext.Pointer
	msg string
}

func (f *failure) Error() string { return string(f.ptr) + ": " + f.msg }

// value evaluates t against doc: a whole-template pointer gives its JSON
// value (nil when optional and missing), anything else a string.
func (t template) value(doc any) (any, error) {
	if len(t.parts) == 1 && t.parts[0].isPtr {
		p := t.parts[0]
		v, ok := lookup(doc, p.ptr)
		if !ok {
			if p.optional {
				return nil, nil
			}
			return nil, &failure{p.ptr, "is not in the payload"}
		}
		return v, nil
	}
	return t.text(doc)
}

// text evaluates t against doc as text.
func (t template) text(doc any) (string, error) {
	var b strings.Builder
	for _, p := range t.parts {
		if !p.isPtr {
			b.WriteString(p.text)
			continue
		}
		v, ok := lookup(doc, p.ptr)
		if !ok {
			if p.optional {
				continue
			}
			return "", &failure{p.ptr, "is not in the payload"}
		}
		s, err := scalarText(v)
		if err != nil {
			return "", &failure{p.ptr, err.Error()}
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// scalarText writes a JSON scalar as text.
func scalarText(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	case map[string]any:
		return "", fmt.Errorf("is an object, not text")
	case []any:
		return "", fmt.Errorf("is an array, not text")
	}
	return "", fmt.Errorf("is not text")
}

// lookup resolves ptr in doc (decoded with json.Decoder.UseNumber): the
// empty pointer is the whole document; an array index is a decimal without
// leading zeros ("-", the element after the last, is never there).
func lookup(doc any, ptr jsontext.Pointer) (any, bool) {
	cur := doc
	for tok := range ptr.Tokens() {
		switch x := cur.(type) {
		case map[string]any:
			v, ok := x[tok]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, ok := arrayIndex(tok)
			if !ok || i >= len(x) {
				return nil, false
			}
			cur = x[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

func arrayIndex(tok string) (int, bool) {
	if tok == "" || len(tok) > 9 || (len(tok) > 1 && tok[0] == '0') {
		return 0, false
	}
	n := 0
	for _, c := range []byte(tok) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
