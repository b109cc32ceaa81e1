// Package demo is Flare's realistic demo desk: an EMEA + US marketplace
// escalation desk (ten markets, seven teams, a 24-category taxonomy, 300
// sellers, 20 users) and a deterministic traffic generator that produces
// about 45 days of cases with realistic channel, category, market and
// time-of-day mixes. `flare demo` loads it; benchmarks and tests reuse the
// generator for realistic case bodies.
package demo

import (
	"github.com/flare-desk/flare/internal/routing"
	"github.com/flare-desk/flare/internal/routing/routingdesk"
	"github.com/flare-desk/flare/internal/sla"

	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/flare-desk/flare/internal/assign"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/desk"
)

// Password is every demo user's password.
const Password = "flare-demo-2026"

// Company and EmailDomain are the demo desk's marketplace: a fictional
// company, on a reserved domain (RFC 2606) so that no mail ever reaches
// anyone. Every demo user and internal mailbox is at EmailDomain.
const (
	Company     = "Larkspur Market"
	EmailDomain = "larkspur.example"
)

// newRand returns the generator used everywhere in the package: a PCG
// seeded from seed, with stream distinguishing independent uses (the
// sellers do not change when the case generator changes, and vice versa).
func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15^stream))
}

// marketInfo is what the generator knows about a market beyond desk.Market.
type marketInfo struct {
	desk.Market
	Currency string
	Weight   float64  // share of case traffic
	Sellers  int      // of the 300 sellers
	Carriers []string // carriers used in the market, most common first
	AM       string   // key of the account manager covering the market
}

var markets = []marketInfo{
	{desk.Market{Code: "GB", Name: "United Kingdom", Timezone: "Europe/London", Languages: []string{"en"}, Holidays: "GB-ENG"},
		"GBP", 22, 60, []string{"Royal Mail", "Evri", "DPD", "DHL", "UPS"}, "eleanor"},
	{desk.Market{Code: "IE", Name: "Ireland", Timezone: "Europe/Dublin", Languages: []string{"en", "ga"}, Holidays: "IE"},
		"EUR", 3, 12, []string{"An Post", "DPD", "DHL", "UPS"}, "eleanor"},
	{desk.Market{Code: "DE", Name: "Germany", Timezone: "Europe/Berlin", Languages: []string{"de", "en"}, Holidays: "DE-BE"},
		"EUR", 20, 55, []string{"DHL", "DPD", "GLS", "UPS"}, "matthias"},
	{desk.Market{Code: "FR", Name: "France", Timezone: "Europe/Paris", Languages: []string{"fr", "en"}, Holidays: "FR"},
		"EUR", 11, 32, []string{"Colissimo", "La Poste", "DPD", "GLS", "UPS"}, "chiara"},
	{desk.Market{Code: "IT", Name: "Italy", Timezone: "Europe/Rome", Languages: []string{"it", "en"}, Holidays: "IT"},
		"EUR", 8, 24, []string{"Poste Italiane", "GLS", "DHL", "UPS"}, "chiara"},
	{desk.Market{Code: "ES", Name: "Spain", Timezone: "Europe/Madrid", Languages: []string{"es", "en"}, Holidays: "ES"},
		"EUR", 7, 22, []string{"Correos", "SEUR", "GLS", "DHL"}, "chiara"},
	{desk.Market{Code: "NL", Name: "Netherlands", Timezone: "Europe/Amsterdam", Languages: []string{"nl", "en"}, Holidays: "NL"},
		"EUR", 5, 16, []string{"PostNL", "DHL", "DPD", "GLS"}, "matthias"},
	{desk.Market{Code: "PL", Name: "Poland", Timezone: "Europe/Warsaw", Languages: []string{"pl", "en"}, Holidays: "PL"},
		"PLN", 5, 16, []string{"InPost", "DPD", "DHL", "GLS"}, "matthias"},
	{desk.Market{Code: "BE", Name: "Belgium", Timezone: "Europe/Brussels", Languages: []string{"nl-BE", "fr-BE", "en"}, Holidays: "BE"},
		"EUR", 3, 10, []string{"bpost", "PostNL", "DPD", "GLS"}, "matthias"},
	{desk.Market{Code: "US", Name: "United States", Timezone: "America/Los_Angeles", Languages: []string{"en", "es"}, Holidays: "US"},
		"USD", 16, 53, []string{"USPS", "UPS", "FedEx"}, "eleanor"},
}

