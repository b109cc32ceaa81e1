-- Domain events (internal/events): the outbox of durable subscribers.
-- An event is stored once in events; each durable subscriber that wants it
-- gets a row in event_deliveries, written in the same transaction as the
-- change. A delivered row is deleted; a row that failed too often is kept
-- as 'dead' for an admin to see and replay. Events are pruned after their
-- retention once nothing waits on them.

-- +goose Up
CREATE TABLE events (
    seq        {{.PK}},
    id         TEXT NOT NULL UNIQUE,   -- the event's id (UUIDv7): subscribers deduplicate by it
    type       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    stream     TEXT NOT NULL,          -- ordering key: "case:42"
    at         {{.TS}} NOT NULL,
    data       {{.JSON}} NOT NULL      -- the whole event as JSON
);
CREATE INDEX events_at ON events (at);

CREATE TABLE event_deliveries (
    id          {{.PK}},
    subscriber  TEXT NOT NULL,
    event_seq   BIGINT NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
    stream      TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending', -- pending | dead
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     {{.TS}} NOT NULL,       -- due again at (a claim leases the row by moving it ahead)
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  {{.TS}} NOT NULL,
    updated_at  {{.TS}} NOT NULL
);
-- A subscriber's pending rows in event order (the claim) and per stream
-- (the earlier-undelivered check that keeps a case's events in order).
CREATE INDEX event_deliveries_claim ON event_deliveries (subscriber, event_seq) WHERE state = 'pending';
CREATE INDEX event_deliveries_stream ON event_deliveries (subscriber, stream, event_seq) WHERE state = 'pending';
CREATE INDEX event_deliveries_dead ON event_deliveries (subscriber, id) WHERE state = 'dead';
CREATE INDEX event_deliveries_event ON event_deliveries (event_seq);

-- +goose Down
DROP TABLE IF EXISTS event_deliveries;
DROP TABLE IF EXISTS events;
