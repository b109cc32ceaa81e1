package cases_test

import (
	"context"
	"testing"

	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/cases"
)

var wantInvalid = apptest.WantInvalid

// suspension is a restricted governance case: logistics agents cannot see it.
func suspension() cases.CreateInput {
	return cases.CreateInput{Title: "Seller suspended for late shipments", Category: "governance/account_suspension",
		Market: "GB", Sensitivity: "restricted", Fields: map[string]any{"policy": "late_shipment_rate"}}
}

// ownedCase creates in as amelia (admin, governance) and takes it: an open case she owns.
func ownedCase(t *testing.T, f *fixture, in cases.CreateInput) *cases.Case {
	t.Helper()
	ctx := context.Background()
	amelia := f.actor("amelia.clarke")
	c, err := f.svc.Create(ctx, amelia, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	owner := amelia.Email
	if c, err = f.svc.Update(ctx, amelia, c.Number, cases.UpdateInput{Owner: &owner}); err != nil {
		t.Fatal(err)
	}
	if c.Status != cases.StatusOpen {
		t.Fatalf("owned case is %s", c.Status)
	}
	return c
}
