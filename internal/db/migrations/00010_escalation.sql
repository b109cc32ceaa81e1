-- Escalations (internal/escalation): a case escalated under a policy of the
-- desk (escalation_policies) or by hand. The row is the escalation's state:
-- the policy step now waiting for an acknowledgement, the people it asks,
-- and its deadline. due_at is the durable schedule of the escalation timer
-- (internal/deadline): set while a step waits, NULL once acknowledged,
-- closed, or when the step has no deadline (the fallback). Rendered per
-- dialect like 00001_core.sql.

-- +goose Up
CREATE TABLE escalations (
    id              {{.PK}},
    case_id         BIGINT NOT NULL REFERENCES cases (id),
    policy          TEXT NOT NULL DEFAULT '',   -- '': by hand (or a routing rule's level) without a policy
    cause           TEXT NOT NULL,              -- manual, sla_warning, sla_breach, high_risk, p1, reopen, routing_rule
    reason          TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL,              -- open | acknowledged | closed
    level           INTEGER NOT NULL,           -- the level it holds the case at
    from_level      INTEGER NOT NULL,           -- the case's level when it started
    step            INTEGER NOT NULL,           -- the policy step waiting (0-based); -1: the fallback
    round           INTEGER NOT NULL,           -- the policy's repeat running (0: the first pass)
    targets         {{.JSON}} NOT NULL DEFAULT '[]', -- emails of the people the step asks
    due_at          {{.TS}},                    -- the step's acknowledgement deadline
    step_started_at {{.TS}} NOT NULL,
    started_by      BIGINT REFERENCES users (id),
    acked_by        BIGINT REFERENCES users (id),
    acked_at        {{.TS}},
    closed_by       BIGINT REFERENCES users (id),
    closed_at       {{.TS}},
    close_reason    TEXT NOT NULL DEFAULT '',
    created_at      {{.TS}} NOT NULL,
    updated_at      {{.TS}} NOT NULL
);
-- The timer's schedule: the earliest deadlines first.
CREATE INDEX escalations_due ON escalations (due_at) WHERE due_at IS NOT NULL;
-- A case's escalations.
CREATE INDEX escalations_case ON escalations (case_id, id);
-- The open-escalations list, oldest first.
CREATE INDEX escalations_state ON escalations (state, created_at, id);
-- A policy runs at most once at a time on a case.
CREATE UNIQUE INDEX escalations_one_per_policy ON escalations (case_id, policy) WHERE state <> 'closed' AND policy <> '';

-- +goose Down
DROP TABLE IF EXISTS escalations;
