package demo

import (
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/macros"
)

// macrosDesk gives the demo teams their saved replies and macros, in the
// markets' languages where the desk writes to requesters in them.
func macrosDesk(cfg *desk.Config) {
	desk.Set(cfg, macros.Key, []macros.Macro{
		{Key: "tracing_started", Name: "Tracing started with the carrier", Teams: []string{"logistics", "seller_support"},
			Reply: "Hi {{requester_name}},\n\nthank you for your patience. We have opened a trace with the carrier for {{case_number}} " +
				"and asked {{seller_name}} for the dispatch details. We will update you by {{due}}.",
			Translations: map[string]string{
				"de": "Hallo {{requester_name}},\n\nvielen Dank für Ihre Geduld. Wir haben für {{case_number}} einen Nachforschungsauftrag " +
					"beim Versanddienstleister gestellt und {{seller_name}} um die Versanddaten gebeten. Sie hören bis {{due}} von uns.",
				"fr": "Bonjour {{requester_name}},\n\nmerci de votre patience. Nous avons ouvert une enquête auprès du transporteur pour " +
					"{{case_number}} et demandé à {{seller_name}} les détails d'expédition. Nous revenons vers vous d'ici {{due}}.",
				"es": "Hola {{requester_name}}:\n\ngracias por su paciencia. Hemos abierto una investigación con el transportista para " +
					"{{case_number}} y pedido a {{seller_name}} los datos del envío. Le informaremos antes de {{due}}.",
			},
			Status: cases.StatusPendingRequester, AddTags: []string{"carrier_trace"}},
		{Key: "need_order_details", Name: "Ask for the order details", Teams: []string{"logistics", "payments", "seller_support"},
			Reply: "Hi {{requester_name}},\n\nto look into {{case_number}} we need the order number and, if you have it, " +
				"the tracking number. Could you reply with them?",
			Translations: map[string]string{
				"de": "Hallo {{requester_name}},\n\num {{case_number}} zu prüfen, benötigen wir die Bestellnummer und, falls vorhanden, " +
					"die Sendungsnummer. Könnten Sie uns diese schicken?",
				"nl": "Hallo {{requester_name}},\n\nom {{case_number}} te onderzoeken hebben we het ordernummer nodig en, als u die heeft, " +
					"de trackingcode. Kunt u die sturen?",
			},
			Status: cases.StatusPendingRequester, AddTags: []string{"awaiting_details"}},
		{Key: "payout_released", Name: "Payout released: resolve", Teams: []string{"payments"},
			Reply:  "Hi {{requester_name}},\n\nthe payout for {{seller_name}} has been released and should arrive within two business days. We are closing {{case_number}}; reply to reopen it.",
			Status: cases.StatusResolved, Resolution: "payout_released", Note: "Payout released after review.", AddTags: []string{"payout_released"}},
		{Key: "policy_review_note", Name: "Policy review started (internal)", Teams: []string{"governance", "trust_safety"},
			Reply:    "Policy review started for {{seller_name}} on {{case_number}}. Evidence is being collected; do not reply to the seller until the review is done.",
			Internal: true, AddTags: []string{"policy_review"}},
	})
}
