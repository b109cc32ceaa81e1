package routing_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/routing"
	"github.com/flare-desk/flare/internal/sla"
)

// The desk's vocabulary, as the demo desk has it.
var (
	categories = []string{"logistics/lost_parcel", "logistics/delayed_delivery", "logistics/damaged_item",
		"payments/funds_held", "payments/payout_failed", "payments/chargeback", "governance/account_suspension",
		"governance/listing_removal", "safety/product_safety", "safety/dangerous_goods", "safety/counterfeit",
		"trust_safety/fraud_ring", "trust_safety/account_takeover", "seller_support/onboarding", "account_management/fee_dispute"}
	groups   = []string{"logistics", "payments", "governance", "safety", "trust_safety", "seller_support", "account_management"}
	markets  = []string{"GB", "DE", "FR", "IT", "ES", "IE", "NL", "PL", "US"}
	langs    = []string{"en", "de", "fr", "it", "es", "nl", "pl", "ja"}
	teams    = []string{"logistics", "payments", "governance", "trust_safety", "seller_support", "escalations", "account_management"}
	tags     = []string{"vip", "carrier:dhl", "carrier:royal_mail", "press", "regulator", "repeat", "test", "q4_peak", "kyc", "vat"}
	flags    = []string{"vip", "new_seller", "prior_suspension", "high_chargeback_rate", "counterfeit_reports"}
	users    = []string{"amelia.clarke@flare.example", "jonas.weber@flare.example", "priya.shah@flare.example", "anna.kowalska@flare.example"}
	keywords = []string{
		"refund", "chargeback", "account suspended", "not received", "lost", "stolen", "counterfeit", "fake",
		"fire hazard", "burn*", "injur*", "lawyer", "legal action", "regulator", "trading standards", "press",
		"journalist", "viral", "tiktok", "data breach", "hacked", "phishing", "fraud*", "scam", "payout delayed",
		"funds held", "reserve", "kyc", "vat", "customs", "dhl", "royal mail", "broken", "damaged", "smoke",
		"Rückerstattung", "Betrug", "Konto gesperrt", "Anwalt", "Verbraucherzentrale", "Fälschung", "nicht angekommen",
		"remboursement", "compte suspendu", "contrefaçon", "avocat", "colis perdu",
		"zwrot", "oszustwo", "konto zablokowane", "paczka", "prawnik",
		"reembolso", "estafa", "cuenta suspendida", "rimborso", "truffa",
		"返金", "詐欺", "偽物", "発火",
	}
)

func pick[T any](r *rand.Rand, s []T, n int) []T {
	out := make([]T, 0, n)
	for _, i := range r.Perm(len(s))[:n] {
		out = append(out, s[i])
	}
	return out
}

