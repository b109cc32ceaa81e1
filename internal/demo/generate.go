package demo

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/desk"
)

// Window is how far back the generated cases go.
const Window = 45 * 24 * time.Hour

// CaseSpec is one generated case: when and by whom it is created, what it
// says, and what happens to it afterwards.
type CaseSpec struct {
	At      time.Time
	Creator string // email of the user who raises it; "" for Flare's intake (email, API, alerts…)
	Input   cases.CreateInput
	// Priority and Team are what the desk's score and routing rules give
	// the case when it is created (cases.AssessNew): the people in Steps
	// are of that team and work at that pace.
	Priority, Team string
	Steps          []Step // in time order, all after At and before the generation's now
}

// Step kinds.
const (
	StepAssign           = "assign"            // Owner takes (or is given) the case
	StepComment          = "comment"           // public reply (Body)
	StepNote             = "note"              // internal note (Body)
	StepPendingRequester = "pending_requester" // waiting for the requester (Body: what was asked)
	StepPendingInternal  = "pending_internal"  // a handoff to Team, answered later by Owner (Body: the request)
	StepHandoffDone      = "handoff_done"      // Actor completes the case's handoff (Body: the answer)
	StepOpen             = "open"              // back to work after pending
	StepResolve          = "resolve"           // Resolution, Body: resolution note
	StepClose            = "close"
	StepReopen           = "reopen"   // resolved → open (Body: why)
	StepEscalate         = "escalate" // to Team at Level, new Owner
)

// Step is one thing that happens to a case after it is created.
type Step struct {
	At         time.Time
	Kind       string
	Actor      string // email of the acting user; "" for Flare itself
	Owner      string // assign, escalate
	Team       string // escalate; the team a handoff asks
	Level      int    // escalate
	Body       string // comment or note text; transition note
	Resolution string // resolve
}

// Channel shares of the intake mix (percent).
var channelMix = []struct {
	ch     cases.Channel
	weight float64
}{
	{"email", 35}, {"web_form", 25}, {"api", 10}, {"social", 8}, {"phone", 8},
	{"internal", 6}, {"alert", 4}, {"leadership", 2}, {"external", 2},
}

// categoryWeight is the base frequency of each category.
var categoryWeight = map[string]float64{
	"governance/account_suspension": 6, "governance/listing_removal": 6, "governance/policy_appeal": 4,
	"governance/prohibited_item": 3, "governance/ip_complaint": 3,
	"logistics/lost_parcel": 10, "logistics/delayed_delivery": 9, "logistics/damaged_item": 5,
	"logistics/carrier_dispute": 3, "logistics/returns_stuck": 4,
	"payments/funds_held": 6, "payments/payout_delayed": 5, "payments/chargeback": 4, "payments/refund_failed": 4,
	"safety/product_safety": 2, "safety/dangerous_goods": 1, "safety/counterfeit": 3,
	"seller_support/onboarding": 4, "seller_support/fee_dispute": 4, "seller_support/tooling": 3,
	"account_management/key_account": 2, "account_management/contract_query": 2,
	"trust_safety/fraud_ring": 1, "trust_safety/account_takeover": 2,
}

// channelAffinity multiplies category weights by group for a channel
// (groups not listed keep their base weight; 0 rules a group out).
var channelAffinity = map[cases.Channel]map[string]float64{
	"web_form":   {"account_management": 6, "seller_support": 1.5, "governance": 1.5, "payments": 1.3, "logistics": 0.6, "safety": 0, "trust_safety": 0},
	"api":        {"logistics": 2, "payments": 1.5, "governance": 0.5, "seller_support": 0.5, "account_management": 0, "safety": 0.3, "trust_safety": 0.3},
	"social":     {"safety": 6, "logistics": 1.5, "governance": 0.3, "payments": 0.3, "seller_support": 0.2, "account_management": 0, "trust_safety": 0.5},
	"phone":      {"seller_support": 1.5, "payments": 1.5, "account_management": 0.5, "safety": 0.5, "trust_safety": 0.5},
	"internal":   {"trust_safety": 10, "governance": 2, "safety": 2, "logistics": 0.5, "payments": 0.5, "account_management": 0.5},
	"alert":      {"payments": 1.5, "trust_safety": 10, "safety": 3, "seller_support": 0, "account_management": 0},
	"leadership": {"account_management": 5, "safety": 4, "governance": 2, "logistics": 0.5, "trust_safety": 3},
	"external":   {"safety": 8, "governance": 3, "logistics": 0, "payments": 0, "seller_support": 0, "account_management": 0},
	"email":      {"trust_safety": 0.3},
}

// hourWeight is the intake by local hour on a working day.
var hourWeight = [24]float64{0.3, 0.2, 0.15, 0.1, 0.1, 0.2, 0.5, 1.2, 2.5, 4, 4.5, 4.3, 3.2, 3.6, 4.2, 4, 3.6, 2.8, 1.8, 1.3, 1.1, 0.9, 0.6, 0.4}

// Currency of each market's money fields.
func currency(market string) string {
	if m, ok := marketByCode(market); ok {
		return m.Currency
	}
	return "EUR"
}

// Surge is the demo's carrier outage: DHL and DPD in Germany stop
// scanning for two days, and lost/delayed parcel cases pile up.
type Surge struct {
	Market     string
	Categories []string
	Start, End time.Time
	Tag        string
}

// DemoSurge returns the carrier outage of a generation ending at now.
func DemoSurge(now time.Time) Surge {
	loc, _ := time.LoadLocation("Europe/Berlin")
	d := now.In(loc).AddDate(0, 0, -12)
	start := time.Date(d.Year(), d.Month(), d.Day(), 6, 0, 0, 0, loc)
	return Surge{Market: "DE", Categories: []string{"logistics/lost_parcel", "logistics/delayed_delivery"},
		Start: start, End: start.Add(48 * time.Hour), Tag: "carrier_outage"}
}

