package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/notify"
)

type fixture struct {
	*apptest.Fixture
	ctx  context.Context
	smtp *smtpd
	n    *notify.Service
}

// newFixture is the example desk with notifications by email through a
// real SMTP server on loopback.
func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	f := &fixture{Fixture: apptest.New(t, d), ctx: context.Background()}
	f.smtp = startSMTP(t, nil)
	host, port, _ := net.SplitHostPort(f.smtp.addr)
	p, _ := strconv.Atoi(port)
	f.Reapply(t, func(c *desk.Config) {
		desk.Set(c, notify.SettingsKey, notify.Settings{BaseURL: "https://flare.test",
			Email: notify.EmailSettings{Host: host, Port: p, Security: notify.SecurityNone, From: "Flare <flare@desk.test>"}})
	})
	f.n = f.App.Notify
	return f
}

// flush delivers the outbox to notify and sends what is due, as the
// running server's loops do.
func (f *fixture) flush(t *testing.T) {
	t.Helper()
	for {
		n, err := f.App.Bus.Deliver(f.ctx, notify.Subscriber)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if _, err := f.n.Fire(f.ctx); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) inbox(t *testing.T, name string) *notify.Inbox {
	t.Helper()
	in, err := f.n.List(f.ctx, f.Actor(name), notify.InboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

const secretNote = "Internal: the seller is under investigation for counterfeit stock, keep this quiet."

// TestEmailJourney: a case assigned, a note mentioning its owner and its
// resolution reach the owner as three threaded mails and three bell
// entries; the seller's account manager gets the resolution — public facts
// only, never the internal note.
func TestEmailJourney(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		amelia, priya := f.Actor("amelia.clarke"), "priya.shah@flare.example"
		c := must[*cases.Case](t)(f.App.Cases.Create(f.ctx, amelia, cases.CreateInput{Title: "Parcel lost after carrier scan",
			Category: "logistics/lost_parcel", Market: "GB", SellerID: "S-1001", Fields: map[string]any{"order_id": "ORD-1"}}, nil))
		must[*cases.Case](t)(f.App.Cases.Update(f.ctx, amelia, c.Number, cases.UpdateInput{Owner: &priya}))
		must[*cases.Comment](t)(f.App.Cases.AddComment(f.ctx, amelia, c.Number, cases.CommentInput{
			Body: "@priya.shah please look. " + secretNote, Internal: true}))
		must[*cases.Case](t)(f.App.Cases.Transition(f.ctx, amelia, c.Number, cases.TransitionInput{To: cases.StatusResolved,
			Resolution: "refunded", Note: "The buyer was refunded in full."}))
		f.flush(t)

		mails := thread(t, f.smtp.to(priya))
		if len(mails) != 3 {
			t.Fatalf("priya got %d mails, want 3 (assigned, mention, resolved)", len(mails))
		}
		wantHead := []string{c.Number + " was assigned to you", "Amelia Clarke mentioned you in an internal note on " + c.Number,
			c.Number + " was resolved (Refunded)"}
		var ids []string
		for i, m := range mails {
			if got := m.Header.Get("Subject"); got != "["+c.Number+"] Parcel lost after carrier scan" {
				t.Errorf("mail %d subject %q", i, got)
			}
			if !strings.HasPrefix(m.Text, wantHead[i]) || !strings.Contains(m.HTML, wantHead[i]) {
				t.Errorf("mail %d does not say %q:\n%s", i, wantHead[i], m.Text)
			}
			if !strings.Contains(m.Text, "https://flare.test/cases/"+c.Number) || !strings.Contains(m.HTML, `href="https://flare.test/cases/`+c.Number+`"`) {
				t.Errorf("mail %d has no link to the case", i)
			}
			if m.Header.Get("Auto-Submitted") != "auto-generated" || m.Header.Get("From") != `"Flare" <flare@desk.test>` {
				t.Errorf("mail %d headers: %v", i, m.Header)
			}
			ids = append(ids, m.Header.Get("Message-Id"))
		}
		// Threading: the first is the thread's root; each replies to the one before.
		if !strings.HasPrefix(ids[0], "<case-") || mails[0].Header.Get("In-Reply-To") != "" || mails[0].Header.Get("References") != "" {
			t.Errorf("first mail: Message-ID %s In-Reply-To %q", ids[0], mails[0].Header.Get("In-Reply-To"))
		}
		if mails[1].Header.Get("In-Reply-To") != ids[0] || mails[1].Header.Get("References") != ids[0] {
			t.Errorf("second mail: In-Reply-To %q References %q, want %s", mails[1].Header.Get("In-Reply-To"), mails[1].Header.Get("References"), ids[0])
		}
		if mails[2].Header.Get("In-Reply-To") != ids[1] || mails[2].Header.Get("References") != ids[0]+" "+ids[1] {
			t.Errorf("third mail: In-Reply-To %q References %q", mails[2].Header.Get("In-Reply-To"), mails[2].Header.Get("References"))
		}
		if !strings.Contains(mails[1].Text, secretNote) {
			t.Errorf("the mention does not quote the note to its desk reader:\n%s", mails[1].Text)
		}

		// The account manager: the status changes (new → open on assignment,
		// then resolved) with the resolution's public note, nothing internal.
		am := thread(t, f.smtp.to("sophie.martin@flare.example"))
		if len(am) != 2 || !strings.HasPrefix(am[0].Text, c.Number+" is now open") || !strings.HasPrefix(am[1].Text, c.Number+" was resolved") {
			t.Fatalf("the account manager got %d mails, want 2 (open, resolved)", len(am))
		}
		for _, m := range am {
			for _, body := range []string{m.Text, m.HTML, string(m.Raw)} {
				for _, secret := range []string{"investigation", "counterfeit", "Priority", "Logistics", "mentioned"} {
					if strings.Contains(body, secret) {
						t.Errorf("the account manager's mail holds %q:\n%s", secret, body)
					}
				}
			}
		}
		if !strings.Contains(am[1].Text, "The buyer was refunded in full.") {
			t.Errorf("the account manager's mail lacks the resolution note:\n%s", am[1].Text)
		}

		// The bell.
		in := f.inbox(t, "priya.shah")
		if in.Unread != 3 || len(in.Notifications) != 3 || in.Notifications[0].Kind != notify.KindResolved {
			t.Fatalf("priya's bell: %+v", in)
		}
		if sm := f.inbox(t, "sophie.martin"); sm.Unread != 2 || strings.Contains(sm.Notifications[0].Body, "investigation") {
			t.Fatalf("sophie's bell: %+v", sm)
		}
		if n := must[int64](t)(f.n.MarkRead(f.ctx, f.Actor("priya.shah"), notify.ReadInput{IDs: []int64{in.Notifications[2].ID}})); n != 1 {
			t.Fatalf("marked %d", n)
		}
		if n := must[int64](t)(f.n.MarkRead(f.ctx, f.Actor("sophie.martin"), notify.ReadInput{IDs: []int64{in.Notifications[1].ID}})); n != 0 {
			t.Fatal("someone else's notification marked read")
		}
		if got := f.inbox(t, "priya.shah").Unread; got != 2 {
			t.Fatalf("unread %d after marking one", got)
		}
		// Nobody is told of their own action.
		if len(f.smtp.to("amelia.clarke@flare.example")) != 0 || f.inbox(t, "amelia.clarke").Unread != 0 {
			t.Error("the actor was told of their own actions")
		}
	})
}

// TestRedeliveryAddsNothing: handling an event again (the outbox delivers
// at least once) adds no notification and sends nothing again.
func TestRedeliveryAddsNothing(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		l := f.App.Bus.Feed().Listen(100, nil)
		defer l.Close()
		amelia, priya := f.Actor("amelia.clarke"), "priya.shah@flare.example"
		c := must[*cases.Case](t)(f.App.Cases.Create(f.ctx, amelia, cases.CreateInput{Title: "Parcel lost",
			Category: "logistics/lost_parcel", Market: "GB", Fields: map[string]any{"order_id": "ORD-1"}}, nil))
		must[*cases.Case](t)(f.App.Cases.Update(f.ctx, amelia, c.Number, cases.UpdateInput{Owner: &priya}))
		f.flush(t)
		var seen []events.Event
		for len(l.C()) > 0 {
			seen = append(seen, <-l.C())
		}
		for _, e := range seen {
			if err := f.n.Handle(f.ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		f.flush(t)
		if got := len(f.smtp.to(priya)); got != 1 {
			t.Fatalf("priya got %d mails, want 1", got)
		}
		if got := f.inbox(t, "priya.shah").Unread; got != 1 {
			t.Fatalf("priya has %d notifications, want 1", got)
		}
	})
}

// TestRetrySendsOnlyWhatFailed: one event mails A and B; B's server
// refuses three times; A gets one mail, B one, after the retries.
func TestRetrySendsOnlyWhatFailed(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		amelia := f.Actor("amelia.clarke")
		priya, jonas := "priya.shah@flare.example", "jonas.weber@flare.example"
		f.smtp.mu.Lock()
		f.smtp.rejectTo[jonas] = 3
		f.smtp.mu.Unlock()
		c := must[*cases.Case](t)(f.App.Cases.Create(f.ctx, amelia, cases.CreateInput{Title: "Parcel lost",
			Category: "logistics/lost_parcel", Market: "GB", Fields: map[string]any{"order_id": "ORD-1"}}, nil))
		must[*cases.Comment](t)(f.App.Cases.AddComment(f.ctx, amelia, c.Number, cases.CommentInput{
			Body: "@priya.shah and @jonas.weber: the carrier says delivered.", Internal: true}))
		f.flush(t)
		for i := 0; i < 3; i++ { // past each back-off
			f.Clock.Advance(10 * time.Second * time.Duration(1<<i))
			if _, err := f.n.Fire(f.ctx); err != nil {
				t.Fatal(err)
			}
		}
		if a, b := len(f.smtp.to(priya)), len(f.smtp.to(jonas)); a != 1 || b != 1 {
			t.Fatalf("priya got %d, jonas %d mails; want 1 each", a, b)
		}
		page := must[*notify.DeliveryPage](t)(f.n.Deliveries(f.ctx, amelia, notify.DeliveryFilter{Channel: "email", WithLog: true}))
		attempts := map[string][]int{}
		for _, dl := range page.Deliveries {
			if dl.State != "sent" {
				t.Errorf("delivery to %s is %s", dl.Recipient, dl.State)
			}
			for _, a := range dl.Log {
				attempts[dl.Recipient] = append(attempts[dl.Recipient], a.Status)
			}
		}
		if !slices.Equal(attempts[priya], []int{250}) || !slices.Equal(attempts[jonas], []int{451, 451, 451, 250}) {
			t.Fatalf("attempts: %v", attempts)
		}
	})
}

