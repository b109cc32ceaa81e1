package notify_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// smtpd is a real SMTP server (go-smtp) on a loopback port, keeping what
// it accepts.
type smtpd struct {
	addr string
	srv  *smtp.Server

	mu       sync.Mutex
	mails    []received
	rejectTo map[string]int // recipient → how many more RCPTs to refuse (temporarily)
	users    map[string]string
	authed   []string
	tlsUsed  []bool
}

// received is one accepted message, parsed.
type received struct {
	From   string
	To     []string
	Raw    []byte
	Header mail.Header
	Text   string
	HTML   string
}

func startSMTP(t *testing.T, cfg func(*smtp.Server)) *smtpd {
	t.Helper()
	d := &smtpd{rejectTo: map[string]int{}, users: map[string]string{}}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &session{d: d, tls: isTLS, conn: c}, nil
	}))
	s.Domain = "mx.test"
	s.AllowInsecureAuth = true
	if cfg != nil {
		cfg(s)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d.addr, d.srv = l.Addr().String(), s
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	return d
}

func (d *smtpd) received() []received {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]received{}, d.mails...)
}

// to lists what rcpt received.
func (d *smtpd) to(rcpt string) []received {
	var out []received
	for _, m := range d.received() {
		for _, r := range m.To {
			if strings.EqualFold(r, rcpt) {
				out = append(out, m)
			}
		}
	}
	return out
}

type session struct {
	d    *smtpd
	conn *smtp.Conn
	tls  bool
	from string
	to   []string
	user string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		s.d.mu.Lock()
		defer s.d.mu.Unlock()
		if want, ok := s.d.users[user]; !ok || want != pass {
			return errors.New("bad credentials")
		}
		s.user = user
		return nil
	}), nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.d.mu.Lock()
	needAuth := len(s.d.users) > 0
	s.d.mu.Unlock()
	if needAuth && s.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	if n := s.d.rejectTo[strings.ToLower(to)]; n > 0 {
		s.d.rejectTo[strings.ToLower(to)] = n - 1
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := received{From: s.from, To: s.to, Raw: raw}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: "unreadable message: " + err.Error()}
	}
	m.Header = msg.Header
	m.Text, m.HTML, err = bodies(msg)
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: "unreadable body: " + err.Error()}
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.d.mu.Lock()
	s.d.mails = append(s.d.mails, m)
	s.d.authed = append(s.d.authed, s.user)
	s.d.tlsUsed = append(s.d.tlsUsed, isTLS)
	s.d.mu.Unlock()
	return nil
}

// bodies reads the text and HTML parts of a multipart/alternative message.
func bodies(msg *mail.Message) (text, html string, err error) {
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return "", "", err
	}
	if !strings.HasPrefix(mt, "multipart/") {
		b, err := decodePart(msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
		return string(b), "", err
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return text, html, nil
		}
		if err != nil {
			return "", "", err
		}
		b, err := decodePart(p.Header.Get("Content-Transfer-Encoding"), p)
		if err != nil {
			return "", "", err
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			text = string(b)
		case "text/html":
			html = string(b)
		}
	}
}

func decodePart(cte string, r io.Reader) ([]byte, error) {
	switch strings.ToLower(cte) {
	case "quoted-printable":
		return io.ReadAll(quotedprintable.NewReader(r))
	case "base64":
		return io.ReadAll(base64.NewDecoder(base64.StdEncoding, r))
	}
	return io.ReadAll(r)
}
