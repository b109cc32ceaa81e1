-- Alertmanager intake (internal/intake/alertmanager): the incident each
-- endpoint rule declared for an alert group, so that the group declares no
-- second one while it is open, and whether the group fires (a resolved
-- notification is recorded on the incident's timeline once per firing).
-- Written in the notification's transaction. Rendered per dialect like
-- 00001_core.sql.

-- +goose Up
CREATE TABLE intake_alert_incidents (
    endpoint    TEXT NOT NULL,                        -- the intake_alertmanager endpoint's key
    group_key   TEXT NOT NULL,                        -- Alertmanager's groupKey
    rule        TEXT NOT NULL,                        -- the endpoint's rule's name
    incident_id BIGINT NOT NULL,                      -- 0 until declared in the same transaction
    firing      BOOLEAN NOT NULL,
    updated_at  {{.TS}} NOT NULL,
    PRIMARY KEY (endpoint, group_key, rule)
);

-- +goose Down
DROP TABLE IF EXISTS intake_alert_incidents;