// TestQuietHours: mail in quiet hours waits for their end (a stored
// instant the timer sleeps to), the bell does not; a P1 case and an
// escalation to the person do not wait.
func TestQuietHours(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		amelia, priya := f.Actor("amelia.clarke"), "priya.shah@flare.example"
		// 09:00 in London (priya's zone) on Monday 2 November: quiet until 12:00.
		must[*notify.PreferencesView](t)(f.n.SetPreferences(f.ctx, f.Actor("priya.shah"),
			notify.Preferences{Quiet: &notify.QuietHours{Start: "08:00", End: "12:00"}}))
		c := must[*cases.Case](t)(f.App.Cases.Create(f.ctx, amelia, cases.CreateInput{Title: "Parcel lost",
			Category: "logistics/lost_parcel", Market: "GB", Fields: map[string]any{"order_id": "ORD-1"}}, nil))
		must[*cases.Case](t)(f.App.Cases.Update(f.ctx, amelia, c.Number, cases.UpdateInput{Owner: &priya}))
		f.flush(t)
		if len(f.smtp.to(priya)) != 0 {
			t.Fatal("mail sent in quiet hours")
		}
		if f.inbox(t, "priya.shah").Unread != 1 {
			t.Fatal("the bell waits for quiet hours to end")
		}
		// An escalation to her is not held.
		err := d.InTx(f.ctx, func(tx *db.Tx) error {
			return f.App.Bus.Publish(f.ctx, tx, events.Event{Type: events.EscalationStarted, Case: cases.EventCase(c),
				Data: &events.Escalation{EscalationID: 1, Trigger: "manual", Level: 2, FromLevel: 1, Targets: []string{priya},
					AckDeadline: f.Clock.Now().Add(15 * time.Minute)}})
		})
		if err != nil {
			t.Fatal(err)
		}
		f.flush(t)
		got := f.smtp.to(priya)
		if len(got) != 1 || !strings.Contains(got[0].Text, "was escalated to you (L2)") {
			t.Fatalf("the escalation: %d mails", len(got))
		}
		next := must[time.Time](t)(f.n.Fire(f.ctx))
		if want := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC); !next.Equal(want) {
			t.Fatalf("next delivery due %v, want %v (the end of quiet hours)", next, want)
		}
		f.Clock.Set(next)
		must[time.Time](t)(f.n.Fire(f.ctx))
		if got := f.smtp.to(priya); len(got) != 2 || !strings.Contains(got[1].Text, "was assigned to you") {
			t.Fatalf("after quiet hours: %d mails", len(got))
		}
	})
}

