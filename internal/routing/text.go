package routing

// Keyword matching. The case's title and description are folded once per
// evaluation (case-folded, whitespace runs made one space) and every
// keyword of every rule is found in a single pass of an Aho–Corasick
// automaton over the folded bytes; a rule's keyword condition is then a few
// bit tests. A keyword is folded the same way when the rules are compiled.
//
// A hit counts only at word boundaries: the text must not continue the
// keyword with a letter, digit or combining mark on either side. The check
// is skipped on a side where the keyword ends in a script written without
// spaces between words (Han, Hiragana, Katakana, Hangul, Thai, Lao, Khmer,
// Myanmar), where a keyword matches as a substring; and a letter of such a
// script next to a Latin keyword is a boundary ("返金refund" contains
// "refund"). A keyword ending in "*" is a prefix: "refund*" matches
// "refunded" and "refunds".

import (
	"slices"
	"unicode"
	"unicode/utf8"
)

// foldLow folds the runes below U+0590 (Latin, Greek, Cyrillic, Armenian),
// the common case, by table. It is computed once and never written.
var foldLow = func() (t [0x590]rune) {
	for r := range t {
		t[r] = unicode.ToLower(unicode.ToUpper(rune(r)))
	}
	return t
}()

// foldRune maps r to a representative of its case: ToLower(ToUpper(r)),
// which, unlike ToLower alone, also joins ſ with s, ς with σ and the
// Kelvin sign with k. It is simple (one rune to one rune) folding: "ß" does
// not match "ss".
func foldRune(r rune) rune {
	switch {
	case r < 0x590:
		return foldLow[r]
	case r < 0x10A0, // Hebrew … Myanmar: no case
		r >= 0x3000 && r < 0xA640, // CJK, kana, Yi…
		r >= 0xAC00 && r < 0xD800: // Hangul syllables
		return r
	}
	return unicode.ToLower(unicode.ToUpper(r))
}

// isSpaceRune reports Unicode white space beyond ASCII.
func isSpaceRune(r rune) bool {
	switch r {
	case 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

// asciiFold lower-cases ASCII and maps ASCII white space to ' '.
var asciiFold = func() (t [utf8.RuneSelf]byte) {
	for c := range t {
		t[c] = byte(c)
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = byte(c) + 'a' - 'A'
	}
	for _, c := range "\t\n\v\f\r" {
		t[c] = ' '
	}
	return t
}()

// fold appends s to dst case-folded, with every run of white space written
// as one ' ' (a run continuing one already at the end of dst adds nothing).
func fold(dst []byte, s string) []byte {
	dst = slices.Grow(dst, len(s))
	space := len(dst) > 0 && dst[len(dst)-1] == ' '
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			i++
			c = asciiFold[c]
			if c == ' ' {
				if space {
					continue
				}
				space = true
			} else {
				space = false
			}
			dst = append(dst, c)
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if isSpaceRune(r) {
			if !space {
				dst = append(dst, ' ')
				space = true
			}
			continue
		}
		dst = utf8.AppendRune(dst, foldRune(r))
		space = false
	}
	return dst
}

// foldKeyword folds a keyword as the text is folded and trims it; a
// trailing "*" makes it a prefix.
func foldKeyword(s string) (pat string, prefix bool) {
	b := fold(nil, s)
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	if len(b) > 0 && b[len(b)-1] == '*' {
		prefix = true
		b = b[:len(b)-1]
		for len(b) > 0 && b[len(b)-1] == ' ' {
			b = b[:len(b)-1]
		}
	}
	return string(b), prefix
}

// spaceless reports a letter of a script written without spaces between
// words.
func spaceless(r rune) bool {
	switch {
	case r < 0x0E00:
		return false
	case r >= 0x3000 && r <= 0x30FF, r >= 0x31F0 && r <= 0x31FF, r >= 0xFF65 && r <= 0xFF9F:
		return true // CJK punctuation, kana (with ー and the sound marks), halfwidth kana
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul,
		unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar)
}

// isWordRune reports whether r, next to a keyword, continues a word.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || 'A' <= r && r <= 'Z'
	}
	return (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)) && !spaceless(r)
}

// keyword is one distinct compiled keyword.
type keyword struct {
	pat        string // folded
	checkStart bool   // the text before a hit must not continue a word
	checkEnd   bool
}

