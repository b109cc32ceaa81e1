-- Assignment (internal/cases/assignment.go): who is away, when each agent
-- last got a case, where each team's round-robin stands, and the index that
-- take-next reads: the team's unassigned workable cases in priority order.

-- +goose Up
CREATE TABLE agent_status (
    user_id          BIGINT PRIMARY KEY REFERENCES users (id),
    away             {{.Bool}} NOT NULL DEFAULT FALSE,
    away_note        TEXT NOT NULL DEFAULT '',
    away_until       {{.TS}},
    last_assigned_at {{.TS}},
    updated_at       {{.TS}} NOT NULL
);

CREATE TABLE team_rotation (
    team         TEXT PRIMARY KEY,
    last_user_id BIGINT REFERENCES users (id),
    updated_at   {{.TS}} NOT NULL
);

CREATE INDEX cases_unassigned ON cases (team, priority, created_at, id)
    WHERE owner_id IS NULL AND status IN ('new', 'open');

-- +goose Down
DROP INDEX IF EXISTS cases_unassigned;
DROP TABLE IF EXISTS team_rotation;
DROP TABLE IF EXISTS agent_status;
