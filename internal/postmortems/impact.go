package postmortems

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/routing/routingdesk"
)

// Impact is what an incident cost, counted over its linked cases.
type Impact struct {
	Cases      int            `json:"cases"`
	Open       int            `json:"open"`    // not resolved or closed yet
	Markets    []Count        `json:"markets"` // cases per market, most first
	Statuses   []Count        `json:"statuses"`
	Sellers    int            `json:"sellers"`     // distinct sellers the cases are about
	KeySellers int            `json:"key_sellers"` // of them tier 1
	TopSellers []SellerImpact `json:"top_sellers"` // the most affected, at most 5
	Money      []Money        `json:"money"`       // at stake, per currency, largest first
}

// Count is a number of cases with one value.
type Count struct {
	Key   string `json:"key"`
	Count int    `json:"count"`
}

// Money is an amount at stake in one currency: the sum over the cases of
// each case's largest money field (the priority score's rule).
type Money struct {
	Currency string `json:"currency"`
	Cents    int64  `json:"cents"`
	Cases    int    `json:"cases"` // the cases with an amount in this currency
}

// Amount is the money in major units, "1250.00".
func (m Money) Amount() string {
	sign := ""
	c := m.Cents
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}

// String is "EUR 1,250.00".
func (m Money) String() string {
	whole, frac, _ := strings.Cut(m.Amount(), ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 && r != '-' && whole[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return m.Currency + " " + b.String() + "." + frac
}

// SellerImpact is one affected seller.
type SellerImpact struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Market string `json:"market"`
	Tier   int    `json:"tier"`
	Cases  int    `json:"cases"`
}

// MarketsLine is "GB (12), DE (3)".
func (i Impact) MarketsLine() string {
	parts := make([]string, len(i.Markets))
	for j, m := range i.Markets {
		parts[j] = fmt.Sprintf("%s (%d)", m.Key, m.Count)
	}
	return strings.Join(parts, ", ")
}

// MoneyLine is "EUR 1,250.00 over 2 cases; GBP 80.00 over 1 case".
func (i Impact) MoneyLine() string {
	parts := make([]string, len(i.Money))
	for j, m := range i.Money {
		s := "s"
		if m.Cases == 1 {
			s = ""
		}
		parts[j] = fmt.Sprintf("%s over %d case%s", m, m.Cases, s)
	}
	return strings.Join(parts, "; ")
}

// ImpactCase is what the figures read of one linked case.
type ImpactCase struct {
	Market   string
	Status   string
	SellerID string
	Money    *Money // its money at stake (Cases is ignored); nil: none
}

// Seller is what the figures read of a seller.
type Seller struct {
	Name   string
	Market string
	Tier   int
}

// maxTopSellers bounds Impact.TopSellers.
const maxTopSellers = 5

// ComputeImpact counts the figures over cs; sellers names the sellers
// the cases are about (one missing counts, unnamed).
func ComputeImpact(cs []ImpactCase, sellers map[string]Seller) Impact {
	im := Impact{Cases: len(cs), Markets: []Count{}, Statuses: []Count{}, TopSellers: []SellerImpact{}, Money: []Money{}}
	markets, statuses, bySeller := map[string]int{}, map[string]int{}, map[string]int{}
	money := map[string]*Money{}
	for _, c := range cs {
		if c.Status != "resolved" && c.Status != "closed" {
			im.Open++
		}
		if c.Market != "" {
			markets[c.Market]++
		}
		statuses[c.Status]++
		if c.SellerID != "" {
			bySeller[c.SellerID]++
		}
		if c.Money != nil && c.Money.Currency != "" {
			m := money[c.Money.Currency]
			if m == nil {
				m = &Money{Currency: c.Money.Currency}
				money[c.Money.Currency] = m
			}
			m.Cents += c.Money.Cents
			m.Cases++
		}
	}
	im.Markets, im.Statuses = counts(markets), counts(statuses)
	im.Sellers = len(bySeller)
	for id, n := range bySeller {
		s := sellers[id]
		if s.Tier == 1 {
			im.KeySellers++
		}
		im.TopSellers = append(im.TopSellers, SellerImpact{ID: id, Name: cmp.Or(s.Name, id), Market: s.Market, Tier: s.Tier, Cases: n})
	}
	slices.SortFunc(im.TopSellers, func(a, b SellerImpact) int {
		return cmp.Or(cmp.Compare(b.Cases, a.Cases), cmp.Compare(tierOrder(a.Tier), tierOrder(b.Tier)), cmp.Compare(a.ID, b.ID))
	})
	if len(im.TopSellers) > maxTopSellers {
		im.TopSellers = im.TopSellers[:maxTopSellers]
	}
	for _, m := range money {
		im.Money = append(im.Money, *m)
	}
	slices.SortFunc(im.Money, func(a, b Money) int {
		return cmp.Or(cmp.Compare(b.Cents, a.Cents), cmp.Compare(a.Currency, b.Currency))
	})
	return im
}

// tierOrder puts tier 1 first and unknown tiers (0) last.
func tierOrder(t int) int {
	if t <= 0 {
		return 1 << 30
	}
	return t
}

func counts(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for k, n := range m {
		out = append(out, Count{k, n})
	}
	slices.SortFunc(out, func(a, b Count) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Key, b.Key)) })
	return out
}

// MoneyAtStake is a case's money at stake: the largest of its category's
// money fields (those the priority weights name, when they name any), as
// the priority score reads it. nil: none.
func MoneyAtStake(cfg *desk.Config, category string, fields map[string]any) *Money {
	cat, ok := cfg.Category(category)
	if !ok {
		return nil
	}
	named := routingdesk.WeightsOf(cfg).MoneyFields
	var best *Money
	for _, fd := range cat.Fields {
		if fd.Type != desk.FieldMoney || (len(named) > 0 && !slices.Contains(named, fd.Key)) {
			continue
		}
		m, ok := fields[fd.Key].(map[string]any)
		if !ok {
			continue
		}
		amount, _ := m["amount"].(string)
		currency, _ := m["currency"].(string)
		cents, ok := parseCents(amount)
		if !ok || currency == "" || cents <= 0 {
			continue
		}
		if best == nil || cents > best.Cents {
			best = &Money{Currency: currency, Cents: cents}
		}
	}
	return best
}

// parseCents reads a normalised amount, "1250.00", exactly.
func parseCents(s string) (int64, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	frac += "00"
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac[:2], 10, 64)
	if err1 != nil || err2 != nil || w > (1<<62)/100 {
		return 0, false
	}
	if strings.HasPrefix(whole, "-") {
		return w*100 - f, true
	}
	return w*100 + f, true
}
