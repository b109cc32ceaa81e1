package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/intake"
	"github.com/flare-desk/flare/internal/intake/webhook"
)

const secret = "test-social-secret"

var social = webhook.Endpoint{
	Key: "social", Name: "Social listening", Channel: "social",
	Auth:       webhook.Auth{Type: "hmac", SecretEnv: "FLARE_TEST_SOCIAL", Header: "X-Signature-256", Prefix: "sha256="},
	ExternalID: "{{/platform}}:{{/id}}",
	Map: webhook.Mapping{Title: "{{/author/name}} on {{/platform}}: {{/text}}", Description: "{{/text}}",
		Market: "{{?/country}}", RequesterName: "{{/author/name}}", Tags: []string{"social", "{{/platform}}"}},
	Defaults: webhook.Defaults{Category: "safety/social_media_escalation", Market: "GB"},
	MaxBody:  4096,
}

func setup(t *testing.T, d *db.DB) (*apptest.Fixture, *webhook.Service) {
	t.Helper()
	f := apptest.New(t, d)
	f.Reapply(t, func(c *desk.Config) { desk.Set(c, webhook.EndpointsKey, []webhook.Endpoint{social}) })
	s := f.App.Webhooks
	s.UseSecrets(func(name string) string {
		if name == "FLARE_TEST_SOCIAL" {
			return secret
		}
		return ""
	})
	return f, s
}

func signed(body string) http.Header {
	h := http.Header{}
	h.Set("X-Signature-256", social.Auth.Canonical().Sign([]byte(body), secret, 0))
	return h
}

func post(id int, text string) string {
	return fmt.Sprintf(`{"id": %d, "platform": "x", "text": %q, "author": {"name": "Ana Costa"}, "country": "de"}`, id, text)
}

func count(t *testing.T, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), `SELECT COUNT(*) FROM cases`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestReceiveOpensOneCasePerPost(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f, s := setup(t, d)
		body := post(1861234567890123456, "A seller is selling fake chargers that caught fire")
		res, err := s.Receive(ctx, "social", signed(body), strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		c := res.Case
		if res.Outcome != intake.OutcomeCreated || c.Channel != "social" || c.Market != "DE" || c.Category != "safety/social_media_escalation" ||
			c.Title != "Ana Costa on x: A seller is selling fake chargers that caught fire" || c.Requester.Name != "Ana Costa" {
			t.Fatalf("case %+v (%s)", c, res.Outcome)
		}
		again, err := s.Receive(ctx, "social", signed(body), strings.NewReader(body))
		if err != nil || again.Outcome != intake.OutcomeDuplicate || again.Case.Number != c.Number {
			t.Fatalf("again: %+v %v", again, err)
		}
		if seen, ok, err := f.App.Intake.Seen(ctx, "webhook:social", "x:1861234567890123456"); err != nil || !ok || seen != c.Number {
			t.Fatalf("seen %q %v %v", seen, ok, err)
		}
		if n := count(t, d); n != 1 {
			t.Fatalf("%d cases", n)
		}
	})
}

func TestReceiveRefusesWithoutWriting(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		_, s := setup(t, d)
		good := post(7, "hello there, my order is late")
		for _, tc := range []struct {
			name string
			key  string
			h    http.Header
			body string
			want func(error) bool
		}{
			{"unknown key", "nope", signed(good), good, func(err error) bool { return errors.Is(err, apperr.ErrNotFound) }},
			{"no signature", "social", http.Header{}, good, isAuth},
			{"wrong signature", "social", signed(good + " "), good, isAuth},
			{"too large", "social", signed(good), strings.Repeat(" ", 5000), func(err error) bool {
				var mbe *http.MaxBytesError
				return errors.As(err, &mbe) && mbe.Limit == 4096
			}},
			{"not json", "social", signed("{"), "{", invalid("body")},
			{"mapping", "social", signed(`{"id": 1}`), `{"id": 1}`, invalid("map.title")},
			{"no id", "social", signed(`{"platform":"x","text":"t","author":{"name":"A"}}`), `{"platform":"x","text":"t","author":{"name":"A"}}`, invalid("external_id")},
			{"case rules", "social", signed(post(8, "x")), strings.Replace(post(8, "x"), `"de"`, `"zz"`, 1), nil},
		} {
			if tc.name == "case rules" { // a market the desk does not have
				tc.h, tc.want = signed(tc.body), invalid("market")
			}
			_, err := s.Receive(ctx, tc.key, tc.h, strings.NewReader(tc.body))
			if !tc.want(err) {
				t.Errorf("%s: %v", tc.name, err)
			}
		}
		if n := count(t, d); n != 0 {
			t.Fatalf("%d cases written", n)
		}
	})
}

func TestConcurrentDeliveriesMakeOneCase(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		_, s := setup(t, d)
		var wg sync.WaitGroup
		numbers := make([]string, 8)
		errs := make([]error, 8)
		for i := range numbers {
			wg.Go(func() {
				body := post(100+i%2, "my parcel is lost, two weeks now")
				res, err := s.Receive(ctx, "social", signed(body), strings.NewReader(body))
				errs[i] = err
				if err == nil {
					numbers[i] = res.Case.Number
				}
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("delivery %d: %v", i, err)
			}
			if numbers[i] != numbers[i%2] {
				t.Fatalf("post %d made two cases: %s, %s", 100+i%2, numbers[i], numbers[i%2])
			}
		}
		if n := count(t, d); n != 2 {
			t.Fatalf("%d cases, want 2", n)
		}
	})
}

func isAuth(err error) bool {
	var ae *webhook.AuthError
	return errors.As(err, &ae)
}

func invalid(field string) func(error) bool {
	return func(err error) bool {
		var inv *apperr.Invalid
		if !errors.As(err, &inv) {
			return false
		}
		for _, e := range inv.Errors {
			if e.Field == field || strings.HasPrefix(e.Field, field+".") {
				return true
			}
		}
		return false
	}
}
