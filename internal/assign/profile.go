package assign

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/sla"
)

// Profile is a user's assignment settings as written in the desk document.
// It is meant to be embedded in desk.UserSpec (yaml ",inline"), so its keys
// sit next to email, name, role, markets and languages:
//
//	users:
//	  - email: ana@example.com
//	    name: Ana
//	    role: agent
//	    markets: [US]
//	    languages: [en, es]
//	    timezone: America/Los_Angeles
//	    shifts:
//	      mon: ["09:00-17:00"]
//	      tue: ["09:00-17:00"]
//	    holidays: US
//	    skills: ["logistics/", "payments/refund"]
//	    capacity: 15
type Profile struct {
	// Timezone is the IANA zone the shifts are read in; empty means the
	// default the caller passes (the team's or market's zone, else UTC).
	Timezone string `yaml:"timezone,omitempty" json:"timezone,omitempty"`
	// Shifts are weekly windows, "mon".."sun" → ["09:00-17:30"], in the
	// syntax of a calendar's hours. Empty means always on shift.
	Shifts map[string][]string `yaml:"shifts,omitempty" json:"shifts,omitempty"`
	// Holidays is a holiday region (as for calendars, e.g. "GB-ENG") whose
	// holidays are days off; empty means none.
	Holidays string `yaml:"holidays,omitempty" json:"holidays,omitempty"`
	// Skills are category keys ("payments/refund") or groups ending in "/"
	// ("logistics/") the agent handles; empty means every category.
	Skills []string `yaml:"skills,omitempty" json:"skills,omitempty"`
	// Capacity is the most weighted load the agent carries; 0 means the
	// team's capacity.
	Capacity int `yaml:"capacity,omitempty" json:"capacity,omitempty"`
}

// MaxCapacity bounds a capacity; anything larger is a typo.
const MaxCapacity = 1000

var reSkill = regexp.MustCompile(`^[a-z][a-z0-9_]*/([a-z][a-z0-9_]*)?$`)

// Validate reports every problem in the profile, with paths under prefix
// ("users[3]" gives "users[3].shifts.mon[0]"). known, when not nil, says
// whether a skill names a configured category or group; it is called with
// the skill as written ("logistics/" or "logistics/lost_parcel").
func (p Profile) Validate(prefix string, known func(skill string) bool) []apperr.FieldError {
	var errs []apperr.FieldError
	add := func(path, format string, a ...any) {
		errs = append(errs, apperr.FieldError{Field: join(prefix, path), Message: fmt.Sprintf(format, a...)})
	}

	if p.Timezone != "" {
		if _, err := time.LoadLocation(p.Timezone); err != nil || p.Timezone == "Local" {
			add("timezone", "%q is not an IANA time zone", p.Timezone)
		}
	}
	// The shift calendar's own checks, with its paths renamed to ours; the
	// zone was checked above.
	for _, e := range p.spec("UTC").Validate() {
		switch {
		case e.Field == "hours":
			add("shifts", "at least one day needs a shift window (leave shifts out for always on shift)")
		case strings.HasPrefix(e.Field, "hours."):
			add("shifts."+strings.TrimPrefix(e.Field, "hours."), "%s", e.Message)
		case e.Field == "holidays":
			add("holidays", "%s", e.Message)
		}
	}

	seen := map[string]bool{}
	for i, s := range p.Skills {
		path := fmt.Sprintf("skills[%d]", i)
		switch {
		case !reSkill.MatchString(s) && reSkill.MatchString(s+"/"):
			add(path, "%q is not a category key; write %q for the whole group", s, s+"/")
		case !reSkill.MatchString(s):
			add(path, "%q is not a category key (\"logistics/lost_parcel\") or group (\"logistics/\")", s)
		case seen[s]:
			add(path, "duplicate skill %q", s)
		case known != nil && !known(s):
			if strings.HasSuffix(s, "/") {
				add(path, "no category in group %q", s)
			} else {
				add(path, "unknown category %q", s)
			}
		}
		seen[s] = true
	}

	if p.Capacity < 0 || p.Capacity > MaxCapacity {
		add("capacity", "must be between 1 and %d (or 0 for the team's capacity)", MaxCapacity)
	}
	return errs
}

// spec is the shift calendar: the weekly shifts (or 24/7 when there are
// none) minus the holidays, in zone.
func (p Profile) spec(zone string) sla.CalendarSpec {
	return sla.CalendarSpec{
		Key:      "shifts",
		Timezone: zone,
		Always:   len(p.Shifts) == 0,
		Hours:    p.Shifts,
		Holidays: p.Holidays,
	}
}

// Shift compiles the agent's shift calendar in their zone (defaultZone
// when the profile names none, UTC when that is empty too). It returns nil
// for an agent who is always on shift.
func (p Profile) Shift(defaultZone string) (*sla.Calendar, error) {
	if len(p.Shifts) == 0 && p.Holidays == "" {
		return nil, nil
	}
	zone := p.Timezone
	if zone == "" {
		zone = defaultZone
	}
	if zone == "" {
		zone = "UTC"
	}
	return sla.Compile(p.spec(zone))
}

// NewAgent builds the runtime view of a user from the desk's fields and
// their profile. The caller fills in Teams, Away, Open and LastAssigned.
func NewAgent(email string, markets, languages []string, p Profile, defaultZone string) (Agent, error) {
	shift, err := p.Shift(defaultZone)
	if err != nil {
		return Agent{}, fmt.Errorf("shifts of %s: %w", email, err)
	}
	return Agent{
		Email:     email,
		Markets:   markets,
		Languages: languages,
		Skills:    p.Skills,
		Capacity:  p.Capacity,
		Shift:     shift,
	}, nil
}

// join puts a relative path under a prefix.
func join(prefix, path string) string {
	if prefix == "" {
		return path
	}
	return prefix + "." + path
}

// IsZero reports whether the profile sets nothing (all defaults).
func (p Profile) IsZero() bool {
	return p.Timezone == "" && len(p.Shifts) == 0 && p.Holidays == "" && len(p.Skills) == 0 && p.Capacity == 0
}