func marketByCode(code string) (marketInfo, bool) {
	for _, m := range markets {
		if m.Code == code {
			return m, true
		}
	}
	return marketInfo{}, false
}

// Carriers lists every carrier the logistics fields offer.
var Carriers = []string{"DHL", "DPD", "Royal Mail", "Evri", "La Poste", "Colissimo", "GLS", "PostNL", "InPost",
	"Poste Italiane", "SEUR", "Correos", "An Post", "bpost", "UPS", "FedEx", "USPS"}

// Teams work the business hours of the market they sit in (calendars keyed
// by market code); the emergency-facing teams are 24/7.
var teams = []desk.Team{
	{Key: "seller_support", Name: "Seller Support", Calendar: "GB"},
	{Key: "escalations", Name: "Escalations", Calendar: "emergency"},
	{Key: "governance", Name: "Seller Governance", Calendar: "GB"},
	{Key: "logistics", Name: "Logistics", Calendar: "DE"},
	{Key: "payments", Name: "Payments", Calendar: "GB"},
	{Key: "trust_safety", Name: "Trust & Safety", Calendar: "emergency"},
	{Key: "account_management", Name: "Account Management", Calendar: "GB"},
}

// person is a demo user.
type person struct {
	key       string // short handle used in this file
	first     string
	last      string
	role      auth.Role
	teams     []string
	markets   []string
	languages []string
}

func (p person) email() string {
	return strings.ToLower(slug(p.first)+"."+slug(p.last)) + "@" + EmailDomain
}

func (p person) name() string { return p.first + " " + p.last }

var people = []person{
	// The first admin (whose API token flare demo prints) works in logistics
	// too, so that take-next answers in the README's examples.
	{"hannah", "Hannah", "Okafor", auth.RoleAdmin, []string{"logistics"}, nil, []string{"en"}},
	{"lukas", "Lukas", "Brandt", auth.RoleAdmin, nil, nil, []string{"de", "en"}},

	{"sophie", "Sophie", "Laurent", auth.RoleLead, []string{"escalations", "governance", "seller_support"}, nil, []string{"fr", "en"}},
	{"daniel", "Daniel", "Fischer", auth.RoleLead, []string{"logistics", "payments"}, nil, []string{"de", "en"}},
	{"rachel", "Rachel", "Kim", auth.RoleLead, []string{"trust_safety", "escalations", "account_management"}, nil, []string{"en"}},

	{"priya", "Priya", "Shah", auth.RoleAgent, []string{"logistics", "seller_support"}, []string{"GB", "IE"}, []string{"en"}},
	{"jonas", "Jonas", "Weber", auth.RoleAgent, []string{"logistics", "payments"}, []string{"DE", "NL", "PL"}, []string{"de", "en"}},
	{"camille", "Camille", "Dubois", auth.RoleAgent, []string{"governance", "seller_support"}, []string{"FR", "BE"}, []string{"fr", "en"}},
	{"giulia", "Giulia", "Romano", auth.RoleAgent, []string{"payments", "seller_support"}, []string{"IT", "ES"}, []string{"it", "es", "en"}},
	{"javier", "Javier", "Morales", auth.RoleAgent, []string{"logistics", "governance"}, []string{"ES", "IT", "FR"}, []string{"es", "it", "en"}},
	{"anna", "Anna", "Kowalska", auth.RoleAgent, []string{"payments", "trust_safety"}, []string{"PL", "DE", "GB"}, []string{"pl", "de", "en"}},
	{"sanne", "Sanne", "de Vries", auth.RoleAgent, []string{"governance", "logistics"}, []string{"NL", "BE", "DE"}, []string{"nl", "fr", "en"}},
	{"marcus", "Marcus", "Reed", auth.RoleAgent, []string{"trust_safety", "escalations"}, nil, []string{"en"}},
	{"aoife", "Aoife", "Byrne", auth.RoleAgent, []string{"escalations", "account_management", "seller_support"}, []string{"GB", "IE", "US"}, []string{"en", "ga"}},
	{"tyler", "Tyler", "Brooks", auth.RoleAgent, []string{"logistics", "payments", "governance", "seller_support"}, []string{"US"}, []string{"en", "es"}},

	{"eleanor", "Eleanor", "Price", auth.RoleAccountManager, []string{"account_management"}, []string{"GB", "IE", "US"}, []string{"en"}},
	{"matthias", "Matthias", "Keller", auth.RoleAccountManager, []string{"account_management"}, []string{"DE", "NL", "PL", "BE"}, []string{"de", "nl", "en"}},
	{"chiara", "Chiara", "Bianchi", auth.RoleAccountManager, []string{"account_management"}, []string{"FR", "IT", "ES"}, []string{"it", "fr", "es", "en"}},

	{"olivia", "Olivia", "Nowak", auth.RoleQA, nil, nil, []string{"en", "pl"}},
	{"henrik", "Henrik", "Larsen", auth.RoleViewer, nil, nil, []string{"en"}},
}

