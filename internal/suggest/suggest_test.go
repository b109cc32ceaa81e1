package suggest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/suggest"
)

// The desk's history: resolved cases of three categories in their own words.
var history = map[string][]string{
	"logistics/lost_parcel": {"Parcel never arrived", "Tracking shows delivered but no parcel", "Courier lost the package",
		"Package missing after dispatch", "Parcel lost in transit", "No delivery, tracking stuck", "Lost parcel with DPD",
		"Customer did not receive the parcel", "Parcel not delivered to the address", "Courier says parcel lost"},
	"payments/funds_held": {"Payout held by risk team", "Funds on hold for review", "Seller money held after chargeback",
		"Balance frozen, funds held", "Why are my funds held", "Payment reserve holding funds", "Held funds not released",
		"Funds held for 30 days", "Money held pending verification", "Account funds on hold"},
	"governance/listing_removal": {"Listing removed for policy", "My listing was taken down", "Products delisted without notice",
		"Listing removal appeal", "Removed listings restricted brand", "Listings taken down counterfeit claim",
		"Offer removed from the catalogue", "Listing blocked and removed", "Why was my listing removed", "Delisted items appeal"},
}

func create(t *testing.T, f *apptest.Fixture, title, category, channel string) *cases.Case {
	t.Helper()
	c, err := f.App.Cases.Create(context.Background(), f.Actor("amelia.clarke"), cases.CreateInput{Title: title,
		Description: title + ".", Category: category, Market: "GB", Channel: cases.Channel(channel), FieldsLater: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func resolve(t *testing.T, f *apptest.Fixture, c *cases.Case) {
	t.Helper()
	if _, err := f.App.Cases.Transition(context.Background(), f.Actor("amelia.clarke"), c.Number,
		cases.TransitionInput{To: cases.StatusResolved, Resolution: "fixed", Note: "done"}); err != nil {
		t.Fatal(err)
	}
}

func TestSuggestAcceptAndCorrect(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := apptest.New(t, d)
		ctx := context.Background()
		amelia := f.Actor("amelia.clarke")
		for cat, titles := range history {
			for _, title := range titles {
				resolve(t, f, create(t, f, title, cat, "api"))
			}
		}
		m, err := f.App.Suggest.Train(ctx)
		if err != nil || m == nil {
			t.Fatalf("train: %+v %v", m, err)
		}
		if m.Examples != 30 || m.Classes != 3 {
			t.Errorf("model: %+v", m)
		}

		// An email about a lost parcel, filed under the mailbox's default.
		mail := create(t, f, "My parcel never arrived, tracking lost", "governance/listing_removal", "email")
		sg, err := f.App.Suggest.For(ctx, amelia, mail.Number)
		if err != nil {
			t.Fatal(err)
		}
		if sg == nil || sg.Category != "logistics/lost_parcel" || sg.Confidence < 0.5 || sg.Team != "logistics" {
			t.Fatalf("suggestion: %+v", sg)
		}
		// A case an agent filed through the API gets none.
		api := create(t, f, "My parcel never arrived, tracking lost", "governance/listing_removal", "api")
		if sg, err := f.App.Suggest.For(ctx, amelia, api.Number); err != nil || sg != nil {
			t.Errorf("api case: %+v %v", sg, err)
		}
		// Accepting is a case update.
		_, err = f.App.Suggest.Accept(ctx, amelia, mail.Number, nil)
		apptest.WantInvalid(t, err, "fields.order_id") // the category's required field, as in any update
		c, err := f.App.Suggest.Accept(ctx, amelia, mail.Number, map[string]any{"order_id": "ORD-77"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Category != "logistics/lost_parcel" || c.Team != "logistics" {
			t.Errorf("accepted: %s %s", c.Category, c.Team)
		}
		if _, err := f.App.Bus.Deliver(ctx, suggest.Subscriber); err != nil {
			t.Fatal(err)
		}
		if sg, err := f.App.Suggest.For(ctx, amelia, mail.Number); err != nil || sg != nil {
			t.Errorf("after accepting: %+v %v", sg, err)
		}
		var conflict *apperr.Conflict
		if _, err := f.App.Suggest.Accept(ctx, amelia, mail.Number, nil); !errors.As(err, &conflict) {
			t.Errorf("accept again: %v", err)
		}

		// Agents correct mails about a new issue the model files as lost parcels.
		newIssue := "Parcel arrived but the flux capacitor inside is wobbly"
		for i := range 4 {
			mc := create(t, f, fmt.Sprintf("%s (%d)", newIssue, i), "logistics/lost_parcel", "email")
			other := "governance/listing_removal"
			if _, err := f.App.Cases.Update(ctx, amelia, mc.Number, cases.UpdateInput{Category: &other}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.App.Bus.Deliver(ctx, suggest.Subscriber); err != nil {
			t.Fatal(err)
		}
		var corrections, accepted int
		if err := d.QueryRow(ctx, `SELECT COUNT(*), SUM(CASE WHEN accepted THEN 1 ELSE 0 END) FROM suggest_corrections`).
			Scan(&corrections, &accepted); err != nil {
			t.Fatal(err)
		}
		if corrections != 5 || accepted != 1 {
			t.Errorf("corrections %d, accepted %d", corrections, accepted)
		}
		probe := create(t, f, "Wobbly flux capacitor in my parcel", "logistics/lost_parcel", "email")
		before, _ := f.App.Suggest.For(ctx, amelia, probe.Number)
		f.Clock.Advance(time.Hour)
		m2, err := f.App.Suggest.Train(ctx)
		if err != nil || m2 == nil || m2.ID == m.ID || m2.Examples != 35 {
			t.Fatalf("retrain: %+v %v", m2, err)
		}
		after, err := f.App.Suggest.For(ctx, amelia, probe.Number)
		if err != nil {
			t.Fatal(err)
		}
		if after == nil || after.Category != "governance/listing_removal" || after.ModelID != m2.ID {
			t.Errorf("after the corrections: %+v (before %+v)", after, before)
		}

		// A restarted process rebuilds the same model from the stored set.
		restarted, err := app.New(d, app.Options{Clock: f.Clock})
		if err != nil {
			t.Fatal(err)
		}
		again, err := restarted.Suggest.For(ctx, amelia, probe.Number)
		if err != nil || again == nil || *again != *after {
			t.Errorf("after restart: %+v, want %+v (%v)", again, after, err)
		}
	})
}

func TestSuggestNeedsExamples(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := apptest.New(t, d)
		ctx := context.Background()
		resolve(t, f, create(t, f, "Parcel never arrived", "logistics/lost_parcel", "api"))
		if m, err := f.App.Suggest.Train(ctx); err != nil || m != nil {
			t.Fatalf("train on one case: %+v %v", m, err)
		}
		c := create(t, f, "Parcel never arrived", "governance/listing_removal", "email")
		if sg, err := f.App.Suggest.For(ctx, f.Actor("amelia.clarke"), c.Number); err != nil || sg != nil {
			t.Errorf("no model: %+v %v", sg, err)
		}
	})
}
