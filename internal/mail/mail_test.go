package mail_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/attachments"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/mail"
	"github.com/flare-desk/flare/internal/notify"
)

const mailbox = "escalations@demo.flare.test"

// capture is an SMTP server on a loopback port that keeps what it gets:
// the desk's outgoing mail server in these tests.
type capture struct {
	addr string
	mu   sync.Mutex
	msgs [][]byte
}

func startCapture(t *testing.T) *capture {
	t.Helper()
	c := &capture{}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &captureSession{c: c}, nil }))
	s.Domain = "mx.test"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.addr = ln.Addr().String()
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return c
}

func (c *capture) all() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.msgs...)
}

type captureSession struct{ c *capture }

func (s *captureSession) Reset()                               {}
func (s *captureSession) Logout() error                        { return nil }
func (s *captureSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *captureSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *captureSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.c.mu.Lock()
	s.c.msgs = append(s.c.msgs, b)
	s.c.mu.Unlock()
	return err
}

type fixture struct {
	*apptest.Fixture
	smtp *mail.SMTPServer
	out  *capture
}

// newFixture is the example desk with a mailbox, its outgoing mail going
// to a capture server, and Flare's SMTP listener on a loopback port.
func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	f := &fixture{Fixture: apptest.New(t, d), out: startCapture(t)}
	host, port, _ := net.SplitHostPort(f.out.addr)
	p, _ := strconv.Atoi(port)
	f.Reapply(t, func(c *desk.Config) {
		desk.Set(c, mail.SettingsKey, mail.Settings{Mailboxes: []mail.Mailbox{
			{Address: mailbox, Name: "Marketplace Escalations", Category: "payments/payout_failed", Market: "GB"}}})
		desk.Set(c, notify.SettingsKey, notify.Settings{BaseURL: "https://flare.test",
			Email: notify.EmailSettings{Host: host, Port: p, Security: notify.SecurityNone, From: "Flare <flare@demo.flare.test>"}})
	})
	f.App.Attachments.Configure(attachments.Options{Dir: t.TempDir()})
	f.smtp = mail.NewSMTPServer(f.App.Mail, slog.New(slog.NewTextHandler(io.Discard, nil)),
		mail.SMTPOptions{Addr: "127.0.0.1:0", MaxMessageBytes: 1 << 20})
	if err := f.smtp.Listen(); err != nil {
		t.Fatal(err)
	}
	go f.smtp.Serve()
	t.Cleanup(func() { f.smtp.Close() })
	return f
}

func needSwaks(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("swaks")
	if err != nil {
		if os.Getenv("FLARE_TEST_REQUIRE_SWAKS") == "1" {
			t.Fatal("swaks is required (FLARE_TEST_REQUIRE_SWAKS=1) but not installed: apt-get install swaks")
		}
		t.Skip("swaks is not installed (apt-get install swaks); the SMTP tests with a real client are skipped")
	}
	return p
}

// swaks sends a mail with swaks; raw, when set, is the whole message.
func (f *fixture) swaks(t *testing.T, raw string, args ...string) (string, error) {
	t.Helper()
	base := []string{"--server", f.smtp.Addr(), "--helo", "client.test", "--timeout", "20"}
	if raw != "" {
		p := filepath.Join(t.TempDir(), "msg.eml")
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(strings.TrimPrefix(raw, "\n"), "\n", "\r\n")), 0o600); err != nil {
			t.Fatal(err)
		}
		base = append(base, "--data", p)
	}
	out, err := exec.Command(needSwaks(t), append(base, args...)...).CombinedOutput()
	return string(out), err
}

func (f *fixture) mustSend(t *testing.T, raw string, args ...string) {
	t.Helper()
	out, err := f.swaks(t, raw, args...)
	if err != nil {
		t.Fatalf("swaks: %v\n%s", err, out)
	}
	if testing.Verbose() {
		t.Log(out)
	}
}