const surgeShare = 0.04 // of all cases

type weighted[T any] struct {
	items []T
	cum   []float64
}

func (w *weighted[T]) add(item T, weight float64) {
	if weight <= 0 {
		return
	}
	total := weight
	if n := len(w.cum); n > 0 {
		total += w.cum[n-1]
	}
	w.items, w.cum = append(w.items, item), append(w.cum, total)
}

func (w *weighted[T]) pick(r *rand.Rand) (T, bool) {
	var zero T
	if len(w.items) == 0 {
		return zero, false
	}
	x := r.Float64() * w.cum[len(w.cum)-1]
	i, _ := slices.BinarySearch(w.cum, x)
	if i >= len(w.items) {
		i = len(w.items) - 1
	}
	return w.items[i], true
}

// generator holds what one Generate call derives from the configuration.
type generator struct {
	r          *rand.Rand
	cfg        *desk.Config
	now, start time.Time
	surge      Surge

	markets    weighted[desk.Market]
	locs       map[string]*time.Location
	channels   weighted[cases.Channel]
	categories map[cases.Channel]*weighted[desk.Category]
	users      map[string]desk.UserSpec
	teams      map[string][]string // team → member emails
	sellers    map[string]*weighted[desk.Seller]
	amSellers  map[string]*weighted[desk.Seller] // market → sellers with an account manager
	leads      []desk.UserSpec
	agents     []desk.UserSpec
}

// Generate produces n cases spread over the Window before now, in time
// order, from cfg (normally Desk(seed)): pure and deterministic for
// (cfg, seed, n, now). Steps that would happen after now are left out, so
// older cases end resolved or closed and recent ones new, open or pending.
// Users, team members and sellers of cfg are used when present; without
// them cases have no owner steps or no seller.
//
// Each case is scored and routed by the desk's own code (cases.AssessNew),
// in creation order so that its repeat contacts are the earlier generated
// cases, as the store will count them.
func Generate(cfg *desk.Config, seed int64, n int, now time.Time) []CaseSpec {
	if n <= 0 || cfg == nil || len(cfg.Markets) == 0 || len(cfg.Categories) == 0 {
		return nil
	}
	now = now.UTC().Truncate(time.Second)
	g := newGenerator(cfg, seed, now)
	surgeN := 0
	if _, ok := g.locs[g.surge.Market]; ok && n >= 50 {
		surgeN = int(math.Round(float64(n) * surgeShare))
	}
	drafts := make([]draft, 0, n)
	for i := range n {
		drafts = append(drafts, g.spec(i < surgeN))
	}
	slices.SortStableFunc(drafts, func(a, b draft) int { return a.spec.At.Compare(b.spec.At) })
	specs := make([]CaseSpec, len(drafts))
	earlier := map[string][]time.Time{} // seller|category → creation instants so far, in order
	for i := range drafts {
		d := &drafts[i]
		repeats := 0
		if d.cc.seller != nil {
			key := d.cc.seller.ID + "|" + d.cc.cat.Key
			repeats = countWithin(earlier[key], d.spec.At.Add(-repeatWindow), d.spec.At)
			earlier[key] = append(earlier[key], d.spec.At)
		}
		g.route(d, repeats)
		d.spec.Steps = g.life(&d.cc, d.spec.Creator, d.spec.Input.Requester)
		specs[i] = d.spec
	}
	return specs
}

// repeatWindow is the desk's: earlier cases about the same seller and
// category in the 30 days before a case count as repeat contacts.
const repeatWindow = 30 * 24 * time.Hour

// countWithin counts the instants in ts (ascending) in [from, to]: the
// cases created before one at to, those at the same instant included (they
// are written before it).
func countWithin(ts []time.Time, from, to time.Time) int {
	lo, _ := slices.BinarySearchFunc(ts, from, func(a, b time.Time) int { return a.Compare(b) })
	hi := lo
	for hi < len(ts) && !ts[hi].After(to) {
		hi++
	}
	return hi - lo
}

// draft is a generated case before it is routed and its life played out.
type draft struct {
	spec CaseSpec
	cc   caseCtx
}

// route scores and routes the draft as the desk will when it is created.
// A body the desk would refuse (another configuration than the demo's)
// keeps its category's team and P4; Replay reports the refusal.
func (g *generator) route(d *draft, repeatContacts int) {
	d.cc.priority, d.cc.team = "P4", d.cc.cat.Team
	a, err := cases.AssessNew(g.cfg, d.spec.Input, d.cc.seller, repeatContacts, d.spec.At)
	if err == nil {
		d.cc.priority, d.cc.team = a.Priority, a.Outcome.Team
	}
	d.spec.Priority, d.spec.Team = d.cc.priority, d.cc.team
}

