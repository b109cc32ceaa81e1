-- On-call (internal/oncall): overrides made in the API and UI (a person
-- covers a team's on-call for a span; the desk document holds the
-- schedules and any standing overrides), and the teams' calendar feeds,
-- whose secret tokens are stored hashed. Rendered per dialect like
-- 00001_core.sql.

-- +goose Up
CREATE TABLE oncall_overrides (
    id           {{.PK}},
    team         TEXT NOT NULL,
    user_id      BIGINT NOT NULL REFERENCES users (id), -- who covers
    starts_at    {{.TS}} NOT NULL,
    ends_at      {{.TS}} NOT NULL,       -- moved to the moment it was ended early
    reason       TEXT NOT NULL DEFAULT '',
    created_by   BIGINT REFERENCES users (id),
    created_at   {{.TS}} NOT NULL,
    cancelled_at {{.TS}},                -- a future override withdrawn: it never applied
    cancelled_by BIGINT REFERENCES users (id)
);
-- A team's overrides over a range: who is on call now, the next weeks.
CREATE INDEX oncall_overrides_team ON oncall_overrides (team, ends_at, starts_at);

CREATE TABLE oncall_feeds (
    id         {{.PK}},
    team       TEXT NOT NULL,
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,     -- SHA-256 of the token: a leak of the store hands out no feed
    created_by BIGINT NOT NULL REFERENCES users (id), -- the feed reads with this person's rights
    created_at {{.TS}} NOT NULL,
    revoked_at {{.TS}},
    revoked_by BIGINT REFERENCES users (id)
);
CREATE INDEX oncall_feeds_team ON oncall_feeds (team, id);

-- +goose Down
DROP TABLE IF EXISTS oncall_feeds;
DROP TABLE IF EXISTS oncall_overrides;
