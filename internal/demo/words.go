package demo

// Word lists and text templates for the demo desk. Templates use
// {placeholders} filled by the generator: {seller} {order} {tracking}
// {carrier} {amount} {listing} {brand} {market} {days} {policy} {action}
// {country} {accounts} {tool} {requester} {date}.

type nameWords struct {
	first, join, goods, prefix, suffix []string
}

var sellerWords = map[string]nameWords{
	"GB": {
		first:  []string{"Thistle", "Harbour", "Oakfield", "Kingfisher", "Bramble", "Wren", "Cotswold", "Hawthorn", "Pennine", "Beacon", "Willow", "Ashby"},
		join:   []string{" & ", " "},
		goods:  []string{"Home", "Outdoor", "Tech", "Pets", "Crafts", "Tea Co.", "Living", "Cycles", "Kitchenware", "Beauty"},
		prefix: []string{"The", "Great British", "Simply", "Northern"},
		suffix: []string{"Ltd", "Ltd", "Limited", "& Co. Ltd", "Trading Ltd"},
	},
	"IE": {
		first:  []string{"Shamrock", "Liffey", "Connemara", "Wicklow", "Atlantic", "Claddagh", "Burren", "Emerald"},
		join:   []string{" "},
		goods:  []string{"Woollens", "Home", "Gifts", "Electronics", "Outdoor", "Candles"},
		prefix: []string{"The", "Irish", "West Coast"},
		suffix: []string{"Ltd", "DAC", "Teoranta"},
	},
	"DE": {
		first:  []string{"Nordlicht", "Bergwerk", "Sonnenhof", "Waldhaus", "Alpenglück", "Elbstrand", "Rheinblick", "Schwarzwald", "Hansa", "Lindenbaum", "Fuchsbau", "Isartal"},
		join:   []string{" ", "-"},
		goods:  []string{"Home", "Küchenwelt", "Mode", "Technik", "Spielwaren", "Werkzeuge", "Naturkosmetik", "Möbel", "Fahrradteile", "Gartenbedarf"},
		prefix: []string{"Gebrüder", "Manufaktur", "Handelshaus", "Kaufhaus"},
		suffix: []string{"GmbH", "GmbH", "GmbH & Co. KG", "e.K.", "UG (haftungsbeschränkt)"},
	},
	"FR": {
		first:  []string{"Lumière", "Provence", "Belle Époque", "Côte d'Azur", "Montmartre", "Bretagne", "Lavande", "Savoie", "Étoile", "Rivage"},
		join:   []string{" ", " & "},
		goods:  []string{"Maison", "Mode", "Cosmétiques", "Cuisine", "Jouets", "Déco", "Épicerie Fine", "Bijoux"},
		prefix: []string{"Maison", "Atelier", "Comptoir", "Les Ateliers"},
		suffix: []string{"SARL", "SAS", "SAS", "EURL"},
	},
	"IT": {
		first:  []string{"Toscana", "Bella Vita", "Dolomiti", "Amalfi", "Vesuvio", "Laguna", "Sole", "Riviera", "Monteverde", "Aurora"},
		join:   []string{" ", " & "},
		goods:  []string{"Casa", "Moda", "Pelletteria", "Cucina", "Elettronica", "Giocattoli", "Ceramiche", "Profumi"},
		prefix: []string{"Bottega", "Officina", "Emporio", "Fratelli"},
		suffix: []string{"S.r.l.", "S.r.l.", "S.p.A.", "S.n.c."},
	},
	"ES": {
		first:  []string{"Sol", "Andalucía", "Mediterráneo", "Sierra", "Olivar", "Castilla", "Brisa", "Alhambra", "Costa", "Mirador"},
		join:   []string{" ", " y "},
		goods:  []string{"Hogar", "Moda", "Cerámica", "Electrónica", "Cosmética", "Juguetes", "Deportes", "Gourmet"},
		prefix: []string{"Casa", "Almacenes", "Taller", "Hermanos"},
		suffix: []string{"S.L.", "S.L.", "S.A.", "S.L.U."},
	},
	"NL": {
		first:  []string{"Tulp", "Molen", "Grachten", "Duinzicht", "Polder", "Oranje", "Zeewind", "Delfts", "Hollands", "Kaasmarkt"},
		join:   []string{"", " "},
		goods:  []string{"huis", "Wonen", "Fietsen", "Mode", "Elektronica", "Speelgoed", "Tuin", "Keuken"},
		prefix: []string{"De", "Het", "Van der"},
		suffix: []string{"B.V.", "B.V.", "V.O.F."},
	},
	"PL": {
		first:  []string{"Bursztyn", "Wisła", "Tatry", "Mazury", "Kraków", "Orzeł", "Słoneczko", "Bałtyk", "Jantar", "Zielony Las"},
		join:   []string{" "},
		goods:  []string{"Dom", "Moda", "Elektronika", "Zabawki", "Meble", "Kosmetyki", "Ogród", "Sport"},
		prefix: []string{"Sklep", "Hurtownia", "Pracownia", "Dom Handlowy"},
		suffix: []string{"Sp. z o.o.", "Sp. z o.o.", "S.A.", "s.c."},
	},
	"BE": {
		first:  []string{"Brabant", "Ardennes", "Schelde", "Gent", "Atomium", "Praline", "Meuse", "Vlaanderen"},
		join:   []string{" ", " & "},
		goods:  []string{"Chocolatier", "Wonen", "Maison", "Fietsen", "Mode", "Bieren", "Design"},
		prefix: []string{"Maison", "Huis", "Atelier"},
		suffix: []string{"BV", "SRL", "NV", "SA"},
	},
	"US": {
		first:  []string{"Redwood", "Lone Star", "Blue Ridge", "Golden Gate", "Prairie", "Liberty", "Cascade", "Sierra", "Maple Street", "Hudson", "Desert Bloom", "Bayou"},
		join:   []string{" ", " & "},
		goods:  []string{"Outfitters", "Home Goods", "Electronics", "Supply Co.", "Apparel", "Pet Supply", "Kitchen", "Toys", "Wellness", "Auto Parts"},
		prefix: []string{"American", "The", "All-State", "Pacific"},
		suffix: []string{"LLC", "LLC", "Inc.", "Co."},
	},
}

