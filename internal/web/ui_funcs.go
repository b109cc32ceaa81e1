package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/desk"
)

// funcs are the template helpers. They format; they never decide.
func (u *ui) funcs() template.FuncMap {
	return template.FuncMap{
		"age":          func(t time.Time) string { return shortAge(u.s.app.Clock.Now().Sub(t)) },
		"ago":          func(t time.Time) string { return agoText(u.s.app.Clock.Now().Sub(t)) },
		"when":         func(t any) string { return fmtTime(timeOf(t)) },
		"iso":          func(t any) string { return timeOf(t).UTC().Format(time.RFC3339) },
		"who":          who,
		"loadOf":       loadOf, // ui_capacity.go
		"dict":         dict,
		"statusLabel":  func(s any) string { return humanize(fmt.Sprint(s)) },
		"humanize":     humanize,
		"reasonsTitle": reasonsTitle,
		"catName":      catName,
		"teamName":     teamName,
		"marketName":   marketName,
		"fieldValue":   fieldValue,
		"fieldRows":    fieldRows,
		"changes":      changeViews,
		"str":          dataString,
		"flag":         dataBool,
		"bodyHTML":     bodyHTML,
		"in":           slices.Contains[[]string, string],
		"deref": func(s *string) string {
			if s == nil {
				return ""
			}
			return *s
		},
		"initials":   initials,
		"join":       strings.Join,
		"fieldName":  func(cat, key string) string { return "field." + cat + "." + key },
		"isStatus":   func(s cases.Status, name string) bool { return string(s) == name },
		"levels":     func() []int { return []int{1, 2, 3, 4, 5} },
		"levelName":  levelName,
		"priorities": func() []string { return cases.Priorities },
		"queryWith":  queryWith,
		"sortLink":   sortLink, // ui_list.go
		"can":        func(a *auth.Actor, p string) bool { return a != nil && a.Can(auth.Permission(p)) },
		"nowISO":     func() string { return u.s.app.Clock.Now().UTC().Format(time.RFC3339) },
		"caseDue": func(c *cases.Case) *dueView {
			ck, ok := urgentClock(c.SLA)
			if !ok {
				return nil
			}
			v := clockDue(u.s.app.Clock.Now(), ck)
			return &v
		},
		"clockDue":   func(ck cases.Clock) dueView { return clockDue(u.s.app.Clock.Now(), ck) },
		"metricName": metricName,
		"targetText": targetText,
		"calName":    calName,
	}
}

// shortAge is a compact age for tables: 45s, 12m, 3h, 2d, 5w.
func shortAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	case d < 8*7*24*time.Hour:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	return strconv.Itoa(int(d/(7*24*time.Hour))) + "w"
}

// agoText is a relative time for the timeline: "just now", "5 minutes ago".
func agoText(d time.Duration) string {
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit + " ago"
		}
		return strconv.Itoa(n) + " " + unit + "s ago"
	}
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour")
	}
	return plural(int(d/(24*time.Hour)), "day")
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2 Jan 2006, 15:04 UTC")
}

// timeOf accepts a time.Time or a *time.Time (nil: the zero time).
func timeOf(t any) time.Time {
	switch x := t.(type) {
	case time.Time:
		return x
	case *time.Time:
		if x != nil {
			return *x
		}
	}
	return time.Time{}
}

// who names an event's actor: the user's name, else email, else Flare itself.
func who(e cases.Event) string {
	switch {
	case e.ActorName != "":
		return e.ActorName
	case e.Actor != nil:
		return *e.Actor
	}
	return "Flare"
}

// dict builds a map for passing several values to a sub-template.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// humanize turns a key such as "pending_internal" into "Pending internal".
func humanize(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// reasonsTitle is the tooltip of a priority badge.
func reasonsTitle(p string, reasons []cases.Reason) string {
	if len(reasons) == 0 {
		return p + ": no raising factors"
	}
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = reasonText(r)
	}
	return p + " because: " + strings.Join(parts, "; ")
}

func reasonText(r cases.Reason) string {
	if r.Factor == "override" {
		return "set by hand: " + r.Detail
	}
	if r.Points > 0 {
		return fmt.Sprintf("%s (+%d)", r.Detail, r.Points)
	}
	return r.Detail
}

func catName(cfg *desk.Config, key string) string {
	if c, ok := cfg.Category(key); ok {
		return c.Name
	}
	return key
}

func teamName(cfg *desk.Config, key string) string {
	if t, ok := cfg.Team(key); ok {
		return t.Name
	}
	return key
}

func marketName(cfg *desk.Config, code string) string {
	if m, ok := cfg.Market(code); ok {
		return m.Name
	}
	return code
}

