package webhook

import (
	"errors"
	"testing"

	"github.com/flare-desk/flare/internal/apperr"
)

// FuzzMapping feeds any body and any template through the mapping: it
// never panics, and what it refuses is an *apperr.Invalid (a 422), never
// another error.
func FuzzMapping(f *testing.F) {
	f.Add([]byte(post), "{{/user/name}} on {{/platform}}")
	f.Add([]byte(`{"a":[1,{"b":null}]}`), "{{?/a/1/b}}{{/a/0}}")
	f.Add([]byte(`{"~":{"/":"x"}}`), "{{/~0/~1}}")
	f.Add([]byte(`{"a":"\ud800"}`), "{{/a")
	f.Add([]byte(`[]`), "{{}}")
	m := Mapping{Title: "{{/user/name}} on {{/platform}}", Description: "{{?/text}}", Market: "{{?/country}}",
		HighRisk: "{{?/flagged}}", Tags: []string{"{{?/hashtags}}"}, Fields: map[string]string{"n": "{{?/order/total}}"}}
	c := compile(m, "{{?/id}}x", Defaults{})
	f.Fuzz(func(t *testing.T, body []byte, tmpl string) {
		doc, err := DecodePayload(body)
		var inv *apperr.Invalid
		if err != nil {
			if !errors.As(err, &inv) {
				t.Fatalf("decode: %T %v", err, err)
			}
			return
		}
		if _, _, err := c.apply(doc); err != nil && !errors.As(err, &inv) {
			t.Fatalf("apply: %T %v", err, err)
		}
		if tp, err := parseTemplate(tmpl); err == nil {
			_, _ = tp.text(doc)
			_, _ = tp.value(doc)
		}
	})
}
