package assign

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/sla"
)

// Agent is a user as assignment sees them at one moment: what they cover,
// their shift calendar, whether they are away and what they already own.
type Agent struct {
	Email     string
	Teams     []string      // team keys the agent is a member of; nil: not checked
	Markets   []string      // market codes covered; empty: all
	Languages []string      // BCP 47 tags spoken; empty: all
	Skills    []string      // category keys or "group/" prefixes; empty: all
	Capacity  int           // most weighted load; 0: the team's
	Shift     *sla.Calendar // shift calendar in the agent's zone; nil: always on shift
	Away      bool          // out of office: gets nothing
	// Open counts the agent's open cases by priority ("P1" → 2). The caller
	// decides which statuses count (new, open and pending ones, usually).
	Open map[string]int
	// LastAssigned is when the agent last got a case (zero: never); it
	// breaks ties in LeastLoaded.
	LastAssigned time.Time
}

// Case is what assignment needs to know about a case.
type Case struct {
	Team     string // owning team key; "": not checked
	Category string // "logistics/lost_parcel"
	Market   string // "GB"; "": any agent covers it
	Language string // BCP 47, "fr-BE"; "": anyone can take it
	Priority string // "P1".."P4"
}

// Code names a rule an agent failed, for the UI and the timeline.
type Code string

const (
	CodeAway     Code = "away"
	CodeTeam     Code = "team"
	CodeMarket   Code = "market"
	CodeLanguage Code = "language"
	CodeSkill    Code = "skill"
	CodeOffShift Code = "off_shift"
	CodeCapacity Code = "capacity"
)

// Reason says why an agent cannot have a case.
type Reason struct {
	Code  Code      `json:"code"`
	Text  string    `json:"reason"`         // "off shift until Mon 9 Mar 09:00 PDT"
	Until time.Time `json:"until,omitzero"` // off_shift: the next shift start
}

func (r Reason) String() string { return r.Text }

// Eligible reports whether the agent may be given the case now under the
// team's settings, and if not, the first rule that fails.
func Eligible(a Agent, c Case, now time.Time, s TeamSettings) (bool, Reason) {
	if ok, r := static(a, c); !ok {
		return false, r
	}
	if s.ShiftRequired() && a.Shift != nil && !a.Shift.IsOpen(now) {
		next := a.Shift.NextOpen(now).In(a.Shift.Location())
		return false, Reason{Code: CodeOffShift, Until: next,
			Text: "off shift until " + next.Format("Mon 2 Jan 15:04 MST")}
	}
	load, capacity, w := s.Load(a.Open), s.CapacityOf(a), s.Weight(c.Priority)
	if load+w > capacity {
		return false, Reason{Code: CodeCapacity,
			Text: fmt.Sprintf("at capacity: %d/%d, a %s adds %d", load, capacity, c.Priority, w)}
	}
	return true, Reason{}
}

// static checks the rules that do not depend on time or load; take-next
// uses the same rules through Filter.
func static(a Agent, c Case) (bool, Reason) {
	switch {
	case a.Away:
		return false, Reason{Code: CodeAway, Text: "away (out of office)"}
	case c.Team != "" && a.Teams != nil && !slices.Contains(a.Teams, c.Team):
		return false, Reason{Code: CodeTeam, Text: "not a member of team " + c.Team}
	case !covers(a.Markets, c.Market):
		return false, Reason{Code: CodeMarket, Text: "does not cover market " + c.Market}
	case !speaks(a.Languages, c.Language):
		return false, Reason{Code: CodeLanguage, Text: "does not speak " + c.Language}
	case !handles(a.Skills, c.Category):
		return false, Reason{Code: CodeSkill, Text: "category " + c.Category + " is outside their skills"}
	}
	return true, Reason{}
}

// covers: no markets means all, and a case with no market fits anyone.
func covers(markets []string, market string) bool {
	return len(markets) == 0 || market == "" ||
		slices.ContainsFunc(markets, func(m string) bool { return strings.EqualFold(m, market) })
}

// speaks compares base languages, so "fr-BE" and "fr" match either way.
func speaks(langs []string, lang string) bool {
	if len(langs) == 0 || lang == "" {
		return true
	}
	b := baseLang(lang)
	return slices.ContainsFunc(langs, func(l string) bool { return baseLang(l) == b })
}

// handles: a skill is a category key or a "group/" prefix.
func handles(skills []string, category string) bool {
	return len(skills) == 0 || category == "" || slices.ContainsFunc(skills, func(s string) bool {
		if strings.HasSuffix(s, "/") {
			return strings.HasPrefix(category, s)
		}
		return s == category
	})
}

// baseLang is the lower-case primary language subtag: "fr-BE" → "fr".
func baseLang(tag string) string {
	b, _, _ := strings.Cut(tag, "-")
	return strings.ToLower(b)
}