func personByKey(key string) person {
	for _, p := range people {
		if p.key == key {
			return p
		}
	}
	panic("demo: no person " + key)
}

// Policies and enforcement actions offered by governance categories.
var (
	policies = []string{"counterfeit", "prohibited_items", "ip_infringement", "late_shipment_rate", "order_defect_rate",
		"fake_reviews", "price_gouging", "product_safety", "misleading_listing", "account_linking"}
	enforcementActions = []string{"warning", "listing_suppression", "listing_removal", "funds_hold",
		"suspension_7d", "suspension_30d", "permanent_suspension"}
)

// Resolutions are the demo desk's resolution codes.
var resolutions = []string{"fixed", "information_provided", "seller_reinstated", "enforcement_upheld", "listing_restored",
	"listing_removed", "parcel_located", "carrier_claim_filed", "refund_issued", "payout_released", "funds_released",
	"chargeback_represented", "accounts_closed", "account_secured", "workaround", "no_action_needed", "duplicate"}

func logisticsFields(orderRequired bool) []desk.FieldDef {
	return []desk.FieldDef{
		{Key: "order_id", Label: "Order", Type: desk.FieldOrderID, Required: orderRequired},
		{Key: "tracking_number", Label: "Tracking number", Type: desk.FieldTrackingNumber},
		{Key: "carrier", Label: "Carrier", Type: desk.FieldCarrier, Options: slices.Clone(Carriers)},
	}
}

func governanceFields(extra ...desk.FieldDef) []desk.FieldDef {
	return append([]desk.FieldDef{
		{Key: "policy", Label: "Policy", Type: desk.FieldSelect, Required: true, Options: slices.Clone(policies)},
		{Key: "enforcement_action", Label: "Enforcement action", Type: desk.FieldSelect, Options: slices.Clone(enforcementActions)},
	}, extra...)
}

func paymentsFields(extra ...desk.FieldDef) []desk.FieldDef {
	return append([]desk.FieldDef{
		{Key: "amount_held", Label: "Amount held", Type: desk.FieldMoney, Currency: "EUR"},
	}, extra...)
}

var (
	fieldListingID = desk.FieldDef{Key: "listing_id", Label: "Listing", Type: desk.FieldText}
	fieldOrderID   = desk.FieldDef{Key: "order_id", Label: "Order", Type: desk.FieldOrderID}
)

