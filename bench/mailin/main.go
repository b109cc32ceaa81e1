// Command mailin measures sustained email intake over SMTP: N distinct
// mails sent to Flare's SMTP listener (internal/mail) over several
// connections at once, a share of them sent a second time with the same
// Message-ID, on a fresh SQLite store. Every distinct mail must make
// exactly one case (none lost, none doubled). The baseline, measured in
// the same run on the same store, is the same kind of mails handed to
// mail.Service.Receive directly (parsing and intake without SMTP). See
// bench/BENCHMARKS.md.
//
//	go run ./bench/mailin -mails 3000 -conns 8 -resend 0.1
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/flare-desk/flare/bench/internal/benchload"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/mail"
)

const mailbox = "escalations@bench.flare.test"

func main() {
	n := flag.Int("mails", 3000, "distinct mails over SMTP (and as many for the baseline)")
	conns := flag.Int("conns", 8, "SMTP connections (and baseline workers) at once")
	resend := flag.Float64("resend", 0.1, "share of mails sent a second time with the same Message-ID")
	target := flag.Float64("target", 200, "mails per second over SMTP to reach")
	profile := flag.String("cpuprofile", "", "write a CPU profile of both phases to FILE")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mailin bench:", err)
			os.Exit(1)
		}
		_ = pprof.StartCPUProfile(f)
	}
	err := run(context.Background(), *n, *conns, *resend, *target)
	pprof.StopCPUProfile()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mailin bench:", err)
		os.Exit(1)
	}
}

func message(kind string, i int) []byte {
	return []byte(strings.ReplaceAll(fmt.Sprintf(`From: Seller %[2]d <seller%[2]d@%[1]s.example>
To: %[3]s
Subject: Payout %[2]d has not arrived
Message-ID: <%[1]s-%[2]d@bench.example>
Date: Tue, 01 Dec 2026 09:00:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello, the payout for order %[2]d has not arrived on our account.
Could you check what happened? Kind regards, seller %[2]d
`, kind, i, mailbox), "\n", "\r\n"))
}

func run(ctx context.Context, n, conns int, resend, target float64) error {
	dir, err := os.MkdirTemp("", "flare-mailin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	d, err := db.Open(ctx, "sqlite:"+filepath.Join(dir, "bench.db"))
	if err != nil {
		return err
	}
	defer d.Close()
	if err := app.Migrate(ctx, d); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.New(d, app.Options{Logger: log})
	if err != nil {
		return err
	}
	cfg, err := a.Desk.Schema().Example()
	if err != nil {
		return err
	}
	desk.Set(cfg, mail.SettingsKey, mail.Settings{Mailboxes: []mail.Mailbox{{Address: mailbox, Category: "payments/payout_failed", Market: "GB"}}})
	if _, err := a.Desk.Apply(ctx, auth.System("bench"), time.Now(), cfg); err != nil {
		return err
	}

	// Baseline: the same kind of mails straight into Receive, conns at once.
	var next atomic.Int64
	var failures atomic.Int64
	cpu0, start := benchload.CPUTime(), time.Now()
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for {
				i := int(next.Add(1))
				if i > n {
					return
				}
				env := mail.Envelope{From: "seller@direct.example", To: []string{mailbox}}
				if _, err := a.Mail.Receive(ctx, env, message("direct", i)); err != nil {
					failures.Add(1)
				}
			}
		})
	}
	wg.Wait()
	base, baseCPU := time.Since(start), benchload.CPUTime()-cpu0
	if f := failures.Load(); f > 0 {
		return fmt.Errorf("baseline: %d failures", f)
	}

	// SMTP: conns clients, each its share in one session; resent ones at the end.
	srv := mail.NewSMTPServer(a.Mail, log, mail.SMTPOptions{Addr: "127.0.0.1:0"})
	if err := srv.Listen(); err != nil {
		return err
	}
	go srv.Serve()
	defer srv.Close()
	resends := int(float64(n) * resend)
	jobs := make(chan int, n+resends)
	for i := 1; i <= n; i++ {
		jobs <- i
	}
	for i := 1; i <= resends; i++ {
		jobs <- i * (n / max(resends, 1)) // spread over the run
	}
	close(jobs)
	cpu0, start = benchload.CPUTime(), time.Now()
	errs := make(chan error, conns)
	for range conns {
		wg.Go(func() {
			c, err := smtp.Dial(srv.Addr())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			if err := c.Hello("bench.example"); err != nil {
				errs <- err
				return
			}
			for i := range jobs {
				if err := send(c, i); err != nil {
					errs <- fmt.Errorf("mail %d: %w", i, err)
					return
				}
			}
			c.Quit()
		})
	}
	wg.Wait()
	took, tookCPU := time.Since(start), benchload.CPUTime()-cpu0
	close(errs)
	for err := range errs {
		return err
	}

	var cases, receipts, smtpCases int
	if err := d.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM cases), (SELECT COUNT(*) FROM intake_receipts WHERE source_key = 'email'),
		(SELECT COUNT(*) FROM cases WHERE requester_email LIKE '%@smtp.example')`).Scan(&cases, &receipts, &smtpCases); err != nil {
		return err
	}
	rate := float64(n+resends) / took.Seconds()
	fmt.Printf("baseline (Receive directly, %d workers): %d mails in %s = %.0f/s, CPU %.0f µs per mail\n", conns, n, base.Round(time.Millisecond),
		float64(n)/base.Seconds(), float64(baseCPU.Microseconds())/float64(n))
	fmt.Printf("SMTP (%d connections): %d mails (%d distinct, %d resent) in %s = %.0f/s (%.0f distinct/s), CPU %.0f µs per mail\n",
		conns, n+resends, n, resends, took.Round(time.Millisecond), rate, float64(n)/took.Seconds(), float64(tookCPU.Microseconds())/float64(n+resends))
	fmt.Printf("SMTP / baseline: **%.0f%%**\n", 100*rate/(float64(n)/base.Seconds()))
	fmt.Printf("cases: %d from SMTP (want %d), %d in all (want %d); receipts %d (want %d)\n", smtpCases, n, cases, 2*n, receipts, 2*n)
	var problems []string
	if smtpCases != n || cases != 2*n || receipts != 2*n {
		problems = append(problems, "mails lost or doubled")
	}
	if rate < target {
		problems = append(problems, fmt.Sprintf("%.0f/s is below the target %.0f/s", rate, target))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	fmt.Println("OK: none lost, none doubled, target met")
	return nil
}

func send(c *smtp.Client, i int) error {
	if err := c.Mail(fmt.Sprintf("seller%d@smtp.example", i), nil); err != nil {
		return err
	}
	if err := c.Rcpt(mailbox, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(message("smtp", i)); err != nil {
		return err
	}
	return w.Close()
}
