package input

import (
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/text/language"
)

// MaxLanguageTag bounds a language tag (RFC 5646 advises keeping room for 35).
const MaxLanguageTag = 35

// reLanguageTag is the shape Flare accepts: a language (2–3 letters), then
// optionally a script (4 letters), a region (2 letters or 3 digits) and
// variants (5–8 letters or digits, or 4 starting with a digit). Extensions,
// private use, extended language subtags and grandfathered tags are not
// needed to route a case and are refused.
var reLanguageTag = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-(?:[A-Za-z]{2}|[0-9]{3}))?((?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*)$`)

// ParseLanguage checks tag against Flare's one language-tag rule and
// returns it in the canonical case of BCP 47 ("FR-be" → "fr-BE",
// "zh-hant-tw" → "zh-Hant-TW"). The rule: the shape of reLanguageTag, every
// subtag in the IANA registry (as golang.org/x/text knows it), compared
// case-insensitively. Deprecated codes are kept as given ("iw" stays "iw"),
// so a routing rule and a case that name the same code still match.
func ParseLanguage(tag string) (string, error) {
	bad := fmt.Errorf("%q is not a language tag like \"en\", \"de\" or \"fr-BE\"", tag)
	if len(tag) > MaxLanguageTag || !reLanguageTag.MatchString(tag) {
		return "", bad
	}
	parts := strings.Split(tag, "-")
	out := make([]string, 0, len(parts))
	for i, p := range parts {
		var err error
		switch {
		case i == 0:
			_, err = language.ParseBase(p)
			p = strings.ToLower(p)
		case len(p) == 4 && isLetters(p):
			_, err = language.ParseScript(p)
			p = strings.ToUpper(p[:1]) + strings.ToLower(p[1:])
		case len(p) == 2 || (len(p) == 3 && !isLetters(p)):
			_, err = language.ParseRegion(p)
			p = strings.ToUpper(p)
		default:
			_, err = language.ParseVariant(p)
			p = strings.ToLower(p)
		}
		if err != nil {
			return "", fmt.Errorf("%q is not a language tag: unknown subtag %q", tag, p)
		}
		out = append(out, p)
	}
	return strings.Join(out, "-"), nil
}

func isLetters(s string) bool {
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}