// categories is the taxonomy: 24 categories in seven groups.
func categories() []desk.Category {
	return []desk.Category{
		{Key: "governance/account_suspension", Name: "Account suspension", Team: "governance", Severity: 2, Fields: governanceFields()},
		{Key: "governance/listing_removal", Name: "Listing removal", Team: "governance", Severity: 3, Fields: governanceFields(fieldListingID)},
		{Key: "governance/policy_appeal", Name: "Policy appeal", Team: "governance", Severity: 3, Fields: governanceFields(
			desk.FieldDef{Key: "appeal_deadline", Label: "Appeal deadline", Type: desk.FieldDate})},
		{Key: "governance/prohibited_item", Name: "Prohibited item", Team: "governance", Severity: 2, Fields: governanceFields(fieldListingID)},
		{Key: "governance/ip_complaint", Name: "IP complaint", Team: "governance", Severity: 3, Fields: governanceFields(
			desk.FieldDef{Key: "rights_owner", Label: "Rights owner", Type: desk.FieldText}, fieldListingID)},

		{Key: "logistics/lost_parcel", Name: "Lost parcel", Team: "logistics", Severity: 3, Fields: logisticsFields(true)},
		{Key: "logistics/delayed_delivery", Name: "Delayed delivery", Team: "logistics", Severity: 4, Fields: append(logisticsFields(true),
			desk.FieldDef{Key: "promised_date", Label: "Promised delivery date", Type: desk.FieldDate})},
		{Key: "logistics/damaged_item", Name: "Damaged item", Team: "logistics", Severity: 4, Fields: logisticsFields(true)},
		{Key: "logistics/carrier_dispute", Name: "Carrier dispute", Team: "logistics", Severity: 3, Fields: append(logisticsFields(false),
			desk.FieldDef{Key: "claim_amount", Label: "Claim amount", Type: desk.FieldMoney, Currency: "EUR"})},
		{Key: "logistics/returns_stuck", Name: "Returns stuck", Team: "logistics", Severity: 4, Fields: logisticsFields(true)},

		{Key: "payments/funds_held", Name: "Funds held", Team: "payments", Severity: 2, Fields: paymentsFields(
			desk.FieldDef{Key: "hold_reason", Label: "Hold reason", Type: desk.FieldSelect,
				Options: []string{"risk_review", "kyc_incomplete", "negative_balance", "dispute_reserve", "policy_enforcement"}})},
		{Key: "payments/payout_delayed", Name: "Payout delayed", Team: "payments", Severity: 3, Fields: paymentsFields(
			desk.FieldDef{Key: "payout_date", Label: "Expected payout date", Type: desk.FieldDate})},
		{Key: "payments/chargeback", Name: "Chargeback", Team: "payments", Severity: 3, Fields: paymentsFields(fieldOrderID)},
		{Key: "payments/refund_failed", Name: "Refund failed", Team: "payments", Severity: 3, Fields: paymentsFields(fieldOrderID)},

		{Key: "safety/product_safety", Name: "Product safety", Team: "trust_safety", Severity: 1, Fields: []desk.FieldDef{fieldListingID,
			{Key: "injury_reported", Label: "Injury reported", Type: desk.FieldSelect, Options: []string{"no", "yes", "unknown"}}}},
		{Key: "safety/dangerous_goods", Name: "Dangerous goods", Team: "trust_safety", Severity: 1, Fields: []desk.FieldDef{fieldListingID,
			{Key: "hazard_class", Label: "Hazard class", Type: desk.FieldSelect,
				Options: []string{"lithium_batteries", "flammable_liquids", "aerosols", "corrosives", "explosives", "other"}}}},
		{Key: "safety/counterfeit", Name: "Counterfeit", Team: "trust_safety", Severity: 2, Fields: []desk.FieldDef{fieldListingID,
			{Key: "brand", Label: "Brand", Type: desk.FieldText}}},

		{Key: "seller_support/onboarding", Name: "Onboarding", Team: "seller_support", Severity: 4},
		{Key: "seller_support/fee_dispute", Name: "Fee dispute", Team: "seller_support", Severity: 4, Fields: []desk.FieldDef{
			{Key: "amount_disputed", Label: "Amount disputed", Type: desk.FieldMoney, Currency: "EUR"}}},
		{Key: "seller_support/tooling", Name: "Seller tooling", Team: "seller_support", Severity: 4, Fields: []desk.FieldDef{
			{Key: "tool", Label: "Tool", Type: desk.FieldSelect,
				Options: []string{"seller_hub", "listings_api", "bulk_upload", "shipping_labels", "reports", "ads_console"}}}},

		{Key: "account_management/key_account", Name: "Key account request", Team: "account_management", Severity: 3},
		{Key: "account_management/contract_query", Name: "Contract query", Team: "account_management", Severity: 4, Fields: []desk.FieldDef{
			{Key: "contract_ref", Label: "Contract reference", Type: desk.FieldText}}},

		{Key: "trust_safety/fraud_ring", Name: "Fraud ring", Team: "trust_safety", Severity: 1, Fields: []desk.FieldDef{
			{Key: "linked_accounts", Label: "Linked accounts", Type: desk.FieldNumber}}},
		{Key: "trust_safety/account_takeover", Name: "Account takeover", Team: "trust_safety", Severity: 2, Fields: []desk.FieldDef{
			{Key: "login_country", Label: "Suspicious login country", Type: desk.FieldText}}},
	}
}

