-- Intake (internal/intake): every channel's submissions pass one funnel.
-- intake_receipts remembers what each source sent, keyed by the sender's
-- own id (a Message-ID, a webhook's external id, an alert group's key), so
-- a repeated delivery finds the case it made and makes nothing; it is
-- written in the transaction that makes or changes that case.
-- case_links records repeat contacts: a case from the same requester, or
-- about the same seller and category, while another is open.
-- The comment columns belong to internal/cases: a reply written by the
-- requester outside Flare (a mail), kept with who wrote it.
-- Rendered per dialect like 00001_core.sql.

-- +goose Up
CREATE TABLE intake_receipts (
    source_key  TEXT NOT NULL,               -- email, webhook:<key>, alertmanager:<key>, portal, csv
    external_id TEXT NOT NULL,
    case_id     BIGINT NOT NULL REFERENCES cases (id),
    outcome     TEXT NOT NULL,               -- created | appended | repeat_linked
    created_at  {{.TS}} NOT NULL,
    PRIMARY KEY (source_key, external_id)
);
CREATE INDEX intake_receipts_case ON intake_receipts (case_id);

CREATE TABLE case_links (
    id         {{.PK}},
    case_id    BIGINT NOT NULL REFERENCES cases (id), -- the later contact
    other_id   BIGINT NOT NULL REFERENCES cases (id), -- the open case it repeats
    kind       TEXT NOT NULL,                         -- repeat
    reason     TEXT NOT NULL,                         -- requester | seller_category
    created_at {{.TS}} NOT NULL,
    UNIQUE (case_id, other_id, kind)
);
CREATE INDEX case_links_other ON case_links (other_id);

-- Repeat contacts by requester: that requester's latest cases.
CREATE INDEX cases_requester ON cases (requester_email, created_at);

-- A case's count of later contacts linked to it as repeats (internal/cases
-- keeps it; it raises the priority through the repeat-contacts factor).
ALTER TABLE cases ADD COLUMN repeat_contacts INTEGER NOT NULL DEFAULT 0;

ALTER TABLE case_comments ADD COLUMN from_name TEXT NOT NULL DEFAULT '';
ALTER TABLE case_comments ADD COLUMN from_email TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE case_comments DROP COLUMN from_email;
ALTER TABLE case_comments DROP COLUMN from_name;
ALTER TABLE cases DROP COLUMN repeat_contacts;
DROP INDEX IF EXISTS cases_requester;
DROP TABLE IF EXISTS case_links;
DROP TABLE IF EXISTS intake_receipts;
