-- Search over everything a person would look a case up by (internal/cases,
-- search.go): the number, title, description, requester name and email,
-- seller id and name, custom-field values and the comments, public and
-- internal apart so that account managers match the public side only.
-- Rendered per dialect like 00001_core.sql.
--
-- saved_views (internal/views): a case list's filter and sort under a name,
-- the owner's own or shared with a team (shared_team).
--
-- SQLite: case_search (FTS5, its own content so snippet() can quote it) is
-- brought up to date in batches as before: new cases by id, changed ones
-- from search_pending, which the triggers below fill with an id only (a
-- write pays one small insert, never an FTS5 segment flush). FTS5 folds
-- what Unicode decomposes (é, ü, ñ, ę); folded holds the case's text again
-- with the letters it does not (ł, ø, đ, ß) spelled out, when there are any.
--
-- PostgreSQL: cases.search is kept by triggers in the write itself, in the
-- 'flare_search' configuration: the simple parser with unaccent, so that
-- every market's language folds its accents. Internal notes carry weight D
-- and the rest A/B, so a query restricted to :AB matches the public side.

-- +goose Up
CREATE TABLE saved_views (
    id          {{.PK}},
    owner_id    BIGINT NOT NULL REFERENCES users (id),
    shared_team TEXT NOT NULL DEFAULT '',
    name        TEXT NOT NULL,
    filter      {{.JSON}} NOT NULL,
    created_at  {{.TS}} NOT NULL,
    updated_at  {{.TS}} NOT NULL
);
CREATE INDEX saved_views_owner ON saved_views (owner_id);
CREATE INDEX saved_views_team ON saved_views (shared_team);