// Desk returns the demo desk configuration for seed: deterministic, and
// valid for app.DeskSchema. Only the sellers depend on the seed.
func Desk(seed int64) *desk.Config {
	cfg := &desk.Config{Resolutions: slices.Clone(resolutions), Categories: categories(), Calendars: sla.DemoSpecs(), SLAPolicies: slaPolicies()}
	for _, m := range markets {
		mk := m.Market
		mk.Languages = slices.Clone(mk.Languages)
		cfg.Markets = append(cfg.Markets, mk)
	}
	for _, t := range teams {
		for _, p := range people {
			if slices.Contains(p.teams, t.Key) {
				t.Members = append(t.Members, p.email())
			}
		}
		t.Assignment, t.HandoffWithin = teamAssignment[t.Key], handoffWithin[t.Key]
		cfg.Teams = append(cfg.Teams, t)
	}
	for _, p := range people {
		cfg.Users = append(cfg.Users, desk.UserSpec{Email: p.email(), Name: p.name(), Role: p.role,
			Markets: slices.Clone(p.markets), Languages: slices.Clone(p.languages), Profile: profiles[p.key]})
	}
	cfg.Sellers = sellers(seed)
	desk.Set(cfg, routingdesk.WeightsKey, routing.Weights{MoneyFields: []string{"amount_held"},
		SafetyFlags: []string{"counterfeit_reports", "product_safety_history"}})
	desk.Set(cfg, routingdesk.RulesKey, routingRules())
	setSafetyWatch(cfg)     // safety.go
	setOncall(cfg)          // oncall.go
	escalationDesk(cfg)     // escalation.go
	incidentDesk(cfg)       // incidents.go
	mailDesk(cfg)           // mail.go
	intakeChannelsDesk(cfg) // intake_channels.go
	signalsDesk(cfg)        // signals.go
	reportsDesk(cfg)        // reports.go
	macrosDesk(cfg)         // macros.go
	reviewsDesk(cfg)        // reviews.go
	return cfg
}

// How the demo teams hand out work: the emergency teams assign at once
// (round the clock), the business teams take the next case themselves.
var teamAssignment = map[string]assign.TeamSettings{
	"trust_safety":   {Strategy: assign.StrategyRoundRobin, AssignOnCreate: true},
	"escalations":    {Strategy: assign.StrategyLeastLoaded, AssignOnCreate: true},
	"logistics":      {Strategy: assign.StrategyManual, Capacity: 25},
	"payments":       {Strategy: assign.StrategyManual, Capacity: 20},
	"governance":     {Strategy: assign.StrategyManual, Capacity: 20},
	"seller_support": {Strategy: assign.StrategyManual, Capacity: 30},
}

var handoffWithin = map[string]string{"logistics": "4h", "payments": "8h", "governance": "9h", "trust_safety": "2h"}

// Shifts and skills of some demo people; the others work their team's hours.
var profiles = map[string]assign.Profile{
	// Jonas and Marcus work two busy teams each: their own capacities keep
	// them within it (the team pages show no one past the limit).
	"marcus": {Timezone: "America/New_York", Shifts: weekdays("08:00-17:00"), Capacity: 30},
	"jonas":  {Capacity: 30},
	"tyler":  {Timezone: "America/Los_Angeles", Shifts: weekdays("08:00-17:00")},
	"aoife":  {Timezone: "Europe/Dublin"},
	"anna":   {Timezone: "Europe/Warsaw", Skills: []string{"payments/", "safety/", "trust_safety/"}},
	"priya":  {Timezone: "Europe/London", Capacity: 18},
	"sanne":  {Timezone: "Europe/Amsterdam", Skills: []string{"governance/", "logistics/"}},
}

