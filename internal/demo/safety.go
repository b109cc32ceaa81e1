package demo

import (
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/routing"
	"github.com/flare-desk/flare/internal/routing/routingdesk"
)

// safetyWatch is the demo desk's safety watch: the safety and integrity
// terms of its markets' languages, with their inflections ("*" is a
// prefix). Words that are also everyday words in another language of the
// desk are left out or written as phrases: Dutch and German "brand" is
// English "brand", French "feu" is also a traffic light. The lists where
// users often type without accents match without them (Polish "pozar"
// is "pożar").
var safetyWatch = []routing.WatchList{
	{Language: "en", Terms: []string{"fire", "fires", "caught fire", "on fire", "burn*", "burnt", "scorch*", "smoke",
		"explod*", "explosion*", "electric shock*", "electrocut*", "injur*", "choking", "choked", "choke hazard",
		"poison*", "allergic reaction*", "anaphyla*", "recall*", "counterfeit*", "overheat*", "melted", "sparks"}},
	{Language: "de", AccentInsensitive: true, Terms: []string{"Feuer", "in Brand", "brannte", "verbrannt*", "Verbrennung*",
		"Rauch", "qualm*", "explodiert*", "Explosion*", "Stromschlag*", "elektrischer Schlag", "verletzt*", "Verletzung*",
		"erstickt*", "verschluckt*", "vergiftet*", "Vergiftung*", "allergische Reaktion*", "Rückruf*", "Rueckruf*",
		"gefälscht*", "Fälschung*", "überhitzt*", "geschmolzen"}},
	{Language: "fr", AccentInsensitive: true, Terms: []string{"incendie*", "pris feu", "en feu", "brûlé*", "brûlure*",
		"fumée*", "explosé*", "explosion*", "choc électrique", "électrocut*", "blessé*", "blessure*", "étouff*",
		"empoisonn*", "intoxication*", "réaction allergique", "rappel de produit*", "rappel produit*", "contrefaç*",
		"contrefait*", "surchauff*", "fondu"}},
	{Language: "it", AccentInsensitive: true, Terms: []string{"fuoco", "incendi*", "preso fuoco", "bruciat*", "ustion*",
		"fumo", "esplos*", "esploso", "scossa elettrica", "folgorat*", "ferit*", "lesion*", "soffoc*", "avvelen*",
		"intossicazion*", "reazione allergica", "richiamo del prodotto", "richiamo prodotto", "contraffatt*",
		"surriscald*", "fuso"}},
	{Language: "es", AccentInsensitive: true, Terms: []string{"fuego", "incendi*", "se incendió", "quemad*", "quemó",
		"humo", "explot*", "explosión*", "descarga eléctrica", "electrocut*", "herid*", "lesión*", "lesiones",
		"asfixi*", "atragant*", "envenen*", "intoxicación*", "reacción alérgica", "retirada del producto",
		"falsificad*", "falsificación*", "sobrecalent*", "derretid*"}},
	{Language: "nl", AccentInsensitive: true, Terms: []string{"in brand", "vlam gevat", "verbrand*", "brandwond*", "rook",
		"ontplof*", "explosie*", "elektrische schok", "geëlektrocuteerd", "gewond", "letsel", "verstikk*",
		"vergiftig*", "allergische reactie*", "teruggeroepen", "terugroepactie*", "namaak", "vervalst*", "oververhit*",
		"gesmolten"}},
	{Language: "pl", AccentInsensitive: true, Terms: []string{"ogień", "pożar*", "zapalił się", "zapaliła się",
		"zapaliło się", "poparzen*", "oparzen*", "poparzył*", "dym", "dymi*", "wybuch*", "eksplod*", "porażenie prądem",
		"poraził*", "zranion*", "obrażen*", "uraz*", "zadławi*", "udławi*", "zatruci*", "zatrut*", "reakcja alergiczna",
		"reakcję alergiczną", "wycofan*", "podróbk*", "podrobion*", "przegrz*", "stopił*"}},
}

// safetyRule sends what the watch finds to Trust & Safety, high risk and
// told at once. It is the last rule, so the team it sets is the one kept.
var safetyRule = routing.Rule{Name: "Safety watch: Trust & Safety takes it",
	When: routing.Conditions{SafetyTerm: routing.True},
	Then: routing.Actions{Team: "trust_safety", HighRisk: true, Notify: []string{"trust_safety"}}}

// setSafetyWatch adds the watch lists to the demo desk.
func setSafetyWatch(cfg *desk.Config) { desk.Set(cfg, routingdesk.WatchKey, safetyWatch) }
