package cases_test

import (
	"testing"

	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/cases"
)

var (
	wantInvalid = apptest.WantInvalid
	suspension  = apptest.Suspension
)

func ownedCase(t *testing.T, f *fixture, in cases.CreateInput) *cases.Case { return f.OwnedCase(t, in) }