func newGenerator(cfg *desk.Config, seed int64, now time.Time) *generator {
	g := &generator{
		r: newRand(seed, 2), cfg: cfg, now: now, start: now.Add(-Window), surge: DemoSurge(now),
		locs: map[string]*time.Location{}, categories: map[cases.Channel]*weighted[desk.Category]{},
		users: map[string]desk.UserSpec{}, teams: map[string][]string{},
		sellers: map[string]*weighted[desk.Seller]{}, amSellers: map[string]*weighted[desk.Seller]{},
	}
	for _, m := range cfg.Markets {
		w := 2.0
		if info, ok := marketByCode(m.Code); ok {
			w = info.Weight
		}
		g.markets.add(m, w)
		g.locs[m.Code] = m.Location()
	}
	for _, u := range cfg.Users {
		u.Email = strings.ToLower(u.Email)
		g.users[u.Email] = u
		switch u.Role {
		case auth.RoleLead:
			g.leads = append(g.leads, u)
		case auth.RoleAgent:
			g.agents = append(g.agents, u)
		}
	}
	for _, t := range cfg.Teams {
		for _, m := range t.Members {
			g.teams[t.Key] = append(g.teams[t.Key], strings.ToLower(m))
		}
	}
	tierWeight := map[int]float64{1: 6, 2: 3, 3: 1.5, 4: 1}
	for _, s := range cfg.Sellers {
		if g.sellers[s.Market] == nil {
			g.sellers[s.Market], g.amSellers[s.Market] = &weighted[desk.Seller]{}, &weighted[desk.Seller]{}
		}
		g.sellers[s.Market].add(s, tierWeight[s.Tier])
		if u, ok := g.users[strings.ToLower(s.AccountManager)]; ok && u.Role == auth.RoleAccountManager {
			g.amSellers[s.Market].add(s, tierWeight[s.Tier])
		}
	}
	for _, c := range channelMix {
		if c.ch == "web_form" && len(g.amSellers) == 0 {
			continue // no account managers: their share goes to the other channels
		}
		g.channels.add(c.ch, c.weight)
		w := &weighted[desk.Category]{}
		for _, cat := range cfg.Categories {
			base, ok := categoryWeight[cat.Key]
			if !ok {
				base = 2
			}
			if f, ok := channelAffinity[c.ch][cat.Group()]; ok {
				base *= f
			}
			w.add(cat, base)
		}
		if len(w.items) == 0 { // a configuration none of whose groups fit: take them all
			for _, cat := range cfg.Categories {
				w.add(cat, 1)
			}
		}
		g.categories[c.ch] = w
	}
	return g
}

// caseCtx is what the text templates and steps of one case draw on.
type caseCtx struct {
	market   desk.Market
	cat      desk.Category
	channel  cases.Channel
	lang     string // case language
	seller   *desk.Seller
	vars     map[string]string
	personal bool // the requester is a person (not an organisation or a monitor)
	at       time.Time
	priority string
	team     string // the owning team once the routing rules ran
}

func (g *generator) spec(surge bool) draft {
	r := g.r
	var cc caseCtx
	if surge {
		cc.market, _ = g.cfg.Market(g.surge.Market)
		cc.cat, _ = g.cfg.Category(pick(r, g.surge.Categories))
		cc.channel = pick(r, []cases.Channel{"email", "email", "web_form", "api", "api", "social", "phone"})
		if cc.cat.Key == "" { // the configuration lacks the surge categories
			cc.cat = pick(r, g.cfg.Categories)
		}
		if cc.channel == "web_form" && g.amSellers[cc.market.Code] == nil {
			cc.channel = "email"
		}
		cc.at = g.surgeTime()
		if !cc.at.Before(g.now) {
			cc.at = g.now.Add(-time.Duration(1+r.IntN(3600)) * time.Second)
		}
	} else {
		cc.channel, _ = g.channels.pick(r)
		cc.market, _ = g.markets.pick(r)
		if cc.channel == "web_form" && g.amSellers[cc.market.Code] == nil {
			cc.channel = "email"
		}
		cc.cat, _ = g.categories[cc.channel].pick(r)
		cc.at = g.when(cc.market, cc.channel)
	}
	if cc.cat.Severity == 0 {
		cc.cat.Severity = desk.DefaultSeverity
	}

	spec := CaseSpec{At: cc.at}
	in := &spec.Input
	in.At, in.Category, in.Market, in.Channel = cc.at, cc.cat.Key, cc.market.Code, cc.channel

	// Seller.
	group := cc.cat.Group()
	if cc.channel == "web_form" {
		if s, ok := g.amSellers[cc.market.Code].pick(r); ok {
			cc.seller = &s
		}
	} else if w := g.sellers[cc.market.Code]; w != nil && !(group == "trust_safety" && r.Float64() < 0.4) && r.Float64() < 0.92 {
		if s, ok := w.pick(r); ok {
			cc.seller = &s
		}
	}
	if cc.seller != nil {
		in.SellerID = cc.seller.ID
	}

	// Language: sellers write in the market language about half the time.
	cc.lang = "en"
	if len(cc.market.Languages) > 0 {
		var locals []string
		for _, l := range cc.market.Languages {
			if baseLang(l) != "en" {
				locals = append(locals, l)
			}
		}
		local := "en"
		if len(locals) > 0 {
			local = pick(r, locals)
		}
		share := 0.65
		if cc.market.Code == "US" {
			share = 0.05 // Spanish-speaking sellers
		}
		switch cc.channel {
		case "web_form", "internal", "alert", "leadership":
			share = 0.1
		}
		if local != "en" && r.Float64() < share {
			if _, ok := localTemplates[baseLang(local)][cc.cat.Key]; ok {
				cc.lang = local
			}
		}
	}
	in.Language = cc.lang

	// Risk and sensitivity.
	switch group {
	case "safety":
		in.HighRisk = r.Float64() < 0.45
		in.Sensitivity = choose(cc.cat.Key == "safety/dangerous_goods" && r.Float64() < 0.25, "restricted", "normal")
	case "trust_safety":
		in.HighRisk = r.Float64() < 0.5
		in.Sensitivity = choose(r.Float64() < 0.75, "restricted", "normal")
	default:
		p := 0.02
		if cc.seller != nil && (cc.seller.Tier == 1 || slices.Contains(cc.seller.RiskFlags, "prior_suspension")) {
			p = 0.15
		}
		in.HighRisk = r.Float64() < p
		in.Sensitivity = "normal"
	}
	if cc.channel == "web_form" {
		in.Sensitivity = "normal" // account managers cannot see restricted cases, not even their own
	}

	g.fillVars(&cc)
	in.Fields = g.fields(&cc)
	in.Title, in.Description = g.texts(&cc)
	in.Tags = g.tags(&cc, surge)
	cc.team = cc.cat.Team // internal requesters are of the category's team; routing comes later
	spec.Creator, in.Requester = g.requester(&cc)
	return draft{spec: spec, cc: cc}
}

