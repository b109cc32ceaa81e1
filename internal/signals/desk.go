package signals

import (
	"fmt"
	"slices"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/incidents"
	"github.com/flare-desk/flare/internal/input"
)

// SettingsKey is the detection section of the desk document.
const SettingsKey desk.Key[Settings] = "detection"

// Settings are the desk's detection settings: which extra intake series
// to count, when a bucket is an anomaly, and the rules that decide what an
// anomaly does. An absent section counts the default series (intake per
// category × market, safety-term hits and external alerts per market),
// raises alerts at DefaultAlertScore and acts on none.
type Settings struct {
	// Dimensions are extra intake series: "seller", "channel", "tag" or
	// "field:<custom field>" (a carrier, say), each counted per market.
	Dimensions []string `yaml:"dimensions,omitempty" json:"dimensions,omitempty"`
	// AlertScore is the score from which a bucket above its expected band
	// is an anomaly and raises an alert (0: DefaultAlertScore).
	AlertScore float64 `yaml:"alert_score,omitempty" json:"alert_score,omitempty"`
	Rules      []Rule  `yaml:"rules,omitempty" json:"rules,omitempty"`
}

// DefaultAlertScore is the alert threshold of a desk that sets none.
const DefaultAlertScore = 0.9

// Rule says what an alert does when it matches: every list given must
// hold the series' value (categories as keys or groups, "logistics/"), the
// alert's score must reach MinScore and its observed count MinCount.
type Rule struct {
	Name       string   `yaml:"name" json:"name"`
	Signals    []string `yaml:"signals,omitempty" json:"signals,omitempty"` // kinds: intake, safety_term, alert, intake_seller…; empty: any
	Categories []string `yaml:"categories,omitempty" json:"categories,omitempty"`
	Markets    []string `yaml:"markets,omitempty" json:"markets,omitempty"`
	MinScore   float64  `yaml:"min_score,omitempty" json:"min_score,omitempty"`
	MinCount   int      `yaml:"min_count,omitempty" json:"min_count,omitempty"`

	// Notify is a team told of the alert (a signal.alert event).
	Notify string `yaml:"notify,omitempty" json:"notify,omitempty"`
	// OpenCase opens one case per alert through intake (channel alert),
	// in this category.
	OpenCase string `yaml:"open_case,omitempty" json:"open_case,omitempty"`
	// Declare declares an incident, unless one declared for the same
	// signal is still open.
	Declare Declare `yaml:"declare,omitempty" json:"declare,omitzero"`
}

// Declare is a rule's incident: its type and severity.
type Declare struct {
	Type     incidents.Type     `yaml:"type" json:"type"`
	Severity incidents.Severity `yaml:"severity" json:"severity"`
}

// IsZero reports whether the rule declares nothing.
func (d Declare) IsZero() bool { return d == Declare{} }

// SettingsOf is the desk's detection settings.
func SettingsOf(c *desk.Config) Settings { return desk.Get(c, SettingsKey) }

func (s Settings) alertScore() float64 {
	if s.AlertScore > 0 {
		return s.AlertScore
	}
	return DefaultAlertScore
}

// Sections are signals' sections of the desk document, for desk.NewSchema.
func Sections() []desk.Section {
	return []desk.Section{desk.SectionOf[Settings]{Key: SettingsKey, Validate: validate}}
}

func validate(doc *desk.Config, s Settings) []apperr.FieldError {
	var out []apperr.FieldError
	add := func(path, format string, args ...any) {
		out = append(out, apperr.FieldError{Field: string(SettingsKey) + path, Message: fmt.Sprintf(format, args...)})
	}
	for i, d := range s.Dimensions {
		if _, ok := dimensionKind(d); !ok {
			add(fmt.Sprintf(".dimensions[%d]", i), "%q is not a dimension: one of seller, channel, tag, field:<name>", d)
		}
	}
	if s.AlertScore < 0 || s.AlertScore > 1 {
		add(".alert_score", "must be between 0 and 1")
	}
	names := map[string]bool{}
	for i, r := range s.Rules {
		p := fmt.Sprintf(".rules[%d]", i)
		if msg := input.Title.Problem(r.Name); r.Name == "" || msg != "" {
			add(p+".name", "is required: a short name such as \"Intake surge\"")
		} else if names[r.Name] {
			add(p+".name", "%q is a rule already", r.Name)
		}
		names[r.Name] = true
		for j, k := range r.Signals {
			if !slices.Contains(Kinds, k) {
				add(fmt.Sprintf("%s.signals[%d]", p, j), "unknown signal %q; one of %s", k, strings.Join(Kinds, ", "))
			}
		}
		for j, c := range r.Categories {
			if _, ok := doc.Category(c); !ok && !strings.HasSuffix(c, "/") {
				add(fmt.Sprintf("%s.categories[%d]", p, j), "unknown category %q (a key, or a group such as \"logistics/\")", c)
			}
		}
		for j, m := range r.Markets {
			if _, ok := doc.Market(m); !ok {
				add(fmt.Sprintf("%s.markets[%d]", p, j), "unknown market %q", m)
			}
		}
		if r.MinScore < 0 || r.MinScore > 1 {
			add(p+".min_score", "must be between 0 and 1")
		}
		if r.MinCount < 0 {
			add(p+".min_count", "must not be negative")
		}
		if r.Notify == "" && r.OpenCase == "" && r.Declare.IsZero() {
			add(p, "a rule needs an action: notify, open_case or declare")
		}
		if r.Notify != "" {
			if _, ok := doc.Team(r.Notify); !ok {
				add(p+".notify", "unknown team %q", r.Notify)
			}
		}
		if r.OpenCase != "" {
			if _, ok := doc.Category(r.OpenCase); !ok {
				add(p+".open_case", "unknown category %q", r.OpenCase)
			}
		}
		if d := r.Declare; !d.IsZero() {
			if !d.Type.Valid() {
				add(p+".declare.type", "unknown incident type %q", d.Type)
			}
			if !d.Severity.Valid() {
				add(p+".declare.severity", "unknown severity %q; one of SEV1, SEV2, SEV3, SEV4", d.Severity)
			}
		}
	}
	return out
}

// matches reports whether the rule applies to an alert on series s.
func (r Rule) matches(s *Series, score, observed float64) bool {
	minScore := r.MinScore
	if score < minScore || observed < float64(r.MinCount) {
		return false
	}
	if len(r.Signals) > 0 && !slices.Contains(r.Signals, s.Kind) {
		return false
	}
	if len(r.Markets) > 0 && !slices.Contains(r.Markets, s.Dims["market"]) {
		return false
	}
	if len(r.Categories) > 0 {
		cat := s.Dims["category"]
		ok := cat != "" && slices.ContainsFunc(r.Categories, func(c string) bool {
			return c == cat || (strings.HasSuffix(c, "/") && strings.HasPrefix(cat, c))
		})
		if !ok {
			return false
		}
	}
	return true
}

// AlertScoreOf is the desk's alert threshold.
func AlertScoreOf(c *desk.Config) float64 { return SettingsOf(c).alertScore() }
