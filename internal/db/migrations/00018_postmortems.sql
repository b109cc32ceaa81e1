-- Postmortems and action items (internal/postmortems). An incident has at
-- most one postmortem: a document of sections started from the desk's
-- template (the postmortems section, or the built-in one), edited as a
-- draft, sent for review and published; the incident closes only once it
-- is published when its severity requires one. Its impact figures are
-- computed from the linked cases while it is open and kept as they were
-- when it was published.
--
-- Action items are the follow-ups, each owned by a person with a due date
-- and a team. remind_at is the durable schedule of the reminders timer
-- (internal/deadline): the next reminder to its owner — before the due
-- date, then when it passes — NULL once both have gone or the item is done
-- or won't be done. Rendered per dialect like 00001_core.sql.

-- +goose Up
CREATE TABLE postmortems (
    id           {{.PK}},
    incident_id  BIGINT NOT NULL UNIQUE,        -- the incidents row (internal/incidents)
    incident     TEXT NOT NULL,                 -- its number, INC-7
    state        TEXT NOT NULL,                 -- draft | in_review | published
    sections     {{.JSON}} NOT NULL DEFAULT '[]', -- [{key, title, required, prompt, body}]
    impact       {{.JSON}},                     -- the figures as published (NULL before: computed live)
    version      INTEGER NOT NULL DEFAULT 1,    -- each edit adds one: an edit names the version it read
    review_note  TEXT NOT NULL DEFAULT '',      -- why the reviewer sent it back
    created_by   BIGINT REFERENCES users (id),
    created_at   {{.TS}} NOT NULL,
    updated_by   BIGINT REFERENCES users (id),
    updated_at   {{.TS}} NOT NULL,
    submitted_at {{.TS}},
    published_by BIGINT REFERENCES users (id),
    published_at {{.TS}}
);

CREATE TABLE action_items (
    id                  {{.PK}},
    incident_id         BIGINT NOT NULL,
    incident            TEXT NOT NULL,
    title               TEXT NOT NULL,
    owner_id            BIGINT NOT NULL REFERENCES users (id),
    team                TEXT NOT NULL,
    due_date            TEXT NOT NULL,          -- YYYY-MM-DD
    due_at              {{.TS}} NOT NULL,       -- the end of due_date in the owner's time zone
    status              TEXT NOT NULL,          -- open | in_progress | done | wont_do
    remind_at           {{.TS}},                -- the next reminder; NULL: none is left
    reminded_soon_at    {{.TS}},
    reminded_overdue_at {{.TS}},
    created_by          BIGINT REFERENCES users (id),
    created_at          {{.TS}} NOT NULL,
    updated_at          {{.TS}} NOT NULL,
    finished_at         {{.TS}}                 -- done or won't do
);
-- The reminders timer's schedule: the earliest first.
CREATE INDEX action_items_remind ON action_items (remind_at) WHERE remind_at IS NOT NULL;
-- An incident's items; a team's and an owner's lists, soonest due first.
CREATE INDEX action_items_incident ON action_items (incident_id, id);
CREATE INDEX action_items_team ON action_items (team, status, due_at);
CREATE INDEX action_items_owner ON action_items (owner_id, status, due_at);

-- +goose Down
DROP TABLE IF EXISTS action_items;
DROP TABLE IF EXISTS postmortems;
