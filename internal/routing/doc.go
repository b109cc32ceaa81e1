// Package routing decides a case's priority and routing: a transparent
// priority score (Score), ordered routing rules (Compile, Ruleset.Route)
// and an explanation of both (Ruleset.Explain). It is pure: no store, no
// HTTP, no clock of its own; the caller passes the case as Facts and
// applies the Outcome.
//
// # The desk document
//
// Routing owns two sections of the desk document (Sections, registered in
// app.DeskSchema), Weights as `priority:` and []Rule as `routing_rules:`,
// validated against the document's teams, markets, categories, calendars,
// SLA policies and users; running code reads them with WeightsOf and
// RulesetOf:
//
//	priority:                        # every key optional; see Weights for how it merges with the defaults
//	  category_severity: {1: 40, 2: 25, 3: 10, 4: 0}
//	  seller_tier: {1: 25, 2: 15, 3: 5, 4: 0}
//	  channel: {leadership: 20, external: 20, social: 15}
//	  money_at_stake:                # the highest threshold reached counts; no currency conversion
//	    - {at_least: 1000, points: 10}
//	    - {at_least: 10000, points: 20}
//	  money_fields: [amount_held]    # custom fields the money at stake is read from
//	  high_risk: 30
//	  safety: 30                     # a safety category or a seller safety flag
//	  safety_categories: [safety]
//	  safety_flags: [counterfeit_reports, product_safety_history]
//	  repeat_contacts: {each: 5, max: 15}
//	  reopens: {each: 5, max: 15}
//	  sla_pressure: {warning: 10, breached: 20}
//	  thresholds: {P1: 70, P2: 45, P3: 20}   # below P3 is P4
//	  # off: [channel]               # factors that add no points
//
//	routing_rules:                   # in order; each sees what earlier ones changed
//	  - name: Regulator and press go to escalations
//	    when: {channel: [external, social]}
//	    then:
//	      team: escalations
//	      priority: {raise: 1}
//	      add_tags: [external_pressure]
//	      notify: [team, lead@flare.example]
//	  - name: Product safety is restricted
//	    when:
//	      category: [safety]                 # a group, or a key: safety/product_safety
//	      keywords: [fire, burn*, "caught fire", 火災]
//	    then: {high_risk: true, sensitivity: restricted, escalate: Safety emergency}
//	    stop: true
//	  - name: Tier-1 funds held out of hours
//	    on: [create]                         # default: create and update
//	    when:
//	      category: [payments/funds_held]
//	      seller_tier: [1]
//	      business_hours: {calendar: market, open: false}
//	    unless: {tags: [test], requester: ["@qa.flare.example"]}   # vetoes: any one stops the rule
//	    then:
//	      priority: {set: P1}
//	      assign: least_loaded
//	      sla_policy: Tier-1 sellers
//	      add_watchers: [amelia.clarke@flare.example]
//
// Conditions: category, market, language, channel, team, seller_tier,
// seller_risk_flags, requester, tags, priority, high_risk, business_hours,
// keywords, all_keywords (see Conditions). Actions: team, priority
// ({set: P2} | {raise: n} | {lower: n}), add_tags, high_risk, sensitivity
// (restricted), assign (round_robin | least_loaded | an email),
// add_watchers, sla_policy, escalate, notify (see Actions).
//
// # Evaluation
//
// On create and on every update the caller builds Facts and calls Assess
// (or Score and Route itself). Rules run in order; a fired rule's actions
// change the case the later rules see (a tag it added, its team, its
// priority, the high-risk flag); `stop: true` ends the run. Single-valued
// actions (team, assign, sla_policy, escalate) are won by the last rule
// that sets them; lists accumulate. Rules run again on update, so a rule
// that should only route new cases says `on: [create]`.
//
// # Keywords
//
// Keywords and phrases are looked for in the title and description,
// case-insensitively (Unicode simple case folding: "RÜCKERSTATTUNG"
// matches "Rückerstattung", "ZWROT" matches "zwrot"), at word boundaries
// ("refund" does not match "refunded"; "refund*" does), a phrase matching
// across any run of white space ("account suspended" matches "account
// \n  suspended"). Matching is accent-sensitive: "Rückerstattung" does
// not match "Ruckerstattung", nor "zwrot" "zwrót", because in the desk's
// languages the accent often makes another word; list both spellings when
// both are meant. In scripts written without spaces (Chinese, Japanese,
// Korean, Thai…) a keyword matches as a substring. See text.go.
package routing