// TestPreferencesChooseChannels: a person who turns a kind's email off
// gets it in the app only; one who turns a kind off entirely gets nothing.
func TestPreferencesChooseChannels(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		amelia, priya, jonas := f.Actor("amelia.clarke"), "priya.shah@flare.example", "jonas.weber@flare.example"
		must[*notify.PreferencesView](t)(f.n.SetPreferences(f.ctx, f.Actor("priya.shah"),
			notify.Preferences{Channels: map[notify.Kind][]notify.Channel{notify.KindMention: {notify.InApp}}}))
		must[*notify.PreferencesView](t)(f.n.SetPreferences(f.ctx, f.Actor("jonas.weber"),
			notify.Preferences{Channels: map[notify.Kind][]notify.Channel{notify.KindMention: {}}}))
		c := must[*cases.Case](t)(f.App.Cases.Create(f.ctx, amelia, cases.CreateInput{Title: "Parcel lost",
			Category: "logistics/lost_parcel", Market: "GB", Fields: map[string]any{"order_id": "ORD-1"}}, nil))
		must[*cases.Comment](t)(f.App.Cases.AddComment(f.ctx, amelia, c.Number, cases.CommentInput{
			Body: "@priya.shah @jonas.weber see this", Internal: true}))
		f.flush(t)
		if len(f.smtp.to(priya)) != 0 || len(f.smtp.to(jonas)) != 0 {
			t.Fatal("mail against the preferences")
		}
		if f.inbox(t, "priya.shah").Unread != 1 || f.inbox(t, "jonas.weber").Unread != 0 {
			t.Fatal("bell against the preferences")
		}
		v := must[*notify.PreferencesView](t)(f.n.Preferences(f.ctx, f.Actor("priya.shah")))
		if v.Timezone != "Europe/London" || !slices.Equal(v.Channels[notify.KindMention], []notify.Channel{notify.InApp}) ||
			!slices.Equal(v.Channels[notify.KindAssigned], []notify.Channel{notify.InApp, notify.Email}) {
			t.Fatalf("view: %+v", v)
		}
	})
}

