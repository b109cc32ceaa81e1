package intake_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	"github.com/flare-desk/flare/internal/intake"
)

var system = auth.System("test-intake")

func lostParcel(title, email string) cases.CreateInput {
	return cases.CreateInput{Title: title, Description: "The parcel never arrived and the tracking has not moved.",
		Category: "logistics/lost_parcel", Market: "GB", Requester: &cases.Requester{Name: "Ann Buyer", Email: email}}
}

func countCases(t *testing.T, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), `SELECT COUNT(*) FROM cases`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSubmitDeduplicatesBySendersID(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		in := intake.Submission{Source: intake.Source{Channel: "social", Key: "webhook:social", ExternalID: "post-991"},
			Case: lostParcel("Parcel lost, says a tweet", "ann@example.com")}
		first, err := f.App.Intake.Submit(ctx, system, in)
		if err != nil {
			t.Fatal(err)
		}
		if first.Outcome != intake.OutcomeCreated || first.Case.Channel != "social" || first.Case.Number == "" {
			t.Fatalf("first: %+v", first)
		}
		again, err := f.App.Intake.Submit(ctx, system, in)
		if err != nil {
			t.Fatal(err)
		}
		if again.Outcome != intake.OutcomeDuplicate || again.Case.Number != first.Case.Number {
			t.Fatalf("again: %s %s, want duplicate of %s", again.Outcome, again.Case.Number, first.Case.Number)
		}
		if n := countCases(t, d); n != 1 {
			t.Fatalf("%d cases, want 1", n)
		}
		num, ok, err := f.App.Intake.Seen(ctx, "webhook:social", "post-991")
		if err != nil || !ok || num != first.Case.Number {
			t.Fatalf("Seen: %q %v %v", num, ok, err)
		}
		if _, ok, _ := f.App.Intake.Seen(ctx, "webhook:other", "post-991"); ok {
			t.Fatal("an id is only a duplicate within its own source")
		}
	})
}

func TestConcurrentDuplicatesMakeOneCase(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		var wg sync.WaitGroup
		numbers := make([]string, 12)
		errs := make([]error, len(numbers))
		for i := range numbers {
			wg.Go(func() {
				r, err := f.App.Intake.Submit(ctx, system, intake.Submission{
					Source: intake.Source{Channel: "external", Key: "webhook:partner", ExternalID: "order-7"},
					Case:   lostParcel("Partner reports a lost parcel", "")})
				errs[i] = err
				if err == nil {
					numbers[i] = r.Case.Number
				}
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("submit %d: %v", i, err)
			}
			if numbers[i] != numbers[0] {
				t.Fatalf("submissions answered with %v, want one case", numbers)
			}
		}
		if n := countCases(t, d); n != 1 {
			t.Fatalf("%d cases, want 1", n)
		}
	})
}

func TestThenCommitsWithTheCase(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		boom := errors.New("attachment store failed")
		_, err := f.App.Intake.Submit(ctx, system, intake.Submission{
			Source: intake.Source{Channel: "email", Key: "email", ExternalID: "<m1@example.com>"},
			Case:   lostParcel("Lost parcel", "ann@example.com"),
			Then:   func(context.Context, *db.Tx, *intake.Result) error { return boom }})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		if n := countCases(t, d); n != 0 {
			t.Fatalf("%d cases after a failed submission, want 0", n)
		}
		if _, ok, _ := f.App.Intake.Seen(ctx, "email", "<m1@example.com>"); ok {
			t.Fatal("the receipt was kept without its case")
		}
		// The sender's retry then goes through.
		r, err := f.App.Intake.Submit(ctx, system, intake.Submission{
			Source: intake.Source{Channel: "email", Key: "email", ExternalID: "<m1@example.com>"},
			Case:   lostParcel("Lost parcel", "ann@example.com")})
		if err != nil || r.Outcome != intake.OutcomeCreated {
			t.Fatalf("retry: %+v %v", r, err)
		}
	})
}

