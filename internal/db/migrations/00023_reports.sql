-- Reports (internal/reports): a report reads the cases created in its
-- period, those resolved in it, and those still open at its end. The
-- resolution index lets the store answer the second by index, so the
-- three together are index lookups rather than a scan of every case.
-- Rendered per dialect like 00001_core.sql.

-- +goose Up
CREATE INDEX cases_resolved ON cases (resolved_at);

-- +goose Down
DROP INDEX IF EXISTS cases_resolved;
