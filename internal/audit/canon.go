package audit

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// canonicalJSON rewrites a JSON document into one fixed form: object keys
// sorted, no insignificant whitespace, one escaping style and numbers in a
// normal decimal form. PostgreSQL's JSONB reorders keys, rewrites whitespace
// and turns 1e2 into 100, so the chain hashes this form, never the bytes the
// database hands back. canonicalJSON(canonicalJSON(x)) == canonicalJSON(x).
func canonicalJSON(raw []byte) ([]byte, error) { return canonicalWithout(raw) }

// CanonicalWithout is the canonical form of the JSON document raw with the
// top-level keys drop removed (when raw is an object), made in one pass:
// for audit snapshots of records that carry derived fields.
func CanonicalWithout(raw []byte, drop ...string) (Canonical, error) {
	c, err := canonicalWithout(raw, drop...)
	if err != nil || string(c) == "null" {
		return nil, err
	}
	return Canonical(c), nil
}

func canonicalWithout(raw []byte, drop ...string) ([]byte, error) {
	// One pass over raw writing the canonical form directly: the same bytes
	// as decoding into any (json.Number) and encoding that with sorted map
	// keys and SetEscapeHTML(false) (canon_test.go holds the two together),
	// at a fraction of the cost: every case write snapshots its case.
	p := canonParsers.Get().(*canonParser)
	defer p.release()
	p.in, p.pos, p.drop = raw, 0, drop
	p.skipSpace()
	out, err := p.value(make([]byte, 0, len(raw)), 0)
	if err != nil {
		return nil, fmt.Errorf("canonical JSON: %w", err)
	}
	if p.skipSpace(); p.pos < len(p.in) {
		return nil, errors.New("canonical JSON: trailing data after the document")
	}
	return out, nil
}

// maxCanonDepth is encoding/json's nesting limit, kept so that the same
// documents are refused.
const maxCanonDepth = 10000

// canonParser is canonicalWithout's state: the input, the top-level keys
// to drop, and scratch space reused across objects.
type canonParser struct {
	in      []byte
	pos     int
	drop    []string
	members []canonMember // the open objects' members, innermost last
	tmp     []byte        // an object's members while they are put in order
	key     []byte        // an escaped string, decoded
	escaped bool          // the last string read is in key
}

// canonParsers keep the scratch space of finished parses: a case write
// makes several snapshots, and growing it anew each time was most of what
// canonicalWithout allocated.
var canonParsers = sync.Pool{New: func() any { return new(canonParser) }}

// release returns p to canonParsers, holding nothing of its input.
func (p *canonParser) release() {
	clear(p.members[:cap(p.members)])
	p.in, p.drop, p.members = nil, nil, p.members[:0]
	if cap(p.tmp) > 64<<10 { // an outsized document's: let it go
		p.tmp = nil
	}
	canonParsers.Put(p)
}

// canonMember is one member of an object being written: its decoded key
// and where its "key":value sits in the output.
type canonMember struct {
	key        []byte // aliases the input unless it was escaped
	start, end int
}

var errCanonEOF = errors.New("unexpected end of JSON input")

func (p *canonParser) skipSpace() {
	for p.pos < len(p.in) {
		switch p.in[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *canonParser) errAt(what string) error {
	if p.pos >= len(p.in) {
		return errCanonEOF
	}
	return fmt.Errorf("invalid character %q %s at offset %d", p.in[p.pos], what, p.pos)
}

// value writes the canonical form of the value at p.pos to out.
func (p *canonParser) value(out []byte, depth int) ([]byte, error) {
	if p.pos >= len(p.in) {
		return nil, errCanonEOF
	}
	switch c := p.in[p.pos]; {
	case c == '{':
		return p.object(out, depth+1)
	case c == '[':
		return p.array(out, depth+1)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return appendCanonString(out, s), nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number(out)
	case c == 't':
		return p.literal(out, "true")
	case c == 'f':
		return p.literal(out, "false")
	case c == 'n':
		return p.literal(out, "null")
	}
	return nil, p.errAt("looking for beginning of value")
}

func (p *canonParser) literal(out []byte, lit string) ([]byte, error) {
	for i := 0; i < len(lit); i++ {
		if p.pos >= len(p.in) {
			return nil, errCanonEOF
		}
		if p.in[p.pos] != lit[i] {
			return nil, p.errAt("in literal")
		}
		p.pos++
	}
	return append(out, lit...), nil
}

// number checks a number's JSON syntax and writes canonicalNumber of it.
func (p *canonParser) number(out []byte) ([]byte, error) {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.in) && p.in[p.pos] >= '0' && p.in[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.in[p.pos] == '-' {
		p.pos++
	}
	switch {
	case p.pos >= len(p.in):
		return nil, errCanonEOF
	case p.in[p.pos] == '0':
		p.pos++
	case p.in[p.pos] >= '1' && p.in[p.pos] <= '9':
		digits()
	default:
		return nil, p.errAt("in numeric literal")
	}
	if p.pos < len(p.in) && p.in[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return nil, p.errAt("after decimal point in numeric literal")
		}
	}
	if p.pos < len(p.in) && (p.in[p.pos] == 'e' || p.in[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.in) && (p.in[p.pos] == '+' || p.in[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return nil, p.errAt("in exponent of numeric literal")
		}
	}
	lit := p.in[start:p.pos]
	if isPlainInt(lit) { // canonical already: most numbers are ids and counts
		return append(out, lit...), nil
	}
	s, err := canonicalNumber(string(lit))
	if err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "canonical JSON: "))
	}
	return append(out, s...), nil
}

