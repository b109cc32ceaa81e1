-- Routing (internal/cases/priority.go): an SLA policy a routing rule chose
-- for the case, which wins over the policies' own matching.

-- +goose Up
ALTER TABLE cases ADD COLUMN sla_policy TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE cases DROP COLUMN sla_policy;
