package desk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"weak"

	"go.yaml.in/yaml/v3"

	"github.com/flare-desk/flare/internal/apperr"
)

// Key names a top-level section of the desk document whose value is a T.
// The owning package declares one constant per section, which makes Get,
// Set and Memo type-safe:
//
//	const PoliciesKey desk.Key[[]Policy] = "escalation_policies"
type Key[T any] string

// Section is a top-level key of the desk document owned by a capability
// package rather than by desk. Build one with SectionOf and hand it to
// NewSchema; the Schema decodes, validates, canonicalises, stores, diffs
// and exports it along with the rest of the document.
type Section interface {
	sectionKey() string
	sectionType() reflect.Type
	decodeYAML(d *nodeDecoder, n *yaml.Node, path string) any
	decodeJSON(data []byte) (any, error)
	validate(doc *Config, v any) []apperr.FieldError
	canonical(v any) any
	diff(prev, next any) []string
}

// SectionOf defines a section whose value is a T: a struct, list or map
// (of structs, lists, maps with string keys, strings, numbers and
// booleans) with yaml and json tags. It is decoded as strictly as the rest
// of the document (unknown and duplicate keys and wrongly typed values are
// errors with their path and line) and stored as JSON. An absent or empty
// section reads as the zero T.
type SectionOf[T any] struct {
	Key Key[T]
	// Validate checks v against the whole document (doc, which decoded
	// without error; other sections are read with Get) and returns every
	// problem with its full path, starting with Key:
	// `escalation_policies[2].steps[0].targets[1]: unknown team "x"`. It
	// must not modify doc or v. A stored document has no users (they were
	// checked when it was applied): check user references only when
	// doc.Users is not empty. A nil Validate checks nothing beyond decoding.
	Validate func(doc *Config, v T) []apperr.FieldError
	// Canonical returns v in canonical form (lower-cased emails, sorted
	// sets…), without modifying v; Parse and Apply use it so that exports
	// round-trip byte for byte. nil means v as decoded is canonical.
	Canonical func(v T) T
	// Diff describes how the section changes on Apply, one human line per
	// change ("escalation policy Safety added"; see DiffList and
	// DiffFields). nil means one line "<key> changed" when v differs.
	Diff func(prev, next T) []string
}

func (s SectionOf[T]) sectionKey() string        { return string(s.Key) }
func (s SectionOf[T]) sectionType() reflect.Type { return reflect.TypeFor[T]() }

// value is v as a T (the zero T for an absent section).
func (s SectionOf[T]) value(v any) T {
	t, _ := v.(T)
	return t
}

func (s SectionOf[T]) decodeYAML(d *nodeDecoder, n *yaml.Node, path string) any {
	var v T
	d.decode(n, reflect.ValueOf(&v).Elem(), path)
	return nonEmpty(v)
}

func (s SectionOf[T]) decodeJSON(data []byte) (any, error) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("section %s: %w", s.Key, err)
	}
	return nonEmpty(v), nil
}

func (s SectionOf[T]) validate(doc *Config, v any) []apperr.FieldError {
	if s.Validate == nil {
		return nil
	}
	return s.Validate(doc, s.value(v))
}

func (s SectionOf[T]) canonical(v any) any {
	if s.Canonical == nil || v == nil {
		return v
	}
	return nonEmpty(s.Canonical(s.value(v)))
}

func (s SectionOf[T]) diff(prev, next any) []string {
	a, b := s.value(prev), s.value(next)
	if s.Diff != nil {
		return s.Diff(a, b)
	}
	if reflect.DeepEqual(a, b) {
		return nil
	}
	return []string{string(s.Key) + " changed"}
}

// nonEmpty returns v, or nil when it is empty (a zero value, or a list or
// map without entries): an empty section is an absent one, so that a
// Config with it deep-equals one without.
func nonEmpty[T any](v T) any {
	rv := reflect.ValueOf(&v).Elem()
	switch rv.Kind() {
	case reflect.Slice, reflect.Map:
		if rv.Len() == 0 {
			return nil
		}
	default:
		if rv.IsZero() {
			return nil
		}
	}
	return v
}

