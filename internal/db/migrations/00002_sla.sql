-- SLA clocks (internal/cases/sla.go). Rendered per dialect like 00001_core.sql.

-- +goose Up
-- A case's clocks as last evaluated (JSON), and its next deadline: the next
-- instant a clock warns or breaches. sla_queued says whether the deadline's
-- job is queued (near deadlines at once, later ones by the planner).
ALTER TABLE cases ADD COLUMN sla TEXT NOT NULL DEFAULT '[]'; -- read only by Flare: no JSONB parsing on write
ALTER TABLE cases ADD COLUMN sla_due_at {{.TS}};
ALTER TABLE cases ADD COLUMN sla_queued {{.Bool}} NOT NULL DEFAULT FALSE;
-- The planner reads only deadlines whose job is not queued yet.
CREATE INDEX cases_sla_plan ON cases (sla_due_at) WHERE sla_queued = FALSE AND sla_due_at IS NOT NULL;

-- One row per warning or breach, recorded once per clock cycle.
CREATE TABLE sla_events (
    id          {{.PK}},
    case_id     BIGINT NOT NULL REFERENCES cases (id),
    metric      TEXT NOT NULL,
    kind        TEXT NOT NULL, -- warning | breach
    cycle_start {{.TS}} NOT NULL,
    due_at      {{.TS}} NOT NULL,
    fired_at    {{.TS}} NOT NULL,
    team        TEXT NOT NULL,
    market      TEXT NOT NULL,
    policy      TEXT NOT NULL,
    UNIQUE (case_id, metric, kind, cycle_start)
);
CREATE INDEX sla_events_fired ON sla_events (kind, fired_at);

-- +goose Down
DROP TABLE IF EXISTS sla_events;
DROP INDEX IF EXISTS cases_sla_plan;
ALTER TABLE cases DROP COLUMN sla_queued;
ALTER TABLE cases DROP COLUMN sla_due_at;
ALTER TABLE cases DROP COLUMN sla;
