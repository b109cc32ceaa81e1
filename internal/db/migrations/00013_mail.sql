-- Email (internal/mail): every message Flare received or sent for a case,
-- by Message-ID, so that replies thread back into their case, a repeated
-- Message-ID is recognised, and what was ignored (auto-replies, bounces,
-- bulk) is kept with its reason. Rendered per dialect like 00001_core.sql.
--
-- direction 'in': a received mail (case_id is null when it was ignored);
-- direction 'out': a public reply sent to the requester, keyed by the
-- event (case.replied) that caused it so that a redelivered event sends
-- nothing twice; state pending → sent.

-- +goose Up
CREATE TABLE mail_messages (
    id          {{.PK}},
    direction   TEXT NOT NULL,                  -- in | out
    message_id  TEXT NOT NULL,                  -- without angle brackets
    case_id     BIGINT REFERENCES cases (id),
    comment_id  BIGINT REFERENCES case_comments (id),
    event_id    TEXT,                           -- out: the case.replied event
    mailbox     TEXT NOT NULL DEFAULT '',       -- the desk's address it came to or went from
    from_addr   TEXT NOT NULL DEFAULT '',
    to_addr     TEXT NOT NULL DEFAULT '',
    subject     TEXT NOT NULL DEFAULT '',
    in_reply_to TEXT NOT NULL DEFAULT '',
    refs        TEXT NOT NULL DEFAULT '',       -- References, space-separated
    state       TEXT NOT NULL,                  -- in: accepted | ignored; out: pending | sent
    reason      TEXT NOT NULL DEFAULT '',       -- ignored: auto_reply, bounce, bulk, …
    created_at  {{.TS}} NOT NULL,
    sent_at     {{.TS}},
    UNIQUE (direction, message_id)
);
CREATE UNIQUE INDEX mail_messages_event ON mail_messages (event_id);
CREATE INDEX mail_messages_case ON mail_messages (case_id, id);

-- +goose Down
DROP TABLE IF EXISTS mail_messages;
