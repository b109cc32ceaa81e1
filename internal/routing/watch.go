package routing

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/flare-desk/flare/internal/apperr"
)

// The safety watch: lists of safety and integrity terms per language
// ("fire", "caught fire", "explod*", "Stromschlag"), looked for in every
// case's title and description. A hit is a fact (Facts.SafetyTerm) that
// scores (FactorSafetyTerm) and that rules can test (`safety_term: true`)
// to route the case to trust & safety.
//
// Text and terms are matched as routing keywords are (case-folded, at word
// boundaries, "*" for inflections), after Unicode compatibility
// normalisation (NFKC: "ﬁre" is "fire", full-width letters are letters);
// a list marked accent_insensitive also matches with the accents removed
// on both sides, for markets whose users often type without them
// ("brule" finds "brûlé", and "brûlé" finds "brule").

// WatchList is one language's terms.
type WatchList struct {
	Language          string   `yaml:"language" json:"language"` // BCP 47 tag of the terms ("de")
	AccentInsensitive bool     `yaml:"accent_insensitive,omitempty" json:"accent_insensitive,omitempty"`
	Terms             []string `yaml:"terms" json:"terms"`
}

// Watch is a compiled set of watch lists; immutable and safe for
// concurrent use. The zero of *Watch (nil) finds nothing.
type Watch struct {
	exact, plain *matcher // accent-sensitive lists; accent-insensitive lists with the accents removed
	exactTerms   []WatchHit
	plainTerms   []WatchHit
}

// WatchHit is the term a text matched, as its list writes it.
type WatchHit struct {
	Term     string `json:"term"`
	Language string `json:"language"`
}

// String is the hit as a priority reason names it.
func (h WatchHit) String() string { return fmt.Sprintf("%q (%s)", h.Term, h.Language) }

// CompileWatch compiles lists; the first list's terms win when several match.
func CompileWatch(lists []WatchList) *Watch {
	if len(lists) == 0 {
		return nil
	}
	w := &Watch{}
	var exact, plain []keyword
	for _, l := range lists {
		for _, t := range l.Terms {
			hit := WatchHit{Term: strings.TrimSpace(t), Language: l.Language}
			if l.AccentInsensitive {
				plain = append(plain, newKeyword(stripMarks(nfkc(t))))
				w.plainTerms = append(w.plainTerms, hit)
			} else {
				exact = append(exact, newKeyword(nfkc(t)))
				w.exactTerms = append(w.exactTerms, hit)
			}
		}
	}
	w.exact, w.plain = newMatcher(exact), newMatcher(plain)
	return w
}

// Find returns the first listed term found in the title or description.
func (w *Watch) Find(title, description string) (WatchHit, bool) {
	if w == nil {
		return WatchHit{}, false
	}
	text := fold(nil, nfkc(title))
	text = append(text, 0) // no phrase crosses from the title into the description
	text = fold(text, nfkc(description))
	if h, ok := first(w.exact, w.exactTerms, text); ok {
		return h, true
	}
	if len(w.plainTerms) == 0 {
		return WatchHit{}, false
	}
	return first(w.plain, w.plainTerms, []byte(stripMarks(string(text))))
}

func first(m *matcher, terms []WatchHit, text []byte) (WatchHit, bool) {
	if len(terms) == 0 {
		return WatchHit{}, false
	}
	hits := make([]uint64, (len(terms)+63)/64)
	m.scan(text, hits)
	for i := range terms {
		if hit(hits, int32(i)) {
			return terms[i], true
		}
	}
	return WatchHit{}, false
}

func nfkc(s string) string { return norm.NFKC.String(s) }

// stripMarks removes accents: combining marks after canonical
// decomposition ("é" becomes "e"), and the stroke of the letters that
// carry one and do not decompose ("ł" is typed "l", "ø" "o", "đ" "d").
func stripMarks(s string) string {
	if isASCII(s) { // no marks, nothing to decompose: the chain would copy it
		return s
	}
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), runes.Map(unstroke), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		return s
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func unstroke(r rune) rune {
	switch r {
	case 'ł':
		return 'l'
	case 'Ł':
		return 'L'
	case 'ø':
		return 'o'
	case 'Ø':
		return 'O'
	case 'đ':
		return 'd'
	case 'Đ':
		return 'D'
	}
	return r
}

// ValidateWatch checks lists and returns their problems under path.
func ValidateWatch(path string, lists []WatchList) []apperr.FieldError {
	var out []apperr.FieldError
	seen := map[string]bool{}
	for i, l := range lists {
		p := fmt.Sprintf("%s[%d]", path, i)
		if strings.TrimSpace(l.Language) == "" {
			out = append(out, apperr.FieldError{Field: p + ".language", Message: "is required: the language the terms are in"})
		} else if seen[strings.ToLower(l.Language)] {
			out = append(out, apperr.FieldError{Field: p + ".language", Message: fmt.Sprintf("%s has a list already", l.Language)})
		}
		seen[strings.ToLower(l.Language)] = true
		if len(l.Terms) == 0 {
			out = append(out, apperr.FieldError{Field: p + ".terms", Message: "list at least one term"})
		}
		for j, t := range l.Terms {
			if pat, _ := foldKeyword(nfkc(t)); pat == "" || len(t) > 200 {
				out = append(out, apperr.FieldError{Field: fmt.Sprintf("%s.terms[%d]", p, j), Message: "must be a word or phrase of at most 200 bytes"})
			}
		}
	}
	return out
}
