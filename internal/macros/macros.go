// Package macros holds the desk's saved replies and multi-action macros:
// the `macros` section of the desk document (a reply with placeholders,
// its translations, a status and tags, for some teams) and applying one to
// a case through the case services in one transaction.
package macros

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/input"
)

// Key is the macros section of the desk document.
const Key desk.Key[[]Macro] = "macros"

// Macro is a saved reply and the actions that go with it.
type Macro struct {
	Key  string `yaml:"key" json:"key"`
	Name string `yaml:"name" json:"name"`
	// Teams are the teams whose cases offer the macro; empty: every team.
	Teams []string `yaml:"teams,omitempty" json:"teams,omitempty"`
	// Reply is the text in the desk's own language, with placeholders
	// ({{requester_name}}, {{case_number}}, {{seller_name}}, {{due}}).
	Reply string `yaml:"reply,omitempty" json:"reply,omitempty"`
	// Translations are the reply in other languages, by language tag
	// ("de", "fr"); a case in one of them gets its translation.
	Translations map[string]string `yaml:"translations,omitempty" json:"translations,omitempty"`
	// Internal sends the text as an internal note rather than a reply.
	Internal bool `yaml:"internal,omitempty" json:"internal,omitempty"`
	// Status moves the case after the reply ("pending_requester"); empty: stays.
	Status cases.Status `yaml:"status,omitempty" json:"status,omitempty"`
	// Note is the status change's note (required to resolve).
	Note       string `yaml:"note,omitempty" json:"note,omitempty"`
	Resolution string `yaml:"resolution,omitempty" json:"resolution,omitempty"`
	// AddTags are added to the case's tags.
	AddTags []string `yaml:"add_tags,omitempty" json:"add_tags,omitempty"`
}

// Placeholders are the names a reply may use, as {{name}}.
var Placeholders = []string{"requester_name", "case_number", "seller_name", "due"}

var placeholderRE = regexp.MustCompile(`\{\{\s*([a-z_]*)\s*\}\}`)

// Sections are macros' sections of the desk document, for desk.NewSchema.
func Sections() []desk.Section {
	return []desk.Section{desk.SectionOf[[]Macro]{Key: Key, Validate: validate}}
}

// Of is the desk's macros.
func Of(c *desk.Config) []Macro { return desk.Get(c, Key) }

func validate(doc *desk.Config, ms []Macro) []apperr.FieldError {
	var out []apperr.FieldError
	add := func(path, format string, args ...any) {
		out = append(out, apperr.FieldError{Field: string(Key) + path, Message: fmt.Sprintf(format, args...)})
	}
	keys := map[string]bool{}
	for i, m := range ms {
		p := fmt.Sprintf("[%d]", i)
		if msg := input.Key.Problem(m.Key); m.Key == "" || msg != "" {
			add(p+".key", "is required: lower-case letters, digits and _ such as \"tracing_started\"")
		} else if keys[m.Key] {
			add(p+".key", "%q is a macro already", m.Key)
		}
		keys[m.Key] = true
		if m.Name == "" || input.Title.Problem(m.Name) != "" {
			add(p+".name", "is required: the name agents pick it by, such as \"Tracing started\"")
		}
		for j, t := range m.Teams {
			if _, ok := doc.Team(t); !ok {
				add(fmt.Sprintf("%s.teams[%d]", p, j), "unknown team %q", t)
			}
		}
		if m.Reply == "" && m.Status == "" && len(m.AddTags) == 0 {
			add(p, "does nothing: give a reply, a status or tags")
		}
		if m.Reply == "" && len(m.Translations) > 0 {
			add(p+".reply", "is required when there are translations (cases in other languages get it)")
		}
		texts := map[string]string{".reply": m.Reply}
		for lang, t := range m.Translations {
			texts[".translations."+lang] = t
			if l, err := input.ParseLanguage(lang); err != nil || l != lang {
				add(p+".translations."+lang, "is not a lower-case language tag such as \"de\"")
			}
		}
		for path, t := range texts {
			if msg := input.Comment.Problem(t); t != "" && msg != "" {
				add(p+path, "%s", msg)
			}
			for _, ph := range placeholderRE.FindAllStringSubmatch(t, -1) {
				if !slices.Contains(Placeholders, ph[1]) {
					add(p+path, "unknown placeholder {{%s}}; one of {{%s}}", ph[1], strings.Join(Placeholders, "}}, {{"))
				}
			}
		}
		if m.Status != "" && !m.Status.Valid() {
			add(p+".status", "unknown status %q", m.Status)
		}
		if m.Status == cases.StatusResolved && (m.Resolution == "" || !doc.HasResolution(m.Resolution) || m.Note == "") {
			add(p+".resolution", "resolving needs one of the desk's resolutions and a note")
		}
		for j, t := range m.AddTags {
			if t == "" || input.Key.Problem(t) != "" {
				add(fmt.Sprintf("%s.add_tags[%d]", p, j), "%q is not a tag", t)
			}
		}
	}
	return out
}