func choose[T any](c bool, a, b T) T {
	if c {
		return a
	}
	return b
}

func baseLang(tag string) string {
	b, _, _ := strings.Cut(tag, "-")
	return b
}

// when picks a creation instant: working days and office hours in the
// market's local time dominate; weekends dip; alerts come at any hour.
func (g *generator) when(m desk.Market, ch cases.Channel) time.Time {
	r, loc := g.r, g.locs[m.Code]
	first := g.start.In(loc)
	days := int(Window/(24*time.Hour)) + 1
	for range 100 {
		d := r.IntN(days)
		day := time.Date(first.Year(), first.Month(), first.Day()+d, 0, 0, 0, 0, loc)
		dayW := 1.0
		switch day.Weekday() {
		case time.Saturday:
			dayW = 0.4
		case time.Sunday:
			dayW = 0.3
		}
		dayW *= 0.85 + 0.3*float64(d)/float64(days) // a growing marketplace
		if r.Float64() > dayW/1.15 {
			continue
		}
		var hour int
		if ch == "alert" {
			hour = r.IntN(24)
		} else {
			var hw weighted[int]
			for h, w := range hourWeight {
				if day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
					w = 0.5 + w/3 // flatter at weekends
				}
				hw.add(h, w)
			}
			hour, _ = hw.pick(r)
		}
		t := time.Date(day.Year(), day.Month(), day.Day(), hour, r.IntN(60), r.IntN(60), 0, loc).UTC()
		if !t.Before(g.start) && t.Before(g.now) {
			return t
		}
	}
	return g.now.Add(-time.Duration(1+r.Int64N(int64(Window/time.Second)-1)) * time.Second)
}

// surgeTime picks an instant in the surge, following the working-day
// intake curve (people notice missing parcels during the day).
func (g *generator) surgeTime() time.Time {
	loc := g.locs[g.surge.Market]
	span := int64(g.surge.End.Sub(g.surge.Start))
	for {
		t := g.surge.Start.Add(time.Duration(g.r.Int64N(span))).Truncate(time.Second)
		if g.r.Float64()*4.5 < hourWeight[t.In(loc).Hour()] {
			return t.UTC()
		}
	}
}

func (g *generator) fillVars(cc *caseCtx) {
	r := g.r
	v := map[string]string{"market": cc.market.Name}
	if cc.seller != nil {
		v["seller"] = cc.seller.Name
	} else {
		v["seller"] = "the seller"
	}
	carriers := []string{"DHL", "UPS"}
	if info, ok := marketByCode(cc.market.Code); ok {
		carriers = info.Carriers
	}
	carrier := carriers[min(len(carriers)-1, int(float64(len(carriers))*r.Float64()*r.Float64()))] // most common first
	if cc.market.Code == g.surge.Market && !cc.at.Before(g.surge.Start) && cc.at.Before(g.surge.End.Add(24*time.Hour)) &&
		slices.Contains(g.surge.Categories, cc.cat.Key) {
		carrier = pick(r, []string{"DHL", "DHL", "DHL", "DPD"})
	}
	v["carrier"] = carrier
	v["order"] = fmt.Sprintf("%03d-%07d-%07d", 100+r.IntN(900), r.IntN(10_000_000), r.IntN(10_000_000))
	v["tracking"] = trackingNumber(r, carrier)
	v["listing"] = fmt.Sprintf("LST-%08d", r.IntN(100_000_000))
	v["brand"] = pick(r, brands)
	v["days"] = strconv.Itoa(3 + r.IntN(12))
	v["orders"] = strconv.Itoa(5 + r.IntN(400))
	v["accounts"] = strconv.Itoa(4 + r.IntN(40))
	v["country"] = pick(r, loginCountries)
	v["contract"] = fmt.Sprintf("KA-%d-%04d", cc.at.Year()-r.IntN(2), r.IntN(10000))
	v["date"] = cc.at.AddDate(0, 0, -(1 + r.IntN(10))).Format(time.DateOnly)
	v["policy"] = strings.ReplaceAll(pick(r, policies), "_", " ")
	switch cc.cat.Key {
	case "governance/ip_complaint":
		v["policy"] = "ip infringement"
	case "governance/prohibited_item":
		v["policy"] = "prohibited items"
	}
	v["action"] = strings.ReplaceAll(pick(r, enforcementActions), "_", " ")
	v["injury"] = pick(r, []string{"no", "no", "yes", "unknown"})
	v["hazard_class"] = pick(r, []string{"lithium_batteries", "flammable_liquids", "aerosols", "corrosives"})
	v["hazard"] = strings.ReplaceAll(v["hazard_class"], "_", " ")
	v["tool"] = pick(r, []string{"seller_hub", "listings_api", "bulk_upload", "shipping_labels", "reports"})
	// Money: sized by seller tier, in the market's currency.
	scale := 1.0
	if cc.seller != nil {
		scale = map[int]float64{1: 40, 2: 10, 3: 3, 4: 1}[cc.seller.Tier]
	}
	amount := math.Round((80+r.ExpFloat64()*900)*scale*100) / 100
	if currency(cc.market.Code) == "PLN" {
		amount = math.Round(amount*4.3*100) / 100
	}
	v["amount_raw"] = strconv.FormatFloat(amount, 'f', 2, 64)
	v["amount"] = v["amount_raw"] + " " + currency(cc.market.Code)
	cc.vars = v
}

