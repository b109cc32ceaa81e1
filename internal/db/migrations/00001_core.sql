-- Flare's core schema. This file is a Go text/template rendered per dialect
-- (see migrate.go): {{"{{"}}.PK{{"}}"}}, {{"{{"}}.TS{{"}}"}}, {{"{{"}}.JSON{{"}}"}} and {{"{{"}}.Bool{{"}}"}} become the dialect's types; the few
-- truly different statements sit in {{"{{"}}if .SQLite{{"}}"}} blocks.

-- +goose Up
CREATE TABLE desk_config (
    version    {{.PK}},
    doc        {{.JSON}} NOT NULL,
    applied_at {{.TS}} NOT NULL,
    applied_by BIGINT
);

CREATE TABLE users (
    id            {{.PK}},
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT,
    markets       {{.JSON}} NOT NULL DEFAULT '[]',
    languages     {{.JSON}} NOT NULL DEFAULT '[]',
    active        {{.Bool}} NOT NULL DEFAULT TRUE,
    created_at    {{.TS}} NOT NULL,
    updated_at    {{.TS}} NOT NULL
);

CREATE TABLE team_members (
    team    TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (team, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE sellers (
    id              {{.PK}},
    external_id     TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    market          TEXT NOT NULL,
    tier            INTEGER NOT NULL,
    account_manager TEXT NOT NULL DEFAULT '',
    risk_flags      {{.JSON}} NOT NULL DEFAULT '[]',
    active          {{.Bool}} NOT NULL DEFAULT TRUE
);

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    created_at   {{.TS}} NOT NULL,
    expires_at   {{.TS}} NOT NULL,
    last_seen_at {{.TS}} NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           {{.PK}},
    user_id      BIGINT NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL DEFAULT '',
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   {{.TS}} NOT NULL,
    last_used_at {{.TS}},
    revoked_at   {{.TS}}
);

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
-- Case numbers: a counter row on SQLite (one writer anyway), a sequence on
-- PostgreSQL so concurrent creates do not queue on one row lock.
{{if .SQLite}}INSERT INTO counters (name, value) VALUES ('case_number', 0);{{else}}CREATE SEQUENCE case_number_seq;{{end}}

CREATE TABLE cases (
    id                {{.PK}},
    number            BIGINT NOT NULL UNIQUE,
    title             TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    category          TEXT NOT NULL,
    channel           TEXT NOT NULL,
    market            TEXT NOT NULL,
    language          TEXT NOT NULL DEFAULT '',
    seller_id         TEXT,
    requester_name    TEXT NOT NULL DEFAULT '',
    requester_email   TEXT NOT NULL DEFAULT '',
    priority          TEXT NOT NULL,
    priority_reasons  {{.JSON}} NOT NULL DEFAULT '[]',
    high_risk         {{.Bool}} NOT NULL DEFAULT FALSE,
    sensitivity       TEXT NOT NULL DEFAULT 'normal',
    status            TEXT NOT NULL,
    owner_id          BIGINT REFERENCES users (id),
    team              TEXT NOT NULL,
    escalation_level  INTEGER NOT NULL DEFAULT 1,
    tags              {{.JSON}} NOT NULL DEFAULT '[]',
    fields            {{.JSON}} NOT NULL DEFAULT '{}',
    resolution        TEXT NOT NULL DEFAULT '',
    resolution_note   TEXT NOT NULL DEFAULT '',
    reopen_count      INTEGER NOT NULL DEFAULT 0,
    created_by        BIGINT REFERENCES users (id),
    created_at        {{.TS}} NOT NULL,
    updated_at        {{.TS}} NOT NULL,
    first_response_at {{.TS}},
    resolved_at       {{.TS}},
    closed_at         {{.TS}}
);
-- Queues: a team's cases by priority then age, with or without a status filter.
CREATE INDEX cases_team_queue ON cases (team, priority, created_at, id);
CREATE INDEX cases_team_status_queue ON cases (team, status, priority, created_at, id);
CREATE INDEX cases_created ON cases (created_at, id);
CREATE INDEX cases_updated ON cases (updated_at, id);
CREATE INDEX cases_status ON cases (status, priority, created_at, id);
CREATE INDEX cases_owner ON cases (owner_id, status);
CREATE INDEX cases_seller ON cases (seller_id, created_at);

CREATE TABLE case_watchers (
    case_id BIGINT NOT NULL REFERENCES cases (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (case_id, user_id)
);

CREATE TABLE case_comments (
    id         {{.PK}},
    case_id    BIGINT NOT NULL REFERENCES cases (id),
    author_id  BIGINT REFERENCES users (id),
    body       TEXT NOT NULL,
    internal   {{.Bool}} NOT NULL,
    created_at {{.TS}} NOT NULL
);
CREATE INDEX case_comments_case ON case_comments (case_id, id);

CREATE TABLE case_events (
    id         {{.PK}},
    case_id    BIGINT NOT NULL REFERENCES cases (id),
    actor_id   BIGINT REFERENCES users (id),
    type       TEXT NOT NULL,
    data       {{.JSON}} NOT NULL DEFAULT '{}',
    created_at {{.TS}} NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, id);

CREATE TABLE idempotency_keys (
    user_id      BIGINT NOT NULL,
    key          TEXT NOT NULL,
    method       TEXT NOT NULL,
    path         TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         TEXT NOT NULL,
    created_at   {{.TS}} NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          {{.TS}} NOT NULL,
    actor_id    BIGINT,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    before      TEXT, -- canonical JSON, kept byte for byte as hashed
    after       TEXT,
    request_id  TEXT NOT NULL DEFAULT '',
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_object ON audit_log (object_type, object_id, seq);

CREATE TABLE desk_snapshots (
    day      TEXT PRIMARY KEY,
    taken_at {{.TS}} NOT NULL,
    data     {{.JSON}} NOT NULL
);

{{if .SQLite -}}
-- Full-text search over title and description. The index is brought up to
-- date in batches by internal/cases (search.go) rather than by triggers on
-- every insert, which would flush FTS5's segments inside every write:
-- search_upto is the last case id indexed, and search_pending keeps the
-- indexed text of cases whose text changed since.
CREATE VIRTUAL TABLE cases_fts USING fts5 (
    title, description, content = 'cases', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO counters (name, value) VALUES ('search_upto', 0);
CREATE TABLE search_pending (
    case_id     INTEGER PRIMARY KEY,
    title       TEXT NOT NULL,
    description TEXT NOT NULL
);
-- +goose StatementBegin
CREATE TRIGGER cases_search_changed AFTER UPDATE OF title, description ON cases
    WHEN old.title IS NOT new.title OR old.description IS NOT new.description BEGIN
    INSERT OR IGNORE INTO search_pending (case_id, title, description) VALUES (old.id, old.title, old.description);
END;
-- +goose StatementEnd
{{- else -}}
-- Full-text search over title and description ('simple': the desk is multilingual).
ALTER TABLE cases ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', title || ' ' || description)) STORED;
CREATE INDEX cases_search ON cases USING gin (search);
{{- end}}

-- +goose Down
DROP TABLE IF EXISTS desk_snapshots;
DROP TABLE IF EXISTS audit_log;
DROP TABLE IF EXISTS idempotency_keys;
DROP TABLE IF EXISTS case_events;
DROP TABLE IF EXISTS case_comments;
DROP TABLE IF EXISTS case_watchers;
{{if .SQLite}}DROP TABLE IF EXISTS search_pending;
DROP TABLE IF EXISTS cases_fts;{{end}}
DROP TABLE IF EXISTS cases;
DROP TABLE IF EXISTS counters;
{{if .Postgres}}DROP SEQUENCE IF EXISTS case_number_seq;{{end}}
DROP TABLE IF EXISTS api_tokens;
DROP TABLE IF EXISTS sessions;
DROP TABLE IF EXISTS sellers;
DROP TABLE IF EXISTS team_members;
DROP TABLE IF EXISTS users;
DROP TABLE IF EXISTS desk_config;
