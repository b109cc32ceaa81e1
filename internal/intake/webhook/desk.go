// Package webhook is Flare's inbound webhooks: named intake endpoints
// (POST /api/v1/intake/{key}) defined in the desk document, each with its
// own secret and a mapping from the sender's JSON to a case, for social-
// media monitoring tools and other external sources. Every request goes
// through the intake core (internal/intake), de-duplicated by the
// endpoint's external id.
package webhook

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/input"
)

// EndpointsKey is the webhook endpoints' section of the desk document:
//
//	intake_webhooks:
//	  - key: social-monitor              # POST /api/v1/intake/social-monitor
//	    name: Social listening
//	    channel: social                  # the cases' channel
//	    auth: {type: hmac, secret_env: FLARE_INTAKE_SOCIAL_SECRET, header: X-Signature-256, prefix: "sha256="}
//	    external_id: "{{/id}}"           # de-duplication: the same id again is the same case
//	    map:
//	      title: "{{/author/handle}} on {{/platform}}: {{/text}}"
//	      description: "{{/text}}\n\n{{?/url}}"
//	      market: "{{?/country}}"
//	      tags: ["social", "{{/platform}}"]
//	    defaults: {category: seller_support/general, market: GB}
//	    max_body: 262144                 # bytes (default 256 KiB, at most 4 MiB)
const EndpointsKey desk.Key[[]Endpoint] = "intake_webhooks"

// Endpoint is one named intake endpoint.
type Endpoint struct {
	Key        string        `yaml:"key" json:"key"`
	Name       string        `yaml:"name,omitempty" json:"name,omitempty"`
	Channel    cases.Channel `yaml:"channel" json:"channel"`
	Auth       Auth          `yaml:"auth" json:"auth"`
	ExternalID string        `yaml:"external_id,omitempty" json:"external_id,omitempty"`
	Map        Mapping       `yaml:"map" json:"map"`
	Defaults   Defaults      `yaml:"defaults,omitempty" json:"defaults,omitzero"`
	MaxBody    int64         `yaml:"max_body,omitempty" json:"max_body,omitempty"`
}

// Body limits.
const (
	DefaultMaxBody = 256 << 10
	MaxMaxBody     = 4 << 20 // the server's limit on any request body
)

// KeyRe is what an endpoint key looks like: it is a path segment.
var KeyRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// maxBody is e's body limit.
func (e Endpoint) maxBody() int64 {
	if e.MaxBody > 0 {
		return e.MaxBody
	}
	return DefaultMaxBody
}

// Sections is the webhook endpoints' part of the desk document, for desk.NewSchema.
func Sections() []desk.Section {
	return []desk.Section{desk.SectionOf[[]Endpoint]{
		Key:      EndpointsKey,
		Validate: validateEndpoints,
		Canonical: func(es []Endpoint) []Endpoint {
			out := make([]Endpoint, len(es))
			for i, e := range es {
				e.Key, e.Channel = strings.ToLower(e.Key), cases.Channel(strings.ToLower(string(e.Channel)))
				e.Auth = e.Auth.Canonical()
				e.Defaults.Market = strings.ToUpper(e.Defaults.Market)
				out[i] = e
			}
			return out
		},
		Diff: func(prev, next []Endpoint) []string {
			return desk.DiffList("intake webhook", prev, next, func(e Endpoint) string { return e.Key },
				func(a, b Endpoint) []string {
					return desk.DiffFields("intake webhook "+b.Key, "name", a.Name, b.Name, "channel", a.Channel, b.Channel,
						"auth", a.Auth, b.Auth, "external_id", a.ExternalID, b.ExternalID, "map", a.Map, b.Map,
						"defaults", a.Defaults, b.Defaults, "max_body", a.MaxBody, b.MaxBody)
				})
		},
	}}
}

func validateEndpoints(doc *desk.Config, es []Endpoint) []apperr.FieldError {
	v := &apperr.Invalid{}
	seen := map[string]bool{}
	for i, e := range es {
		p := fmt.Sprintf("%s[%d]", EndpointsKey, i)
		key := strings.ToLower(e.Key)
		switch {
		case !KeyRe.MatchString(key):
			v.Add(p+".key", "must be 1–64 lower-case letters, digits, - and _ (it is the endpoint's path: /api/v1/intake/<key>)")
		case seen[key]:
			v.Add(p+".key", "%q is used twice", e.Key)
		}
		seen[key] = true
		input.Check(v, p+".name", input.Name, e.Name)
		if ch := cases.Channel(strings.ToLower(string(e.Channel))); !ch.Valid() {
			v.Add(p+".channel", "must be a case channel such as social or external")
		}
		ValidateAuth(v, p+".auth", e.Auth, AuthHMAC, AuthBearer, AuthBasic)
		validateMapping(v, p, e.Map, e.ExternalID)
		ValidateDefaults(v, p+".defaults", doc, e.Defaults.Category, e.Defaults.Market)
		if e.MaxBody < 0 || e.MaxBody > MaxMaxBody {
			v.Add(p+".max_body", "must be at most %d bytes", MaxMaxBody)
		}
	}
	return v.Errors
}

// ValidateDefaults checks a default category and market against the desk.
func ValidateDefaults(v *apperr.Invalid, path string, doc *desk.Config, category, market string) {
	if category != "" {
		if _, ok := doc.Category(category); !ok {
			v.Add(path+".category", "unknown category %q", category)
		}
	}
	if market != "" {
		if _, ok := doc.Market(strings.ToUpper(market)); !ok {
			v.Add(path+".market", "unknown market %q", market)
		}
	}
}

// endpoints is the section compiled: endpoints by key.
type endpoints map[string]*endpoint

type endpoint struct {
	Endpoint
	mapping *compiled
}

func compileEndpoints(es []Endpoint) endpoints {
	out := make(endpoints, len(es))
	for _, e := range es {
		out[e.Key] = &endpoint{Endpoint: e, mapping: compile(e.Map, e.ExternalID, e.Defaults)}
	}
	return out
}
