package webhook

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/cases"
)

const post = `{"id": 1861234567890123456, "platform": "x", "text": "My parcel never arrived #fail",
	"user": {"name": "Ana", "handle": "@ana", "email": "ana@example.com", "a/b": "slash", "m~n": "tilde"},
	"flagged": true, "risk": "yes", "hashtags": ["fail", "delivery"], "country": "gb", "empty": "", "nil": null,
	"order": {"total": 12.5, "items": 3}, "list": [{"sku": "A1"}, {"sku": "B2"}]}`

func doc(t *testing.T) map[string]any {
	t.Helper()
	d, err := DecodePayload([]byte(post))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestTemplates(t *testing.T) {
	d := doc(t)
	for _, tc := range []struct {
		tmpl, want, fail string
	}{
		{tmpl: "GB", want: "GB"},
		{tmpl: "{{/text}}", want: "My parcel never arrived #fail"},
		{tmpl: "{{/user/name}} on {{/platform}}", want: "Ana on x"},
		{tmpl: "{{/id}}", want: "1861234567890123456"}, // exact, not a float
		{tmpl: "{{/order/total}}/{{/flagged}}/{{/nil}}", want: "12.5/true/"},
		{tmpl: "{{/user/a~1b}} {{/user/m~0n}}", want: "slash tilde"},
		{tmpl: "{{/list/1/sku}}", want: "B2"},
		{tmpl: "x{{?/user/phone}}y", want: "xy"},
		{tmpl: "{{ /platform }}", want: "x"},
		{tmpl: "{{/user/phone}}", fail: "/user/phone: is not in the payload"},
		{tmpl: "{{/list/2/sku}}", fail: "/list/2/sku: is not in the payload"},
		{tmpl: "{{/list/01/sku}}", fail: "is not in the payload"},
		{tmpl: "{{/list/-}}", fail: "is not in the payload"},
		{tmpl: "{{/text/0}}", fail: "is not in the payload"},
		{tmpl: "by {{/user}}", fail: "/user: is an object, not text"},
		{tmpl: "{{/hashtags}}!", fail: "/hashtags: is an array, not text"},
	} {
		got, err := mustTemplate(tc.tmpl).text(d)
		switch {
		case tc.fail != "" && (err == nil || !strings.Contains(err.Error(), tc.fail)):
			t.Errorf("%s: error %v, want %q", tc.tmpl, err, tc.fail)
		case tc.fail == "" && (err != nil || got != tc.want):
			t.Errorf("%s = %q, %v; want %q", tc.tmpl, got, err, tc.want)
		}
	}
}

func TestParseTemplateErrors(t *testing.T) {
	for _, s := range []string{"{{/a", "{{}}", "{{a/b}}", "{{/a~2}}", "x {{?}} y", "{{ ? }}"} {
		if _, err := parseTemplate(s); err == nil {
			t.Errorf("%q parsed", s)
		}
	}
	for _, s := range []string{"", "plain } text {", "{{/}}", "{{/a}}{{/b}}", "{{?/a/0}}"} {
		if _, err := parseTemplate(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
}

func TestApplyMapping(t *testing.T) {
	m := Mapping{
		Title:          "{{/user/name}} on {{/platform}}",
		Description:    "{{/text}}",
		Market:         "{{?/country}}",
		RequesterName:  "{{/user/name}}",
		RequesterEmail: "{{?/user/email}}",
		HighRisk:       "{{/flagged}}",
		Tags:           []string{"social", "{{/hashtags}}", "{{?/missing}}"},
		Fields:         map[string]string{"order_total": "{{/order/total}}", "items": "{{/order/items}}", "none": "{{?/nope}}", "blank": "{{/empty}}"},
	}
	in, id, err := compile(m, "{{/platform}}:{{/id}}", Defaults{Category: "logistics/lost_parcel", Market: "DE"}).apply(doc(t))
	if err != nil {
		t.Fatal(err)
	}
	want := cases.CreateInput{Title: "Ana on x", Description: "My parcel never arrived #fail", Category: "logistics/lost_parcel",
		Market: "gb", Requester: &cases.Requester{Name: "Ana", Email: "ana@example.com"}, HighRisk: true,
		Tags: []string{"social", "fail", "delivery"}, Fields: map[string]any{"order_total": 12.5, "items": int64(3)}}
	if !reflect.DeepEqual(in, want) {
		t.Fatalf("mapped\n%+v\nwant\n%+v", in, want)
	}
	if id != "x:1861234567890123456" {
		t.Fatalf("external id %q", id)
	}

	// Defaults fill what the payload lacks; text truths; a long text is cut.
	long := strings.Repeat("word ", 100)
	body, _ := json.Marshal(map[string]any{"t": long, "risk": "no"})
	d, err := DecodePayload(body)
	if err != nil {
		t.Fatal(err)
	}
	in, id, err = compile(Mapping{Title: "{{/t}}", Market: "{{?/country}}", HighRisk: "{{/risk}}"}, "", Defaults{Market: "DE"}).apply(d)
	if err != nil || in.Market != "DE" || in.HighRisk || id != "" || len([]rune(in.Title)) != 300 || !strings.HasSuffix(in.Title, "…") {
		t.Fatalf("defaults: %+v %q %v", in, id, err)
	}
}

func TestApplyMappingFailures(t *testing.T) {
	for _, tc := range []struct {
		m          Mapping
		externalID string
		field, msg string
	}{
		{Mapping{Title: "{{/user/nick}}"}, "", "map.title", "/user/nick: is not in the payload"},
		{Mapping{Title: "x", HighRisk: "{{/risk2}}"}, "", "map.high_risk", "/risk2"},
		{Mapping{Title: "x", HighRisk: "{{/text}}"}, "", "map.high_risk", "is not true or false"},
		{Mapping{Title: "x", Tags: []string{"{{/list}}"}}, "", "map.tags[0]", "not a tag"},
		{Mapping{Title: "x"}, "{{/missing}}", "external_id", "/missing: is not in the payload"},
		{Mapping{Title: "x"}, "{{/empty}}", "external_id", "empty"},
		{Mapping{Title: "x", Fields: map[string]string{"f": "{{/nope}}"}}, "", "map.fields.f", "/nope"},
	} {
		_, _, err := compile(tc.m, tc.externalID, Defaults{}).apply(doc(t))
		var inv *apperr.Invalid
		if !errors.As(err, &inv) || len(inv.Errors) != 1 || inv.Errors[0].Field != tc.field || !strings.Contains(inv.Errors[0].Message, tc.msg) {
			t.Errorf("%+v %q: %v, want %s: %s", tc.m, tc.externalID, err, tc.field, tc.msg)
		}
	}
}

func TestDecodePayload(t *testing.T) {
	for _, body := range []string{"", "[1]", "{", `{"a":1} {}`, `{"a":"\u0000"}`, `{"a":1,"a":2}`, strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)} {
		_, err := DecodePayload([]byte(body))
		var inv *apperr.Invalid
		if !errors.As(err, &inv) || !strings.HasPrefix(inv.Errors[0].Field, "body") {
			t.Errorf("%.30q: %v, want invalid body", body, err)
		}
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":1}`)
	hm := Auth{Type: AuthHMAC, SecretEnv: "S", Header: "X-Sig", Prefix: "sha256="}.Canonical()
	ts := Auth{Type: AuthHMAC, SecretEnv: "S", Header: "X-Sig", Encoding: "base64", TimestampHeader: "X-Ts", Tolerance: "1m"}.Canonical()
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		a      Auth
		h      http.Header
		secret string
		ok     bool
	}{
		{"hmac", hm, h("X-Sig", hm.Sign(body, "s3cret", 0)), "s3cret", true},
		{"hmac upper-case hex", hm, h("X-Sig", "sha256="+strings.ToUpper(strings.TrimPrefix(hm.Sign(body, "s3cret", 0), "sha256="))), "s3cret", true},
		{"hmac wrong secret", hm, h("X-Sig", hm.Sign(body, "other", 0)), "s3cret", false},
		{"hmac no prefix", hm, h("X-Sig", strings.TrimPrefix(hm.Sign(body, "s3cret", 0), "sha256=")), "s3cret", false},
		{"hmac missing", hm, h(), "s3cret", false},
		{"hmac not hex", hm, h("X-Sig", "sha256=zz"), "s3cret", false},
		{"secret unset", hm, h("X-Sig", hm.Sign(body, "", 0)), "", false},
		{"timestamp", ts, h("X-Sig", ts.Sign(body, "k", now.Unix()-30), "X-Ts", "1799999970"), "k", true},
		{"timestamp too old", ts, h("X-Sig", ts.Sign(body, "k", now.Unix()-61), "X-Ts", "1799999939"), "k", false},
		{"timestamp changed", ts, h("X-Sig", ts.Sign(body, "k", now.Unix()-30), "X-Ts", "1799999971"), "k", false},
		{"timestamp missing", ts, h("X-Sig", ts.Sign(body, "k", now.Unix())), "k", false},
		{"bearer", Auth{Type: AuthBearer, SecretEnv: "S"}, h("Authorization", "bearer tok"), "tok", true},
		{"bearer wrong", Auth{Type: AuthBearer, SecretEnv: "S"}, h("Authorization", "Bearer to"), "tok", false},
		{"basic", Auth{Type: AuthBasic, SecretEnv: "S", Username: "am"}, h("Authorization", "Basic YW06cHc="), "pw", true},
		{"basic wrong user", Auth{Type: AuthBasic, SecretEnv: "S", Username: "an"}, h("Authorization", "Basic YW06cHc="), "pw", false},
	} {
		err := tc.a.Verify(tc.h, body, tc.secret, now)
		var ae *AuthError
		if tc.ok != (err == nil) || (err != nil && !errors.As(err, &ae)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
