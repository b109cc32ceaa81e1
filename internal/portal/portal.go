// Package portal is the account-manager portal: the single point of
// contact for internal requesters. An account manager raises a request for
// one of their own sellers (through intake, channel "internal"), follows
// their requests and their sellers' open cases — status, owning team, the
// last public update, the SLA in plain words and what is being done — and
// replies on the public conversation. The portal shows the public side of a
// case only, whoever reads it: public replies, status changes and merges;
// never internal notes or the desk's workflow entries.
package portal

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/attachments"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/merge"
	"github.com/flare-desk/flare/internal/sla"
)

// Service is the portal.
type Service struct {
	db     *db.DB
	desk   *desk.Service
	cases  *cases.Service
	merges *merge.Service
	files  *attachments.Service
	clock  clock.Clock
	submit Submitter
}

// New returns the portal; submit opens the cases it raises (intake).
func New(d *db.DB, dk *desk.Service, cs *cases.Service, ms *merge.Service, fs *attachments.Service, c clock.Clock, submit Submitter) *Service {
	return &Service{db: d, desk: dk, cases: cs, merges: ms, files: fs, clock: c, submit: submit}
}

// Uses reports whether the portal is for a: account managers, and the
// desk's other internal requesters who may raise cases (leads and admins,
// where leadership sits). It is the account managers' home page.
func Uses(a auth.Actor) bool {
	return a.Can(auth.PermCaseCreate) && a.Role != auth.RoleAgent
}

// Home reports whether a lands on the portal after signing in.
func Home(a auth.Actor) bool { return a.Role == auth.RoleAccountManager }

func (s *Service) check(a auth.Actor) error {
	if !Uses(a) {
		return &apperr.Forbidden{Detail: "the portal is for account managers and other internal requesters; agents work cases in the queue"}
	}
	return nil
}

// Seller is one of the requester's sellers.
type Seller struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Market string `json:"market"`
	Tier   int    `json:"tier"`
}

// Sellers is the requester's own list: the sellers an account manager
// manages; every active seller for leads and admins.
func (s *Service) Sellers(ctx context.Context, a auth.Actor) ([]Seller, error) {
	if err := s.check(a); err != nil {
		return nil, err
	}
	manager := ""
	if a.Role == auth.RoleAccountManager {
		manager = a.Email
	}
	ss, err := desk.Sellers(ctx, s.db, manager)
	if err != nil {
		return nil, err
	}
	out := make([]Seller, len(ss))
	for i, x := range ss {
		out[i] = Seller{ID: x.ID, Name: x.Name, Market: x.Market, Tier: x.Tier}
	}
	return out, nil
}

// Item is a case as the portal lists it, in the requester's words.
type Item struct {
	Number       string       `json:"number"`
	Title        string       `json:"title"`
	Seller       *Seller      `json:"seller,omitempty"`
	Category     string       `json:"category"`
	CategoryName string       `json:"category_name"`
	Urgency      Urgency      `json:"urgency"`
	Status       cases.Status `json:"status"`
	StatusText   string       `json:"status_text"` // "Being worked on", "Waiting for your answer", …
	Team         string       `json:"team"`
	TeamName     string       `json:"team_name"`
	OwnerName    string       `json:"owner_name,omitempty"`
	Mine         bool         `json:"mine"` // raised by the reader
	// LastUpdate is the last public entry: when, and what, in words.
	LastUpdateAt time.Time `json:"last_update_at"`
	LastUpdate   string    `json:"last_update"`
	SLA          string    `json:"sla"`   // the SLA in plain words
	Doing        string    `json:"doing"` // what is being done
	Resolution   string    `json:"resolution,omitempty"`
	MergedInto   string    `json:"merged_into,omitempty"`
	Waiting      bool      `json:"waiting"` // the desk waits for the requester
	CreatedAt    time.Time `json:"created_at"`
}

