// Package apperr holds the error kinds domain packages return so the HTTP
// layer can answer with the right status: invalid input (422), not found
// (404), forbidden (403) and conflicts with the current state (409).
//
// Invalid input has one shape everywhere, a request body or a desk
// document: an *Invalid listing FieldErrors, each a field or document path
// and a message.
package apperr

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound means the object does not exist or the actor may not see it.
var ErrNotFound = errors.New("not found")

// FieldError is one problem with one input field. Field is a request
// field ("title", "fields.order_id") or a path in a document
// ("categories[3].fields[0].type"); empty means the input as a whole.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e FieldError) String() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Invalid is input that breaks the rules; nothing was written.
type Invalid struct {
	// Subject names what was invalid ("desk configuration", `calendar "GB"`)
	// for messages and problem titles; empty means "input".
	Subject string
	Errors  []FieldError
}

// maxListed bounds how many problems Error spells out (a desk document can
// have thousands; the full list stays in Errors).
const maxListed = 10

func (e *Invalid) Error() string {
	var b strings.Builder
	b.WriteString("invalid ")
	b.WriteString(e.What())
	for i, fe := range e.Errors {
		if i == maxListed {
			fmt.Fprintf(&b, "; … and %d more", len(e.Errors)-maxListed)
			break
		}
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(fe.String())
	}
	return b.String()
}

// What is the Subject, or "input" when it is empty.
func (e *Invalid) What() string {
	if e.Subject == "" {
		return "input"
	}
	return e.Subject
}

// Add records a problem with field.
func (e *Invalid) Add(field, format string, args ...any) {
	e.Errors = append(e.Errors, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns e when it holds problems, else nil.
func (e *Invalid) Err() error {
	if e == nil || len(e.Errors) == 0 {
		return nil
	}
	return e
}

// InvalidField returns an *Invalid holding one problem with field.
func InvalidField(field, format string, args ...any) *Invalid {
	e := &Invalid{}
	e.Add(field, format, args...)
	return e
}

// Forbidden means the actor may see the object but not do this to it.
type Forbidden struct{ Detail string }

func (e *Forbidden) Error() string { return e.Detail }

// Conflict means the request clashes with the object's current state.
type Conflict struct{ Detail string }

func (e *Conflict) Error() string { return e.Detail }