// For is whether m is offered on cases of team.
func (m Macro) For(team string) bool { return len(m.Teams) == 0 || slices.Contains(m.Teams, team) }

// Text is m's reply for a case in language lang: its translation into
// lang (or lang's base language, "de" for "de-AT") when there is one, else
// the reply. It returns the language chosen ("" for the reply itself).
func (m Macro) Text(lang string) (string, string) {
	base, _, _ := strings.Cut(lang, "-")
	for _, want := range []string{lang, base} {
		for l, t := range m.Translations {
			if want != "" && strings.EqualFold(l, want) {
				return t, l
			}
		}
	}
	return m.Reply, ""
}

// Values are what the placeholders stand for on one case.
type Values struct {
	RequesterName, CaseNumber, SellerName string
	Due                                   *time.Time
}

// ValuesFor reads c's placeholder values at now; seller is c's seller, if
// any. The due time is the soonest a running SLA clock is still due (a
// breached one promises nothing): none leaves {{due}} empty.
func ValuesFor(c *cases.Case, seller *desk.Seller, now time.Time) Values {
	v := Values{RequesterName: c.Requester.Name, CaseNumber: c.Number}
	if v.RequesterName == "" {
		v.RequesterName = c.Requester.Email
	}
	if seller != nil {
		v.SellerName = seller.Name
	} else if c.SellerID != nil {
		v.SellerName = *c.SellerID
	}
	for _, ck := range c.SLA {
		if ck.State == "running" && ck.DueAt != nil && ck.DueAt.After(now) && (v.Due == nil || ck.DueAt.Before(*v.Due)) {
			v.Due = ck.DueAt
		}
	}
	return v
}

// Render fills text's placeholders with v. A placeholder without a value
// (a case with no seller) becomes empty rather than staying as {{…}}.
func Render(text string, v Values) string {
	return placeholderRE.ReplaceAllStringFunc(text, func(s string) string {
		switch placeholderRE.FindStringSubmatch(s)[1] {
		case "requester_name":
			return v.RequesterName
		case "case_number":
			return v.CaseNumber
		case "seller_name":
			return v.SellerName
		case "due":
			if v.Due != nil {
				return v.Due.UTC().Format("2006-01-02 15:04 UTC") // the same in every language
			}
		}
		return ""
	})
}

// Does says in words what applying m does besides its text.
func (m Macro) Does() string {
	var parts []string
	switch {
	case m.Reply != "" && m.Internal:
		parts = append(parts, "adds an internal note")
	case m.Reply != "":
		parts = append(parts, "sends a public reply")
	}
	if m.Status != "" {
		parts = append(parts, "moves the case to "+strings.ReplaceAll(string(m.Status), "_", " "))
	}
	if len(m.AddTags) > 0 {
		parts = append(parts, "tags it "+strings.Join(m.AddTags, ", "))
	}
	return strings.Join(parts, ", then ")
}
