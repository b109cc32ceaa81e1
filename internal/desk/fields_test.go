package desk_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	. "github.com/flare-desk/flare/internal/desk" // read as if inside desk: see config_test.go
)

func testCategory() Category {
	return Category{Key: "test/all_types", Name: "All types", Team: "t", Fields: []FieldDef{
		{Key: "note", Label: "Note", Type: FieldText},
		{Key: "count", Label: "Count", Type: FieldNumber},
		{Key: "amount", Label: "Amount", Type: FieldMoney, Currency: "EUR"},
		{Key: "fee", Label: "Fee", Type: FieldMoney},
		{Key: "due", Label: "Due", Type: FieldDate},
		{Key: "policy", Label: "Policy", Type: FieldSelect, Options: []string{"counterfeit", "fraud"}},
		{Key: "reasons", Label: "Reasons", Type: FieldMultiSelect, Options: []string{"a", "b", "c"}},
		{Key: "order", Label: "Order", Type: FieldOrderID, Required: true},
		{Key: "tracking", Label: "Tracking", Type: FieldTrackingNumber},
		{Key: "carrier", Label: "Carrier", Type: FieldCarrier, Options: []string{"DHL", "Royal Mail"}},
		{Key: "any_carrier", Label: "Any carrier", Type: FieldCarrier},
	}}
}

func TestValidateFieldValues(t *testing.T) {
	cat := testCategory()
	ok := []struct {
		key  string
		in   any
		want any
	}{
		{"note", "  hello  ", "hello"},
		{"note", "", nil},
		{"count", 3.5, 3.5},
		{"count", json.Number("42"), 42.0},
		{"count", 7, 7.0},
		{"count", " -2.25 ", -2.25},
		{"amount", map[string]any{"amount": "1250", "currency": "eur"}, map[string]any{"amount": "1250.00", "currency": "EUR"}},
		{"amount", map[string]any{"amount": "1250.5"}, map[string]any{"amount": "1250.50", "currency": "EUR"}},
		{"amount", map[string]any{"amount": 99.99, "currency": "GBP"}, map[string]any{"amount": "99.99", "currency": "GBP"}},
		{"amount", map[string]any{"amount": json.Number("1e3")}, map[string]any{"amount": "1000.00", "currency": "EUR"}},
		{"amount", map[string]any{"amount": "007.10"}, map[string]any{"amount": "7.10", "currency": "EUR"}},
		{"amount", map[string]any{"amount": "-5"}, map[string]any{"amount": "-5.00", "currency": "EUR"}},
		{"amount", "12.3", map[string]any{"amount": "12.30", "currency": "EUR"}},
		{"fee", map[string]any{"amount": 0, "currency": "USD"}, map[string]any{"amount": "0.00", "currency": "USD"}},
		{"due", "2026-03-31", "2026-03-31"},
		{"policy", "fraud", "fraud"},
		{"reasons", []any{"c", "a"}, []string{"a", "c"}},
		{"reasons", []string{"b"}, []string{"b"}},
		{"reasons", []any{}, nil},
		{"order", " 112-3345-99 ", "112-3345-99"},
		{"order", json.Number("123456789"), "123456789"},
		{"order", 98765.0, "98765"},
		{"tracking", "1z 999 aa1 01 2345 6784", "1Z999AA10123456784"},
		{"carrier", "dhl", "DHL"},
		{"any_carrier", " Evri ", "Evri"},
	}
	for _, tc := range ok {
		t.Run("ok/"+tc.key, func(t *testing.T) {
			in := map[string]any{tc.key: tc.in, "order": "A-1"}
			if tc.key == "order" {
				in = map[string]any{"order": tc.in}
			}
			out, errs := cat.ValidateFields(in, false)
			if errs != nil {
				t.Fatalf("errors: %v", errs)
			}
			got, present := out[tc.key]
			if tc.want == nil {
				if present {
					t.Errorf("%s = %#v, want absent", tc.key, got)
				}
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s = %#v, want %#v", tc.key, got, tc.want)
			}
		})
	}

	bad := []struct {
		key string
		in  any
		msg string
	}{
		{"note", 12, "text"},
		{"note", strings.Repeat("x", MaxTextFieldLen+1), "longer"},
		{"count", "twelve", "number"},
		{"count", true, "number"},
		{"amount", map[string]any{"amount": "12.345"}, "2 decimal"},
		{"amount", map[string]any{"amount": "1,250.00"}, "decimal number"},
		{"amount", map[string]any{"amount": "12", "currency": "EURO"}, "ISO 4217"},
		{"amount", map[string]any{"amount": "12", "currency": 978}, "ISO 4217"},
		{"amount", map[string]any{"currency": "EUR"}, "amount is required"},
		{"amount", map[string]any{"amount": "1", "note": "x"}, "unknown key"},
		{"amount", map[string]any{"amount": "1" + strings.Repeat("0", 15)}, "too large"},
		{"amount", []any{"12"}, "object"},
		{"fee", map[string]any{"amount": "12"}, "currency is required"},
		{"fee", "12", "object"},
		{"due", "31/03/2026", "date"},
		{"due", "2026-02-30", "date"},
		{"due", 20260331, "date"},
		{"policy", "spam", "not one of"},
		{"policy", []any{"fraud"}, "options"},
		{"reasons", []any{"a", "x"}, "not one of"},
		{"reasons", []any{"a", "a"}, "twice"},
		{"reasons", "a", "list"},
		{"reasons", []any{1}, "list"},
		{"tracking", "AB", "tracking number"},
		{"tracking", "ABC$1234", "tracking number"},
		{"tracking", strings.Repeat("A", 65), "tracking number"},
		{"carrier", "Pigeon Post", "not one of"},
		{"any_carrier", "bad\x00name", "carrier name"},
		{"any_carrier", 5, "carrier name"},
		{"order", "has space", "order id"},
		{"order", strings.Repeat("1", 65), "order id"},
		{"order", -5, "order id"},
		{"order", map[string]any{}, "order id"},
	}
	for _, tc := range bad {
		t.Run("bad/"+tc.key, func(t *testing.T) {
			in := map[string]any{tc.key: tc.in, "order": "A-1"}
			if tc.key == "order" {
				in = map[string]any{"order": tc.in}
			}
			out, errs := cat.ValidateFields(in, false)
			if out != nil || len(errs) != 1 || errs[0].Field != "fields."+tc.key || !strings.Contains(errs[0].Message, tc.msg) {
				t.Errorf("ValidateFields(%s=%#v) = %v, %v; want one error at fields.%s with %q", tc.key, tc.in, out, errs, tc.key, tc.msg)
			}
		})
	}
}

