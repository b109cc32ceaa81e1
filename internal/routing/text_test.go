package routing

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// matches reports whether a rule with keywords kw fires on a case with
// this title and description.
func matches(t *testing.T, kw []string, title, desc string) bool {
	t.Helper()
	rs, err := Compile([]Rule{{Name: "k", When: Conditions{Keywords: kw}, Then: Actions{AddTags: []string{"hit"}}}})
	if err != nil {
		t.Fatal(err)
	}
	return len(rs.Route(Facts{Title: title, Description: desc}, EventCreate).Fired) == 1
}

func TestKeywordMatching(t *testing.T) {
	tests := []struct {
		name    string
		kw      string
		text    string
		matches bool
	}{
		{"plain word", "refund", "I want a refund now", true},
		{"case-insensitive", "refund", "REFUND please", true},
		{"keyword case-insensitive", "ReFuNd", "refund please", true},
		{"not inside a longer word", "refund", "it was refunded", false},
		{"not at the end of a word", "fund", "a refund", false},
		{"punctuation is a boundary", "refund", "(refund), ok", true},
		{"underscore is a boundary", "refund", "refund_request", true},
		{"digit is not a boundary", "dhl", "dhl24 parcel", false},
		{"start of text", "refund", "refund", true},
		{"prefix with *", "refund*", "it was refunded", true},
		{"prefix still needs a start boundary", "refund*", "nonrefundable", false},
		{"prefix exact word", "refund*", "refund", true},
		{"phrase across whitespace", "account suspended", "my account \n\t  suspended today", true},
		{"phrase in keyword spacing", "account   suspended", "account suspended", true},
		{"phrase not across punctuation", "account suspended", "account, suspended", false},
		{"phrase word boundary", "account suspended", "account suspendedly", false},
		{"phrase across non-breaking space", "account suspended", "account\u00a0suspended", true},
		{"German umlaut", "Rückerstattung", "Bitte um RÜCKERSTATTUNG des Betrags", true},
		{"German not inside compound", "Erstattung", "Rückerstattung", false},
		{"German accent-sensitive", "Rückerstattung", "Ruckerstattung", false},
		{"German compound prefix", "rückerstattung*", "Rückerstattungsantrag gestellt", true},
		{"Polish", "zwrot", "Proszę o ZWROT pieniędzy", true},
		{"Polish diacritics fold", "żądanie zwrotu", "ŻĄDANIE   ZWROTU środków", true},
		{"Polish letter is a boundary-breaker", "zwrot", "zwrotów", false},
		{"Polish accent-sensitive", "zwrot", "zwrót", false},
		{"Greek final sigma", "ΟΔΟΣ", "οδος", true},
		{"long s folds to s", "sale", "ſale", true},
		{"Kelvin sign folds to k", "kit", "\u212ait", true},
		{"French accents fold case", "ÉCHEC", "échec de livraison", true},
		{"combining mark continues a word", "cafe", "cafe\u0301 au lait", false},
		{"Cyrillic", "возврат", "Требую ВОЗВРАТ денег", true},
		{"Japanese substring", "返金", "商品の返金をお願いします", true},
		{"Japanese katakana with long mark", "キャンセル", "注文をキャンセルしたい", true},
		{"Japanese prolonged sound mark substring", "サーバ", "サーバーが落ちた", true},
		{"Latin word next to kana", "paypay", "PayPayで支払った", true},
		{"Latin word inside Latin next to kana", "pay", "PayPayで支払った", false},
		{"Chinese", "退款", "我要求退款", true},
		{"Korean with particle", "환불", "환불을 요청합니다", true},
		{"Thai", "คืนเงิน", "ขอคืนเงินด้วยครับ", true},
		{"not across title and description", "parcel lost", "", false},
		{"hashtag keyword", "#urgent", "please #urgent", true},
		{"keyword ending in punctuation", "co.", "Acme co. ltd", true},
		{"number", "24/7", "a 24/7 service", true},
		{"number not inside", "24/7", "124/7", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			title, desc := "Case", tt.text
			if tt.name == "not across title and description" {
				title, desc = "My parcel", "lost in transit"
			}
			if got := matches(t, []string{tt.kw}, title, desc); got != tt.matches {
				t.Errorf("keyword %q in %q: matched %v, want %v", tt.kw, tt.text, got, tt.matches)
			}
		})
	}
}