// rules builds n rules like a large desk's: each with one to three cheap
// conditions, about 30% with keywords (2–5 each, phrases and prefixes
// among them), some vetoes, a few business-hours conditions and a few
// narrow stops.
func rules(n int) []routing.Rule {
	r := rand.New(rand.NewPCG(2026, 11))
	out := make([]routing.Rule, n)
	for i := range out {
		var w routing.Conditions
		for range 1 + r.IntN(3) {
			switch r.IntN(11) {
			case 0:
				w.Category = pick(r, categories, 1+r.IntN(3))
			case 1:
				w.Category = pick(r, groups, 1+r.IntN(2))
			case 2:
				w.Market = pick(r, markets, 1+r.IntN(3))
			case 3:
				w.Channel = pick(r, routing.Channels, 1+r.IntN(2))
			case 4:
				w.SellerTier = pick(r, []int{1, 2, 3, 4}, 1+r.IntN(2))
			case 5:
				w.Tags = pick(r, tags, 1+r.IntN(2))
			case 6:
				w.Priority = pick(r, routing.Priorities, 1+r.IntN(2))
			case 7:
				w.Language = pick(r, langs, 1+r.IntN(2))
			case 8:
				w.SellerRiskFlags = pick(r, flags, 1)
			case 9:
				w.Requester = []string{"@" + strings.ToLower(pick(r, markets, 1)[0]) + ".seller.example"}
			case 10:
				w.Team = pick(r, teams, 1)
			}
		}
		if r.IntN(10) < 3 {
			if r.IntN(4) == 0 {
				w.AllKeywords = pick(r, keywords, 2)
			} else {
				w.Keywords = pick(r, keywords, 2+r.IntN(4))
			}
		}
		if r.IntN(20) == 0 {
			w.BusinessHours = routing.BusinessHours{Calendar: "market", Open: routing.OptBool(fmt.Sprint(r.IntN(2) == 0))}
		}
		if r.IntN(20) == 0 {
			w.HighRisk = routing.True
		}
		var unless routing.Conditions
		if r.IntN(10) == 0 {
			unless.Tags = []string{"test"}
		}
		var a routing.Actions
		switch r.IntN(6) {
		case 0, 1:
			a.Team = pick(r, teams, 1)[0]
		case 2:
			a.Priority = routing.PriorityAction{Raise: 1}
		case 3:
			a.AddTags = pick(r, tags, 1)
		case 4:
			a.Notify = []string{"owner", pick(r, users, 1)[0]}
		case 5:
			a.Assign = []string{routing.AssignRoundRobin, routing.AssignLeastLoaded}[r.IntN(2)]
		}
		if r.IntN(8) == 0 {
			a.HighRisk = true
		}
		if r.IntN(10) == 0 {
			a.AddWatchers = pick(r, users, 1)
		}
		out[i] = routing.Rule{Name: fmt.Sprintf("rule %03d", i), When: w, Unless: unless, Then: a}
		// A few narrow stops, late in the list so they rarely cut the run.
		if i > n-10 && r.IntN(3) == 0 {
			out[i].Stop = true
		}
	}
	return out
}

// Sentences a description is built from, per language.
var prose = map[string][]string{
	"en": {
		"The seller reports that the parcel was marked as delivered by the carrier but the buyer says it never arrived.",
		"We have checked the tracking history and the last scan was at the regional depot three days ago.",
		"The buyer has opened a dispute and is asking for a refund of the full order value including shipping.",
		"This is the third contact about the same order this week and the seller is getting frustrated with the delay.",
		"Please confirm whether the carrier can open an investigation and how long it will take to get an answer.",
		"The account manager has asked for an update before the weekly review on Thursday.",
		"Funds of about EUR 4,200 are currently held on the seller's balance pending the outcome of the review.",
		"The seller mentions that a journalist from a consumer programme has contacted them about similar complaints.",
		"Photos attached show the outer box crushed on one side and the product packaging torn.",
		"Customer service already offered a partial voucher, which the buyer declined.",
	},
	"de": {
		"Der Verkäufer meldet, dass das Paket laut Sendungsverfolgung zugestellt wurde, der Käufer es aber nie erhalten hat.",
		"Der Käufer verlangt eine vollständige Rückerstattung und droht mit einer Beschwerde bei der Verbraucherzentrale.",
		"Wir haben beim Versanddienstleister einen Nachforschungsauftrag gestellt, bisher ohne Antwort.",
		"Das Guthaben des Verkäufers ist seit der letzten Prüfung eingefroren, die Auszahlung verzögert sich.",
		"Bitte prüfen, ob die Ware beschädigt war; auf den Fotos ist der Karton eingedrückt.",
		"Der Verkäufer ist Stufe-1-Partner und erwartet eine Rückmeldung bis Freitag.",
	},
	"pl": {
		"Sprzedawca zgłasza, że paczka została oznaczona jako doręczona, ale kupujący twierdzi, że jej nie otrzymał.",
		"Kupujący żąda zwrotu pełnej kwoty zamówienia wraz z kosztami wysyłki.",
		"Sprawdziliśmy historię śledzenia przesyłki; ostatni skan był w sortowni trzy dni temu.",
		"Środki sprzedawcy są wstrzymane do czasu zakończenia weryfikacji konta.",
		"Prosimy o potwierdzenie, czy przewoźnik może wszcząć postępowanie reklamacyjne.",
	},
	"ja": {
		"購入者は商品が届いていないと連絡してきました。配送業者の追跡では配達済みになっています。",
		"出品者は全額返金に応じる予定ですが、配送業者の調査結果を待ちたいとのことです。",
		"同じ注文について今週三回目の問い合わせです。",
		"写真では外箱が潰れており、商品のパッケージも破れています。",
		"アカウントマネージャーが木曜日のレビュー前に進捗を求めています。",
	},
}

