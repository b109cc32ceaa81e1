// Package desk owns the desk configuration: markets, teams, the category
// taxonomy with its custom fields, resolution codes, sellers and the users
// who work the desk. The whole configuration is one YAML document: Parse
// reads and validates it, Marshal writes it back canonically, and Service
// applies it to the store in one transaction and serves the current version
// to the rest of Flare.
//
// Capabilities add their own top-level keys (routing rules, escalation
// policies…) as sections: each package defines its section with SectionOf
// and the wiring hands them to NewSchema, so a new capability adds no field
// to Config and no branch to its validation (see Schema).
package desk

import (
	"fmt"
	"net/mail"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // markets name IANA zones; a bare machine has no zoneinfo
	"weak"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/assign"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/input"
	"github.com/flare-desk/flare/internal/sla"
)

// Config is the whole desk configuration. Treat a Config as immutable once
// it has been parsed or loaded: the lookup methods index it on first use.
//
// Canonical form (what Schema.Parse, Marshal and Export produce): markets,
// teams, categories and resolutions keep the order they are written in;
// emails are lower-cased; users are sorted by email, sellers by id, team
// members by email; empty lists are nil; sections are in the form their
// Canonical gives and absent when empty.
type Config struct {
	Markets     []Market           `yaml:"markets" json:"markets,omitempty"`
	Calendars   []sla.CalendarSpec `yaml:"calendars,omitempty" json:"calendars,omitempty"` // business hours, holidays, closures
	Teams       []Team             `yaml:"teams" json:"teams,omitempty"`
	Categories  []Category         `yaml:"categories" json:"categories,omitempty"`
	Resolutions []string           `yaml:"resolutions" json:"resolutions,omitempty"` // resolution codes allowed when resolving a case
	// SLAPolicies are ordered: the first whose match fits a case sets its clocks.
	SLAPolicies []sla.PolicySpec `yaml:"sla_policies,omitempty" json:"sla_policies,omitempty"`
	Users       []UserSpec       `yaml:"users" json:"users,omitempty"`
	// Profiles keeps the users' assignment settings in the stored document
	// (users themselves live in the users table), keyed by lower-case email.
	Profiles map[string]assign.Profile `yaml:"-" json:"profiles,omitempty"`
	Sellers  []Seller                  `yaml:"sellers" json:"sellers,omitempty"`

	// sections holds the values of the sections capabilities registered
	// (see Schema), by key; read them with Get. Empty sections are absent.
	sections map[string]any
}

// Market is a country or region the marketplace sells in.
type Market struct {
	Code      string   `yaml:"code" json:"code"`                               // ISO 3166-1 alpha-2, e.g. "GB"
	Name      string   `yaml:"name" json:"name"`                               // display name
	Timezone  string   `yaml:"timezone" json:"timezone"`                       // IANA zone, e.g. "Europe/London"
	Languages []string `yaml:"languages,omitempty" json:"languages,omitempty"` // BCP 47 tags, e.g. "en", "fr-BE"
	Holidays  string   `yaml:"holidays,omitempty" json:"holidays,omitempty"`   // holiday country/region, e.g. "GB-ENG", "DE-BY", "US"
}

