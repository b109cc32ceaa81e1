-- Event deliveries (internal/events): when a deliverer claimed the row,
-- NULL when nobody holds it. A claim still leases by moving next_at ahead;
-- leased_at tells a lease from a retry's back-off, so that on SQLite (one
-- process per database file) a restarted server hands back the leases of
-- the process that died instead of waiting for them to run out.

-- +goose Up
ALTER TABLE event_deliveries ADD COLUMN leased_at {{.TS}};

-- +goose Down
ALTER TABLE event_deliveries DROP COLUMN leased_at;