// TestRestrictedCase: a restricted case tells only those who may see it;
// a webhook gets it only when its subscription says so.
func TestRestrictedCase(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		amelia := f.Actor("amelia.clarke")
		rcv := newReceiver(t, 0)
		plain := must[*notify.Webhook](t)(f.n.CreateWebhook(f.ctx, amelia, notify.WebhookInput{Name: ptr("all"), URL: ptr(rcv.URL)}))
		withR := must[*notify.Webhook](t)(f.n.CreateWebhook(f.ctx, amelia, notify.WebhookInput{Name: ptr("restricted too"),
			URL: ptr(rcv.URL + "?r=1"), IncludeRestricted: ptr(true)}))
		c := f.OwnedCase(t, apptest.Suspension()) // governance, restricted, owned by amelia
		// priya (logistics) is mentioned but may not see it; jonas (a lead) may.
		must[*cases.Comment](t)(f.App.Cases.AddComment(f.ctx, amelia, c.Number, cases.CommentInput{
			Body: "@priya.shah @jonas.weber please check", Internal: true}))
		f.flush(t)
		if f.inbox(t, "priya.shah").Unread != 0 || len(f.smtp.to("priya.shah@flare.example")) != 0 {
			t.Error("someone who may not see the case was told")
		}
		if f.inbox(t, "jonas.weber").Unread != 1 {
			t.Error("the lead was not told")
		}
		for _, m := range rcv.got() {
			if m.query == "" {
				t.Errorf("the plain subscription got %s of a restricted case", m.header.Get(events.HeaderEvent))
			}
		}
		if len(rcv.got()) == 0 {
			t.Error("the subscription with include_restricted got nothing")
		}
		_, _ = plain, withR
	})
}

