package mail

import (
	"strings"
	"testing"
)

func crlf(s string) []byte {
	return []byte(strings.ReplaceAll(strings.TrimPrefix(s, "\n"), "\n", "\r\n"))
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name  string
		raw   string
		check func(t *testing.T, m *Message)
	}{
		{"plain", `
From: "Anna Berg" <Anna.Berg@Example.com>
To: escalations@demo.flare.test
Subject: Parcel never arrived
Message-ID: <abc123@example.com>
Date: Mon, 02 Nov 2026 09:00:00 +0000

Hello, my parcel 123 never arrived.
`, func(t *testing.T, m *Message) {
			want(t, "from", m.From.Email, "anna.berg@example.com")
			want(t, "name", m.From.Name, "Anna Berg")
			want(t, "message id", m.MessageID, "abc123@example.com")
			want(t, "subject", m.Subject, "Parcel never arrived")
			want(t, "text", m.Text, "Hello, my parcel 123 never arrived.")
			want(t, "to", strings.Join(m.To, ","), "escalations@demo.flare.test")
			want(t, "ignore", m.Ignore, "")
		}},
		{"latin1 and encoded subject", `
From: =?ISO-8859-1?Q?J=FCrgen_M=FCller?= <jm@example.de>
Subject: =?ISO-8859-1?Q?Zahlung_zur=FCckgehalten_=5BESC-1042=5D?=
Message-ID: <x@y>
Content-Type: text/plain; charset=ISO-8859-1
Content-Transfer-Encoding: quoted-printable

Gr=FC=DFe aus M=FCnchen, die Auszahlung f=FCr 250 EUR fehlt.
`, func(t *testing.T, m *Message) {
			want(t, "name", m.From.Name, "Jürgen Müller")
			want(t, "subject", m.Subject, "Zahlung zurückgehalten [ESC-1042]")
			want(t, "token", m.Token, "ESC-1042")
			want(t, "text", m.Text, "Grüße aus München, die Auszahlung für 250 EUR fehlt.")
		}},
		{"windows-1252", "From: a@b.c\nSubject: x\nContent-Type: text/plain; charset=windows-1252\n\nPrice: \x80 5 \x96 \x93ok\x94\n", func(t *testing.T, m *Message) {
			want(t, "text", m.Text, "Price: € 5 – “ok”")
		}},
		{"undeclared 8-bit", "From: a@b.c\nSubject: x\n\nCaf\xe9 cr\xe8me\n", func(t *testing.T, m *Message) {
			want(t, "text", m.Text, "Café crème")
		}},
		{"html only", `
From: shop@example.com
Subject: Hi
Content-Type: text/html; charset=utf-8

<html><head><title>T</title><style>p{color:red}</style><script>alert(1)</script></head>
<body><p>Dear team,</p><p>see <a href="https://example.com/o/1">the order</a>.<br>Thanks</p>
<ul><li>one</li><li>two</li></ul><img src="cid:x" alt="logo"></body></html>
`, func(t *testing.T, m *Message) {
			want(t, "text", m.Text, "Dear team,\n\nsee the order <https://example.com/o/1>.\nThanks\n\n- one\n- two\n\n[logo]")
			if !m.HTMLOnly {
				t.Error("not marked HTML-only")
			}
		}},
		{"multipart alternative and attachment", `
From: a@example.com
Subject: With files
Message-ID: <m1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8

The plain text.
--alt
Content-Type: text/html; charset=utf-8

<p>The <b>HTML</b> text.</p><img src="cid:img1@x">
--alt--
--rel
Content-Type: image/png
Content-ID: <img1@x>
Content-Transfer-Encoding: base64

iVBORw0KGgoAAAANSUhEUg==
--rel--
--outer
Content-Type: application/pdf; name="=?UTF-8?Q?Rechnung_M=C3=A4rz.pdf?="
Content-Disposition: attachment; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--outer--
`, func(t *testing.T, m *Message) {
			want(t, "text", m.Text, "The plain text.")
			if len(m.Files) != 2 {
				t.Fatalf("files: %+v", m.Files)
			}
			img, pdf := m.Files[0], m.Files[1]
			if !img.Inline || img.ContentID != "img1@x" || img.ContentType != "image/png" || !strings.HasPrefix(string(img.Data), "\x89PNG") {
				t.Errorf("inline image: %+v", img)
			}
			if pdf.Inline || pdf.Name != "Rechnung März.pdf" || string(pdf.Data) != "%PDF-1.4\n" {
				t.Errorf("pdf: %+v", pdf)
			}
		}},
		{"reply threading", `
From: a@example.com
Subject: Re: Parcel never arrived [ESC-7]
Message-ID: <r2@example.com>
In-Reply-To: <flare.1@demo.flare.test>
References: <abc123@example.com> <flare.1@demo.flare.test>

Still nothing.

On Mon, 2 Nov 2026 at 10:00, Flare <escalations@demo.flare.test> wrote:
> We are looking into it.
`, func(t *testing.T, m *Message) {
			want(t, "in-reply-to", strings.Join(m.InReplyTo, " "), "flare.1@demo.flare.test")
			want(t, "references", strings.Join(m.References, " "), "abc123@example.com flare.1@demo.flare.test")
			want(t, "token", m.Token, "ESC-7")
			want(t, "stripped", StripQuoted(m.Text), "Still nothing.")
		}},
		{"auto reply", "From: a@b.c\nSubject: Out of office\nAuto-Submitted: auto-replied\n\nI am away.\n", func(t *testing.T, m *Message) {
			want(t, "ignore", m.Ignore, IgnoreAutoReply)
		}},
		{"auto-submitted no", "From: a@b.c\nSubject: x\nAuto-Submitted: no\n\nhi\n", func(t *testing.T, m *Message) { want(t, "ignore", m.Ignore, "") }},
		{"x-autoreply", "From: a@b.c\nSubject: x\nX-Autoreply: yes\n\nhi\n", func(t *testing.T, m *Message) { want(t, "ignore", m.Ignore, IgnoreAutoReply) }},
		{"precedence bulk", "From: a@b.c\nSubject: x\nPrecedence: bulk\n\nhi\n", func(t *testing.T, m *Message) { want(t, "ignore", m.Ignore, IgnoreBulk) }},
		{"list", "From: a@b.c\nSubject: x\nList-Id: <news.example.com>\n\nhi\n", func(t *testing.T, m *Message) { want(t, "ignore", m.Ignore, IgnoreBulk) }},
		{"bounce", `
From: MAILER-DAEMON@example.com
Subject: Undelivered Mail Returned to Sender
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

Your message could not be delivered.
--b
Content-Type: message/delivery-status

Status: 5.1.1
--b--
`, func(t *testing.T, m *Message) { want(t, "ignore", m.Ignore, IgnoreBounce) }},
		{"control and bidi characters", "From: a@b.c\nSubject: a\u202eb\x01c\n\nline\x00one\u202e\r\n\n\n\n\nline two  \n", func(t *testing.T, m *Message) {
			want(t, "subject", m.Subject, "a b c")
			want(t, "text", m.Text, "lineone\n\n\nline two")
		}},
		{"no message id, loose from", "From: broken <<a@b.c\nSubject: x\n\nhi\n", func(t *testing.T, m *Message) {
			want(t, "message id", m.MessageID, "")
			want(t, "from", m.From.Email, "a@b.c")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse(crlf(tc.raw), ParseLimits{})
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, m)
		})
	}
}

func TestParseMalformed(t *testing.T) {
	for _, raw := range []string{"", "\r\n\r\nno header", "not a header line\r\n"} {
		if _, err := Parse([]byte(raw), ParseLimits{}); err == nil {
			t.Errorf("Parse(%q) accepted", raw)
		}
	}
	// Deep nesting and many parts are cut, not followed.
	var b strings.Builder
	b.WriteString("From: a@b.c\r\nSubject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
	for i := 1; i < 50; i++ {
		b.WriteString("--b" + itoa(i-1) + "\r\nContent-Type: multipart/mixed; boundary=b" + itoa(i) + "\r\n\r\n")
	}
	if _, err := Parse([]byte(b.String()), ParseLimits{}); err != nil {
		t.Fatal(err)
	}
}

func itoa(i int) string {
	return strings.TrimSpace(strings.Repeat(" ", 0) + string(rune('0'+i/10)) + string(rune('0'+i%10)))
}

func want(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}