// Entry is one entry of a case's public conversation.
type Entry struct {
	At       time.Time `json:"at"`
	Kind     string    `json:"kind"` // created, reply, status, merged (files: Request.Files)
	Who      string    `json:"who"`  // a name; "Flare" for Flare itself
	Mine     bool      `json:"mine"`
	Text     string    `json:"text"`                // a status change or merge in words; a reply's Markdown
	BodyHTML string    `json:"body_html,omitempty"` // a reply, rendered
}

// Request is one case in the portal: its item, description and public
// conversation.
type Request struct {
	Item
	Description string                    `json:"description"`
	Timeline    []Entry                   `json:"timeline"`
	Files       []*attachments.Attachment `json:"files"` // the public ones
	CanReply    bool                      `json:"can_reply"`
}

// Lists of the portal's home page.
const (
	ListMine    = "mine"    // the requests the reader raised
	ListSellers = "sellers" // the reader's sellers' open cases
)

// maxItems bounds a list: the portal is a person's own work, not a queue.
const maxItems = 100

// List is a portal list: the requests the reader raised (ListMine), newest
// first, or the open cases of the reader's sellers (ListSellers), the ones
// waiting for an answer first.
func (s *Service) List(ctx context.Context, a auth.Actor, which string) ([]Item, error) {
	if err := s.check(a); err != nil {
		return nil, err
	}
	scope, args := cases.Scope(a)
	if scope == "" {
		scope = "1 = 1"
	}
	var q string
	switch which {
	case ListMine:
		q = `SELECT c.number FROM cases c WHERE c.created_by = ? AND ` + scope + ` ORDER BY c.created_at DESC, c.id DESC`
		args = append([]any{a.UserID}, args...)
	case ListSellers:
		q = `SELECT c.number FROM cases c WHERE c.seller_id IN (SELECT external_id FROM sellers WHERE account_manager = ?)
			AND c.status IN (` + db.Placeholders(len(cases.ActiveStatuses)) + `) AND ` + scope + ` ORDER BY c.updated_at DESC, c.id DESC`
		pre := []any{strings.ToLower(a.Email)}
		for _, st := range cases.ActiveStatuses {
			pre = append(pre, string(st))
		}
		args = append(pre, args...)
	default:
		return nil, apperr.InvalidField("list", "one of %s, %s", ListMine, ListSellers)
	}
	rows, err := s.db.Query(ctx, q+fmt.Sprintf(" LIMIT %d", maxItems), args...)
	if err != nil {
		return nil, fmt.Errorf("portal %s: %w", which, err)
	}
	var numbers []int64
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("portal %s: %w", which, err)
		}
		numbers = append(numbers, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("portal %s: %w", which, err)
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	out := []Item{}
	for _, n := range numbers {
		r, err := s.request(ctx, cfg, a, cases.FormatNumber(n))
		if err != nil {
			return nil, err
		}
		out = append(out, r.Item)
	}
	if which == ListSellers {
		slices.SortStableFunc(out, func(x, y Item) int {
			switch {
			case x.Waiting == y.Waiting:
				return 0
			case x.Waiting:
				return -1
			}
			return 1
		})
	}
	return out, nil
}

