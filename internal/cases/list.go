package cases

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
)

// ListFilter selects and orders cases for GET /cases.
type ListFilter struct {
	Status   []Status
	Team     []string
	Market   []string
	Priority []string
	Owner    string // "me", "none" or an email
	SellerID string
	Category string // exact key, or a group ("logistics" or "logistics/")
	Q        string // full text (see search.go), or a case number (ESC-3001)
	Fields   map[string]string
	Sort     string // priority (then age), due (priority, then the most urgent clock's due instant), created_at, -created_at (default), updated_at, -updated_at
	Cursor   string
	Limit    int
	// Count asks for the number of matching cases (up to CountCap).
	Count bool
	// CountOnly asks for the count alone, without the page's cases (a
	// saved view's live count).
	CountOnly bool
}

// CountCap bounds a list's count, so that counting stays cheap on any desk:
// beyond it the page says "more than".
const CountCap = 1000

// Page is one page of a case list.
type Page struct {
	Cases      []*Case `json:"cases"`
	NextCursor string  `json:"next_cursor,omitempty"`
	// Total counts the matching cases on every page, when asked; TotalMore:
	// there are more than Total (CountCap).
	Total     *int `json:"total,omitempty"`
	TotalMore bool `json:"total_more,omitempty"`
	// Snippets quote where each case matched the search, by case number:
	// HTML, escaped, with only <mark> added.
	Snippets map[string]string `json:"snippets,omitempty"`
}

// sortSpec says how a sort orders rows and how its cursor compares.
type sortSpec struct {
	order  string // ORDER BY clause
	keyset string // row-value comparison with the cursor
	key    func(c *Case) []any
}

var sorts = map[string]sortSpec{
	"priority": {"c.priority, c.created_at, c.id", "(c.priority, c.created_at, c.id) > (?, ?, ?)",
		func(c *Case) []any { return []any{c.Priority, c.CreatedAt, c.ID} }},
	"due": {"c.priority, c.due_sort, c.id", "(c.priority, c.due_sort, c.id) > (?, ?, ?)",
		func(c *Case) []any { return []any{c.Priority, c.dueSort, c.ID} }},
	"created_at": {"c.created_at, c.id", "(c.created_at, c.id) > (?, ?)",
		func(c *Case) []any { return []any{c.CreatedAt, c.ID} }},
	"-created_at": {"c.created_at DESC, c.id DESC", "(c.created_at, c.id) < (?, ?)",
		func(c *Case) []any { return []any{c.CreatedAt, c.ID} }},
	"updated_at": {"c.updated_at, c.id", "(c.updated_at, c.id) > (?, ?)",
		func(c *Case) []any { return []any{c.UpdatedAt, c.ID} }},
	"-updated_at": {"c.updated_at DESC, c.id DESC", "(c.updated_at, c.id) < (?, ?)",
		func(c *Case) []any { return []any{c.UpdatedAt, c.ID} }},
	// newest: in the order Flare recorded the cases, the last first (the
	// search's default).
	"newest": {"c.id DESC", "c.id < ?", func(c *Case) []any { return []any{c.ID} }},
}

// SortNames lists the accepted sorts.
var SortNames = []string{"priority", "due", "created_at", "-created_at", "updated_at", "-updated_at", "newest"}