func (f *fixture) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := f.DB.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// caseBy returns the case a received Message-ID made.
func (f *fixture) caseBy(t *testing.T, messageID string) *cases.Case {
	t.Helper()
	ref, ok, err := f.App.Intake.Seen(context.Background(), mail.SourceKey, messageID)
	if err != nil || !ok {
		t.Fatalf("no case for %s (%v)", messageID, err)
	}
	c, err := f.App.Cases.Get(context.Background(), f.Actor("amelia.clarke"), ref)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) comments(t *testing.T, c *cases.Case) []string {
	t.Helper()
	rows, err := f.DB.Query(context.Background(), `SELECT body FROM case_comments WHERE case_id = ? ORDER BY id`, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	out, err := db.Collect(rows, func(r db.Scanner) (string, error) {
		var s string
		return s, r.Scan(&s)
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSwaksIntake(t *testing.T) {
	needSwaks(t)
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		amelia := f.Actor("amelia.clarke")

		// Plain mail: a new case from the requester, on the mailbox's defaults.
		f.mustSend(t, "", "--to", mailbox, "--from", "anna.berg@example.com", "--header", "From: Anna Berg <anna.berg@example.com>",
			"--header", "Subject: Payout missing since Friday", "--header", "Message-Id: <plain-1@example.com>",
			"--body", "Hello, our payout of 1,200 GBP has not arrived.\nRegards, Anna")
		plain := f.caseBy(t, "plain-1@example.com")
		if plain.Channel != "email" || plain.Title != "Payout missing since Friday" || plain.Category != "payments/payout_failed" ||
			plain.Market != "GB" || plain.Requester.Email != "anna.berg@example.com" || plain.Requester.Name != "Anna Berg" ||
			!strings.Contains(plain.Description, "payout of 1,200 GBP") {
			t.Errorf("plain case: %+v", plain)
		}

		// Multipart with an attachment (swaks builds it).
		pdf := filepath.Join(t.TempDir(), "statement.pdf")
		os.WriteFile(pdf, []byte("%PDF-1.4\n% a statement\n"), 0o600)
		f.mustSend(t, "", "--to", mailbox, "--from", "ops@seller.example", "--header", "Subject: Statement attached",
			"--header", "Message-Id: <att-1@seller.example>", "--body", "See the attached statement.",
			"--attach-type", "application/pdf", "--attach-name", "statement.pdf", "--attach", pdf)
		att := f.caseBy(t, "att-1@seller.example")
		files, err := f.App.Attachments.List(ctx, amelia, att.Number)
		if err != nil || len(files) != 1 || files[0].Filename != "statement.pdf" || files[0].ContentType != "application/pdf" || files[0].Source != "email" {
			t.Fatalf("attachments: %+v %v", files, err)
		}
		if !strings.Contains(att.Description, "See the attached statement.") {
			t.Errorf("attachment case text: %q", att.Description)
		}

		// HTML-only mail: clean text.
		f.mustSend(t, `
From: Shop <shop@example.org>
To: escalations@demo.flare.test
Subject: HTML only
Message-ID: <html-1@example.org>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><head><style>p{color:red}</style></head><body><p>Dear desk,</p><p>our <b>payout</b> failed.<br>Thanks</p><script>x()</script></body></html>
`, "--to", mailbox, "--from", "shop@example.org")
		if c := f.caseBy(t, "html-1@example.org"); c.Description != "Dear desk,\n\nour payout failed.\nThanks" {
			t.Errorf("html case text: %q", c.Description)
		}

		// ISO-8859-1 body, RFC 2047 subject and sender.
		f.mustSend(t, `
From: =?ISO-8859-1?Q?J=FCrgen_M=FCller?= <jm@example.de>
To: escalations@demo.flare.test
Subject: =?ISO-8859-1?Q?Auszahlung_f=FCr_M=E4rz_fehlt?=
Message-ID: <latin-1@example.de>
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-8859-1
Content-Transfer-Encoding: quoted-printable

Gr=FC=DFe, die Auszahlung f=FCr M=E4rz ist nicht angekommen.
`, "--to", mailbox, "--from", "jm@example.de")
		latin := f.caseBy(t, "latin-1@example.de")
		if latin.Title != "Auszahlung für März fehlt" || latin.Requester.Name != "Jürgen Müller" ||
			latin.Description != "Grüße, die Auszahlung für März ist nicht angekommen." || latin.Language != "de" {
			t.Errorf("latin-1 case: title %q name %q text %q language %q", latin.Title, latin.Requester.Name, latin.Description, latin.Language)
		}

		// A reply in the thread (In-Reply-To) is appended, quote stripped.
		before := f.count(t, `SELECT COUNT(*) FROM cases`)
		f.mustSend(t, `
From: Anna Berg <anna.berg@example.com>
To: escalations@demo.flare.test
Subject: Re: Payout missing since Friday
Message-ID: <plain-2@example.com>
In-Reply-To: <plain-1@example.com>
References: <plain-1@example.com>

It is now Tuesday and still nothing.

On Mon, Anna Berg wrote:
> Hello, our payout has not arrived.
`, "--to", mailbox, "--from", "anna.berg@example.com")
		if got := f.comments(t, plain); len(got) != 1 || got[0] != "It is now Tuesday and still nothing." {
			t.Errorf("thread reply comments: %q", got)
		}
		// The same Message-ID again: nothing new.
		f.mustSend(t, `
From: Anna Berg <anna.berg@example.com>
To: escalations@demo.flare.test
Subject: Re: Payout missing since Friday
Message-ID: <plain-2@example.com>
In-Reply-To: <plain-1@example.com>

It is now Tuesday and still nothing.
`, "--to", mailbox, "--from", "anna.berg@example.com")
		f.mustSend(t, "", "--to", mailbox, "--from", "anna.berg@example.com", "--header", "Subject: Payout missing since Friday",
			"--header", "Message-Id: <plain-1@example.com>", "--body", "Hello again")
		if after := f.count(t, `SELECT COUNT(*) FROM cases`); after != before {
			t.Errorf("reply and duplicates made cases: %d → %d", before, after)
		}
		if got := f.comments(t, plain); len(got) != 1 {
			t.Errorf("duplicate Message-ID appended: %q", got)
		}

		// An auto-reply and a bounce (null sender) open nothing and get no answer.
		f.mustSend(t, `
From: Anna Berg <anna.berg@example.com>
To: escalations@demo.flare.test
Subject: Out of office: Re: Payout missing since Friday
Message-ID: <ooo-1@example.com>
In-Reply-To: <plain-1@example.com>
Auto-Submitted: auto-replied

I am out of the office until Monday.
`, "--to", mailbox, "--from", "anna.berg@example.com")
		f.mustSend(t, "", "--to", mailbox, "--from", "<>", "--header", "Subject: Undelivered Mail Returned to Sender",
			"--header", "Message-Id: <bounce-1@mx.example>", "--body", "Your message could not be delivered.")
		f.mustSend(t, "", "--to", mailbox, "--from", "news@example.net", "--header", "Precedence: bulk",
			"--header", "Subject: Our newsletter", "--header", "Message-Id: <bulk-1@example.net>", "--body", "News!")
		if after := f.count(t, `SELECT COUNT(*) FROM cases`); after != before {
			t.Errorf("auto-reply, bounce or bulk made a case: %d → %d", before, after)
		}
		if got := f.comments(t, plain); len(got) != 1 {
			t.Errorf("auto-reply appended: %q", got)
		}
		if n := f.count(t, `SELECT COUNT(*) FROM mail_messages WHERE state = 'ignored' AND reason IN ('auto_reply', 'bounce', 'bulk')`); n != 3 {
			t.Errorf("%d ignored mails recorded, want 3", n)
		}

		// Permanent problems are 5xx: an unknown mailbox, a message too big.
		if out, err := f.swaks(t, "", "--to", "nobody@elsewhere.test", "--from", "a@example.com", "--body", "x"); err == nil || !strings.Contains(out, "550") {
			t.Errorf("unknown recipient: %v\n%s", err, out)
		}
		big := filepath.Join(t.TempDir(), "big.bin")
		os.WriteFile(big, bytes.Repeat([]byte("x"), 2<<20), 0o600)
		if out, err := f.swaks(t, "", "--to", mailbox, "--from", "a@example.com", "--attach", big); err == nil || !strings.Contains(out, "552") {
			t.Errorf("too big: %v\n%.2000s", err, out)
		}

		// A public reply from the desk goes out as mail, threaded; the
		// requester's answer to it threads back.
		if _, err := f.App.Cases.AddComment(ctx, amelia, plain.Number, cases.CommentInput{Body: "We have asked the bank; expect the payout tomorrow."}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.App.Cases.AddComment(ctx, amelia, plain.Number, cases.CommentInput{Body: "internal: bank ticket 42", Internal: true}); err != nil {
			t.Fatal(err)
		}
		for range 2 { // a second round delivers nothing new
			if _, err := f.App.Bus.Deliver(ctx, mail.Subscriber); err != nil {
				t.Fatal(err)
			}
		}
		sent := f.out.all()
		if len(sent) != 1 {
			t.Fatalf("%d mails sent, want 1 (the public reply)", len(sent))
		}
		m, err := mail.Parse(sent[0], mail.ParseLimits{})
		if err != nil {
			t.Fatal(err)
		}
		wantSubject := "Re: Payout missing since Friday [" + plain.Number + "]"
		if m.Subject != wantSubject || m.From.Email != mailbox || m.From.Name != "Marketplace Escalations" ||
			strings.Join(m.InReplyTo, " ") != "plain-2@example.com" || strings.Join(m.References, " ") != "plain-1@example.com plain-2@example.com" ||
			m.Ignore != "" || !strings.Contains(m.Text, "expect the payout tomorrow") || strings.Contains(m.Text, "bank ticket") {
			t.Errorf("sent reply: subject %q from %+v in-reply-to %v refs %v ignore %q text %q", m.Subject, m.From, m.InReplyTo, m.References, m.Ignore, m.Text)
		}
		f.mustSend(t, `
From: Anna Berg <anna.berg@example.com>
To: escalations@demo.flare.test
Subject: `+wantSubject+`
Message-ID: <plain-3@example.com>
In-Reply-To: <`+m.MessageID+`>
References: <plain-1@example.com> <plain-2@example.com> <`+m.MessageID+`>

Thank you!
`, "--to", mailbox, "--from", "anna.berg@example.com")
		if got := f.comments(t, plain); len(got) != 4 || got[3] != "Thank you!" {
			t.Errorf("answer to the reply: %q", got)
		}
		// The requester's own mail is not mailed back to them.
		if _, err := f.App.Bus.Deliver(ctx, mail.Subscriber); err != nil {
			t.Fatal(err)
		}
		if n := len(f.out.all()); n != 1 {
			t.Errorf("%d mails sent after the requester's answer, want 1", n)
		}
	})
}
