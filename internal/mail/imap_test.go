package mail_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/mail"
)

const dovecotBin = "/usr/sbin/dovecot"

// startDovecot runs a real Dovecot on a loopback port with one user,
// desk/secret, whose mail is a maildir in a temporary directory.
func startDovecot(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(dovecotBin); err != nil {
		if os.Getenv("FLARE_TEST_REQUIRE_DOVECOT") == "1" {
			t.Fatal("Dovecot is required (FLARE_TEST_REQUIRE_DOVECOT=1) but not installed: apt-get install dovecot-imapd")
		}
		t.Skip("Dovecot is not installed (apt-get install dovecot-imapd); the IMAP test is skipped")
	}
	dir, err := os.MkdirTemp("", "flare-dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// Mail is accessed as an unprivileged user: root runs it as nobody,
	// anyone else as themselves (and Dovecot's own processes likewise).
	mailUser, extra := "nobody", ""
	if os.Getuid() != 0 {
		u, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		mailUser = u.Username
		extra = fmt.Sprintf("default_internal_user = %s\ndefault_login_user = %s\n", u.Username, u.Username)
	}
	mailDir := filepath.Join(dir, "mail")
	if err := os.MkdirAll(filepath.Join(dir, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(mailDir, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	os.Chmod(mailDir, 0o777)
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte("desk:{PLAIN}secret::::::\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	conf := fmt.Sprintf(`protocols = imap
listen = 127.0.0.1
base_dir = %[1]s/run
state_dir = %[1]s/run
log_path = %[1]s/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
%[4]spassdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/passwd
}
userdb {
  driver = static
  args = uid=%[3]s gid=%[3]s home=%[1]s/mail/%%u
}
mail_location = maildir:%[1]s/mail/%%u/Maildir
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[2]s
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
`, dir, port, mailUser, extra)
	if os.Getuid() == 0 {
		conf = strings.Replace(conf, "gid="+mailUser, "gid=nogroup", 1)
	}
	cf := filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(dovecotBin, "-F", "-c", cf)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			t.Fatalf("dovecot did not start: %v\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return addr
}

func imapClient(t *testing.T, addr string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login("desk", "secret").Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

func appendMail(t *testing.T, c *imapclient.Client, raw string) {
	t.Helper()
	b := []byte(strings.ReplaceAll(strings.TrimPrefix(raw, "\n"), "\n", "\r\n"))
	cmd := c.Append("INBOX", int64(len(b)), nil)
	if _, err := cmd.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

// seen reports the \Seen flag of every message in INBOX by Message-ID.
func seen(t *testing.T, c *imapclient.Client) map[string]bool {
	t.Helper()
	if err := c.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	all, err := c.Fetch(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.FetchOptions{Flags: true, Envelope: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range all {
		out[m.Envelope.MessageID] = slices.Contains(m.Flags, imap.FlagSeen)
	}
	return out
}

func TestIMAPDovecot(t *testing.T) {
	addr := startDovecot(t)
	n := 0
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		n++
		c := imapClient(t, addr)
		id := fmt.Sprintf("imap-%d@example.com", n)
		appendMail(t, c, `
From: Lena Vogel <lena@example.de>
To: escalations@demo.flare.test
Subject: Auszahlung blockiert
Message-ID: <`+id+`>
Content-Type: text/plain; charset=utf-8

Unsere Auszahlung ist seit Montag blockiert.
`)
		p, err := mail.NewPoller(f.App.Mail, slog.New(slog.NewTextHandler(io.Discard, nil)),
			mail.IMAPOptions{URL: "imap+insecure://desk@" + addr + "/INBOX", Password: "secret"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.PollOnce(ctx)
		if err != nil || got != 1 {
			t.Fatalf("PollOnce = %d, %v; want 1 message", got, err)
		}
		cs := f.caseBy(t, id)
		if cs.Title != "Auszahlung blockiert" || cs.Requester.Email != "lena@example.de" || cs.Channel != "email" {
			t.Errorf("case from IMAP: %+v", cs)
		}
		if !seen(t, c)[id] {
			t.Errorf("message %s not marked \\Seen after its case committed", id)
		}
		if got, err := p.PollOnce(ctx); err != nil || got != 0 {
			t.Errorf("second poll took %d (%v), want none", got, err)
		}

		// Running: IDLE wakes the poller for a new message.
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { p.Run(rctx); close(done) }()
		defer func() { cancel(); <-done }()
		id2 := fmt.Sprintf("imap-idle-%d@example.com", n)
		time.Sleep(200 * time.Millisecond) // let it reach IDLE (the mail is found either way)
		appendMail(t, c, "\nFrom: lena@example.de\nTo: escalations@demo.flare.test\nSubject: Noch etwas\nMessage-ID: <"+id2+">\n\nEine zweite Frage.\n")
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			// Wait for the \Seen flag too: it is stored after the case commits, and
			// a message left unseen here would be polled again by the next store's run.
			if _, ok, _ := f.App.Intake.Seen(ctx, mail.SourceKey, id2); ok && seen(t, c)[id2] {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the running poller did not take the new message")
			}
		}
	})
}
