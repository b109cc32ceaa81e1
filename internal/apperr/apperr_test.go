package apperr

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestInvalidMessage(t *testing.T) {
	e := &Invalid{}
	if e.Err() != nil || (*Invalid)(nil).Err() != nil {
		t.Fatal("an empty Invalid is an error")
	}
	e.Add("title", "is required")
	e.Errors = append(e.Errors, FieldError{Message: "the body as a whole"})
	if got := e.Error(); got != "invalid input: title: is required; the body as a whole" {
		t.Errorf("Error() = %q", got)
	}
	var target *Invalid
	if err := fmt.Errorf("create: %w", e.Err()); !errors.As(err, &target) || len(target.Errors) != 2 {
		t.Errorf("wrapped Invalid not found: %v", err)
	}

	d := &Invalid{Subject: "desk configuration"}
	for i := range 12 {
		d.Add(fmt.Sprintf("sellers[%d].tier", i), "must be 1 to 4")
	}
	msg := d.Error()
	if !strings.HasPrefix(msg, "invalid desk configuration: sellers[0].tier: must be 1 to 4; ") ||
		!strings.HasSuffix(msg, "sellers[9].tier: must be 1 to 4; … and 2 more") {
		t.Errorf("Error() = %q", msg)
	}
	if d.What() != "desk configuration" || e.What() != "input" {
		t.Errorf("What() = %q, %q", d.What(), e.What())
	}
}

func TestInvalidField(t *testing.T) {
	e := InvalidField("password", "must be at least %d characters", 12)
	if len(e.Errors) != 1 || e.Errors[0] != (FieldError{Field: "password", Message: "must be at least 12 characters"}) {
		t.Errorf("InvalidField = %+v", e.Errors)
	}
}
