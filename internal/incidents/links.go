package incidents

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/events"
)

// CaseFacts are what the auto-link rules know of a new case.
type CaseFacts struct {
	Category, Market, Seller string
	Text                     string // title and description
}

// FactsOf is c's facts for the auto-link rules.
func FactsOf(c *cases.Case) CaseFacts {
	f := CaseFacts{Category: c.Category, Market: c.Market, Text: c.Title + "\n" + c.Description}
	if c.SellerID != nil {
		f.Seller = *c.SellerID
	}
	return f
}

func categoryIn(list []string, cat string) bool {
	for _, k := range list {
		if k == cat || (strings.HasSuffix(k, "/") && strings.HasPrefix(cat, k)) ||
			(!strings.Contains(k, "/") && strings.HasPrefix(cat, k+"/")) {
			return true
		}
	}
	return false
}

// Matches reports whether the rule r takes a case with facts f. Pure.
func (r AutoLinkRule) Matches(f CaseFacts) bool {
	if len(r.Categories) > 0 && !categoryIn(r.Categories, f.Category) {
		return false
	}
	if len(r.Markets) > 0 && !slices.Contains(r.Markets, f.Market) {
		return false
	}
	if len(r.Sellers) > 0 && !slices.Contains(r.Sellers, f.Seller) {
		return false
	}
	if len(r.Keywords) > 0 {
		text := strings.ToLower(f.Text)
		return slices.ContainsFunc(r.Keywords, func(k string) bool { return strings.Contains(text, strings.ToLower(k)) })
	}
	return true
}

// InScope reports whether a case with facts f lies in inc's affected
// markets, categories and sellers (an empty list takes any). Pure.
func (inc *Incident) InScope(f CaseFacts) bool {
	return (len(inc.Markets) == 0 || slices.Contains(inc.Markets, f.Market)) &&
		(len(inc.Categories) == 0 || categoryIn(inc.Categories, f.Category)) &&
		(len(inc.Sellers) == 0 || slices.Contains(inc.Sellers, f.Seller))
}

// AutoLinks is which of the open incidents a new case with facts f is
// linked to, with the rule that links it. Pure.
func AutoLinks(rules []AutoLinkRule, open []*Incident, f CaseFacts) map[int64]string {
	out := map[int64]string{}
	for _, r := range rules {
		if !r.Matches(f) {
			continue
		}
		for _, inc := range open {
			if _, ok := out[inc.ID]; ok || !inc.Status.Active() || (len(r.Types) > 0 && !slices.Contains(r.Types, inc.Type)) {
				continue
			}
			if inc.InScope(f) {
				out[inc.ID] = r.Name
			}
		}
	}
	return out
}

// autoLink is the in-transaction subscriber of case.created: the desk's
// auto-link rules link the new case to the open incidents they name.
func (s *Service) autoLink(ctx context.Context, tx *db.Tx, e events.Event) error {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return err
	}
	rules := SettingsOf(cfg).AutoLink
	if len(rules) == 0 || e.Case == nil {
		return nil
	}
	rows, err := tx.Query(ctx, "SELECT "+columns+" WHERE i.status IN ('investigating', 'identified', 'monitoring') ORDER BY i.id")
	if err != nil {
		return fmt.Errorf("open incidents: %w", err)
	}
	open, err := db.Collect(rows, scan)
	if err != nil || len(open) == 0 {
		return err
	}
	c, err := s.cases.Find(ctx, tx, idString(e.Case.ID))
	if err != nil {
		return err
	}
	hits := AutoLinks(rules, open, FactsOf(c))
	for _, inc := range open {
		if rule, ok := hits[inc.ID]; ok {
			if _, err := s.link(ctx, tx, flare, inc, []*cases.Case{c}, "rule:"+rule, s.clock.Now()); err != nil {
				return err
			}
		}
	}
	return nil
}

