// Package input holds the rules every string entering Flare passes, whether
// it comes from a JSON body, a query or path parameter, a form or the desk
// document: valid UTF-8, no NUL, no control characters (newline and tab
// only in multi-line text), no bidirectional formatting characters in
// one-line fields (balanced on each line in multi-line text), and a
// maximum length per kind of field. It also holds the strict JSON body
// reader and the one language-tag rule. The package is pure: no store, no
// HTTP.
package input

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/flare-desk/flare/internal/apperr"
)

// Kind is a kind of text field: how long its values may be and whether they
// may span lines.
type Kind struct {
	name      string
	max       int // characters (runes)
	multiline bool
}

// The kinds of text fields. Lengths count characters, not bytes.
var (
	// Key is an identifier or code: a team, category, market, seller id,
	// status, resolution, language tag.
	Key = Kind{"key", 128, false}
	// Email is an email address (RFC 5321 caps a path at 254).
	Email = Kind{"email", 254, false}
	// Name is a person's or an object's display name.
	Name = Kind{"name", 200, false}
	// Title is a case title.
	Title = Kind{"title", 300, false}
	// Reason is a one-line reason, such as a priority override's.
	Reason = Kind{"reason", 1_000, false}
	// Param is a query or path parameter's value.
	Param = Kind{"parameter", 1_000, false}
	// Text is a note: a status change's, a handoff's request, answer or
	// reason, an away note.
	Text = Kind{"text", 10_000, true}
	// Comment is a comment or internal note.
	Comment = Kind{"comment", 65_536, true}
	// LongText is a case description.
	LongText = Kind{"long text", 100_000, true}
)

// Kinds lists every kind, for documentation and tests.
var Kinds = []Kind{Key, Email, Name, Title, Reason, Param, Text, Comment, LongText}

// Caps on lists.
const (
	// MaxList is the most items a list filter (comma-separated or repeated
	// query parameter) or a JSON array may hold unless a field says fewer.
	MaxList = 100
	// MaxWatchers is the most watchers a case may have set at once.
	MaxWatchers = 50
)

// String is the kind's name.
func (k Kind) String() string { return k.name }

// Max is the most characters a value may hold.
func (k Kind) Max() int { return k.max }

// Multiline reports whether values may hold newlines and tabs.
func (k Kind) Multiline() bool { return k.multiline }

// Problem says what is wrong with s as a value of this kind, or "" when
// nothing is. The empty string is fine: required fields say so themselves.
func (k Kind) Problem(s string) string {
	if msg := gate(s, k.multiline, true); msg != "" {
		return msg
	}
	if n := utf8.RuneCountInString(s); n > k.max {
		return fmt.Sprintf("is longer than %d characters", k.max)
	}
	return ""
}

// Check records in v what is wrong with s as the value of field, if
// anything, and reports whether s passed.
func Check(v *apperr.Invalid, field string, k Kind, s string) bool {
	if msg := k.Problem(s); msg != "" {
		v.Add(field, "%s", msg)
		return false
	}
	return true
}

// Required is Check that also refuses an empty value.
func Required(v *apperr.Invalid, field string, k Kind, s string) bool {
	if s == "" {
		v.Add(field, "is required")
		return false
	}
	return Check(v, field, k, s)
}

// CheckList records a problem when a list of n items is longer than max.
func CheckList(v *apperr.Invalid, field string, n, max int) bool {
	if n > max {
		v.Add(field, "at most %d items", max)
		return false
	}
	return true
}

// Gate says what is wrong with s under the rule every string passes, kind
// or no kind: valid UTF-8, no NUL, no control characters but newline, tab
// and a carriage return that ends a line (CRLF, as browsers send
// textareas). It returns "" when s passes. A bare carriage return is
// refused: in a log or a terminal it rewrites the line before it. The
// rules on lines and bidirectional text depend on the field's kind.
func Gate(s string) string { return gate(s, true, false) }

// gate checks s. One-line text (multiline false) also refuses newlines,
// tabs, line and paragraph separators and, with bidi, every bidirectional
// formatting character; multi-line text with bidi must close them on the
// line that opens them.
func gate(s string, multiline, bidi bool) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8 text"
	}
	var embed, isolate int // open bidi embeddings/overrides and isolates on this line
	var opener rune
	line := 1
	for i, r := range s {
		switch {
		case r == 0:
			return "must not contain NUL characters"
		case r == '\n' && multiline:
			if embed > 0 || isolate > 0 {
				return unclosed(opener, line)
			}
			line++
		case r == '\t' && multiline:
		case r == '\r' && multiline && strings.HasPrefix(s[i+1:], "\n"):
		case r == '\r' && multiline:
			return "must not contain a carriage return (U+000D) that does not end a line"
		case r == '\n' || r == '\t' || r == '\r':
			return "must be one line of text (no line breaks or tabs)"
		case unicode.IsControl(r):
			return fmt.Sprintf("must not contain control characters (%U)", r)
		case r == '\u2028' || r == '\u2029':
			if !multiline {
				return "must be one line of text (no line breaks or tabs)"
			}
		case bidi && isBidi(r):
			if !multiline {
				return fmt.Sprintf("must not contain bidirectional formatting characters (%U)", r)
			}
			switch r {
			case '\u202a', '\u202b', '\u202d', '\u202e':
				embed, opener = embed+1, r
			case '\u202c':
				embed = max(embed-1, 0)
			case '\u2066', '\u2067', '\u2068':
				isolate, opener = isolate+1, r
			case '\u2069':
				isolate = max(isolate-1, 0)
			}
		}
	}
	if embed > 0 || isolate > 0 {
		return unclosed(opener, line)
	}
	return ""
}

func unclosed(r rune, line int) string {
	return fmt.Sprintf("has a bidirectional formatting character (%U) not closed on its line (line %d)", r, line)
}

// isBidi reports whether r is an explicit bidirectional formatting
// character: embeddings, overrides and their terminator (U+202A–U+202E),
// isolates and theirs (U+2066–U+2069). The implicit marks (LRM, RLM, ALM)
// are ordinary in right-to-left text and allowed.
func isBidi(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}
