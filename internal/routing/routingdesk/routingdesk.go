// Package routingdesk is routing's part of the desk document: its sections
// (the priority weights and the routing rules), their validation against
// the rest of the document, and the typed accessors the running code reads
// them by. It stands apart from internal/routing so that the rules stay a
// pure core: routing imports neither the desk service nor a store.
package routingdesk

import (
	"slices"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/routing"
)

// The desk document's sections this package owns.
const (
	WeightsKey desk.Key[routing.Weights] = "priority"
	RulesKey   desk.Key[[]routing.Rule]  = "routing_rules"
	// WatchKey is the safety watch: terms per language whose presence in
	// a case's text is a fact rules and the score read.
	//
	//	safety_watch:
	//	  - language: en
	//	    terms: [fire, "caught fire", burn*, explod*, "electric shock"]
	//	  - language: fr
	//	    accent_insensitive: true
	//	    terms: [incendie, brûlé*, "choc électrique"]
	WatchKey desk.Key[[]routing.WatchList] = "safety_watch"
)

// Sections are the desk sections of routing, for desk.NewSchema:
// `priority:` (routing.Weights) and `routing_rules:` ([]routing.Rule), checked
// against the document's markets, teams, categories, calendars, SLA policies
// and users.
func Sections() []desk.Section {
	return []desk.Section{
		desk.SectionOf[routing.Weights]{
			Key: WeightsKey,
			Validate: func(doc *desk.Config, w routing.Weights) []apperr.FieldError {
				return routing.ValidateWeights(w, RefsOf(doc))
			},
			Diff: func(prev, next routing.Weights) []string { return desk.DiffFields("priority", "weights", prev, next) },
		},
		desk.SectionOf[[]routing.Rule]{
			Key: RulesKey,
			Validate: func(doc *desk.Config, rules []routing.Rule) []apperr.FieldError {
				return routing.ValidateRules(rules, RefsOf(doc))
			},
			Diff: diffRules,
		},
		desk.SectionOf[[]routing.WatchList]{
			Key: WatchKey,
			Validate: func(_ *desk.Config, lists []routing.WatchList) []apperr.FieldError {
				return routing.ValidateWatch(string(WatchKey), lists)
			},
			Diff: func(prev, next []routing.WatchList) []string {
				return desk.DiffFields("safety_watch", "lists", prev, next)
			},
		},
	}
}

// WatchOf returns the desk's safety watch compiled, once per Config (nil:
// no lists).
func WatchOf(c *desk.Config) *routing.Watch {
	return desk.Memo(c, WatchKey, routing.CompileWatch)
}

// WeightsOf returns the desk's priority weights (as written: see
// routing.Weights.Effective for the defaults merged in).
func WeightsOf(c *desk.Config) routing.Weights { return desk.Get(c, WeightsKey) }

// RulesOf returns the desk's routing rules as written.
func RulesOf(c *desk.Config) []routing.Rule { return desk.Get(c, RulesKey) }

// RulesetOf returns the desk's routing rules compiled, once per Config;
// nil when they do not compile, which a validated desk rules out.
func RulesetOf(c *desk.Config) *routing.Ruleset {
	return desk.Memo(c, RulesKey, func(rules []routing.Rule) *routing.Ruleset {
		rs, err := routing.Compile(rules)
		if err != nil {
			return nil
		}
		return rs
	})
}

// RefsOf returns the names of doc that rules and weights may refer to.
// Users are checked only in a document that has them (a stored one has
// none: they were checked when it was applied).
func RefsOf(doc *desk.Config) routing.Refs {
	markets := map[string]bool{}
	for _, m := range doc.Markets {
		markets[m.Code] = true
	}
	teams := map[string]bool{}
	for _, t := range doc.Teams {
		teams[t.Key] = true
	}
	calendars := map[string]bool{}
	for _, c := range doc.Calendars {
		calendars[c.Key] = true
	}
	policies := map[string]bool{}
	for _, p := range doc.SLAPolicies {
		policies[p.Name] = true
	}
	categories, groups, money := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, c := range doc.Categories {
		categories[c.Key] = true
		groups[c.Group()] = true
		for _, f := range c.Fields {
			if f.Type == desk.FieldMoney {
				money[f.Key] = true
			}
		}
	}
	refs := routing.Refs{
		Market:     func(m string) bool { return markets[m] },
		Team:       func(t string) bool { return teams[t] },
		Category:   func(k string) bool { return categories[k] },
		Group:      func(g string) bool { return groups[g] },
		Calendar:   func(k string) bool { return calendars[k] },
		SLAPolicy:  func(n string) bool { return policies[n] },
		MoneyField: func(k string) bool { return money[k] },
	}
	if len(doc.Users) > 0 {
		refs.User = func(e string) bool { _, ok := doc.User(e); return ok }
	}
	return refs
}

// diffRules describes rules added, removed and changed, and a new order
// (rules run in it).
func diffRules(prev, next []routing.Rule) []string {
	out := desk.DiffList("routing rule", prev, next,
		func(r routing.Rule) string { return r.Name },
		func(a, b routing.Rule) []string { return desk.DiffFields("routing rule "+a.Name, "definition", a, b) })
	names := func(rs []routing.Rule) []string {
		var n []string
		for _, r := range rs {
			n = append(n, r.Name)
		}
		return n
	}
	if a, b := names(prev), names(next); !slices.Equal(a, b) && slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))) {
		out = append(out, "routing rules reordered")
	}
	return out
}