// Schema is the shape of a desk document: desk's own keys (markets,
// calendars, teams, categories, resolutions, sla_policies, users, sellers)
// and the sections capabilities registered. It is immutable; the zero
// Schema (or NewSchema()) has no sections.
type Schema struct {
	sections []Section // by key
	byKey    map[string]Section
}

// NewSchema returns the schema with the given sections. A section key must
// be snake_case, unique and not one of desk's own keys.
func NewSchema(sections ...Section) (*Schema, error) {
	s := &Schema{byKey: make(map[string]Section, len(sections))}
	core := coreKeys()
	for i, sec := range sections {
		if sec == nil {
			return nil, fmt.Errorf("desk schema: section %d is nil", i)
		}
		k := sec.sectionKey()
		switch {
		case !reKey.MatchString(k):
			return nil, fmt.Errorf("desk schema: section key %q is not snake_case", k)
		case core[k]:
			return nil, fmt.Errorf("desk schema: %q is one of desk's own keys", k)
		case s.byKey[k] != nil:
			return nil, fmt.Errorf("desk schema: two sections named %q", k)
		}
		s.byKey[k] = sec
		s.sections = append(s.sections, sec)
	}
	slices.SortFunc(s.sections, func(a, b Section) int { return strings.Compare(a.sectionKey(), b.sectionKey()) })
	return s, nil
}

// coreKeys are the top-level keys desk itself owns, in YAML and in the
// stored JSON document.
func coreKeys() map[string]bool {
	keys := map[string]bool{}
	for k := range structFields(reflect.TypeFor[Config]()) {
		keys[k] = true
	}
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			keys[name] = true
		}
	}
	return keys
}

// Keys returns the section keys of the schema, sorted.
func (s *Schema) Keys() []string {
	keys := make([]string, len(s.sections))
	for i, sec := range s.sections {
		keys[i] = sec.sectionKey()
	}
	return keys
}

// Example parses ExampleYAML with the schema; each call returns a new
// Config.
func (s *Schema) Example() (*Config, error) { return s.Parse(ExampleYAML) }

