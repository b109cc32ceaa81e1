package intake

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/sla"
)

// RepeatsKey is intake's section of the desk document: what a repeat
// contact is and what a channel does with one.
//
//	repeat_contacts:
//	  window: 72h            # how long after an open case a new contact counts as its repeat (default 72h)
//	  match: [requester, seller_category]   # default: both
//	  mode: link             # link (default): open a linked case | append: add to the open one | off
//	  channels:              # per channel, overriding mode
//	    email: append
//	    alert: off
const RepeatsKey desk.Key[Repeats] = "repeat_contacts"

// Repeats are the desk's repeat-contact rules.
type Repeats struct {
	Window   string            `yaml:"window,omitempty" json:"window,omitempty"`
	Match    []string          `yaml:"match,omitempty" json:"match,omitempty"`
	Mode     string            `yaml:"mode,omitempty" json:"mode,omitempty"`
	Channels map[string]string `yaml:"channels,omitempty" json:"channels,omitempty"`
}

// What a channel does with a repeat contact.
const (
	ModeLink   = "link"   // open the new case, linked to the open one
	ModeAppend = "append" // add the contact to the open case as a reply
	ModeOff    = "off"    // no repeat detection
)

// How a contact is matched with an open case.
const (
	MatchRequester      = "requester"       // the same requester's email
	MatchSellerCategory = "seller_category" // the same seller and category
)

// DefaultWindow is the repeat window when the desk names none.
const DefaultWindow = 72 * time.Hour

// WindowOf is the repeat window.
func (r Repeats) WindowOf() time.Duration {
	if d, err := sla.ParseDuration(r.Window); err == nil && d > 0 {
		return d
	}
	return DefaultWindow
}

func (r Repeats) matches(m string) bool { return len(r.Match) == 0 || slices.Contains(r.Match, m) }

// ModeFor is what the desk does with a repeat arriving on ch.
func (r Repeats) ModeFor(ch cases.Channel) string {
	if m, ok := r.Channels[string(ch)]; ok {
		return m
	}
	if r.Mode == "" {
		return ModeLink
	}
	return r.Mode
}

// Sections is intake's part of the desk document, for desk.NewSchema.
func Sections() []desk.Section {
	return []desk.Section{desk.SectionOf[Repeats]{
		Key:      RepeatsKey,
		Validate: func(_ *desk.Config, r Repeats) []apperr.FieldError { return validateRepeats(r) },
		Canonical: func(r Repeats) Repeats {
			r.Mode = strings.ToLower(r.Mode)
			if len(r.Channels) == 0 {
				r.Channels = nil
			}
			return r
		},
		Diff: func(prev, next Repeats) []string {
			return desk.DiffFields("repeat_contacts", "window", prev.Window, next.Window, "match", prev.Match, next.Match,
				"mode", prev.Mode, next.Mode, "channels", prev.Channels, next.Channels)
		},
	}}
}

func validateRepeats(r Repeats) []apperr.FieldError {
	v := &apperr.Invalid{}
	const p = "repeat_contacts."
	if r.Window != "" {
		if d, err := sla.ParseDuration(r.Window); err != nil || d <= 0 {
			v.Add(p+"window", "must be a duration such as 72h or 3d")
		}
	}
	for i, m := range r.Match {
		if m != MatchRequester && m != MatchSellerCategory {
			v.Add(fmt.Sprintf("%smatch[%d]", p, i), "must be requester or seller_category")
		}
	}
	checkMode := func(field, m string) {
		if m != ModeLink && m != ModeAppend && m != ModeOff {
			v.Add(field, "must be link, append or off")
		}
	}
	if r.Mode != "" {
		checkMode(p+"mode", strings.ToLower(r.Mode))
	}
	for _, ch := range slices.Sorted(func(yield func(string) bool) {
		for k := range r.Channels {
			if !yield(k) {
				return
			}
		}
	}) {
		if !cases.Channel(ch).Valid() {
			v.Add(p+"channels."+ch, "unknown channel %q", ch)
			continue
		}
		checkMode(p+"channels."+ch, r.Channels[ch])
	}
	return v.Errors
}

// repeat is the open case a new contact repeats.
type repeat struct {
	id     int64
	number string
	reason string // MatchRequester or MatchSellerCategory
}