var fieldKeyRe = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// List returns the cases a may see that match f, one page at a time.
func (s *Service) List(ctx context.Context, a auth.Actor, f ListFilter) (*Page, error) {
	if !a.Can(auth.PermCaseRead) {
		return nil, &apperr.Forbidden{Detail: "your role cannot read cases"}
	}
	v := &apperr.Invalid{}
	q := strings.TrimSpace(f.Q)
	number, isNumber := ParseNumber(strings.ReplaceAll(q, " ", ""))
	searching := !isNumber && len(searchWords(q)) > 0
	if f.Sort == "" {
		f.Sort = "-created_at"
		if searching {
			// The index gives matches newest first, so a search stops at
			// the page instead of sorting every match of a common word.
			f.Sort = "newest"
		}
	}
	spec, ok := sorts[f.Sort]
	if !ok {
		v.Add("sort", "unknown sort %q; one of %s", f.Sort, strings.Join(SortNames, ", "))
	}
	switch {
	case f.Limit == 0:
		f.Limit = 50
	case f.Limit < 1 || f.Limit > 200:
		v.Add("limit", "must be between 1 and 200")
	}
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if cond, a := Scope(a); cond != "" {
		add(cond, a...)
	}
	in := func(col string, vals []string) {
		if len(vals) > 0 {
			anys := make([]any, len(vals))
			for i, v := range vals {
				anys[i] = v
			}
			add(col+" IN ("+db.Placeholders(len(vals))+")", anys...)
		}
	}
	statuses := make([]string, len(f.Status))
	for i, st := range f.Status {
		if !st.Valid() {
			v.Add("status", "unknown status %q", st)
		}
		statuses[i] = string(st)
	}
	statusAt, statusArg := len(where), len(args) // the status condition, split per status below
	in("c.status", statuses)
	// Unknown names are refused as unknown statuses are, rather than
	// answering an empty list that looks like an empty queue.
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	cfg.CheckTeams(v, "team", f.Team)
	cfg.CheckMarkets(v, "market", f.Market)
	in("c.team", f.Team)
	in("c.market", f.Market)
	for _, p := range f.Priority {
		if !validPriority(p) {
			v.Add("priority", "unknown priority %q", p)
		}
	}
	in("c.priority", f.Priority)
	switch f.Owner {
	case "":
	case "none":
		add("c.owner_id IS NULL")
	case "me":
		add("c.owner_id = ?", a.UserID)
	default:
		owner := strings.ToLower(f.Owner)
		if _, err := auth.UserByEmail(ctx, s.db, owner); errors.Is(err, auth.ErrNotFound) {
			v.Add("owner", "no user %q; or me, or none", f.Owner)
		} else if err != nil {
			return nil, err
		}
		add("c.owner_id = (SELECT id FROM users WHERE email = ?)", owner)
	}
	if f.SellerID != "" {
		add("c.seller_id = ?", f.SellerID)
	}
	if f.Category != "" {
		if group, ok := strings.CutSuffix(f.Category, "/"); ok || !strings.Contains(f.Category, "/") {
			if !ok {
				group = f.Category
			}
			add("c.category >= ? AND c.category < ?", group+"/", group+"0") // '0' follows '/'
		} else {
			add("c.category = ?", f.Category)
		}
	}
	for k, val := range f.Fields {
		if !fieldKeyRe.MatchString(k) {
			v.Add("field."+k, "is not a field name")
			continue
		}
		if s.db.Dialect() == db.Postgres {
			add("(c.fields->>'"+k+"' = ? OR c.fields->'"+k+"' @> to_jsonb(?::text))", val, val)
		} else {
			add("EXISTS (SELECT 1 FROM json_each(c.fields, '$."+k+"') WHERE CAST(json_each.value AS TEXT) = ?)", val)
		}
	}
	// On SQLite a search in the index's order is driven by the index: its
	// matches joined to their cases, newest first, until the page is full.
	from := caseColumns
	driven := searching && s.db.Dialect() == db.SQLite && f.Sort == "newest"
	others := len(where) // conditions besides the search
	switch {
	case isNumber:
		add("c.number = ?", number)
		q = "" // no snippet: the number says it
	case driven:
		if _, err := s.SyncSearch(ctx); err != nil {
			return nil, err
		}
		from = strings.Replace(caseColumns, "FROM cases c", "FROM case_search JOIN cases c ON c.id = case_search.rowid", 1)
		words, exact := splitSearch(q)
		add("case_search MATCH ?", ftsQuery(a, words))
		for _, e := range exact {
			add(sqliteExact(a), e)
		}
		spec = sortSpec{"case_search.rowid DESC", "case_search.rowid < ?", spec.key}
	case searching:
		// A bare number is searched as a word: the case number is in the
		// index, and so are order and tracking numbers in custom fields.
		cond, sargs, err := s.searchCond(ctx, a, q)
		if err != nil {
			return nil, err
		}
		add(cond, sargs...)
	}
	nfilter, nargs := len(where), len(args)
	if f.Cursor != "" && ok {
		vals, err := DecodeCursor(f.Cursor, f.Sort)
		if err != nil || len(vals) != strings.Count(spec.keyset, "?") {
			v.Add("cursor", "is not a cursor from this list")
		} else {
			add(spec.keyset, vals...)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	page := &Page{Cases: []*Case{}}
	if searching && s.db.Dialect() == db.Postgres {
		// The matches up to the cap, by the GIN index, give the count and,
		// when they are all there are, the page by their ids. The planner
		// cannot tell a rare word from a common one: left to it, a word of
		// a few cases walks every case newest first to find them.
		ids, err := s.searchIDs(ctx, where[:nfilter], args[:nargs])
		if err != nil {
			return nil, err
		}
		if f.Count {
			n := min(len(ids), CountCap)
			page.Total, page.TotalMore = &n, len(ids) > CountCap
		}
		if len(ids) == 0 {
			return page, nil
		}
		if len(ids) > CountCap && f.Sort == "newest" {
			// Many matches: a rare one among them still makes the walk of
			// the newest cases long (1,200 matches in a million: 43,000
			// cases read for a page). The ids came in the table's order,
			// about the ids' order: the span of the first thousand tells
			// how far apart matches are, so how many cases the walk reads
			// for a page. When that is many, the page comes from the
			// newest ids that should hold four pages, read by the index.
			lo, hi := slices.Min(ids), slices.Max(ids)
			walk := int64(f.Limit+1) * (hi - lo + 1) / int64(len(ids))
			if walk > walkRows {
				newest, err := s.newestIDs(ctx, where[:nfilter], args[:nargs], args[nargs:], f.Limit+1, 4*walk)
				if err != nil {
					return nil, err
				}
				if newest != nil {
					ids = newest
				}
			}
		}
		if len(ids) <= CountCap {
			where = append([]string{"c.id = ANY(?)"}, where[nfilter:]...)
			args = append([]any{ids}, args[nargs:]...)
		}
		f.Count = false
	}
	if f.Count {
		// The count ignores the cursor: the same on every page.
		cq := "SELECT 1 FROM cases c"
		switch {
		case driven && others == 0:
			cq = "SELECT 1 FROM case_search" // the index alone counts
		case driven:
			cq = "SELECT 1 FROM case_search JOIN cases c ON c.id = case_search.rowid"
		}
		if nfilter > 0 {
			cq += " WHERE " + strings.Join(where[:nfilter], " AND ")
		}
		if len(statuses) > 0 && !searching && !isNumber {
			// In cases_status_due's order: SQLite then counts from that
			// index alone (it carries the visibility rule's columns)
			// rather than reading a case row per entry of a narrower one.
			cq += " ORDER BY c.status, c.priority, c.due_sort, c.id"
		}
		var n int
		cargs := append(append([]any{}, args[:nargs]...), CountCap+1)
		if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM ("+cq+" LIMIT ?) t", cargs...).Scan(&n); err != nil {
			return nil, fmt.Errorf("count cases: %w", err)
		}
		page.TotalMore = n > CountCap
		page.Total = &n
		if page.TotalMore {
			*page.Total = CountCap
		}
	}
	if f.CountOnly && f.Count {
		return page, nil
	}
	sq := "SELECT " + from
	switch {
	case len(statuses) > 1 && !searching && !isNumber && (f.Sort == "due" || f.Sort == "priority"):
		// Each status's first page in the sort's order (an index walk that
		// stops at the page: cases_status_due, cases_status), then the
		// pages merged; one IN over the statuses sorts every active case.
		// The other sorts walk an index of their own (cases_created…)
		// filtering the statuses, which stops at the page already.
		var parts []string
		var pargs []any
		for i, st := range statuses {
			w := slices.Clone(where)
			w[statusAt] = "c.status = ?"
			parts = append(parts, fmt.Sprintf("SELECT id FROM (SELECT c.id FROM cases c WHERE %s ORDER BY %s LIMIT ?) AS s%d",
				strings.Join(w, " AND "), spec.order, i))
			pargs = append(append(append(pargs, args[:statusArg]...), st), args[statusArg+len(statuses):]...)
			pargs = append(pargs, f.Limit+1)
		}
		sq += " WHERE c.id IN (" + strings.Join(parts, " UNION ALL ") + ")"
		args = pargs
	case len(where) > 0:
		sq += " WHERE " + strings.Join(where, " AND ")
	}
	sq += " ORDER BY " + spec.order + " LIMIT ?"
	args = append(args, f.Limit+1)
	rows, err := s.db.Query(ctx, sq, args...)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	got, err := db.Collect(rows, func(r db.Scanner) (*Case, error) { return scanCase(r) })
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	page.Cases = append(page.Cases, got...)
	if len(page.Cases) > f.Limit {
		page.Cases = page.Cases[:f.Limit]
		page.NextCursor = EncodeCursor(f.Sort, spec.key(page.Cases[f.Limit-1]))
	}
	s.attachSLA(cfg, page.Cases)
	if q != "" && len(page.Cases) > 0 {
		ids := make([]int64, len(page.Cases))
		for i, c := range page.Cases {
			ids[i] = c.ID
		}
		snips, err := s.snippets(ctx, a, q, ids)
		if err != nil {
			return nil, err
		}
		page.Snippets = map[string]string{}
		for _, c := range page.Cases {
			if sn, ok := snips[c.ID]; ok {
				page.Snippets[c.Number] = sn
			}
		}
	}
	return page, nil
}

// searchIDs returns the ids of up to CountCap+1 cases matching where, in no
// order.
func (s *Service) searchIDs(ctx context.Context, where []string, args []any) ([]int64, error) {
	rows, err := s.db.Query(ctx, "SELECT c.id FROM cases c WHERE "+strings.Join(where, " AND ")+" LIMIT ?",
		append(append([]any{}, args...), CountCap+1)...)
	if err != nil {
		return nil, fmt.Errorf("search cases: %w", err)
	}
	ids, err := db.Collect(rows, func(r db.Scanner) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	})
	if err != nil {
		return nil, fmt.Errorf("search cases: %w", err)
	}
	return ids, nil
}

