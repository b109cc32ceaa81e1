-- Reports (internal/reports): a report reads the cases created in its
-- period, those resolved in it, and those still open at its end. The
-- resolution index lets the store answer the second by index, so the
-- three together are index lookups rather than a scan of every case.
-- The live dashboard counts the active cases by market and due time:
-- cases_status_market answers that from the index alone.
-- Rendered per dialect like 00001_core.sql.

-- +goose Up
CREATE INDEX cases_resolved ON cases (resolved_at);
CREATE INDEX cases_status_market ON cases (status, market, due_sort);

-- +goose Down
DROP INDEX IF EXISTS cases_status_market;
DROP INDEX IF EXISTS cases_resolved;
