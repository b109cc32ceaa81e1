package demo

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/mail"
)

// The demo's email: two mailboxes (escalations@ and payments@ on
// demo.flare.test, a reserved-style domain no mail reaches), and a few
// mails received through the real path (mail.Service.Receive: parsing,
// intake, threading, attachments) once the history is written: a seller's
// thread with a reply from the desk and a screenshot, a German seller's
// ISO-8859-1 HTML-only mail with an invoice, and an out-of-office reply
// that is ignored. They are loaded when the demo listens for mail
// (`flare demo --smtp-addr 127.0.0.1:2525`, Options.Mail), after the
// generated history, so the README's examples keep their case numbers.

// MailDomain is the domain of the demo desk's mailboxes.
const MailDomain = "demo.flare.test"

// mailDesk adds the demo's mailboxes to cfg.
func mailDesk(cfg *desk.Config) {
	desk.Set(cfg, mail.SettingsKey, mail.Settings{Mailboxes: []mail.Mailbox{
		{Address: "escalations@" + MailDomain, Name: Company + " Escalations", Category: "seller_support/onboarding", Market: "GB", Tags: []string{"email"}},
		{Address: "payments@" + MailDomain, Name: Company + " Payments", Category: "payments/payout_delayed", Market: "DE", Tags: []string{"email"}},
	}})
}

// A 1×1 PNG: the seller's "screenshot".
const demoPNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="

func demoMails() []string {
	png := base64.StdEncoding.EncodeToString(mustBase64(demoPNG))
	pdf := base64.StdEncoding.EncodeToString([]byte("%PDF-1.4\n% Rechnung RE-2026-0415, Beispiel\n"))
	return []string{`From: Oliver Hughes <oliver@thamesvalleyprints.example>
To: escalations@` + MailDomain + `
Subject: Cannot finish seller onboarding - bank details rejected
Message-ID: <demo-thread-1@thamesvalleyprints.example>
Date: Tue, 01 Dec 2026 08:12:00 +0000
Content-Type: text/plain; charset=utf-8

Hello,

we have tried three times to add our bank account in the seller portal and
each time it says "verification failed". Our shop was meant to go live on
Monday. Can someone look at it?

Thanks,
Oliver Hughes
Thames Valley Prints
`, `From: Oliver Hughes <oliver@thamesvalleyprints.example>
To: escalations@` + MailDomain + `
Subject: Re: Cannot finish seller onboarding - bank details rejected
Message-ID: <demo-thread-2@thamesvalleyprints.example>
In-Reply-To: <demo-thread-1@thamesvalleyprints.example>
References: <demo-thread-1@thamesvalleyprints.example>
Date: Tue, 01 Dec 2026 09:40:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

Here is a screenshot of the error. The sort code is 20-00-00.

On Tue, 1 Dec 2026, Larkspur Market Escalations wrote:
> Could you send us a screenshot of the message you see?
--b1
Content-Type: image/png; name="bank-error.png"
Content-Disposition: attachment; filename="bank-error.png"
Content-Transfer-Encoding: base64

` + png + `
--b1--
`, `From: =?ISO-8859-1?Q?J=FCrgen_Kr=E4mer?= <j.kraemer@bayern-moebel.example>
To: payments@` + MailDomain + `
Subject: =?ISO-8859-1?Q?Auszahlung_f=FCr_November_fehlt?=
Message-ID: <demo-de-1@bayern-moebel.example>
Date: Tue, 01 Dec 2026 07:55:00 +0100
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b2"

--b2
Content-Type: text/html; charset=ISO-8859-1
Content-Transfer-Encoding: quoted-printable

<html><body><p>Sehr geehrte Damen und Herren,</p><p>die Auszahlung f=FCr Novem=
ber (4.380,00 =80) ist bis heute nicht auf unserem Konto eingegangen. Die Rec=
hnung liegt bei.</p><p>Mit freundlichen Gr=FC=DFen<br>J=FCrgen Kr=E4mer<br>Bay=
ern M=F6bel GmbH</p></body></html>
--b2
Content-Type: application/pdf; name="Rechnung-RE-2026-0415.pdf"
Content-Disposition: attachment; filename="Rechnung-RE-2026-0415.pdf"
Content-Transfer-Encoding: base64

` + pdf + `
--b2--
`, `From: Oliver Hughes <oliver@thamesvalleyprints.example>
To: escalations@` + MailDomain + `
Subject: Automatic reply: Cannot finish seller onboarding
Message-ID: <demo-ooo-1@thamesvalleyprints.example>
In-Reply-To: <demo-thread-1@thamesvalleyprints.example>
Auto-Submitted: auto-replied

I am at a trade fair until Thursday and will answer your mail then.
`}
}

func mustBase64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// loadMail receives the demo mails and answers the first one as an agent
// would, between the seller's two mails.
func loadMail(ctx context.Context, a *app.App, actors map[string]auth.Actor) error {
	mails := demoMails()
	env := mail.Envelope{From: "sender@example.com"}
	for i, raw := range mails {
		env.To = []string{"escalations@" + MailDomain}
		if strings.Contains(raw, "To: payments@") {
			env.To = []string{"payments@" + MailDomain}
		}
		res, err := a.Mail.Receive(ctx, env, []byte(strings.ReplaceAll(raw, "\n", "\r\n")))
		if err != nil {
			return fmt.Errorf("demo mail %d: %w", i+1, err)
		}
		if i == 0 && res.Outcome == "created" {
			agent := actors["sophie.laurent@"+EmailDomain]
			if _, err := a.Cases.AddComment(ctx, agent, res.Case, cases.CommentInput{
				Body: "Hello Oliver, thank you for writing. Could you send us a screenshot of the message you see?"}); err != nil {
				return fmt.Errorf("demo mail reply: %w", err)
			}
		}
	}
	return nil
}
