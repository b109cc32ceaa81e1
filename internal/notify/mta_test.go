package notify_test

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/notify"
)

// TestRealMTA sends a notification through a real MTA: Postfix as .ci/mta.sh
// sets it up (127.0.0.1:2525, mail for flare.test into one Maildir). What
// Flare's SMTP client sends must be accepted (250 after DATA) and
// delivered, its headers intact. Without the MTA the test skips, unless
// FLARE_TEST_REQUIRE_SHARED=1 (CI) or FLARE_TEST_REQUIRE_MTA=1 make that a
// failure. FLARE_TEST_MTA and FLARE_TEST_MTA_MAILDIR override the address
// and the Maildir.
func TestRealMTA(t *testing.T) {
	addr := envOr("FLARE_TEST_MTA", "127.0.0.1:2525")
	maildir := envOr("FLARE_TEST_MTA_MAILDIR", "/var/mail/flare-ci/inbox")
	if c, err := net.DialTimeout("tcp", addr, 2*time.Second); err != nil {
		if os.Getenv("FLARE_TEST_REQUIRE_SHARED") == "1" || os.Getenv("FLARE_TEST_REQUIRE_MTA") == "1" {
			t.Fatalf("a real MTA is required (FLARE_TEST_REQUIRE_SHARED=1) but none answers at %s: %v; run .ci/mta.sh", addr, err)
		}
		t.Skipf("real-MTA test skipped: nothing answers at %s (run .ci/mta.sh as root to start Postfix there)", addr)
	} else {
		c.Close()
	}
	d := dbtest.SQLite(t, app.Migrate)
	f := apptest.New(t, d)
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	probe := "mta.probe@flare.test"
	f.Reapply(t, func(c *desk.Config) {
		c.Users = append(c.Users, desk.UserSpec{Email: probe, Name: "Mta Probe", Role: auth.RoleAgent, Markets: []string{"GB"}})
		apptest.Team(c, "logistics").Members = append(apptest.Team(c, "logistics").Members, probe)
		desk.Set(c, notify.SettingsKey, notify.Settings{BaseURL: "https://flare.test",
			Email: notify.EmailSettings{Host: host, Port: p, Security: notify.SecurityNone, From: "Flare <flare@flare.test>", HELO: "flare.test"}})
	})
	ctx := t.Context()
	amelia := f.Actor("amelia.clarke")
	c, err := f.App.Cases.Create(ctx, amelia, cases.CreateInput{Title: "Parcel lost — “Zustellung” failed", Category: "logistics/lost_parcel",
		Market: "GB", Fields: map[string]any{"order_id": "ORD-9"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.App.Cases.Update(ctx, amelia, c.Number, cases.UpdateInput{Owner: &probe}); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := f.App.Bus.Deliver(ctx, notify.Subscriber)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if _, err := f.App.Notify.Fire(ctx); err != nil {
		t.Fatal(err)
	}
	page, err := f.App.Notify.Deliveries(ctx, amelia, notify.DeliveryFilter{Channel: "email", WithLog: true})
	if err != nil || len(page.Deliveries) != 1 {
		t.Fatalf("deliveries: %+v %v", page, err)
	}
	dl := page.Deliveries[0]
	if dl.State != "sent" || dl.LastStatus != 250 {
		t.Fatalf("the MTA did not accept the mail: %s, status %d, %s", dl.State, dl.LastStatus, dl.LastError)
	}
	_, payload, err := f.App.Notify.GetDelivery(ctx, amelia, dl.ID)
	if err != nil {
		t.Fatal(err)
	}
	id := string(payload)
	id = id[strings.Index(id, `"message_id":"`)+len(`"message_id":"`):]
	id = id[:strings.Index(id, `"`)]
	// Delivered: find it in the Maildir (Postfix writes it into new/).
	deadline := time.Now().Add(20 * time.Second)
	for {
		files, _ := filepath.Glob(filepath.Join(maildir, "new", "*"))
		for _, fn := range files {
			b, err := os.ReadFile(fn)
			if err != nil || !strings.Contains(string(b), "<"+id+">") {
				continue
			}
			msg := string(b)
			for _, want := range []string{"Received: from flare.test", "=?UTF-8?q?[" + c.Number + "]_Parcel_lost", "Message-ID: <" + id + ">",
				"Content-Type: multipart/alternative", "Auto-Submitted: auto-generated", "X-Flare-Case: " + c.Number} {
				if !strings.Contains(msg, want) {
					t.Errorf("the delivered mail lacks %q:\n%s", want, msg)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the MTA accepted %s but it is not in %s", id, maildir)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
