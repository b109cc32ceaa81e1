package postmortems

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"time"
)

// Facts are what a template's sections are pre-filled from: the incident,
// the impact figures of its linked cases, and its timeline.
type Facts struct {
	Incident IncidentFacts
	Impact   Impact
	Timeline []Moment
}

// IncidentFacts is what the template knows of an incident.
type IncidentFacts struct {
	ID        int64
	Number    string // INC-7
	Title     string
	Type      string
	Severity  string // SEV1…SEV4
	Status    string
	Markets   []string
	Commander string // email ("" none)
}

// Moment is one line of the incident's timeline.
type Moment struct {
	At   time.Time `json:"at"`
	Text string    `json:"text"`
}

// Doc is a postmortem's content: its sections in the template's order.
type Doc []DocSection

// DocSection is one section of a postmortem.
type DocSection struct {
	Key      string `json:"key"`
	Title    string `json:"title"`
	Required bool   `json:"required,omitempty"`
	Prompt   string `json:"prompt,omitempty"`
	Body     string `json:"body"`          // Markdown
	HTML     string `json:"html,omitzero"` // rendered (sanitised) on read, never stored
}

// funcs are the helpers templates may call.
var funcs = template.FuncMap{
	"utc":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") },
	"markets": func(i Impact) string { return i.MarketsLine() },
	"money":   func(i Impact) string { return i.MoneyLine() },
	"join":    strings.Join,
}

func parse(text string) (*template.Template, error) {
	return template.New("section").Funcs(funcs).Option("missingkey=error").Parse(text)
}

// sampleFacts exercise a template when the desk is applied, so that a
// reference to a fact that does not exist is refused then, not when a
// postmortem is started.
var sampleFacts = Facts{
	Incident: IncidentFacts{ID: 1, Number: "INC-1", Title: "Checkout errors", Type: "service", Severity: "SEV1",
		Status: "resolved", Markets: []string{"GB", "DE"}, Commander: "commander@example.com"},
	Impact: Impact{Cases: 3, Open: 1, Markets: []Count{{"GB", 2}, {"DE", 1}}, Sellers: 2, KeySellers: 1,
		Money:      []Money{{Currency: "EUR", Cents: 125000, Cases: 2}},
		TopSellers: []SellerImpact{{ID: "s1", Name: "Seller", Market: "GB", Tier: 1, Cases: 2}}},
	Timeline: []Moment{{At: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC), Text: "Declared"}},
}

// checkTemplate reports a section text that does not parse or run.
func checkTemplate(text string) error {
	if text == "" {
		return nil
	}
	t, err := parse(text)
	if err != nil {
		return fmt.Errorf("does not parse: %s", strings.TrimPrefix(err.Error(), "template: "))
	}
	if err := t.Execute(&bytes.Buffer{}, sampleFacts); err != nil {
		return fmt.Errorf("does not run: %s", strings.TrimPrefix(err.Error(), "template: "))
	}
	return nil
}

// Render makes a new postmortem's document from the template's sections
// and the incident's facts. A section whose text fails to render (a desk
// applied before a check existed) starts empty rather than failing.
func Render(sections []Section, f Facts) Doc {
	out := make(Doc, 0, len(sections))
	for _, s := range sections {
		d := DocSection{Key: s.Key, Title: s.Title, Required: s.Required, Prompt: s.Prompt}
		if s.Text != "" {
			if t, err := parse(s.Text); err == nil {
				var b bytes.Buffer
				if t.Execute(&b, f) == nil {
					d.Body = strings.TrimRight(b.String(), "\n") + "\n"
				}
			}
		}
		out = append(out, d)
	}
	return out
}

// Missing lists the titles of required sections left blank.
func (d Doc) Missing() []string {
	var out []string
	for _, s := range d {
		if s.Required && strings.TrimSpace(s.Body) == "" {
			out = append(out, s.Title)
		}
	}
	return out
}

// Section returns the section key.
func (d Doc) Section(key string) (DocSection, bool) {
	i := slices.IndexFunc(d, func(s DocSection) bool { return s.Key == key })
	if i < 0 {
		return DocSection{}, false
	}
	return d[i], true
}
