package input

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/flare-desk/flare/internal/apperr"
)

// fuzzBody has the shapes of Flare's request bodies: strings, pointers,
// lists, nested objects, a free map, an instant.
type fuzzBody struct {
	Title     string         `json:"title"`
	Note      *string        `json:"note"`
	Level     *int           `json:"level"`
	HighRisk  bool           `json:"high_risk"`
	Tags      []string       `json:"tags"`
	Watchers  *[]string      `json:"watchers"`
	Requester *fuzzRequester `json:"requester"`
	Fields    map[string]any `json:"fields"`
	Until     *time.Time     `json:"until"`
}

type fuzzRequester struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// FuzzReadJSON checks the body reader: it never panics; what it accepts is
// exactly one valid JSON object in valid UTF-8, decodes to what
// encoding/json decodes it to, and holds only strings that pass Gate; what
// it refuses is a *BodyError or an *apperr.Invalid.
func FuzzReadJSON(f *testing.F) {
	for _, s := range []string{
		`{"title":"Parcel lost","tags":["a","b"],"requester":{"name":"Sam","email":"sam@example.com"}}`,
		`{"title":"x"}}`, `{"title":"x"} {"title":"y"}`, `{"title":"x"} trailing`,
		`{"title":"\ud800"}`, `{"title":"\udc00\ud800"}`, `{"title":"\ud83d\ude80"}`, "{\"title\":\"a\xffb\"}",
		`null`, `[]`, `"x"`, `1`, ``, ` `, `{}`, `{"title":null,"note":null,"watchers":null}`,
		`{"title":"a\u0000b"}`, `{"title":"\u001b[31mred"}`, `{"title":"\u202egnp.exe"}`, `{"note":"a\r\nb\rc"}`,
		`{"Title":"case"}`, `{"title":"a","title":"b"}`, `{"colour":"red"}`, `{"level":1.5}`, `{"level":1e400}`,
		`{"until":"2026-11-06T15:00:00Z"}`, `{"until":"2026-11-06"}`, `{"fields":{"amount":{"amount":"12.50","currency":"EUR"},"k\u0000":1}}`,
		`{"fields":{"a":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}}`, `{"tags":["` + string(make([]byte, 3)) + `"]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var got fuzzBody
		err := DecodeJSON(body, &got)
		if err != nil {
			var be *BodyError
			var inv *apperr.Invalid
			if !errors.As(err, &be) && !errors.As(err, &inv) {
				t.Fatalf("error %T: %v", err, err)
			}
			if inv != nil && len(inv.Errors) == 0 {
				t.Fatal("an empty *apperr.Invalid")
			}
			return
		}
		if !utf8.Valid(body) || !stdjson.Valid(body) {
			t.Fatalf("accepted a body that is not one valid JSON value in UTF-8: %q", body)
		}
		var std fuzzBody
		dec := stdjson.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&std); err != nil {
			t.Fatalf("accepted %q, encoding/json refuses it: %v", body, err)
		}
		if !reflect.DeepEqual(got, std) {
			t.Fatalf("%q decodes to %+v, encoding/json to %+v", body, got, std)
		}
		walkStrings(reflect.ValueOf(got), func(s string) {
			if msg := Gate(s); msg != "" {
				t.Fatalf("accepted string %q: %s", s, msg)
			}
		})
	})
}

// walkStrings calls fn with every string in v, map keys included.
func walkStrings(v reflect.Value, fn func(string)) {
	switch v.Kind() {
	case reflect.String:
		fn(v.String())
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkStrings(v.Elem(), fn)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walkStrings(v.Index(i), fn)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			walkStrings(it.Key(), fn)
			walkStrings(it.Value(), fn)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				walkStrings(v.Field(i), fn)
			}
		}
	}
}