func weekdays(window string) map[string][]string {
	m := map[string][]string{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri"} {
		m[d] = []string{window}
	}
	return m
}

// routingRules are the demo desk's routing rules.
func routingRules() []routing.Rule {
	return []routing.Rule{
		{Name: "Regulators and press are high risk",
			When: routing.Conditions{Channel: []string{"external", "social"}},
			Then: routing.Actions{HighRisk: true, AddTags: []string{"external_pressure"}, Notify: []string{"team"}}},
		{Name: "Counterfeit reports go to Trust & Safety",
			When:   routing.Conditions{Keywords: []string{"counterfeit", "fake*", "replica*", "not genuine", "gefälscht*", "contrefaçon*", "podróbk*"}},
			Unless: routing.Conditions{Category: []string{"safety", "trust_safety"}},
			Then:   routing.Actions{Team: "trust_safety", AddTags: []string{"counterfeit"}}},
		{Name: "Fire and injury reports are P1",
			When: routing.Conditions{Category: []string{"safety"}, Keywords: []string{"fire", "burn*", "injur*", "caught fire", "smoke"}},
			Then: routing.Actions{Priority: routing.PriorityAction{Set: "P1"}, HighRisk: true}},
		{Name: "Leadership escalations are watched", On: []routing.Event{routing.EventCreate},
			When: routing.Conditions{Channel: []string{"leadership"}},
			Then: routing.Actions{Priority: routing.PriorityAction{Raise: 1}, AddWatchers: []string{personByKey("sophie").email()},
				AddTags: []string{"leadership"}}},
		{Name: "Tier-1 funds held are key", When: routing.Conditions{Category: []string{"payments/funds_held"}, SellerTier: []int{1}},
			Then: routing.Actions{Priority: routing.PriorityAction{Raise: 1}, SLAPolicy: "Key sellers"}},
		safetyRule, // safety.go
	}
}

// Showcase is the seller the README's examples raise cases about: one of
// the 300, with the same id, name and tier whatever the seed (its account
// manager is its market's).
var Showcase = desk.Seller{ID: "S-2001", Name: "Bayern Elektronik GmbH", Market: "DE", Tier: 2,
	RiskFlags: []string{"high_chargeback_rate"}}

// sellers returns 300 sellers: ≈5% tier 1, 15% tier 2, 40% tier 3, 40%
// tier 4, each with the account manager of its market and a few risk flags.
func sellers(seed int64) []desk.Seller {
	r := newRand(seed, 1)
	total := 0
	for _, m := range markets {
		total += m.Sellers
	}
	tiers := make([]int, 0, total)
	for tier, share := range map[int]int{1: 5, 2: 15, 3: 40} {
		for range total * share / 100 {
			tiers = append(tiers, tier)
		}
	}
	slices.Sort(tiers) // map order is random; make it deterministic before shuffling
	for len(tiers) < total {
		tiers = append(tiers, 4)
	}
	r.Shuffle(len(tiers), func(i, j int) { tiers[i], tiers[j] = tiers[j], tiers[i] })

	var out []desk.Seller
	used := map[string]bool{Showcase.Name: true}
	id := 10001
	for _, m := range markets {
		am := personByKey(m.AM).email()
		for i := range m.Sellers {
			if m.Code == Showcase.Market && i == 0 { // the documented seller, the same for every seed
				j := slices.Index(tiers[len(out):], Showcase.Tier) + len(out)
				tiers[len(out)], tiers[j] = tiers[j], tiers[len(out)] // keep the tier mix exact
				sc := Showcase
				sc.AccountManager, sc.RiskFlags = am, slices.Clone(Showcase.RiskFlags)
				out = append(out, sc)
				continue
			}
			tier := tiers[len(out)]
			name := sellerName(r, m.Code)
			for used[name] {
				name = sellerName(r, m.Code)
			}
			used[name] = true
			s := desk.Seller{ID: fmt.Sprintf("S-%d", id), Name: name, Market: m.Code, Tier: tier}
			id++
			if tier <= 3 || r.Float64() < 0.5 {
				s.AccountManager = am
			}
			if tier == 1 || (tier == 2 && r.Float64() < 0.2) {
				s.RiskFlags = append(s.RiskFlags, "vip")
			}
			if tier >= 3 && r.Float64() < 0.15 {
				s.RiskFlags = append(s.RiskFlags, "new_seller")
			}
			if r.Float64() < 0.06 {
				s.RiskFlags = append(s.RiskFlags, "prior_suspension")
			}
			if r.Float64() < 0.05 {
				s.RiskFlags = append(s.RiskFlags, "high_chargeback_rate")
			}
			out = append(out, s)
		}
	}
	return out
}