// isPlainInt reports an integer with no leading zero, not "-0" and short
// of scientific notation, which canonicalNumber leaves as it is.
func isPlainInt(lit []byte) bool {
	d := lit
	if len(d) > 0 && d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || d[0] == '0' {
		return len(lit) == 1 && len(d) == 1 // "0" alone
	}
	if len(d) > sciBeyond {
		return false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (p *canonParser) array(out []byte, depth int) ([]byte, error) {
	if depth > maxCanonDepth {
		return nil, errors.New("exceeded max depth")
	}
	p.pos++ // [
	out = append(out, '[')
	p.skipSpace()
	if p.pos < len(p.in) && p.in[p.pos] == ']' {
		p.pos++
		return append(out, ']'), nil
	}
	for first := true; ; first = false {
		if !first {
			out = append(out, ',')
		}
		p.skipSpace()
		var err error
		if out, err = p.value(out, depth); err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.pos >= len(p.in) {
			return nil, errCanonEOF
		}
		switch p.in[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return append(out, ']'), nil
		default:
			return nil, p.errAt("after array element")
		}
	}
}

// object writes an object's members sorted by key, the last of repeated
// keys winning (a map's behaviour), without the dropped keys at the top.
func (p *canonParser) object(out []byte, depth int) ([]byte, error) {
	if depth > maxCanonDepth {
		return nil, errors.New("exceeded max depth")
	}
	p.pos++ // {
	out = append(out, '{')
	p.skipSpace()
	if p.pos < len(p.in) && p.in[p.pos] == '}' {
		p.pos++
		return append(out, '}'), nil
	}
	base, body := len(p.members), len(out)
	defer func() { p.members = p.members[:base] }()
	for {
		p.skipSpace()
		if p.pos >= len(p.in) {
			return nil, errCanonEOF
		}
		if p.in[p.pos] != '"' {
			return nil, p.errAt("looking for beginning of object key string")
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		key := k
		if p.escaped {
			key = bytes.Clone(k) // the scratch buffer's: the next string reuses it
		}
		p.skipSpace()
		if p.pos >= len(p.in) {
			return nil, errCanonEOF
		}
		if p.in[p.pos] != ':' {
			return nil, p.errAt("after object key")
		}
		p.pos++
		p.skipSpace()
		start := len(out)
		out = appendCanonString(out, key)
		out = append(out, ':')
		if out, err = p.value(out, depth); err != nil {
			return nil, err
		}
		if depth == 1 && slices.Contains(p.drop, string(key)) {
			out = out[:start] // read (and checked) like the rest, then dropped
		} else {
			p.members = append(p.members, canonMember{key: key, start: start, end: len(out)})
		}
		p.skipSpace()
		if p.pos >= len(p.in) {
			return nil, errCanonEOF
		}
		if p.in[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.in[p.pos] != '}' {
			return nil, p.errAt("after object key:value pair")
		}
		p.pos++
		break
	}
	// The members were written one after the other without commas; write
	// them again in key order. A stable sort keeps repeated keys in input
	// order, and the last of each run is the one a map keeps.
	ms := p.members[base:]
	if !slices.IsSortedFunc(ms, compareMembers) {
		slices.SortStableFunc(ms, compareMembers)
	}
	p.tmp = append(p.tmp[:0], out[body:]...)
	out = out[:body]
	for i, m := range ms {
		if i+1 < len(ms) && bytes.Equal(ms[i+1].key, m.key) {
			continue
		}
		if len(out) > body {
			out = append(out, ',')
		}
		out = append(out, p.tmp[m.start-body:m.end-body]...)
	}
	return append(out, '}'), nil
}

func compareMembers(a, b canonMember) int { return bytes.Compare(a.key, b.key) }

// str reads a JSON string at p.pos and returns it decoded as
// encoding/json decodes it (invalid UTF-8 and lone surrogates become
// U+FFFD). The result aliases the input or p.key: use it before the next
// call.
func (p *canonParser) str() ([]byte, error) {
	p.pos++ // "
	start := p.pos
	p.escaped = false
	for p.pos < len(p.in) {
		c := p.in[p.pos]
		switch {
		case c == '"':
			p.pos++
			return p.in[start : p.pos-1], nil
		case c == '\\':
			return p.strEscaped(start)
		case c < 0x20:
			return nil, p.errAt("in string literal")
		case c < utf8.RuneSelf:
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.in[p.pos:])
			if r == utf8.RuneError && size == 1 {
				return p.strEscaped(start)
			}
			p.pos += size
		}
	}
	return nil, errCanonEOF
}

// strEscaped is str's slow path, from the first escape or invalid byte.
func (p *canonParser) strEscaped(start int) ([]byte, error) {
	b := append(p.key[:0], p.in[start:p.pos]...)
	p.escaped = true
	defer func() { p.key = b[:0] }()
	for p.pos < len(p.in) {
		c := p.in[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b, nil
		case c < 0x20:
			return nil, p.errAt("in string literal")
		case c == '\\':
			p.pos++
			if p.pos >= len(p.in) {
				return nil, errCanonEOF
			}
			switch e := p.in[p.pos]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := hex4(p.in[p.pos+1:])
				if !ok {
					return nil, p.errAt("in \\u hexadecimal character escape")
				}
				p.pos += 4
				if utf16.IsSurrogate(r) {
					// As encoding/json: a valid pair is one rune; a lone
					// surrogate is U+FFFD and what follows is read anew.
					dec := unicode.ReplacementChar
					if rest := p.in[p.pos+1:]; len(rest) >= 6 && rest[0] == '\\' && rest[1] == 'u' {
						if r2, ok := hex4(rest[2:]); ok {
							if d := utf16.DecodeRune(r, r2); d != unicode.ReplacementChar {
								p.pos += 6
								dec = d
							}
						}
					}
					r = dec
				}
				b = utf8.AppendRune(b, r)
			default:
				return nil, p.errAt("in string escape code")
			}
			p.pos++
		case c < utf8.RuneSelf:
			b = append(b, c)
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.in[p.pos:])
			b = utf8.AppendRune(b, r) // U+FFFD for an invalid byte, as the decoder
			p.pos += size
		}
	}
	return nil, errCanonEOF
}

func hex4(s []byte) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}