func trackingNumber(r *rand.Rand, carrier string) string {
	digits := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		return b.String()
	}
	letters := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(byte('A' + r.IntN(26)))
		}
		return b.String()
	}
	switch carrier {
	case "Royal Mail":
		return letters(2) + digits(9) + "GB"
	case "An Post":
		return letters(2) + digits(9) + "IE"
	case "La Poste", "Colissimo":
		return "6A" + digits(11)
	case "Poste Italiane":
		return letters(2) + digits(9) + "IT"
	case "Correos":
		return "PQ" + letters(2) + digits(16)
	case "bpost":
		return "3232" + digits(20)
	case "PostNL":
		return "3S" + letters(4) + digits(7)
	case "InPost":
		return digits(24)
	case "Evri":
		return "H" + digits(2) + letters(3) + digits(10)
	case "DHL":
		return "JJD" + digits(18)
	case "DPD":
		return digits(14)
	case "GLS":
		return digits(11)
	case "SEUR":
		return digits(14)
	case "UPS":
		return "1Z" + letters(3) + digits(13)
	case "FedEx":
		return digits(12)
	case "USPS":
		return "9400" + digits(18)
	}
	return letters(2) + digits(10)
}

// fields fills the category's custom fields that the generator knows.
func (g *generator) fields(cc *caseCtx) map[string]any {
	r, v := g.r, cc.vars
	out := map[string]any{}
	money := func(key string) {
		out[key] = map[string]any{"amount": v["amount_raw"], "currency": currency(cc.market.Code)}
	}
	for _, f := range cc.cat.Fields {
		switch f.Key {
		case "order_id":
			if f.Required || r.Float64() < 0.7 {
				out[f.Key] = v["order"]
			}
		case "tracking_number":
			if r.Float64() < 0.9 {
				out[f.Key] = v["tracking"]
			}
		case "carrier":
			if len(f.Options) == 0 || slices.Contains(f.Options, v["carrier"]) {
				out[f.Key] = v["carrier"]
			}
		case "promised_date":
			out[f.Key] = cc.at.AddDate(0, 0, -(1 + r.IntN(7))).Format(time.DateOnly)
		case "policy":
			p := strings.ReplaceAll(v["policy"], " ", "_")
			if slices.Contains(f.Options, p) {
				out[f.Key] = p
			} else if len(f.Options) > 0 {
				out[f.Key] = pick(r, f.Options)
			}
		case "enforcement_action":
			a := strings.ReplaceAll(v["action"], " ", "_")
			if slices.Contains(f.Options, a) && r.Float64() < 0.75 {
				out[f.Key] = a
			}
		case "listing_id":
			out[f.Key] = v["listing"]
		case "rights_owner", "brand":
			out[f.Key] = v["brand"]
		case "appeal_deadline":
			out[f.Key] = cc.at.AddDate(0, 0, 7+r.IntN(21)).Format(time.DateOnly)
		case "amount_held", "claim_amount", "amount_disputed":
			money(f.Key)
		case "hold_reason":
			out[f.Key] = pick(r, f.Options)
		case "payout_date":
			out[f.Key] = v["date"]
		case "injury_reported":
			if slices.Contains(f.Options, v["injury"]) {
				out[f.Key] = v["injury"]
			}
		case "hazard_class":
			if slices.Contains(f.Options, v["hazard_class"]) {
				out[f.Key] = v["hazard_class"]
			}
		case "tool":
			if slices.Contains(f.Options, v["tool"]) {
				out[f.Key] = v["tool"]
			}
		case "contract_ref":
			out[f.Key] = v["contract"]
		case "linked_accounts":
			n, _ := strconv.Atoi(v["accounts"])
			out[f.Key] = float64(n)
		case "login_country":
			out[f.Key] = v["country"]
		default:
			if f.Required { // a field this generator does not know: give it a plausible value
				out[f.Key] = placeholderValue(r, f, cc)
			}
		}
	}
	for k, x := range out { // keep only values valid for the definition
		f, _ := cc.cat.Field(k)
		if _, errs := (desk.Category{Key: cc.cat.Key, Fields: []desk.FieldDef{f}}).ValidateFields(map[string]any{k: x}, false); len(errs) > 0 {
			delete(out, k)
		}
	}
	return out
}

func placeholderValue(r *rand.Rand, f desk.FieldDef, cc *caseCtx) any {
	switch f.Type {
	case desk.FieldNumber:
		return float64(1 + r.IntN(100))
	case desk.FieldMoney:
		return map[string]any{"amount": cc.vars["amount_raw"], "currency": currency(cc.market.Code)}
	case desk.FieldDate:
		return cc.at.Format(time.DateOnly)
	case desk.FieldSelect, desk.FieldCarrier:
		if len(f.Options) > 0 {
			return pick(r, f.Options)
		}
		return cc.vars["carrier"]
	case desk.FieldMultiSelect:
		if len(f.Options) > 0 {
			return []string{pick(r, f.Options)}
		}
	case desk.FieldOrderID:
		return cc.vars["order"]
	case desk.FieldTrackingNumber:
		return cc.vars["tracking"]
	}
	return "n/a"
}

func (g *generator) texts(cc *caseCtx) (title, desc string) {
	t, ok := localTemplates[baseLang(cc.lang)][cc.cat.Key]
	if !ok {
		t, ok = enTemplates[cc.cat.Key]
	}
	if !ok {
		t = template{titles: []string{cc.cat.Name + " — {seller}"}, desc: []string{cc.cat.Name + " reported for {seller} in {market}."}}
	}
	return fill(pick(g.r, t.titles), cc.vars), fill(pick(g.r, t.desc), cc.vars)
}