// findRepeat finds the open case c repeats: the latest active case from the
// same requester, else about the same seller and category, created within
// the window before c.
func (s *Service) findRepeat(ctx context.Context, q db.Querier, rules Repeats, c *cases.Case) (*repeat, error) {
	since := db.T(c.CreatedAt.Add(-rules.WindowOf()))
	active := make([]any, len(cases.ActiveStatuses))
	for i, st := range cases.ActiveStatuses {
		active[i] = string(st)
	}
	find := func(reason, where string, args ...any) (*repeat, error) {
		var id, number int64
		args = append(append(args, since), active...)
		err := q.QueryRow(ctx, `SELECT id, number FROM cases WHERE `+where+` AND created_at >= ? AND status IN (`+
			db.Placeholders(len(active))+`) ORDER BY created_at DESC, id DESC LIMIT 1`, args...).Scan(&id, &number)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("repeat contacts: %w", err)
		}
		return &repeat{id: id, number: cases.FormatNumber(number), reason: reason}, nil
	}
	// Requester emails are stored lower-case (cases normalises them on
	// create and update), so the plain comparison uses cases_requester;
	// LOWER(requester_email) read every case in the table.
	if email := strings.ToLower(c.Requester.Email); email != "" && rules.matches(MatchRequester) {
		if r, err := find(MatchRequester, `requester_email = ?`, email); r != nil || err != nil {
			return r, err
		}
	}
	if c.SellerID != nil && c.Category != "" && rules.matches(MatchSellerCategory) {
		return find(MatchSellerCategory, `seller_id = ? AND category = ?`, *c.SellerID, c.Category)
	}
	return nil, nil
}

// link records c as a repeat of prior, counted on prior (which raises its
// priority through the repeat-contacts factor) and shown on both.
func (s *Service) link(ctx context.Context, tx *db.Tx, c *cases.Case, prior *repeat) error {
	_, err := tx.Exec(ctx, `INSERT INTO case_links (case_id, other_id, kind, reason, created_at) VALUES (?, ?, 'repeat', ?, ?)`,
		c.ID, prior.id, prior.reason, db.T(c.CreatedAt))
	if err != nil {
		return fmt.Errorf("link repeat: %w", err)
	}
	if _, err := s.cases.RecordRepeat(ctx, tx, system, prior.number, c.Number, prior.reason); err != nil {
		return err
	}
	return s.cases.AddEntries(ctx, tx, system, c.ID, c.CreatedAt, []cases.Entry{{Type: "repeat_of",
		Data: map[string]any{"case": prior.number, "reason": prior.reason}}})
}

// Link is one repeat-contact link as a case page shows it.
type Link struct {
	Case      string    `json:"case"`      // the other case (ESC-…)
	Direction string    `json:"direction"` // "repeat_of": this case repeats Case; "repeated_by": Case repeats this one
	Reason    string    `json:"reason"`    // requester | seller_category
	Title     string    `json:"title"`
	Status    string    `json:"status"`
	At        time.Time `json:"at"`
}

// Links lists a case's repeat contacts both ways, oldest first.
func (s *Service) Links(ctx context.Context, caseID int64) ([]Link, error) {
	rows, err := s.db.Query(ctx, `SELECT 'repeat_of', l.other_id, l.reason, l.created_at FROM case_links l WHERE l.case_id = ?
		UNION ALL SELECT 'repeated_by', l.case_id, l.reason, l.created_at FROM case_links l WHERE l.other_id = ?
		ORDER BY 4`, caseID, caseID)
	if err != nil {
		return nil, fmt.Errorf("case links: %w", err)
	}
	type row struct {
		dir, reason string
		other       int64
		at          db.Time
	}
	var rs []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.dir, &r.other, &r.reason, &r.at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("case links: %w", err)
		}
		rs = append(rs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("case links: %w", err)
	}
	out := make([]Link, 0, len(rs))
	for _, r := range rs {
		c, err := s.cases.Find(ctx, s.db, fmt.Sprint(r.other))
		if err != nil {
			return nil, err
		}
		out = append(out, Link{Case: c.Number, Direction: r.dir, Reason: r.reason, Title: c.Title, Status: string(c.Status), At: r.at.Time})
	}
	return out, nil
}

// Seen returns the case a (key, external id) was recorded for, if any:
// threading a mail by the Message-ID it answers.
func (s *Service) Seen(ctx context.Context, key, externalID string) (string, bool, error) {
	r, err := s.duplicate(ctx, s.db, Source{Key: key, ExternalID: externalID})
	if err != nil || r == nil {
		return "", false, err
	}
	return r.Case.Number, true, nil
}