// appendCanonString writes s quoted as encoding/json's encoder does
// without HTML escaping.
func appendCanonString(out, s []byte) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			out = append(out, s[start:i]...)
			switch c {
			case '"', '\\':
				out = append(out, '\\', c)
			case '\b':
				out = append(out, '\\', 'b')
			case '\f':
				out = append(out, '\\', 'f')
			case '\n':
				out = append(out, '\\', 'n')
			case '\r':
				out = append(out, '\\', 'r')
			case '\t':
				out = append(out, '\\', 't')
			default:
				out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			out = append(out, s[start:i]...)
			out = append(out, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			out = append(out, s[start:i]...)
			out = append(out, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	out = append(out, s[start:]...)
	return append(out, '"')
}

// sciBeyond is the decimal exponent past which numbers are written in
// scientific notation, so an absurd exponent cannot blow up the output.
const sciBeyond = 400

// canonicalNumber writes a JSON number by its value alone: no exponent (up
// to sciBeyond), no leading or trailing zeros, no "-0". "1.50", "15e-1" and
// "0.15E1" all become "1.5".
func canonicalNumber(s string) (string, error) {
	bad := fmt.Errorf("canonical JSON: bad number %q", s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expPart, hasExp := strings.Cut(strings.ToLower(s), "e")
	exp := 0
	if hasExp {
		if len(strings.TrimLeft(strings.TrimLeft(expPart, "+-"), "0")) > 6 {
			return "", fmt.Errorf("canonical JSON: number %q out of range", s)
		}
		e, err := strconv.Atoi(expPart)
		if err != nil {
			return "", bad
		}
		exp = e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return "", bad
	}
	point := len(intPart) + exp // the decimal point sits after `point` digits
	trimmed := strings.TrimLeft(digits, "0")
	point -= len(digits) - len(trimmed)
	digits = strings.TrimRight(trimmed, "0")
	if digits == "" {
		return "0", nil
	}
	var out string
	switch {
	case point > sciBeyond || point < -sciBeyond:
		out = digits[:1]
		if len(digits) > 1 {
			out += "." + digits[1:]
		}
		out += "e" + strconv.Itoa(point-1)
	case point <= 0:
		out = "0." + strings.Repeat("0", -point) + digits
	case point >= len(digits):
		out = digits + strings.Repeat("0", point-len(digits))
	default:
		out = digits[:point] + "." + digits[point:]
	}
	if neg {
		out = "-" + out
	}
	return out, nil
}

// With is the canonical object c with the top-level keys of add set to
// their values: for a snapshot made before its record's id was known (a
// case is snapshotted before its transaction and numbered inside it). The
// added members follow c's and win as a repeated key's last value does.
func (c Canonical) With(add map[string]any) (Canonical, error) {
	if len(c) < 2 || c[0] != '{' {
		return nil, errors.New("canonical JSON: not an object")
	}
	b := append(make([]byte, 0, len(c)+32*len(add)), c[:len(c)-1]...)
	for k, v := range add {
		vb, err := marshalCanonical(v)
		if err != nil {
			return nil, err
		}
		if vb == nil {
			vb = []byte("null")
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(appendCanonString(b, []byte(k)), ':')
		b = append(b, vb...)
	}
	out, err := canonicalWithout(append(b, '}'))
	if err != nil {
		return nil, err
	}
	return Canonical(out), nil
}
