package desk

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/input"
)

// Limits on custom field values.
const (
	MaxTextFieldLen  = 4000 // bytes of a text value
	maxRefLen        = 64   // order id, tracking number, carrier
	maxMoneyIntegers = 15   // digits before the decimal point
)

var (
	reOrderID        = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/#-]*$`)
	reTrackingNumber = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]*$`)
	reAmount         = regexp.MustCompile(`^(-?)([0-9]+)(?:\.([0-9]+))?$`)
)

// ValidateFields checks custom field values of a case in this category and
// returns them normalised, with every problem (paths "fields.<key>").
//
// On create (partial=false) the result holds every given non-empty value and
// required fields must be present. On update (partial=true) only the given
// keys are checked; a null (or empty) value for a non-required field comes
// back as a nil entry, meaning "remove it".
//
// Normal forms: text, order_id, carrier → trimmed string; tracking_number →
// uppercase string without spaces; number → float64; money →
// map{"amount": "1250.00", "currency": "EUR"}; date → "YYYY-MM-DD";
// select → string; multiselect → []string in the order of the options.
// Empty strings and empty lists count as absent.
func (c Category) ValidateFields(values map[string]any, partial bool) (map[string]any, []apperr.FieldError) {
	var errs errList
	out := make(map[string]any, len(values))
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := c.Field(k); !ok {
			errs.add("fields."+k, "unknown field for category %s", c.Key)
		}
	}
	for _, f := range c.Fields {
		p := "fields." + f.Key
		raw, given := values[f.Key]
		if !given {
			if !partial && f.Required {
				errs.add(p, "%s is required", f.Label)
			}
			continue
		}
		v, msg := normaliseValue(f, raw)
		switch {
		case msg != "":
			errs.add(p, "%s", msg)
		case v == nil && f.Required:
			errs.add(p, "%s is required", f.Label)
		case v == nil && partial:
			out[f.Key] = nil
		case v != nil:
			out[f.Key] = v
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// normaliseValue returns the normal form of one value (nil for an empty
// value) or a message saying what is wrong.
func normaliseValue(f FieldDef, raw any) (any, string) {
	if raw == nil {
		return nil, ""
	}
	switch f.Type {
	case FieldText:
		s, ok := raw.(string)
		if !ok {
			return nil, "must be text"
		}
		s = strings.TrimSpace(s)
		switch {
		case s == "":
			return nil, ""
		case len(s) > MaxTextFieldLen:
			return nil, fmt.Sprintf("is longer than %d bytes", MaxTextFieldLen)
		case input.Text.Problem(s) != "":
			return nil, input.Text.Problem(s)
		}
		return s, ""

	case FieldNumber:
		n, ok := toFloat(raw)
		if !ok {
			if s, isStr := raw.(string); isStr && strings.TrimSpace(s) == "" {
				return nil, ""
			}
			return nil, "must be a number"
		}
		return n, ""

	case FieldMoney:
		return normaliseMoney(f, raw)

	case FieldDate:
		s, ok := raw.(string)
		if !ok {
			return nil, "must be a date like 2026-03-31"
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, ""
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return nil, fmt.Sprintf("%q is not a date like 2026-03-31", s)
		}
		return s, ""

	case FieldSelect:
		s, ok := raw.(string)
		if !ok {
			return nil, "must be one of the options"
		}
		if s == "" {
			return nil, ""
		}
		if !slices.Contains(f.Options, s) {
			return nil, fmt.Sprintf("%q is not one of %s", s, strings.Join(f.Options, ", "))
		}
		return s, ""

	case FieldMultiSelect:
		var items []string
		switch x := raw.(type) {
		case []string:
			items = x
		case []any:
			for _, it := range x {
				s, ok := it.(string)
				if !ok {
					return nil, "must be a list of options"
				}
				items = append(items, s)
			}
		default:
			return nil, "must be a list of options"
		}
		if len(items) == 0 {
			return nil, ""
		}
		seen := map[string]bool{}
		for _, s := range items {
			if !slices.Contains(f.Options, s) {
				return nil, fmt.Sprintf("%q is not one of %s", s, strings.Join(f.Options, ", "))
			}
			if seen[s] {
				return nil, fmt.Sprintf("%q is given twice", s)
			}
			seen[s] = true
		}
		out := make([]string, 0, len(items))
		for _, o := range f.Options {
			if seen[o] {
				out = append(out, o)
			}
		}
		return out, ""

	case FieldOrderID:
		s, ok := refString(raw)
		if !ok {
			return nil, "must be an order id"
		}
		switch {
		case s == "":
			return nil, ""
		case len(s) > maxRefLen || !reOrderID.MatchString(s):
			return nil, fmt.Sprintf("%q is not an order id (letters, digits and . _ : / # -, at most %d)", s, maxRefLen)
		}
		return s, ""

	case FieldTrackingNumber:
		s, ok := refString(raw)
		if !ok {
			return nil, "must be a tracking number"
		}
		s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
		switch {
		case s == "":
			return nil, ""
		case len(s) < 4 || len(s) > maxRefLen || !reTrackingNumber.MatchString(s):
			return nil, fmt.Sprintf("%q is not a tracking number (4 to %d letters, digits and -)", s, maxRefLen)
		}
		return s, ""

	case FieldCarrier:
		s, ok := raw.(string)
		if !ok {
			return nil, "must be a carrier name"
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, ""
		}
		if len(f.Options) > 0 {
			for _, o := range f.Options {
				if strings.EqualFold(o, s) {
					return o, ""
				}
			}
			return nil, fmt.Sprintf("%q is not one of %s", s, strings.Join(f.Options, ", "))
		}
		if len(s) > maxRefLen || strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
			return nil, fmt.Sprintf("is not a carrier name (printable, at most %d bytes)", maxRefLen)
		}
		return s, ""
	}
	return nil, fmt.Sprintf("field type %q is unknown", f.Type)
}

// refString accepts a string, or a whole number (some systems send order
// ids as JSON numbers), trimmed.
func refString(raw any) (string, bool) {
	switch x := raw.(type) {
	case string:
		return strings.TrimSpace(x), true
	case json.Number:
		if _, err := strconv.ParseUint(string(x), 10, 64); err == nil {
			return string(x), true
		}
	case float64:
		if x >= 0 && x < 1<<53 && x == math.Trunc(x) {
			return strconv.FormatInt(int64(x), 10), true
		}
	case int:
		if x >= 0 {
			return strconv.Itoa(x), true
		}
	case int64:
		if x >= 0 {
			return strconv.FormatInt(x, 10), true
		}
	}
	return "", false
}

// toFloat accepts JSON numbers, Go numbers and numeric strings (HTML forms).
func toFloat(raw any) (float64, bool) {
	var f float64
	switch x := raw.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case int32:
		f = float64(x)
	case json.Number:
		v, err := x.Float64()
		if err != nil {
			return 0, false
		}
		f = v
	case string:
		v, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, false
		}
		f = v
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func normaliseMoney(f FieldDef, raw any) (any, string) {
	m, ok := raw.(map[string]any)
	if !ok {
		// A bare amount takes the field's default currency.
		bare := false
		switch raw.(type) {
		case string, json.Number, float64, float32, int, int64, int32:
			bare = f.Currency != ""
		}
		if !bare {
			return nil, `must be an object like {"amount": "1250.00", "currency": "EUR"}`
		}
		if s, isStr := raw.(string); isStr && strings.TrimSpace(s) == "" {
			return nil, ""
		}
		m = map[string]any{"amount": raw}
	}
	for k := range m {
		if k != "amount" && k != "currency" {
			return nil, fmt.Sprintf("unknown key %q (want amount and currency)", k)
		}
	}
	var amount string
	switch x := m["amount"].(type) {
	case nil:
		return nil, "amount is required"
	case string:
		amount = strings.TrimSpace(x)
	case json.Number:
		amount = string(x)
		if strings.ContainsAny(amount, "eE") {
			v, err := x.Float64()
			if err != nil {
				return nil, "amount must be a decimal number"
			}
			amount = strconv.FormatFloat(v, 'f', -1, 64)
		}
	default:
		v, ok := toFloat(x)
		if !ok {
			return nil, "amount must be a decimal number"
		}
		amount = strconv.FormatFloat(v, 'f', -1, 64)
	}
	g := reAmount.FindStringSubmatch(amount)
	if g == nil {
		return nil, fmt.Sprintf("amount %q is not a decimal number like 1250.00", amount)
	}
	sign, whole, frac := g[1], strings.TrimLeft(g[2], "0"), g[3]
	if whole == "" {
		whole = "0"
	}
	if len(frac) > 2 {
		return nil, fmt.Sprintf("amount %q has more than 2 decimal places", amount)
	}
	if len(whole) > maxMoneyIntegers {
		return nil, fmt.Sprintf("amount %q is too large", amount)
	}
	frac += strings.Repeat("0", 2-len(frac))
	if whole == "0" && frac == "00" {
		sign = ""
	}
	currency := f.Currency
	if c, given := m["currency"]; given && c != nil {
		s, ok := c.(string)
		if !ok {
			return nil, "currency must be a 3-letter ISO 4217 code"
		}
		if s = strings.ToUpper(strings.TrimSpace(s)); s != "" {
			currency = s
		}
	}
	switch {
	case currency == "":
		return nil, "currency is required"
	case !reCurrency.MatchString(currency):
		return nil, fmt.Sprintf("currency %q is not a 3-letter ISO 4217 code", currency)
	}
	return map[string]any{"amount": sign + whole + "." + frac, "currency": currency}, ""
}