func fill(s string, vars map[string]string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		b.WriteString(s[:i])
		if v, ok := vars[s[i+1:i+j]]; ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[i : i+j+1])
		}
		s = s[i+j+1:]
	}
	b.WriteString(s)
	return b.String()
}

func (g *generator) tags(cc *caseCtx, surge bool) []string {
	var tags []string
	if surge {
		tags = append(tags, g.surge.Tag, "carrier:"+slug(cc.vars["carrier"]))
	}
	if cc.seller != nil {
		for _, f := range cc.seller.RiskFlags {
			if f == "vip" || f == "prior_suspension" {
				tags = append(tags, f)
			}
		}
	}
	switch cc.channel {
	case "social":
		tags = append(tags, "social_media")
	case "external":
		tags = append(tags, "regulator")
	case "leadership":
		tags = append(tags, "exec_escalation")
	}
	if g.r.Float64() < 0.05 {
		tags = append(tags, "repeat_contact")
	}
	return tags
}

// requester returns who raises the case: the creating user (web form,
// internal, phone) and the requester shown on the case.
func (g *generator) requester(cc *caseCtx) (string, *cases.Requester) {
	r, m := g.r, cc.market.Code
	sellerContact := func() *cases.Requester {
		first, last := pick(r, namesOr(firstNames, m)), pick(r, namesOr(lastNames, m))
		domain := "seller.example"
		if cc.seller != nil {
			domain = slug(cc.seller.Name) + ".example"
		}
		box := pick(r, contactBoxes)
		if r.Float64() < 0.5 {
			box = slug(first) + "." + strings.ReplaceAll(slug(last), "-", "")
		}
		cc.personal = true
		return &cases.Requester{Name: first + " " + last, Email: box + "@" + domain}
	}
	switch cc.channel {
	case "web_form":
		if cc.seller != nil {
			if u, ok := g.users[strings.ToLower(cc.seller.AccountManager)]; ok {
				cc.personal = true
				return u.Email, &cases.Requester{Name: u.Name, Email: u.Email}
			}
		}
		return "", sellerContact()
	case "internal":
		u, ok := g.ownerFor(cc.team, m, cc.lang)
		if !ok && len(g.leads) > 0 {
			u, ok = pick(r, g.leads), true
		}
		if ok {
			cc.personal = true
			return u.Email, &cases.Requester{Name: u.Name, Email: u.Email}
		}
		return "", nil
	case "phone":
		if len(g.agents) > 0 {
			u := g.agents[r.IntN(len(g.agents))]
			if coversMarket(u, m) {
				return u.Email, sellerContact()
			}
		}
		return "", sellerContact()
	case "alert":
		src, ok := alertSources[cc.cat.Group()]
		if !ok {
			src = alertSources["trust_safety"]
		}
		return "", &cases.Requester{Name: src.Name, Email: src.Email}
	case "social":
		return "", &cases.Requester{Name: pick(r, socialHandles) + " on social media"}
	case "leadership":
		l := pick(r, leadershipRequesters)
		return "", &cases.Requester{Name: l.Name, Email: l.Email}
	case "external":
		if ext := externalRequesters[m]; len(ext) > 0 {
			e := pick(r, ext)
			return "", &cases.Requester{Name: e.Name, Email: e.Email}
		}
		return "", sellerContact()
	}
	return "", sellerContact()
}

func namesOr(m map[string][]string, market string) []string {
	if l := m[market]; len(l) > 0 {
		return l
	}
	return m["GB"]
}

func coversMarket(u desk.UserSpec, market string) bool {
	return len(u.Markets) == 0 || slices.Contains(u.Markets, market)
}

func speaks(u desk.UserSpec, lang string) bool {
	return slices.ContainsFunc(u.Languages, func(l string) bool { return baseLang(l) == baseLang(lang) })
}

// ownerFor picks an agent of team for a case in market and language,
// preferring agents who cover the market and speak the language; leads of
// the team come next. ok is false when the team has neither.
func (g *generator) ownerFor(team, market, lang string) (desk.UserSpec, bool) {
	var best []desk.UserSpec
	bestScore := -1
	for _, email := range g.teams[team] {
		u := g.users[email]
		if u.Role != auth.RoleAgent {
			continue
		}
		score := 0
		if coversMarket(u, market) {
			score += 2
		}
		if speaks(u, lang) {
			score++
		}
		switch {
		case score > bestScore:
			best, bestScore = []desk.UserSpec{u}, score
		case score == bestScore:
			best = append(best, u)
		}
	}
	if len(best) > 0 {
		return pick(g.r, best), true
	}
	for _, email := range g.teams[team] {
		if u := g.users[email]; u.Role == auth.RoleLead {
			best = append(best, u)
		}
	}
	if len(best) > 0 {
		return pick(g.r, best), true
	}
	return desk.UserSpec{}, false
}

// leadFor picks a lead, preferring one in team.
func (g *generator) leadFor(team string) (desk.UserSpec, bool) {
	var in []desk.UserSpec
	for _, l := range g.leads {
		if slices.Contains(g.teams[team], l.Email) {
			in = append(in, l)
		}
	}
	if len(in) == 0 {
		in = g.leads
	}
	if len(in) == 0 {
		return desk.UserSpec{}, false
	}
	return pick(g.r, in), true
}

// span returns a random duration between lo and hi, log-uniform (short
// waits common, long ones rare).
func (g *generator) span(lo, hi time.Duration) time.Duration {
	a, b := math.Log(float64(lo)), math.Log(float64(hi))
	return time.Duration(math.Exp(a + g.r.Float64()*(b-a))).Truncate(time.Second)
}

