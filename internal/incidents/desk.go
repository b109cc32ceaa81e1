package incidents

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/input"
	"github.com/flare-desk/flare/internal/sla"
)

// SettingsKey is the incidents section of the desk document.
const SettingsKey desk.Key[Settings] = "incidents"

// Settings are the desk's incident settings: what each severity means and
// expects, who commands, the custom roles, the update templates, the
// stakeholder groups and the auto-link rules. An absent section is the
// defaults (DefaultSeverities, no custom roles, DefaultTemplates).
type Settings struct {
	// CommanderTeam is the team whose on-call commander a paging severity
	// pages ("" : none is paged; the declarer commands).
	CommanderTeam string `yaml:"commander_team,omitempty" json:"commander_team,omitempty"`
	// StepUp are the people a page that nobody acknowledged in time asks
	// too, on its second round (emails); empty: the leads of the commander
	// team.
	StepUp       []string           `yaml:"step_up,omitempty" json:"step_up,omitempty"`
	Severities   []SeverityDef      `yaml:"severities,omitempty" json:"severities,omitempty"`
	Types        []TypeDef          `yaml:"types,omitempty" json:"types,omitempty"`
	Roles        []RoleDef          `yaml:"roles,omitempty" json:"roles,omitempty"`
	Templates    []Template         `yaml:"templates,omitempty" json:"templates,omitempty"`
	Stakeholders []StakeholderGroup `yaml:"stakeholders,omitempty" json:"stakeholders,omitempty"`
	AutoLink     []AutoLinkRule     `yaml:"auto_link,omitempty" json:"auto_link,omitempty"`
}

// SeverityDef is what a severity means and what it expects.
type SeverityDef struct {
	Severity    Severity `yaml:"severity" json:"severity"`
	Description string   `yaml:"description,omitempty" json:"description,omitempty"` // the expectations, in words
	// Page: declaring it pages the on-call commander, who must acknowledge
	// within AckWithin ("5m"); unacknowledged, the page repeats and steps up.
	Page      bool   `yaml:"page,omitempty" json:"page,omitempty"`
	AckWithin string `yaml:"ack_within,omitempty" json:"ack_within,omitempty"`
	// UpdateEvery is the cadence of status updates ("30m"); empty: none expected.
	UpdateEvery string `yaml:"update_every,omitempty" json:"update_every,omitempty"`
	// PostmortemRequired: the incident closes only with its postmortem.
	PostmortemRequired bool `yaml:"postmortem_required,omitempty" json:"postmortem_required,omitempty"`
}

// AckDuration is how long a page waits for its acknowledgement.
func (d SeverityDef) AckDuration() time.Duration {
	if v, err := sla.ParseDuration(d.AckWithin); err == nil && v > 0 {
		return v
	}
	return 10 * time.Minute
}

// Cadence is how often a status update is due (0: none expected).
func (d SeverityDef) Cadence() time.Duration {
	v, err := sla.ParseDuration(d.UpdateEvery)
	if err != nil {
		return 0
	}
	return v
}

// DefaultSeverities are the severities of a desk that defines none.
var DefaultSeverities = []SeverityDef{
	{Severity: SEV1, Description: "Critical: the marketplace or a market is down, or people are at risk. All hands; leadership informed at once.",
		Page: true, AckWithin: "5m", UpdateEvery: "30m", PostmortemRequired: true},
	{Severity: SEV2, Description: "Major: a core flow is degraded for many sellers or buyers, or a safety or integrity risk spreads.",
		Page: true, AckWithin: "10m", UpdateEvery: "1h", PostmortemRequired: true},
	{Severity: SEV3, Description: "Minor: a limited part of a market or a few sellers affected; worked in business hours.", UpdateEvery: "4h"},
	{Severity: SEV4, Description: "Low: a nuisance with a workaround; tracked, no updates expected."},
}

