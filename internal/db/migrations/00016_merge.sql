-- Case merges (internal/merge): an agent merges case B into case A; B's
-- timeline is copied into A's, B is closed with resolution "merged" and a
-- pointer to A, and B's requester becomes a known requester of A. One row
-- per merged case. Rendered per dialect like 00001_core.sql.

-- +goose Up
CREATE TABLE case_merges (
    id              {{.PK}},
    case_id         BIGINT NOT NULL REFERENCES cases (id), -- B, the case merged (closed)
    into_id         BIGINT NOT NULL REFERENCES cases (id), -- A, the case it was merged into
    reason          TEXT NOT NULL,
    actor_id        BIGINT REFERENCES users (id),
    requester_name  TEXT NOT NULL DEFAULT '',              -- B's requester, now known on A
    requester_email TEXT NOT NULL DEFAULT '',
    entries         INTEGER NOT NULL,                      -- B's timeline entries copied into A
    created_at      {{.TS}} NOT NULL
);
-- A case is merged once.
CREATE UNIQUE INDEX case_merges_case ON case_merges (case_id);
-- The cases merged into a case.
CREATE INDEX case_merges_into ON case_merges (into_id, id);

-- +goose Down
DROP TABLE IF EXISTS case_merges;
