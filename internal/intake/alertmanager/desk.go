package alertmanager

import (
	"fmt"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/input"
	"github.com/flare-desk/flare/internal/intake/webhook"
)

// EndpointsKey is the Alertmanager endpoints' section of the desk document:
//
//	intake_alertmanager:
//	  - key: production                     # POST /api/v1/intake/alertmanager/production
//	    name: Production Alertmanager
//	    auth: {type: bearer, secret_env: FLARE_INTAKE_ALERTMANAGER_TOKEN}   # or basic with username
//	    category: payments/payout_failed    # the cases' category and market, unless a label names them
//	    market: GB
//	    labels: {market: market, category: flare_category, seller_id: seller}   # labels that name case fields
//	    high_risk: {label: severity, values: [critical]}   # alerts that make the case high risk
//	    resolve_case: true                  # a resolved group resolves its case
//	    resolution: fixed                   # with resolve_case: the resolution code (default fixed)
//	    incidents: [{name: checkout-down, match: {severity: critical}, type: service, severity: SEV1}]   # incidents.go
const EndpointsKey desk.Key[[]Endpoint] = "intake_alertmanager"

// Endpoint is one Alertmanager webhook receiver's endpoint.
type Endpoint struct {
	Key         string       `yaml:"key" json:"key"`
	Name        string       `yaml:"name,omitempty" json:"name,omitempty"`
	Auth        webhook.Auth `yaml:"auth" json:"auth"`
	Category    string       `yaml:"category" json:"category"`
	Market      string       `yaml:"market" json:"market"`
	Labels      Labels       `yaml:"labels,omitempty" json:"labels,omitzero"`
	HighRisk    HighRisk     `yaml:"high_risk,omitempty" json:"high_risk,omitzero"`
	ResolveCase bool         `yaml:"resolve_case,omitempty" json:"resolve_case,omitempty"`
	Resolution  string       `yaml:"resolution,omitempty" json:"resolution,omitempty"`
	MaxBody     int64        `yaml:"max_body,omitempty" json:"max_body,omitempty"`
	// Incidents are the rules that declare an incident when a group fires (incidents.go).
	Incidents []DeclareRule `yaml:"incidents,omitempty" json:"incidents,omitempty"`
}

// Labels name the alert labels (common to the group) that set case fields.
type Labels struct {
	Market   string `yaml:"market,omitempty" json:"market,omitempty"`
	Category string `yaml:"category,omitempty" json:"category,omitempty"`
	SellerID string `yaml:"seller_id,omitempty" json:"seller_id,omitempty"`
}

// HighRisk marks a group's case high risk when an alert's label has one of the values.
type HighRisk struct {
	Label  string   `yaml:"label,omitempty" json:"label,omitempty"`
	Values []string `yaml:"values,omitempty" json:"values,omitempty"`
}

// DefaultResolution is the resolution code of a case a resolved group resolves.
const DefaultResolution = "fixed"

// DefaultMaxBody bounds a notification (a group of a thousand alerts fits).
const DefaultMaxBody = 1 << 20

func (e Endpoint) resolution() string {
	if e.Resolution != "" {
		return e.Resolution
	}
	return DefaultResolution
}

func (e Endpoint) maxBody() int64 {
	if e.MaxBody > 0 {
		return e.MaxBody
	}
	return DefaultMaxBody
}

// Sections is the Alertmanager endpoints' part of the desk document.
func Sections() []desk.Section {
	return []desk.Section{desk.SectionOf[[]Endpoint]{
		Key:      EndpointsKey,
		Validate: validate,
		Canonical: func(es []Endpoint) []Endpoint {
			out := make([]Endpoint, len(es))
			for i, e := range es {
				e.Key, e.Market, e.Auth = strings.ToLower(e.Key), strings.ToUpper(e.Market), e.Auth.Canonical()
				out[i] = e
			}
			return out
		},
		Diff: func(prev, next []Endpoint) []string {
			return desk.DiffList("alertmanager endpoint", prev, next, func(e Endpoint) string { return e.Key },
				func(a, b Endpoint) []string {
					return desk.DiffFields("alertmanager endpoint "+b.Key, "name", a.Name, b.Name, "auth", a.Auth, b.Auth,
						"category", a.Category, b.Category, "market", a.Market, b.Market, "labels", a.Labels, b.Labels,
						"high_risk", a.HighRisk, b.HighRisk, "resolve_case", a.ResolveCase, b.ResolveCase,
						"resolution", a.Resolution, b.Resolution, "max_body", a.MaxBody, b.MaxBody, "incidents", a.Incidents, b.Incidents)
				})
		},
	}}
}

func validate(doc *desk.Config, es []Endpoint) []apperr.FieldError {
	v := &apperr.Invalid{}
	seen := map[string]bool{}
	for i, e := range es {
		p := fmt.Sprintf("%s[%d]", EndpointsKey, i)
		key := strings.ToLower(e.Key)
		switch {
		case !webhook.KeyRe.MatchString(key):
			v.Add(p+".key", "must be 1–64 lower-case letters, digits, - and _ (the path /api/v1/intake/alertmanager/<key>)")
		case seen[key]:
			v.Add(p+".key", "%q is used twice", e.Key)
		}
		seen[key] = true
		input.Check(v, p+".name", input.Name, e.Name)
		webhook.ValidateAuth(v, p+".auth", e.Auth, webhook.AuthBearer, webhook.AuthBasic)
		if e.Category == "" {
			v.Add(p+".category", "is required: the category of the cases (a label may name another)")
		}
		if e.Market == "" {
			v.Add(p+".market", "is required: the market of the cases (a label may name another)")
		}
		webhook.ValidateDefaults(v, p, doc, e.Category, e.Market)
		for field, l := range map[string]string{"market": e.Labels.Market, "category": e.Labels.Category, "seller_id": e.Labels.SellerID, "label": e.HighRisk.Label} {
			path := p + ".labels." + field
			if field == "label" {
				path = p + ".high_risk.label"
			}
			if l != "" && !labelRe.MatchString(l) {
				v.Add(path, "must be a Prometheus label name")
			}
		}
		if len(e.HighRisk.Values) > 0 && e.HighRisk.Label == "" {
			v.Add(p+".high_risk.label", "is required with values")
		}
		if e.Resolution != "" && !e.ResolveCase {
			v.Add(p+".resolution", "is only used with resolve_case: true")
		}
		if e.ResolveCase && len(doc.Resolutions) > 0 && !doc.HasResolution(e.resolution()) {
			v.Add(p+".resolution", "unknown resolution %q; one of %s", e.resolution(), strings.Join(doc.Resolutions, ", "))
		}
		if e.MaxBody < 0 || e.MaxBody > webhook.MaxMaxBody {
			v.Add(p+".max_body", "must be at most %d bytes", webhook.MaxMaxBody)
		}
		validateRules(v, p, e.Incidents)
	}
	return v.Errors
}

// Find returns the endpoint key of cfg.
func Find(cfg *desk.Config, key string) (Endpoint, bool) {
	for _, e := range desk.Get(cfg, EndpointsKey) {
		if e.Key == key {
			return e, true
		}
	}
	return Endpoint{}, false
}