func ptr[T any](v T) *T { return &v }

// thread orders mails of one thread by their replies: the root (no
// In-Reply-To) first, then each one's reply. They are sent concurrently,
// so they arrive in any order.
func thread(t *testing.T, ms []received) []received {
	t.Helper()
	var out []received
	parent := ""
	for range ms {
		found := false
		for _, m := range ms {
			if m.Header.Get("In-Reply-To") == parent {
				out, parent, found = append(out, m), m.Header.Get("Message-Id"), true
				break
			}
		}
		if !found {
			t.Fatalf("mails do not form one thread: %d of %d follow from the root", len(out), len(ms))
		}
	}
	return out
}

// receiver is a webhook receiver that verifies signatures and fails the
// first failFirst requests.
type receiver struct {
	*httptest.Server
	now       func() time.Time // the signer's clock
	mu        sync.Mutex
	secrets   []string
	failFirst int
	requests  int
	accepted  []hit
	bad       []string
}

type hit struct {
	header http.Header
	body   []byte
	query  string
}

func newReceiver(t *testing.T, failFirst int) *receiver {
	r := &receiver{failFirst: failFirst, now: time.Now}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.requests++
		if r.requests <= r.failFirst {
			http.Error(w, "not now", http.StatusServiceUnavailable)
			return
		}
		if len(r.secrets) > 0 {
			ok := false
			for _, s := range r.secrets {
				if events.VerifySignature([]byte(s), req.Header.Get(events.HeaderTimestamp), req.Header.Get(events.HeaderSignature),
					body, r.now(), 5*time.Minute) == nil {
					ok = true
				}
			}
			if !ok {
				r.bad = append(r.bad, req.Header.Get(events.HeaderSignature))
				http.Error(w, "bad signature", http.StatusUnauthorized)
				return
			}
		}
		r.accepted = append(r.accepted, hit{header: req.Header.Clone(), body: body, query: req.URL.RawQuery})
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hit{}, r.accepted...)
}

