// Package apperr holds the error kinds domain packages return so the HTTP
// layer can answer with the right status: invalid input (422), not found
// (404), forbidden (403) and conflicts with the current state (409).
package apperr

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound means the object does not exist or the actor may not see it.
var ErrNotFound = errors.New("not found")

// FieldError is one problem with one input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Invalid is input that breaks the rules; nothing was written.
type Invalid struct {
	Errors []FieldError
}

func (e *Invalid) Error() string {
	parts := make([]string, len(e.Errors))
	for i, f := range e.Errors {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
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

// Forbidden means the actor may see the object but not do this to it.
type Forbidden struct{ Detail string }

func (e *Forbidden) Error() string { return e.Detail }

// Conflict means the request clashes with the object's current state.
type Conflict struct{ Detail string }

func (e *Conflict) Error() string { return e.Detail }
