-- SLA deadlines are fired by an in-process timer reading cases.sla_due_at
-- (internal/cases/sla_timer.go) instead of one queued job per case, so the
-- "queued" flag and the planner's index go; the timer reads every deadline.

-- +goose Up
DROP INDEX IF EXISTS cases_sla_plan;
ALTER TABLE cases DROP COLUMN sla_queued;
CREATE INDEX cases_sla_due ON cases (sla_due_at) WHERE sla_due_at IS NOT NULL;

-- +goose Down
DROP INDEX IF EXISTS cases_sla_due;
ALTER TABLE cases ADD COLUMN sla_queued {{.Bool}} NOT NULL DEFAULT FALSE;
CREATE INDEX cases_sla_plan ON cases (sla_due_at) WHERE sla_queued = FALSE AND sla_due_at IS NOT NULL;