// link links cs to inc in tx (those linked already are left as they are),
// with an entry on each case's timeline, one on the incident's, and the
// event. It returns how many it linked.
func (s *Service) link(ctx context.Context, tx *db.Tx, actor auth.Actor, inc *Incident, cs []*cases.Case, via string, now time.Time) (int, error) {
	// Set-based: a multi-row INSERT per chunk reports the cases it newly
	// linked, and their timeline entries go in one INSERT per chunk too.
	var numbers []string
	entry := cases.Entry{Type: "incident_linked", Data: map[string]any{"incident": inc.Number, "title": inc.Title,
		"severity": inc.Severity, "via": via}}
	for chunk := range slices.Chunk(cs, linkChunk) {
		rows := make([]string, len(chunk))
		args := make([]any, 0, 5*len(chunk))
		number := make(map[int64]string, len(chunk))
		for i, c := range chunk {
			rows[i] = "(?, ?, ?, ?, ?)"
			args = append(args, inc.ID, c.ID, via, db.NullID(actor.UserID), db.T(now))
			number[c.ID] = c.Number
		}
		linked, err := db.QueryIDs(ctx, tx, `INSERT INTO incident_cases (incident_id, case_id, via, linked_by, linked_at) VALUES `+
			strings.Join(rows, ", ")+` ON CONFLICT (incident_id, case_id) DO NOTHING RETURNING case_id`, args...)
		if err != nil {
			return 0, fmt.Errorf("link cases: %w", err)
		}
		slices.Sort(linked)
		if err := s.cases.AddEntriesMany(ctx, tx, actor, now, linked, entry); err != nil {
			return 0, err
		}
		for _, id := range linked {
			numbers = append(numbers, number[id])
		}
	}
	if len(numbers) == 0 {
		return 0, nil
	}
	data := map[string]any{"count": len(numbers), "via": via, "cases": numbers[:min(len(numbers), 20)]}
	if err := addEntry(ctx, tx, inc.ID, actor, now, "cases_linked", "", data); err != nil {
		return 0, err
	}
	if err := s.touch(ctx, tx, inc.ID, now); err != nil {
		return 0, err
	}
	return len(numbers), s.publish(ctx, tx, actor, events.IncidentCasesLinked, inc,
		&events.Incident{Count: len(numbers), Cases: numbers[:min(len(numbers), 100)], Reason: via}, now)
}

// linkChunk bounds the rows of one link INSERT (5 parameters each).
const linkChunk = 200

// LinkInput is the body of POST /incidents/{ref}/cases: case references,
// or a case search (the filter of GET /cases) whose every match is linked.
type LinkInput struct {
	Cases  []string          `json:"cases"`
	Filter *cases.ListFilter `json:"-"`
}

// MaxLink is the most cases one link request takes.
const MaxLink = 20_000

// LinkResult says how many cases a link request linked.
type LinkResult struct {
	Incident string `json:"incident"`
	Matched  int    `json:"matched"` // the cases named or found
	Linked   int    `json:"linked"`  // of which newly linked
}

