package input

import (
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/flare-desk/flare/internal/apperr"
)

// Caps on query strings and forms.
const (
	// MaxParams is the most distinct parameters one query string may name.
	MaxParams = 50
	// MaxFormValues is the most values one form post may carry.
	MaxFormValues = 1_000
)

// CheckQuery checks a query string's parameters: at most MaxParams names;
// each name and value one line of Param text; at most MaxList items per
// name, counting repeats and comma-separated items (team=a,b&team=c is
// three). Problems name the parameter.
func CheckQuery(v *apperr.Invalid, q url.Values) {
	if len(q) > MaxParams {
		v.Add("query", "at most %d parameters", MaxParams)
		return
	}
	for _, name := range sortedNames(q) {
		if !checkName(v, name) {
			continue
		}
		items := 0
		for _, val := range q[name] {
			if !Check(v, name, Param, val) {
				break
			}
			items += strings.Count(val, ",") + 1
		}
		if items > MaxList {
			v.Add(name, "at most %d values", MaxList)
		}
	}
}

// CheckForm checks a form post's values: at most MaxFormValues; names one
// line of Param text; values through Gate (newlines, tabs and CRLF are
// fine: textareas send them) and at most LongText's length. The fields' own
// kinds are the domain's to check.
func CheckForm(v *apperr.Invalid, f url.Values) {
	n := 0
	for _, vals := range f {
		n += len(vals)
	}
	if n > MaxFormValues {
		v.Add("form", "at most %d values", MaxFormValues)
		return
	}
	for _, name := range sortedNames(f) {
		if !checkName(v, name) {
			continue
		}
		for _, val := range f[name] {
			if msg := Gate(val); msg != "" {
				v.Add(name, "%s", msg)
				break
			}
			if utf8.RuneCountInString(val) > LongText.max {
				v.Add(name, "is longer than %d characters", LongText.max)
				break
			}
		}
	}
}

// CheckPath checks the value of the path parameter name: one line of
// Param text.
func CheckPath(v *apperr.Invalid, name, value string) bool {
	return Check(v, name, Param, value)
}

// checkName checks a parameter's name; a bad name is reported under a
// printable form of itself.
func checkName(v *apperr.Invalid, name string) bool {
	if msg := Param.Problem(name); msg != "" {
		v.Add(Printable(name), "parameter name %s", msg)
		return false
	}
	return true
}

func sortedNames(q url.Values) []string {
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}
