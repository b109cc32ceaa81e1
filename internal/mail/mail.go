// Package mail is email in and out of Flare.
//
// In: a built-in SMTP listener (SMTPServer) or an IMAP mailbox that Flare
// polls (Poller) hands each message to Service.Receive, which parses it
// (Parse: a pure function), and — unless it is an auto-reply, a bounce or
// bulk mail, which are recorded as ignored with the reason and never open
// a case nor get an answer — submits it through internal/intake with
// Source{Channel: email, Key: "email", ExternalID: Message-ID}: a repeated
// Message-ID makes nothing. A reply threads into its case when its
// In-Reply-To or References names a message Flare received or sent for the
// case (mail_messages), or when its subject carries the case's token
// ([ESC-1042]) and it comes from the case's requester. Attachments and
// inline images are stored through internal/attachments in the same
// transaction; files the limits refuse are named in the text instead.
//
// Out: a public reply on a case that came in by mail (case.replied by a
// Flare user) is sent to the requester from the case's mailbox, with
// Message-ID, In-Reply-To and References chaining to the requester's last
// message, through notify's SMTP mailer, by the durable subscriber "mail"
// (at least once; a redelivered event sends nothing twice). Sent ids are
// kept so that the requester's answer threads back.
package mail

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/attachments"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/intake"
	"github.com/flare-desk/flare/internal/notify"
)

// SourceKey is intake's source key for mail.
const SourceKey = "email"

// actor is who writes received mail: Flare itself, for the requester.
var actor = auth.System("mail")

// Service receives and sends the desk's mail.
type Service struct {
	db     *db.DB
	desk   *desk.Service
	cases  *cases.Service
	intake *intake.Service
	files  *attachments.Service
	notify *notify.Service
	clock  clock.Clock
	log    *slog.Logger
}

// New returns the mail service.
func New(d *db.DB, dk *desk.Service, cs *cases.Service, in *intake.Service, files *attachments.Service,
	n *notify.Service, c clock.Clock, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{db: d, desk: dk, cases: cs, intake: in, files: files, notify: n, clock: c, log: log}
}

// Received is what became of one received message.
type Received struct {
	Outcome string // created, appended, duplicate, repeat_linked, ignored
	Case    string // ESC-…, unless ignored
	Reason  string // ignored: auto_reply, bounce, bulk
}

func (s *Service) settings(ctx context.Context) (Settings, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return Settings{}, err
	}
	return desk.Get(cfg, SettingsKey), nil
}

// Mailbox reports whether the desk takes mail to rcpt.
func (s *Service) Mailbox(ctx context.Context, rcpt string) (bool, error) {
	set, err := s.settings(ctx)
	if err != nil {
		return false, err
	}
	_, ok := set.Find(rcpt)
	return ok, nil
}