func levelName(n int) string {
	names := map[int]string{1: "L1 frontline", 2: "L2 escalation specialist", 3: "L3 specialist team / lead",
		4: "L4 emergency program manager", 5: "L5 leadership"}
	if s, ok := names[n]; ok {
		return s
	}
	return "L" + strconv.Itoa(n)
}

// fieldValue formats a stored custom field or changed value for people.
func fieldValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case string:
		if x == "" {
			return "—"
		}
		return x
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []string:
		if len(x) == 0 {
			return "—"
		}
		return strings.Join(x, ", ")
	case []any:
		if len(x) == 0 {
			return "—"
		}
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fieldValue(e)
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		if amt, ok := x["amount"].(string); ok && len(x) <= 2 {
			cur, _ := x["currency"].(string)
			return strings.TrimSpace(amt + " " + cur)
		}
		if email, ok := x["email"].(string); ok && len(x) <= 2 { // a requester
			name, _ := x["name"].(string)
			switch {
			case name == "" && email == "":
				return "—"
			case email == "":
				return name
			case name == "":
				return email
			}
			return name + " <" + email + ">"
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) == 0 {
			return "—"
		}
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + fieldValue(x[k])
		}
		return strings.Join(parts, ", ")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// fieldRow is one custom field on the case page.
type fieldRow struct{ Label, Value string }

// fieldRows lists a case's custom fields: the category's in its order, then
// any left over from an earlier category.
func fieldRows(cat desk.Category, values map[string]any) []fieldRow {
	var out []fieldRow
	seen := map[string]bool{}
	for _, f := range cat.Fields {
		if v, ok := values[f.Key]; ok {
			out = append(out, fieldRow{f.Label, fieldValue(v)})
			seen[f.Key] = true
		}
	}
	var rest []string
	for k := range values {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		out = append(out, fieldRow{humanize(k), fieldValue(values[k])})
	}
	return out
}

// changeView is one old → new line of an update event.
type changeView struct{ Field, Old, New string }

func changeViews(data map[string]any) []changeView {
	list, _ := data["changes"].([]any)
	var out []changeView
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		field, _ := m["field"].(string)
		cv := changeView{Field: humanize(field), Old: fieldValue(m["old"]), New: fieldValue(m["new"])}
		if field == "escalation_level" {
			if n, ok := m["new"].(float64); ok {
				cv.New = levelName(int(n))
			}
			if n, ok := m["old"].(float64); ok {
				cv.Old = levelName(int(n))
			}
		}
		if field == "status" || field == "sensitivity" {
			cv.Old, cv.New = humanize(cv.Old), humanize(cv.New)
		}
		out = append(out, cv)
	}
	return out
}

func dataString(data map[string]any, key string) string {
	switch v := data[key].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fieldValue(v)
	}
}

func dataBool(data map[string]any, key string) bool {
	b, _ := data[key].(bool)
	return b
}

// bodyHTML returns a comment event's rendered body. The case service made
// body_html from Markdown and sanitised it (bluemonday's UGC policy); it is
// the one value the templates trust as HTML.
func bodyHTML(data map[string]any) template.HTML {
	s, _ := data["body_html"].(string)
	return template.HTML(s) //nolint:gosec // sanitised by cases.Markdown
}

