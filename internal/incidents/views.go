package incidents

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
)

// LinkedCase is a case linked to an incident.
type LinkedCase struct {
	Number     string    `json:"number"`
	Title      string    `json:"title"`
	Market     string    `json:"market"`
	Category   string    `json:"category"`
	Status     string    `json:"status"`
	Priority   string    `json:"priority"`
	SellerID   string    `json:"seller_id,omitempty"`
	Via        string    `json:"via"`
	LinkedAt   time.Time `json:"linked_at"`
	ReplyState string    `json:"reply_state,omitempty"` // pending, done, skipped: the bulk resolve
}

// Money is an amount at stake in one currency.
type Money struct {
	Currency string  `json:"currency"`
	Amount   float64 `json:"amount"`
}

// Impact is what the linked cases add up to: how many, where, in which
// status, and the money at stake (the money fields of their categories) —
// the figures a postmortem starts from. Counts cover every linked case,
// whoever reads them.
type Impact struct {
	Cases    int            `json:"cases"`
	Open     int            `json:"open"`
	ByMarket map[string]int `json:"by_market"`
	ByStatus map[string]int `json:"by_status"`
	Sellers  int            `json:"sellers"`
	Money    []Money        `json:"money"`
}

// LinkedPage is a page of an incident's linked cases with their impact.
type LinkedPage struct {
	Impact     Impact       `json:"impact"`
	Cases      []LinkedCase `json:"cases"` // those the reader can see
	NextCursor string       `json:"next_cursor,omitempty"`
}

const linkedSort = "incident_linked"

