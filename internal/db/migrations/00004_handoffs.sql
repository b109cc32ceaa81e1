-- Handoffs between teams (internal/cases/handoff.go): a case's owner asks
-- another team to do a piece of work, with its own due time; the owner keeps
-- the case. Rendered per dialect like 00001_core.sql.

-- +goose Up
CREATE TABLE handoffs (
    id             {{.PK}},
    case_id        BIGINT NOT NULL REFERENCES cases (id),
    from_team      TEXT NOT NULL,          -- the case's team when it was asked
    to_team        TEXT NOT NULL,          -- the team asked
    requested_by   BIGINT REFERENCES users (id),
    request        TEXT NOT NULL,
    due_at         {{.TS}} NOT NULL,
    hold           {{.Bool}} NOT NULL DEFAULT TRUE, -- keeps the case pending_internal while open
    status         TEXT NOT NULL,          -- open | accepted | completed | declined | cancelled
    accepted_by    BIGINT REFERENCES users (id),
    accepted_at    {{.TS}},
    answer         TEXT NOT NULL DEFAULT '', -- the latest answer (every answer is on the case timeline)
    answered_by    BIGINT REFERENCES users (id),
    answered_at    {{.TS}},
    decline_reason TEXT NOT NULL DEFAULT '',
    closed_by      BIGINT REFERENCES users (id),
    closed_at      {{.TS}},
    -- News for the case's owner (an answer, completion or decline) and when
    -- the owner read it: the "answered on my cases" count.
    news_at        {{.TS}},
    read_at        {{.TS}},
    created_at     {{.TS}} NOT NULL,
    updated_at     {{.TS}} NOT NULL
);
-- A team's handoff queue: its open and accepted handoffs by due time.
CREATE INDEX handoffs_team_queue ON handoffs (to_team, status, due_at, id);
-- A case's handoffs.
CREATE INDEX handoffs_case ON handoffs (case_id, id);
-- Wait-time reports over a period.
CREATE INDEX handoffs_created ON handoffs (created_at);

-- +goose Down
DROP TABLE IF EXISTS handoffs;
