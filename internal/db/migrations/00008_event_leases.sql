-- Event deliveries (internal/events): when a deliverer claimed the row,
-- NULL when nobody holds it. A claim still leases by moving next_at ahead;
-- leased_at tells a lease from a retry's back-off, so that on SQLite (one
-- process per database file) a restarted server hands back the leases of
-- the process that died instead of waiting for them to run out.
--
-- The claim now reads the streams that have a row out once per claim
-- instead of probing each candidate's stream, so the per-stream index is
-- not read any more; it was one more index to write on every delivery.

-- +goose Up
ALTER TABLE event_deliveries ADD COLUMN leased_at {{.TS}};
DROP INDEX IF EXISTS event_deliveries_stream;

-- +goose Down
CREATE INDEX event_deliveries_stream ON event_deliveries (subscriber, stream, event_seq) WHERE state = 'pending';
ALTER TABLE event_deliveries DROP COLUMN leased_at;
