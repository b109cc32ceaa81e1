package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/input"
)

// Mapping says how a sender's JSON becomes a case: each field is a
// template (template.go). Unset fields stay empty (the endpoint's defaults
// and the case rules fill them: a market's first language, …).
type Mapping struct {
	Title          string            `yaml:"title" json:"title"`
	Description    string            `yaml:"description,omitempty" json:"description,omitempty"`
	Category       string            `yaml:"category,omitempty" json:"category,omitempty"`
	Market         string            `yaml:"market,omitempty" json:"market,omitempty"`
	Language       string            `yaml:"language,omitempty" json:"language,omitempty"`
	SellerID       string            `yaml:"seller_id,omitempty" json:"seller_id,omitempty"`
	RequesterName  string            `yaml:"requester_name,omitempty" json:"requester_name,omitempty"`
	RequesterEmail string            `yaml:"requester_email,omitempty" json:"requester_email,omitempty"`
	HighRisk       string            `yaml:"high_risk,omitempty" json:"high_risk,omitempty"`
	Tags           []string          `yaml:"tags,omitempty" json:"tags,omitempty"`
	Fields         map[string]string `yaml:"fields,omitempty" json:"fields,omitempty"`
}

// Defaults fill a case's category and market when the mapping leaves them
// empty (an optional pointer the payload lacks).
type Defaults struct {
	Category string `yaml:"category,omitempty" json:"category,omitempty"`
	Market   string `yaml:"market,omitempty" json:"market,omitempty"`
}

// MaxExternalID is the longest external id (in characters).
const MaxExternalID = 255

// compiled is a mapping's templates, parsed once.
type compiled struct {
	text       []textField // the string fields, in field order
	highRisk   template
	tags       []template
	fields     []namedTemplate
	externalID template
	defaults   Defaults
}

type textField struct {
	name string // the case field ("title", "requester.email")
	t    template
	set  func(in *cases.CreateInput, s string)
}

type namedTemplate struct {
	name string
	t    template
}

// templates lists the mapping's templates with their paths under map.
func (m Mapping) templates() []namedTemplate {
	out := []namedTemplate{{"title", tmplOf(m.Title)}, {"description", tmplOf(m.Description)},
		{"category", tmplOf(m.Category)}, {"market", tmplOf(m.Market)}, {"language", tmplOf(m.Language)},
		{"seller_id", tmplOf(m.SellerID)}, {"requester_name", tmplOf(m.RequesterName)},
		{"requester_email", tmplOf(m.RequesterEmail)}, {"high_risk", tmplOf(m.HighRisk)}}
	for i, t := range m.Tags {
		out = append(out, namedTemplate{fmt.Sprintf("tags[%d]", i), tmplOf(t)})
	}
	for _, k := range slices.Sorted(maps.Keys(m.Fields)) {
		out = append(out, namedTemplate{"fields." + k, tmplOf(m.Fields[k])})
	}
	return out
}

// tmplOf keeps the source text; parse errors are found by validate.
func tmplOf(s string) template { return template{parts: []part{{text: s}}} }

// validateMapping checks every template of m, with the external id's.
func validateMapping(v *apperr.Invalid, path string, m Mapping, externalID string) {
	if strings.TrimSpace(m.Title) == "" {
		v.Add(path+".map.title", "is required: a template for the case's title, such as \"{{/user/name}} on {{/platform}}\"")
	}
	for _, nt := range m.templates() {
		kind := input.Reason // one line
		if nt.name == "description" {
			kind = input.Text
		}
		check(v, path+".map."+nt.name, kind, nt.t.parts[0].text)
	}
	if externalID != "" {
		check(v, path+".external_id", input.Reason, externalID)
	}
	if len(m.Tags) > 20 {
		v.Add(path+".map.tags", "at most 20 tags")
	}
}

func check(v *apperr.Invalid, path string, kind input.Kind, s string) {
	if !input.Check(v, path, kind, s) {
		return
	}
	if _, err := parseTemplate(s); err != nil {
		v.Add(path, "%s", err.Error())
	}
}

