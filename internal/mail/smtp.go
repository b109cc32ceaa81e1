package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/flare-desk/flare/internal/apperr"
)

// Envelope is what the SMTP session said about a message.
type Envelope struct {
	From   string   // MAIL FROM; "" is the null sender (bounces)
	To     []string // accepted RCPT TO addresses
	Remote string   // the client's address
}

// Receiver takes one received message (the Service; tests may pass another).
type Receiver interface {
	// Mailbox reports whether mail to rcpt is accepted; an error is transient.
	Mailbox(ctx context.Context, rcpt string) (bool, error)
	// Receive takes the raw message; its error decides the SMTP answer.
	Receive(ctx context.Context, env Envelope, raw []byte) (*Received, error)
}

// SMTPOptions configure the listener.
type SMTPOptions struct {
	Addr            string // ":2525"
	Domain          string // the name it greets with (default "flare")
	MaxMessageBytes int64  // default 30 MiB
	MaxRecipients   int    // default 50
	TLS             *tls.Config
	Timeout         time.Duration // read and write, per command (default 2 min)
}

// SMTPServer is Flare's SMTP listener.
type SMTPServer struct {
	srv *smtp.Server
	ln  net.Listener
	log *slog.Logger
}

// NewSMTPServer returns a listener handing mail to rcv.
func NewSMTPServer(rcv Receiver, log *slog.Logger, opt SMTPOptions) *SMTPServer {
	if log == nil {
		log = slog.Default()
	}
	if opt.Domain == "" {
		opt.Domain = "flare"
	}
	if opt.MaxMessageBytes <= 0 {
		opt.MaxMessageBytes = 30 << 20
	}
	if opt.MaxRecipients <= 0 {
		opt.MaxRecipients = 50
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 2 * time.Minute
	}
	s := smtp.NewServer(&backend{rcv: rcv, log: log, max: opt.MaxMessageBytes})
	s.Addr, s.Domain = opt.Addr, opt.Domain
	s.MaxMessageBytes, s.MaxRecipients = opt.MaxMessageBytes, opt.MaxRecipients
	s.ReadTimeout, s.WriteTimeout = opt.Timeout, opt.Timeout
	s.TLSConfig = opt.TLS
	s.EnableSMTPUTF8 = true
	s.ErrorLog = slogLogger{log}
	return &SMTPServer{srv: s, log: log}
}

// Listen opens the listening socket (so that callers know it is up).
func (s *SMTPServer) Listen() error {
	ln, err := net.Listen("tcp", s.srv.Addr)
	if err != nil {
		return fmt.Errorf("smtp listen %s: %w", s.srv.Addr, err)
	}
	s.ln = ln
	return nil
}

// Addr is the address it listens on (after Listen).
func (s *SMTPServer) Addr() string { return s.ln.Addr().String() }

// Serve accepts connections until Close.
func (s *SMTPServer) Serve() error {
	if s.ln == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	err := s.srv.Serve(s.ln)
	if errors.Is(err, smtp.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Close stops the listener and its sessions.
func (s *SMTPServer) Close() error { return s.srv.Close() }

type slogLogger struct{ log *slog.Logger }

func (l slogLogger) Printf(format string, v ...any) {
	l.log.Warn("smtp", "msg", fmt.Sprintf(format, v...))
}
func (l slogLogger) Println(v ...any) { l.log.Warn("smtp", "msg", fmt.Sprint(v...)) }

type backend struct {
	rcv Receiver
	log *slog.Logger
	max int64
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{b: b, remote: c.Conn().RemoteAddr().String()}, nil
}

type session struct {
	b      *backend
	remote string
	from   string
	hasMsg bool // MAIL FROM given
	to     []string
}

func (s *session) Reset()        { s.from, s.hasMsg, s.to = "", false, nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from, s.hasMsg, s.to = strings.TrimSpace(from), true, nil
	return nil
}

// SMTP answers (RFC 5321, enhanced codes RFC 3463).
var (
	errUnknownRcpt = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox here"}
	errTransient   = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure, please try again later"}
	errMalformed   = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Message cannot be read"}
)

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ok, err := s.b.rcv.Mailbox(ctx, to)
	if err != nil {
		s.b.log.Error("smtp: mailbox lookup", "rcpt", to, "err", err)
		return errTransient
	}
	if !ok {
		return errUnknownRcpt
	}
	s.to = append(s.to, strings.ToLower(to))
	return nil
}

func (s *session) Data(r io.Reader) error {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			return se // 552 too large
		}
		return errTransient
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := s.b.rcv.Receive(ctx, Envelope{From: s.from, To: s.to, Remote: s.remote}, buf.Bytes())
	if err != nil {
		return s.b.answer(err)
	}
	s.b.log.Info("smtp: received", "from", s.from, "remote", s.remote, "outcome", res.Outcome, "case", res.Case, "reason", res.Reason)
	return nil
}

// answer is the SMTP reply to a failed Receive.
func (b *backend) answer(err error) error {
	se := Answer(err)
	if se == errTransient {
		b.log.Error("smtp: receive", "err", err)
	}
	return se
}

// Answer is the SMTP reply to a failed Receive: 5xx for what sending again
// cannot fix, 4xx only for transient faults (the store is down).
func Answer(err error) *smtp.SMTPError {
	var (
		se  *smtp.SMTPError
		inv *apperr.Invalid
	)
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, ErrMalformed):
		return errMalformed
	case errors.As(err, &inv):
		msg := "Message refused: " + oneLine(inv.Error(), 200)
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: msg}
	case errors.Is(err, apperr.ErrNotFound):
		return errUnknownRcpt
	}
	return errTransient
}
