package input

import "testing"

func TestParseLanguage(t *testing.T) {
	good := map[string]string{
		"en":         "en",
		"EN":         "en",
		"de":         "de",
		"fr-BE":      "fr-BE",
		"fr-be":      "fr-BE",
		"de-AT":      "de-AT",
		"zh-hant-tw": "zh-Hant-TW",
		"sr-Latn":    "sr-Latn",
		"es-419":     "es-419",
		"de-CH-1996": "de-CH-1996",
		"sl-rozaj":   "sl-rozaj",
		"iw":         "iw", // deprecated codes stay as given
		"yue-HK":     "yue-HK",
	}
	for in, want := range good {
		got, err := ParseLanguage(in)
		if err != nil || got != want {
			t.Errorf("ParseLanguage(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := []string{
		"", "e", "english", "en-", "-en", "en_GB", "en GB", "en-GB ", "xx", "zz-ZZ", "en-AB",
		"en-u-co-phonebk", "x-private", "i-klingon", "zh-min-nan", "en-US-x-a", "de-Zzzz-DE-abcdefghi",
		"en-\x00", "de\u202e", "en-GB-GB", "en-" + "abcde-abcdf-abcdg-abcdh-abcdi-abcdj",
	}
	for _, in := range bad {
		if got, err := ParseLanguage(in); err == nil {
			t.Errorf("ParseLanguage(%q) = %q, want an error", in, got)
		}
	}
}