func description(r *rand.Rand, lang string, size int) string {
	var b strings.Builder
	s := prose[lang]
	for b.Len() < size {
		b.WriteString(s[r.IntN(len(s))])
		if r.IntN(4) == 0 {
			b.WriteString("\n\n")
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// cases builds n case facts: realistic mixes of categories, markets,
// sellers and languages, with 1–2 KB descriptions.
func cases(n int) []routing.Facts {
	r := rand.New(rand.NewPCG(2026, 12))
	week := []string{"09:00-18:00"}
	cals := map[string]*sla.Calendar{}
	for _, m := range markets {
		cals[m] = sla.MustCompile(sla.CalendarSpec{Key: m, Timezone: "UTC",
			Hours: map[string][]string{"mon": week, "tue": week, "wed": week, "thu": week, "fri": week}})
	}
	lookup := func(k string) (*sla.Calendar, bool) { c, ok := cals[k]; return c, ok }
	titles := map[string][]string{
		"en": {"Parcel marked delivered but not received", "Refund request after damaged item", "Funds held after review"},
		"de": {"Paket nicht angekommen", "Rückerstattung nach Beschädigung", "Auszahlung verzögert"},
		"pl": {"Paczka nie dotarła", "Prośba o zwrot środków", "Konto zablokowane po weryfikacji"},
		"ja": {"商品が届かない", "返金の依頼", "出品者アカウントの確認"},
	}
	langFor := map[string]string{"GB": "en", "IE": "en", "US": "en", "DE": "de", "PL": "pl"}
	out := make([]routing.Facts, n)
	start := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	for i := range out {
		m := markets[r.IntN(len(markets))]
		lang, ok := langFor[m]
		if !ok || r.IntN(8) == 0 {
			lang = []string{"en", "ja"}[r.IntN(2)]
		}
		f := routing.Facts{
			Category: categories[r.IntN(len(categories))], CategorySeverity: 1 + r.IntN(4), Market: m, Language: lang,
			Channel: routing.Channels[r.IntN(len(routing.Channels))], Team: teams[r.IntN(len(teams))],
			SellerID: fmt.Sprintf("S-%04d", r.IntN(5000)), SellerTier: r.IntN(5),
			RequesterEmail: fmt.Sprintf("seller%d@%s.seller.example", r.IntN(1000), strings.ToLower(m)),
			Priority:       "P3", Sensitivity: "normal",
			Title:        titles[lang][r.IntN(3)],
			Description:  description(r, lang, 1024+r.IntN(1024)),
			MoneyAtStake: float64(r.IntN(30000)), Currency: "EUR",
			RepeatContacts: r.IntN(4), Reopens: r.IntN(2), SLAState: []string{"", "", "warning", "breached"}[r.IntN(4)],
			Now: start.Add(time.Duration(r.IntN(7*24)) * time.Hour), Calendar: lookup,
			TeamCalendar: func(string) string { return "GB" },
		}
		if r.IntN(3) == 0 {
			f.Tags = pick(r, tags, 1+r.IntN(2))
		}
		if r.IntN(4) == 0 {
			f.SellerRiskFlags = pick(r, flags, 1)
		}
		out[i] = f
	}
	return out
}

const nCases = 64

var (
	sinkS string
	sinkN int
)

func report(b *testing.B, baseNs float64) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(1e9/ns, "calls/s")
	if baseNs > 0 {
		b.ReportMetric(baseNs, "baseline-ns/op")
		b.ReportMetric(ns/baseNs, "x-baseline")
	}
}

// baseline is the naive way to find the rule set's keywords: lower-case
// title and description, then strings.Contains for every keyword of every
// rule (no word boundaries, no folding beyond ToLower, no phrase spacing).
// It returns ns per case.
func baseline(n int, fs []routing.Facts, kws []string) float64 {
	start := time.Now()
	hits := 0
	for i := range n {
		f := &fs[i%len(fs)]
		text := strings.ToLower(f.Title + "\n" + f.Description)
		for _, k := range kws {
			if strings.Contains(text, k) {
				hits++
			}
		}
	}
	el := time.Since(start)
	sinkN += hits
	return float64(el.Nanoseconds()) / float64(n)
}

func ruleKeywords(rs []routing.Rule) []string {
	var out []string
	for _, r := range rs {
		for _, k := range append(r.When.Keywords, r.When.AllKeywords...) {
			out = append(out, strings.ToLower(strings.TrimSuffix(k, "*")))
		}
	}
	return out
}

// BenchmarkRouting: Score then Route with 200 rules, per case, over 64
// cases cycled; the baseline is measured right after the timed loop.
func BenchmarkRouting(b *testing.B) {
	rs200 := rules(200)
	set, err := routing.Compile(rs200)
	if err != nil {
		b.Fatal(err)
	}
	fs := cases(nCases)
	w := routing.DefaultWeights()
	kws := ruleKeywords(rs200)

	b.Run("score+route-200", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			f := fs[i%nCases]
			p, _, _ := routing.Score(w, f)
			f.Priority = p
			out := set.Route(f, routing.EventCreate)
			sinkS = out.Team
		}
		report(b, baseline(b.N, fs, kws))
	})
	b.Run("assess-200", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			sinkS = routing.Assess(w, set, fs[i%nCases], routing.EventCreate).Priority
		}
		report(b, baseline(b.N, fs, kws))
	})
	b.Run("route-200", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			sinkS = set.Route(fs[i%nCases], routing.EventCreate).Team
		}
		report(b, 0)
	})
	b.Run("score", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			sinkS, _, _ = routing.Score(w, fs[i%nCases])
		}
		report(b, 0)
	})
	b.Run("explain-200", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			sinkN += len(set.Explain(fs[i%nCases], routing.EventCreate).Rules)
		}
		report(b, 0)
	})
	b.Run(fmt.Sprintf("baseline-strings.Contains-%d-keywords", len(kws)), func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			f := &fs[i%nCases]
			text := strings.ToLower(f.Title + "\n" + f.Description)
			for _, k := range kws {
				if strings.Contains(text, k) {
					sinkN++
				}
			}
		}
		report(b, 0)
	})
}

