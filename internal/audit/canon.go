package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// canonicalJSON rewrites a JSON document into one fixed form: object keys
// sorted, no insignificant whitespace, one escaping style and numbers in a
// normal decimal form. PostgreSQL's JSONB reorders keys, rewrites whitespace
// and turns 1e2 into 100, so the chain hashes this form, never the bytes the
// database hands back. canonicalJSON(canonicalJSON(x)) == canonicalJSON(x).
func canonicalJSON(raw []byte) ([]byte, error) { return canonicalWithout(raw) }

// CanonicalWithout is the canonical form of the JSON document raw with the
// top-level keys drop removed (when raw is an object), made in one decode
// and one encode: for audit snapshots of records that carry derived fields.
func CanonicalWithout(raw []byte, drop ...string) (Canonical, error) {
	c, err := canonicalWithout(raw, drop...)
	if err != nil || string(c) == "null" {
		return nil, err
	}
	return Canonical(c), nil
}

func canonicalWithout(raw []byte, drop ...string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("canonical JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("canonical JSON: trailing data after the document")
	}
	if m, ok := v.(map[string]any); ok {
		for _, k := range drop {
			delete(m, k)
		}
	}
	v, err := normaliseNumbers(v)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // maps encode with sorted keys
		return nil, fmt.Errorf("canonical JSON: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func normaliseNumbers(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		s, err := canonicalNumber(string(x))
		return json.Number(s), err
	case map[string]any:
		for k, e := range x {
			n, err := normaliseNumbers(e)
			if err != nil {
				return nil, err
			}
			x[k] = n
		}
	case []any:
		for i, e := range x {
			n, err := normaliseNumbers(e)
			if err != nil {
				return nil, err
			}
			x[i] = n
		}
	}
	return v, nil
}

// sciBeyond is the decimal exponent past which numbers are written in
// scientific notation, so an absurd exponent cannot blow up the output.
const sciBeyond = 400

// canonicalNumber writes a JSON number by its value alone: no exponent (up
// to sciBeyond), no leading or trailing zeros, no "-0". "1.50", "15e-1" and
// "0.15E1" all become "1.5".
func canonicalNumber(s string) (string, error) {
	bad := fmt.Errorf("canonical JSON: bad number %q", s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expPart, hasExp := strings.Cut(strings.ToLower(s), "e")
	exp := 0
	if hasExp {
		if len(strings.TrimLeft(strings.TrimLeft(expPart, "+-"), "0")) > 6 {
			return "", fmt.Errorf("canonical JSON: number %q out of range", s)
		}
		e, err := strconv.Atoi(expPart)
		if err != nil {
			return "", bad
		}
		exp = e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return "", bad
	}
	point := len(intPart) + exp // the decimal point sits after `point` digits
	trimmed := strings.TrimLeft(digits, "0")
	point -= len(digits) - len(trimmed)
	digits = strings.TrimRight(trimmed, "0")
	if digits == "" {
		return "0", nil
	}
	var out string
	switch {
	case point > sciBeyond || point < -sciBeyond:
		out = digits[:1]
		if len(digits) > 1 {
			out += "." + digits[1:]
		}
		out += "e" + strconv.Itoa(point-1)
	case point <= 0:
		out = "0." + strings.Repeat("0", -point) + digits
	case point >= len(digits):
		out = digits + strings.Repeat("0", point-len(digits))
	default:
		out = digits[:point] + "." + digits[point:]
	}
	if neg {
		out = "-" + out
	}
	return out, nil
}

// With is the canonical object c with the top-level keys of add set to
// their values, in one shallow pass: the values c holds are canonical
// already and are copied, not decoded. For a snapshot made before its
// record's id was known (a case is snapshotted before its transaction and
// numbered inside it).
func (c Canonical) With(add map[string]any) (Canonical, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(c, &m); err != nil {
		return nil, fmt.Errorf("canonical JSON: %w", err)
	}
	if m == nil {
		return nil, errors.New("canonical JSON: not an object")
	}
	for k, v := range add {
		b, err := marshalCanonical(v)
		if err != nil {
			return nil, err
		}
		if b == nil {
			b = []byte("null")
		}
		m[k] = b
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil { // sorted keys, as canonicalWithout's map
		return nil, fmt.Errorf("canonical JSON: %w", err)
	}
	return Canonical(bytes.TrimSuffix(b.Bytes(), []byte("\n"))), nil
}