// walkRows is how many cases a PostgreSQL search may walk newest first for
// a page (a few milliseconds) before it reads the newest matches by the
// index instead.
const walkRows = 4000

// newestIDs returns the newest n ids matching where among the newest width
// ids (below the newest sort's cursor, if any), or nil when that window
// holds fewer than n or more than CountCap of them.
func (s *Service) newestIDs(ctx context.Context, where []string, args, cursor []any, n int, width int64) ([]int64, error) {
	var hi int64
	if len(cursor) == 1 {
		hi, _ = cursor[0].(int64)
	} else if err := s.db.QueryRow(ctx, "SELECT COALESCE(MAX(id), 0) + 1 FROM cases").Scan(&hi); err != nil {
		return nil, fmt.Errorf("search cases: %w", err)
	}
	// The bounds as literals (numbers of ours): with them as parameters a
	// prepared statement's generic plan cannot see that the window is small.
	w := append(append([]string{}, where...), fmt.Sprintf("c.id >= %d AND c.id < %d", hi-width, hi))
	ids, err := s.searchIDs(ctx, w, args)
	if err != nil || len(ids) < n || len(ids) > CountCap {
		return nil, err
	}
	slices.SortFunc(ids, func(a, b int64) int { return cmp.Compare(b, a) })
	return ids[:n], nil
}

