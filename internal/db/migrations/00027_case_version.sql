-- The case's version (internal/cases, update.go): every saved change adds
-- one, so an edit made on a stale page (sent with the version it was read
-- at, If-Match or a form field) is refused with 409 instead of silently
-- overwriting someone else's change.

-- +goose Up
ALTER TABLE cases ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

-- +goose Down
ALTER TABLE cases DROP COLUMN version;
