-- Report buckets (internal/reports, factcache.go): the period reports keep
-- the report facts in memory by bucket — active cases by the day they were
-- created, the others by the day they were resolved (or created, when
-- never resolved) — and a fact write bumps the version of the buckets it
-- leaves and enters in its own transaction, so that a report reads again
-- only the buckets whose version moved since it last read them. A bucket
-- with no row here is at version 0.

-- +goose Up
CREATE TABLE report_buckets (
    bucket  TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);

-- +goose Down
DROP TABLE IF EXISTS report_buckets;
