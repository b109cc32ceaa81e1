-- Routing (internal/cases/priority.go): an SLA policy a routing rule chose
-- for the case, which wins over the policies' own matching. And the team
-- queue's order, priority then due time: due_sort is the earliest due
-- instant of the case's running clocks (far in the future when none runs).

-- +goose Up
ALTER TABLE cases ADD COLUMN sla_policy TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN due_sort {{.TS}} NOT NULL DEFAULT {{if .SQLite}}'9999-12-31T23:59:59.000000Z'{{else}}'9999-12-31 23:59:59+00'{{end}};
UPDATE cases SET due_sort = sla_due_at WHERE sla_due_at IS NOT NULL;
CREATE INDEX cases_team_due ON cases (team, priority, due_sort, id);
-- Covering indexes for what every create reads: earlier contacts about the
-- seller and category (the priority score), and people's open cases by
-- priority (assignment load).
DROP INDEX IF EXISTS cases_seller;
CREATE INDEX cases_repeat ON cases (seller_id, category, created_at);
DROP INDEX IF EXISTS cases_owner;
CREATE INDEX cases_owner_load ON cases (owner_id, status, priority);

-- +goose Down
DROP INDEX IF EXISTS cases_owner_load;
CREATE INDEX cases_owner ON cases (owner_id, status);
DROP INDEX IF EXISTS cases_repeat;
CREATE INDEX cases_seller ON cases (seller_id, created_at);
DROP INDEX IF EXISTS cases_team_due;
ALTER TABLE cases DROP COLUMN due_sort;
ALTER TABLE cases DROP COLUMN sla_policy;