// sellerName makes a business name in the market's style.
func sellerName(r *rand.Rand, market string) string {
	w := sellerWords[market]
	switch r.IntN(3) {
	case 0:
		return pick(r, w.first) + " " + pick(r, w.goods) + " " + pick(r, w.suffix)
	case 1:
		return pick(r, w.first) + pick(r, w.join) + pick(r, w.goods) + " " + pick(r, w.suffix)
	default:
		return pick(r, w.prefix) + " " + pick(r, w.first) + " " + pick(r, w.suffix)
	}
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// slug turns a name into lower-case ASCII letters and digits joined by "-".
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		if a, ok := asciiFold[c]; ok {
			b.WriteString(a)
			dash = false
			continue
		}
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

var asciiFold = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ä': "ae", 'ã': "a", 'å': "a", 'ą': "a", 'ç': "c", 'ć': "c", 'č': "c",
	'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ę': "e", 'ì': "i", 'í': "i", 'î': "i", 'ï': "i",
	'ł': "l", 'ñ': "n", 'ń': "n", 'ò': "o", 'ó': "o", 'ô': "o", 'ö': "oe", 'õ': "o", 'ø': "o",
	'ś': "s", 'š': "s", 'ß': "ss", 'ù': "u", 'ú': "u", 'û': "u", 'ü': "ue", 'ý': "y", 'ÿ': "y",
	'ź': "z", 'ż': "z", 'ž': "z", '&': "and", 'œ': "oe", 'æ': "ae", '\'': "",
}

// slaPolicies are the demo desk's SLA policies, most specific first.
func slaPolicies() []sla.PolicySpec {
	t := func(within string) sla.Target { return sla.Target{Within: within} }
	return []sla.PolicySpec{
		{Name: "Safety and integrity", Match: sla.PolicyMatch{Categories: []string{"safety/", "trust_safety/"}},
			Calendar: "emergency", Targets: map[sla.Metric]sla.Target{
				sla.FirstResponse: t("30m"), sla.NextResponse: t("2h"), sla.Resolution: t("1d")}},
		{Name: "P1", Match: sla.PolicyMatch{Priorities: []string{"P1"}}, Calendar: "team",
			Targets: map[sla.Metric]sla.Target{sla.FirstResponse: t("1h"), sla.NextResponse: t("2h"), sla.Resolution: t("1d")}},
		{Name: "Key sellers", Match: sla.PolicyMatch{Tiers: []int{1, 2}}, Calendar: "market",
			Targets: map[sla.Metric]sla.Target{sla.FirstResponse: t("2h"), sla.NextResponse: t("4h"), sla.Resolution: t("2d")}},
		{Name: "Leadership and regulators", Match: sla.PolicyMatch{Channels: []string{"leadership", "external"}}, Calendar: "market",
			Targets: map[sla.Metric]sla.Target{sla.FirstResponse: t("2h"), sla.NextResponse: t("4h"), sla.Resolution: t("3d")}},
		{Name: "Standard", Calendar: "market", Targets: map[sla.Metric]sla.Target{
			sla.FirstResponse: t("8h"), sla.NextResponse: t("8h"), sla.Resolution: t("5d")}},
	}
}