func TestKeywordInTitle(t *testing.T) {
	if !matches(t, []string{"chargeback"}, "Chargeback dispute", "no keyword here") {
		t.Error("keyword in the title did not match")
	}
	if !matches(t, []string{"seller"}, "", "seller") {
		t.Error("keyword at the start of the description did not match")
	}
}

// Many keywords sharing prefixes and suffixes: the automaton must report
// each of them (failure links), and only at boundaries.
func TestManyOverlappingKeywords(t *testing.T) {
	kws := []string{"he", "she", "his", "hers", "ushers", "refund", "refunds", "fund", "account suspended", "suspended"}
	text := "Ushers said she saw his refunds; the account was suspended."
	want := map[string]bool{"ushers": true, "she": true, "his": true, "refunds": true, "suspended": true}
	for _, k := range kws {
		if got := matches(t, []string{k}, "", text); got != want[k] {
			t.Errorf("%q: matched %v, want %v", k, got, want[k])
		}
	}
	// All at once, in one rule set, with all_keywords.
	rs, err := Compile([]Rule{
		{Name: "all", When: Conditions{AllKeywords: []string{"ushers", "she", "his", "refunds", "suspended"}}, Then: Actions{AddTags: []string{"a"}}},
		{Name: "none", When: Conditions{Keywords: []string{"he", "hers", "refund", "fund", "account suspended"}}, Then: Actions{AddTags: []string{"b"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := rs.Route(Facts{Description: text}, EventCreate).Fired; len(got) != 1 || got[0] != "all" {
		t.Errorf("fired %v, want [all]", got)
	}
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"Hello  World\n":       "hello world ",
		"ÄÖÜ straße":           "äöü straße",
		"  x":                  " x",
		"ŻÓŁĆ\u3000日本":         "żółć 日本",
		"ΣΊΣΥΦΟΣ":              "σίσυφοσ",
		"\u01c4 \u01c5 \u01c6": "\u01c6 \u01c6 \u01c6",
		"\xff":                 "\uFFFD",
		strings.Repeat("A", 3): "aaa",
	} {
		if got := string(fold(nil, in)); got != want {
			t.Errorf("fold(%q) = %q, want %q", in, got, want)
		}
	}
}

// naiveHits finds keywords the slow, obvious way: every occurrence of
// every folded pattern, boundaries checked with the same rules.
func naiveHits(kws []keyword, text []byte) []bool {
	out := make([]bool, len(kws))
	s := string(text)
	for i, k := range kws {
		if k.pat == "" {
			continue
		}
		for from := 0; from <= len(s); {
			j := strings.Index(s[from:], k.pat)
			if j < 0 {
				break
			}
			start := from + j
			end := start + len(k.pat)
			ok := true
			if k.checkStart && start > 0 {
				r, _ := utf8.DecodeLastRuneInString(s[:start])
				ok = !isWordRune(r)
			}
			if ok && k.checkEnd && end < len(s) {
				r, _ := utf8.DecodeRuneInString(s[end:])
				ok = !isWordRune(r)
			}
			if ok {
				out[i] = true
				break
			}
			_, w := utf8.DecodeRuneInString(s[start:])
			from = start + w
		}
	}
	return out
}

// The automaton agrees with the naive search on random texts over a small
// alphabet (so that keywords overlap a lot), with random keywords.
func TestMatcherAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "ab", " ", "ü", "Ü", "返", "金", "1", "-", "\n", "ß"}
	word := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	for iter := range 500 {
		var kws []keyword
		for range 1 + rng.IntN(30) {
			w := strings.TrimSpace(word(1 + rng.IntN(4)))
			if rng.IntN(5) == 0 {
				w += "*"
			}
			if k := newKeyword(w); k.pat != "" {
				kws = append(kws, k)
			}
		}
		m := newMatcher(kws)
		text := fold(nil, word(rng.IntN(200)))
		hits := make([]uint64, (len(kws)+63)/64)
		m.scan(text, hits)
		want := naiveHits(kws, text)
		for i := range kws {
			if got := hits[i>>6]&(1<<(i&63)) != 0; got != want[i] {
				t.Fatalf("iteration %d: keyword %q in %q: automaton %v, naive %v", iter, kws[i].pat, text, got, want[i])
			}
		}
	}
}