// compile parses a validated mapping.
func compile(m Mapping, externalID string, d Defaults) *compiled {
	c := &compiled{highRisk: mustTemplate(m.HighRisk), externalID: mustTemplate(externalID), defaults: d}
	str := func(name, src string, set func(in *cases.CreateInput, s string)) {
		c.text = append(c.text, textField{name, mustTemplate(src), set})
	}
	str("title", m.Title, func(in *cases.CreateInput, s string) { in.Title = truncate(s, input.Title.Max()) })
	str("description", m.Description, func(in *cases.CreateInput, s string) { in.Description = s })
	str("category", m.Category, func(in *cases.CreateInput, s string) { in.Category = s })
	str("market", m.Market, func(in *cases.CreateInput, s string) { in.Market = s })
	str("language", m.Language, func(in *cases.CreateInput, s string) { in.Language = s })
	str("seller_id", m.SellerID, func(in *cases.CreateInput, s string) { in.SellerID = s })
	str("requester_name", m.RequesterName, func(in *cases.CreateInput, s string) { requester(in).Name = s })
	str("requester_email", m.RequesterEmail, func(in *cases.CreateInput, s string) { requester(in).Email = s })
	for _, t := range m.Tags {
		c.tags = append(c.tags, mustTemplate(t))
	}
	for _, k := range slices.Sorted(maps.Keys(m.Fields)) {
		c.fields = append(c.fields, namedTemplate{k, mustTemplate(m.Fields[k])})
	}
	return c
}

func requester(in *cases.CreateInput) *cases.Requester {
	if in.Requester == nil {
		in.Requester = &cases.Requester{}
	}
	return in.Requester
}

// truncate shortens s to max characters, ending it with "…" when cut: a
// post's text makes a fine title, only too long.
func truncate(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ") // one line
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:max-1])) + "…"
}

// apply maps doc to a case and its external id. A failure is an
// *apperr.Invalid whose fields are the mapping's ("map.title") and whose
// messages name the pointer that failed.
func (c *compiled) apply(doc any) (cases.CreateInput, string, error) {
	var in cases.CreateInput
	v := &apperr.Invalid{Subject: "webhook payload"}
	fail := func(field string, err error) {
		var f *failure
		if errors.As(err, &f) {
			v.Add(field, "%s", f.Error())
		} else {
			v.Add(field, "%s", err.Error())
		}
	}
	for _, f := range c.text {
		if f.t.empty() {
			continue
		}
		s, err := f.t.text(doc)
		if err != nil {
			fail("map."+f.name, err)
			continue
		}
		f.set(&in, strings.TrimSpace(s))
	}
	if in.Requester != nil && *in.Requester == (cases.Requester{}) {
		in.Requester = nil
	}
	if in.Category == "" {
		in.Category = c.defaults.Category
	}
	if in.Market == "" {
		in.Market = c.defaults.Market
	}
	if !c.highRisk.empty() {
		val, err := c.highRisk.value(doc)
		if err == nil {
			in.HighRisk, err = truth(val)
		}
		if err != nil {
			fail("map.high_risk", err)
		}
	}
	for i, t := range c.tags {
		tags, err := tagValues(t, doc)
		if err != nil {
			fail(fmt.Sprintf("map.tags[%d]", i), err)
		}
		in.Tags = append(in.Tags, tags...)
	}
	for _, f := range c.fields {
		val, err := f.t.value(doc)
		if err != nil {
			fail("map.fields."+f.name, err)
			continue
		}
		if val = fieldValue(val); val == nil {
			continue
		}
		if in.Fields == nil {
			in.Fields = map[string]any{}
		}
		in.Fields[f.name] = val
	}
	var id string
	if !c.externalID.empty() {
		s, err := c.externalID.text(doc)
		switch {
		case err != nil:
			fail("external_id", err)
		case strings.TrimSpace(s) == "":
			v.Add("external_id", "the payload's id is empty")
		case utf8.RuneCountInString(s) > MaxExternalID || input.Key.Problem(s) != "":
			v.Add("external_id", "the payload's id must be one line of at most %d characters", MaxExternalID)
		default:
			id = strings.TrimSpace(s)
		}
	}
	if err := v.Err(); err != nil {
		return cases.CreateInput{}, "", err
	}
	return in, id, nil
}

// truth reads high_risk: a boolean, or text such as "true", "yes", "1".
func truth(v any) (bool, error) {
	switch x := v.(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	}
	s, err := scalarText(v)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "false", "no", "0", "off":
		return false, nil
	case "true", "yes", "1", "on":
		return true, nil
	}
	return false, fmt.Errorf("%q is not true or false", s)
}

// tagValues evaluates a tag template: an array gives one tag per element.
func tagValues(t template, doc any) ([]string, error) {
	val, err := t.value(doc)
	if err != nil {
		return nil, err
	}
	list, ok := val.([]any)
	if !ok {
		list = []any{val}
	}
	var out []string
	for _, x := range list {
		s, err := scalarText(x)
		if err != nil {
			return nil, fmt.Errorf("holds a value that is not a tag: %v", err)
		}
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// fieldValue turns a JSON value into a custom field's: numbers as int64
// or float64; empty text and null leave the field unset.
func fieldValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(x.String(), 10, 64); err == nil {
			return n
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x.String()
	case string:
		if strings.TrimSpace(x) == "" {
			return nil
		}
		return strings.TrimSpace(x)
	}
	return v
}