func validPriority(p string) bool {
	for _, x := range Priorities {
		if x == p {
			return true
		}
	}
	return false
}

type cursor struct {
	Sort string            `json:"s"`
	Vals []json.RawMessage `json:"v"`
}

// EncodeCursor makes a list cursor for the sort named sort from the last
// row's sort key (a time and an id, after a priority for priority and due).
func EncodeCursor(sort string, vals []any) string {
	raw := make([]json.RawMessage, len(vals))
	for i, v := range vals {
		raw[i] = json.RawMessage(mustJSON(v))
	}
	return base64.RawURLEncoding.EncodeToString([]byte(mustJSON(cursor{Sort: sort, Vals: raw})))
}

// DecodeCursor reads a cursor of EncodeCursor back into query arguments.
func DecodeCursor(s, sort string) ([]any, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	if c.Sort != sort {
		return nil, fmt.Errorf("cursor is for sort %q", c.Sort)
	}
	if len(c.Vals) == 1 { // an id alone (newest, and lists by id)
		var id int64
		if err := json.Unmarshal(c.Vals[0], &id); err != nil {
			return nil, err
		}
		return []any{id}, nil
	}
	want := 2
	if sort == "priority" || sort == "due" {
		want = 3
	}
	if len(c.Vals) != want {
		return nil, fmt.Errorf("cursor has %d values", len(c.Vals))
	}
	var out []any
	if sort == "priority" || sort == "due" {
		var p string
		if err := json.Unmarshal(c.Vals[0], &p); err != nil {
			return nil, err
		}
		out = append(out, p)
		c.Vals = c.Vals[1:]
	}
	var t time.Time
	var id int64
	if err := json.Unmarshal(c.Vals[0], &t); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(c.Vals[1], &id); err != nil {
		return nil, err
	}
	return append(out, db.T(t), id), nil
}