func TestValidateFieldsRequiredAndPartial(t *testing.T) {
	cat := testCategory()

	// Create: required fields must be there; unknown keys are rejected;
	// every problem is reported.
	_, errs := cat.ValidateFields(map[string]any{"nope": 1, "count": "x"}, false)
	if got := paths(errs); !reflect.DeepEqual(got, []string{"fields.nope", "fields.count", "fields.order"}) {
		t.Errorf("paths = %v (%v)", got, errs)
	}
	for _, empty := range []any{nil, "", "   "} {
		if _, errs := cat.ValidateFields(map[string]any{"order": empty}, false); len(errs) != 1 || errs[0].Field != "fields.order" {
			t.Errorf("order=%#v: %v", empty, errs)
		}
	}
	out, errs := cat.ValidateFields(nil, false)
	if len(errs) != 1 || out != nil {
		t.Errorf("nil values: %v %v", out, errs)
	}
	// Null for an optional field on create: simply absent.
	out, errs = cat.ValidateFields(map[string]any{"order": "A-1", "note": nil}, false)
	if errs != nil || !reflect.DeepEqual(out, map[string]any{"order": "A-1"}) {
		t.Errorf("create with null: %v %v", out, errs)
	}

	// Update: only given keys; null removes an optional value; a required
	// one cannot be removed.
	out, errs = cat.ValidateFields(map[string]any{"note": nil, "policy": "fraud", "reasons": []any{}}, true)
	if errs != nil || !reflect.DeepEqual(out, map[string]any{"note": nil, "policy": "fraud", "reasons": nil}) {
		t.Errorf("partial: %#v %v", out, errs)
	}
	if _, errs := cat.ValidateFields(map[string]any{"order": nil}, true); len(errs) != 1 || errs[0].Field != "fields.order" {
		t.Errorf("partial removes required: %v", errs)
	}
	out, errs = cat.ValidateFields(map[string]any{}, true)
	if errs != nil || len(out) != 0 {
		t.Errorf("partial empty: %v %v", out, errs)
	}
	if _, errs := cat.ValidateFields(map[string]any{"nope": 1}, true); len(errs) != 1 || errs[0].Field != "fields.nope" {
		t.Errorf("partial unknown: %v", errs)
	}

	// The normal form survives a JSON round trip as the same JSON.
	out, errs = cat.ValidateFields(map[string]any{"order": "A-1", "amount": map[string]any{"amount": 5}, "reasons": []any{"b"}, "count": 2}, false)
	if errs != nil {
		t.Fatal(errs)
	}
	b, _ := json.Marshal(out)
	var back map[string]any
	_ = json.Unmarshal(b, &back)
	again, errs := cat.ValidateFields(back, false)
	if errs != nil {
		t.Fatal(errs)
	}
	b2, _ := json.Marshal(again)
	if string(b) != string(b2) {
		t.Errorf("not stable: %s vs %s", b, b2)
	}
}

func TestExampleCategoryFields(t *testing.T) {
	c := mustExample(t)
	lost, _ := c.Category("logistics/lost_parcel")
	out, errs := lost.ValidateFields(map[string]any{"order_id": "204-5512-7781", "tracking_number": "JD0002 2134 5678 9012", "carrier": "royal mail"}, false)
	if errs != nil || out["carrier"] != "Royal Mail" || out["tracking_number"] != "JD0002213456789012" {
		t.Errorf("lost parcel: %v %v", out, errs)
	}
	susp, _ := c.Category("governance/account_suspension")
	if _, errs := susp.ValidateFields(map[string]any{"policy": "counterfeit", "enforcement_action": "suspension_7d"}, false); errs != nil {
		t.Errorf("suspension: %v", errs)
	}
	held, _ := c.Category("payments/funds_held")
	out, errs = held.ValidateFields(map[string]any{"amount_held": map[string]any{"amount": "18250"}}, false)
	if errs != nil || !reflect.DeepEqual(out["amount_held"], map[string]any{"amount": "18250.00", "currency": "EUR"}) {
		t.Errorf("funds held: %v %v", out, errs)
	}
}