func newKeyword(text string) keyword {
	pat, prefix := foldKeyword(text)
	k := keyword{pat: pat}
	if pat != "" {
		first, _ := utf8.DecodeRuneInString(pat)
		last, _ := utf8.DecodeLastRuneInString(pat)
		k.checkStart = isWordRune(first)
		k.checkEnd = !prefix && isWordRune(last)
	}
	return k
}

// matcher finds every keyword in a folded text in one pass: a
// deterministic Aho–Corasick automaton over bytes, with bytes that occur in
// no keyword sharing class 0.
type matcher struct {
	kws    []keyword
	class  [256]uint8
	nclass int
	// delta[s+class] is the next state as the offset of its row (state
	// number × nclass), negated when keywords end in that state.
	delta []int32
	outAt []int32 // keywords ending in state s: outs[outAt[s]:outAt[s+1]]
	outs  []int32
}

func newMatcher(kws []keyword) *matcher {
	m := &matcher{kws: kws}
	// Byte classes. At most 255 distinct bytes can follow class 0; a
	// 256th would need a 257th class, but no UTF-8 text uses 0xC0, 0xC1
	// or 0xF5–0xFF, so real keywords never get there.
	m.nclass = 1
	for _, k := range kws {
		for i := 0; i < len(k.pat); i++ {
			if b := k.pat[i]; m.class[b] == 0 && m.nclass < 256 {
				m.class[b] = uint8(m.nclass)
				m.nclass++
			}
		}
	}
	// The trie.
	type edge struct {
		state int32
		class uint8
	}
	child := map[edge]int32{}
	own := [][]int32{nil}
	for id, k := range kws {
		s := int32(0)
		for i := 0; i < len(k.pat); i++ {
			e := edge{s, m.class[k.pat[i]]}
			t, ok := child[e]
			if !ok {
				t = int32(len(own))
				own = append(own, nil)
				child[e] = t
			}
			s = t
		}
		if k.pat != "" {
			own[s] = append(own[s], int32(id))
		}
	}
	// Failure links and the full transition table, breadth first so that a
	// state's failure row is complete before its own.
	n, nc := len(own), m.nclass
	m.delta = make([]int32, n*nc)
	fail := make([]int32, n)
	out := make([][]int32, n)
	queue := make([]int32, 0, n)
	for c := range nc {
		if t, ok := child[edge{0, uint8(c)}]; ok {
			m.delta[c] = t
			queue = append(queue, t)
		}
	}
	out[0] = own[0]
	for qi := 0; qi < len(queue); qi++ {
		s := queue[qi]
		out[s] = append(own[s], out[fail[s]]...)
		for c := range nc {
			if t, ok := child[edge{s, uint8(c)}]; ok {
				fail[t] = m.delta[int(fail[s])*nc+c]
				m.delta[int(s)*nc+c] = t
				queue = append(queue, t)
			} else {
				m.delta[int(s)*nc+c] = m.delta[int(fail[s])*nc+c]
			}
		}
	}
	m.outAt = make([]int32, n+1)
	for s := range n {
		m.outAt[s] = int32(len(m.outs))
		m.outs = append(m.outs, out[s]...)
	}
	m.outAt[n] = int32(len(m.outs))
	// Premultiply and mark the states, so that scan does one load and no
	// multiplication per byte.
	for i, t := range m.delta {
		off := t * int32(nc)
		if len(out[t]) > 0 {
			off = -off
		}
		m.delta[i] = off
	}
	return m
}

// scan sets hits[k] for every keyword k found in text at word boundaries.
func (m *matcher) scan(text []byte, hits []uint64) {
	if len(m.outs) == 0 {
		return
	}
	nc := int32(m.nclass)
	delta, class := m.delta, &m.class
	s := int32(0)
	for i, b := range text {
		s = delta[s+int32(class[b])]
		if s >= 0 {
			continue
		}
		s = -s
		st := s / nc
		for _, k := range m.outs[m.outAt[st]:m.outAt[st+1]] {
			if hits[k>>6]&(1<<(k&63)) != 0 {
				continue
			}
			kw := &m.kws[k]
			end := i + 1
			start := end - len(kw.pat)
			if kw.checkStart && start > 0 {
				if r, _ := utf8.DecodeLastRune(text[:start]); isWordRune(r) {
					continue
				}
			}
			if kw.checkEnd && end < len(text) {
				if r, _ := utf8.DecodeRune(text[end:]); isWordRune(r) {
					continue
				}
			}
			hits[k>>6] |= 1 << (k & 63)
		}
	}
}
