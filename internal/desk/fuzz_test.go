package desk_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	. "github.com/flare-desk/flare/internal/desk" // read as if inside desk: see config_test.go
	"github.com/flare-desk/flare/internal/input"
)

// FuzzParse checks the desk document loader: it never panics and refuses
// only with an *apperr.Invalid; a document it accepts holds only strings
// that pass the input rules, and survives Marshal and Parse again unchanged
// (Marshal stable too), as Parse and Marshal promise.
func FuzzParse(f *testing.F) {
	small := `markets:
  - code: GB
    name: United Kingdom
    timezone: Europe/London
    languages: [en, cy-GB]
    holidays: GB-ENG
teams:
  - key: logistics
    name: Logistics
categories:
  - key: logistics/lost_parcel
    name: Lost parcel
    team: logistics
    fields:
      - {key: order_id, label: Order ID, type: order_id, required: true}
resolutions: [fixed]
users:
  - {email: Ada@Flare.Example, name: Ada Admin, role: admin, languages: [EN]}
`
	for _, s := range []string{
		small, string(ExampleYAML), "", "{}", "markets: []\n", "[]", "null", "---\n---\n", "a: &a [*a]\n",
		`markets: [{code: GB, name: "U\0K", timezone: Europe/London, languages: [en]}]`,
		`markets: [{code: GB, name: "\e[31mUK", timezone: Europe/London, languages: [en]}]`,
		`markets: [{code: GB, name: "\u202eKU", timezone: Europe/London, languages: [EN-gb, en]}]`,
		`markets: [{code: GB, name: "U\rK", timezone: Europe/London, languages: [en-u-co-phonebk]}]`,
		`priority: {channel: {"le\0ad": 20}}`,
		`{"markets": [{"code": "GB", "name": "UK", "timezone": "Europe/London", "languages": ["en"], "colour": 1}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if len(doc) > 64<<10 {
			return // the size cap is tested elsewhere; keep runs fast
		}
		c, err := Parse(doc)
		if err != nil {
			var ve *apperr.Invalid
			if !errors.As(err, &ve) || len(ve.Errors) == 0 || c != nil {
				t.Fatalf("error %T %v with config %v", err, err, c != nil)
			}
			return
		}
		walkDeskStrings(reflect.ValueOf(c), func(s string) {
			if msg := input.Gate(s); msg != "" {
				t.Fatalf("accepted string %q: %s", s, msg)
			}
		})
		out, err := Marshal(c)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal(c)): %v\n%s", err, out)
		}
		if !reflect.DeepEqual(back, c) {
			t.Fatalf("Parse(Marshal(c)) != c\n got %+v\nwant %+v\n%s", back, c, out)
		}
		out2, err := Marshal(back)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("Marshal not stable (%v):\n%s\n---\n%s", err, out, out2)
		}
	})
}

// walkDeskStrings calls fn with every string in v, map keys included.
func walkDeskStrings(v reflect.Value, fn func(string)) {
	switch v.Kind() {
	case reflect.String:
		fn(v.String())
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkDeskStrings(v.Elem(), fn)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walkDeskStrings(v.Index(i), fn)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			walkDeskStrings(it.Key(), fn)
			walkDeskStrings(it.Value(), fn)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				walkDeskStrings(v.Field(i), fn)
			}
		}
	}
}
