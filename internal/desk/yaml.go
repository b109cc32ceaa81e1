package desk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/input"
)

// MaxDocumentSize bounds a desk document (about 100 000 sellers).
const MaxDocumentSize = 32 << 20

// maxNodes bounds the YAML nodes visited while decoding, aliases included,
// so that a small document of nested aliases cannot expand without end.
const maxNodes = 4_000_000

// Parse reads a desk document strictly (unknown keys, duplicate keys and
// wrongly typed values are errors with their path and line) and validates
// it, the schema's sections included. Every problem is returned at once in
// an *apperr.Invalid. The result is canonical: emails lower-cased (as auth
// stores them), users sorted by email, sellers by id, team members by
// email, category severities defaulted, empty lists nil, sections in their
// own canonical form. JSON is YAML, so an API can pass a JSON body to Parse
// too.
func (s *Schema) Parse(data []byte) (*Config, error) {
	if len(data) > MaxDocumentSize {
		return nil, invalid(apperr.FieldError{Message: fmt.Sprintf("document is larger than %d MiB", MaxDocumentSize>>20)})
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil && !errors.Is(err, io.EOF) {
		return nil, invalid(apperr.FieldError{Message: err.Error()})
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, invalid(apperr.FieldError{Message: "the document must be a single YAML document"})
	}
	c := &Config{}
	d := &nodeDecoder{budget: maxNodes, section: s.decodeSection(c)}
	if len(root.Content) > 0 {
		d.decode(root.Content[0], reflect.ValueOf(c).Elem(), "")
	}
	if len(d.errs) > 0 {
		// Validating a half-decoded document would report follow-on noise.
		return nil, invalid(d.errs...)
	}
	if errs := s.Validate(c); len(errs) > 0 {
		return nil, invalid(errs...)
	}
	return s.canonical(c), nil
}

// Marshal writes c as canonical YAML: desk's keys in a fixed order with
// the sections in key order before users and sellers, lists as canonical
// (see Config), short scalar lists in flow style. Sections are written as
// they are (a section's canonical form is applied by Parse and Apply). For
// a Config returned by Parse or Export, Parse(Marshal(c)) deep-equals c,
// and Marshal is byte-for-byte stable across such round trips.
func Marshal(c *Config) ([]byte, error) {
	var n yaml.Node
	if err := n.Encode(c.canonical()); err != nil {
		return nil, fmt.Errorf("marshal desk config: %w", err)
	}
	// Sections go after desk's own settings, before the long lists of
	// users and sellers.
	secs, err := sectionNodes(c)
	if err != nil {
		return nil, fmt.Errorf("marshal desk config: %w", err)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "users" {
			n.Content = slices.Insert(n.Content, i, secs...)
			break
		}
	}
	flowScalarLists(&n)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, fmt.Errorf("marshal desk config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("marshal desk config: %w", err)
	}
	return spaceSections(b.Bytes()), nil
}

// spaceSections puts a blank line before each top-level key but the first.
func spaceSections(doc []byte) []byte {
	lines := bytes.SplitAfter(doc, []byte("\n"))
	out := make([]byte, 0, len(doc)+16)
	for i, l := range lines {
		if i > 0 && len(l) > 0 && l[0] != ' ' && l[0] != '-' && l[0] != '\n' {
			out = append(out, '\n')
		}
		out = append(out, l...)
	}
	return out
}

// flowScalarLists writes lists of scalars as [a, b, c].
func flowScalarLists(n *yaml.Node) {
	if n.Kind == yaml.SequenceNode && len(n.Content) > 0 {
		flow := true
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				flow = false
				break
			}
		}
		if flow {
			n.Style = yaml.FlowStyle
		}
	}
	for _, c := range n.Content {
		flowScalarLists(c)
	}
}

// canonical returns a copy of c in canonical form. Slices of c that need
// no change are shared, never modified.
func (c *Config) canonical() *Config {
	out := *c
	out.Resolutions = nilIfEmpty(c.Resolutions)
	out.Markets = nil
	for _, m := range c.Markets {
		m.Languages = nilIfEmpty(canonLanguages(m.Languages))
		out.Markets = append(out.Markets, m)
	}
	out.Calendars = nil
	for _, cal := range c.Calendars {
		if len(cal.Hours) == 0 {
			cal.Hours = nil
		}
		cal.Closures, cal.Special = nilIfEmpty(cal.Closures), nilIfEmpty(cal.Special)
		out.Calendars = append(out.Calendars, cal)
	}
	out.Teams = nil
	for _, t := range c.Teams {
		t.Members = sortedEmails(t.Members)
		out.Teams = append(out.Teams, t)
	}
	out.Categories = nil
	for _, cat := range c.Categories {
		if cat.Severity == 0 {
			cat.Severity = DefaultSeverity
		}
		var fields []FieldDef
		for _, f := range cat.Fields {
			f.Options = nilIfEmpty(f.Options)
			fields = append(fields, f)
		}
		cat.Fields = fields
		out.Categories = append(out.Categories, cat)
	}
	out.Users = nil
	for _, u := range c.Users {
		u.Email = auth.NormaliseEmail(u.Email)
		u.Markets = nilIfEmpty(u.Markets)
		u.Languages = nilIfEmpty(canonLanguages(u.Languages))
		out.Users = append(out.Users, u)
	}
	slices.SortStableFunc(out.Users, func(a, b UserSpec) int { return strings.Compare(a.Email, b.Email) })
	out.Sellers = nil
	for _, s := range c.Sellers {
		s.RiskFlags = nilIfEmpty(s.RiskFlags)
		s.AccountManager = auth.NormaliseEmail(s.AccountManager)
		s.Inactive = false
		out.Sellers = append(out.Sellers, s)
	}
	slices.SortStableFunc(out.Sellers, func(a, b Seller) int { return strings.Compare(a.ID, b.ID) })
	return &out
}

