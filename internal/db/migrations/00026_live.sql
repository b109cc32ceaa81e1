-- Live screens (internal/live) and per-user preferences (internal/prefs).
-- live_presence is who has a case open: one row per open stream, touched
-- by the stream's heartbeat and removed when it closes, so every node on
-- one database sees the same viewers (a row a crashed node left behind
-- ages out). user_prefs holds a user's display settings: the time zone
-- every time is shown in ('' : the browser's).
-- Rendered per dialect like 00001_core.sql.

-- +goose Up
CREATE TABLE live_presence (
    conn     TEXT PRIMARY KEY,          -- the stream's random id
    case_id  BIGINT NOT NULL,
    user_id  BIGINT NOT NULL,
    name     TEXT NOT NULL,
    seen_at  {{.TS}} NOT NULL
);
CREATE INDEX live_presence_case ON live_presence (case_id, seen_at);

CREATE TABLE user_prefs (
    user_id    BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    time_zone  TEXT NOT NULL DEFAULT '',
    updated_at {{.TS}} NOT NULL
);

-- +goose Down
DROP TABLE user_prefs;
DROP TABLE live_presence;
