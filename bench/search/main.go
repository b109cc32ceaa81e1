// Command search measures case search (GET /cases?q=…, through the store
// layer's List with its count and snippets) on a store of a million cases,
// against an indexed equality lookup (a case by its number) in the same run,
// and what the search index adds to a case write. See bench/BENCHMARKS.md.
//
//	go run ./bench/search -db sqlite -cases 1000000
//	go run ./bench/search -db postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable -cases 1000000
//
// -keep NAME keeps the filled store (SQLite: the file NAME; PostgreSQL: the
// database flare_bench_NAME) and reuses it in later runs, so that one fill
// serves every run; a reused store skips the per-write measurement, which
// wants a small store. Drop a kept store whose fill was interrupted.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/flare-desk/flare/bench/internal/benchstore"
	"github.com/flare-desk/flare/bench/internal/fill"
	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/demo"
)

func main() {
	dbFlag := flag.String("db", "sqlite", "sqlite, or a postgres:// server URL (a scratch database is created on it)")
	total := flag.Int("cases", 1_000_000, "cases in the store")
	reqs := flag.Int("requests", 200, "searches per kind")
	writes := flag.Int("writes", 2000, "case writes for the index's cost per write")
	keep := flag.String("keep", "", "keep the store under this name and reuse it (see the package comment)")
	flag.Parse()
	if err := run(context.Background(), *dbFlag, *keep, *total, *reqs, *writes); err != nil {
		fmt.Fprintln(os.Stderr, "search:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, which, keep string, total, reqs, writes int) error {
	open := benchstore.Open
	if keep != "" {
		open = func(ctx context.Context, which string) (*db.DB, func(), error) {
			return benchstore.OpenKept(ctx, which, keep)
		}
	}
	d, cleanup, err := open(ctx, which)
	if err != nil {
		return err
	}
	defer cleanup()
	var have int
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM cases`).Scan(&have); err != nil {
		return err
	}
	a, err := app.New(d, app.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	now := a.Clock.Now()
	cfg := demo.Desk(1)
	if _, err := a.Desk.Apply(ctx, auth.System("bench"), now, cfg); err != nil {
		return err
	}
	users, err := auth.ListUsers(ctx, d)
	if err != nil {
		return err
	}
	var admin auth.Actor
	for _, u := range users {
		if u.Role == auth.RoleAdmin {
			admin = auth.ActorFor(u)
			break
		}
	}
	// The generator's cases depend on its instant: a fixed one, so that a
	// kept store and a later run's queries come from the same cases.
	pool, err := fill.NewPool(ctx, a.Cases, admin, cfg, 5000, time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC))
	if err != nil {
		return err
	}
	label := "SQLite"
	if d.Dialect() == db.Postgres {
		label = "PostgreSQL"
	}
	fmt.Printf("## %s — %d cases\n\n", label, total)

	// The cost of the index per case write: the same cases written with
	// the per-case write path, before the store is big.
	perWrite := "Per case written: not measured (a reused store)."
	if have == 0 && writes > 0 {
		if perWrite, err = writeCost(ctx, a, d, admin, pool, writes); err != nil {
			return err
		}
	}
	start := time.Now()
	if err := fill.To(ctx, d, pool, total, 20_000, now); err != nil {
		return err
	}
	filled := time.Since(start)
	start = time.Now()
	if _, err := a.Cases.SyncSearch(ctx); err != nil { // SQLite: index the bulk-filled cases
		return err
	}
	indexed := time.Since(start)
	// PostgreSQL: what autovacuum gives a bulk-loaded table (the visibility
	// map lets the capped count skip the heap).
	analyze := map[db.Dialect]string{db.SQLite: "ANALYZE", db.Postgres: "VACUUM ANALYZE cases"}[d.Dialect()]
	if _, err := d.Exec(ctx, analyze); err != nil {
		return err
	}
	switch {
	case have >= total:
		fmt.Printf("A kept store of %d cases, reused", have)
	case d.Dialect() == db.Postgres:
		fmt.Printf("Filled in %s (bulk INSERTs through the search triggers; the secondary and search indexes built after)", filled.Round(time.Second))
	default:
		fmt.Printf("Filled in %s (bulk INSERTs)", filled.Round(time.Second))
	}
	if d.Dialect() == db.SQLite && indexed > time.Second {
		fmt.Printf(", then indexed in %s", indexed.Round(time.Second))
	}
	fmt.Printf(".\n\n%s\n\n", perWrite)

	// The queries: words of the pool's cases, so each finds what a person
	// would be looking for.
	c := rare(pool)
	num := int64(total / 2)
	kinds := []struct{ kind, q string }{
		{"a case number, ESC-n (baseline: unique index)", cases.FormatNumber(num)},
		{"a word of a title", commonWord(pool)},
		{"two words", twoWords(c.Title)},
		{"a requester's name", c.Requester.Name},
		{"a requester's email", c.Requester.Email},
		{"the email's words, as searched before the address was matched as typed", strings.Join(words(c.Requester.Email), " ")},
		{"the start of an email", c.Requester.Email[:strings.IndexByte(c.Requester.Email, '@')+1]},
		{"a seller id", seller(pool)},
		{"a number without ESC- (and order numbers)", fmt.Sprint(num)},
		{"an order number (custom field)", fill.OrderID(withOrder(pool, num+7))},
		{"an accented word typed without accents", accented(pool)},
		{"a word no case has", "zyzzyva"},
	}
	fmt.Printf("| search (first page of 50, newest first, with the count and snippets) | matches | p50 | p99 | p99 / baseline |\n|---|---:|---:|---:|---:|\n")
	var base time.Duration
	for i, k := range kinds {
		f := cases.ListFilter{Q: k.q, Count: true, Limit: 50}
		var lat []time.Duration
		var matched string
		for j := range reqs + 10 {
			t := time.Now()
			p, err := a.Cases.List(ctx, admin, f)
			if err != nil {
				return fmt.Errorf("%s %q: %w", k.kind, k.q, err)
			}
			if j >= 10 { // after warming
				lat = append(lat, time.Since(t))
			}
			matched = fmt.Sprint(*p.Total)
			if p.TotalMore {
				matched = "> " + matched
			}
		}
		slices.Sort(lat)
		p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
		if i == 0 {
			base = p99
		}
		fmt.Printf("| %s: `%s` | %s | %s | %s | %.1f× |\n", k.kind, k.q, matched, ms(p50), ms(p99), float64(p99)/float64(max(base, 1)))
	}
	fmt.Println()
	return nil
}

// writeCost times the same case writes (create, a title change, a comment)
// with the search index's triggers and without them, on a small store.
func writeCost(ctx context.Context, a *app.App, d *db.DB, admin auth.Actor, pool fill.Pool, n int) (string, error) {
	type trig struct{ on, name string }
	var trigs []trig
	if d.Dialect() == db.Postgres {
		trigs = []trig{{"cases", "cases_search_insert"}, {"cases", "cases_search_update"}, {"case_comments", "case_comments_search"}}
	}
	round := func() (time.Duration, error) {
		start := time.Now()
		for i := range n {
			c := pool[i%len(pool)]
			in := cases.CreateInput{Title: c.Title, Description: c.Description, Category: c.Category, Market: c.Market,
				Requester: &c.Requester, Fields: c.Fields, Tags: c.Tags}
			if c.SellerID != nil {
				in.SellerID = *c.SellerID
			}
			got, err := a.Cases.Create(ctx, admin, in, nil)
			if err != nil {
				return 0, err
			}
			title := got.Title + " (again)"
			if _, err := a.Cases.Update(ctx, admin, got.Number, cases.UpdateInput{Title: &title}); err != nil {
				return 0, err
			}
			if _, err := a.Cases.AddComment(ctx, admin, got.Number, cases.CommentInput{Body: "Asked the carrier for proof of delivery.", Internal: true}); err != nil {
				return 0, err
			}
		}
		if _, err := a.Cases.SyncSearch(ctx); err != nil { // SQLite: the batched index's share
			return 0, err
		}
		return time.Since(start) / time.Duration(n), nil
	}
	with, err := round()
	if err != nil {
		return "", err
	}
	if d.Dialect() == db.SQLite {
		// Without the index: the triggers dropped, no sync.
		for _, s := range []string{"DROP TRIGGER cases_search_changed", "DROP TRIGGER case_comments_search"} {
			if _, err := d.Exec(ctx, s); err != nil {
				return "", err
			}
		}
		if _, err := d.Exec(ctx, `UPDATE counters SET value = 1000000000 WHERE name = 'search_upto'`); err != nil {
			return "", err
		}
	}
	for _, t := range trigs {
		if _, err := d.Exec(ctx, "ALTER TABLE "+t.on+" DISABLE TRIGGER "+t.name); err != nil {
			return "", err
		}
	}
	without, err := round()
	if err != nil {
		return "", err
	}
	// Put the index back as it was and rebuild it for what was written.
	if d.Dialect() == db.SQLite {
		for _, s := range []string{
			`CREATE TRIGGER cases_search_changed AFTER UPDATE OF title, description, requester_name, requester_email, seller_id, fields ON cases
			WHEN old.title IS NOT new.title OR old.description IS NOT new.description OR old.requester_name IS NOT new.requester_name
			  OR old.requester_email IS NOT new.requester_email OR old.seller_id IS NOT new.seller_id OR old.fields IS NOT new.fields BEGIN
			INSERT OR IGNORE INTO search_pending (case_id) VALUES (new.id); END`,
			`CREATE TRIGGER case_comments_search AFTER INSERT ON case_comments BEGIN
			INSERT OR IGNORE INTO search_pending (case_id) VALUES (new.case_id); END`,
			`DELETE FROM case_search`,
			`UPDATE counters SET value = 0 WHERE name = 'search_upto'`,
		} {
			if _, err := d.Exec(ctx, s); err != nil {
				return "", err
			}
		}
	}
	for _, t := range trigs {
		if _, err := d.Exec(ctx, "ALTER TABLE "+t.on+" ENABLE TRIGGER "+t.name); err != nil {
			return "", err
		}
		if _, err := d.Exec(ctx, "UPDATE cases SET search = flare_case_search(cases, true)"); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("Per case written (create, a title change, an internal note; %d cases, one at a time): %s with the search index, %s without it: the index adds %s (%.0f %%).",
		n, ms(with), ms(without), ms(with-without), 100*float64(with-without)/float64(max(without, 1))), nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// commonWord is a long word of many of the pool's titles.
func commonWord(p fill.Pool) string {
	count := map[string]int{}
	for _, c := range p {
		for _, w := range words(strings.ToLower(c.Title)) {
			if len(w) >= 6 {
				count[w]++
			}
		}
	}
	best, n := "", 0
	for w, k := range count {
		if k > n || k == n && w < best {
			best, n = w, k
		}
	}
	return best
}

// rare is the pool case whose requester's address the fewest pool cases
// have (the first of them): the hardest name and email searches, whose
// every match is read before the page is full.
func rare(p fill.Pool) *cases.Case {
	n := map[string]int{}
	for _, c := range p {
		n[c.Requester.Email]++
	}
	best := p[0]
	for _, c := range p {
		if n[c.Requester.Email] < n[best.Requester.Email] {
			best = c
		}
	}
	return best
}

// seller is a seller id of the pool's cases.
func seller(p fill.Pool) string {
	for _, c := range p[77:] {
		if c.SellerID != nil {
			return *c.SellerID
		}
	}
	return "S-10001"
}

func twoWords(title string) string {
	w := words(title)
	if len(w) < 2 {
		return title
	}
	return w[0] + " " + w[len(w)-1]
}

// accented is a title word with an accent, written without it.
func accented(p fill.Pool) string {
	plain := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	for _, c := range p {
		for _, w := range words(c.Title) {
			w = strings.ToLower(w)
			if f, _, err := transform.String(plain, w); err == nil && f != w && len(f) >= 6 && f == strings.Map(asciiOnly, f) {
				return f
			}
		}
	}
	return "livraison"
}

func asciiOnly(r rune) rune {
	if r > unicode.MaxASCII {
		return -1
	}
	return r
}

// withOrder is the first case number from n on whose pool case has an order
// number (the filler gives it OrderID of that number).
func withOrder(p fill.Pool, n int64) int64 {
	for i := range int64(len(p)) {
		if _, ok := p[int((n+i))%len(p)].Fields["order_id"]; ok {
			return n + i
		}
	}
	return n
}
