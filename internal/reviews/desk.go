// Package reviews builds the review packs: for each cadence of the desk
// document (weekly, bi-weekly, monthly), at its scheduled time, the pack of
// the period just closed — headline figures against target and the
// previous period, top categories, breaches and their causes,
// escalations, incidents and postmortem actions, repeat issues, a
// per-market table and a short "needs attention" list found by rules. A
// pack is built once per cadence and period, stored, mailed as HTML to
// its audience through notify's outbox, and downloadable as HTML, CSV,
// JSON and PDF.
package reviews

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/input"
)

// SettingsKey is the review_packs section of the desk document:
//
// The figures are held to the desk's report_targets (internal/reports),
// the same targets the dashboards show.
//
//	review_packs:
//	  cadences:
//	    - key: weekly_ops
//	      name: Weekly operations review
//	      every: weekly                # weekly | biweekly | monthly
//	      day: monday                  # weekly, biweekly: a weekday; monthly: the day of the month (1-28)
//	      time: "08:00"                # when the pack of the period just closed is built and sent
//	      timezone: Europe/Berlin      # periods start at midnight here
//	      audience:
//	        users: [ines@flare.example]
//	        teams: [escalations]
//	        emails: [ops-leads@example.com]
//	      sections: [kpis, categories, breaches, attention]   # absent: all of Sections
const SettingsKey desk.Key[Settings] = "review_packs"

// Settings are the desk's review packs.
type Settings struct {
	Cadences []Cadence `yaml:"cadences,omitempty" json:"cadences,omitempty"`
}

// Cadence is one review's schedule, audience and sections.
type Cadence struct {
	Key      string   `yaml:"key" json:"key"`
	Name     string   `yaml:"name" json:"name"`
	Every    Kind     `yaml:"every" json:"every"`
	Day      string   `yaml:"day,omitempty" json:"day,omitempty"`
	Time     string   `yaml:"time,omitempty" json:"time,omitempty"`
	Timezone string   `yaml:"timezone,omitempty" json:"timezone,omitempty"`
	Audience Audience `yaml:"audience,omitempty" json:"audience,omitempty"`
	Sections []string `yaml:"sections,omitempty" json:"sections,omitempty"`
}

// Audience is who receives a cadence's pack by mail.
type Audience struct {
	Users  []string `yaml:"users,omitempty" json:"users,omitempty"`
	Teams  []string `yaml:"teams,omitempty" json:"teams,omitempty"`
	Emails []string `yaml:"emails,omitempty" json:"emails,omitempty"`
}

// Kind is how often a cadence comes round.
type Kind string

// The cadences' kinds.
const (
	Weekly   Kind = "weekly"
	Biweekly Kind = "biweekly"
	Monthly  Kind = "monthly"
)

// Kinds are the valid kinds.
var Kinds = []Kind{Weekly, Biweekly, Monthly}

// The pack's sections, in the order a pack shows them.
const (
	SecKPIs        = "kpis"
	SecCategories  = "categories"
	SecBreaches    = "breaches"
	SecEscalations = "escalations"
	SecIncidents   = "incidents"
	SecProblems    = "problems"
	SecMarkets     = "markets"
	SecAttention   = "attention"
)

// Sections are every section of a pack.
var Sections = []string{SecAttention, SecKPIs, SecCategories, SecBreaches, SecEscalations, SecIncidents, SecProblems, SecMarkets}

// Has reports whether the cadence's pack shows section s.
func (c Cadence) Has(s string) bool { return len(c.Sections) == 0 || slices.Contains(c.Sections, s) }

