package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/problems"
)

// The demo desk's problems and category suggestions: two repeat issues
// reported in the last days in customers' own words — a DPD depot whose
// scans stopped (a known error with its root cause) and a batch of
// overheating power banks (a fix in progress with its improvement action)
// — with a few more of each left unlinked for the "Similar open cases"
// panel to find; and mails and webhook posts filed under the mailbox's
// catch-all category, for which the model trained on the desk's resolved
// cases suggests the right one.

type demoProblemCase struct {
	title, desc string
	daysAgo     int
}

var depotCases = []demoProblemCase{
	{"Parcel stuck at DPD depot Leipzig", "Tracking shows the parcel arrived at the DPD depot in Leipzig six days ago and has not moved since.", 6},
	{"No DPD scan since Leipzig depot", "The buyer's parcel was scanned into the Leipzig depot and there is no DPD scan after it.", 5},
	{"DPD tracking frozen at Leipzig hub", "DPD tracking frozen at the Leipzig hub for five days, buyer asks for a refund.", 5},
	{"Lost parcel: last scan DPD depot Leipzig", "Last scan is DPD depot Leipzig, buyer says the parcel never arrived.", 4},
	{"Parcel not moving after Leipzig DPD depot scan", "Since the depot scan in Leipzig the parcel is not moving; DPD hotline has no answer.", 3},
	{"DPD Leipzig depot: parcel stuck, no delivery", "Parcel stuck at the Leipzig depot, DPD gives no delivery date.", 2},
	{"Tracking stuck at DPD depot Leipzig again", "Another order whose tracking is stuck at the DPD depot in Leipzig.", 1},
}

var powerBankCases = []demoProblemCase{
	{"Power bank overheating while charging", "The 20000 mAh power bank gets very hot while charging and the case swells.", 9},
	{"Power bank swelled and got hot", "Buyer reports the power bank swelled and became hot to the touch after charging overnight.", 7},
	{"Overheating power bank, buyer worried", "Power bank overheating when charging a phone, buyer stopped using it.", 6},
	{"Power bank hot and swollen after charging", "After charging, the power bank is swollen and hot; smell of burnt plastic.", 4},
	{"Swollen power bank from Bayern Elektronik", "Power bank bought last week is swollen and overheats when charging.", 2},
}

// Mails and webhook posts under the catch-all category, with what they are about.
var unsortedCases = []struct {
	title, desc string
	channel     cases.Channel
}{
	{"Where is my parcel?", "Hello, my parcel never arrived and the tracking has not changed for a week. The courier says it is lost.", "email"},
	{"Payout on hold since Monday", "Our payout has been held since Monday, the balance shows funds on hold for review. Please release the funds.", "email"},
	{"Listing taken down", "Our listing was removed for a policy reason we do not understand, please restore the listing.", "external"},
	{"Refund never reached the buyer", "The refund to the buyer failed twice, the payment provider says the refund was rejected.", "external"},
}

const catchAll = "seller_support/onboarding" // the demo mailbox's default category

var showcaseCases = len(depotCases) + len(powerBankCases) + len(unsortedCases)

func loadProblems(ctx context.Context, a *app.App, actors map[string]auth.Actor) error {
	sys := auth.System("demo")
	lead, agent := actors[personByKey("daniel").email()], actors[personByKey("jonas").email()]
	rachel := actors[personByKey("rachel").email()]
	now := a.Clock.Now()
	write := func(cs []demoProblemCase, in func(c demoProblemCase, i int) cases.CreateInput) ([]string, error) {
		var out []string
		for i, c := range cs {
			x := in(c, i)
			x.Title, x.Description, x.At = c.title, c.desc, now.Add(-time.Duration(c.daysAgo)*24*time.Hour-time.Duration(i)*time.Hour)
			made, err := a.Cases.Create(ctx, sys, x, nil)
			if err != nil {
				return nil, fmt.Errorf("demo problems: %s: %w", c.title, err)
			}
			out = append(out, made.Number)
		}
		return out, nil
	}
	depot, err := write(depotCases, func(_ demoProblemCase, i int) cases.CreateInput {
		return cases.CreateInput{Category: "logistics/lost_parcel", Market: "DE", Channel: "email", Tags: []string{"dpd-leipzig"},
			Fields: map[string]any{"order_id": fmt.Sprintf("DE-%07d", 4410021+i*37), "carrier": "DPD"}}
	})
	if err != nil {
		return err
	}
	banks, err := write(powerBankCases, func(_ demoProblemCase, i int) cases.CreateInput {
		return cases.CreateInput{Category: "safety/product_safety", Market: "DE", Channel: "web_form", SellerID: Showcase.ID}
	})
	if err != nil {
		return err
	}
	for _, u := range unsortedCases {
		if _, err := a.Cases.Create(ctx, sys, cases.CreateInput{Title: u.title, Description: u.desc, Category: catchAll,
			Market: "GB", Channel: u.channel, FieldsLater: true, At: now.Add(-2 * time.Hour)}, nil); err != nil {
			return fmt.Errorf("demo suggestions: %s: %w", u.title, err)
		}
	}

	// The depot: a known error, five of its seven cases linked.
	title, cause := "DPD depot Leipzig: parcels stuck after the inbound scan",
		"DPD's Leipzig depot lost its sorter on the 24th; parcels scanned in wait unsorted. DPD confirmed a backlog of about 9,000 parcels."
	ke := problems.KnownError
	if _, err := a.Problems.Create(ctx, lead, problems.Input{Title: &title, RootCause: &cause, Owner: &lead.Email, Status: &ke,
		Cases: depot[:5]}); err != nil {
		return fmt.Errorf("demo problems: %w", err)
	}
	// The power banks: a fix in progress, with its action.
	title, cause = "Power banks of batch PB-20K-0925 overheating",
		"A batch of 20000 mAh power banks from one supplier lacks the thermal cut-off."
	p, err := a.Problems.Create(ctx, rachel, problems.Input{Title: &title, RootCause: &cause, Owner: &rachel.Email, Cases: banks[:4]})
	if err != nil {
		return fmt.Errorf("demo problems: %w", err)
	}
	fip := problems.FixInProgress
	if _, err := a.Problems.Update(ctx, rachel, p.ID, problems.Input{Status: &fip, Action: &problems.ActionInput{
		Text:  "Recall batch PB-20K-0925 with Bayern Elektronik and block the listing until the new batch passes tests",
		Owner: agent.Email, Due: now.AddDate(0, 0, 7).Format(time.DateOnly)}}); err != nil {
		return fmt.Errorf("demo problems: %w", err)
	}
	// The model the suggestions come from, trained on the cases just loaded.
	if _, err := a.Suggest.Train(ctx); err != nil {
		return fmt.Errorf("demo suggestions: %w", err)
	}
	return nil
}