// Link links cases to incident ref by hand: each case the actor can see,
// named or found by the filter.
func (s *Service) Link(ctx context.Context, actor auth.Actor, ref string, in LinkInput) (*LinkResult, error) {
	if err := mayWrite(actor, "link cases to incidents"); err != nil {
		return nil, err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	id, ok := ParseRef(ref)
	if !ok {
		return nil, apperr.ErrNotFound
	}
	inc, err := s.byID(ctx, s.db, cfg, id)
	if err != nil {
		return nil, err
	}
	if inc.Status == Closed {
		return nil, &apperr.Conflict{Detail: inc.Number + " is closed"}
	}
	v := &apperr.Invalid{}
	var found []*cases.Case
	via := "manual"
	switch {
	case len(in.Cases) > 0 && in.Filter != nil:
		v.Add("cases", "name cases or give a search, not both")
	case len(in.Cases) > 0:
		if len(in.Cases) > MaxLink {
			v.Add("cases", "at most %d cases at once", MaxLink)
			break
		}
		var err error
		if found, err = s.findCases(ctx, actor, v, in.Cases); err != nil {
			return nil, err
		}
	case in.Filter != nil:
		via = "bulk"
		f := *in.Filter
		f.Limit, f.Cursor = 200, ""
		for {
			p, err := s.cases.List(ctx, actor, f)
			if err != nil {
				return nil, err
			}
			found = append(found, p.Cases...)
			if p.NextCursor == "" {
				break
			}
			if len(found) > MaxLink {
				return nil, apperr.InvalidField("q", "the search finds more than %d cases: narrow it", MaxLink)
			}
			f.Cursor = p.NextCursor
		}
	default:
		v.Add("cases", "name the cases to link, or give a search")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	res := &LinkResult{Incident: inc.Number, Matched: len(found)}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := s.lock(ctx, tx, cfg, id)
		if err != nil {
			return err
		}
		if cur.Status == Closed {
			return &apperr.Conflict{Detail: cur.Number + " is closed"}
		}
		if res.Linked, err = s.link(ctx, tx, actor, cur, found, via, now); err != nil {
			return err
		}
		if res.Linked == 0 {
			return nil
		}
		return audit.Append(ctx, tx, now, auditEntryLink(actor, cur, via, res.Linked))
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Unlink removes the link of case caseRef to incident ref.
func (s *Service) Unlink(ctx context.Context, actor auth.Actor, ref, caseRef string) error {
	if err := mayWrite(actor, "unlink cases"); err != nil {
		return err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return err
	}
	id, ok := ParseRef(ref)
	if !ok {
		return apperr.ErrNotFound
	}
	c, err := s.cases.Get(ctx, actor, caseRef)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		inc, err := s.lock(ctx, tx, cfg, id)
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `DELETE FROM incident_cases WHERE incident_id = ? AND case_id = ? AND reply_state <> 'pending'`, id, c.ID)
		if err != nil {
			return fmt.Errorf("unlink: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.ErrNotFound
		}
		if err := s.cases.AddEntries(ctx, tx, actor, c.ID, now, []cases.Entry{{Type: "incident_unlinked",
			Data: map[string]any{"incident": inc.Number}}}); err != nil {
			return err
		}
		if err := addEntry(ctx, tx, id, actor, now, "case_unlinked", "", map[string]any{"case": c.Number}); err != nil {
			return err
		}
		return s.touch(ctx, tx, id, now)
	})
}

func auditEntryLink(actor auth.Actor, inc *Incident, via string, n int) audit.Entry {
	return audit.Entry{ActorID: actor.UserID, Actor: audit.ActorName(actor), Action: "incident.link", ObjectType: "incident",
		ObjectID: inc.Number, After: map[string]any{"via": via, "linked": n}}
}

// findCases looks up the cases refs name (ids or ESC numbers) that actor
// can see (cases.Scope), 500 at a time, with only what a link needs: a
// ref that names none is a field error in v.
func (s *Service) findCases(ctx context.Context, actor auth.Actor, v *apperr.Invalid, refs []string) ([]*cases.Case, error) {
	scope, sargs := cases.Scope(actor)
	if scope == "" {
		scope = "1 = 1"
	}
	type key struct{ id, number int64 }
	keys := make([]key, len(refs))
	byID, byNumber := map[int64]*cases.Case{}, map[int64]*cases.Case{}
	for i, r := range refs {
		id, number, ok := cases.ParseRef(strings.TrimSpace(r))
		if !ok {
			v.Add(fmt.Sprintf("cases[%d]", i), "%q is not a case number", r)
			continue
		}
		keys[i] = key{id, number}
	}
	for chunk := range slices.Chunk(keys, 500) {
		var ids, numbers []any
		for _, k := range chunk {
			if k.number > 0 {
				numbers = append(numbers, k.number)
			} else if k.id > 0 {
				ids = append(ids, k.id)
			}
		}
		cond := "c.number IN (" + db.Placeholders(max(len(numbers), 1)) + ") OR c.id IN (" + db.Placeholders(max(len(ids), 1)) + ")"
		if len(numbers) == 0 {
			numbers = []any{0}
		}
		if len(ids) == 0 {
			ids = []any{0}
		}
		args := append(append(numbers, ids...), sargs...)
		rows, err := s.db.Query(ctx, `SELECT c.id, c.number FROM cases c WHERE (`+cond+`) AND (`+scope+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("find cases: %w", err)
		}
		got, err := db.Collect(rows, func(r db.Scanner) (*cases.Case, error) {
			var c cases.Case
			var n int64
			err := r.Scan(&c.ID, &n)
			c.Number = cases.FormatNumber(n)
			return &c, err
		})
		if err != nil {
			return nil, fmt.Errorf("find cases: %w", err)
		}
		for _, c := range got {
			n, _ := cases.ParseNumber(c.Number)
			byID[c.ID], byNumber[n] = c, c
		}
	}
	var out []*cases.Case
	for i, k := range keys {
		c := byNumber[k.number]
		if k.number == 0 {
			c = byID[k.id]
		}
		if c == nil {
			if k != (key{}) {
				v.Add(fmt.Sprintf("cases[%d]", i), "no case %q that you can see", refs[i])
			}
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// LinkedCaseIDs are the ids of the cases linked to incident id, in id
// order, read through q (a transaction's or the store): what the
// postmortem's impact is counted over.
func (s *Service) LinkedCaseIDs(ctx context.Context, q db.Querier, id int64) ([]int64, error) {
	ids, err := db.QueryIDs(ctx, q, `SELECT case_id FROM incident_cases WHERE incident_id = ? ORDER BY case_id`, id)
	if err != nil {
		return nil, fmt.Errorf("incident %d linked cases: %w", id, err)
	}
	return ids, nil
}
