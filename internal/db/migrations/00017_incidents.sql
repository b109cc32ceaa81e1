-- Incidents (internal/incidents): emergencies with their roles, timeline,
-- status updates, subscribers, the pages of the on-call commander and the
-- cases linked to them. Rendered per dialect like 00001_core.sql.
--
-- Durable schedules of the incidents timer (internal/deadline), each an
-- indexed instant written in the transaction that sets it:
-- incident_pages.due_at (a page's acknowledgement deadline),
-- incidents.next_update_at (the next status update is due) and
-- incident_bulk.due_at (a bulk resolve of linked cases with batches left).

-- +goose Up
CREATE TABLE incidents (
    id              {{.PK}},
    title           TEXT NOT NULL,
    summary         TEXT NOT NULL DEFAULT '',
    type            TEXT NOT NULL,
    severity        TEXT NOT NULL,              -- SEV1 … SEV4
    status          TEXT NOT NULL,              -- investigating | identified | monitoring | resolved | closed
    markets         {{.JSON}} NOT NULL DEFAULT '[]',
    categories      {{.JSON}} NOT NULL DEFAULT '[]',
    sellers         {{.JSON}} NOT NULL DEFAULT '[]',
    source_case_id  BIGINT REFERENCES cases (id),
    started_at      {{.TS}},                    -- the key moments, correctable with a reason
    detected_at     {{.TS}},
    acknowledged_at {{.TS}},
    mitigated_at    {{.TS}},
    resolved_at     {{.TS}},
    next_update_at  {{.TS}},                    -- the update reminder's deadline (open incidents)
    last_update_at  {{.TS}},
    declared_by     BIGINT REFERENCES users (id),
    created_at      {{.TS}} NOT NULL,
    updated_at      {{.TS}} NOT NULL,
    closed_at       {{.TS}}
);
CREATE INDEX incidents_status ON incidents (status, id);
CREATE INDEX incidents_next_update ON incidents (next_update_at) WHERE next_update_at IS NOT NULL;

-- Who holds each role now; hand-overs are on the timeline.
CREATE TABLE incident_roles (
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    role        TEXT NOT NULL,
    user_id     BIGINT NOT NULL REFERENCES users (id),
    assigned_at {{.TS}} NOT NULL,
    PRIMARY KEY (incident_id, role)
);

-- The timeline: status, severity and role changes, notes, decisions, key
-- moments and their corrections, updates, pages, links.
CREATE TABLE incident_timeline (
    id          {{.PK}},
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    kind        TEXT NOT NULL,
    actor_id    BIGINT REFERENCES users (id),
    at          {{.TS}} NOT NULL,              -- when it happened (a moment's real time)
    body        TEXT NOT NULL DEFAULT '',
    data        {{.JSON}} NOT NULL DEFAULT '{}',
    created_at  {{.TS}} NOT NULL
);
CREATE INDEX incident_timeline_incident ON incident_timeline (incident_id, at, id);

-- Status updates as sent: the internal status page.
CREATE TABLE incident_updates (
    id          {{.PK}},
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    audience    TEXT NOT NULL,
    template    TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL,
    status      TEXT NOT NULL,                 -- the incident's status when sent
    severity    TEXT NOT NULL,
    recipients  INTEGER NOT NULL DEFAULT 0,
    posted_by   BIGINT REFERENCES users (id),
    posted_at   {{.TS}} NOT NULL
);
CREATE INDEX incident_updates_incident ON incident_updates (incident_id, id);

-- People who asked to hear every update of an incident.
CREATE TABLE incident_subscribers (
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    user_id     BIGINT NOT NULL REFERENCES users (id),
    created_at  {{.TS}} NOT NULL,
    PRIMARY KEY (incident_id, user_id)
);

-- Pages of the on-call commander: a round asks targets and waits until
-- due_at for an acknowledgement; the timer re-pages and steps up.
CREATE TABLE incident_pages (
    id          {{.PK}},
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    team        TEXT NOT NULL DEFAULT '',
    round       INTEGER NOT NULL DEFAULT 0,
    targets     {{.JSON}} NOT NULL DEFAULT '[]',
    due_at      {{.TS}},
    acked_by    BIGINT REFERENCES users (id),
    acked_at    {{.TS}},
    created_at  {{.TS}} NOT NULL,
    updated_at  {{.TS}} NOT NULL
);
CREATE INDEX incident_pages_due ON incident_pages (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX incident_pages_incident ON incident_pages (incident_id, id);

-- Cases linked to an incident. reply_state follows a bulk resolve:
-- '' (none asked), pending (queued in bulk_id), done, skipped.
CREATE TABLE incident_cases (
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    case_id     BIGINT NOT NULL REFERENCES cases (id),
    via         TEXT NOT NULL,                 -- declared | manual | bulk | rule:<name>
    linked_by   BIGINT REFERENCES users (id),
    linked_at   {{.TS}} NOT NULL,
    bulk_id     BIGINT,
    reply_state TEXT NOT NULL DEFAULT '',
    replied_at  {{.TS}},
    PRIMARY KEY (incident_id, case_id)
);
CREATE INDEX incident_cases_case ON incident_cases (case_id);
CREATE INDEX incident_cases_pending ON incident_cases (bulk_id, case_id) WHERE reply_state = 'pending';

-- A bulk resolve of an incident's linked cases: one templated public reply
-- to each requester and a resolve, in batches fired by the timer.
CREATE TABLE incident_bulk (
    id          {{.PK}},
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    body        TEXT NOT NULL,                 -- the template of the reply
    resolution  TEXT NOT NULL,
    note        TEXT NOT NULL,
    actor_id    BIGINT REFERENCES users (id),
    total       INTEGER NOT NULL,
    done        INTEGER NOT NULL DEFAULT 0,
    skipped     INTEGER NOT NULL DEFAULT 0,
    due_at      {{.TS}},                       -- set while batches are left
    created_at  {{.TS}} NOT NULL,
    finished_at {{.TS}}
);
CREATE INDEX incident_bulk_due ON incident_bulk (due_at) WHERE due_at IS NOT NULL;

-- +goose Down
DROP TABLE IF EXISTS incident_bulk;
DROP TABLE IF EXISTS incident_cases;
DROP TABLE IF EXISTS incident_pages;
DROP TABLE IF EXISTS incident_subscribers;
DROP TABLE IF EXISTS incident_updates;
DROP TABLE IF EXISTS incident_timeline;
DROP TABLE IF EXISTS incident_roles;
DROP TABLE IF EXISTS incidents;
