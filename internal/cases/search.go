package cases

import (
	"context"
	"database/sql"
	"fmt"
	"html"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
)

// Search covers what a person looks a case up by: its number, title,
// description, requester name and email, seller id and name, custom-field
// values and comments (internal notes apart, so that account managers match
// the public side only). Both databases fold accents (migration 00025).
//
// On SQLite the full-text index (FTS5) is brought up to date in batches:
// new cases by id (ids grow in commit order, SQLite having one writer), and
// cases whose text changed from search_pending, which triggers fill with the
// case's id. Searches sync first, so a search always sees every committed
// case; a background loop keeps the backlog small. PostgreSQL keeps
// cases.search up to date by triggers in the write itself.

// searchBatch bounds one indexing transaction.
const searchBatch = 5000

// The columns of case_search an account manager's query may match.
const publicColumns = "{number title description people seller fields public_notes folded}"

// Snippet markers: control characters that escaped text cannot contain, so
// that only they become <mark>.
const markOpen, markClose = "\x02", "\x03"

// searchDoc selects a case's document in case_search's column order.
var searchDoc = `SELECT c.id, 'ESC-' || c.number, c.title, c.description,
	c.requester_name || ' ' || c.requester_email, COALESCE(c.seller_id, '') || ' ' || COALESCE(s.name, ''),
	COALESCE((SELECT group_concat(value, ' ') FROM json_each(c.fields)), ''),
	COALESCE((SELECT group_concat(body, ' ') FROM case_comments WHERE case_id = c.id AND NOT internal), ''),
	COALESCE((SELECT group_concat(body, ' ') FROM case_comments WHERE case_id = c.id AND internal), ''),
	(SELECT CASE WHEN f <> t THEN f ELSE '' END FROM (SELECT t, ` + sqliteFold("t") + ` AS f FROM (SELECT
		c.title || ' ' || c.description || ' ' || c.requester_name || ' ' || COALESCE(s.name, '') || ' ' ||
		COALESCE((SELECT group_concat(value, ' ') FROM json_each(c.fields)), '') AS t)))
	FROM cases c LEFT JOIN sellers s ON s.external_id = c.seller_id`

// foldExtra are the letters without a Unicode decomposition, which FTS5's
// remove_diacritics keeps and unaccent folds.
var foldPairs = [][2]string{{"ł", "l"}, {"Ł", "L"}, {"ø", "o"}, {"Ø", "O"}, {"đ", "d"}, {"Đ", "D"}, {"ß", "ss"}, {"ı", "i"},
	{"æ", "ae"}, {"Æ", "AE"}, {"œ", "oe"}, {"Œ", "OE"}}

var foldExtra = func() *strings.Replacer {
	var old []string
	for _, p := range foldPairs {
		old = append(old, p[0], p[1])
	}
	return strings.NewReplacer(old...)
}()

// sqliteFold is foldExtra in SQL.
func sqliteFold(expr string) string {
	for _, p := range foldPairs {
		expr = "replace(" + expr + ", '" + p[0] + "', '" + p[1] + "')"
	}
	return expr
}

const searchInsert = `INSERT INTO case_search (rowid, number, title, description, people, seller, fields, public_notes, internal_notes, folded) `