// Receive takes one raw message delivered to env.To.
func (s *Service) Receive(ctx context.Context, env Envelope, raw []byte) (*Received, error) {
	set, err := s.settings(ctx)
	if err != nil {
		return nil, err
	}
	m, err := Parse(raw, ParseLimits{})
	if err != nil {
		return nil, err
	}
	var (
		box  Mailbox
		rcpt string
		ok   bool
	)
	for _, to := range append(slices.Clone(env.To), m.To...) { // the envelope first; IMAP has none
		if box, ok = set.Find(to); ok {
			rcpt = to
			break
		}
	}
	if !ok && len(env.To) == 0 && len(set.Mailboxes) > 0 { // a polled mailbox: its mail is the desk's
		box, rcpt, ok = set.Mailboxes[0], set.Mailboxes[0].Address, !set.Mailboxes[0].Domain()
	}
	if !ok {
		return nil, errNoMailbox
	}
	if m.MessageID == "" { // the same bytes sent again are the same message
		sum := sha256.Sum256(raw)
		m.MessageID = "sha256-" + hex.EncodeToString(sum[:16]) + "@flare.invalid"
	}
	if env.Null() && m.Ignore == "" {
		m.Ignore = IgnoreBounce
	}
	if m.From.Email == "" && m.Ignore == "" {
		m.Ignore = "no_sender"
	}
	from := box.FromAddress(rcpt)
	if m.Ignore != "" {
		if err := s.recordIgnored(ctx, m, from); err != nil {
			return nil, err
		}
		return &Received{Outcome: "ignored", Reason: m.Ignore}, nil
	}
	into, err := s.thread(ctx, m)
	if err != nil {
		return nil, err
	}
	files, dropped := s.prepareFiles(ctx, m.Files)
	text := m.Text
	body := StripQuoted(text)
	if len(dropped) > 0 {
		note := "\n\n" + strings.Join(dropped, "\n")
		text, body = text+note, body+note
	}
	title := m.Subject
	if strings.TrimSpace(title) == "" {
		title = "(no subject)"
	}
	if text == "" {
		text = "(no text)"
	}
	if body == "" {
		body = text
	}
	requester := cases.Requester{Name: m.From.Name, Email: m.From.Email}
	sub := intake.Submission{
		Source: intake.Source{Channel: "email", Key: SourceKey, ExternalID: m.MessageID},
		Case: cases.CreateInput{Title: title, Description: text, Category: box.Category, Market: box.Market,
			Language: box.Language, Requester: &requester, Tags: box.Tags},
		Into:  into,
		Reply: intake.Reply{Body: body, From: requester},
		Then: func(ctx context.Context, tx *db.Tx, r *intake.Result) error {
			var commentID int64
			if r.Comment != nil {
				commentID = r.Comment.ID
			}
			if err := s.record(ctx, tx, m, r.Case.ID, commentID, from); err != nil {
				return err
			}
			if len(files) == 0 {
				return nil
			}
			saved, err := s.files.SaveAll(ctx, tx, attachments.Where{CaseID: r.Case.ID, CommentID: commentID, Source: "email"}, files)
			if err != nil {
				return err
			}
			entries := make([]cases.Entry, len(saved))
			for i, a := range saved {
				entries[i] = attachments.Entry(a)
			}
			return s.cases.AddEntries(ctx, tx, actor, r.Case.ID, s.clock.Now(), entries)
		},
	}
	res, err := s.intake.Submit(ctx, actor, sub)
	if err != nil {
		return nil, err
	}
	return &Received{Outcome: string(res.Outcome), Case: res.Case.Number}, nil
}

// Null reports whether the envelope has the null sender (MAIL FROM:<>).
func (e Envelope) Null() bool { return e.From == "" && len(e.To) > 0 }

var errNoMailbox = fmt.Errorf("no mailbox of the desk takes this mail: %w", apperr.ErrNotFound)

// thread finds the case a message answers: by the ids it refers to, most
// recent first, then by the case token in its subject when the sender is
// the case's requester. "" opens a new case.
func (s *Service) thread(ctx context.Context, m *Message) (string, error) {
	// In-Reply-To first; References run oldest first: walk them back.
	order := append(slices.Clone(m.InReplyTo), reversed(m.References)...)
	for _, id := range order {
		var number sql.NullInt64
		err := s.db.QueryRow(ctx, `SELECT c.number FROM mail_messages mm JOIN cases c ON c.id = mm.case_id
			WHERE mm.message_id = ? AND mm.case_id IS NOT NULL ORDER BY mm.id DESC LIMIT 1`, id).Scan(&number)
		if err == nil && number.Valid {
			return cases.NumberPrefix + fmt.Sprint(number.Int64), nil
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return "", fmt.Errorf("thread by message id: %w", err)
		}
		if ref, ok, err := s.intake.Seen(ctx, SourceKey, id); err != nil {
			return "", err
		} else if ok {
			return ref, nil
		}
	}
	if m.Token != "" {
		c, err := s.cases.Find(ctx, s.db, m.Token)
		if err == nil && strings.EqualFold(c.Requester.Email, m.From.Email) {
			return c.Number, nil
		}
	}
	return "", nil
}

func reversed(ids []string) []string {
	out := slices.Clone(ids)
	slices.Reverse(out)
	return out
}