func TestReplyIntoCaseIsTheRequestersWords(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		opened, err := f.App.Intake.Submit(ctx, system, intake.Submission{
			Source: intake.Source{Channel: "email", Key: "email", ExternalID: "<a@example.com>"},
			Case:   lostParcel("Lost parcel", "ann@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		f.Clock.Advance(time.Hour)
		r, err := f.App.Intake.Submit(ctx, system, intake.Submission{
			Source: intake.Source{Channel: "email", Key: "email", ExternalID: "<b@example.com>"},
			Into:   opened.Case.Number,
			Reply:  intake.Reply{Body: "Any news? It is a gift.", From: cases.Requester{Name: "Ann Buyer", Email: "ann@example.com"}}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Outcome != intake.OutcomeAppended || r.Case.Number != opened.Case.Number || r.Comment == nil {
			t.Fatalf("reply: %+v", r)
		}
		if r.Case.FirstResponseAt != nil {
			t.Fatal("the requester's own reply counted as the desk's first response")
		}
		evs, err := f.App.Cases.Events(ctx, f.Actor("amelia.clarke"), opened.Case.Number)
		if err != nil {
			t.Fatal(err)
		}
		last := evs[len(evs)-1]
		if last.Type != "comment" || last.ActorName != "Ann Buyer" || last.Data["body"] != "Any news? It is a gift." {
			t.Fatalf("last entry: %+v", last)
		}
		// The sender's account manager reads the same public entry.
		if n := countCases(t, d); n != 1 {
			t.Fatalf("%d cases, want 1", n)
		}
	})
}

func TestRepeatContactsLinkAndRaisePriority(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		submit := func(id string) *intake.Result {
			t.Helper()
			r, err := f.App.Intake.Submit(ctx, system, intake.Submission{
				Source: intake.Source{Channel: "web_form", Key: "webform", ExternalID: id},
				Case:   lostParcel("Where is my parcel", "Ann@Example.com")})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		first := submit("1")
		f.Clock.Advance(2 * time.Hour)
		second := submit("2")
		if second.Outcome != intake.OutcomeRepeat || second.RepeatOf != first.Case.Number || second.Case.Number == first.Case.Number {
			t.Fatalf("second: %s of %q (%s)", second.Outcome, second.RepeatOf, second.Case.Number)
		}
		open, err := f.App.Cases.Get(ctx, system, first.Case.Number)
		if err != nil {
			t.Fatal(err)
		}
		if open.RepeatContacts != 1 {
			t.Fatalf("repeat contacts on the open case = %d, want 1", open.RepeatContacts)
		}
		if !hasReason(open, "1 repeat contact linked to this case") {
			t.Fatalf("priority reasons %+v lack the linked repeat", open.PriorityReasons)
		}
		if score(open) <= score(first.Case) {
			t.Fatalf("priority did not rise: %+v → %+v", first.Case.PriorityReasons, open.PriorityReasons)
		}
		links, err := f.App.Intake.Links(ctx, open.ID)
		if err != nil || len(links) != 1 || links[0].Case != second.Case.Number || links[0].Direction != "repeated_by" ||
			links[0].Reason != intake.MatchRequester {
			t.Fatalf("links of the open case: %+v %v", links, err)
		}
		back, err := f.App.Intake.Links(ctx, second.Case.ID)
		if err != nil || len(back) != 1 || back[0].Case != first.Case.Number || back[0].Direction != "repeat_of" {
			t.Fatalf("links of the repeat: %+v %v", back, err)
		}
		// Past the window (72h by default) a contact is a case of its own.
		f.Clock.Advance(73 * time.Hour)
		if r := submit("3"); r.Outcome != intake.OutcomeCreated {
			t.Fatalf("after the window: %s of %s", r.Outcome, r.RepeatOf)
		}
	})
}

func TestRepeatAppendsWhereTheDeskSaysSo(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		f.Reapply(t, func(c *desk.Config) {
			desk.Set(c, intake.RepeatsKey, intake.Repeats{Window: "1d", Match: []string{intake.MatchSellerCategory},
				Channels: map[string]string{"email": intake.ModeAppend}})
		})
		in := lostParcel("Lost parcel for Thames Home Goods", "one@example.com")
		in.SellerID = "S-1001"
		first, err := f.App.Intake.Submit(ctx, system, intake.Submission{Source: intake.Source{Channel: "email", Key: "email", ExternalID: "x1"}, Case: in})
		if err != nil {
			t.Fatal(err)
		}
		in.Requester = &cases.Requester{Name: "Bo Other", Email: "two@example.com"}
		in.Description = "Second buyer, same seller, same problem."
		r, err := f.App.Intake.Submit(ctx, system, intake.Submission{Source: intake.Source{Channel: "email", Key: "email", ExternalID: "x2"}, Case: in})
		if err != nil {
			t.Fatal(err)
		}
		if r.Outcome != intake.OutcomeAppended || r.Case.Number != first.Case.Number || r.RepeatOf != first.Case.Number {
			t.Fatalf("append: %+v", r)
		}
		if r.Comment == nil || r.Comment.Body != in.Description || r.Comment.From == nil || r.Comment.From.Email != "two@example.com" {
			t.Fatalf("appended comment: %+v", r.Comment)
		}
		// Another channel keeps the default: a linked case.
		r, err = f.App.Intake.Submit(ctx, system, intake.Submission{Source: intake.Source{Channel: "social", Key: "webhook:s", ExternalID: "x3"}, Case: in})
		if err != nil || r.Outcome != intake.OutcomeRepeat {
			t.Fatalf("social: %+v %v", r, err)
		}
		// A resolved case is not repeated: the next contact opens its own.
		_, err = f.App.Cases.Transition(ctx, f.Actor("amelia.clarke"), first.Case.Number,
			cases.TransitionInput{To: cases.StatusResolved, Resolution: "refunded", Note: "refunded"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.App.Cases.Transition(ctx, f.Actor("amelia.clarke"), r.Case.Number,
			cases.TransitionInput{To: cases.StatusResolved, Resolution: "refunded", Note: "refunded"})
		if err != nil {
			t.Fatal(err)
		}
		r, err = f.App.Intake.Submit(ctx, system, intake.Submission{Source: intake.Source{Channel: "email", Key: "email", ExternalID: "x4"}, Case: in})
		if err != nil || r.Outcome != intake.OutcomeCreated {
			t.Fatalf("after resolving: %+v %v", r, err)
		}
	})
}

func TestSubmitDetectsTheLanguage(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := apptest.New(t, d)
		in := cases.CreateInput{Title: "Paket nicht angekommen",
			Description: "Mein Paket ist seit zwei Wochen unterwegs und die Sendungsverfolgung zeigt keine Bewegung. Bitte helfen Sie mir.",
			Category:    "logistics/lost_parcel", Market: "DE"}
		r, err := f.App.Intake.Submit(context.Background(), system, intake.Submission{Source: intake.Source{Channel: "email", Key: "email"}, Case: in})
		if err != nil {
			t.Fatal(err)
		}
		if r.Case.Language != "de" {
			t.Fatalf("language = %q, want de", r.Case.Language)
		}
		in.Language = "en" // a language the sender gave is kept
		r, err = f.App.Intake.Submit(context.Background(), system, intake.Submission{Source: intake.Source{Channel: "email", Key: "email"}, Case: in})
		if err != nil || r.Case.Language != "en" {
			t.Fatalf("given language: %q %v", r.Case.Language, err)
		}
	})
}