// people names for requesters (seller contacts), by market.
var firstNames = map[string][]string{
	"GB": {"Oliver", "Amelia", "Harry", "Isla", "George", "Sophie", "Jack", "Emily", "Mohammed", "Chloe", "Thomas", "Grace"},
	"IE": {"Seán", "Niamh", "Conor", "Siobhán", "Cian", "Ciara", "Darragh", "Orla"},
	"DE": {"Katrin", "Tobias", "Julia", "Maximilian", "Stefanie", "Florian", "Lena", "Jan", "Sabine", "Matthias", "Anja", "Felix"},
	"FR": {"Camille", "Julien", "Léa", "Nicolas", "Manon", "Antoine", "Chloé", "Mathieu", "Élodie", "Thomas"},
	"IT": {"Giulia", "Marco", "Francesca", "Alessandro", "Chiara", "Luca", "Sara", "Matteo", "Elena", "Davide"},
	"ES": {"Lucía", "Alejandro", "María", "Pablo", "Carmen", "Javier", "Elena", "Sergio", "Marta", "Diego"},
	"NL": {"Daan", "Sanne", "Lars", "Fleur", "Bram", "Eva", "Thijs", "Lotte", "Jeroen", "Anouk"},
	"PL": {"Katarzyna", "Piotr", "Agnieszka", "Tomasz", "Magdalena", "Krzysztof", "Joanna", "Michał", "Ewa", "Paweł"},
	"BE": {"Lotte", "Arthur", "Elise", "Louis", "Marie", "Wout", "Camille", "Jonas"},
	"US": {"Emily", "Michael", "Jessica", "Christopher", "Ashley", "Matthew", "Sarah", "Joshua", "Brittany", "Tyler", "Maria", "Jamal"},
}