// Get is one case in the portal, if the reader may see it.
func (s *Service) Get(ctx context.Context, a auth.Actor, ref string) (*Request, error) {
	if err := s.check(a); err != nil {
		return nil, err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	return s.request(ctx, cfg, a, ref)
}

// Reply adds the reader's public reply to the case.
func (s *Service) Reply(ctx context.Context, a auth.Actor, ref, body string) (*cases.Comment, error) {
	if err := s.check(a); err != nil {
		return nil, err
	}
	return s.cases.AddComment(ctx, a, ref, cases.CommentInput{Body: body})
}

func (s *Service) request(ctx context.Context, cfg *desk.Config, a auth.Actor, ref string) (*Request, error) {
	c, err := s.cases.Get(ctx, a, ref)
	if err != nil {
		return nil, err
	}
	evs, err := s.cases.Events(ctx, a, c.Number)
	if err != nil {
		return nil, err
	}
	info, err := s.merges.InfoOf(ctx, c)
	if err != nil {
		return nil, err
	}
	files, err := s.files.ForCase(ctx, c.ID, true)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	r := &Request{Files: files, Description: c.Description, Timeline: publicSide(cfg, s.cases.Markdown(), a, evs),
		CanReply: a.Can(auth.PermCaseComment) && c.Status != cases.StatusClosed}
	it := &r.Item
	*it = Item{Number: c.Number, Title: c.Title, Category: c.Category, CategoryName: c.Category, Status: c.Status,
		Team: c.Team, TeamName: c.Team, OwnerName: c.OwnerName, Mine: c.CreatedBy == a.UserID && a.UserID != 0,
		Urgency: UrgencyOf(c.Tags), Resolution: c.Resolution, MergedInto: info.MergedInto, CreatedAt: c.CreatedAt,
		Waiting: c.Status == cases.StatusPendingRequester}
	if cat, ok := cfg.Category(c.Category); ok {
		it.CategoryName = cat.Name
	}
	if t, ok := cfg.Team(c.Team); ok {
		it.TeamName = t.Name
	}
	if c.SellerID != nil {
		if sl, ok, err := desk.SellerByID(ctx, s.db, *c.SellerID); err != nil {
			return nil, err
		} else if ok {
			it.Seller = &Seller{ID: sl.ID, Name: sl.Name, Market: sl.Market, Tier: sl.Tier}
		}
	}
	it.StatusText = StatusText(c.Status, c.Resolution)
	it.SLA = SLAText(c, now)
	it.Doing = doing(c, it.TeamName, info.MergedInto)
	it.LastUpdateAt, it.LastUpdate = c.CreatedAt, "Raised"
	if n := len(r.Timeline); n > 0 {
		last := r.Timeline[n-1]
		it.LastUpdateAt = last.At
		switch last.Kind {
		case "reply":
			it.LastUpdate = last.Who + " replied: " + snippet(last.Text)
		default:
			it.LastUpdate = last.Text
		}
	}
	return r, nil
}

// publicSide is the public conversation in evs, whoever reads it (the
// cases package already trims it for account managers; a lead reading the
// portal gets the same page): the creation, public replies, status changes
// (with the note only when resolved) and the merge pointer.
func publicSide(cfg *desk.Config, md *cases.Markdown, a auth.Actor, evs []cases.Event) []Entry {
	out := []Entry{}
	for _, e := range evs {
		en := Entry{At: e.At, Who: e.ActorName, Mine: e.Actor != nil && strings.EqualFold(*e.Actor, a.Email)}
		if e.Actor == nil {
			en.Who = "Flare"
		}
		str := func(k string) string { v, _ := e.Data[k].(string); return v }
		switch e.Type {
		case "created":
			en.Kind, en.Text = "created", "Raised by "+en.Who
		case "comment":
			if internal, _ := e.Data["internal"].(bool); internal {
				continue
			}
			en.Kind, en.Text = "reply", str("body")
			en.BodyHTML = str("body_html")
			if en.BodyHTML == "" {
				en.BodyHTML = string(md.HTML(en.Text))
			}
		case "status":
			to := cases.Status(str("to"))
			en.Kind, en.Text = "status", "Status: "+StatusText(to, str("resolution"))
			if to == cases.StatusResolved {
				if note := str("note"); note != "" {
					en.Text += " — " + note
				}
			}
		case merge.EntryInto:
			en.Kind, en.Text = "merged", "Merged into "+str("into")+": the conversation continues there"
		case merge.EntryFrom:
			en.Kind, en.Text = "merged", str("from")+" was merged into this case"
		default:
			continue
		}
		out = append(out, en)
	}
	return out
}

func snippet(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 80 {
		return string(r[:79]) + "…"
	}
	return s
}

// StatusText is a status in the requester's words.
func StatusText(st cases.Status, resolution string) string {
	switch st {
	case cases.StatusNew:
		return "Received, not picked up yet"
	case cases.StatusOpen:
		return "Being worked on"
	case cases.StatusPendingInternal:
		return "Waiting on another team"
	case cases.StatusPendingRequester:
		return "Waiting for your answer"
	case cases.StatusResolved, cases.StatusClosed:
		word := "Resolved"
		if st == cases.StatusClosed {
			word = "Closed"
		}
		switch resolution {
		case "":
			return word
		case merge.Resolution:
			return "Merged into another case"
		}
		return word + " (" + strings.ReplaceAll(resolution, "_", " ") + ")"
	}
	return string(st)
}

// doing says what is being done about the case, from its public side.
func doing(c *cases.Case, team, mergedInto string) string {
	owner := team
	if c.OwnerName != "" {
		owner = c.OwnerName + " (" + team + ")"
	}
	switch c.Status {
	case cases.StatusNew:
		return team + " will pick it up"
	case cases.StatusOpen:
		return owner + " is working on it"
	case cases.StatusPendingInternal:
		return owner + " is waiting on another team's part"
	case cases.StatusPendingRequester:
		return owner + " has asked you something: reply below"
	}
	if mergedInto != "" {
		return "Followed up in " + mergedInto
	}
	if c.ResolutionNote != "" && c.Status == cases.StatusResolved {
		return snippet(c.ResolutionNote)
	}
	return "Nothing: the case is " + strings.ToLower(StatusText(c.Status, c.Resolution))
}

var metricWords = map[sla.Metric]string{
	sla.FirstResponse: "first answer",
	sla.NextResponse:  "next answer",
	sla.Resolution:    "resolution",
}

// SLAText is the case's SLA in plain words: the most pressing clock.
func SLAText(c *cases.Case, now time.Time) string {
	if len(c.SLA) == 0 {
		return "No response target"
	}
	var pick *cases.Clock
	rank := func(cl *cases.Clock) int {
		switch sla.ClockState(cl.State) {
		case sla.ClockBreached:
			return 0
		case sla.ClockRunning:
			return 1
		case sla.ClockPaused:
			return 2
		}
		return 3
	}
	for i := range c.SLA {
		cl := &c.SLA[i]
		if pick == nil || rank(cl) < rank(pick) || (rank(cl) == rank(pick) && cl.DueAt != nil && pick.DueAt != nil && cl.DueAt.Before(*pick.DueAt)) {
			pick = cl
		}
	}
	what := metricWords[pick.Metric]
	if what == "" {
		what = string(pick.Metric)
	}
	switch sla.ClockState(pick.State) {
	case sla.ClockBreached:
		if pick.DueAt != nil {
			return fmt.Sprintf("Late: the %s was due %s ago", what, words(now.Sub(*pick.DueAt)))
		}
		return "Late: the " + what + " is overdue"
	case sla.ClockRunning:
		if pick.DueAt != nil {
			if pick.WarnAt != nil && !now.Before(*pick.WarnAt) {
				return fmt.Sprintf("Due soon: %s within %s", what, words(pick.DueAt.Sub(now)))
			}
			return fmt.Sprintf("On track: %s due within %s", what, words(pick.DueAt.Sub(now)))
		}
		return "On track"
	case sla.ClockPaused:
		if c.Status == cases.StatusPendingRequester {
			return "On hold while the desk waits for your answer"
		}
		return "On hold"
	}
	return "Every target met"
}

// words is a duration in plain words: "3 hours", "2 days".
func words(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d < time.Hour:
		return plural(max(1, int(d/time.Minute)), "minute")
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour")
	}
	return plural(int(d/(24*time.Hour)), "day")
}