func TestSubmitRefusesBadInputWithoutWriting(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		bad := lostParcel("", "ann@example.com")
		_, err := f.App.Intake.Submit(ctx, system, intake.Submission{Source: intake.Source{Channel: "email", Key: "email", ExternalID: "e1"}, Case: bad})
		apptest.WantInvalid(t, err, "title")
		_, err = f.App.Intake.Submit(ctx, system, intake.Submission{Source: intake.Source{Channel: "email", ExternalID: "e2"}, Case: lostParcel("x", "")})
		apptest.WantInvalid(t, err, "source.key")
		_, err = f.App.Intake.Submit(ctx, system, intake.Submission{Source: intake.Source{Channel: "email", Key: "email"}, Into: "ESC-999"})
		if err == nil {
			t.Fatal("appending to a case that does not exist went through")
		}
		if n := countCases(t, d); n != 0 {
			t.Fatalf("%d cases, want 0", n)
		}
		if _, ok, _ := f.App.Intake.Seen(ctx, "email", "e1"); ok {
			t.Fatal("a refused submission left a receipt")
		}
	})
}

func TestRepeatsSection(t *testing.T) {
	schema, err := app.DeskSchema()
	if err != nil {
		t.Fatal(err)
	}
	doc := func(section string) string {
		ex := strings.Replace(string(desk.ExampleYAML), "\nsellers:", "\n"+section+"\nsellers:", 1)
		return ex
	}
	_, err = schema.Parse([]byte(doc("repeat_contacts:\n  window: soon\n  match: [phone]\n  mode: merge\n  channels:\n    pigeon: link\n    email: sometimes")))
	for _, want := range []string{"repeat_contacts.window", "repeat_contacts.match[0]", "repeat_contacts.mode",
		"repeat_contacts.channels.pigeon", "repeat_contacts.channels.email"} {
		apptest.WantInvalid(t, err, want)
	}
	cfg, err := schema.Parse([]byte(doc("repeat_contacts:\n  window: 2d\n  channels:\n    email: append")))
	if err != nil {
		t.Fatal(err)
	}
	r := desk.Get(cfg, intake.RepeatsKey)
	if r.WindowOf() != 48*time.Hour || r.ModeFor("email") != intake.ModeAppend || r.ModeFor("social") != intake.ModeLink {
		t.Fatalf("parsed %+v", r)
	}
}