// Location returns the market's time zone (UTC if it does not load, which
// a validated config rules out).
func (m Market) Location() *time.Location {
	loc, err := time.LoadLocation(m.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Team is a group of people owning cases: governance, logistics, payments…
type Team struct {
	Key      string `yaml:"key" json:"key"`
	Name     string `yaml:"name" json:"name"`
	Calendar string `yaml:"calendar,omitempty" json:"calendar,omitempty"` // key of a calendar in calendars (the team's business hours)
	// Members are user emails. They are stored in team_members (auth), not
	// in the configuration document: Service.Config leaves them empty, while
	// Parse, Export and Marshal carry them.
	Members []string `yaml:"members,omitempty" json:"members,omitempty"`
	// HandoffWithin is how long the team has to answer a handoff by
	// default, in business time on its calendar ("4h", "90m"); empty means
	// DefaultHandoffWithin.
	HandoffWithin string `yaml:"handoff_within,omitempty" json:"handoff_within,omitempty"`
	// Assignment is how the team's cases find owners (strategy, capacity).
	Assignment assign.TeamSettings `yaml:"assignment,omitempty" json:"assignment,omitempty"`
}

// DefaultHandoffWithin is a team's handoff target when it sets none: one
// business day of nine open hours.
const DefaultHandoffWithin = 9 * time.Hour

// HandoffTarget is the business time the team has to answer a handoff.
func (t Team) HandoffTarget() time.Duration {
	if d, err := sla.ParseDuration(t.HandoffWithin); err == nil && d > 0 {
		return d
	}
	return DefaultHandoffWithin
}

// DefaultSeverity is a category's severity when the document gives none.
const DefaultSeverity = 3

// Category is one leaf of the two-level taxonomy, e.g. "logistics/lost_parcel".
type Category struct {
	Key      string     `yaml:"key" json:"key"` // "group/name"
	Name     string     `yaml:"name" json:"name"`
	Team     string     `yaml:"team" json:"team"`         // default owning team
	Severity int        `yaml:"severity" json:"severity"` // 1 (most severe) .. 4; 0 in a hand-built Config means DefaultSeverity
	Fields   []FieldDef `yaml:"fields,omitempty" json:"fields,omitempty"`
}

// Group is the first level of the category key ("logistics" for
// "logistics/lost_parcel").
func (c Category) Group() string {
	g, _, _ := strings.Cut(c.Key, "/")
	return g
}

// Field returns the definition of the custom field key.
func (c Category) Field(key string) (FieldDef, bool) {
	for _, f := range c.Fields {
		if f.Key == key {
			return f, true
		}
	}
	return FieldDef{}, false
}

// FieldType is the type of a custom field.
type FieldType string

const (
	FieldText           FieldType = "text"
	FieldNumber         FieldType = "number"
	FieldMoney          FieldType = "money"
	FieldDate           FieldType = "date"
	FieldSelect         FieldType = "select"
	FieldMultiSelect    FieldType = "multiselect"
	FieldOrderID        FieldType = "order_id"
	FieldTrackingNumber FieldType = "tracking_number"
	FieldCarrier        FieldType = "carrier"
)

// FieldTypes lists every custom field type.
var FieldTypes = []FieldType{FieldText, FieldNumber, FieldMoney, FieldDate, FieldSelect, FieldMultiSelect, FieldOrderID, FieldTrackingNumber, FieldCarrier}

// Valid reports whether t is a known field type.
func (t FieldType) Valid() bool {
	for _, x := range FieldTypes {
		if x == t {
			return true
		}
	}
	return false
}

// FieldDef defines a custom field of a category.
type FieldDef struct {
	Key      string    `yaml:"key" json:"key"`
	Label    string    `yaml:"label" json:"label"`
	Type     FieldType `yaml:"type" json:"type"`
	Required bool      `yaml:"required,omitempty" json:"required,omitempty"`
	Options  []string  `yaml:"options,omitempty" json:"options,omitempty"`   // select, multiselect; optional for carrier
	Currency string    `yaml:"currency,omitempty" json:"currency,omitempty"` // money: default ISO 4217 currency
}

// Seller is a marketplace business cases are about.
type Seller struct {
	ID             string   `yaml:"id" json:"id"` // external id, e.g. "S-1042"
	Name           string   `yaml:"name" json:"name"`
	Market         string   `yaml:"market" json:"market"`
	Tier           int      `yaml:"tier" json:"tier"`                                           // 1 (most important) .. 4
	AccountManager string   `yaml:"account_manager,omitempty" json:"account_manager,omitempty"` // user email
	RiskFlags      []string `yaml:"risk_flags,omitempty" json:"risk_flags,omitempty"`
	// Inactive is set only by SellerByID, for a seller that is no longer in
	// the applied document (sellers are never deleted: cases refer to them).
	// It is never read from or written to YAML.
	Inactive bool `yaml:"-" json:"inactive,omitempty"`
}

// UserSpec is a user as the desk document declares it. Every user in the
// document is active; users missing from it are deactivated on Apply.
type UserSpec struct {
	Email     string    `yaml:"email" json:"email"`
	Name      string    `yaml:"name" json:"name"`
	Role      auth.Role `yaml:"role" json:"role"`
	Markets   []string  `yaml:"markets,omitempty" json:"markets,omitempty"`     // market codes covered; empty means all
	Languages []string  `yaml:"languages,omitempty" json:"languages,omitempty"` // BCP 47 tags spoken
	// Assignment settings: time zone, shifts, skills, capacity.
	assign.Profile `yaml:",inline"`
}

// invalid is the error for a document with problems: every problem found,
// with its path; nothing was applied.
func invalid(errs ...apperr.FieldError) *apperr.Invalid {
	return &apperr.Invalid{Subject: "desk configuration", Errors: errs}
}

var (
	reMarketCode  = regexp.MustCompile(`^[A-Z]{2}$`)
	reHolidays    = regexp.MustCompile(`^[A-Z]{2}(-[A-Z0-9]{1,3})?$`)
	reKey         = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	reTeamKey     = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)       // teams read like "trust-safety"
	reCalendarKey = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`) // market calendars are keyed "GB", "DE", …
	reCategoryKey = regexp.MustCompile(`^[a-z][a-z0-9_]*/[a-z][a-z0-9_]*$`)
	reSellerID    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$`)
	reCurrency    = regexp.MustCompile(`^[A-Z]{3}$`)
)