// canonLanguages returns langs with each valid tag in its canonical case;
// langs itself is shared when nothing changes.
func canonLanguages(langs []string) []string {
	var out []string
	for i, l := range langs {
		if c, err := input.ParseLanguage(l); err == nil && c != l {
			if out == nil {
				out = slices.Clone(langs)
			}
			out[i] = c
		}
	}
	if out == nil {
		return langs
	}
	return out
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

func sortedEmails(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := make([]string, len(s))
	for i, e := range s {
		out[i] = auth.NormaliseEmail(e)
	}
	slices.Sort(out)
	return out
}

// nodeDecoder decodes a YAML node tree into Go values by their yaml tags,
// collecting every problem with its path instead of stopping at the first.
type nodeDecoder struct {
	errs   []apperr.FieldError
	budget int
	// section decodes a top-level key that is not a field of Config,
	// reporting whether it knows the key.
	section func(d *nodeDecoder, key string, n *yaml.Node) bool
}

func (d *nodeDecoder) fail(path string, n *yaml.Node, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if n != nil && n.Line > 0 {
		msg += fmt.Sprintf(" (line %d)", n.Line)
	}
	d.errs = append(d.errs, apperr.FieldError{Field: path, Message: msg})
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a scalar"
	}
	return "something else"
}

func (d *nodeDecoder) decode(n *yaml.Node, v reflect.Value, path string) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		d.budget--
		n = n.Alias
	}
	if d.budget--; d.budget < 0 {
		if d.budget == -1 {
			d.fail(path, n, "the document is too complex (too many nodes after expanding aliases)")
		}
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // absent: zero value
	}
	switch v.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.fail(path, n, "must be a mapping, not %s", kindName(n))
			return
		}
		fields := structFields(v.Type())
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			key := k.Value
			kp := join(path, key)
			if k.Kind != yaml.ScalarNode {
				d.fail(path, k, "keys must be plain strings")
				continue
			}
			if line, dup := seen[key]; dup {
				d.fail(kp, nil, "duplicate key (line %d; first at line %d)", k.Line, line)
				continue
			}
			seen[key] = k.Line
			fi, ok := fields[key]
			if !ok {
				if path == "" && d.section != nil && d.section(d, key, val) {
					continue
				}
				d.fail(kp, k, "unknown key")
				continue
			}
			d.decode(val, v.FieldByIndex(fi), kp)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(path, n, "must be a list, not %s", kindName(n))
			return
		}
		if len(n.Content) == 0 {
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, s.Index(i), at(path, i))
		}
		v.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.fail(path, n, "must be a mapping, not %s", kindName(n))
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				d.fail(path, k, "keys must be plain strings")
				continue
			}
			if msg := input.Key.Problem(k.Value); msg != "" {
				d.fail(join(path, input.Printable(k.Value)), k, "key %s", msg)
				continue
			}
			kv := reflect.New(v.Type().Key()).Elem()
			kv.SetString(k.Value)
			if m.MapIndex(kv).IsValid() {
				d.fail(join(path, k.Value), k, "duplicate key")
				continue
			}
			ev := reflect.New(v.Type().Elem()).Elem()
			d.decode(val, ev, join(path, k.Value))
			m.SetMapIndex(kv, ev)
		}
		v.Set(m)
	case reflect.Float64:
		if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!float" && n.ShortTag() != "!!int") {
			d.fail(path, n, "must be a number")
			return
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil {
			d.fail(path, n, "must be a number")
			return
		}
		v.SetFloat(f)
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!binary" {
			d.fail(path, n, "must be a string, not %s", kindName(n))
			return
		}
		if msg := input.LongText.Problem(n.Value); msg != "" { // the input rules hold here too
			d.fail(path, n, "%s", msg)
			return
		}
		v.SetString(n.Value)
	case reflect.Int, reflect.Int64, reflect.Int32:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			d.fail(path, n, "must be a whole number")
			return
		}
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err != nil || v.OverflowInt(i) {
			d.fail(path, n, "must be a whole number")
			return
		}
		v.SetInt(i)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			d.fail(path, n, "must be true or false")
			return
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			d.fail(path, n, "must be true or false")
			return
		}
		v.SetBool(b)
	default:
		d.fail(path, n, "cannot decode into %s", v.Type())
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var fieldCache sync.Map // reflect.Type -> map[string]int

// structFields maps yaml keys to field indexes (fields tagged "-" and
// unexported fields are not keys).
func structFields(t reflect.Type) map[string][]int {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string][]int)
	}
	m := map[string][]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if opts == "inline" && f.Type.Kind() == reflect.Struct { // its keys sit in this mapping
			for k, idx := range structFields(f.Type) {
				m[k] = append([]int{i}, idx...)
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = []int{i}
	}
	fieldCache.Store(t, m)
	return m
}