// TestWebhooks: a signed delivery that fails three times and then
// succeeds reaches the receiver once, with four attempts in the log; the
// chat formats; a replay sends a delivery again.
func TestWebhooks(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		amelia := f.Actor("amelia.clarke")
		rcv := newReceiver(t, 3)
		rcv.now = f.Clock.Now // Flare signs with its clock, the fake one here
		w := must[*notify.Webhook](t)(f.n.CreateWebhook(f.ctx, amelia, notify.WebhookInput{Name: ptr("ops"), URL: ptr(rcv.URL),
			EventTypes: &[]events.Type{events.CaseAssigned}}))
		if !strings.HasPrefix(w.Secret, "whsec_") {
			t.Fatalf("secret %q", w.Secret)
		}
		rcv.secrets = []string{w.Secret}
		slack := newReceiver(t, 0)
		teams := newReceiver(t, 0)
		must[*notify.Webhook](t)(f.n.CreateWebhook(f.ctx, amelia, notify.WebhookInput{Name: ptr("slack"), URL: ptr(slack.URL), Format: ptr("slack")}))
		must[*notify.Webhook](t)(f.n.CreateWebhook(f.ctx, amelia, notify.WebhookInput{Name: ptr("teams"), URL: ptr(teams.URL), Format: ptr("teams"),
			EventTypes: &[]events.Type{events.CaseAssigned}}))

		priya := "priya.shah@flare.example"
		c := must[*cases.Case](t)(f.App.Cases.Create(f.ctx, amelia, cases.CreateInput{Title: "Parcel lost",
			Category: "logistics/lost_parcel", Market: "GB", Fields: map[string]any{"order_id": "ORD-1"}}, nil))
		must[*cases.Case](t)(f.App.Cases.Update(f.ctx, amelia, c.Number, cases.UpdateInput{Owner: &priya}))
		f.flush(t)
		for i := 0; i < 4; i++ {
			f.Clock.Advance(time.Minute)
			must[time.Time](t)(f.n.Fire(f.ctx))
		}
		hits := rcv.got()
		if len(hits) != 1 || len(rcv.bad) != 0 {
			t.Fatalf("the receiver accepted %d requests (bad signatures %v), want 1", len(hits), rcv.bad)
		}
		var body notify.WebhookBody
		var raw map[string]any
		if err := json.Unmarshal(hits[0].body, &raw); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(hits[0].body, &struct {
			Type *events.Type `json:"type"`
			URL  *string      `json:"url"`
		}{&body.Type, &body.URL}); err != nil {
			t.Fatal(err)
		}
		if body.Type != events.CaseAssigned || body.URL != "https://flare.test/cases/"+c.Number || hits[0].header.Get(events.HeaderEvent) != "case.assigned" {
			t.Fatalf("body %s", hits[0].body)
		}
		if data, _ := raw["data"].(map[string]any); data["owner"] != priya {
			t.Fatalf("data %v", raw["data"])
		}
		page := must[*notify.DeliveryPage](t)(f.n.Deliveries(f.ctx, amelia, notify.DeliveryFilter{WebhookID: w.ID, WithLog: true}))
		if len(page.Deliveries) != 1 {
			t.Fatalf("%d deliveries", len(page.Deliveries))
		}
		dl := page.Deliveries[0]
		var statuses []int
		for _, a := range dl.Log {
			statuses = append(statuses, a.Status)
		}
		if dl.State != "sent" || !slices.Equal(statuses, []int{503, 503, 503, 200}) || dl.Case != c.Number || dl.LatencyMS == nil {
			t.Fatalf("delivery %+v, statuses %v", dl, statuses)
		}

		// The chat formats: the slack one subscribes to every type.
		var sl struct {
			Text   string           `json:"text"`
			Blocks []map[string]any `json:"blocks"`
		}
		var created, assigned bool
		for _, h := range slack.got() {
			if err := json.Unmarshal(h.body, &sl); err != nil || len(sl.Blocks) == 0 {
				t.Fatalf("slack body %s", h.body)
			}
			created = created || strings.HasPrefix(sl.Text, "New case "+c.Number)
			assigned = assigned || sl.Text == c.Number+" assigned to "+priya
		}
		if !created || !assigned {
			t.Fatalf("slack got %d messages; created %v assigned %v", len(slack.got()), created, assigned)
		}
		th := teams.got()
		var card map[string]any
		if len(th) != 1 || json.Unmarshal(th[0].body, &card) != nil || card["@type"] != "MessageCard" || card["potentialAction"] == nil {
			t.Fatalf("teams: %d messages %s", len(th), th)
		}

		// A replay sends it again; the log keeps both.
		if n := must[int64](t)(f.n.Replay(f.ctx, amelia, notify.ReplayInput{IDs: []int64{dl.ID}})); n != 1 {
			t.Fatalf("replayed %d", n)
		}
		must[time.Time](t)(f.n.Fire(f.ctx))
		if got := len(rcv.got()); got != 2 {
			t.Fatalf("after the replay the receiver has %d, want 2", got)
		}
		// Only admins manage webhooks.
		if _, err := f.n.Webhooks(f.ctx, f.Actor("jonas.weber")); err == nil {
			t.Fatal("a lead listed webhooks")
		}
	})
}

// TestWebhookGone: 410 fails a delivery at once.
func TestWebhookGone(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusGone) }))
		defer gone.Close()
		amelia := f.Actor("amelia.clarke")
		w := must[*notify.Webhook](t)(f.n.CreateWebhook(f.ctx, amelia, notify.WebhookInput{Name: ptr("gone"), URL: ptr(gone.URL),
			EventTypes: &[]events.Type{events.CaseCreated}}))
		must[*cases.Case](t)(f.App.Cases.Create(f.ctx, amelia, cases.CreateInput{Title: "Parcel lost",
			Category: "logistics/lost_parcel", Market: "GB", Fields: map[string]any{"order_id": "ORD-1"}}, nil))
		f.flush(t)
		page := must[*notify.DeliveryPage](t)(f.n.Deliveries(f.ctx, amelia, notify.DeliveryFilter{WebhookID: w.ID}))
		if len(page.Deliveries) != 1 || page.Deliveries[0].State != "failed" || page.Deliveries[0].LastStatus != 410 {
			t.Fatalf("%+v", page.Deliveries)
		}
		if n := must[int64](t)(f.n.Replay(f.ctx, amelia, notify.ReplayInput{WebhookID: w.ID})); n != 1 {
			t.Fatalf("replayed %d failed deliveries", n)
		}
	})
}

