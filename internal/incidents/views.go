package incidents

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
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

// Summary counts an incident's linked cases: how many, how many still
// open, per market and per status — what the linked-cases list and the
// report show over every linked case, whoever reads them. The figures a
// postmortem starts from (sellers, money at stake) are
// postmortems.Impact, counted over LinkedCaseIDs.
type Summary struct {
	Cases    int            `json:"cases"`
	Open     int            `json:"open"`
	ByMarket map[string]int `json:"by_market"`
	ByStatus map[string]int `json:"by_status"`
}

// LinkedPage is a page of an incident's linked cases with their summary.
type LinkedPage struct {
	Summary    Summary      `json:"summary"`
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
	sum, err := s.summary(ctx, s.db, inc.ID)
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
	p := &LinkedPage{Summary: *sum, Cases: []LinkedCase{}}
	for i, x := range got {
		if i == limit {
			p.NextCursor = cases.EncodeCursor(linkedSort, []any{got[i-1].id})
			break
		}
		p.Cases = append(p.Cases, x.LinkedCase)
	}
	return p, nil
}

func (s *Service) summary(ctx context.Context, q db.Querier, id int64) (*Summary, error) {
	sum := &Summary{ByMarket: map[string]int{}, ByStatus: map[string]int{}}
	rows, err := q.Query(ctx, `SELECT c.market, c.status, COUNT(*) FROM incident_cases ic
		JOIN cases c ON c.id = ic.case_id WHERE ic.incident_id = ? GROUP BY c.market, c.status`, id)
	if err != nil {
		return nil, fmt.Errorf("linked cases summary: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var market, status string
		var n int
		if err := rows.Scan(&market, &status, &n); err != nil {
			return nil, err
		}
		sum.Cases += n
		sum.ByMarket[market] += n
		sum.ByStatus[status] += n
		if status != string(cases.StatusResolved) && status != string(cases.StatusClosed) {
			sum.Open += n
		}
	}
	return sum, rows.Err()
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
	Summary   *Summary  `json:"summary"`
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
	if r.Summary, err = s.summary(ctx, q, id); err != nil {
		return nil, err
	}
	if r.Updates, err = s.updates(ctx, q, id, "", 0); err != nil {
		return nil, err
	}
	return r, nil
}