{{if .SQLite -}}
DROP TRIGGER IF EXISTS cases_search_changed;
DROP TABLE IF EXISTS search_pending;
DROP TABLE IF EXISTS cases_fts;
CREATE VIRTUAL TABLE case_search USING fts5 (
    number, title, description, people, seller, fields, public_notes, internal_notes, folded,
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE search_pending (case_id INTEGER PRIMARY KEY);
UPDATE counters SET value = 0 WHERE name = 'search_upto';
-- +goose StatementBegin
CREATE TRIGGER cases_search_changed AFTER UPDATE OF title, description, requester_name, requester_email, seller_id, fields ON cases
    WHEN old.title IS NOT new.title OR old.description IS NOT new.description OR old.requester_name IS NOT new.requester_name
      OR old.requester_email IS NOT new.requester_email OR old.seller_id IS NOT new.seller_id OR old.fields IS NOT new.fields BEGIN
    INSERT OR IGNORE INTO search_pending (case_id) VALUES (new.id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER case_comments_search AFTER INSERT ON case_comments BEGIN
    INSERT OR IGNORE INTO search_pending (case_id) VALUES (new.case_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER sellers_search_renamed AFTER UPDATE OF name ON sellers WHEN old.name IS NOT new.name BEGIN
    INSERT OR IGNORE INTO search_pending (case_id) SELECT id FROM cases WHERE seller_id = new.external_id;
END;
-- +goose StatementEnd
{{- else -}}
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TEXT SEARCH CONFIGURATION flare_search (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION flare_search
    ALTER MAPPING FOR asciiword, word, numword, asciihword, hword, numhword, hword_asciipart, hword_part, hword_numpart
    WITH unaccent, simple;
-- The text as searched: ASCII punctuation becomes space, so that an email,
-- a seller id or an order number splits into the words the query splits
-- into (the parser would keep an email whole).
-- +goose StatementBegin
CREATE FUNCTION flare_search_text(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT regexp_replace(coalesce(t, ''), '[!-/:-@\[-`{-~]+', ' ', 'g')
$$;
-- +goose StatementEnd
-- The case's document: its own text weighted A/B, public comments B,
-- internal notes D.
-- +goose StatementBegin
CREATE FUNCTION flare_case_search(c cases, with_comments boolean) RETURNS tsvector LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector('flare_search', flare_search_text(concat_ws(' ', 'ESC-' || c.number, c.title,
            c.requester_name, c.requester_email, c.seller_id,
            (SELECT name FROM sellers WHERE external_id = c.seller_id)))), 'A') ||
        setweight(to_tsvector('flare_search', flare_search_text(concat_ws(' ', c.description,
            (SELECT string_agg(value, ' ') FROM jsonb_each_text(c.fields))))), 'B') ||
        CASE WHEN with_comments THEN
            coalesce((SELECT setweight(to_tsvector('flare_search', flare_search_text(string_agg(body, ' '))), 'B')
                FROM case_comments WHERE case_id = c.id AND NOT internal), '') ||
            coalesce((SELECT setweight(to_tsvector('flare_search', flare_search_text(string_agg(body, ' '))), 'D')
                FROM case_comments WHERE case_id = c.id AND internal), '')
        ELSE ''::tsvector END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION cases_search_doc() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A new case has no comments yet.
    NEW.search := flare_case_search(NEW, TG_OP = 'UPDATE');
    RETURN NEW;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION case_comments_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cases SET search = search || setweight(to_tsvector('flare_search', flare_search_text(NEW.body)),
        CASE WHEN NEW.internal THEN 'D' ELSE 'B' END::"char") WHERE id = NEW.case_id;
    RETURN NEW;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION sellers_search_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE cases SET search = flare_case_search(cases, true) WHERE seller_id = NEW.external_id;
    RETURN NEW;
END $$;
-- +goose StatementEnd
ALTER TABLE cases DROP COLUMN search;
ALTER TABLE cases ADD COLUMN search tsvector NOT NULL DEFAULT '';
UPDATE cases SET search = flare_case_search(cases, true);
CREATE INDEX cases_search ON cases USING gin (search);
CREATE TRIGGER cases_search_insert BEFORE INSERT ON cases FOR EACH ROW EXECUTE FUNCTION cases_search_doc();
CREATE TRIGGER cases_search_update BEFORE UPDATE OF title, description, requester_name, requester_email, seller_id, fields ON cases
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.description IS DISTINCT FROM NEW.description
        OR OLD.requester_name IS DISTINCT FROM NEW.requester_name OR OLD.requester_email IS DISTINCT FROM NEW.requester_email
        OR OLD.seller_id IS DISTINCT FROM NEW.seller_id OR OLD.fields IS DISTINCT FROM NEW.fields)
    EXECUTE FUNCTION cases_search_doc();
CREATE TRIGGER case_comments_search AFTER INSERT ON case_comments FOR EACH ROW EXECUTE FUNCTION case_comments_search();
CREATE TRIGGER sellers_search_renamed AFTER UPDATE OF name ON sellers
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION sellers_search_renamed();
{{- end}}

-- +goose Down
DROP TABLE IF EXISTS saved_views;
{{if .SQLite -}}
DROP TRIGGER IF EXISTS sellers_search_renamed;
DROP TRIGGER IF EXISTS case_comments_search;
DROP TRIGGER IF EXISTS cases_search_changed;
DROP TABLE IF EXISTS search_pending;
DROP TABLE IF EXISTS case_search;
CREATE VIRTUAL TABLE cases_fts USING fts5 (
    title, description, content = 'cases', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE search_pending (case_id INTEGER PRIMARY KEY, title TEXT NOT NULL, description TEXT NOT NULL);
UPDATE counters SET value = 0 WHERE name = 'search_upto';
-- +goose StatementBegin
CREATE TRIGGER cases_search_changed AFTER UPDATE OF title, description ON cases
    WHEN old.title IS NOT new.title OR old.description IS NOT new.description BEGIN
    INSERT OR IGNORE INTO search_pending (case_id, title, description) VALUES (old.id, old.title, old.description);
END;
-- +goose StatementEnd
{{- else -}}
DROP TRIGGER IF EXISTS sellers_search_renamed ON sellers;
DROP TRIGGER IF EXISTS case_comments_search ON case_comments;
DROP TRIGGER IF EXISTS cases_search_update ON cases;
DROP TRIGGER IF EXISTS cases_search_insert ON cases;
DROP FUNCTION IF EXISTS sellers_search_renamed();
DROP FUNCTION IF EXISTS case_comments_search();
DROP FUNCTION IF EXISTS flare_case_search(cases, boolean);
DROP FUNCTION IF EXISTS cases_search_doc();
DROP FUNCTION IF EXISTS flare_search_text(text);
DROP TEXT SEARCH CONFIGURATION IF EXISTS flare_search;
ALTER TABLE cases DROP COLUMN search;
ALTER TABLE cases ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', title || ' ' || description)) STORED;
CREATE INDEX cases_search ON cases USING gin (search);
{{- end}}