// BenchmarkCompile: compiling the 200 rules (once per desk configuration).
func BenchmarkCompile(b *testing.B) {
	rs := rules(200)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := routing.Compile(rs); err != nil {
			b.Fatal(err)
		}
	}
}

// TestWorkload checks the benchmark's inputs are what it says: valid rules,
// about 30% with keywords, descriptions of 1–2 KB, rules that fire.
func TestWorkload(t *testing.T) {
	rs := rules(200)
	set, err := routing.Compile(rs)
	if err != nil {
		t.Fatal(err)
	}
	withKw := 0
	for _, r := range rs {
		if len(r.When.Keywords)+len(r.When.AllKeywords) > 0 {
			withKw++
		}
	}
	if withKw < 45 || withKw > 75 {
		t.Errorf("%d of 200 rules have keywords", withKw)
	}
	fired, kwFired := 0, 0
	for _, f := range cases(nCases) {
		if n := len(f.Description); n < 1024 || n > 2300 {
			t.Errorf("description of %d bytes", n)
		}
		x := set.Explain(f, routing.EventCreate)
		fired += len(x.Outcome.Fired)
		for _, r := range x.Rules {
			if len(r.Keywords) > 0 {
				kwFired++
			}
		}
	}
	t.Logf("%.1f rules fire per case, %.1f of them on keywords", float64(fired)/nCases, float64(kwFired)/nCases)
	if fired == 0 || kwFired == 0 {
		t.Error("no rule fires on the benchmark cases")
	}
}