func initials(name string) string {
	var out []rune
	for _, w := range strings.Fields(name) {
		r := []rune(w)
		if len(r) > 0 && unicode.IsLetter(r[0]) {
			out = append(out, unicode.ToUpper(r[0]))
		}
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}

// queryWith returns the query string of v with key set to val (empty: removed)
// and the cursor dropped, for filter links.
func queryWith(v url.Values, key, val string) string {
	n := url.Values{}
	for k, vs := range v {
		if k != "cursor" && len(vs) > 0 && vs[0] != "" {
			n.Set(k, vs[0])
		}
	}
	if val == "" {
		n.Del(key)
	} else {
		n.Set(key, val)
	}
	if len(n) == 0 {
		return "/cases"
	}
	return "/cases?" + n.Encode()
}

// --- SLA clocks ---

// dueView is an SLA clock's countdown as the UI shows it. The page renders
// Text; flare.js recomputes it from Due (and Warn) every 30 seconds.
type dueView struct {
	Class string     // ok, warning, breached, paused or met
	Text  string     // "2h 14m", "overdue 35m", "paused", "met"
	Title string     // a longer explanation for the tooltip
	Due   *time.Time // nil for paused and met clocks
	Warn  *time.Time
	Late  bool // met, but at or after its due time
}

// urgentClock is the clock a queue row shows: of the running and breached
// clocks the one due first, else a paused one; met clocks are not shown.
func urgentClock(cs []cases.Clock) (cases.Clock, bool) {
	var best, paused *cases.Clock
	for i := range cs {
		ck := &cs[i]
		switch ck.State {
		case "running", "breached":
			if best == nil || dueBefore(ck.DueAt, best.DueAt) {
				best = ck
			}
		case "paused":
			if paused == nil {
				paused = ck
			}
		}
	}
	switch {
	case best != nil:
		return *best, true
	case paused != nil:
		return *paused, true
	}
	return cases.Clock{}, false
}

// dueBefore orders due times, a missing one last.
func dueBefore(a, b *time.Time) bool {
	switch {
	case a == nil:
		return false
	case b == nil:
		return true
	}
	return a.Before(*b)
}

// clockDue describes ck at now.
func clockDue(now time.Time, ck cases.Clock) dueView {
	switch ck.State {
	case "met":
		v := dueView{Class: "met", Text: "met"}
		if ck.MetAt != nil && ck.DueAt != nil && !ck.MetAt.Before(*ck.DueAt) {
			v.Late, v.Text = true, "met late"
		}
		return v
	case "paused":
		v := dueView{Class: "paused", Text: "paused"}
		if ck.RemainingSeconds > 0 {
			v.Title = "Paused with " + countdown(time.Duration(ck.RemainingSeconds)*time.Second) + " left"
		} else {
			v.Title = "Paused"
		}
		if ck.Business {
			v.Title += " (business time)"
		}
		return v
	}
	v := dueView{Due: ck.DueAt, Warn: ck.WarnAt}
	if ck.DueAt == nil { // no deadline: only the stored remaining time
		left := time.Duration(ck.RemainingSeconds) * time.Second
		v.Class, v.Text = "ok", countdown(left)
		if left < 0 || ck.State == "breached" {
			v.Class, v.Text = "breached", "overdue "+countdown(-left)
		}
		return v
	}
	left := ck.DueAt.Sub(now)
	switch {
	case ck.State == "breached" || left <= 0:
		v.Class, v.Text = "breached", "overdue "+countdown(-left)
		v.Title = "Was due " + fmtTime(*ck.DueAt)
		return v
	case ck.WarnAt != nil && !now.Before(*ck.WarnAt):
		v.Class = "warning"
	default:
		v.Class = "ok"
	}
	v.Text = countdown(left)
	v.Title = "Due " + fmtTime(*ck.DueAt)
	return v
}

// countdown is a compact duration, rounded down to the minute: "<1m",
// "35m", "2h 14m", "3d 4h". flare.js formats the same way.
func countdown(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	m := int64(d / time.Minute)
	switch {
	case m < 1:
		return "<1m"
	case m < 60:
		return strconv.FormatInt(m, 10) + "m"
	case m < 48*60:
		return strconv.FormatInt(m/60, 10) + "h " + strconv.FormatInt(m%60, 10) + "m"
	}
	return strconv.FormatInt(m/(24*60), 10) + "d " + strconv.FormatInt(m/60%24, 10) + "h"
}

// metricName names a clock's metric in words.
func metricName(m any) string {
	switch s := fmt.Sprint(m); s {
	case "first_response":
		return "First response"
	case "next_response":
		return "Next response"
	case "resolution":
		return "Resolution"
	default:
		return humanize(s)
	}
}

// targetText is a clock's target in words: "4h business", "1d calendar",
// "1h 30m calendar".
func targetText(ck cases.Clock) string {
	kind := " calendar"
	if ck.Business {
		kind = " business"
	}
	d, err := time.ParseDuration(ck.Target)
	if err != nil || d <= 0 {
		return ck.Target + kind
	}
	var parts []string
	if days := d / (24 * time.Hour); days > 0 && d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(days)) + "d" + kind
	}
	if h := d / time.Hour; h > 0 {
		parts = append(parts, strconv.Itoa(int(h))+"h")
	}
	if m := d % time.Hour / time.Minute; m > 0 {
		parts = append(parts, strconv.Itoa(int(m))+"m")
	}
	if s := d % time.Minute / time.Second; s > 0 || len(parts) == 0 {
		parts = append(parts, strconv.Itoa(int(s))+"s")
	}
	return strings.Join(parts, " ") + kind
}

// calName names an SLA clock's calendar; a clock without one counts 24/7.
func calName(cfg *desk.Config, key string) string {
	if key == "" {
		return "24/7"
	}
	for _, c := range cfg.Calendars {
		if c.Key == key && c.Name != "" {
			return c.Name
		}
	}
	return key
}
