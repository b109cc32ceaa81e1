-- Notifications (internal/notify): the in-app bell, the outgoing email and
-- webhook deliveries with their attempt log, webhook subscriptions and each
-- user's preferences. Rendered per dialect like 00001_core.sql.
--
-- The durable subscriber "notify" turns each event into rows here, in one
-- transaction, keyed so that a redelivered event adds nothing: a
-- notification per (user, event), a delivery per (event, channel,
-- recipient). A delivery is due at next_at (an indexed instant the notify
-- timer sleeps to: now, a retry's back-off, or the end of the recipient's
-- quiet hours) and is sent until it succeeds; what was sent is never sent
-- again unless an admin replays it.

-- +goose Up
CREATE TABLE notifications (
    id          {{.PK}},
    user_id     BIGINT NOT NULL REFERENCES users (id),
    event_id    TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    kind        TEXT NOT NULL,           -- assigned, mention, sla_breach… (notify.Kind)
    case_id     BIGINT,
    case_number TEXT NOT NULL DEFAULT '',
    title       TEXT NOT NULL,
    body        TEXT NOT NULL DEFAULT '',
    created_at  {{.TS}} NOT NULL,
    read_at     {{.TS}},
    UNIQUE (user_id, event_id)
);
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;

CREATE TABLE notify_webhooks (
    id                 {{.PK}},
    name               TEXT NOT NULL,
    url                TEXT NOT NULL,
    format             TEXT NOT NULL,              -- json | slack | teams
    event_types        {{.JSON}} NOT NULL DEFAULT '[]', -- empty: every type
    secret             TEXT NOT NULL,              -- the HMAC key (it must be kept to sign)
    include_restricted {{.Bool}} NOT NULL DEFAULT FALSE,
    active             {{.Bool}} NOT NULL DEFAULT TRUE,
    created_by         BIGINT REFERENCES users (id),
    created_at         {{.TS}} NOT NULL,
    updated_at         {{.TS}} NOT NULL
);

CREATE TABLE notify_deliveries (
    id              {{.PK}},
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    event_at        {{.TS}} NOT NULL,
    channel         TEXT NOT NULL,                 -- email | webhook
    recipient       TEXT NOT NULL,                 -- an email address, or webhook:<id>
    user_id         BIGINT REFERENCES users (id),  -- email: whose
    webhook_id      BIGINT REFERENCES notify_webhooks (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL DEFAULT '',
    case_id         BIGINT,
    message_id      TEXT NOT NULL DEFAULT '',      -- email: its Message-ID (threading)
    payload         {{.JSON}} NOT NULL,            -- what is sent: the composed mail, or the webhook body
    state           TEXT NOT NULL DEFAULT 'pending', -- pending | sent | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_at         {{.TS}} NOT NULL,              -- due (a claim leases it by moving it ahead)
    held_until      {{.TS}},                       -- quiet hours held it until then
    sent_at         {{.TS}},
    last_status     INTEGER NOT NULL DEFAULT 0,    -- the last answer's status (HTTP, or SMTP reply code)
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      {{.TS}} NOT NULL,
    updated_at      {{.TS}} NOT NULL,
    UNIQUE (event_id, channel, recipient)
);
CREATE INDEX notify_deliveries_due ON notify_deliveries (next_at) WHERE state = 'pending';
CREATE INDEX notify_deliveries_webhook ON notify_deliveries (webhook_id, id);
CREATE INDEX notify_deliveries_thread ON notify_deliveries (case_id, recipient, id) WHERE channel = 'email';
CREATE INDEX notify_deliveries_sent ON notify_deliveries (sent_at) WHERE state = 'sent';

CREATE TABLE notify_attempts (
    id          {{.PK}},
    delivery_id BIGINT NOT NULL REFERENCES notify_deliveries (id) ON DELETE CASCADE,
    at          {{.TS}} NOT NULL,
    status      INTEGER NOT NULL DEFAULT 0,        -- HTTP status or SMTP reply code; 0: no answer
    duration_us BIGINT NOT NULL,
    error       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX notify_attempts_delivery ON notify_attempts (delivery_id, id);

CREATE TABLE notify_preferences (
    user_id    BIGINT PRIMARY KEY REFERENCES users (id),
    data       {{.JSON}} NOT NULL,
    updated_at {{.TS}} NOT NULL
);

-- +goose Down
DROP TABLE IF EXISTS notify_preferences;
DROP TABLE IF EXISTS notify_attempts;
DROP TABLE IF EXISTS notify_deliveries;
DROP TABLE IF EXISTS notify_webhooks;
DROP TABLE IF EXISTS notifications;
