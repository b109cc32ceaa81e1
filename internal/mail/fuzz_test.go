package mail

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/flare-desk/flare/internal/input"
)

// FuzzParseMail: any bytes parse or fail with an error, never panic, and
// what Parse keeps passes the input rules the case and comment apply.
func FuzzParseMail(f *testing.F) {
	for _, s := range []string{
		"From: a@b.c\r\nSubject: x\r\n\r\nhi\r\n",
		"From: =?ISO-8859-1?Q?J=FCrgen?= <j@x.de>\r\nSubject: =?UTF-8?B?w6Q=?=\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=FC=DFe\r\n",
		"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>x<br>y</p>\r\n--b\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"a.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n",
		"From: a@b.c\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.0.0\r\n--b--\r\n",
		"From: a@b.c\r\nIn-Reply-To: <a@b>\r\nReferences: <a@b> <c@d>\r\nAuto-Submitted: auto-replied\r\n\r\n> quoted\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw, ParseLimits{})
		if err != nil {
			return
		}
		if p := input.LongText.Problem(m.Text); p != "" {
			t.Fatalf("text %q: %s", m.Text, p)
		}
		if p := input.Title.Problem(m.Subject); p != "" {
			t.Fatalf("subject %q: %s", m.Subject, p)
		}
		if p := input.Name.Problem(m.From.Name); p != "" {
			t.Fatalf("from name %q: %s", m.From.Name, p)
		}
		for _, id := range append(append([]string{m.MessageID}, m.InReplyTo...), m.References...) {
			if strings.ContainsAny(id, "<> \r\n") || !utf8.ValidString(id) {
				t.Fatalf("message id %q", id)
			}
		}
		_ = StripQuoted(m.Text)
	})
}
