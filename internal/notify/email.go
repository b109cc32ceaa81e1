package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"net/mail"
	"strings"
	texttemplate "text/template"
	"time"

	gomail "github.com/wneessen/go-mail"
)

//go:embed templates/mail.txt templates/mail.html
var mailFS embed.FS

var (
	mailText = texttemplate.Must(texttemplate.ParseFS(mailFS, "templates/mail.txt"))
	mailHTML = htmltemplate.Must(htmltemplate.ParseFS(mailFS, "templates/mail.html"))
)

// Mail is a composed email, as a delivery keeps it until it is sent.
type Mail struct {
	To         string   `json:"to"`
	ToName     string   `json:"to_name,omitempty"`
	Subject    string   `json:"subject"`
	Text       string   `json:"text"`
	HTML       string   `json:"html"`
	MessageID  string   `json:"message_id"` // without the angle brackets
	InReplyTo  string   `json:"in_reply_to,omitempty"`
	References []string `json:"references,omitempty"`
	Case       string   `json:"case,omitempty"` // ESC-1042
	// From replaces the desk's sender (internal/mail: a case's mailbox).
	From string `json:"from,omitempty"`
	// Personal marks a person's reply (internal/mail): not Auto-Submitted,
	// so that the requester's mail program treats it as a person's mail.
	Personal bool `json:"personal,omitempty"`
}

// mailView is what the mail templates read.
type mailView struct {
	Content
	Prefs string // where to change one's preferences
}

// renderMail renders c's text and HTML bodies.
func renderMail(c Content, baseURL string) (text, html string, err error) {
	v := mailView{Content: c, Prefs: strings.TrimRight(baseURL, "/") + "/notifications#preferences"}
	var t, h bytes.Buffer
	if err := mailText.Execute(&t, v); err != nil {
		return "", "", fmt.Errorf("mail text: %w", err)
	}
	if err := mailHTML.Execute(&h, v); err != nil {
		return "", "", fmt.Errorf("mail html: %w", err)
	}
	return t.String(), h.String(), nil
}

// subject is a case's mails' subject: the same for each, so that mail
// clients that thread by subject agree with those that read References.
func subject(c Content) string {
	if c.Number == "" {
		return c.Title
	}
	return "[" + c.Number + "] " + c.Case
}

// Threading. The first mail about a case to a recipient has the thread's
// root id as its Message-ID; each later one replies to the one before it
// (In-Reply-To) and references the root and its parent (References), so
// a case's mails thread together in every client. Ids are stable per
// delivery (a retry re-sends the same Message-ID, which lets receivers
// drop a duplicate).

// threadID is the root Message-ID of the thread about case caseID to rcpt.
func threadID(caseID int64, rcpt, domain string) string {
	return fmt.Sprintf("case-%d.%s@%s", caseID, shortHash(rcpt), domain)
}

// messageID is the Message-ID of the mail about event to rcpt.
func messageID(eventID, rcpt, domain string) string {
	return fmt.Sprintf("%s.%s@%s", eventID, shortHash(rcpt), domain)
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(strings.ToLower(s)))
	return hex.EncodeToString(h[:6])
}

// domainOf is the domain of an address ("Flare <flare@desk.example>").
func domainOf(addr string) string {
	if a, err := mail.ParseAddress(addr); err == nil {
		addr = a.Address
	}
	if _, d, ok := strings.Cut(addr, "@"); ok && d != "" {
		return strings.ToLower(d)
	}
	return "flare.invalid"
}

// message builds the MIME message of m from from at now.
func message(from string, m Mail, now time.Time) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if m.From != "" {
		from = m.From
	}
	if err := msg.From(from); err != nil {
		return nil, fmt.Errorf("from %q: %w", from, err)
	}
	var err error
	if m.ToName != "" {
		err = msg.AddToFormat(m.ToName, m.To)
	} else {
		err = msg.AddTo(m.To)
	}
	if err != nil {
		return nil, fmt.Errorf("to %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.MessageID)
	if m.InReplyTo != "" {
		msg.SetGenHeaderPreformatted(gomail.HeaderInReplyTo, "<"+m.InReplyTo+">")
	}
	if len(m.References) > 0 {
		refs := make([]string, len(m.References))
		for i, r := range m.References {
			refs[i] = "<" + r + ">"
		}
		msg.SetGenHeaderPreformatted(gomail.HeaderReferences, strings.Join(refs, " "))
	}
	msg.SetDateWithValue(now)
	msg.SetUserAgent("Flare")
	if !m.Personal {
		// Automatic mail (RFC 3834): out-of-office replies should not answer it.
		msg.SetGenHeader("Auto-Submitted", "auto-generated")
	}
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	if m.Case != "" {
		msg.SetGenHeader("X-Flare-Case", m.Case)
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// WriteMessage writes m as Flare sends it from from (RFC 5322), for tools
// and tests that hand it to another mail program.
func WriteMessage(w io.Writer, from string, m Mail, now time.Time) error {
	msg, err := message(from, m, now)
	if err != nil {
		return err
	}
	_, err = msg.WriteTo(w)
	return err
}

// Mailer sends mail. SMTP is the real one; tests may pass another.
type Mailer interface {
	// Send sends m and reports the server's reply code (0: none).
	Send(ctx context.Context, m Mail) (code int, err error)
}

// SMTP sends mail through an SMTP server.
type SMTP struct {
	// TLSConfig replaces the default TLS settings (tests trust their own
	// certificate with it); nil: the system's roots, the host's name.
	TLSConfig *tls.Config

	settings EmailSettings
	password string
	now      func() time.Time
}

// NewSMTP returns the mailer for s; password is FLARE_SMTP_PASSWORD's.
func NewSMTP(s EmailSettings, password string, now func() time.Time) *SMTP {
	return &SMTP{settings: s, password: password, now: now}
}

// smtpTimeout bounds one mail's whole SMTP session.
const smtpTimeout = 30 * time.Second

// Send delivers m in its own SMTP session.
func (s *SMTP) Send(ctx context.Context, m Mail) (int, error) {
	msg, err := message(s.settings.From, m, s.now())
	if err != nil {
		return 0, err
	}
	opts := []gomail.Option{gomail.WithPort(s.settings.port()), gomail.WithTimeout(smtpTimeout)}
	switch s.settings.security() {
	case SecurityTLS:
		opts = append(opts, gomail.WithSSL())
	case SecuritySTARTTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.settings.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.settings.Username), gomail.WithPassword(s.password))
	}
	if s.settings.HELO != "" {
		opts = append(opts, gomail.WithHELO(s.settings.HELO))
	}
	if s.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(s.TLSConfig))
	}
	c, err := gomail.NewClient(s.settings.Host, opts...)
	if err != nil {
		return 0, fmt.Errorf("smtp client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		var se *gomail.SendError
		code := 0
		if errors.As(err, &se) {
			code = se.ErrorCode()
		}
		return code, fmt.Errorf("smtp %s:%d: %w", s.settings.Host, s.settings.port(), err)
	}
	return 250, nil
}