// later returns t+d moved into the market's office hours (Mon–Fri
// 09:00–18:00 local) unless anyHour; a move adds a little jitter.
func (g *generator) later(cc *caseCtx, t time.Time, d time.Duration, anyHour bool) time.Time {
	x := t.Add(d)
	if anyHour {
		return x
	}
	loc := g.locs[cc.market.Code]
	if y := officeTime(x, loc); !y.Equal(x) {
		x = y.Add(time.Duration(g.r.IntN(50*60)) * time.Second)
	}
	return x
}

func officeTime(t time.Time, loc *time.Location) time.Time {
	lt := t.In(loc)
	for range 8 {
		if wd := lt.Weekday(); wd != time.Saturday && wd != time.Sunday {
			open := time.Date(lt.Year(), lt.Month(), lt.Day(), 9, 0, 0, 0, loc)
			closing := time.Date(lt.Year(), lt.Month(), lt.Day(), 18, 0, 0, 0, loc)
			if lt.Before(open) {
				return open.UTC()
			}
			if lt.Before(closing) {
				return t
			}
		}
		lt = time.Date(lt.Year(), lt.Month(), lt.Day()+1, 0, 0, 0, 0, loc)
	}
	return lt.UTC()
}

// life plays out what happens to a case after it is created and returns
// the steps before now.
func (g *generator) life(cc *caseCtx, creator string, req *cases.Requester) []Step {
	r := g.r
	var steps []Step
	t := cc.at
	add := func(s Step) bool {
		if !s.At.After(t) {
			s.At = t.Add(time.Minute)
		}
		s.At = s.At.UTC().Truncate(time.Second)
		if !s.At.Before(g.now) {
			return false
		}
		t = s.At
		steps = append(steps, s)
		return true
	}
	urgent := cc.priority == "P1"
	age := g.now.Sub(cc.at)

	// Some recent cases still wait in the queue.
	if age < 4*24*time.Hour && r.Float64() < 0.12 {
		return nil
	}
	// A few are spotted as duplicates at intake.
	if r.Float64() < 0.02 {
		if lead, ok := g.leadFor(cc.team); ok {
			if add(Step{At: g.later(cc, t, g.span(20*time.Minute, 4*time.Hour), urgent), Kind: StepResolve, Actor: lead.Email,
				Resolution: g.resolution("duplicate", cc), Body: resolutionNotes["duplicate"][0]}) {
				add(Step{At: g.later(cc, t, g.span(48*time.Hour, 96*time.Hour), false), Kind: StepClose, Actor: lead.Email})
			}
		}
		return steps
	}

	owner, ok := g.ownerFor(cc.team, cc.market.Code, cc.lang)
	if !ok {
		return nil
	}
	pickup := map[string][2]time.Duration{"P1": {5 * time.Minute, 40 * time.Minute}, "P2": {15 * time.Minute, 3 * time.Hour},
		"P3": {30 * time.Minute, 8 * time.Hour}, "P4": {1 * time.Hour, 20 * time.Hour}}[cc.priority]
	assigner := owner
	if owner.Role == auth.RoleAgent && !coversMarket(owner, cc.market.Code) {
		if lead, ok := g.leadFor(cc.team); ok {
			assigner = lead
		}
	}
	if !add(Step{At: g.later(cc, t, g.span(pickup[0], pickup[1]), urgent), Kind: StepAssign, Actor: assigner.Email, Owner: owner.Email}) {
		return steps
	}

	// First response.
	if req != nil && req.Email != "" && req.Email != owner.Email && cc.channel != "alert" {
		lang := "en"
		if speaks(owner, cc.lang) {
			if _, ok := firstReplies[baseLang(cc.lang)]; ok {
				lang = baseLang(cc.lang)
			}
		}
		greet := req.Name // organisations by their name, people by their first name
		if first, _, ok := strings.Cut(req.Name, " "); ok && cc.personal {
			greet = first
		}
		body := fill(pick(r, firstReplies[lang]), map[string]string{"requester": greet, "owner": owner.Name})
		if !add(Step{At: g.later(cc, t, g.span(3*time.Minute, 2*time.Hour), urgent), Kind: StepComment, Actor: owner.Email, Body: body}) {
			return steps
		}
	}
	if r.Float64() < 0.25 {
		if !add(Step{At: g.later(cc, t, g.span(10*time.Minute, 6*time.Hour), urgent), Kind: StepNote, Actor: owner.Email, Body: pick(r, internalNotes)}) {
			return steps
		}
	}

	// Escalation to the escalations team.
	pEsc := 0.05
	if cc.seller != nil && cc.seller.Tier == 1 {
		pEsc += 0.1
	}
	if cc.channel == "leadership" {
		pEsc += 0.4
	}
	if urgent {
		pEsc += 0.15
	}
	if _, ok := g.cfg.Team("escalations"); ok && cc.team != "escalations" && r.Float64() < pEsc {
		if lead, ok := g.leadFor("escalations"); ok {
			if newOwner, ok := g.ownerFor("escalations", cc.market.Code, cc.lang); ok {
				level := choose(urgent, 3, 2)
				if !add(Step{At: g.later(cc, t, g.span(30*time.Minute, 8*time.Hour), urgent), Kind: StepEscalate, Actor: lead.Email,
					Team: "escalations", Level: level, Owner: newOwner.Email}) {
					return steps
				}
				owner = newOwner
			}
		}
	}

	// Waiting on the requester and on other teams.
	hasRequester := req != nil && req.Email != "" && cc.channel != "alert" && cc.channel != "internal"
	longWait := r.Float64() < 0.06
	if hasRequester && r.Float64() < 0.4 {
		if !add(Step{At: g.later(cc, t, g.span(20*time.Minute, 5*time.Hour), urgent), Kind: StepPendingRequester, Actor: owner.Email, Body: pick(r, askRequester)}) {
			return steps
		}
		wait := g.span(4*time.Hour, 6*24*time.Hour)
		if longWait {
			wait = g.span(7*24*time.Hour, 20*24*time.Hour)
		}
		if creator != "" && g.users[creator].Role == auth.RoleAccountManager && r.Float64() < 0.6 {
			if !add(Step{At: g.later(cc, t, wait*2/3, false), Kind: StepComment, Actor: creator, Body: pick(r, amComments)}) {
				return steps
			}
		}
		if !add(Step{At: g.later(cc, t, wait/3+time.Minute, urgent), Kind: StepOpen, Actor: owner.Email, Body: pick(r, requesterReplied)}) {
			return steps
		}
	}
	if r.Float64() < 0.25 || (cc.cat.Group() != "logistics" && longWait) {
		note := "Handed to another team; waiting for their answer."
		if notes := handoffNotes[cc.cat.Group()]; len(notes) > 0 {
			note = fill(pick(r, notes), cc.vars)
		}
		// A handoff to the team that holds the answer; one of its people
		// completes it and the case comes back to its owner.
		team := handoffTeams[cc.cat.Group()]
		receiver, ok := g.ownerFor(team, cc.market.Code, cc.lang)
		if team == "" || team == cc.team || !ok {
			team, receiver = "", desk.UserSpec{}
		}
		if !add(Step{At: g.later(cc, t, g.span(15*time.Minute, 6*time.Hour), urgent), Kind: StepPendingInternal, Actor: owner.Email,
			Team: team, Owner: receiver.Email, Body: note}) {
			return steps
		}
		wait := g.span(2*time.Hour, 3*24*time.Hour)
		if longWait {
			wait = g.span(5*24*time.Hour, 15*24*time.Hour)
		}
		back := Step{At: g.later(cc, t, wait, urgent), Kind: StepOpen, Actor: owner.Email, Body: "Other team came back; resuming."}
		if team != "" {
			back = Step{At: back.At, Kind: StepHandoffDone, Actor: receiver.Email, Body: pick(r, handoffAnswers)}
		}
		if !add(back) {
			return steps
		}
	}

	// Resolution, perhaps a reopen, and closing.
	work := map[int][2]time.Duration{1: {2 * time.Hour, 3 * 24 * time.Hour}, 2: {6 * time.Hour, 8 * 24 * time.Hour},
		3: {12 * time.Hour, 10 * 24 * time.Hour}, 4: {8 * time.Hour, 8 * 24 * time.Hour}}[cc.cat.Severity]
	resolve := func() bool {
		res := g.resolution("", cc)
		return add(Step{At: g.later(cc, t, g.span(work[0], work[1]), urgent), Kind: StepResolve, Actor: owner.Email,
			Resolution: res, Body: g.resolutionNote(res)})
	}
	if !resolve() {
		return steps
	}
	if r.Float64() < 0.07 {
		if !add(Step{At: g.later(cc, t, g.span(3*time.Hour, 3*24*time.Hour), false), Kind: StepReopen, Actor: owner.Email, Body: g.reopenNote(cc)}) {
			return steps
		}
		if !resolve() {
			return steps
		}
	}
	add(Step{At: g.later(cc, t, g.span(3*24*time.Hour, 7*24*time.Hour), false), Kind: StepClose, Actor: owner.Email})
	return steps
}