// SyncSearch indexes what is not yet in the full-text index and reports how
// many cases it indexed.
func (s *Service) SyncSearch(ctx context.Context) (int, error) {
	if s.db.Dialect() != db.SQLite {
		return 0, nil
	}
	total := 0
	for {
		var behind bool
		err := s.db.QueryRow(ctx, `SELECT COALESCE((SELECT MAX(id) FROM cases), 0) > (SELECT value FROM counters WHERE name = 'search_upto')
			OR EXISTS (SELECT 1 FROM search_pending)`).Scan(&behind)
		if err != nil {
			return total, fmt.Errorf("search index: %w", err)
		}
		if !behind {
			return total, nil
		}
		var n int
		err = s.db.InTx(ctx, func(tx *db.Tx) error {
			var err error
			n, err = indexSearch(ctx, tx)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("search index: %w", err)
		}
		total += n
		if n < searchBatch {
			return total, nil
		}
	}
}

func indexSearch(ctx context.Context, tx *db.Tx) (int, error) {
	var upto int64
	if err := tx.QueryRow(ctx, `SELECT value FROM counters WHERE name = 'search_upto'`).Scan(&upto); err != nil {
		return 0, err
	}
	// Changed cases already indexed: their document is built again.
	for _, q := range []string{
		`DELETE FROM case_search WHERE rowid IN (SELECT case_id FROM search_pending WHERE case_id <= ?)`,
		searchInsert + searchDoc + ` WHERE c.id IN (SELECT case_id FROM search_pending WHERE case_id <= ?)`,
	} {
		if _, err := tx.Exec(ctx, q, upto); err != nil {
			return 0, err
		}
	}
	// New cases, oldest first.
	var next int64
	err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(id), ?) FROM (SELECT id FROM cases WHERE id > ? ORDER BY id LIMIT ?)`,
		upto, upto, searchBatch).Scan(&next)
	if err != nil {
		return 0, err
	}
	n := int64(0)
	if next > upto {
		res, err := tx.Exec(ctx, searchInsert+searchDoc+` WHERE c.id > ? AND c.id <= ?`, upto, next)
		if err != nil {
			return 0, err
		}
		n, _ = res.RowsAffected()
		if _, err := tx.Exec(ctx, `UPDATE counters SET value = ? WHERE name = 'search_upto'`, next); err != nil {
			return 0, err
		}
	}
	// Pending cases newer than the index were just built whole.
	_, err = tx.Exec(ctx, `DELETE FROM search_pending WHERE case_id <= ?`, next)
	return int(n), err
}

// RunSearchIndexer keeps the search index close to the cases until ctx ends.
func (s *Service) RunSearchIndexer(ctx context.Context, every time.Duration) {
	if s.db.Dialect() != db.SQLite {
		return
	}
	// On the service's clock, re-armed after each sync, so that a slow
	// sync is not followed at once by the next.
	t := s.clock.NewTimer(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			if _, err := s.SyncSearch(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("search index", "err", err)
			}
			t.Reset(every)
		}
	}
}

// searchWords splits free text into the words every match must contain,
// as both indexes split text (letters and digits; all else separates).
func searchWords(q string) []string {
	words := strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) > 32 { // a pasted page is not a search
		words = words[:32]
	}
	return words
}

// splitSearch splits a query into the words the index must match and the
// addresses (a word with an @, lower-cased) a match must hold as typed. An
// address is matched through the index by its telling words only: its
// one- and two-letter words and its top-level domain (v, o, f, de, com,
// example) are in a large share of all cases, and would make the index read
// most of its entries; the address itself, looked for in the matches' text,
// keeps the result exact. Only when an address has no telling word are its
// other words matched.
func splitSearch(q string) (words, exact []string) {
	var short []string
	for _, f := range strings.Fields(q) {
		// As pasted from a mail header or a sentence: <a@b.example>, "a@b.example".
		addr := strings.TrimRight(strings.Trim(f, `"'<>()[],;:`), ".")
		ws := searchWords(addr)
		if !strings.Contains(addr, "@") || len(ws) == 0 {
			words = append(words, searchWords(f)...)
			continue
		}
		exact = append(exact, strings.ToLower(addr))
		tld := strings.Contains(addr[strings.LastIndex(addr, "@"):], ".")
		for i, w := range ws {
			if utf8.RuneCountInString(w) <= 2 || tld && i == len(ws)-1 {
				short = append(short, w)
			} else {
				words = append(words, w)
			}
		}
	}
	if len(words) == 0 {
		words = short
	}
	if len(words) > 32 { // a pasted page is not a search
		words = words[:32]
	}
	return words, exact
}

// searchCond is the WHERE condition matching q for a, with its arguments,
// or "" when q holds no word.
func (s *Service) searchCond(ctx context.Context, a auth.Actor, q string) (string, []any, error) {
	words, exact := splitSearch(q)
	if len(words) == 0 {
		return "", nil, nil
	}
	if s.db.Dialect() == db.Postgres {
		cond := "c.search @@ to_tsquery('flare_search', ?)"
		args := []any{pgTerms(words, PublicOnly(a))}
		for _, e := range exact {
			cond += " AND " + pgExact(a)
			args = append(args, e)
		}
		return cond, args, nil
	}
	if _, err := s.SyncSearch(ctx); err != nil {
		return "", nil, err
	}
	cond := "case_search MATCH ?"
	args := []any{ftsQuery(a, words)}
	for _, e := range exact {
		cond += " AND " + sqliteExact(a)
		args = append(args, e)
	}
	return "c.id IN (SELECT rowid FROM case_search WHERE " + cond + ")", args, nil
}

