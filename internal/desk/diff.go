package desk

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/flare-desk/flare/internal/sla"
)

// diffDoc describes how the stored document changes from prev to next, in
// document order: markets, teams, categories (and their fields),
// resolutions.
func diffDoc(prev, next *Config) []string {
	var out []string
	out = append(out, DiffList("market", prev.Markets, next.Markets,
		func(m Market) string { return m.Code },
		func(a, b Market) []string {
			return DiffFields("market "+a.Code,
				"name", a.Name, b.Name,
				"timezone", a.Timezone, b.Timezone,
				"languages", a.Languages, b.Languages,
				"holidays", a.Holidays, b.Holidays)
		})...)
	out = append(out, DiffList("calendar", prev.Calendars, next.Calendars,
		func(c sla.CalendarSpec) string { return c.Key },
		func(a, b sla.CalendarSpec) []string {
			return DiffFields("calendar "+a.Key,
				"name", a.Name, b.Name,
				"timezone", a.Timezone, b.Timezone,
				"always", a.Always, b.Always,
				"hours", a.Hours, b.Hours,
				"holidays", a.Holidays, b.Holidays,
				"closures", a.Closures, b.Closures,
				"special", a.Special, b.Special)
		})...)
	out = append(out, DiffList("team", prev.Teams, next.Teams,
		func(t Team) string { return t.Key },
		func(a, b Team) []string {
			return DiffFields("team "+a.Key,
				"name", a.Name, b.Name,
				"calendar", a.Calendar, b.Calendar,
				"handoff_within", a.HandoffWithin, b.HandoffWithin,
				"assignment", a.Assignment, b.Assignment)
		})...)
	out = append(out, DiffList("category", prev.Categories, next.Categories,
		func(c Category) string { return c.Key },
		func(a, b Category) []string {
			lines := DiffFields("category "+a.Key,
				"name", a.Name, b.Name,
				"team", a.Team, b.Team,
				"severity", a.Severity, b.Severity)
			return append(lines, DiffList("category "+a.Key+" field", a.Fields, b.Fields,
				func(f FieldDef) string { return f.Key },
				func(x, y FieldDef) []string {
					return DiffFields("category "+a.Key+" field "+x.Key,
						"label", x.Label, y.Label,
						"type", string(x.Type), string(y.Type),
						"required", x.Required, y.Required,
						"options", x.Options, y.Options,
						"currency", x.Currency, y.Currency)
				})...)
		})...)
	out = append(out, diffSet("resolution", prev.Resolutions, next.Resolutions)...)
	out = append(out, DiffList("SLA policy", prev.SLAPolicies, next.SLAPolicies,
		func(p sla.PolicySpec) string { return p.Name },
		func(a, b sla.PolicySpec) []string {
			return DiffFields("SLA policy "+a.Name,
				"match", a.Match, b.Match,
				"targets", a.Targets, b.Targets,
				"calendar", a.Calendar, b.Calendar,
				"warn_at", a.WarnAt, b.WarnAt,
				"pause", a.Pause, b.Pause)
		})...)
	return out
}

// DiffList compares two lists of items with keys: "<what> K added",
// "<what> K removed", and the lines of changed for items in both. A
// section's Diff builds its lines with it and DiffFields.
func DiffList[T any](what string, prev, next []T, key func(T) string, changed func(a, b T) []string) []string {
	var out []string
	old := make(map[string]T, len(prev))
	for _, p := range prev {
		old[key(p)] = p
	}
	seen := make(map[string]bool, len(next))
	for _, n := range next {
		k := key(n)
		seen[k] = true
		if p, ok := old[k]; ok {
			out = append(out, changed(p, n)...)
		} else {
			out = append(out, fmt.Sprintf("%s %s added", what, k))
		}
	}
	for _, p := range prev {
		if k := key(p); !seen[k] {
			out = append(out, fmt.Sprintf("%s %s removed", what, k))
		}
	}
	return out
}

// DiffFields takes (name, old, new) triples and describes those that differ
// as "<prefix> <name> old -> new". Lists of strings compare as lists (nil =
// empty) and read "[a, b]"; structs, maps and other lists read as JSON.
func DiffFields(prefix string, triples ...any) []string {
	var out []string
	for i := 0; i+2 < len(triples); i += 3 {
		name, a, b := triples[i].(string), triples[i+1], triples[i+2]
		if equalValue(a, b) {
			continue
		}
		out = append(out, fmt.Sprintf("%s %s %s -> %s", prefix, name, fmtValue(a), fmtValue(b)))
	}
	return out
}

func equalValue(a, b any) bool {
	if x, ok := a.([]string); ok {
		y, _ := b.([]string)
		return slices.Equal(x, y)
	}
	return reflect.DeepEqual(a, b)
}

func fmtValue(v any) string {
	switch x := v.(type) {
	case string:
		if x == "" {
			return `""`
		}
		return x
	case []string:
		return "[" + strings.Join(x, ", ") + "]"
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Struct, reflect.Map, reflect.Slice, reflect.Array: // settings blocks read best as they are written
		if b, err := json.Marshal(v); err == nil {
			return string(b)
		}
	}
	return fmt.Sprint(v)
}

// diffSet describes members added to and removed from a set of strings
// (compared without regard to case): "<what> X added", "<what> Y removed".
func diffSet(what string, prev, next []string) []string {
	var out []string
	old := map[string]bool{}
	for _, p := range prev {
		old[strings.ToLower(p)] = true
	}
	now := map[string]bool{}
	for _, n := range next {
		now[strings.ToLower(n)] = true
		if !old[strings.ToLower(n)] {
			out = append(out, fmt.Sprintf("%s %s added", what, n))
		}
	}
	for _, p := range prev {
		if !now[strings.ToLower(p)] {
			out = append(out, fmt.Sprintf("%s %s removed", what, p))
		}
	}
	return out
}
