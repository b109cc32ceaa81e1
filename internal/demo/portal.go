package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/intake"
	"github.com/flare-desk/flare/internal/merge"
	"github.com/flare-desk/flare/internal/portal"
)

// PortalManager is the demo's account manager whose portal has a story:
// the account_manager login.
const PortalManager = "eleanor.price@" + EmailDomain

// PortalCases is how many cases the portal story opens.
const PortalCases = 5

// loadPortal gives the demo's account manager a portal with a history,
// written through the portal, intake, the case service and merge as it
// would have happened (a fake clock set to each step's time, all in one
// transaction): a request answered and resolved, one where the desk waits
// for her answer, a delay the seller also reported by email (a repeat
// contact, which the agent merged into her request) and one raised this
// morning that nobody has picked up yet.
func loadPortal(ctx context.Context, a *app.App, actors map[string]auth.Actor, now time.Time) error {
	eleanor, ok := actors[PortalManager]
	if !ok {
		return fmt.Errorf("demo portal: no user %s", PortalManager)
	}
	sellers, err := desk.Sellers(ctx, a.DB, PortalManager)
	if err != nil {
		return err
	}
	var gb []desk.Seller
	for _, s := range sellers {
		if s.Market == "GB" {
			gb = append(gb, s)
		}
	}
	if len(gb) < 3 {
		return fmt.Errorf("demo portal: %s manages %d sellers in GB, want 3", PortalManager, len(gb))
	}
	priya, anna := actors["priya.shah@"+EmailDomain], actors["anna.kowalska@"+EmailDomain]
	fc := clock.NewFake(now)
	caps := app.Wire(a.DB, a.Desk, fc, a.Log, nil)
	return a.DB.InTx(ctx, func(tx *db.Tx) error {
		ctx := db.Join(ctx, tx)
		at := func(ago time.Duration) { fc.Set(now.Add(-ago)) }
		var err error
		must := func(what string, f func() error) {
			if err == nil {
				if e := f(); e != nil {
					err = fmt.Errorf("demo portal: %s: %w", what, e)
				}
			}
		}
		raise := func(token string, in portal.RaiseInput) string {
			in.Token = "demo-" + token
			var number string
			must("raise "+token, func() error {
				r, err := caps.Portal.Raise(ctx, eleanor, in)
				if err == nil {
					number = r.Request.Number
				}
				return err
			})
			return number
		}
		reply := func(who auth.Actor, ref, body string, internal bool) {
			must("comment on "+ref, func() error {
				_, err := caps.Cases.AddComment(ctx, who, ref, cases.CommentInput{Body: body, Internal: internal})
				return err
			})
		}
		own := func(who auth.Actor, ref string) {
			must("own "+ref, func() error {
				_, err := caps.Cases.Update(ctx, who, ref, cases.UpdateInput{Owner: &who.Email})
				return err
			})
		}
		move := func(who auth.Actor, ref string, to cases.Status, resolution, note string) {
			must("move "+ref, func() error {
				_, err := caps.Cases.Transition(ctx, who, ref, cases.TransitionInput{To: to, Resolution: resolution, Note: note})
				return err
			})
		}

		// Answered and resolved, nine days ago.
		at(9 * 24 * time.Hour)
		lost := raise("lost-40", portal.RaiseInput{SellerID: gb[0].ID, Category: "logistics/lost_parcel", Urgency: portal.UrgencyHigh,
			Title: "Courier lost 40 parcels collected from the Manchester warehouse",
			Description: "The seller handed 40 parcels to the courier on Monday; none has a scan since. " +
				"Customers are asking for refunds and the seller's rating is dropping.",
			Fields: map[string]any{"order_id": "ORD-5512093", "carrier": "DPD"}})
		at(9*24*time.Hour - 2*time.Hour)
		own(priya, lost)
		reply(priya, lost, "Thanks Eleanor — we have opened a trace with DPD for the whole collection and will update you by tomorrow noon.", false)
		reply(priya, lost, "DPD depot Trafford Park shows the cage unscanned. Chasing their account manager.", true)
		at(8 * 24 * time.Hour)
		reply(eleanor, lost, "The seller asks whether they should refund the customers now or wait for the trace.", false)
		at(8*24*time.Hour - 3*time.Hour)
		reply(priya, lost, "DPD found the cage at Trafford Park: all 40 parcels go out today with new scans. No refunds needed; "+
			"the late deliveries will not count against the seller's rating.", false)
		move(priya, lost, cases.StatusResolved, "parcel_located", "DPD located the cage; parcels re-dispatched and the rating protected.")

		// Answered; the desk waits for her.
		at(6 * 24 * time.Hour)
		payout := raise("payout-oct", portal.RaiseInput{SellerID: gb[1].ID, Category: "payments/payout_delayed",
			Title: "October payout has not arrived", Description: "The seller expected the October payout last Friday and has payroll due."})
		at(6*24*time.Hour - 4*time.Hour)
		own(anna, payout)
		reply(anna, payout, "The payout is held because the seller changed their bank details two days before it was due. "+
			"Could you ask the seller to confirm the new IBAN from the account owner's login? Then we release it the same day.", false)
		reply(anna, payout, "IBAN change came from a new device; checking with Trust & Safety before release.", true)
		move(anna, payout, cases.StatusPendingRequester, "", "Waiting for the seller to confirm the bank change.")

		// Raised by her, reported again by the seller's email: a repeat
		// contact, which the agent merges into her request.
		at(50 * time.Hour)
		delay := raise("leeds-hub", portal.RaiseInput{SellerID: gb[2].ID, Category: "logistics/delayed_delivery", Urgency: portal.UrgencyHigh,
			Title: "Christmas orders stuck at the Leeds hub", Description: "About 120 orders have been at the Leeds hub for three days.",
			Fields: map[string]any{"order_id": "ORD-5530771"}})
		at(49 * time.Hour)
		var emailed string
		must("the seller's email", func() error {
			r, err := caps.Intake.Submit(ctx, auth.System("demo"), intake.Submission{
				Source: intake.Source{Channel: "email", Key: "email", ExternalID: "<demo-leeds-hub@" + EmailDomain + ">"},
				Case: cases.CreateInput{Title: "Our parcels have not moved from Leeds since Friday", Category: "logistics/delayed_delivery",
					Market: "GB", SellerID: gb[2].ID, Requester: &cases.Requester{Name: "Dev Patel", Email: "dev.patel@seller.example"},
					Description: "Hello, our orders are stuck at your Leeds hub and customers are cancelling. Please help."}})
			if err == nil {
				emailed = r.Case.Number
			}
			return err
		})
		at(48 * time.Hour)
		own(priya, delay)
		must("merge "+emailed, func() error {
			_, err := caps.Merge.Merge(ctx, priya, emailed, merge.Input{Into: delay,
				Reason: "The seller's email is about the same stuck orders as Eleanor's request"})
			return err
		})
		reply(priya, delay, "The Leeds hub had a sorter failure; the backlog is being cleared and your seller's parcels are first in line.", false)
		at(30 * time.Hour)
		reply(priya, delay, "All 120 parcels have left Leeds with new delivery dates; the seller can see them in their orders.", false)
		move(priya, delay, cases.StatusResolved, "parcel_located", "Backlog cleared after the sorter failure.")

		// This morning: nobody has picked it up yet.
		at(5 * time.Hour)
		raise("listings", portal.RaiseInput{SellerID: gb[0].ID, Category: "governance/listing_removal", Urgency: portal.UrgencyCritical,
			Title:       "35 listings removed after a brand complaint the seller disputes",
			Description: "The seller holds the distribution contract for the brand and can send it today. Their best-selling listings are gone before the weekend.",
			Fields:      map[string]any{"policy": "ip_infringement", "listing_id": "L-88231"}})
		return err
	})
}
