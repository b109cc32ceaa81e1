package desk

import "github.com/flare-desk/flare/internal/apperr"

// For the tests outside the package (they need routing's sections, and
// routing imports desk).

// Canonical is c in canonical form.
func (c *Config) Canonical() *Config { return c.canonical() }

// DocOf is the part of c kept in the stored document.
func DocOf(c *Config) *Config { return docOf(c) }

// InvalidDoc is the error for an invalid desk document.
func InvalidDoc(errs ...apperr.FieldError) *apperr.Invalid { return invalid(errs...) }
