package notify

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/flare-desk/flare/internal/db"
)

// QueueMail writes m to the delivery outbox in tx, for a capability's own
// mail (the review packs, internal/reviews): the notify timer sends it with
// the retries and the delivery log of every other mail. key identifies
// what the mail is about (one row per key and recipient: a re-run adds
// nothing); kind names it in the log. m.MessageID is set here.
func (s *Service) QueueMail(ctx context.Context, tx *db.Tx, key, kind string, m Mail) error {
	_, set, err := s.settings(ctx)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	m.MessageID = messageID(key, m.To, domainOf(emailFrom(set)))
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("notify: mail: %w", err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO notify_deliveries (event_id, event_type, event_at, channel, recipient, kind, message_id, payload,
		next_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id, channel, recipient) DO NOTHING`,
		key, kind, db.T(now), string(Email), m.To, kind, m.MessageID, string(b), db.T(now), db.T(now), db.T(now))
	if err != nil {
		return fmt.Errorf("notify: queue mail: %w", err)
	}
	s.timer.AfterCommit(tx, now)
	return nil
}