// prepareFiles checks and stores a message's files before the
// transaction; those refused are named for the text instead.
func (s *Service) prepareFiles(ctx context.Context, parts []Part) ([]*attachments.File, []string) {
	var (
		files   []*attachments.File
		dropped []string
		total   int64
	)
	lim := s.files.Limits()
	for _, p := range parts {
		name := attachments.CleanName(p.Name)
		if len(files) >= lim.MaxFiles {
			dropped = append(dropped, fmt.Sprintf("[Attachment %q not kept: more than %d files]", name, lim.MaxFiles))
			continue
		}
		if total+int64(len(p.Data)) > lim.MaxMessage {
			dropped = append(dropped, fmt.Sprintf("[Attachment %q not kept: files larger than %s together]", name, attachments.HumanSize(lim.MaxMessage)))
			continue
		}
		f, err := s.files.Prepare(ctx, p.Name, p.ContentType, bytes.NewReader(p.Data))
		var rej *attachments.Rejected
		if errors.As(err, &rej) {
			dropped = append(dropped, fmt.Sprintf("[Attachment %q not kept: %s]", name, rej.Reason))
			continue
		}
		if err != nil {
			s.log.Error("mail: attachment", "name", name, "err", err)
			dropped = append(dropped, fmt.Sprintf("[Attachment %q not kept: it could not be stored]", name))
			continue
		}
		f.Inline, f.ContentID = p.Inline, p.ContentID
		files = append(files, f)
		total += f.Size
	}
	return files, dropped
}

// record keeps a received message's ids with its case.
func (s *Service) record(ctx context.Context, tx *db.Tx, m *Message, caseID, commentID int64, mailbox string) error {
	_, err := tx.Exec(ctx, `INSERT INTO mail_messages (direction, message_id, case_id, comment_id, mailbox, from_addr, to_addr,
		subject, in_reply_to, refs, state, created_at) VALUES ('in', ?, ?, ?, ?, ?, ?, ?, ?, ?, 'accepted', ?) ON CONFLICT DO NOTHING`,
		m.MessageID, caseID, db.NullID(commentID), mailbox, m.From.Email, strings.Join(m.To, ", "), m.Subject,
		strings.Join(m.InReplyTo, " "), strings.Join(m.References, " "), db.T(s.clock.Now()))
	if err != nil {
		return fmt.Errorf("record mail: %w", err)
	}
	return nil
}

// recordIgnored keeps an ignored message with the reason (once per id).
func (s *Service) recordIgnored(ctx context.Context, m *Message, mailbox string) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO mail_messages (direction, message_id, mailbox, from_addr, to_addr, subject,
			in_reply_to, refs, state, reason, created_at) VALUES ('in', ?, ?, ?, ?, ?, ?, ?, 'ignored', ?, ?) ON CONFLICT DO NOTHING`,
			m.MessageID, mailbox, m.From.Email, strings.Join(m.To, ", "), m.Subject, strings.Join(m.InReplyTo, " "),
			strings.Join(m.References, " "), m.Ignore, db.T(s.clock.Now()))
		if err != nil {
			return fmt.Errorf("record ignored mail: %w", err)
		}
		return nil
	})
}

// Ignored is a received message that opened nothing.
type Ignored struct {
	MessageID string `json:"message_id"`
	From      string `json:"from"`
	Subject   string `json:"subject"`
	Reason    string `json:"reason"`
}

// IgnoredMail lists the most recent ignored messages.
func (s *Service) IgnoredMail(ctx context.Context, limit int) ([]Ignored, error) {
	rows, err := s.db.Query(ctx, `SELECT message_id, from_addr, subject, reason FROM mail_messages
		WHERE direction = 'in' AND state = 'ignored' ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("ignored mail: %w", err)
	}
	return db.Collect(rows, func(r db.Scanner) (Ignored, error) {
		var i Ignored
		return i, r.Scan(&i.MessageID, &i.From, &i.Subject, &i.Reason)
	})
}
