-- Problems and category suggestions (internal/problems, internal/suggest).
-- Rendered per dialect like 00001_core.sql.
--
-- similar_docs is what the similar-cases index knows of each case (its
-- text's terms, category, seller, carrier, tags, open or not), written by
-- the durable subscriber "problems.similar" from case events; each process
-- loads it into memory at start and follows it by indexed_at.
-- problems are repeat issues under investigation; problem_cases links
-- cases to them (a case belongs to at most one problem).
-- suggest_models keeps each trained category model's training set (the
-- model is rebuilt from it, deterministically, after a restart) and
-- suggest_corrections the agents' corrections of a case's category, which
-- the next training takes as the case's label.

-- +goose Up
CREATE TABLE similar_docs (
    case_id    BIGINT PRIMARY KEY REFERENCES cases (id),
    number     TEXT NOT NULL,
    title      TEXT NOT NULL,
    category   TEXT NOT NULL,
    seller     TEXT NOT NULL DEFAULT '',
    carrier    TEXT NOT NULL DEFAULT '',
    tags       TEXT NOT NULL DEFAULT '[]',   -- JSON array
    terms      TEXT NOT NULL DEFAULT '{}',   -- JSON object: term → count
    is_open    {{.Bool}} NOT NULL,
    created_at {{.TS}} NOT NULL,
    indexed_at {{.TS}} NOT NULL
);
CREATE INDEX similar_docs_indexed ON similar_docs (indexed_at);

CREATE TABLE problems (
    id              {{.PK}},
    title           TEXT NOT NULL,
    root_cause      TEXT NOT NULL DEFAULT '',
    owner_id        BIGINT REFERENCES users (id),
    status          TEXT NOT NULL,             -- investigating | known_error | fix_in_progress | resolved
    action          TEXT NOT NULL DEFAULT '',  -- the improvement action
    action_owner_id BIGINT REFERENCES users (id),
    action_due      TEXT NOT NULL DEFAULT '',  -- YYYY-MM-DD
    created_by      BIGINT REFERENCES users (id),
    created_at      {{.TS}} NOT NULL,
    updated_at      {{.TS}} NOT NULL,
    resolved_at     {{.TS}}
);
CREATE INDEX problems_status ON problems (status, updated_at);
CREATE INDEX problems_created ON problems (created_at);
CREATE INDEX problems_resolved ON problems (resolved_at);

CREATE TABLE problem_cases (
    problem_id BIGINT NOT NULL REFERENCES problems (id),
    case_id    BIGINT NOT NULL UNIQUE REFERENCES cases (id),
    linked_by  BIGINT REFERENCES users (id),
    linked_at  {{.TS}} NOT NULL,
    PRIMARY KEY (problem_id, case_id)
);

CREATE TABLE suggest_models (
    id         {{.PK}},
    trained_at {{.TS}} NOT NULL,
    examples   TEXT NOT NULL,                  -- JSON: [{"text": …, "category": …}]
    n          INTEGER NOT NULL,
    classes    INTEGER NOT NULL,
    accuracy   DOUBLE PRECISION NOT NULL DEFAULT 0 -- on its held-out tenth, when it had enough examples
);

CREATE TABLE suggest_corrections (
    case_id       BIGINT PRIMARY KEY REFERENCES cases (id),
    suggested     TEXT NOT NULL DEFAULT '',   -- what the model suggested, if it did
    from_category TEXT NOT NULL,
    to_category   TEXT NOT NULL,
    accepted      {{.Bool}} NOT NULL,         -- the agent took the suggestion
    by_id         BIGINT REFERENCES users (id),
    at            {{.TS}} NOT NULL
);

-- +goose Down
DROP TABLE IF EXISTS suggest_corrections;
DROP TABLE IF EXISTS suggest_models;
DROP TABLE IF EXISTS problem_cases;
DROP TABLE IF EXISTS problems;
DROP TABLE IF EXISTS similar_docs;
