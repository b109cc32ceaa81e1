package postmortems

import (
	"fmt"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/input"
	"github.com/flare-desk/flare/internal/sla"
)

// SettingsKey is the postmortems section of the desk document:
//
//	postmortems:
//	  remind_before: 2d          # the owner's reminder before an action item's due date (default 2d)
//	  sections:                  # the template; absent: DefaultSections
//	    - key: summary
//	      title: Summary
//	      required: true         # publishing needs it written
//	      prompt: What happened, to whom, for how long, and how it ended.
//	    - key: customer_impact
//	      title: Customer impact
//	      text: |                # pre-filled (Go text/template over the incident's facts)
//	        {{.Impact.Cases}} linked cases in {{markets .Impact}}.
//
// Which severities need a postmortem before the incident closes is the
// incidents section's (SEV1 and SEV2 by default).
const SettingsKey desk.Key[Settings] = "postmortems"

// Settings are the desk's postmortem settings.
type Settings struct {
	RemindBefore string    `yaml:"remind_before,omitempty" json:"remind_before,omitempty"`
	Sections     []Section `yaml:"sections,omitempty" json:"sections,omitempty"`
}

// Section is one section of the template: its key and title, whether
// publishing needs it written, a prompt shown to the writer, and the text
// it starts with (a Go text/template over Facts).
type Section struct {
	Key      string `yaml:"key" json:"key"`
	Title    string `yaml:"title" json:"title"`
	Required bool   `yaml:"required,omitempty" json:"required,omitempty"`
	Prompt   string `yaml:"prompt,omitempty" json:"prompt,omitempty"`
	Text     string `yaml:"text,omitempty" json:"text,omitempty"`
}

// DefaultRemindBefore is how long before an action item's due date its
// owner is reminded, when the desk does not say.
const DefaultRemindBefore = 48 * time.Hour

// DefaultSections is the built-in template.
var DefaultSections = []Section{
	{Key: "summary", Title: "Summary", Required: true,
		Prompt: "What happened, to whom, for how long, and how it ended — in three or four sentences a director reads."},
	{Key: "customer_impact", Title: "Customer impact",
		Prompt: "Who could not buy, pay, receive or get an answer; what they saw.",
		Text: `- **{{.Impact.Cases}}** linked cases{{if .Impact.Markets}} in {{markets .Impact}}{{end}}
{{- if .Impact.Money}}
- Money at stake: {{money .Impact}}
{{- end}}
{{- if .Impact.Open}}
- {{.Impact.Open}} of them still open when this was written
{{- end}}
`},
	{Key: "seller_impact", Title: "Seller impact",
		Prompt: "Which sellers were affected, what it cost them, what we owe them.",
		Text: `- **{{.Impact.Sellers}}** sellers affected{{if .Impact.KeySellers}}, {{.Impact.KeySellers}} of them tier 1{{end}}
{{- range .Impact.TopSellers}}
- {{.Name}} ({{.Market}}, tier {{.Tier}}): {{.Cases}} cases
{{- end}}
`},
	{Key: "timeline", Title: "Timeline",
		Prompt: "Correct and complete the incident's timeline; times are UTC.",
		Text: `{{range .Timeline}}- {{utc .At}} — {{.Text}}
{{end}}`},
	{Key: "root_cause", Title: "Root cause", Required: true,
		Prompt: "The cause that, removed, would have prevented the incident. Ask why until the answer is a system, not a person."},
	{Key: "contributing_factors", Title: "Contributing factors",
		Prompt: "What made it more likely, bigger or longer: alerts that did not fire, runbooks that were wrong, load."},
	{Key: "went_well", Title: "What went well"},
	{Key: "went_badly", Title: "What did not go well"},
}

// SettingsOf is the desk's postmortem settings with the defaults filled in.
func SettingsOf(c *desk.Config) Settings {
	s := desk.Get(c, SettingsKey)
	if len(s.Sections) == 0 {
		s.Sections = DefaultSections
	}
	return s
}

// remindBefore is the desk's remind_before (the default when absent).
func (s Settings) remindBefore() time.Duration {
	if d, err := sla.ParseDuration(s.RemindBefore); err == nil && d > 0 {
		return d
	}
	return DefaultRemindBefore
}

// maxSections bounds the template.
const maxSections = 30

// Sections is postmortems' section of the desk document, for desk.NewSchema.
func Sections() []desk.Section {
	return []desk.Section{desk.SectionOf[Settings]{
		Key:      SettingsKey,
		Validate: func(_ *desk.Config, s Settings) []apperr.FieldError { return validateSettings(s) },
		Canonical: func(s Settings) Settings {
			out := s
			out.Sections = make([]Section, len(s.Sections))
			for i, sec := range s.Sections {
				sec.Key, sec.Title = strings.TrimSpace(sec.Key), strings.TrimSpace(sec.Title)
				out.Sections[i] = sec
			}
			if len(s.Sections) == 0 {
				out.Sections = nil
			}
			return out
		},
		Diff: func(prev, next Settings) []string {
			return desk.DiffFields("postmortems", "remind_before", prev.RemindBefore, next.RemindBefore,
				"sections", prev.Sections, next.Sections)
		},
	}}
}

func validateSettings(s Settings) []apperr.FieldError {
	v := &apperr.Invalid{}
	const p = string(SettingsKey)
	if s.RemindBefore != "" {
		if d, err := sla.ParseDuration(s.RemindBefore); err != nil || d <= 0 || d > 60*24*time.Hour {
			v.Add(p+".remind_before", "must be a duration such as 2d or 36h, at most 60d")
		}
	}
	if len(s.Sections) > maxSections {
		v.Add(p+".sections", "has %d sections; a template has at most %d", len(s.Sections), maxSections)
	}
	seen := map[string]bool{}
	for i, sec := range s.Sections {
		sp := fmt.Sprintf("%s.sections[%d]", p, i)
		key := strings.TrimSpace(sec.Key)
		if input.Required(v, sp+".key", input.Key, key) {
			switch {
			case strings.ContainsAny(key, " /"):
				v.Add(sp+".key", "must be a word such as root_cause")
			case seen[key]:
				v.Add(sp+".key", "another section is %q", key)
			}
		}
		seen[key] = true
		input.Required(v, sp+".title", input.Title, strings.TrimSpace(sec.Title))
		input.Check(v, sp+".prompt", input.Text, sec.Prompt)
		if input.Check(v, sp+".text", input.Text, sec.Text) {
			if err := checkTemplate(sec.Text); err != nil {
				v.Add(sp+".text", "%v", err)
			}
		}
	}
	return v.Errors
}
