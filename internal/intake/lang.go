package intake

import (
	"strings"
	"unicode/utf8"

	"github.com/abadojack/whatlanggo"

	"github.com/flare-desk/flare/internal/desk"
)

// byISO1 maps two-letter language codes to the detector's languages.
var byISO1 = func() map[string]whatlanggo.Lang {
	m := map[string]whatlanggo.Lang{}
	for l := whatlanggo.Afr; l <= whatlanggo.Zul; l++ {
		if code := l.Iso6391(); code != "" {
			m[code] = l
		}
	}
	return m
}()

// minDetect is the least text worth guessing a language from.
const minDetect = 12

// maxDetect is the most text (bytes) the detector reads.
const maxDetect = 1024

// DetectLanguage returns the language text is written in as a two-letter
// code ("de"), or "" when the guess is not reliable. Given candidates (the
// desk's or a market's languages, BCP 47 tags), it chooses among those
// only: that is the question routing by language skill asks, and a narrow
// choice is far more accurate on the short texts cases open with.
func DetectLanguage(text string, candidates ...string) string {
	text = strings.TrimSpace(text)
	if utf8.RuneCountInString(text) < minDetect {
		return ""
	}
	if len(text) > maxDetect {
		// The detector's cost grows with the text and a long mail's first
		// kilobyte says its language as well as the rest: cut on a rune.
		cut := maxDetect
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	opt := whatlanggo.Options{}
	if len(candidates) > 0 {
		opt.Whitelist = map[whatlanggo.Lang]bool{}
		for _, c := range candidates {
			base, _, _ := strings.Cut(strings.ToLower(c), "-")
			if l, ok := byISO1[base]; ok {
				opt.Whitelist[l] = true
			}
		}
		switch len(opt.Whitelist) {
		case 0:
			opt.Whitelist = nil
		case 1: // one candidate: nothing to choose
			for l := range opt.Whitelist {
				return l.Iso6391()
			}
		}
	}
	info := whatlanggo.DetectWithOptions(text, opt)
	// With few candidates the detector's confidence (the gap to the
	// runner-up) is lower for the same certainty; half the usual bar.
	bar := whatlanggo.ReliableConfidenceThreshold
	if opt.Whitelist != nil {
		bar /= 2
	}
	if info.Confidence < bar {
		return ""
	}
	return info.Lang.Iso6391()
}

// languagesFor is what a case may be written in: every language of the
// desk's markets (a market's own list would miss the German mail a
// British seller's German customer forwards).
func languagesFor(cfg *desk.Config) []string {
	var all []string
	for _, m := range cfg.Markets {
		all = append(all, m.Languages...)
	}
	return all
}
