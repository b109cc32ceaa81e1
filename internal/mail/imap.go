package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// IMAPOptions configure polling a mailbox instead of (or besides) the
// SMTP listener.
type IMAPOptions struct {
	// URL is imaps://user@host[:port]/MAILBOX (TLS), imap://… with
	// STARTTLS, or imap+insecure://… without TLS (a server on loopback).
	URL      string
	Password string        // from FLARE_IMAP_PASSWORD, never the command line
	Poll     time.Duration // how often to look when the server has no IDLE (default 1 min); IDLE is renewed this often too
	Move     string        // move processed mail to this mailbox instead of only marking it \Seen
	TLS      *tls.Config   // tests trust their own certificate
}

// PasswordEnv is where the IMAP password is read from.
const PasswordEnv = "FLARE_IMAP_PASSWORD"

type imapTarget struct {
	addr, user, mailbox, mode string // mode: tls, starttls, insecure
}

// ParseIMAPURL reads an --imap-url.
func ParseIMAPURL(raw string) (imapTarget, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User == nil || u.User.Username() == "" {
		return imapTarget{}, fmt.Errorf("imap url %q: want imaps://user@host/INBOX", raw)
	}
	if _, set := u.User.Password(); set {
		return imapTarget{}, errors.New("imap url: put the password in " + PasswordEnv + ", not in the URL")
	}
	t := imapTarget{user: u.User.Username(), mailbox: strings.TrimPrefix(u.Path, "/")}
	if t.mailbox == "" {
		t.mailbox = "INBOX"
	}
	port := u.Port()
	switch u.Scheme {
	case "imaps":
		t.mode = "tls"
		if port == "" {
			port = "993"
		}
	case "imap":
		t.mode = "starttls"
	case "imap+insecure":
		t.mode = "insecure"
	default:
		return imapTarget{}, fmt.Errorf("imap url %q: scheme must be imaps, imap (STARTTLS) or imap+insecure", raw)
	}
	if port == "" {
		port = "143"
	}
	t.addr = net.JoinHostPort(u.Hostname(), port)
	return t, nil
}

// Poller fetches unseen mail from an IMAP mailbox, hands each message to
// Receive and marks it \Seen (or moves it) only once its case is
// committed: mail is never lost to a crash, and a message fetched twice
// is a duplicate Message-ID that makes nothing.
type Poller struct {
	rcv    Receiver
	log    *slog.Logger
	opt    IMAPOptions
	target imapTarget
}

// NewPoller returns a poller of opt.URL.
func NewPoller(rcv Receiver, log *slog.Logger, opt IMAPOptions) (*Poller, error) {
	t, err := ParseIMAPURL(opt.URL)
	if err != nil {
		return nil, err
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Minute
	}
	if log == nil {
		log = slog.Default()
	}
	return &Poller{rcv: rcv, log: log, opt: opt, target: t}, nil
}

// Run polls until ctx ends, reconnecting after errors with a back-off.
func (p *Poller) Run(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil {
		err := p.session(ctx)
		if ctx.Err() != nil {
			return
		}
		p.log.Warn("imap: session ended", "mailbox", p.target.mailbox, "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Minute)
	}
}

// PollOnce connects, takes every unseen message, and disconnects (tests,
// and the CLI's one-shot use).
func (p *Poller) PollOnce(ctx context.Context) (int, error) {
	c, err := p.dial(nil)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return p.drain(ctx, c)
}

func (p *Poller) dial(onNew func()) (*imapclient.Client, error) {
	opts := &imapclient.Options{TLSConfig: p.opt.TLS}
	if onNew != nil {
		opts.UnilateralDataHandler = &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					onNew()
				}
			},
		}
	}
	var (
		c   *imapclient.Client
		err error
	)
	switch p.target.mode {
	case "tls":
		c, err = imapclient.DialTLS(p.target.addr, opts)
	case "starttls":
		c, err = imapclient.DialStartTLS(p.target.addr, opts)
	default:
		c, err = imapclient.DialInsecure(p.target.addr, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("imap dial %s: %w", p.target.addr, err)
	}
	if err := c.Login(p.target.user, p.opt.Password).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("imap login %s: %w", p.target.user, err)
	}
	if _, err := c.Select(p.target.mailbox, nil).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("imap select %s: %w", p.target.mailbox, err)
	}
	return c, nil
}

// session is one connection: drain, then wait for news (IDLE, or the poll
// interval) and drain again.
func (p *Poller) session(ctx context.Context) error {
	news := make(chan struct{}, 1)
	c, err := p.dial(func() {
		select {
		case news <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return err
	}
	defer c.Close()
	idle := c.Caps().Has(imap.CapIdle)
	for {
		if _, err := p.drain(ctx, c); err != nil {
			return err
		}
		if !idle {
			select {
			case <-ctx.Done():
				return nil
			case <-c.Closed():
				return errors.New("connection closed")
			case <-time.After(p.opt.Poll):
			}
			continue
		}
		cmd, err := c.Idle()
		if err != nil {
			return fmt.Errorf("imap idle: %w", err)
		}
		select {
		case <-ctx.Done():
		case <-news:
		case <-c.Closed():
		case <-time.After(p.opt.Poll): // renew IDLE well within the servers' 30 minutes
		}
		if err := cmd.Close(); err != nil {
			return fmt.Errorf("imap idle: %w", err)
		}
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("imap idle: %w", err)
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// drain takes every unseen message in UID order.
func (p *Poller) drain(ctx context.Context, c *imapclient.Client) (int, error) {
	data, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen, imap.FlagDeleted}}, nil).Wait()
	if err != nil {
		return 0, fmt.Errorf("imap search: %w", err)
	}
	n := 0
	section := &imap.FetchItemBodySection{Peek: true} // BODY.PEEK[]: fetching alone does not mark it \Seen
	for _, uid := range data.AllUIDs() {
		if ctx.Err() != nil {
			return n, nil
		}
		msgs, err := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		if err != nil {
			return n, fmt.Errorf("imap fetch %d: %w", uid, err)
		}
		if len(msgs) == 0 {
			continue
		}
		raw := msgs[0].FindBodySection(section)
		res, err := p.rcv.Receive(ctx, Envelope{}, raw)
		if err != nil && !permanent(err) {
			return n, fmt.Errorf("imap message %d: %w", uid, err) // left unseen: tried again
		}
		if err != nil {
			p.log.Warn("imap: message refused; marked seen", "uid", uid, "err", err)
		} else {
			p.log.Info("imap: received", "uid", uid, "outcome", res.Outcome, "case", res.Case, "reason", res.Reason)
		}
		if err := p.done(c, uid); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// done marks a processed message \Seen, or moves it.
func (p *Poller) done(c *imapclient.Client, uid imap.UID) error {
	set := imap.UIDSetNum(uid)
	if p.opt.Move != "" {
		if _, err := c.Move(set, p.opt.Move).Wait(); err != nil {
			return fmt.Errorf("imap move %d: %w", uid, err)
		}
		return nil
	}
	if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}, Silent: true}, nil).Close(); err != nil {
		return fmt.Errorf("imap store %d: %w", uid, err)
	}
	return nil
}

// permanent reports whether receiving a message failed for good (it would
// fail again): such a message is marked seen and logged, not retried forever.
func permanent(err error) bool { return Answer(err).Code >= 500 }