func TestWebhookInput(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		amelia := f.Actor("amelia.clarke")
		_, err := f.n.CreateWebhook(f.ctx, amelia, notify.WebhookInput{Name: ptr(""), URL: ptr("ftp://x"), Format: ptr("xml"),
			EventTypes: &[]events.Type{"case.nope", events.CaseCreated, events.CaseCreated}})
		for _, field := range []string{"name", "url", "format", "event_types[0]", "event_types[2]"} {
			apptest.WantInvalid(t, err, field)
		}
		w := must[*notify.Webhook](t)(f.n.CreateWebhook(f.ctx, amelia, notify.WebhookInput{Name: ptr("x"), URL: ptr("https://hooks.test/a")}))
		up := must[*notify.Webhook](t)(f.n.UpdateWebhook(f.ctx, amelia, w.ID, notify.WebhookInput{Active: ptr(false), RotateSecret: true}))
		if up.Active || up.Secret == "" || up.Secret == w.Secret || up.Name != "x" {
			t.Fatalf("update: %+v", up)
		}
		list := must[[]*notify.Webhook](t)(f.n.Webhooks(f.ctx, amelia))
		if len(list) != 1 || list[0].Secret != "" {
			t.Fatalf("list shows the secret or is wrong: %+v", list)
		}
		if err := f.n.DeleteWebhook(f.ctx, amelia, w.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.n.Webhook(f.ctx, amelia, w.ID); err == nil {
			t.Fatal("deleted webhook still there")
		}
	})
}

var _ = fmt.Sprint
var _ = auth.RoleAdmin

// The subscriptions an event goes to are kept in memory between events;
// creating, pausing, resuming and deleting one is seen by the next event
// (the fake clock stands still, so nothing expires them meanwhile).
func TestWebhookChangesReachTheNextEvent(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		amelia := f.Actor("amelia.clarke")
		in := apptest.Suspension()
		in.Sensitivity = "normal" // a plain subscription hears of it
		c := f.OwnedCase(t, in)
		count := func(q string, args ...any) int {
			t.Helper()
			var n int
			if err := d.QueryRow(f.ctx, q, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		deliveries := func(w *notify.Webhook) int {
			return count(`SELECT COUNT(*) FROM notify_deliveries WHERE webhook_id = ?`, w.ID)
		}
		note := func() {
			t.Helper()
			must[*cases.Comment](t)(f.App.Cases.AddComment(f.ctx, amelia, c.Number, cases.CommentInput{Body: "checking", Internal: true}))
			f.flush(t)
			if n := count(`SELECT COUNT(*) FROM event_deliveries WHERE subscriber = ?`, notify.Subscriber); n != 0 {
				t.Fatalf("%d events not handled by notify", n)
			}
		}
		note() // the subscriptions (none) read and kept
		a := must[*notify.Webhook](t)(f.n.CreateWebhook(f.ctx, amelia, notify.WebhookInput{Name: ptr("a"), URL: ptr("https://hooks.test/a")}))
		note()
		if deliveries(a) == 0 {
			t.Fatal("a new subscription got nothing")
		}
		must[*notify.Webhook](t)(f.n.UpdateWebhook(f.ctx, amelia, a.ID, notify.WebhookInput{Active: ptr(false)}))
		n := deliveries(a)
		note()
		if deliveries(a) != n {
			t.Fatal("a paused subscription got the next event")
		}
		must[*notify.Webhook](t)(f.n.UpdateWebhook(f.ctx, amelia, a.ID, notify.WebhookInput{Active: ptr(true)}))
		note()
		if deliveries(a) == n {
			t.Fatal("a resumed subscription got nothing")
		}
		if err := f.n.DeleteWebhook(f.ctx, amelia, a.ID); err != nil {
			t.Fatal(err)
		}
		note() // a delivery to the deleted one would fail its foreign key and stay pending
		if n := count(`SELECT COUNT(*) FROM notify_deliveries WHERE channel = 'webhook'`); n != 0 {
			t.Fatalf("%d webhook deliveries after the only subscription was deleted", n)
		}
	})
}
