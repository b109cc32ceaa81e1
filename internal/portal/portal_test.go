package portal_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/attachments"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/portal"
)

func lostParcel(seller, token string) portal.RaiseInput {
	return portal.RaiseInput{SellerID: seller, Category: "logistics/lost_parcel", Urgency: portal.UrgencyHigh,
		Title: "Customer parcel lost for a week", Description: "The seller's customer has waited a week.",
		Fields: map[string]any{"order_id": "ORD-7781"}, Token: token}
}

func TestRaiseAndFollow(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		p := f.App.Portal
		sophie, amelia, priya := f.Actor("sophie.martin"), f.Actor("amelia.clarke"), f.Actor("priya.shah")

		sellers, err := p.Sellers(ctx, sophie)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, s := range sellers {
			ids = append(ids, s.ID)
		}
		if strings.Join(ids, ",") != "S-2001,S-3001,S-1001" { // by name: Bayern, Brooklyn, Thames
			t.Errorf("sophie's sellers: %v", ids)
		}
		if _, err := p.Sellers(ctx, priya); !isForbidden(err) {
			t.Errorf("an agent in the portal: %v", err)
		}

		// Another account manager's seller, or none's, is refused before anything is written.
		_, err = p.Raise(ctx, sophie, lostParcel("S-1002", "t-0"))
		apptest.WantInvalid(t, err, "seller_id")
		bad := lostParcel("S-1001", "t-0")
		bad.Urgency = "whenever"
		_, err = p.Raise(ctx, sophie, bad)
		apptest.WantInvalid(t, err, "urgency")
		noField := lostParcel("S-1001", "t-0")
		noField.Fields = nil
		_, err = p.Raise(ctx, sophie, noField)
		apptest.WantInvalid(t, err, "fields.order_id")

		in := lostParcel("S-1001", "form-1")
		in.Files = []attachments.Upload{{Name: "tracking.txt", DeclaredType: "text/plain", R: strings.NewReader("Tracking: RM123")}}
		r, err := p.Raise(ctx, sophie, in)
		if err != nil {
			t.Fatal(err)
		}
		if r.Outcome != "created" || r.Request.Urgency != portal.UrgencyHigh || r.Request.Seller.ID != "S-1001" {
			t.Fatalf("raised: %+v", r)
		}
		if len(r.Request.Files) != 1 || r.Request.Files[0].Filename != "tracking.txt" {
			t.Errorf("files: %+v", r.Request.Files)
		}
		c, err := f.App.Cases.Get(ctx, amelia, r.Request.Number)
		if err != nil {
			t.Fatal(err)
		}
		if c.Channel != portal.Channel || c.Requester.Email != sophie.Email || c.Market != "GB" || !contains(c.Tags, "urgency:high") {
			t.Errorf("case: channel %s requester %+v market %s tags %v", c.Channel, c.Requester, c.Market, c.Tags)
		}
		// A double submit of the same form opens nothing new.
		again, err := p.Raise(ctx, sophie, in)
		if err != nil {
			t.Fatal(err)
		}
		if again.Outcome != "duplicate" || again.Request.Number != r.Request.Number {
			t.Errorf("double submit: %s %s", again.Outcome, again.Request.Number)
		}

		// The desk answers publicly and notes something internally.
		f.Clock.Advance(30 * time.Minute)
		owner := amelia.Email
		if _, err := f.App.Cases.Update(ctx, amelia, c.Number, cases.UpdateInput{Owner: &owner}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.App.Cases.AddComment(ctx, amelia, c.Number, cases.CommentInput{Body: "Carrier confirms the loss; refund on its way."}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.App.Cases.AddComment(ctx, amelia, c.Number, cases.CommentInput{Body: "Carrier SLA penalty applies", Internal: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.App.Cases.Transition(ctx, amelia, c.Number, cases.TransitionInput{To: cases.StatusPendingRequester,
			Note: "desk-internal workflow note"}); err != nil {
			t.Fatal(err)
		}
		// Leads see the same public page as account managers.
		for _, who := range []string{"sophie.martin", "jonas.weber"} {
			req, err := p.Get(ctx, f.Actor(who), c.Number)
			if err != nil {
				t.Fatal(err)
			}
			var text []string
			for _, e := range req.Timeline {
				text = append(text, e.Kind+":"+e.Text)
			}
			all := strings.Join(text, "\n")
			if !strings.Contains(all, "reply:Carrier confirms the loss") || !strings.Contains(all, "status:Status: Waiting for your answer") {
				t.Errorf("%s misses the public side:\n%s", who, all)
			}
			if strings.Contains(all, "penalty") || strings.Contains(all, "workflow note") || strings.Contains(all, "assigned") {
				t.Errorf("%s sees the desk's side:\n%s", who, all)
			}
			if req.StatusText != "Waiting for your answer" || !req.Waiting || !strings.Contains(req.Doing, "Amelia Clarke") ||
				req.TeamName != "Logistics" || req.SLA == "" {
				t.Errorf("%s: %+v", who, req.Item)
			}
		}
		mine, err := p.List(ctx, sophie, portal.ListMine)
		if err != nil || len(mine) != 1 || mine[0].Number != c.Number || !mine[0].Mine {
			t.Fatalf("my requests: %+v %v", mine, err)
		}
		if !strings.HasPrefix(mine[0].LastUpdate, "Status: Waiting for your answer") {
			t.Errorf("last update: %q", mine[0].LastUpdate)
		}
		// A case about her seller someone else raised is among her sellers' cases, not her requests.
		other, err := f.App.Cases.Create(ctx, amelia, cases.CreateInput{Title: "Bayern Elektronik chargebacks",
			Category: "payments/payout_failed", Market: "DE", SellerID: "S-2001"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := p.List(ctx, sophie, portal.ListSellers)
		if err != nil {
			t.Fatal(err)
		}
		if len(theirs) != 2 || theirs[0].Number != c.Number || !theirs[0].Waiting || theirs[1].Number != other.Number || theirs[1].Mine {
			t.Errorf("sellers' cases (waiting first): %+v", theirs)
		}

		// Her reply is a public comment; a closed case takes none.
		if _, err := p.Reply(ctx, sophie, c.Number, "Thanks, the seller is relieved."); err != nil {
			t.Fatal(err)
		}
		req, err := p.Get(ctx, sophie, c.Number)
		if err != nil {
			t.Fatal(err)
		}
		last := req.Timeline[len(req.Timeline)-1]
		if last.Kind != "reply" || !last.Mine || last.Text != "Thanks, the seller is relieved." {
			t.Errorf("her reply: %+v", last)
		}
		if _, err := p.Get(ctx, sophie, "ESC-999"); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("unknown request: %v", err)
		}
	})
}

func isForbidden(err error) bool {
	var fb *apperr.Forbidden
	return errors.As(err, &fb)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestSLAText(t *testing.T) {
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	due, warn := now.Add(3*time.Hour), now.Add(2*time.Hour)
	past := now.Add(-2 * time.Hour)
	for _, tc := range []struct {
		clocks []cases.Clock
		status cases.Status
		want   string
	}{
		{nil, cases.StatusNew, "No response target"},
		{[]cases.Clock{{Metric: "first_response", State: "running", DueAt: &due, WarnAt: &warn}}, cases.StatusNew, "On track: first answer due within 3 hours"},
		{[]cases.Clock{{Metric: "resolution", State: "running", DueAt: &due, WarnAt: &past}}, cases.StatusOpen, "Due soon: resolution within 3 hours"},
		{[]cases.Clock{{Metric: "resolution", State: "running", DueAt: &due}, {Metric: "first_response", State: "breached", DueAt: &past}}, cases.StatusOpen,
			"Late: the first answer was due 2 hours ago"},
		{[]cases.Clock{{Metric: "resolution", State: "paused", DueAt: &due}}, cases.StatusPendingRequester, "On hold while the desk waits for your answer"},
		{[]cases.Clock{{Metric: "resolution", State: "met"}}, cases.StatusResolved, "Every target met"},
	} {
		if got := portal.SLAText(&cases.Case{SLA: tc.clocks, Status: tc.status}, now); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.clocks, got, tc.want)
		}
	}
}
