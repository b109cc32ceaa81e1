package mail

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	netmail "net/mail"
	"regexp"
	"strings"

	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/notify"
)

// Subscriber is mail's durable subscriber name in the outbox.
const Subscriber = "mail"

// Register subscribes the service to public replies, durably.
func (s *Service) Register(bus *events.Bus) {
	bus.Subscribe(Subscriber, s.HandleReply, events.SubscriberOptions{Types: []events.Type{events.CaseReplied}})
}

// thread is what Flare knows of a case's mail: the mailbox it came to, the
// original subject and the requester's last message.
type thread struct {
	mailbox, subject, lastID string
	refs                     []string
}

// HandleReply sends a public reply written by a Flare user on a case that
// came in by mail to its requester. At least once: the reply's row is keyed
// by the event, so a redelivered event whose mail was sent sends nothing,
// and one that failed sends the same Message-ID again.
func (s *Service) HandleReply(ctx context.Context, e events.Event) error {
	cm, ok := e.Data.(*events.Comment)
	if !ok || cm.Internal || e.Case == nil || e.Actor.ID == 0 {
		return nil // an internal note, or Flare itself (a requester's own mail appended)
	}
	var (
		body, fromEmail string
		author          sql.NullInt64
	)
	err := s.db.QueryRow(ctx, `SELECT body, from_email, author_id FROM case_comments WHERE id = ? AND case_id = ?`,
		cm.CommentID, e.Case.ID).Scan(&body, &fromEmail, &author)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reply comment: %w", err)
	}
	if fromEmail != "" || !author.Valid {
		return nil // written by the requester outside Flare
	}
	th, ok, err := s.threadOf(ctx, e.Case.ID)
	if err != nil || !ok {
		return err // not a case that came by mail: nobody to answer
	}
	c, err := s.cases.Find(ctx, s.db, e.Case.Number)
	if err != nil {
		return err
	}
	to := c.Requester.Email
	if to == "" {
		return nil
	}
	mid := replyID(e.ID, th.mailbox)
	var state string
	err = s.db.QueryRow(ctx, `SELECT state FROM mail_messages WHERE event_id = ?`, e.ID).Scan(&state)
	switch {
	case err == nil && state == "sent":
		return nil
	case errors.Is(err, sql.ErrNoRows):
		err = s.db.InTx(ctx, func(tx *db.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO mail_messages (direction, message_id, case_id, comment_id, event_id, mailbox,
				from_addr, to_addr, subject, in_reply_to, refs, state, created_at)
				VALUES ('out', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT DO NOTHING`,
				mid, c.ID, cm.CommentID, e.ID, th.mailbox, th.mailbox, to, replySubject(th.subject, c.Number), th.lastID,
				strings.Join(th.refs, " "), db.T(s.clock.Now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("record reply: %w", err)
		}
	case err != nil:
		return fmt.Errorf("reply state: %w", err)
	}
	mailer, err := s.notify.Mailer(ctx)
	if err != nil {
		return err
	}
	if mailer == nil {
		s.log.Warn("mail: email is not set up (notifications.email); reply not sent", "case", c.Number, "to", to)
		return nil
	}
	set, err := s.settings(ctx)
	if err != nil {
		return err
	}
	from := th.mailbox
	if box, ok := set.Find(th.mailbox); ok && box.Name != "" {
		from = (&netmail.Address{Name: box.Name, Address: th.mailbox}).String()
	}
	m := notify.Mail{To: to, ToName: c.Requester.Name, Subject: replySubject(th.subject, c.Number), Text: body,
		MessageID: mid, InReplyTo: th.lastID, References: th.refs, Case: c.Number, From: from, Personal: true}
	if _, err := mailer.Send(ctx, m); err != nil {
		return fmt.Errorf("send reply on %s: %w", c.Number, err)
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE mail_messages SET state = 'sent', sent_at = ? WHERE event_id = ?`, db.T(s.clock.Now()), e.ID)
		return err
	})
}

// threadOf reads a case's mail thread: the first received message's
// mailbox and subject, the requester's last message and the references
// that chain to it.
func (s *Service) threadOf(ctx context.Context, caseID int64) (thread, bool, error) {
	var th thread
	err := s.db.QueryRow(ctx, `SELECT mailbox, subject FROM mail_messages WHERE case_id = ? AND direction = 'in'
		ORDER BY id LIMIT 1`, caseID).Scan(&th.mailbox, &th.subject)
	if errors.Is(err, sql.ErrNoRows) {
		return th, false, nil
	}
	if err != nil {
		return th, false, fmt.Errorf("mail thread: %w", err)
	}
	var refs string
	err = s.db.QueryRow(ctx, `SELECT message_id, refs, in_reply_to FROM mail_messages WHERE case_id = ? AND direction = 'in'
		ORDER BY id DESC LIMIT 1`, caseID).Scan(&th.lastID, &refs, new(string))
	if err != nil {
		return th, false, fmt.Errorf("mail thread: %w", err)
	}
	th.refs = append(strings.Fields(refs), th.lastID)
	if len(th.refs) > 20 { // the first and the most recent, as RFC 5322 suggests
		th.refs = append(th.refs[:1], th.refs[len(th.refs)-19:]...)
	}
	return th, true, nil
}

var rePrefix = regexp.MustCompile(`(?i)^\s*((re|aw|sv|fw|fwd|wg)\s*:\s*)+`)

// replySubject is "Re: <original subject> [ESC-1042]".
func replySubject(subject, number string) string {
	subject = strings.TrimSpace(rePrefix.ReplaceAllString(subject, ""))
	token := "[" + number + "]"
	subject = strings.TrimSpace(strings.ReplaceAll(subject, token, ""))
	if subject == "" {
		return "Re: " + token
	}
	return "Re: " + subject + " " + token
}

// replyID is the Message-ID of the reply an event sends: stable, so a
// re-send is recognisably the same mail.
func replyID(eventID, mailbox string) string {
	dom := "flare.invalid"
	if _, d, ok := strings.Cut(mailbox, "@"); ok && d != "" {
		dom = d
	}
	return "reply-" + eventID + "@" + dom
}