// TypeDef describes an incident type on this desk.
type TypeDef struct {
	Type        Type   `yaml:"type" json:"type"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
}

// RoleDef is a custom incident role (beyond commander, communications lead
// and scribe).
type RoleDef struct {
	Key         string `yaml:"key" json:"key"`
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
}

// Audience is who a status update is written for.
type Audience string

// The audiences.
const (
	AudienceInternal Audience = "internal"         // the desk
	AudienceLeaders  Audience = "leadership"       // leadership
	AudienceSellers  Audience = "account_managers" // the account managers of affected sellers
	AudiencePublic   Audience = "public"           // requesters: shown on linked cases and the reply they get
)

// Audiences lists every audience.
var Audiences = []Audience{AudienceInternal, AudienceLeaders, AudienceSellers, AudiencePublic}

// Valid reports whether a is an audience.
func (a Audience) Valid() bool { return slices.Contains(Audiences, a) }

// Template is an update template for an incident type ("" any) and an
// audience; its body is a Go text/template over TemplateData. Kind
// "resolve" marks the templates of the bulk reply to linked cases.
type Template struct {
	Name     string   `yaml:"name" json:"name"`
	Type     Type     `yaml:"type,omitempty" json:"type,omitempty"`
	Audience Audience `yaml:"audience" json:"audience"`
	Kind     string   `yaml:"kind,omitempty" json:"kind,omitempty"` // update (default) | resolve
	Body     string   `yaml:"body" json:"body"`
}

// StakeholderGroup is who hears an update of its audience: named people,
// teams' members, and (for account_managers) the account managers of the
// incident's sellers. Severities limit it (empty: every severity).
type StakeholderGroup struct {
	Key             string     `yaml:"key" json:"key"`
	Name            string     `yaml:"name" json:"name"`
	Audience        Audience   `yaml:"audience" json:"audience"`
	Users           []string   `yaml:"users,omitempty" json:"users,omitempty"`
	Teams           []string   `yaml:"teams,omitempty" json:"teams,omitempty"`
	AccountManagers bool       `yaml:"account_managers,omitempty" json:"account_managers,omitempty"`
	Severities      []Severity `yaml:"severities,omitempty" json:"severities,omitempty"`
}

// AutoLinkRule links a new case to every open incident of its types whose
// scope (affected markets, categories, sellers; empty: any) holds the
// case, when the case matches the rule: each list given must hold the
// case's value, and one keyword (if any) must appear in its title or
// description.
type AutoLinkRule struct {
	Name       string   `yaml:"name" json:"name"`
	Types      []Type   `yaml:"types,omitempty" json:"types,omitempty"`
	Categories []string `yaml:"categories,omitempty" json:"categories,omitempty"` // keys or groups ("logistics/")
	Markets    []string `yaml:"markets,omitempty" json:"markets,omitempty"`
	Sellers    []string `yaml:"sellers,omitempty" json:"sellers,omitempty"`
	Keywords   []string `yaml:"keywords,omitempty" json:"keywords,omitempty"`
}

// SettingsOf is the desk's incident settings.
func SettingsOf(c *desk.Config) Settings { return desk.Get(c, SettingsKey) }

// SeverityOf is the definition of sev on the desk: its own, else the default.
func SeverityOf(c *desk.Config, sev Severity) SeverityDef {
	for _, d := range SettingsOf(c).Severities {
		if d.Severity == sev {
			return d
		}
	}
	for _, d := range DefaultSeverities {
		if d.Severity == sev {
			return d
		}
	}
	return SeverityDef{Severity: sev}
}

// SeveritiesOf is every severity's definition on the desk, SEV1 first.
func SeveritiesOf(c *desk.Config) []SeverityDef {
	out := make([]SeverityDef, len(Severities))
	for i, s := range Severities {
		out[i] = SeverityOf(c, s)
	}
	return out
}

// RequiresPostmortem reports whether an incident of severity sev closes
// only with a postmortem, on the desk c.
func RequiresPostmortem(c *desk.Config, sev Severity) bool {
	return SeverityOf(c, sev).PostmortemRequired
}

// RolesOf is every role an incident may have on the desk: the built-in
// three, then the custom ones.
func RolesOf(c *desk.Config) []RoleDef {
	out := []RoleDef{
		{Key: RoleCommander, Name: "Incident commander", Description: "leads the response and decides"},
		{Key: RoleComms, Name: "Communications lead", Description: "writes the status updates to stakeholders"},
		{Key: RoleScribe, Name: "Scribe", Description: "keeps the timeline"},
	}
	return append(out, SettingsOf(c).Roles...)
}

// RoleName is the display name of role on the desk (the key if unknown).
func RoleName(c *desk.Config, role string) string {
	for _, r := range RolesOf(c) {
		if r.Key == role {
			return r.Name
		}
	}
	return role
}

// Sections are incidents' sections of the desk document, for desk.NewSchema.
func Sections() []desk.Section {
	return []desk.Section{desk.SectionOf[Settings]{Key: SettingsKey, Validate: validateSettings, Canonical: canonicalSettings}}
}

func canonicalSettings(s Settings) Settings {
	lower := func(in []string) []string {
		if in == nil {
			return nil
		}
		out := make([]string, len(in))
		for i, e := range in {
			out[i] = strings.ToLower(strings.TrimSpace(e))
		}
		return out
	}
	s.StepUp = lower(s.StepUp)
	s.Stakeholders = slices.Clone(s.Stakeholders)
	for i := range s.Stakeholders {
		s.Stakeholders[i].Users = lower(s.Stakeholders[i].Users)
	}
	return s
}

type errs []apperr.FieldError

func (e *errs) add(path, format string, args ...any) {
	*e = append(*e, apperr.FieldError{Field: path, Message: fmt.Sprintf(format, args...)})
}

func validateSettings(doc *desk.Config, s Settings) []apperr.FieldError {
	var e errs
	k := string(SettingsKey)
	if s.CommanderTeam != "" {
		if _, ok := doc.Team(s.CommanderTeam); !ok {
			e.add(k+".commander_team", "unknown team %q", s.CommanderTeam)
		}
	}
	checkUsers := func(path string, emails []string) {
		for i, u := range emails {
			if len(doc.Users) == 0 {
				return
			}
			if _, ok := doc.User(strings.ToLower(u)); !ok {
				e.add(fmt.Sprintf("%s[%d]", path, i), "unknown user %q", u)
			}
		}
	}
	checkUsers(k+".step_up", s.StepUp)
	seenSev := map[Severity]bool{}
	for i, d := range s.Severities {
		p := fmt.Sprintf("%s.severities[%d]", k, i)
		if !d.Severity.Valid() {
			e.add(p+".severity", "unknown severity %q; one of SEV1, SEV2, SEV3, SEV4", d.Severity)
		} else if seenSev[d.Severity] {
			e.add(p+".severity", "%s is defined twice", d.Severity)
		}
		seenSev[d.Severity] = true
		if msg := input.Text.Problem(d.Description); msg != "" {
			e.add(p+".description", "%s", msg)
		}
		for _, f := range []struct{ name, v string }{{"ack_within", d.AckWithin}, {"update_every", d.UpdateEvery}} {
			if f.v == "" {
				continue
			}
			if v, err := sla.ParseDuration(f.v); err != nil {
				e.add(p+"."+f.name, "%s", err.Error())
			} else if v < time.Minute || v > 7*24*time.Hour {
				e.add(p+"."+f.name, "must be between 1m and 7d")
			}
		}
	}
	for i, t := range s.Types {
		if !t.Type.Valid() {
			e.add(fmt.Sprintf("%s.types[%d].type", k, i), "unknown incident type %q; one of %s", t.Type, joinTypes())
		}
	}
	seenRole := map[string]bool{}
	for _, r := range BuiltinRoles {
		seenRole[r] = true
	}
	for i, r := range s.Roles {
		p := fmt.Sprintf("%s.roles[%d]", k, i)
		if msg := input.Key.Problem(r.Key); r.Key == "" || msg != "" {
			e.add(p+".key", "is required: a short key such as \"liaison\"")
		} else if seenRole[r.Key] {
			e.add(p+".key", "%q is a role already", r.Key)
		}
		seenRole[r.Key] = true
		if r.Name == "" {
			e.add(p+".name", "is required")
		}
	}
	for i, t := range s.Templates {
		p := fmt.Sprintf("%s.templates[%d]", k, i)
		if t.Name == "" {
			e.add(p+".name", "is required")
		}
		if t.Type != "" && !t.Type.Valid() {
			e.add(p+".type", "unknown incident type %q; one of %s", t.Type, joinTypes())
		}
		if !t.Audience.Valid() {
			e.add(p+".audience", "unknown audience %q; one of internal, leadership, account_managers, public", t.Audience)
		}
		if t.Kind != "" && t.Kind != "update" && t.Kind != "resolve" {
			e.add(p+".kind", "one of update, resolve")
		}
		if _, err := Render(t.Body, sampleData()); err != nil {
			e.add(p+".body", "%s", err.Error())
		}
	}
	for i, g := range s.Stakeholders {
		p := fmt.Sprintf("%s.stakeholders[%d]", k, i)
		if g.Key == "" || g.Name == "" {
			e.add(p, "a stakeholder group needs a key and a name")
		}
		if !g.Audience.Valid() {
			e.add(p+".audience", "unknown audience %q; one of internal, leadership, account_managers, public", g.Audience)
		}
		checkUsers(p+".users", g.Users)
		for j, t := range g.Teams {
			if _, ok := doc.Team(t); !ok {
				e.add(fmt.Sprintf("%s.teams[%d]", p, j), "unknown team %q", t)
			}
		}
		for j, sv := range g.Severities {
			if !sv.Valid() {
				e.add(fmt.Sprintf("%s.severities[%d]", p, j), "unknown severity %q", sv)
			}
		}
	}
	for i, r := range s.AutoLink {
		p := fmt.Sprintf("%s.auto_link[%d]", k, i)
		if r.Name == "" {
			e.add(p+".name", "is required")
		}
		for j, t := range r.Types {
			if !t.Valid() {
				e.add(fmt.Sprintf("%s.types[%d]", p, j), "unknown incident type %q", t)
			}
		}
		for j, m := range r.Markets {
			if _, ok := doc.Market(m); !ok {
				e.add(fmt.Sprintf("%s.markets[%d]", p, j), "unknown market %q", m)
			}
		}
		for j, c := range r.Categories {
			if _, ok := doc.Category(c); !ok && !groupKnown(doc, c) {
				e.add(fmt.Sprintf("%s.categories[%d]", p, j), "unknown category %q", c)
			}
		}
		if len(r.Categories)+len(r.Markets)+len(r.Sellers)+len(r.Keywords) == 0 {
			e.add(p, "a rule needs a category, market, seller or keyword: it would link every new case")
		}
	}
	return e
}

func groupKnown(doc *desk.Config, g string) bool {
	g = strings.TrimSuffix(g, "/")
	for _, c := range doc.Categories {
		if c.Group() == g {
			return true
		}
	}
	return false
}

func joinTypes() string {
	s := make([]string, len(Types))
	for i, t := range Types {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// TemplateData is what an update template reads.
type TemplateData struct {
	Number      string
	Title       string
	Summary     string
	Type        Type
	Severity    Severity
	Status      Status
	Markets     string // "GB, DE"
	Commander   string // the commander's name
	LinkedCases int
	NextUpdate  string // "14:30 UTC", or ""
	// Case and Requester are set for the bulk reply to a linked case.
	Case      string
	Requester string
}

func sampleData() TemplateData {
	return TemplateData{Number: "INC-1", Title: "Carrier outage", Summary: "…", Type: TypeService, Severity: SEV2,
		Status: Investigating, Markets: "GB", Commander: "Amelia", LinkedCases: 3, NextUpdate: "10:30 UTC",
		Case: "ESC-1", Requester: "Sam"}
}

// Render renders a template body over d. An unknown field is an error.
func Render(body string, d TemplateData) (string, error) {
	t, err := parseTemplate(body)
	if err != nil {
		return "", err
	}
	return execute(t, d)
}

func parseTemplate(body string) (*template.Template, error) {
	t, err := template.New("update").Option("missingkey=error").Parse(body)
	if err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	return t, nil
}

func execute(t *template.Template, d TemplateData) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("template: %w", err)
	}
	return strings.TrimSpace(b.String()), nil
}

// DefaultTemplates are the templates of a desk that has none for a type
// and audience.
var DefaultTemplates = []Template{
	{Name: "Internal update", Audience: AudienceInternal, Body: "{{.Number}} {{.Severity}} {{.Title}} is {{.Status}}.\n\n{{.Summary}}\n\nCommander: {{.Commander}}. Linked cases: {{.LinkedCases}}.{{if .NextUpdate}} Next update by {{.NextUpdate}}.{{end}}"},
	{Name: "Leadership brief", Audience: AudienceLeaders, Body: "{{.Severity}} {{.Type}} incident {{.Number}} ({{.Markets}}): {{.Title}}. Status: {{.Status}}. {{.LinkedCases}} cases linked.\n\n{{.Summary}}"},
	{Name: "Account managers", Audience: AudienceSellers, Body: "We are working on an issue affecting sellers in {{.Markets}}: {{.Title}}. Status: {{.Status}}.{{if .NextUpdate}} We will update you by {{.NextUpdate}}.{{end}}"},
	{Name: "Public notice", Audience: AudiencePublic, Body: "We know about an issue affecting {{.Markets}}: {{.Title}}. We are working on it ({{.Status}}); you do not need to contact us again."},
	{Name: "Resolved reply", Audience: AudiencePublic, Kind: "resolve", Body: "Hello {{.Requester}},\n\nthe issue behind your request {{.Case}} ({{.Title}}) is resolved. Thank you for your patience."},
}

// TemplatesFor lists the templates for an incident of type t and an
// audience: the desk's for the type, then its generic ones, then the
// defaults for the audience. kind "" means update.
func TemplatesFor(c *desk.Config, t Type, a Audience, kind string) []Template {
	if kind == "" {
		kind = "update"
	}
	kindOf := func(x Template) string {
		if x.Kind == "" {
			return "update"
		}
		return x.Kind
	}
	var out []Template
	for _, pass := range []func(Template) bool{
		func(x Template) bool { return x.Type == t },
		func(x Template) bool { return x.Type == "" },
	} {
		for _, x := range SettingsOf(c).Templates {
			if x.Audience == a && kindOf(x) == kind && pass(x) {
				out = append(out, x)
			}
		}
	}
	for _, x := range DefaultTemplates {
		if x.Audience == a && kindOf(x) == kind {
			out = append(out, x)
		}
	}
	return out
}
