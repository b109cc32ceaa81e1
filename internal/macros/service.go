package macros

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
)

// Service offers and applies the desk's macros.
type Service struct {
	db    *db.DB
	desk  *desk.Service
	cases *cases.Service
	clock clock.Clock
}

// New returns the macros service.
func New(d *db.DB, ds *desk.Service, cs *cases.Service, c clock.Clock) *Service {
	return &Service{db: d, desk: ds, cases: cs, clock: c}
}

// Preview is a macro as it would apply to one case: its text filled in
// and in the language chosen.
type Preview struct {
	Macro
	Text     string `json:"text"`               // the reply or note, placeholders filled in
	Language string `json:"language,omitempty"` // the translation used; "": the reply as written
}

// List is every macro of the desk.
func (s *Service) List(ctx context.Context) ([]Macro, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	return Of(cfg), nil
}

// ForCase is the macros offered on the case ref to actor, previewed.
func (s *Service) ForCase(ctx context.Context, actor auth.Actor, ref string) ([]Preview, error) {
	c, err := s.cases.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	vals, err := s.values(ctx, c)
	if err != nil {
		return nil, err
	}
	out := []Preview{}
	for _, m := range Of(cfg) {
		if m.For(c.Team) {
			out = append(out, preview(m, c, vals))
		}
	}
	return out, nil
}

func preview(m Macro, c *cases.Case, v Values) Preview {
	text, lang := m.Text(c.Language)
	return Preview{Macro: m, Text: Render(text, v), Language: lang}
}

func (s *Service) values(ctx context.Context, c *cases.Case) (Values, error) {
	var seller *desk.Seller
	if c.SellerID != nil {
		sl, ok, err := desk.SellerByID(ctx, s.db, *c.SellerID)
		if err != nil {
			return Values{}, fmt.Errorf("macro seller: %w", err)
		}
		if ok {
			seller = &sl
		}
	}
	return ValuesFor(c, seller, s.clock.Now()), nil
}

// Result is what applying a macro did.
type Result struct {
	Case    *cases.Case `json:"case"`
	Macro   string      `json:"macro"`
	Replied bool        `json:"replied,omitempty"` // a public reply was sent
	Noted   bool        `json:"noted,omitempty"`   // an internal note was added
	Status  string      `json:"status,omitempty"`  // the status it moved the case to
	Tags    []string    `json:"tags_added,omitempty"`
	Text    string      `json:"text,omitempty"`
}

// Apply applies the macro key to the case ref as actor: the reply (or
// note), the status change and the tags, through the same case services
// as doing each by hand, all in one transaction (any refused: none done).
// version, when set, is the case version the agent saw (a stale page: 409).
func (s *Service) Apply(ctx context.Context, actor auth.Actor, ref, key string, version *int64) (*Result, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(Of(cfg), func(m Macro) bool { return m.Key == key })
	if i < 0 {
		return nil, apperr.ErrNotFound
	}
	m := Of(cfg)[i]
	c, err := s.cases.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if !m.For(c.Team) {
		return nil, &apperr.Conflict{Detail: fmt.Sprintf("the macro %q is not for team %s's cases", m.Name, c.Team)}
	}
	vals, err := s.values(ctx, c)
	if err != nil {
		return nil, err
	}
	p := preview(m, c, vals)
	res := &Result{}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		*res = Result{Macro: m.Key}
		jctx := db.Join(ctx, tx)
		// The version is checked under the case's lock by the first change.
		if version != nil {
			if err := s.cases.CheckVersionInTx(ctx, tx, c.Number, *version); err != nil {
				return err
			}
		}
		if strings.TrimSpace(p.Text) != "" {
			if _, err := s.cases.AddComment(jctx, actor, c.Number, cases.CommentInput{Body: p.Text, Internal: m.Internal}); err != nil {
				return err
			}
			res.Replied, res.Noted, res.Text = !m.Internal, m.Internal, p.Text
		}
		cur, err := s.cases.Get(jctx, actor, c.Number)
		if err != nil {
			return err
		}
		if m.Status != "" && m.Status != cur.Status {
			in := cases.TransitionInput{To: m.Status, Note: m.Note, Resolution: m.Resolution}
			if cur, err = s.cases.Transition(jctx, actor, c.Number, in); err != nil {
				return err
			}
			res.Status = string(m.Status)
		}
		if len(m.AddTags) > 0 {
			tags := slices.Clone(cur.Tags)
			for _, t := range m.AddTags {
				if !slices.Contains(tags, t) {
					tags = append(tags, t)
					res.Tags = append(res.Tags, t)
				}
			}
			if len(res.Tags) > 0 {
				if _, err := s.cases.Update(jctx, actor, c.Number, cases.UpdateInput{Tags: &tags}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if res.Case, err = s.cases.Get(ctx, actor, c.Number); err != nil {
		return nil, err
	}
	return res, nil
}