// Validate checks the whole configuration, sections included, and returns
// every problem found (nil when it is valid). It does not modify c.
func (s *Schema) Validate(c *Config) []apperr.FieldError {
	core := c.validateCore()
	errs := core
	for _, k := range sortedKeys(c.sections) {
		sec := s.byKey[k]
		switch {
		case sec == nil:
			errs = append(errs, apperr.FieldError{Field: k, Message: "unknown key (no section of that name is registered)"})
		case reflect.TypeOf(c.sections[k]) != sec.sectionType():
			errs = append(errs, apperr.FieldError{Field: k, Message: fmt.Sprintf("holds a %T; the section is a %s", c.sections[k], sec.sectionType())})
		}
	}
	if len(errs) > len(core) {
		// Sections read each other with Get, which a wrong type would
		// make panic; the structural problems come first.
		return errs
	}
	for _, sec := range s.sections {
		errs = append(errs, sec.validate(c, c.sections[sec.sectionKey()])...)
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// canonical is c.canonical() with every section canonical too.
func (s *Schema) canonical(c *Config) *Config {
	out := c.canonical()
	out.sections = nil
	for k, v := range c.sections {
		if sec := s.byKey[k]; sec != nil {
			v = sec.canonical(v)
		}
		if v != nil {
			if out.sections == nil {
				out.sections = make(map[string]any, len(c.sections))
			}
			out.sections[k] = v
		}
	}
	return out
}

// diff is diffDoc followed by each section's lines, in key order.
func (s *Schema) diff(prev, next *Config) []string {
	out := diffDoc(prev, next)
	for _, sec := range s.sections {
		k := sec.sectionKey()
		out = append(out, sec.diff(prev.sections[k], next.sections[k])...)
	}
	return out
}

// decodeSection is the decoder's hook for top-level keys that are not
// desk's own: a registered section decodes into c.
func (s *Schema) decodeSection(c *Config) func(d *nodeDecoder, key string, n *yaml.Node) bool {
	return func(d *nodeDecoder, key string, n *yaml.Node) bool {
		sec := s.byKey[key]
		if sec == nil {
			return false
		}
		if v := sec.decodeYAML(d, n, key); v != nil {
			if c.sections == nil {
				c.sections = map[string]any{}
			}
			c.sections[key] = v
		}
		return true
	}
}

// loadSections decodes the sections of a stored JSON document into c.
// Keys the schema does not know are left out, as encoding/json leaves out
// fields it does not know: a node running an older binary keeps working.
func (s *Schema) loadSections(doc []byte, c *Config) error {
	if len(s.sections) == 0 {
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(doc, &raw); err != nil {
		return err
	}
	for _, sec := range s.sections {
		data, ok := raw[sec.sectionKey()]
		if !ok {
			continue
		}
		v, err := sec.decodeJSON(data)
		if err != nil {
			return err
		}
		if v != nil {
			if c.sections == nil {
				c.sections = map[string]any{}
			}
			c.sections[sec.sectionKey()] = v
		}
	}
	return nil
}

// Get returns the value of section k in c: the zero T when c has none.
// It panics when the section holds another type, which only a Set with a
// second Key of the same name can cause.
func Get[T any](c *Config, k Key[T]) T {
	var zero T
	if c == nil {
		return zero
	}
	v, ok := c.sections[string(k)]
	if !ok {
		return zero
	}
	t, ok := v.(T)
	if !ok {
		panic(fmt.Sprintf("desk: section %s holds a %T, not a %s", k, v, reflect.TypeFor[T]()))
	}
	return t
}

// Set sets section k of c to v (an empty v removes it). It is for Configs
// built in Go (the demo, tests) before they are validated or used: Parse
// and Service build theirs themselves. Set never changes a Config that
// shares sections with c (copies of it, a loaded document).
func Set[T any](c *Config, k Key[T], v T) {
	m := make(map[string]any, len(c.sections)+1)
	for key, val := range c.sections {
		m[key] = val
	}
	if val := nonEmpty(v); val != nil {
		m[string(k)] = val
	} else {
		delete(m, string(k))
	}
	if len(m) == 0 {
		m = nil
	}
	c.sections = m
	indexes.Delete(weak.Make(c)) // lookups and memos are rebuilt
}

type memoKey struct {
	key string
	typ reflect.Type
}

// Memo returns build(Get(c, k)), computed once per Config: a section's
// compiled form (a rule matcher, a rotation schedule), kept with the
// Config's other lookups. Different result types D are kept apart.
func Memo[T, D any](c *Config, k Key[T], build func(T) D) D {
	ix := c.index()
	mk := memoKey{string(k), reflect.TypeFor[D]()}
	if v, ok := ix.memo.Load(mk); ok {
		return v.(D)
	}
	v, _ := ix.memo.LoadOrStore(mk, build(Get(c, k)))
	return v.(D)
}

// MarshalJSON writes c with its sections as top-level keys (the stored
// document, the API's view of the desk). It is needed because sections
// live outside Config's fields.
func (c Config) MarshalJSON() ([]byte, error) {
	type plain Config // Config without this method
	b, err := json.Marshal(plain(c))
	if err != nil || len(c.sections) == 0 {
		return b, err
	}
	var buf bytes.Buffer
	buf.Write(b[:len(b)-1]) // without the closing brace
	for i, k := range sortedKeys(c.sections) {
		if i > 0 || len(b) > 2 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(c.sections[k])
		if err != nil {
			return nil, fmt.Errorf("section %s: %w", k, err)
		}
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(vb)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// sectionNodes returns the YAML key and value nodes of c's sections, in
// key order, for Marshal.
func sectionNodes(c *Config) ([]*yaml.Node, error) {
	var out []*yaml.Node
	for _, k := range sortedKeys(c.sections) {
		var v yaml.Node
		if err := v.Encode(c.sections[k]); err != nil {
			return nil, fmt.Errorf("section %s: %w", k, err)
		}
		out = append(out, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, &v)
	}
	return out, nil
}