var lastNames = map[string][]string{
	"GB": {"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Patel", "Hughes", "Khan", "Walker", "Clarke"},
	"IE": {"Murphy", "Kelly", "O'Sullivan", "Walsh", "Byrne", "Ryan", "O'Brien", "Doyle"},
	"DE": {"Müller", "Schmidt", "Schneider", "Fischer", "Meyer", "Wagner", "Becker", "Hoffmann", "Schulz", "Koch", "Richter", "Wolf"},
	"FR": {"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Leroy", "Moreau", "Lefèvre"},
	"IT": {"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco"},
	"ES": {"García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz"},
	"NL": {"de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder"},
	"PL": {"Nowak", "Kowalski", "Wiśniewska", "Wójcik", "Kamińska", "Lewandowski", "Zielińska", "Szymański", "Woźniak", "Dąbrowski"},
	"BE": {"Peeters", "Janssens", "Maes", "Jacobs", "Dubois", "Lambert", "Claes", "Wouters"},
	"US": {"Johnson", "Williams", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Anderson", "Thompson", "Nguyen", "Robinson", "Lee"},
}

// contactBoxes are mailbox names seller contacts write from.
var contactBoxes = []string{"support", "ops", "info", "accounts", "logistics", "finance", "hello"}

// Requesters outside the seller base, by channel.
var (
	leadershipRequesters = []struct{ Name, Email string }{
		{"Office of the COO", "coo-office@" + EmailDomain},
		{"VP Seller Experience", "vp-seller-experience@" + EmailDomain},
		{"Head of EMEA Operations", "emea-ops-head@" + EmailDomain},
		{"Director, US Marketplace", "us-marketplace-director@" + EmailDomain},
	}
	externalRequesters = map[string][]struct{ Name, Email string }{
		"GB": {{"Trading Standards", "enquiries@tradingstandards.example"}, {"Brand Protection — Anglia Legal LLP", "brands@anglialegal.example"}},
		"IE": {{"CCPC Ireland", "info@ccpc.example"}},
		"DE": {{"Verbraucherzentrale", "kontakt@verbraucherzentrale.example"}, {"Markenschutz Kanzlei Hoffmann", "marken@kanzlei-hoffmann.example"}},
		"FR": {{"DGCCRF", "contact@dgccrf.example"}, {"Cabinet Lefèvre Avocats", "pi@cabinet-lefevre.example"}},
		"IT": {{"AGCM", "protocollo@agcm.example"}, {"Studio Legale Ricci", "marchi@studioricci.example"}},
		"ES": {{"Consumo — Dirección General", "consumo@consumo.example"}},
		"NL": {{"ACM ConsuWijzer", "info@acm.example"}, {"NVWA", "meldingen@nvwa.example"}},
		"PL": {{"UOKiK", "uokik@uokik.example"}},
		"BE": {{"FOD Economie", "info@economie.example"}},
		"US": {{"CPSC Compliance", "compliance@cpsc.example"}, {"Brand Integrity Partners LLC", "takedowns@brandintegrity.example"}},
	}
	alertSources = map[string]struct{ Name, Email string }{
		"logistics":    {"Carrier scan monitor", "alerts+carrier-scans@" + EmailDomain},
		"payments":     {"Payout reconciliation", "alerts+payouts@" + EmailDomain},
		"trust_safety": {"Risk engine", "alerts+risk@" + EmailDomain},
		"safety":       {"Product safety feed", "alerts+safety@" + EmailDomain},
		"governance":   {"Listing policy scanner", "alerts+listings@" + EmailDomain},
	}
	socialHandles = []string{"@angry_shopper_92", "@mumof3buys", "@techdealz", "@consumer_watch", "@parcelpatrol", "@deal_hunter_eu", "@shopsafe_now", "@honest_reviews"}
)

// Brands for counterfeit and IP complaints.
var brands = []string{"Lumina Audio", "Nordkap Outdoor", "Velora Beauty", "Stride Athletics", "Kiko Toys", "Atelier Noir", "Vantage Watches", "Cascade Kitchen"}

var loginCountries = []string{"RU", "NG", "VN", "BR", "CN", "RO", "ID", "UA"}

// template is a category's title and description in one language.
type template struct {
	titles []string
	desc   []string
}

// enTemplates are the English texts, by category.
var enTemplates = map[string]template{
	"governance/account_suspension": {
		titles: []string{"Account suspended without warning — {seller}", "Suspension of {seller} under {policy} policy", "Urgent: {seller} account deactivated, orders blocked", "Appeal of account suspension for {seller}"},
		desc: []string{"{seller} was suspended on {date} citing the {policy} policy. The seller says they received no prior warning and has {orders} open orders that cannot be fulfilled. They have submitted a plan of action and are asking for a review.",
			"Our automated enforcement suspended {seller} ({action}). The seller disputes the finding and provided invoices from their supplier. Please review the evidence and confirm whether reinstatement is possible."},
	},
	"governance/listing_removal": {
		titles: []string{"Listing {listing} removed for {policy}", "Bulk listing removal affecting {seller}", "Why was listing {listing} taken down?"},
		desc: []string{"{seller} reports that listing {listing} was removed under the {policy} policy. They believe this is a false positive: the product is compliant and has been sold for two years without issue.",
			"About 40 listings of {seller} were removed overnight by the policy scanner. Seller asks which listings are affected and what they need to change."},
	},
	"governance/policy_appeal": {
		titles: []string{"Policy appeal: {seller} ({policy})", "Seller appeal against {action}", "Second appeal from {seller} — decision needed"},
		desc: []string{"{seller} is appealing the {action} applied under {policy}. The appeal includes a root-cause analysis and preventive measures. Appeal deadline is {date}.",
			"Seller disagrees with the enforcement decision and asks for a human review. Attached: supplier invoices, photos and a corrective action plan."},
	},
	"governance/prohibited_item": {
		titles: []string{"Prohibited item listed: {listing}", "Report of restricted product sold by {seller}", "Prohibited items in {seller} catalogue"},
		desc: []string{"A buyer reported listing {listing} from {seller} as a prohibited item under our {policy} policy. Please review and take the appropriate action.",
			"Policy scanner flagged several listings from {seller} containing restricted products. Needs manual review before enforcement."},
	},
	"governance/ip_complaint": {
		titles: []string{"IP complaint from {brand} against {seller}", "Trademark infringement notice — {brand}", "Rights owner {brand} requests takedown of {listing}"},
		desc: []string{"{brand} has filed a notice claiming listing {listing} from {seller} infringes their registered trademark. They request removal within 48 hours.",
			"Counter-notice received from {seller} regarding the {brand} IP complaint. Seller claims they are an authorised reseller and attached the distribution agreement."},
	},
	"logistics/lost_parcel": {
		titles: []string{"Parcel lost in transit — order {order}", "{carrier} shows delivered but buyer has nothing ({order})", "No tracking updates for {days} days on {tracking}", "Lost parcel claim for order {order}"},
		desc: []string{"Order {order} shipped with {carrier} (tracking {tracking}) has had no scan for {days} days. The buyer is asking for a refund and {seller} wants to know who bears the loss.",
			"{carrier} tracking {tracking} says delivered, but the buyer insists nothing arrived. {seller} asks us to open a trace with the carrier before refunding."},
	},
	"logistics/delayed_delivery": {
		titles: []string{"Delivery delayed for order {order}", "{carrier} delays — {seller} orders stuck", "Order {order} past promised date", "Multiple late deliveries via {carrier}"},
		desc: []string{"Order {order} was promised for {date} but is still in transit with {carrier} ({tracking}). The buyer has contacted the seller three times. {seller} is worried about their late shipment rate.",
			"{seller} reports that most of their {carrier} shipments from the last days are delayed. They ask whether late deliveries will count against their performance metrics."},
	},
	"logistics/damaged_item": {
		titles: []string{"Item arrived damaged — order {order}", "Damaged parcel from {carrier}, buyer wants replacement", "Breakage in transit for {seller}"},
		desc: []string{"The buyer of order {order} received the item broken; photos show the outer box crushed. Shipped via {carrier}, tracking {tracking}. {seller} asks whether to file a carrier claim or refund directly.",
			"Repeated damage reports on {seller}'s glassware orders. Last case: order {order} via {carrier}."},
	},
	"logistics/carrier_dispute": {
		titles: []string{"Carrier claim rejected by {carrier}", "Dispute with {carrier} over lost consignment", "{carrier} refuses liability for {tracking}"},
		desc: []string{"{carrier} rejected the claim for consignment {tracking}, saying the packaging was insufficient. {seller} disputes this and asks us to escalate with our carrier account manager. Claim value {amount}.",
			"We have a growing number of open claims with {carrier} for {seller}. Need someone in logistics to chase the carrier."},
	},
	"logistics/returns_stuck": {
		titles: []string{"Return for order {order} stuck in transit", "Buyer return not received by {seller}", "Return label not working — {order}"},
		desc: []string{"Buyer returned order {order} via {carrier} ({tracking}) {days} days ago; the parcel is stuck at the depot. The refund is on hold until the return arrives.",
			"The prepaid return label for order {order} is rejected by {carrier}. The buyer cannot send the item back."},
	},
	"payments/funds_held": {
		titles: []string{"Funds held: {amount} for {seller}", "Seller balance frozen — {seller}", "Payout reserve of {amount} — please review"},
		desc: []string{"{seller} has {amount} on hold since {date} following a risk review. The seller needs the funds to pay suppliers and asks what documents are missing.",
			"A reserve of {amount} was applied to {seller} after a spike in disputes. Seller asks for the reserve to be reduced."},
	},
	"payments/payout_delayed": {
		titles: []string{"Payout delayed for {seller}", "Missing payout of {amount}", "Payout not received since {date}"},
		desc: []string{"{seller} did not receive the payout expected on {date} ({amount}). Their bank confirms nothing arrived. Please check the disbursement status.",
			"Several sellers in {market} report late payouts this week; {seller} is one of them, {amount} outstanding."},
	},
	"payments/chargeback": {
		titles: []string{"Chargeback on order {order}", "Chargeback dispute — {amount}", "Seller contests chargeback for {order}"},
		desc: []string{"The buyer's bank raised a chargeback of {amount} on order {order} (reason: item not received). {seller} has proof of delivery and wants to represent.",
			"{seller} has had several chargebacks this month and fears a reserve. This one is for order {order}, {amount}."},
	},
	"payments/refund_failed": {
		titles: []string{"Refund failed for order {order}", "Buyer refund of {amount} bounced", "Refund stuck in processing — {order}"},
		desc: []string{"A refund of {amount} for order {order} failed with 'card expired'. The buyer is chasing {seller}, who cannot trigger it again from Seller Hub.",
			"Refund for order {order} shows as processed but the buyer says nothing arrived after 10 days."},
	},
	"safety/product_safety": {
		titles: []string{"Product safety report: {listing}", "Buyer injured by product from {seller}", "Recall notice affecting {listing}", "Overheating charger sold by {seller}"},
		desc: []string{"A buyer reports that the product in listing {listing} overheated and caused a small fire. Injury reported: {injury}. Listing needs immediate review and possibly removal of all similar listings.",
			"Regulator recall notice received for a product matching listing {listing} from {seller}. We need to identify all buyers and notify them."},
	},
	"safety/dangerous_goods": {
		titles: []string{"Dangerous goods shipped without declaration", "Undeclared {hazard} — {seller}", "Hazmat listing needs review: {listing}"},
		desc: []string{"{carrier} flagged a parcel from {seller} containing undeclared dangerous goods ({hazard}). The shipment has been stopped at the hub.",
			"Listing {listing} offers products containing {hazard} shipped by standard post. Needs a dangerous-goods review."},
	},
	"safety/counterfeit": {
		titles: []string{"Counterfeit {brand} products from {seller}", "Fake {brand} items reported by buyers", "Suspected counterfeit: {listing}"},
		desc: []string{"Several buyers report that {brand} products bought from {seller} are fake: wrong packaging, no serial numbers. Test purchase recommended.",
			"{brand} brand protection team reports listing {listing} as counterfeit and shared comparison photos."},
	},
	"seller_support/onboarding": {
		titles: []string{"Onboarding blocked for {seller}", "Verification documents rejected", "New seller cannot list products", "KYC check stuck for {seller}"},
		desc: []string{"{seller} submitted their company documents twice and verification still fails. They are launching next week and need help.",
			"New seller cannot create listings: Seller Hub shows 'account under review' for {days} days."},
	},
	"seller_support/fee_dispute": {
		titles: []string{"Fee dispute — {amount} charged twice", "Incorrect referral fees for {seller}", "Unexpected storage fees on invoice"},
		desc: []string{"{seller} was charged {amount} in referral fees for orders that were cancelled. They ask for a credit note.",
			"The monthly invoice for {seller} includes long-term storage fees for stock they say was removed in time."},
	},
	"seller_support/tooling": {
		titles: []string{"Bulk upload failing for {seller}", "Listings API returns 500 errors", "Shipping labels not generating", "Seller Hub reports empty since update"},
		desc: []string{"{seller} cannot use {tool}: every attempt fails with an internal error since yesterday. They have {orders} orders waiting.",
			"The {tool} integration of {seller} stopped syncing stock; they oversold a dozen items."},
	},
	"account_management/key_account": {
		titles: []string{"Key account request: {seller} peak planning", "Escalation for key account {seller}", "{seller} requests dedicated support for launch"},
		desc: []string{"{seller} (key account) is preparing a major promotion and needs capacity commitments from logistics and a contact for the event days.",
			"Key account {seller} is unhappy with response times on their last three cases and asks for a review call."},
	},
	"account_management/contract_query": {
		titles: []string{"Contract query from {seller}", "Question about commission terms — {seller}", "Contract renewal terms unclear"},
		desc: []string{"{seller} asks how the new commission tiers apply to their contract ({contract}) from next quarter.",
			"Seller wants to confirm the exclusivity clause in contract {contract} before launching in another marketplace."},
	},
	"trust_safety/fraud_ring": {
		titles: []string{"Suspected fraud ring: {accounts} linked accounts", "Coordinated fake seller accounts in {market}", "Fraud ring using stolen cards"},
		desc: []string{"Risk engine linked {accounts} seller accounts sharing bank details and device fingerprints. They list high-value electronics at deep discounts and do not ship. Restricted: do not contact the accounts.",
			"Pattern of new sellers in {market} with identical listings and addresses. Likely the same group as last month's takedown."},
	},
	"trust_safety/account_takeover": {
		titles: []string{"Account takeover: {seller}", "Bank details changed after login from {country}", "Seller locked out, payouts redirected"},
		desc: []string{"{seller} reports that their bank details were changed after a login from {country}. A payout may have been redirected. Account has been locked pending investigation.",
			"Suspicious logins from {country} on {seller}'s account followed by price changes on 200 listings."},
	},
}

// localTemplates are texts in market languages for the categories sellers
// most often write about. Other categories fall back to English.
var localTemplates = map[string]map[string]template{
	"de": {
		"logistics/lost_parcel":         {[]string{"Paket verloren – Bestellung {order}", "Sendung {tracking} seit {days} Tagen ohne Scan"}, []string{"Die Sendung zur Bestellung {order} ({carrier}, {tracking}) hat seit {days} Tagen keinen Scan mehr. Der Käufer verlangt eine Erstattung. Wer trägt den Verlust?"}},
		"logistics/delayed_delivery":    {[]string{"Lieferverzögerung bei Bestellung {order}", "{carrier}-Verspätungen – viele Bestellungen betroffen"}, []string{"Bestellung {order} sollte am {date} ankommen, ist aber immer noch bei {carrier} unterwegs. Zählt das gegen unsere Versandkennzahlen?"}},
		"logistics/damaged_item":        {[]string{"Ware beschädigt angekommen – {order}"}, []string{"Der Käufer hat die Ware zu Bestellung {order} beschädigt erhalten. Versand mit {carrier}, Sendungsnummer {tracking}. Bitte um Klärung."}},
		"logistics/returns_stuck":       {[]string{"Rücksendung hängt fest – {order}"}, []string{"Die Rücksendung zu Bestellung {order} liegt seit {days} Tagen im Depot von {carrier}."}},
		"payments/funds_held":           {[]string{"Guthaben eingefroren: {amount}", "Auszahlung gesperrt für {seller}"}, []string{"Seit dem {date} sind {amount} einbehalten. Wir brauchen das Geld für unsere Lieferanten. Welche Unterlagen fehlen?"}},
		"payments/payout_delayed":       {[]string{"Auszahlung verspätet – {amount}"}, []string{"Die für den {date} erwartete Auszahlung über {amount} ist nicht eingegangen."}},
		"governance/account_suspension": {[]string{"Konto ohne Vorwarnung gesperrt – {seller}", "Einspruch gegen Kontosperrung"}, []string{"Unser Konto wurde am {date} wegen angeblicher Verstöße gesperrt. Wir haben keine Warnung erhalten und bitten um Überprüfung."}},
		"governance/listing_removal":    {[]string{"Angebot {listing} entfernt"}, []string{"Unser Angebot {listing} wurde ohne nachvollziehbaren Grund entfernt. Das Produkt ist konform."}},
		"seller_support/fee_dispute":    {[]string{"Gebühren doppelt berechnet – {amount}"}, []string{"Uns wurden {amount} an Verkaufsgebühren für stornierte Bestellungen berechnet. Bitte um Gutschrift."}},
	},
	"fr": {
		"logistics/lost_parcel":         {[]string{"Colis perdu – commande {order}", "Aucun suivi depuis {days} jours ({tracking})"}, []string{"Le colis de la commande {order} envoyé avec {carrier} ({tracking}) n'a plus été scanné depuis {days} jours. L'acheteur demande un remboursement."}},
		"logistics/delayed_delivery":    {[]string{"Retard de livraison – commande {order}"}, []string{"La commande {order} devait arriver le {date} mais est toujours en transit chez {carrier}."}},
		"logistics/damaged_item":        {[]string{"Article arrivé endommagé – {order}"}, []string{"L'acheteur a reçu la commande {order} cassée. Envoi {carrier}, numéro de suivi {tracking}."}},
		"logistics/returns_stuck":       {[]string{"Retour bloqué – commande {order}"}, []string{"Le retour de la commande {order} est bloqué depuis {days} jours chez {carrier}."}},
		"payments/funds_held":           {[]string{"Fonds bloqués : {amount}"}, []string{"{amount} sont bloqués depuis le {date}. Nous avons besoin de ces fonds pour payer nos fournisseurs."}},
		"payments/payout_delayed":       {[]string{"Virement en retard – {amount}"}, []string{"Le virement prévu le {date} ({amount}) n'est pas arrivé sur notre compte."}},
		"governance/account_suspension": {[]string{"Compte suspendu sans avertissement – {seller}"}, []string{"Notre compte a été suspendu le {date} sans avertissement préalable. Nous demandons un réexamen."}},
		"governance/listing_removal":    {[]string{"Annonce {listing} supprimée"}, []string{"Notre annonce {listing} a été supprimée. Le produit est conforme à la réglementation."}},
		"seller_support/fee_dispute":    {[]string{"Frais facturés deux fois – {amount}"}, []string{"Nous avons été facturés {amount} de commissions sur des commandes annulées."}},
	},
	"it": {
		"logistics/lost_parcel":         {[]string{"Pacco smarrito – ordine {order}"}, []string{"Il pacco dell'ordine {order} spedito con {carrier} ({tracking}) non ha aggiornamenti da {days} giorni. Il cliente chiede il rimborso."}},
		"logistics/delayed_delivery":    {[]string{"Consegna in ritardo – ordine {order}"}, []string{"L'ordine {order} doveva arrivare il {date} ma è ancora in transito con {carrier}."}},
		"logistics/damaged_item":        {[]string{"Articolo arrivato danneggiato – {order}"}, []string{"Il cliente ha ricevuto l'ordine {order} danneggiato. Spedizione {carrier}, tracking {tracking}."}},
		"payments/funds_held":           {[]string{"Fondi trattenuti: {amount}"}, []string{"Dal {date} sono trattenuti {amount}. Ci servono per pagare i fornitori."}},
		"payments/payout_delayed":       {[]string{"Pagamento in ritardo – {amount}"}, []string{"Il pagamento previsto per il {date} ({amount}) non è arrivato."}},
		"governance/account_suspension": {[]string{"Account sospeso senza preavviso – {seller}"}, []string{"Il nostro account è stato sospeso il {date} senza alcun preavviso. Chiediamo una revisione."}},
		"governance/listing_removal":    {[]string{"Inserzione {listing} rimossa"}, []string{"La nostra inserzione {listing} è stata rimossa senza motivo. Il prodotto è conforme."}},
	},
	"es": {
		"logistics/lost_parcel":         {[]string{"Paquete perdido – pedido {order}"}, []string{"El paquete del pedido {order} enviado con {carrier} ({tracking}) no tiene movimientos desde hace {days} días. El comprador pide el reembolso."}},
		"logistics/delayed_delivery":    {[]string{"Entrega retrasada – pedido {order}"}, []string{"El pedido {order} debía llegar el {date} y sigue en tránsito con {carrier}."}},
		"logistics/returns_stuck":       {[]string{"Devolución bloqueada – pedido {order}"}, []string{"La devolución del pedido {order} lleva {days} días parada en {carrier}."}},
		"payments/funds_held":           {[]string{"Fondos retenidos: {amount}"}, []string{"Desde el {date} tenemos {amount} retenidos. Necesitamos el dinero para pagar a proveedores."}},
		"payments/payout_delayed":       {[]string{"Pago retrasado – {amount}"}, []string{"El pago previsto para el {date} ({amount}) no ha llegado."}},
		"governance/account_suspension": {[]string{"Cuenta suspendida sin aviso – {seller}"}, []string{"Nuestra cuenta fue suspendida el {date} sin aviso previo. Solicitamos una revisión."}},
	},
	"nl": {
		"logistics/lost_parcel":         {[]string{"Pakket kwijt – bestelling {order}"}, []string{"Het pakket van bestelling {order} ({carrier}, {tracking}) is al {days} dagen niet gescand. De koper wil zijn geld terug."}},
		"logistics/delayed_delivery":    {[]string{"Vertraagde levering – bestelling {order}"}, []string{"Bestelling {order} zou op {date} geleverd worden maar is nog onderweg bij {carrier}."}},
		"payments/funds_held":           {[]string{"Saldo geblokkeerd: {amount}"}, []string{"Sinds {date} is {amount} geblokkeerd. Welke documenten ontbreken nog?"}},
		"governance/account_suspension": {[]string{"Account zonder waarschuwing geschorst – {seller}"}, []string{"Ons account is op {date} geschorst zonder voorafgaande waarschuwing. Graag een herbeoordeling."}},
	},
	"pl": {
		"logistics/lost_parcel":         {[]string{"Zaginiona przesyłka – zamówienie {order}"}, []string{"Przesyłka do zamówienia {order} ({carrier}, {tracking}) nie ma skanu od {days} dni. Kupujący żąda zwrotu pieniędzy."}},
		"logistics/delayed_delivery":    {[]string{"Opóźniona dostawa – zamówienie {order}"}, []string{"Zamówienie {order} miało dotrzeć {date}, ale nadal jest w drodze z {carrier}."}},
		"payments/funds_held":           {[]string{"Zablokowane środki: {amount}"}, []string{"Od {date} zablokowano {amount}. Potrzebujemy tych środków, aby zapłacić dostawcom."}},
		"payments/payout_delayed":       {[]string{"Opóźniona wypłata – {amount}"}, []string{"Wypłata zaplanowana na {date} ({amount}) nie dotarła na nasze konto."}},
		"governance/account_suspension": {[]string{"Konto zawieszone bez ostrzeżenia – {seller}"}, []string{"Nasze konto zostało zawieszone {date} bez ostrzeżenia. Prosimy o ponowne rozpatrzenie."}},
	},
}

// Replies and notes. First responses exist in every case language so the
// owner can answer in the requester's language when they speak it.
var firstReplies = map[string][]string{
	"en": {"Hi {requester}, thanks for reaching out. I'm {owner} and I'll own this case until it's resolved. I'm looking into it now and will update you within one business day.",
		"Hello {requester}, I've picked this up and I'm checking with the relevant team. I'll come back to you shortly with next steps.",
		"Thanks {requester}. I've reviewed the details and opened an investigation. I'll keep you posted on progress."},
	"de": {"Hallo {requester}, vielen Dank für Ihre Nachricht. Ich bin {owner} und betreue diesen Fall bis zur Lösung. Ich melde mich spätestens morgen mit einem Update."},
	"fr": {"Bonjour {requester}, merci pour votre message. Je suis {owner} et je prends en charge ce dossier. Je reviens vers vous sous 24 heures."},
	"it": {"Buongiorno {requester}, grazie per la segnalazione. Sono {owner} e seguirò personalmente questo caso. Le darò un aggiornamento entro domani."},
	"es": {"Hola {requester}, gracias por contactarnos. Soy {owner} y me encargo de este caso. Le daré una actualización en las próximas 24 horas."},
	"nl": {"Hallo {requester}, bedankt voor uw bericht. Ik ben {owner} en ik behandel deze zaak. U hoort uiterlijk morgen van mij."},
	"pl": {"Dzień dobry {requester}, dziękujemy za wiadomość. Nazywam się {owner} i zajmę się tą sprawą. Odezwę się najpóźniej jutro."},
}

var askRequester = []string{
	"Could you please send us the invoice for the affected items and a photo of the packaging?",
	"To move forward we need proof of shipment (carrier receipt or manifest). Could you upload it to the case?",
	"Please confirm the bank account details on file are correct and send a recent bank statement header.",
	"Could you share the supplier invoices and your plan of action so we can review the appeal?",
	"Can you confirm the exact time the issue started and whether it affects all of your listings?",
}

var requesterReplied = []string{
	"Seller sent the requested documents.",
	"Requester replied with proof of shipment.",
	"Invoices and plan of action received.",
	"Seller confirmed the details; continuing the investigation.",
}

var handoffNotes = map[string][]string{
	"logistics":          {"Asked the {carrier} account team to open a trace on {tracking}.", "Waiting for the carrier hub to confirm the last scan."},
	"payments":           {"Handed to payments risk for a reserve review.", "Waiting on treasury to confirm the disbursement file."},
	"governance":         {"Sent to policy specialists for a second review of the evidence.", "Waiting for the legal team's view on the IP notice."},
	"safety":             {"Product safety team reviewing the listing cluster.", "Waiting for lab results on the test purchase."},
	"trust_safety":       {"Investigations team correlating device fingerprints.", "Waiting for the bank to confirm the recall of the payout."},
	"seller_support":     {"Raised a ticket with the Seller Hub engineering team.", "Waiting for finance to issue the credit note."},
	"account_management": {"Checking capacity with logistics and payments leads.", "Waiting for the commercial team to confirm contract terms."},
}

var internalNotes = []string{
	"Checked the seller's history: no similar cases in the last 90 days.",
	"Seller has a prior case on the same topic; linking for context.",
	"Looks like part of a wider pattern this week — keeping an eye on similar cases.",
	"Called the seller to clarify; they were cooperative.",
	"Priority confirmed after review of the order volume involved.",
	"Evidence reviewed; leaning towards upholding the decision.",
	"Flagging for the weekly review: third case like this from this market.",
}

var resolutionNotes = map[string][]string{
	"fixed":                  {"Root cause fixed and confirmed with the seller."},
	"information_provided":   {"Explained the policy and next steps to the seller; no further action needed."},
	"seller_reinstated":      {"Plan of action accepted; account reinstated with a warning."},
	"enforcement_upheld":     {"Evidence confirms the violation; enforcement upheld and explained to the seller."},
	"listing_restored":       {"False positive confirmed; listing restored."},
	"listing_removed":        {"Listing removed and seller notified of the policy."},
	"parcel_located":         {"Carrier located the parcel at the hub; delivered the next day."},
	"carrier_claim_filed":    {"Claim filed with the carrier; buyer refunded from the claim."},
	"refund_issued":          {"Refund issued to the buyer; seller informed."},
	"payout_released":        {"Payout released after reconciliation."},
	"funds_released":         {"Documents verified; held funds released."},
	"chargeback_represented": {"Represented with proof of delivery; chargeback reversed."},
	"accounts_closed":        {"Linked accounts closed and funds frozen; report sent to the payments provider."},
	"account_secured":        {"Credentials reset, 2FA enforced, bank details restored."},
	"workaround":             {"Workaround shared with the seller while engineering fixes the underlying issue."},
	"no_action_needed":       {"Reviewed; no action needed."},
	"duplicate":              {"Duplicate of an existing case; merged the details there."},
}

// reopenNotes by category group; "" holds the generic ones.
var reopenNotes = map[string][]string{
	"":               {"Requester reports the issue is back.", "Requester disputes the resolution and sent new information."},
	"logistics":      {"Buyer says the parcel still has not arrived.", "Carrier trace closed without finding the parcel."},
	"payments":       {"Payout failed again on the next cycle.", "Funds were held again after the release."},
	"governance":     {"Seller disputes the decision and sent new evidence.", "Listings were removed again by the scanner."},
	"seller_support": {"The fix did not hold; the seller sees the same error again."},
	"safety":         {"New buyer reports for the same product."},
	"trust_safety":   {"New accounts linked to the same ring appeared."},
}

var amComments = []string{
	"Thanks — this seller is important for our Q4 plan, please keep me posted.",
	"Any update I can share with the seller? They are asking daily.",
	"The seller confirmed they sent everything requested yesterday.",
}

// resolutionsFor lists the resolutions that fit a category group.
var resolutionsFor = map[string][]string{
	"governance":         {"seller_reinstated", "enforcement_upheld", "listing_restored", "listing_removed", "information_provided"},
	"logistics":          {"parcel_located", "carrier_claim_filed", "refund_issued", "information_provided", "fixed"},
	"payments":           {"payout_released", "funds_released", "chargeback_represented", "refund_issued", "information_provided"},
	"safety":             {"listing_removed", "enforcement_upheld", "no_action_needed", "listing_restored"},
	"seller_support":     {"fixed", "workaround", "information_provided", "refund_issued"},
	"account_management": {"information_provided", "fixed", "no_action_needed"},
	"trust_safety":       {"accounts_closed", "account_secured", "enforcement_upheld", "no_action_needed"},
}
