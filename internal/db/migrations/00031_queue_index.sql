-- The queue (internal/cases, list.go): the active cases most urgent first
-- (priority, then the due instant of the most urgent clock). A list of
-- several statuses reads each status's first page from this index in
-- order and merges them, instead of sorting every active case.

-- +goose Up
CREATE INDEX cases_status_due ON cases (status, priority, due_sort, id);

-- +goose Down
DROP INDEX IF EXISTS cases_status_due;
