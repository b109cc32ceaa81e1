package input

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/flare-desk/flare/internal/apperr"
)

// Limits on the shape of a JSON body, beyond its size in bytes.
const (
	MaxJSONDepth = 16   // nested objects and arrays
	MaxJSONItems = 1000 // members of one object, elements of one array
)

// BodyError is a body that is not one strict JSON object: malformed,
// trailing data, invalid UTF-8, an unknown member, a value of the wrong
// type. HTTP answers it with 400.
type BodyError struct {
	Detail  string // what is wrong, for people
	Field   string // the member it concerns ("requester.name", "tags[2]"), if known
	Message string // what is wrong with Field
}

func (e *BodyError) Error() string {
	if e.Field != "" {
		return e.Detail + " (" + e.Field + ": " + e.Message + ")"
	}
	return e.Detail
}

// DecodeJSON decodes body, which must be exactly one JSON object, into v (a
// pointer to a struct): no trailing data, no unknown or duplicate members,
// member names matched exactly (not case-insensitively), valid UTF-8 and no
// lone surrogates (encoding/json would replace them with U+FFFD). Every
// string in it, member names included, must pass Gate.
//
// A malformed body is a *BodyError; strings that break Gate are an
// *apperr.Invalid naming each member, returned only when the body is
// otherwise well-formed. Field kinds (lengths, one-line rules) are the
// domain's to check.
func DecodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return &BodyError{Detail: "The request body is empty; send a JSON object."}
	}
	inv, err := scanJSON(body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v, json.RejectUnknownMembers(true)); err != nil {
		return unmarshalError(err)
	}
	return inv.Err()
}

// scanJSON reads body token by token: one object, nothing after it, within
// the depth and item limits, every string through Gate.
func scanJSON(body []byte) (*apperr.Invalid, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	inv := &apperr.Invalid{}
	for first := true; first || dec.StackDepth() > 0; first = false {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, syntaxError(err)
		}
		kind := tok.Kind()
		if first && kind != '{' {
			return nil, &BodyError{Detail: "The body must be a JSON object, not " + kindName(kind) + "."}
		}
		depth := dec.StackDepth()
		if depth > MaxJSONDepth {
			return nil, &BodyError{Detail: fmt.Sprintf("The body is nested more than %d levels deep.", MaxJSONDepth)}
		}
		if k, n := dec.StackIndex(depth); (k == '[' && n > MaxJSONItems) || (k == '{' && n > 2*MaxJSONItems) {
			return nil, &BodyError{Detail: "The body has a list or object that is too long.",
				Field: fieldPath(dec.StackPointer().Parent()), Message: fmt.Sprintf("at most %d items", MaxJSONItems)}
		}
		if kind == '"' {
			if msg := Gate(tok.String()); msg != "" {
				inv.Add(fieldPath(dec.StackPointer()), "%s", msg)
			}
		}
	}
	switch _, err := dec.ReadToken(); {
	case errors.Is(err, io.EOF):
	case err == nil:
		return nil, &BodyError{Detail: "The body holds more than one JSON value; send exactly one object."}
	default:
		return nil, &BodyError{Detail: "The body has data after its JSON object; send exactly one object."}
	}
	return inv, nil
}

func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 't', 'f':
		return "true or false"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case '[':
		return "an array"
	}
	return "that"
}

func syntaxError(err error) error {
	var se *jsontext.SyntacticError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &BodyError{Detail: "The body is not valid JSON (it ends early)."}
	case errors.As(err, &se) && errors.Is(se.Err, jsontext.ErrDuplicateName):
		return &BodyError{Detail: "The body names a member twice.", Field: fieldPath(se.JSONPointer), Message: "duplicate member"}
	case errors.As(err, &se):
		return &BodyError{Detail: fmt.Sprintf("The body is not valid JSON (at byte %d): %s.", se.ByteOffset, Printable(se.Err.Error()))}
	}
	return &BodyError{Detail: "The body is not valid JSON."}
}

func unmarshalError(err error) error {
	var se *json.SemanticError
	if !errors.As(err, &se) {
		var syn *jsontext.SyntacticError
		if errors.As(err, &syn) {
			return syntaxError(err)
		}
		return &BodyError{Detail: "The body could not be read: " + Printable(err.Error())}
	}
	field := fieldPath(se.JSONPointer)
	if errors.Is(se.Err, json.ErrUnknownName) {
		return &BodyError{Detail: "The body has a field this endpoint does not know.", Field: field, Message: "unknown field"}
	}
	if se.GoType == nil {
		return &BodyError{Detail: "A field has a value this endpoint cannot read.", Field: field, Message: "has the wrong type"}
	}
	return &BodyError{Detail: "A field has the wrong type.", Field: field, Message: "must be " + typeName(se.GoType)}
}

// typeName says in words what JSON a Go type takes.
func typeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.PkgPath() == "time" && t.Name() == "Time" {
		return "an RFC 3339 instant such as 2026-11-06T15:00:00Z"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a " + t.Kind().String()
}

// fieldPath turns a JSON pointer into the field names problems use:
// /requester/name → requester.name, /tags/2 → tags[2]. A token of digits
// is read as an index: no member Flare reads is named by digits.
func fieldPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.ParseUint(tok, 10, 32); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(Printable(tok))
	}
	return b.String()
}

// Printable makes s safe to echo in a problem: what is not graphic
// (controls, bidi formatting, line separators) is written as an escape, and
// it is cut to a readable length.
func Printable(s string) string {
	if Param.Problem(s) != "" {
		q := strconv.QuoteToGraphic(s)
		s = q[1 : len(q)-1]
	}
	if utf8.RuneCountInString(s) > 200 {
		s = string([]rune(s)[:200]) + "…"
	}
	return s
}