// Location is the cadence's time zone (UTC when unset).
func (c Cadence) Location() *time.Location {
	if c.Timezone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// clockTime is the cadence's time of day (default 08:00).
func (c Cadence) clockTime() (h, m int) {
	if c.Time == "" {
		return 8, 0
	}
	t, err := time.Parse("15:04", c.Time)
	if err != nil {
		return 8, 0
	}
	return t.Hour(), t.Minute()
}

var weekdays = map[string]time.Weekday{"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday,
	"wednesday": time.Wednesday, "thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday}

// SettingsOf is the desk's review packs section.
func SettingsOf(c *desk.Config) Settings { return desk.Get(c, SettingsKey) }

// Cadence finds a cadence by key, or else the first of that kind.
func (s Settings) Cadence(keyOrKind string) (Cadence, bool) {
	for _, c := range s.Cadences {
		if c.Key == keyOrKind {
			return c, true
		}
	}
	for _, c := range s.Cadences {
		if string(c.Every) == keyOrKind {
			return c, true
		}
	}
	return Cadence{}, false
}

// maxCadences bounds the section.
const maxCadences = 20

// DeskSections is review packs' section of the desk document, for desk.NewSchema.
func DeskSections() []desk.Section {
	return []desk.Section{desk.SectionOf[Settings]{
		Key:       SettingsKey,
		Validate:  validate,
		Canonical: canonical,
		Diff: func(prev, next Settings) []string {
			return desk.DiffList("review pack", prev.Cadences, next.Cadences,
				func(c Cadence) string { return c.Key },
				func(a, b Cadence) []string {
					return desk.DiffFields("", "name", a.Name, b.Name, "every", a.Every, b.Every, "day", a.Day, b.Day,
						"time", a.Time, b.Time, "timezone", a.Timezone, b.Timezone, "audience", a.Audience, b.Audience,
						"sections", a.Sections, b.Sections)
				})
		},
	}}
}

// canonical lower-cases the audience's emails and weekdays and sorts the
// audience, so that export → apply round-trips byte for byte.
func canonical(s Settings) Settings {
	out := Settings{}
	for _, c := range s.Cadences {
		c.Key, c.Name = strings.TrimSpace(c.Key), strings.TrimSpace(c.Name)
		c.Day = strings.ToLower(strings.TrimSpace(c.Day))
		c.Audience = Audience{Users: sortedLower(c.Audience.Users), Teams: sorted(c.Audience.Teams), Emails: sortedLower(c.Audience.Emails)}
		c.Sections = slices.Clone(c.Sections)
		out.Cadences = append(out.Cadences, c)
	}
	return out
}

func sortedLower(xs []string) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		out = append(out, strings.ToLower(strings.TrimSpace(x)))
	}
	return sorted(out)
}

func sorted(xs []string) []string {
	if len(xs) == 0 {
		return nil
	}
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}

func validate(doc *desk.Config, s Settings) []apperr.FieldError {
	v := &apperr.Invalid{}
	const p = string(SettingsKey)
	if len(s.Cadences) > maxCadences {
		v.Add(p+".cadences", "has %d cadences; at most %d", len(s.Cadences), maxCadences)
	}
	seen := map[string]bool{}
	for i, c := range s.Cadences {
		cp := fmt.Sprintf("%s.cadences[%d]", p, i)
		key := strings.TrimSpace(c.Key)
		if input.Required(v, cp+".key", input.Key, key) {
			switch {
			case strings.ContainsAny(key, " /"):
				v.Add(cp+".key", "must be a word such as weekly_ops")
			case seen[key]:
				v.Add(cp+".key", "another cadence is %q", key)
			}
			seen[key] = true
		}
		input.Required(v, cp+".name", input.Name, strings.TrimSpace(c.Name))
		if !slices.Contains(Kinds, c.Every) {
			v.Add(cp+".every", "must be weekly, biweekly or monthly")
		}
		day := strings.ToLower(strings.TrimSpace(c.Day))
		switch c.Every {
		case Weekly, Biweekly:
			if _, ok := weekdays[day]; day != "" && !ok {
				v.Add(cp+".day", "must be a weekday such as monday")
			}
		case Monthly:
			if n, err := strconv.Atoi(day); day != "" && (err != nil || n < 1 || n > 28) {
				v.Add(cp+".day", "must be a day of the month from 1 to 28")
			}
		}
		if c.Time != "" {
			if _, err := time.Parse("15:04", c.Time); err != nil {
				v.Add(cp+".time", "must be a time of day such as 08:00")
			}
		}
		if c.Timezone != "" {
			if _, err := time.LoadLocation(c.Timezone); err != nil {
				v.Add(cp+".timezone", "unknown time zone %q (an IANA name such as Europe/Berlin)", c.Timezone)
			}
		}
		for j, u := range c.Audience.Users {
			up := fmt.Sprintf("%s.audience.users[%d]", cp, j)
			if input.Check(v, up, input.Email, u) && len(doc.Users) > 0 {
				if _, ok := doc.User(u); !ok {
					v.Add(up, "no user %q on the desk", u)
				}
			}
		}
		for j, t := range c.Audience.Teams {
			if _, ok := doc.Team(t); !ok {
				v.Add(fmt.Sprintf("%s.audience.teams[%d]", cp, j), "unknown team %q", t)
			}
		}
		for j, e := range c.Audience.Emails {
			input.Check(v, fmt.Sprintf("%s.audience.emails[%d]", cp, j), input.Email, e)
		}
		for j, sec := range c.Sections {
			if !slices.Contains(Sections, sec) {
				v.Add(fmt.Sprintf("%s.sections[%d]", cp, j), "must be one of %s", strings.Join(Sections, ", "))
			}
		}
	}
	return v.Errors
}
