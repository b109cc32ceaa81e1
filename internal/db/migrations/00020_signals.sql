-- Signals and alerts (internal/signals). signal_series is one counted
-- series (intake per category × market, per seller, channel, custom field
-- or tag where the desk asks, safety-term hits, external alerts) with its
-- detector's cursor: scored_to is the end of the last bucket scored, so a
-- restart continues from there. signal_buckets holds the 5-minute counts,
-- kept up by the durable subscriber of case.created (signal_events records
-- the events it counted, so a redelivery counts nothing), and once scored
-- the expected value, its band and the score. signal_alerts are the
-- anomalies, with what their rules did (a notification, a case, an
-- incident) and their state.
-- Rendered per dialect like 00001_core.sql.

-- +goose Up
CREATE TABLE signal_series (
    id           {{.PK}},
    key          TEXT NOT NULL UNIQUE,  -- intake|category=…|market=…
    kind         TEXT NOT NULL,         -- intake | intake_seller | intake_channel | intake_tag | intake_field | safety_term | alert
    dims         {{.JSON}} NOT NULL,    -- {"category": …, "market": …}
    first_bucket {{.TS}} NOT NULL,
    scored_to    {{.TS}},               -- end of the last scored bucket; NULL: none yet
    created_at   {{.TS}} NOT NULL
);

CREATE TABLE signal_buckets (
    series_id BIGINT NOT NULL REFERENCES signal_series (id),
    bucket    {{.TS}} NOT NULL,         -- the bucket's start
    count     INTEGER NOT NULL,
    expected  {{if .Postgres}}DOUBLE PRECISION{{else}}REAL{{end}}, -- NULL until scored
    lo        {{if .Postgres}}DOUBLE PRECISION{{else}}REAL{{end}},
    hi        {{if .Postgres}}DOUBLE PRECISION{{else}}REAL{{end}},
    score     {{if .Postgres}}DOUBLE PRECISION{{else}}REAL{{end}},
    PRIMARY KEY (series_id, bucket)
);

CREATE TABLE signal_events (
    event_id   TEXT PRIMARY KEY,
    counted_at {{.TS}} NOT NULL
);
CREATE INDEX signal_events_counted ON signal_events (counted_at);

CREATE TABLE signal_alerts (
    id           {{.PK}},
    key          TEXT NOT NULL UNIQUE,  -- series key @ window start
    series_id    BIGINT NOT NULL REFERENCES signal_series (id),
    window_start {{.TS}} NOT NULL,
    window_end   {{.TS}} NOT NULL,
    observed     {{if .Postgres}}DOUBLE PRECISION{{else}}REAL{{end}} NOT NULL,
    expected     {{if .Postgres}}DOUBLE PRECISION{{else}}REAL{{end}} NOT NULL,
    score        {{if .Postgres}}DOUBLE PRECISION{{else}}REAL{{end}} NOT NULL,
    status       TEXT NOT NULL,         -- open | acknowledged | closed
    rules        {{.JSON}} NOT NULL,    -- the rules that matched
    done         {{.JSON}} NOT NULL,    -- the actions done: notify:<rule>, case:<rule>, incident:<rule>
    pending      {{.Bool}} NOT NULL,    -- actions still to do
    case_number  TEXT NOT NULL DEFAULT '',
    incident_id  BIGINT,
    acked_by     BIGINT,
    acked_at     {{.TS}},
    closed_by    BIGINT,
    closed_at    {{.TS}},
    created_at   {{.TS}} NOT NULL,
    updated_at   {{.TS}} NOT NULL
);
CREATE INDEX signal_alerts_series ON signal_alerts (series_id, window_end);
CREATE INDEX signal_alerts_status ON signal_alerts (status, created_at);
CREATE INDEX signal_alerts_pending ON signal_alerts (pending);

-- +goose Down
DROP TABLE IF EXISTS signal_alerts;
DROP TABLE IF EXISTS signal_events;
DROP TABLE IF EXISTS signal_buckets;
DROP TABLE IF EXISTS signal_series;
