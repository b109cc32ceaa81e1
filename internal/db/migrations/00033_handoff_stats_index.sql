-- Handoff wait per receiving team (handoffs.WaitStats, on the reporting
-- page's summary) reads a period's handoffs by creation: with every
-- column it reads in the index, a month of them is read from the index
-- alone instead of one table lookup each. It replaces handoffs_created,
-- its first column.

-- +goose Up
CREATE INDEX handoffs_created_stats ON handoffs (created_at, to_team, status, accepted_at, closed_at, due_at, from_team, case_id);
DROP INDEX IF EXISTS handoffs_created;

-- +goose Down
CREATE INDEX handoffs_created ON handoffs (created_at);
DROP INDEX IF EXISTS handoffs_created_stats;
