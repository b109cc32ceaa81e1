-- Review packs (internal/reviews): each cadence's pack for a closed
-- period, built once (the unique key makes a second node's or a restarted
-- node's build a no-op) and kept as browsable history. The mail to its
-- audience is written to notify_deliveries in the same transaction.
-- Rendered per dialect like 00001_core.sql.

-- +goose Up
CREATE TABLE review_packs (
    id          {{.PK}},
    cadence     TEXT NOT NULL,           -- the review_packs cadence's key
    kind        TEXT NOT NULL,           -- weekly | biweekly | monthly
    period      TEXT NOT NULL,           -- 2026-W47, 2026-11
    period_from {{.TS}} NOT NULL,
    period_to   {{.TS}} NOT NULL,
    title       TEXT NOT NULL,
    content     {{.JSON}} NOT NULL,      -- the pack (reviews.Pack)
    recipients  INTEGER NOT NULL DEFAULT 0,
    built_by    TEXT NOT NULL,           -- schedule | a user's email
    built_at    {{.TS}} NOT NULL,
    UNIQUE (cadence, period)
);
CREATE INDEX review_packs_period ON review_packs (period_to, id);

-- +goose Down
DROP TABLE review_packs;
