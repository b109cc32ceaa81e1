-- Attachments (internal/attachments): files on a case, from a requester's
-- mail, the portal or an agent's upload. Rendered per dialect like
-- 00001_core.sql.
--
-- A file's bytes are in content when it is small (stored = 'db') or in the
-- attachments directory under its SHA-256 (stored = 'disk'; written before
-- the transaction that adds the row, so a row never names a missing file;
-- the same bytes are stored once). content_type is what Flare sniffed and
-- allowed, declared_type what the sender said. internal: on the desk's
-- side only (account managers never see it).

-- +goose Up
CREATE TABLE attachments (
    id            {{.PK}},
    case_id       BIGINT NOT NULL REFERENCES cases (id),
    comment_id    BIGINT REFERENCES case_comments (id),
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    declared_type TEXT NOT NULL DEFAULT '',
    size          BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    stored        TEXT NOT NULL,                 -- db | disk
    content       {{if .Postgres}}BYTEA{{else}}BLOB{{end}}, -- stored = 'db'
    inline        {{.Bool}} NOT NULL DEFAULT FALSE, -- an inline image of a mail
    content_id    TEXT NOT NULL DEFAULT '',      -- its Content-ID, for inline images
    internal      {{.Bool}} NOT NULL DEFAULT FALSE,
    source        TEXT NOT NULL DEFAULT '',      -- email | upload | portal
    uploaded_by   BIGINT REFERENCES users (id),
    created_at    {{.TS}} NOT NULL
);
CREATE INDEX attachments_case ON attachments (case_id, id);
CREATE INDEX attachments_sha ON attachments (sha256);

-- +goose Down
DROP TABLE IF EXISTS attachments;