// handoffTeams is who a case's group hands off to for the missing piece.
var handoffTeams = map[string]string{
	"logistics": "seller_support", "governance": "logistics", "payments": "governance",
	"safety": "logistics", "trust_safety": "governance", "account_management": "payments", "seller_support": "payments",
}

var handoffAnswers = []string{
	"Checked on our side: the carrier scan shows delivery to the depot on the 3rd. Details in the linked ticket.",
	"Done. The hold is released; funds go out in the next payout run.",
	"Reviewed the listing history: no earlier strikes, the removal was automated. Reinstated.",
	"Confirmed with the seller by phone; they will send the invoices today.",
	"We looked into it: the account flag was set by the fraud model, now cleared after manual review.",
	"Replacement shipped with tracking; the buyer has been told.",
}

// resolution picks a resolution code for the case's group that the
// configuration allows (want, when given and allowed).
func (g *generator) resolution(want string, cc *caseCtx) string {
	if want != "" && g.cfg.HasResolution(want) {
		return want
	}
	var ok []string
	for _, res := range resolutionsFor[cc.cat.Group()] {
		if g.cfg.HasResolution(res) {
			ok = append(ok, res)
		}
	}
	if len(ok) == 0 {
		ok = g.cfg.Resolutions
	}
	return pick(g.r, ok)
}

func (g *generator) reopenNote(cc *caseCtx) string {
	if notes := reopenNotes[cc.cat.Group()]; len(notes) > 0 && g.r.Float64() < 0.7 {
		return pick(g.r, notes)
	}
	return pick(g.r, reopenNotes[""])
}

func (g *generator) resolutionNote(res string) string {
	if notes := resolutionNotes[res]; len(notes) > 0 {
		return pick(g.r, notes)
	}
	return "Resolved: " + strings.ReplaceAll(res, "_", " ") + "."
}

// stepsInOrder reports whether steps are in time order (tests check Generate with it).
func stepsInOrder(s []Step) bool {
	return slices.IsSortedFunc(s, func(a, b Step) int { return cmp.Compare(a.At.UnixNano(), b.At.UnixNano()) })
}