func TestDetectLanguage(t *testing.T) {
	desks := []string{"en", "de", "fr", "it", "es", "nl-BE", "pl"}
	for text, want := range map[string]string{
		"My parcel has not arrived and the tracking page has not changed for a week.":            "en",
		"Mon colis n'est jamais arrivé et le suivi ne bouge plus depuis une semaine.":            "fr",
		"Il mio pacco non è mai arrivato e il tracciamento è fermo da una settimana.":            "it",
		"Mi paquete nunca llegó y el seguimiento no se mueve desde hace una semana.":             "es",
		"Mijn pakket is nooit aangekomen en de tracking staat al een week stil.":                 "nl",
		"Moja paczka nigdy nie dotarła, a śledzenie przesyłki nie zmienia się od tygodnia.":      "pl",
		"Mein Paket ist nie angekommen und die Sendungsverfolgung steht seit einer Woche still.": "de",
		"ok":             "", // too short to tell
		"ESC-1042 #4411": "",
	} {
		if got := intake.DetectLanguage(text, desks...); got != want {
			t.Errorf("DetectLanguage(%q) = %q, want %q", text, got, want)
		}
	}
	if got := intake.DetectLanguage("Mein Paket ist nie angekommen, bitte helfen.", "en"); got != "en" {
		t.Errorf("one candidate: %q", got)
	}
	// A long mail is judged by its first kilobyte: German, then a longer
	// quoted English thread.
	long := strings.Repeat("Mein Paket ist nie angekommen, die Sendungsverfolgung steht still. Grüße ", 14) +
		strings.Repeat("The tracking page has not changed for a week and nobody answers. ", 200)
	if got := intake.DetectLanguage(long, desks...); got != "de" {
		t.Errorf("long mail: %q, want de (its first kilobyte)", got)
	}
	_ = fmt.Sprint()
}

func hasReason(c *cases.Case, detail string) bool {
	for _, r := range c.PriorityReasons {
		if r.Detail == detail {
			return true
		}
	}
	return false
}

func score(c *cases.Case) int {
	n := 0
	for _, r := range c.PriorityReasons {
		n += r.Points
	}
	return n
}

// Submit answers with the new case as committed, also when a subscriber of
// its create changed it inside the transaction (an escalation raising its
// level): what it returns is what a read of the case gives.
func TestSubmitAnswersTheCaseAsCommitted(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		bot := auth.System("test-amend")
		f.App.Bus.OnTx("test-amend", func(ctx context.Context, tx *db.Tx, e events.Event) error {
			if !strings.Contains(e.Case.Title, "[amend]") {
				return nil
			}
			_, err := f.App.Cases.ChangeInTx(ctx, tx, bot, e.Case.Number, auth.PermCaseWrite, func(c *cases.Case) ([]cases.Entry, error) {
				c.EscalationLevel, c.Priority = 2, "P1"
				return []cases.Entry{{Type: "update", Data: map[string]any{"changes": []cases.Change{{Field: "priority", Old: "P3", New: "P1"}}}}}, nil
			})
			return err
		}, events.CaseCreated)
		for i, title := range []string{"Parcel lost, says a tweet", "Parcel lost, says a tweet [amend]"} {
			res, err := f.App.Intake.Submit(ctx, system, intake.Submission{
				Source: intake.Source{Channel: "social", Key: "webhook:social", ExternalID: fmt.Sprint("post-", i)},
				Case:   lostParcel(title, fmt.Sprintf("ann%d@example.com", i))})
			if err != nil {
				t.Fatal(err)
			}
			read, err := f.App.Cases.Get(ctx, system, res.Case.Number)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(res.Case)
			want, _ := json.Marshal(read)
			if string(got) != string(want) {
				t.Fatalf("%s: Submit answered\n%s\na read gives\n%s", title, got, want)
			}
			if i == 1 && (res.Case.EscalationLevel != 2 || res.Case.Priority != "P1" || res.Case.Version != 2) {
				t.Fatalf("Submit answered the case before its amendment: L%d %s v%d", res.Case.EscalationLevel, res.Case.Priority, res.Case.Version)
			}
		}
	})
}