// Linked lists the cases linked to incident ref that actor may see, newest
// link first, with the impact of them all.
func (s *Service) Linked(ctx context.Context, actor auth.Actor, ref, cursor string, limit int) (*LinkedPage, error) {
	inc, err := s.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if limit == 0 {
		limit = 50
	}
	if limit < 1 || limit > 500 {
		return nil, apperr.InvalidField("limit", "must be between 1 and 500")
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	imp, err := s.impact(ctx, s.db, cfg, inc.ID)
	if err != nil {
		return nil, err
	}
	where, args := []string{"ic.incident_id = ?"}, []any{inc.ID}
	if cond, a := cases.Scope(actor); cond != "" {
		where, args = append(where, "("+cond+")"), append(args, a...)
	}
	if cursor != "" {
		after, err := cases.DecodeCursor(cursor, linkedSort)
		if err != nil || len(after) != 1 {
			return nil, apperr.InvalidField("cursor", "is not a cursor from this list")
		}
		where, args = append(where, "c.id < ?"), append(args, after[0])
	}
	rows, err := s.db.Query(ctx, `SELECT c.id, c.number, c.title, c.market, c.category, c.status, c.priority, c.seller_id, ic.via,
		ic.linked_at, ic.reply_state FROM incident_cases ic JOIN cases c ON c.id = ic.case_id WHERE `+strings.Join(where, " AND ")+
		` ORDER BY c.id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("linked cases: %w", err)
	}
	type row struct {
		id int64
		LinkedCase
	}
	got, err := db.Collect(rows, func(r db.Scanner) (row, error) {
		var x row
		var n int64
		var seller *string
		var at db.Time
		err := r.Scan(&x.id, &n, &x.Title, &x.Market, &x.Category, &x.Status, &x.Priority, &seller, &x.Via, &at, &x.ReplyState)
		x.Number, x.LinkedAt = cases.FormatNumber(n), at.Time
		if seller != nil {
			x.SellerID = *seller
		}
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("linked cases: %w", err)
	}
	p := &LinkedPage{Impact: *imp, Cases: []LinkedCase{}}
	for i, x := range got {
		if i == limit {
			p.NextCursor = cases.EncodeCursor(linkedSort, []any{got[i-1].id})
			break
		}
		p.Cases = append(p.Cases, x.LinkedCase)
	}
	return p, nil
}

// Impact is the impact of incident ref's linked cases (for the
// postmortem's customer and seller impact).
func (s *Service) Impact(ctx context.Context, actor auth.Actor, ref string) (*Impact, error) {
	inc, err := s.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	return s.impact(ctx, s.db, cfg, inc.ID)
}

func (s *Service) impact(ctx context.Context, q db.Querier, cfg *desk.Config, id int64) (*Impact, error) {
	imp := &Impact{ByMarket: map[string]int{}, ByStatus: map[string]int{}, Money: []Money{}}
	rows, err := q.Query(ctx, `SELECT c.market, c.status, COUNT(*), COUNT(DISTINCT c.seller_id) FROM incident_cases ic
		JOIN cases c ON c.id = ic.case_id WHERE ic.incident_id = ? GROUP BY c.market, c.status`, id)
	if err != nil {
		return nil, fmt.Errorf("impact: %w", err)
	}
	for rows.Next() {
		var market, status string
		var n, sellers int
		if err := rows.Scan(&market, &status, &n, &sellers); err != nil {
			rows.Close()
			return nil, err
		}
		imp.Cases += n
		imp.ByMarket[market] += n
		imp.ByStatus[status] += n
		if status != string(cases.StatusResolved) && status != string(cases.StatusClosed) {
			imp.Open += n
		}
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := q.QueryRow(ctx, `SELECT COUNT(DISTINCT c.seller_id) FROM incident_cases ic JOIN cases c ON c.id = ic.case_id
		WHERE ic.incident_id = ?`, id).Scan(&imp.Sellers); err != nil {
		return nil, err
	}
	// Money at stake: the money fields of the linked cases' categories.
	money := map[string]float64{}
	for _, cat := range cfg.Categories {
		for _, fd := range cat.Fields {
			if fd.Type != desk.FieldMoney {
				continue
			}
			rows, err := q.Query(ctx, `SELECT `+jsonText(q.Dialect(), fd.Key, "amount")+`, `+
				jsonText(q.Dialect(), fd.Key, "currency")+` FROM incident_cases ic JOIN cases c ON c.id = ic.case_id
				WHERE ic.incident_id = ? AND c.category = ?`, id, cat.Key)
			if err != nil {
				return nil, fmt.Errorf("money at stake: %w", err)
			}
			for rows.Next() {
				var amount, cur *string
				if err := rows.Scan(&amount, &cur); err != nil {
					rows.Close()
					return nil, err
				}
				if amount == nil {
					continue
				}
				v, err := strconv.ParseFloat(*amount, 64)
				if err != nil {
					continue
				}
				c := fd.Currency
				if cur != nil && *cur != "" {
					c = *cur
				}
				money[c] += v
			}
			if err := rows.Close(); err != nil {
				return nil, err
			}
		}
	}
	for c, v := range money {
		imp.Money = append(imp.Money, Money{Currency: c, Amount: v})
	}
	sort.Slice(imp.Money, func(i, j int) bool { return imp.Money[i].Currency < imp.Money[j].Currency })
	return imp, nil
}

// Banner is what a linked case's page shows of an incident: its number,
// severity, status and latest public update.
type Banner struct {
	Number   string     `json:"number"`
	Title    string     `json:"title"`
	Severity Severity   `json:"severity"`
	Status   Status     `json:"status"`
	Update   string     `json:"update,omitempty"` // the latest public update
	UpdateAt *time.Time `json:"update_at,omitempty"`
}

// ForCase is the banners of the incidents case ref is linked to, the open
// ones first.
func (s *Service) ForCase(ctx context.Context, actor auth.Actor, ref string) ([]Banner, error) {
	c, err := s.cases.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	ids, err := db.QueryIDs(ctx, s.db, `SELECT incident_id FROM incident_cases WHERE case_id = ? ORDER BY incident_id DESC`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("case incidents: %w", err)
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	out := []Banner{}
	for _, id := range ids {
		inc, err := s.byID(ctx, s.db, cfg, id)
		if err != nil {
			return nil, err
		}
		b := Banner{Number: inc.Number, Title: inc.Title, Severity: inc.Severity, Status: inc.Status}
		ups, err := s.updates(ctx, s.db, id, AudiencePublic, 1)
		if err != nil {
			return nil, err
		}
		if len(ups) > 0 {
			b.Update, b.UpdateAt = ups[0].Body, &ups[0].PostedAt
		}
		out = append(out, b)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Status.Active() && !out[j].Status.Active() })
	return out, nil
}

// Report is what a postmortem is pre-filled from: the incident, its
// timeline, its key moments and durations, and the impact of its linked
// cases. internal/postmortems reads it.
type Report struct {
	Incident  *Incident `json:"incident"`
	Timeline  []Entry   `json:"timeline"`
	Durations Durations `json:"durations"`
	Impact    *Impact   `json:"impact"`
	Updates   []Update  `json:"updates"`
}

// Report gathers the report of incident ref.
func (s *Service) Report(ctx context.Context, actor auth.Actor, ref string) (*Report, error) {
	inc, err := s.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	return s.ReportTx(ctx, s.db, inc.ID)
}

// ReportTx is Report read through q (a close guard's transaction), without
// a visibility check: incidents are readable by anyone signed in.
func (s *Service) ReportTx(ctx context.Context, q db.Querier, id int64) (*Report, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	inc, err := s.byID(ctx, q, cfg, id)
	if err != nil {
		return nil, err
	}
	r := &Report{Incident: inc, Durations: DurationsOf(inc.Moments)}
	if r.Timeline, err = s.timeline(ctx, q, id); err != nil {
		return nil, err
	}
	if r.Impact, err = s.impact(ctx, q, cfg, id); err != nil {
		return nil, err
	}
	if r.Updates, err = s.updates(ctx, q, id, "", 0); err != nil {
		return nil, err
	}
	return r, nil
}

// jsonText is the SQL text of member sub of the object key in a case's
// custom fields (keys are the desk's validated field keys).
func jsonText(d db.Dialect, key, sub string) string {
	key = strings.ReplaceAll(key, "'", "")
	if d == db.Postgres {
		return "(c.fields->'" + key + "'->>'" + sub + "')"
	}
	return "json_extract(c.fields, '$." + key + "." + sub + "')"
}