// Events returns a case's timeline, oldest first (by time, then as added). Account managers see its
// public side: its creation, status changes (the resolution's note, not
// the desk's notes on its workflow) and public replies — not internal
// notes, handoffs, routing, assignment or SLA entries.
func (s *Service) Events(ctx context.Context, a auth.Actor, ref string) ([]Event, error) {
	c, err := s.Get(ctx, a, ref)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT e.id, e.type, u.email, u.name, e.data, e.created_at,
		cm.body, cm.internal, cm.from_name, cm.from_email
		FROM case_events e LEFT JOIN users u ON u.id = e.actor_id
		LEFT JOIN case_comments cm ON e.type = 'comment' AND cm.case_id = e.case_id AND cm.id = `+db.JSONInt(s.db.Dialect(), "e.data", "comment_id")+`
		WHERE e.case_id = ? ORDER BY e.created_at, e.id`, c.ID) // in time order: a merge copies entries with their own times
	if err != nil {
		return nil, fmt.Errorf("case events: %w", err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var (
			e                                     Event
			email, name, body, fromName, fromMail sql.NullString
			internal                              sql.NullBool
			data                                  string
			at                                    db.Time
		)
		if err := rows.Scan(&e.ID, &e.Type, &email, &name, &data, &at, &body, &internal, &fromName, &fromMail); err != nil {
			return nil, fmt.Errorf("case events: %w", err)
		}
		if PublicOnly(a) && !publicEntry(e.Type, internal) {
			continue
		}
		e.At = at.Time
		if email.Valid {
			e.Actor, e.ActorName = &email.String, name.String
		}
		if fromMail.String != "" { // the requester's own words, from outside Flare
			e.Actor, e.ActorName = &fromMail.String, cmp.Or(fromName.String, fromMail.String)
		}
		if err := json.Unmarshal([]byte(data), &e.Data); err != nil {
			return nil, fmt.Errorf("case events: %w", err)
		}
		delete(e.Data, assessedKey) // what the rules read is for the routing explanation (admins and leads)
		if PublicOnly(a) && e.Type == "status" && e.Data["to"] != string(StatusResolved) {
			delete(e.Data, "note") // the desk's own note on its workflow
		}
		if body.Valid {
			e.Data["body"] = body.String
			e.Data["body_html"] = s.md.HTML(body.String)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// publicEntry reports whether a timeline entry of typ is on a case's public side.
func publicEntry(typ string, internal sql.NullBool) bool {
	switch typ {
	case "created", "status":
		return true
	case "comment":
		return !internal.Bool
	}
	return false
}
