-- Alertmanager intake (internal/intake/alertmanager): an alert group's
-- case and the state of its alerts as last recorded, so that a repeated
-- notification changes nothing and a later one adds only what changed. It
-- is written in the intake's transaction that opens or updates the case.
-- Rendered per dialect like 00001_core.sql.

-- +goose Up
CREATE TABLE intake_alert_groups (
    endpoint   TEXT NOT NULL,                         -- the intake_alertmanager endpoint's key
    group_key  TEXT NOT NULL,                         -- Alertmanager's groupKey
    case_id    BIGINT NOT NULL REFERENCES cases (id), -- the group's current case
    generation INTEGER NOT NULL DEFAULT 0,            -- cases the group opened before it (one per firing after a closed case)
    status     TEXT NOT NULL,                         -- firing | resolved, as last notified
    updated_at {{.TS}} NOT NULL,
    PRIMARY KEY (endpoint, group_key)
);
CREATE INDEX intake_alert_groups_case ON intake_alert_groups (case_id);

CREATE TABLE intake_alerts (
    endpoint    TEXT NOT NULL,
    group_key   TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status      TEXT NOT NULL,                        -- firing | resolved
    starts_at   {{.TS}} NOT NULL,
    ends_at     {{.TS}},
    PRIMARY KEY (endpoint, group_key, fingerprint)
);

-- +goose Down
DROP TABLE IF EXISTS intake_alerts;
DROP TABLE IF EXISTS intake_alert_groups;
