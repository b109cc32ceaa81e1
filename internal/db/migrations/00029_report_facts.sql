-- Report facts (internal/reports): one narrow row per case with what the
-- period reports read — the slice dimensions, the three instants, whether
-- the case is active, its reopen count, its SLA clocks as last evaluated
-- (compact text: "metric state target_s elapsed_s" per clock, ";"
-- between), and its business-time durations with the fingerprint of the
-- team calendar they were computed in (a changed calendar makes the
-- reader compute them again). Kept by an in-transaction subscriber of the
-- case's events; reports.Service.SyncFacts fills the cases written before
-- this migration (or by the benchmarks' bulk writers).
-- Rendered per dialect like 00001_core.sql.

-- +goose Up
CREATE TABLE report_facts (
    -- INTEGER PRIMARY KEY on SQLite is the rowid itself: the indexes lead
    -- straight to the row, with no second index between.
    case_id           {{if .SQLite}}INTEGER{{else}}BIGINT{{end}} PRIMARY KEY REFERENCES cases (id) ON DELETE CASCADE,
    team              TEXT NOT NULL,
    market            TEXT NOT NULL,
    category          TEXT NOT NULL,
    channel           TEXT NOT NULL,
    priority          TEXT NOT NULL,
    owner_id          BIGINT,
    seller_id         TEXT,
    created_at        {{.TS}} NOT NULL,
    first_response_at {{.TS}},
    resolved_at       {{.TS}},
    active            {{.Bool}} NOT NULL,
    reopen_count      INTEGER NOT NULL,
    escalated         {{.Bool}} NOT NULL,
    repeat_contact    {{.Bool}} NOT NULL,
    clocks            TEXT NOT NULL,
    calendar          TEXT NOT NULL,
    first_response_business_ns BIGINT,
    resolution_business_ns     BIGINT
);
-- With the market, the live dashboard's intake counts are read from the
-- index alone.
CREATE INDEX report_facts_created ON report_facts (created_at, market);
CREATE INDEX report_facts_resolved ON report_facts (resolved_at);
CREATE INDEX report_facts_active ON report_facts (active, created_at);

-- The live dashboard's backlog: active cases per market, moved with the
-- facts (a count of the facts' active rows, without walking them).
CREATE TABLE report_backlog (
    market TEXT PRIMARY KEY,
    active INTEGER NOT NULL
);

-- Escalation time per level reads the escalations started in the period.
CREATE INDEX escalations_created ON escalations (created_at);

-- +goose Down
DROP INDEX IF EXISTS escalations_created;
DROP TABLE IF EXISTS report_backlog;
DROP TABLE IF EXISTS report_facts;