const maxNameLen = 200

type errList []apperr.FieldError

func (l *errList) add(path, format string, args ...any) {
	*l = append(*l, apperr.FieldError{Field: path, Message: fmt.Sprintf(format, args...)})
}

func at(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// name checks a required display name.
func (l *errList) name(path, v string) {
	switch {
	case strings.TrimSpace(v) == "":
		l.add(path, "is required")
	case v != strings.TrimSpace(v):
		l.add(path, "must not start or end with spaces")
	case len(v) > maxNameLen:
		l.add(path, "is longer than %d bytes", maxNameLen)
	}
}

// languages checks a list of BCP 47 language tags.
func (l *errList) languages(path string, langs []string) {
	seen := map[string]bool{}
	for i, lang := range langs {
		p := at(path, i)
		canon, err := input.ParseLanguage(lang)
		if err != nil {
			l.add(p, "%s", err.Error())
		} else if seen[canon] {
			l.add(p, "duplicate language %q", lang)
		}
		seen[canon] = true
	}
}

// validateCore checks desk's own part of the configuration and returns
// every problem found. It does not modify c.
func (c *Config) validateCore() []apperr.FieldError {
	var errs errList

	markets := map[string]bool{}
	for i, m := range c.Markets {
		p := at("markets", i)
		switch {
		case !reMarketCode.MatchString(m.Code):
			errs.add(p+".code", "%q is not a market code of 2 uppercase letters", m.Code)
		case markets[m.Code]:
			errs.add(p+".code", "duplicate market %s", m.Code)
		}
		markets[m.Code] = true
		errs.name(p+".name", m.Name)
		if m.Timezone == "" {
			errs.add(p+".timezone", "is required")
		} else if _, err := time.LoadLocation(m.Timezone); err != nil || m.Timezone == "Local" {
			errs.add(p+".timezone", "%q is not an IANA time zone", m.Timezone)
		}
		if len(m.Languages) == 0 {
			errs.add(p+".languages", "at least one language is required")
		}
		errs.languages(p+".languages", m.Languages)
		if m.Holidays != "" && !reHolidays.MatchString(m.Holidays) {
			errs.add(p+".holidays", "%q is not a holiday region like \"US\", \"GB-ENG\" or \"DE-BY\"", m.Holidays)
		}
	}

	users := map[string]UserSpec{}
	admins := 0
	for i, u := range c.Users {
		p := at("users", i)
		email := strings.ToLower(u.Email)
		if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email || a.Name != "" {
			errs.add(p+".email", "%q is not an email address", u.Email)
		} else if _, dup := users[email]; dup {
			errs.add(p+".email", "duplicate user %s", u.Email)
		}
		users[email] = u
		errs.name(p+".name", u.Name)
		if !u.Role.Valid() {
			errs.add(p+".role", "%q is not a role (one of %s)", u.Role, joinRoles())
		} else if u.Role == auth.RoleAdmin {
			admins++
		}
		seen := map[string]bool{}
		for j, m := range u.Markets {
			switch {
			case !markets[m]:
				errs.add(at(p+".markets", j), "unknown market %q", m)
			case seen[m]:
				errs.add(at(p+".markets", j), "duplicate market %s", m)
			}
			seen[m] = true
		}
		errs.languages(p+".languages", u.Languages)
		for _, e := range u.Profile.Validate(p, c.knownSkill) {
			errs.add(e.Field, "%s", e.Message)
		}
	}
	if admins == 0 {
		errs.add("users", "at least one user with role admin is required")
	}

	calendars := map[string]bool{}
	for i, cal := range c.Calendars {
		p := at("calendars", i)
		if !reCalendarKey.MatchString(cal.Key) {
			errs.add(p+".key", "%q is not a calendar key (letters, digits, _ and -, starting with a letter)", cal.Key)
		} else if calendars[cal.Key] {
			errs.add(p+".key", "duplicate calendar %s", cal.Key)
		}
		calendars[cal.Key] = true
		for _, e := range cal.Validate() {
			if e.Field != "key" {
				errs.add(p+"."+e.Field, "%s", e.Message)
			}
		}
	}

	for i, p := range c.SLAPolicies {
		for _, e := range p.Validate(func(k string) bool { return calendars[k] }) {
			errs.add(at("sla_policies", i)+"."+e.Field, "%s", e.Message)
		}
	}

	teams := map[string]bool{}
	for i, t := range c.Teams {
		p := at("teams", i)
		switch {
		case !reTeamKey.MatchString(t.Key):
			errs.add(p+".key", "%q is not a team key (lowercase letters, digits, _ and -, starting with a letter)", t.Key)
		case teams[t.Key]:
			errs.add(p+".key", "duplicate team %s", t.Key)
		}
		teams[t.Key] = true
		errs.name(p+".name", t.Name)
		if t.Calendar != "" && !calendars[t.Calendar] {
			errs.add(p+".calendar", "no calendar %q in calendars", t.Calendar)
		}
		seen := map[string]bool{}
		for j, m := range t.Members {
			email := strings.ToLower(m)
			switch {
			case seen[email]:
				errs.add(at(p+".members", j), "duplicate member %s", m)
			case len(c.Users) > 0 && users[email].Email == "":
				errs.add(at(p+".members", j), "%q is not a user listed under users", m)
			}
			seen[email] = true
		}
		if t.HandoffWithin != "" {
			if d, err := sla.ParseDuration(t.HandoffWithin); err != nil {
				errs.add(p+".handoff_within", "%s", err.Error())
			} else if d <= 0 {
				errs.add(p+".handoff_within", "must be longer than zero")
			}
		}
		for _, e := range t.Assignment.Validate(p + ".assignment") {
			errs.add(e.Field, "%s", e.Message)
		}
	}

	categories := map[string]bool{}
	for i, cat := range c.Categories {
		p := at("categories", i)
		switch {
		case !reCategoryKey.MatchString(cat.Key):
			errs.add(p+".key", "%q is not a category key like \"logistics/lost_parcel\" (two lowercase snake_case levels)", cat.Key)
		case categories[cat.Key]:
			errs.add(p+".key", "duplicate category %s", cat.Key)
		}
		categories[cat.Key] = true
		errs.name(p+".name", cat.Name)
		if cat.Team == "" {
			errs.add(p+".team", "is required")
		} else if !teams[cat.Team] {
			errs.add(p+".team", "unknown team %q", cat.Team)
		}
		if cat.Severity != 0 && (cat.Severity < 1 || cat.Severity > 4) {
			errs.add(p+".severity", "must be 1 (most severe) to 4, not %d", cat.Severity)
		}
		fields := map[string]bool{}
		for j, f := range cat.Fields {
			validateFieldDef(&errs, at(p+".fields", j), f, fields)
		}
	}

	if len(c.Resolutions) == 0 {
		errs.add("resolutions", "at least one resolution code is required")
	}
	resolutions := map[string]bool{}
	for i, r := range c.Resolutions {
		switch {
		case !reKey.MatchString(r):
			errs.add(at("resolutions", i), "%q is not a snake_case code", r)
		case resolutions[r]:
			errs.add(at("resolutions", i), "duplicate resolution %s", r)
		}
		resolutions[r] = true
	}

	sellers := map[string]bool{}
	for i, s := range c.Sellers {
		p := at("sellers", i)
		switch {
		case !reSellerID.MatchString(s.ID):
			errs.add(p+".id", "%q is not a seller id (letters, digits and . _ : / -, at most 64)", s.ID)
		case sellers[s.ID]:
			errs.add(p+".id", "duplicate seller %s", s.ID)
		}
		sellers[s.ID] = true
		errs.name(p+".name", s.Name)
		if s.Market == "" {
			errs.add(p+".market", "is required")
		} else if !markets[s.Market] {
			errs.add(p+".market", "unknown market %q", s.Market)
		}
		if s.Tier < 1 || s.Tier > 4 {
			errs.add(p+".tier", "must be 1 (most important) to 4, not %d", s.Tier)
		}
		if s.AccountManager != "" && len(c.Users) > 0 && users[strings.ToLower(s.AccountManager)].Email == "" {
			errs.add(p+".account_manager", "%q is not a user listed under users", s.AccountManager)
		}
		seen := map[string]bool{}
		for j, f := range s.RiskFlags {
			switch {
			case !reKey.MatchString(f):
				errs.add(at(p+".risk_flags", j), "%q is not a snake_case flag", f)
			case seen[f]:
				errs.add(at(p+".risk_flags", j), "duplicate risk flag %s", f)
			}
			seen[f] = true
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func validateFieldDef(errs *errList, p string, f FieldDef, seen map[string]bool) {
	switch {
	case !reKey.MatchString(f.Key):
		errs.add(p+".key", "%q is not a field key (lowercase letters, digits and _, starting with a letter)", f.Key)
	case seen[f.Key]:
		errs.add(p+".key", "duplicate field %s", f.Key)
	}
	seen[f.Key] = true
	errs.name(p+".label", f.Label)
	if !f.Type.Valid() {
		errs.add(p+".type", "%q is not a field type (one of %s)", f.Type, joinFieldTypes())
	}
	switch f.Type {
	case FieldSelect, FieldMultiSelect:
		if len(f.Options) == 0 {
			errs.add(p+".options", "a %s field needs options", f.Type)
		}
	case FieldCarrier:
	default:
		if len(f.Options) > 0 {
			errs.add(p+".options", "only select, multiselect and carrier fields take options")
		}
	}
	opts := map[string]bool{}
	for k, o := range f.Options {
		switch {
		case strings.TrimSpace(o) == "" || o != strings.TrimSpace(o) || len(o) > maxNameLen:
			errs.add(at(p+".options", k), "%q is not an option (non-empty, no surrounding spaces, at most %d bytes)", o, maxNameLen)
		case opts[o]:
			errs.add(at(p+".options", k), "duplicate option %q", o)
		}
		opts[o] = true
	}
	if f.Currency != "" {
		if f.Type != FieldMoney {
			errs.add(p+".currency", "only money fields take a currency")
		} else if !reCurrency.MatchString(f.Currency) {
			errs.add(p+".currency", "%q is not an ISO 4217 currency code like \"EUR\"", f.Currency)
		}
	}
}

func joinRoles() string {
	s := make([]string, len(auth.Roles))
	for i, r := range auth.Roles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

func joinFieldTypes() string {
	s := make([]string, len(FieldTypes))
	for i, t := range FieldTypes {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// index maps keys to positions in a Config's slices. It lives outside the
// Config (keyed by a weak pointer) so that a Config stays a plain value that
// reflect.DeepEqual and encoders see as its exported fields only.
type index struct {
	markets, teams, categories map[string]int
	resolutions                map[string]bool
	users                      map[string]int // by lower-case email
	calendars                  map[string]*sla.Calendar
	memo                       sync.Map // memoKey -> what Memo built
}

var indexes sync.Map // weak.Pointer[Config] -> *index

func (c *Config) index() *index {
	wp := weak.Make(c)
	if v, ok := indexes.Load(wp); ok {
		return v.(*index)
	}
	ix := &index{
		markets:     make(map[string]int, len(c.Markets)),
		teams:       make(map[string]int, len(c.Teams)),
		categories:  make(map[string]int, len(c.Categories)),
		resolutions: make(map[string]bool, len(c.Resolutions)),
	}
	for i, m := range c.Markets {
		ix.markets[m.Code] = i
	}
	for i, t := range c.Teams {
		ix.teams[t.Key] = i
	}
	for i, cat := range c.Categories {
		ix.categories[cat.Key] = i
	}
	for _, r := range c.Resolutions {
		ix.resolutions[r] = true
	}
	ix.users = make(map[string]int, len(c.Users))
	for i, u := range c.Users {
		ix.users[strings.ToLower(u.Email)] = i
	}
	ix.calendars = make(map[string]*sla.Calendar, len(c.Calendars))
	for _, spec := range c.Calendars {
		if cal, err := sla.Compile(spec); err == nil { // a validated config compiles
			ix.calendars[spec.Key] = cal
		}
	}
	if v, loaded := indexes.LoadOrStore(wp, ix); loaded {
		return v.(*index)
	}
	runtime.AddCleanup(c, func(k weak.Pointer[Config]) { indexes.Delete(k) }, wp)
	return ix
}

// Market returns the market with the code.
func (c *Config) Market(code string) (Market, bool) {
	if i, ok := c.index().markets[code]; ok && i < len(c.Markets) {
		return c.Markets[i], true
	}
	return Market{}, false
}

// Team returns the team with the key.
func (c *Config) Team(key string) (Team, bool) {
	if i, ok := c.index().teams[key]; ok && i < len(c.Teams) {
		return c.Teams[i], true
	}
	return Team{}, false
}

// Category returns the category with the key ("group/name"), its severity
// defaulted.
func (c *Config) Category(key string) (Category, bool) {
	if i, ok := c.index().categories[key]; ok && i < len(c.Categories) {
		cat := c.Categories[i]
		if cat.Severity == 0 {
			cat.Severity = DefaultSeverity
		}
		return cat, true
	}
	return Category{}, false
}

// User returns the user with the email (compared without regard to case).
// Only a document being parsed or applied has users: a stored one (what
// Service.Config returns) has none.
func (c *Config) User(email string) (UserSpec, bool) {
	if i, ok := c.index().users[strings.ToLower(email)]; ok && i < len(c.Users) {
		return c.Users[i], true
	}
	return UserSpec{}, false
}

// Calendar returns the compiled calendar with the key.
func (c *Config) Calendar(key string) (*sla.Calendar, bool) {
	cal, ok := c.index().calendars[key]
	return cal, ok
}

// HasResolution reports whether code is an allowed resolution code.
func (c *Config) HasResolution(code string) bool { return c.index().resolutions[code] }

// knownSkill reports whether skill names a category ("payments/refund") or
// a category group ("logistics/").
func (c *Config) knownSkill(skill string) bool {
	for _, cat := range c.Categories {
		if cat.Key == skill || cat.Group()+"/" == skill {
			return true
		}
	}
	return false
}

// CheckTeams adds a problem to v for each of keys that names no team, as
// field: a list filter names what exists or is refused.
func (c *Config) CheckTeams(v *apperr.Invalid, field string, keys []string) {
	for _, k := range keys {
		if _, ok := c.Team(k); !ok {
			v.Add(field, "unknown team %q", k)
		}
	}
}

// CheckMarkets is CheckTeams for market codes.
func (c *Config) CheckMarkets(v *apperr.Invalid, field string, codes []string) {
	for _, m := range codes {
		if _, ok := c.Market(m); !ok {
			v.Add(field, "unknown market %q", m)
		}
	}
}