// sqliteExact is the condition that a's side of the case_search row holds
// an address (the argument, lower-case) as typed.
func sqliteExact(a auth.Actor) string {
	cols := []string{"number", "title", "description", "people", "seller", "fields", "public_notes"}
	if !PublicOnly(a) {
		cols = append(cols, "internal_notes")
	}
	return "instr(lower(case_search." + strings.Join(cols, " || ' ' || case_search.") + "), ?) > 0"
}

// pgExact is sqliteExact over the case's own columns and comments.
func pgExact(a auth.Actor) string {
	notes := " AND NOT internal"
	if !PublicOnly(a) {
		notes = ""
	}
	return `strpos(lower(concat_ws(' ', c.title, c.description, c.requester_name, c.requester_email, c.seller_id,
		(SELECT string_agg(value, ' ') FROM jsonb_each_text(c.fields)),
		(SELECT string_agg(body, ' ') FROM case_comments WHERE case_id = c.id` + notes + `))), ?) > 0`
}

// ftsQuery quotes every word, so that FTS operators in user text are taken
// literally, and keeps an account manager to the public columns.
func ftsQuery(a auth.Actor, words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		// A word with a letter FTS5 does not fold matches as written or
		// spelled out; a word without one matches the spelled-out column too.
		if f := foldExtra.Replace(w); f != w {
			q[i] = `("` + w + `" OR "` + f + `")`
		} else {
			q[i] = `"` + w + `"`
		}
	}
	m := strings.Join(q, " ")
	if PublicOnly(a) {
		m = publicColumns + " : (" + m + ")"
	}
	return m
}

// pgTerms is to_tsquery's text: every word (to_tsquery would read
// operators, but the words hold only letters and digits), internal notes
// (weight D) left out for the public side.
func pgTerms(words []string, public bool) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = w
		if public {
			q[i] += ":AB"
		}
	}
	return strings.Join(q, " & ")
}

// snippets quotes where each listed case matched, escaped, with only <mark>
// added, keyed by case id.
func (s *Service) snippets(ctx context.Context, a auth.Actor, q string, ids []int64) (map[int64]string, error) {
	words, _ := splitSearch(q)
	out := map[int64]string{}
	if len(words) == 0 || len(ids) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(ids)+2)
	var query string
	if s.db.Dialect() == db.Postgres {
		notes := "AND NOT internal"
		if !PublicOnly(a) {
			notes = ""
		}
		query = `SELECT c.id, ts_headline('flare_search', concat_ws(' · ', c.title, c.requester_name, c.requester_email, c.seller_id,
				c.description, (SELECT string_agg(value, ' ') FROM jsonb_each_text(c.fields)),
				(SELECT string_agg(body, ' · ') FROM case_comments WHERE case_id = c.id ` + notes + `)),
				to_tsquery('flare_search', ?), 'StartSel=` + markOpen + `, StopSel=` + markClose + `, MaxWords=24, MinWords=10, MaxFragments=2, FragmentDelimiter=" … "')
			FROM cases c WHERE c.id IN (` + db.Placeholders(len(ids)) + `)`
		args = append(args, pgTerms(words, false))
	} else {
		// One pass over the matches between the page's ids: FTS5 runs a
		// MATCH again for every value of "rowid IN (…)", and snippet() is
		// worked out only for the page's rows.
		lo, hi := slices.Min(ids), slices.Max(ids)
		query = `SELECT rowid, CASE WHEN rowid IN (` + db.Placeholders(len(ids)) + `) THEN snippet(case_search, -1, '` + markOpen + `', '` + markClose + `', '…', 16) END
			FROM case_search WHERE case_search MATCH ? AND rowid >= ? AND rowid <= ?`
		for _, id := range ids {
			args = append(args, id)
		}
		args = append(args, ftsQuery(a, words), lo, hi)
	}
	if s.db.Dialect() == db.Postgres {
		for _, id := range ids {
			args = append(args, id)
		}
	}
	rows, err := s.db.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search snippets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var snip sql.NullString
		if err := rows.Scan(&id, &snip); err != nil {
			return nil, fmt.Errorf("search snippets: %w", err)
		}
		if strings.Contains(snip.String, markOpen) {
			out[id] = markHTML(snip.String)
		}
	}
	return out, rows.Err()
}

// markHTML escapes a snippet and turns its markers into <mark> elements.
func markHTML(snip string) string {
	e := html.EscapeString(strings.Join(strings.Fields(snip), " "))
	e = strings.ReplaceAll(e, markOpen, "<mark>")
	return strings.ReplaceAll(e, markClose, "</mark>")
}
