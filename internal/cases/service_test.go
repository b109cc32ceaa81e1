package cases_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

var t0 = apptest.T0

type fixture struct {
	*apptest.Fixture
	d     *db.DB
	clock *clock.Fake
	svc   *cases.Service
}

// newFixture wires Flare on the example desk in a fresh store.
func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	fx := apptest.New(t, d)
	return &fixture{Fixture: fx, d: d, clock: fx.Clock, svc: fx.App.Cases}
}

func (f *fixture) actor(name string) auth.Actor { return f.Actor(name) }

func lostParcel() cases.CreateInput {
	return cases.CreateInput{
		Title: "Parcel never arrived", Description: "Buyer says the parcel never arrived", Category: "logistics/lost_parcel",
		Market: "GB", SellerID: "S-1001", Requester: &cases.Requester{Name: "Sam Buyer", Email: "Sam@Example.com"},
		Tags:   []string{"Carrier", "carrier", "q4"},
		Fields: map[string]any{"order_id": "ORD-778812", "tracking_number": "JD0002211", "carrier": "DPD"},
	}
}

func TestCaseLifecycle(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		priya := f.actor("priya.shah")
		c, err := f.svc.Create(ctx, priya, lostParcel(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.Number != "ESC-1" || c.Status != cases.StatusNew || c.Team != "logistics" || c.Language != "en" {
			t.Fatalf("new case: %+v", c)
		}
		if got := c.Tags; len(got) != 2 || got[0] != "carrier" || got[1] != "q4" {
			t.Fatalf("tags are normalised and de-duplicated: %v", got)
		}
		if c.Requester.Email != "sam@example.com" {
			t.Fatalf("requester email normalised: %q", c.Requester.Email)
		}
		// Tier-1 seller and severity 3: P3 with both reasons shown.
		if c.Priority != "P3" || len(c.PriorityReasons) != 2 {
			t.Fatalf("priority %s reasons %+v", c.Priority, c.PriorityReasons)
		}

		f.clock.Advance(10 * time.Minute)
		owner := "priya.shah@flare.example"
		c, err = f.svc.Update(ctx, priya, c.Number, cases.UpdateInput{Owner: &owner})
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != cases.StatusOpen || c.Owner == nil || *c.Owner != owner {
			t.Fatalf("assigning a new case opens it: status %s owner %v", c.Status, c.Owner)
		}
		f.clock.Advance(5 * time.Minute)
		if _, err := f.svc.AddComment(ctx, priya, c.Number, cases.CommentInput{Body: "Checking with **DPD**", Internal: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AddComment(ctx, priya, c.Number, cases.CommentInput{Body: "We are on it <script>alert(1)</script>"}); err != nil {
			t.Fatal(err)
		}
		c, _ = f.svc.Get(ctx, priya, c.Number)
		if c.FirstResponseAt == nil || !c.FirstResponseAt.Equal(t0.Add(15*time.Minute)) {
			t.Fatalf("first public reply is the first response: %v", c.FirstResponseAt)
		}

		// Resolving needs a known resolution and a note, and writes nothing otherwise.
		_, err = f.svc.Transition(ctx, priya, c.Number, cases.TransitionInput{To: cases.StatusResolved, Resolution: "magic"})
		var inv *apperr.Invalid
		if !errors.As(err, &inv) || len(inv.Errors) != 2 {
			t.Fatalf("want 2 field errors (resolution, note), got %v", err)
		}
		f.clock.Advance(time.Hour)
		c, err = f.svc.Transition(ctx, priya, c.Number, cases.TransitionInput{To: cases.StatusResolved, Resolution: "refunded", Note: "Refund issued"})
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != cases.StatusResolved || c.ResolvedAt == nil || c.Resolution != "refunded" {
			t.Fatalf("resolved: %+v", c)
		}
		// Illegal: resolved → pending_requester.
		_, err = f.svc.Transition(ctx, priya, c.Number, cases.TransitionInput{To: cases.StatusPendingRequester})
		var cf *apperr.Conflict
		if !errors.As(err, &cf) {
			t.Fatalf("want conflict, got %v", err)
		}
		c, err = f.svc.Transition(ctx, priya, c.Number, cases.TransitionInput{To: cases.StatusOpen, Note: "buyer wrote back"})
		if err != nil || c.ReopenCount != 1 || c.ResolvedAt != nil || c.Resolution != "" {
			t.Fatalf("reopen: %+v %v", c, err)
		}

		evs, err := f.svc.Events(ctx, priya, c.Number)
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, e := range evs {
			types = append(types, e.Type)
		}
		want := []string{"created", "update", "status", "comment", "comment", "status", "status"}
		if fmt.Sprint(types) != fmt.Sprint(want) {
			t.Fatalf("timeline %v, want %v", types, want)
		}
		if evs[1].Actor == nil || *evs[1].Actor != owner {
			t.Fatalf("events name their actor: %+v", evs[1])
		}
		if html := evs[4].Data["body_html"].(string); html == "" || contains(html, "<script") {
			t.Fatalf("public reply must be sanitised HTML: %q", html)
		}
		// Account managers never see internal notes.
		sophie := f.actor("sophie.martin")
		evs, err = f.svc.Events(ctx, sophie, c.Number)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Type == "comment" && e.Data["internal"] == true {
				t.Fatal("account manager saw an internal note")
			}
		}
		res, err := audit.Verify(ctx, d)
		if err != nil || !res.OK || res.Checked < 7 {
			t.Fatalf("audit chain after the lifecycle: %+v %v", res, err)
		}
	})
}

func contains(s, sub string) bool {
	return len(s) >= len(sub) && (s == sub || len(sub) == 0 || indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestCreateValidation(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		in := cases.CreateInput{Title: "", Category: "logistics/nope", Market: "XX", Channel: "fax", SellerID: "S-404",
			Sensitivity: "secret", Tags: []string{"Bad Tag!"}}
		_, err := f.svc.Create(ctx, f.actor("priya.shah"), in, nil)
		var inv *apperr.Invalid
		if !errors.As(err, &inv) {
			t.Fatalf("want invalid, got %v", err)
		}
		fields := map[string]bool{}
		for _, e := range inv.Errors {
			fields[e.Field] = true
		}
		for _, want := range []string{"title", "category", "market", "channel", "seller_id", "sensitivity", "tags[0]"} {
			if !fields[want] {
				t.Errorf("no error for %s in %+v", want, inv.Errors)
			}
		}
		// Missing required custom field.
		in = lostParcel()
		delete(in.Fields, "order_id")
		_, err = f.svc.Create(ctx, f.actor("priya.shah"), in, nil)
		if !errors.As(err, &inv) || inv.Errors[0].Field != "fields.order_id" {
			t.Fatalf("want fields.order_id error, got %v", err)
		}
		var n int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM cases`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("nothing may be written: %d cases, %v", n, err)
		}
		// Viewers cannot create.
		_, err = f.svc.Create(ctx, auth.Actor{UserID: 99, Role: auth.RoleViewer}, lostParcel(), nil)
		var fb *apperr.Forbidden
		if !errors.As(err, &fb) {
			t.Fatalf("viewer create: %v", err)
		}
	})
}

func TestNumbersUniqueUnderConcurrency(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		const n = 40
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Go(func() {
				_, err := f.svc.Create(ctx, f.actor("priya.shah"), lostParcel(), nil)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		var count, distinct, max int
		if err := d.QueryRow(ctx, `SELECT COUNT(*), COUNT(DISTINCT number), MAX(number) FROM cases`).Scan(&count, &distinct, &max); err != nil {
			t.Fatal(err)
		}
		if count != n || distinct != n || max != n {
			t.Fatalf("numbers: %d cases, %d distinct, max %d", count, distinct, max)
		}
		if res, err := audit.Verify(ctx, d); err != nil || !res.OK {
			t.Fatalf("audit chain under concurrency: %+v %v", res, err)
		}
	})
}

func TestUpdateFieldsPriorityAndWatchers(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		jonas := f.actor("jonas.weber")
		c, err := f.svc.Create(ctx, jonas, lostParcel(), nil)
		if err != nil {
			t.Fatal(err)
		}
		p1, none := "P1", ""
		_, err = f.svc.Update(ctx, jonas, c.Number, cases.UpdateInput{Priority: &p1})
		var inv *apperr.Invalid
		if !errors.As(err, &inv) || inv.Errors[0].Field != "priority_reason" {
			t.Fatalf("an override needs a reason: %v", err)
		}
		why := "Press enquiry"
		watchers := []string{"amelia.clarke@flare.example"}
		c, err = f.svc.Update(ctx, jonas, c.Number, cases.UpdateInput{Priority: &p1, PriorityReason: &why,
			Fields: map[string]any{"carrier": "DHL", "tracking_number": nil}, Watchers: &watchers})
		if err != nil {
			t.Fatal(err)
		}
		if c.Priority != "P1" || c.PriorityReasons[0].Factor != "override" {
			t.Fatalf("override kept with reason: %+v", c.PriorityReasons)
		}
		if c.Fields["carrier"] != "DHL" || c.Fields["tracking_number"] != nil || c.Fields["order_id"] != "ORD-778812" {
			t.Fatalf("partial field update: %v", c.Fields)
		}
		if len(c.Watchers) != 1 || c.Watchers[0] != watchers[0] {
			t.Fatalf("watchers: %v", c.Watchers)
		}
		// High risk does not move an overridden priority; "auto" restores scoring.
		yes, auto := true, "auto"
		c, _ = f.svc.Update(ctx, jonas, c.Number, cases.UpdateInput{HighRisk: &yes})
		if c.Priority != "P1" {
			t.Fatalf("override must stick: %s", c.Priority)
		}
		c, err = f.svc.Update(ctx, jonas, c.Number, cases.UpdateInput{Priority: &auto})
		if err != nil || c.Priority != "P2" || c.PriorityReasons[0].Factor == "override" {
			t.Fatalf("auto priority: %s %+v %v", c.Priority, c.PriorityReasons, err)
		}
		// An agent outside the team cannot own the case.
		marcus := "marcus.reed@flare.example"
		_, err = f.svc.Update(ctx, jonas, c.Number, cases.UpdateInput{Owner: &marcus})
		if !errors.As(err, &inv) || inv.Errors[0].Field != "owner" {
			t.Fatalf("owner outside team: %v", err)
		}
		c, err = f.svc.Update(ctx, jonas, c.Number, cases.UpdateInput{SellerID: &none})
		if err != nil || c.SellerID != nil {
			t.Fatalf("clear seller: %v %v", c.SellerID, err)
		}
	})
}

func TestVisibilityAndList(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		admin := f.actor("amelia.clarke")
		mk := func(title, cat, market, seller, sensitivity string, fields map[string]any) *cases.Case {
			f.clock.Advance(time.Minute)
			c, err := f.svc.Create(ctx, admin, cases.CreateInput{Title: title, Category: cat, Market: market,
				SellerID: seller, Sensitivity: sensitivity, Fields: fields, Description: "ein verlorenes Paket"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		lost := map[string]any{"order_id": "O-1"}
		a := mk("Parcel lost in Leeds", "logistics/lost_parcel", "GB", "S-1001", "", lost)
		b := mk("Delivery late", "logistics/delayed_delivery", "US", "", "", map[string]any{"order_id": "O-2"})
		r := mk("Charger overheating", "safety/product_safety", "DE", "S-2002", "restricted", nil)
		g := mk("Payout failed twice", "payments/payout_failed", "DE", "S-2001", "", nil)

		list := func(who auth.Actor, lf cases.ListFilter) []string {
			t.Helper()
			p, err := f.svc.List(ctx, who, lf)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, c := range p.Cases {
				out = append(out, c.Number)
			}
			return out
		}
		same := func(got []string, want ...*cases.Case) {
			t.Helper()
			var w []string
			for _, c := range want {
				w = append(w, c.Number)
			}
			if fmt.Sprint(got) != fmt.Sprint(w) {
				t.Fatalf("got %v, want %v", got, w)
			}
		}
		all := cases.ListFilter{Sort: "created_at"}
		same(list(admin, all), a, b, r, g)
		// Priya: logistics member, all markets. Marcus: trust_safety member in US only.
		same(list(f.actor("priya.shah"), all), a, b)
		same(list(f.actor("marcus.reed"), all))
		// Sophie manages S-1001 and S-2001; restricted cases are never hers.
		same(list(f.actor("sophie.martin"), all), a, g)
		if _, err := f.svc.Get(ctx, f.actor("sophie.martin"), r.Number); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("restricted case leaked: %v", err)
		}
		same(list(admin, cases.ListFilter{Sort: "created_at", Category: "logistics"}), a, b)
		same(list(admin, cases.ListFilter{Sort: "created_at", Market: []string{"DE"}}), r, g)
		same(list(admin, cases.ListFilter{Sort: "created_at", Fields: map[string]string{"order_id": "O-2"}}), b)
		same(list(admin, cases.ListFilter{Sort: "created_at", Q: "verlorenes paket"}), a, b, r, g)
		same(list(admin, cases.ListFilter{Sort: "created_at", Q: "payout twice"}), g)
		same(list(admin, cases.ListFilter{Q: b.Number}), b)
		// Priority sort then cursor pagination walks every case once.
		var walked []string
		lf := cases.ListFilter{Sort: "priority", Limit: 1}
		for {
			p, err := f.svc.List(ctx, admin, lf)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range p.Cases {
				walked = append(walked, c.Priority+" "+c.Number)
			}
			if p.NextCursor == "" {
				break
			}
			lf.Cursor = p.NextCursor
		}
		if len(walked) != 4 || !sortedStrings(walked) {
			t.Fatalf("priority pages: %v", walked)
		}
		_, err := f.svc.List(ctx, admin, cases.ListFilter{Sort: "-created_at", Cursor: lf.Cursor})
		var inv *apperr.Invalid
		if lf.Cursor != "" && !errors.As(err, &inv) {
			t.Fatalf("a cursor from another sort is rejected: %v", err)
		}
	})
}

func sortedStrings(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i-1][:2] > s[i][:2] {
			return false
		}
	}
	return true
}

func TestSearchSeesEveryCommittedCase(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		admin := f.actor("amelia.clarke")
		in := lostParcel()
		in.Title = "Kühlschrank beschädigt"
		c, err := f.svc.Create(ctx, admin, in, nil)
		if err != nil {
			t.Fatal(err)
		}
		search := func(q string) int {
			t.Helper()
			p, err := f.svc.List(ctx, admin, cases.ListFilter{Q: q})
			if err != nil {
				t.Fatal(err)
			}
			return len(p.Cases)
		}
		if n := search("kühlschrank"); n != 1 {
			t.Fatalf("new case found %d times", n)
		}
		if d.Dialect() == db.SQLite && search("kuhlschrank") != 1 {
			t.Fatal("SQLite search folds diacritics")
		}
		title := "Waschmaschine beschädigt"
		if _, err := f.svc.Update(ctx, admin, c.Number, cases.UpdateInput{Title: &title}); err != nil {
			t.Fatal(err)
		}
		if search("kühlschrank") != 0 || search("waschmaschine") != 1 {
			t.Fatal("changed text must replace the indexed text")
		}
		// Text changed twice before indexing still leaves one clean entry.
		for _, tt := range []string{"Trockner kaputt", "Geschirrspüler kaputt"} {
			tt := tt
			if _, err := f.svc.Update(ctx, admin, c.Number, cases.UpdateInput{Title: &tt}); err != nil {
				t.Fatal(err)
			}
		}
		if search("trockner") != 0 || search("waschmaschine") != 0 || search("geschirrspüler kaputt") != 1 {
			t.Fatal("stale text after two changes")
		}
	})
}

// Bad input and a refused status move are found before any transaction
// (db.InTx's contract): no commit batch is rolled back and replayed for
// them, and nothing is written.
func TestRefusedChangesOpenNoTransaction(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		amelia := f.actor("amelia.clarke")
		c, err := f.svc.Create(ctx, amelia, lostParcel(), nil)
		if err != nil {
			t.Fatal(err)
		}
		before := d.Transactions()
		bad, team, owner := "P9", "nope", "nobody@flare.example"
		watchers := []string{"nobody@flare.example"}
		for _, in := range []cases.UpdateInput{{Priority: &bad}, {Team: &team}, {Owner: &owner}, {Watchers: &watchers}} {
			if _, err := f.svc.Update(ctx, amelia, c.Number, in); err == nil {
				t.Fatalf("update %+v accepted", in)
			}
		}
		if _, err := f.svc.Transition(ctx, amelia, c.Number, cases.TransitionInput{To: cases.StatusClosed}); err == nil {
			t.Fatal("new → closed accepted")
		}
		if _, err := f.svc.Transition(ctx, amelia, c.Number, cases.TransitionInput{To: cases.StatusResolved}); err == nil {
			t.Fatal("resolving without a resolution accepted")
		}
		if n := d.Transactions() - before; n != 0 {
			t.Fatalf("refused changes opened %d transactions", n)
		}
		title := "Parcel never arrived (14 items)"
		if _, err := f.svc.Update(ctx, amelia, c.Number, cases.UpdateInput{Title: &title, Watchers: &[]string{"priya.shah@flare.example"}}); err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.Get(ctx, amelia, c.Number)
		if err != nil || got.Title != title || len(got.Watchers) != 1 {
			t.Fatalf("a valid change after them: %+v %v", got, err)
		}
	})
}
