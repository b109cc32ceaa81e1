// Package suggest suggests a category for cases that arrived without one
// of their own — by email or a webhook, or with the desk's default
// category — from a model (internal/classify) trained on the desk's own
// resolved cases and on the agents' corrections, retrained periodically.
//
// A trained model is kept as its training set in suggest_models: training
// is deterministic, so a restart rebuilds the same model from it.
// Accepting a suggestion is a case update (cases.Service.Update); an
// agent's change of a case's category is recorded by the durable
// subscriber "suggest.corrections" and labels that case in the next
// training.
package suggest

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/classify"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/jobs"
)

// Subscriber records agents' category changes.
const Subscriber = "suggest.corrections"

// Options tune suggestions.
type Options struct {
	MinConfidence     float64       // below it, no suggestion (default 0.5)
	Channels          []string      // cases from these channels get suggestions (default email, webhook)
	DefaultCategories []string      // and cases in these categories (the desk's catch-all), from any channel
	MinExamples       int           // fewer labelled cases: no model (default 20)
	MaxExamples       int           // the most recent labelled cases trained on (default 20000)
	Every             time.Duration // retraining period (default 1 h)
}

func (o *Options) defaults() {
	if o.MinConfidence <= 0 {
		o.MinConfidence = 0.5
	}
	if o.Channels == nil {
		o.Channels = []string{"email", "external"} // mail, and webhooks' default channel
	}
	if o.MinExamples <= 0 {
		o.MinExamples = 20
	}
	if o.MaxExamples <= 0 {
		o.MaxExamples = 20000
	}
	if o.Every <= 0 {
		o.Every = time.Hour
	}
}

// Service trains and serves the category model.
type Service struct {
	db    *db.DB
	desk  *desk.Service
	cases *cases.Service
	clock clock.Clock
	log   *slog.Logger
	opt   Options

	mu    sync.Mutex
	model *Model
}

// Model is a trained model and what it was trained on.
type Model struct {
	ID        int64     `json:"id"`
	TrainedAt time.Time `json:"trained_at"`
	Examples  int       `json:"examples"`
	Classes   int       `json:"classes"`
	m         *classify.Model
}

// New returns the service.
func New(d *db.DB, dk *desk.Service, cs *cases.Service, c clock.Clock, log *slog.Logger, opt Options) *Service {
	if log == nil {
		log = slog.Default()
	}
	opt.defaults()
	return &Service{db: d, desk: dk, cases: cs, clock: c, log: log, opt: opt}
}

// Register subscribes to the case changes that may be corrections.
func (s *Service) Register(bus *events.Bus) {
	bus.Subscribe(Subscriber, s.handle, events.SubscriberOptions{Types: []events.Type{events.CaseChanged}})
}

// RegisterJobs adds the periodic retraining.
func (s *Service) RegisterJobs(reg *jobs.Registry) {
	river.AddWorker(reg.Workers, &trainWorker{s: s})
	reg.Every(s.opt.Every, func() river.JobArgs { return TrainArgs{} }, "suggest_train")
}

// TrainArgs is the retraining job.
type TrainArgs struct{}

// Kind implements river.JobArgs.
func (TrainArgs) Kind() string { return "suggest_train" }

type trainWorker struct {
	river.WorkerDefaults[TrainArgs]
	s *Service
}

func (w *trainWorker) Work(ctx context.Context, _ *river.Job[TrainArgs]) error {
	_, err := w.s.Train(ctx)
	return err
}

// handle records a person's change of a case's category.
func (s *Service) handle(ctx context.Context, e events.Event) error {
	ch, ok := e.Data.(*events.Changed)
	if !ok || ch.ByRules || e.Actor.ID == 0 || e.Case == nil {
		return nil
	}
	for _, fc := range ch.Changes {
		if fc.Field != "category" {
			continue
		}
		from, _ := fc.Old.(string)
		to, _ := fc.New.(string)
		return s.record(ctx, e.Case.ID, from, to, e.Actor.ID, e.At)
	}
	return nil
}

// record writes a correction; the suggestion is what the model in use
// would have said of the case.
func (s *Service) record(ctx context.Context, caseID int64, from, to string, by int64, at time.Time) error {
	c, err := s.cases.Find(ctx, s.db, fmt.Sprint(caseID))
	if errors.Is(err, apperr.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	suggested := ""
	if m, err := s.current(ctx); err != nil {
		return err
	} else if m != nil {
		suggested = m.m.Suggest(text(c)).Category
	}
	_, err = s.db.Exec(ctx, `INSERT INTO suggest_corrections (case_id, suggested, from_category, to_category, accepted, by_id, at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (case_id) DO UPDATE SET suggested = excluded.suggested,
		to_category = excluded.to_category, accepted = excluded.accepted, by_id = excluded.by_id, at = excluded.at`,
		caseID, suggested, from, to, suggested == to, db.NullID(by), db.T(at))
	if err != nil {
		return fmt.Errorf("suggest: record correction of case %d: %w", caseID, err)
	}
	return nil
}

func text(c *cases.Case) string { return c.Title + "\n" + c.Description }

// Examples are the labelled cases the next model trains on: resolved and
// closed cases by their final category, and every case an agent gave a
// category to (a correction or an accepted suggestion), most recent first.
func (s *Service) Examples(ctx context.Context) ([]classify.Example, error) {
	sys := auth.System("suggest")
	seen := map[int64]bool{}
	var out []classify.Example
	// Corrections first: they are the agents' word, whatever the case's state.
	ids, err := db.QueryIDs(ctx, s.db, `SELECT case_id FROM suggest_corrections ORDER BY at DESC LIMIT ?`, s.opt.MaxExamples)
	if err != nil {
		return nil, fmt.Errorf("suggest: corrections: %w", err)
	}
	for _, id := range ids {
		c, err := s.cases.Find(ctx, s.db, fmt.Sprint(id))
		if err != nil {
			continue
		}
		seen[id] = true
		out = append(out, classify.Example{Text: text(c), Category: c.Category})
	}
	f := cases.ListFilter{Status: []cases.Status{cases.StatusResolved, cases.StatusClosed}, Sort: "-updated_at", Limit: 200}
	for len(out) < s.opt.MaxExamples {
		page, err := s.cases.List(ctx, sys, f)
		if err != nil {
			return nil, fmt.Errorf("suggest: resolved cases: %w", err)
		}
		for _, c := range page.Cases {
			if !seen[c.ID] && !slices.Contains(s.opt.DefaultCategories, c.Category) {
				seen[c.ID] = true
				out = append(out, classify.Example{Text: text(c), Category: c.Category})
			}
		}
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	if len(out) > s.opt.MaxExamples {
		out = out[:s.opt.MaxExamples]
	}
	return out, nil
}

// Train trains a model on Examples and stores it; with too few examples
// (or a single category) it keeps the model it has and returns nil.
func (s *Service) Train(ctx context.Context) (*Model, error) {
	ex, err := s.Examples(ctx)
	if err != nil {
		return nil, err
	}
	cats := map[string]bool{}
	for _, e := range ex {
		cats[e.Category] = true
	}
	if len(ex) < s.opt.MinExamples || len(cats) < 2 {
		s.log.Info("suggest: too few labelled cases to train", "examples", len(ex), "categories", len(cats))
		return nil, nil
	}
	m, err := classify.Train(ex, classify.DefaultOptions())
	if err != nil {
		return nil, fmt.Errorf("suggest: train: %w", err)
	}
	b, err := json.Marshal(toStored(ex))
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	model := &Model{TrainedAt: now, Examples: len(ex), Classes: len(m.Classes()), m: m}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO suggest_models (trained_at, examples, n, classes) VALUES (?, ?, ?, ?) RETURNING id`,
			db.T(now), string(b), len(ex), len(m.Classes())).Scan(&model.ID); err != nil {
			return fmt.Errorf("suggest: store model: %w", err)
		}
		// Keep the last few models only.
		_, err := tx.Exec(ctx, `DELETE FROM suggest_models WHERE id < ?`, model.ID-4)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.model = model
	s.mu.Unlock()
	s.log.Info("suggest: trained", "model", model.ID, "examples", len(ex), "categories", len(cats))
	return model, nil
}

type stored struct {
	Text     string `json:"text"`
	Category string `json:"category"`
}

func toStored(ex []classify.Example) []stored {
	out := make([]stored, len(ex))
	for i, e := range ex {
		out[i] = stored{e.Text, e.Category}
	}
	return out
}

// current is the model in use: the latest stored one, rebuilt from its
// training set after a restart (or trained by another process).
func (s *Service) current(ctx context.Context) (*Model, error) {
	var id int64
	var at db.Time
	err := s.db.QueryRow(ctx, `SELECT id, trained_at FROM suggest_models ORDER BY id DESC LIMIT 1`).Scan(&id, &at)
	if errors.Is(err, errNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("suggest: latest model: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.model != nil && s.model.ID == id {
		return s.model, nil
	}
	var raw string
	if err := s.db.QueryRow(ctx, `SELECT examples FROM suggest_models WHERE id = ?`, id).Scan(&raw); err != nil {
		return nil, fmt.Errorf("suggest: load model %d: %w", id, err)
	}
	var st []stored
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		return nil, fmt.Errorf("suggest: model %d: %w", id, err)
	}
	ex := make([]classify.Example, len(st))
	for i, e := range st {
		ex[i] = classify.Example{Text: e.Text, Category: e.Category}
	}
	m, err := classify.Train(ex, classify.DefaultOptions())
	if err != nil {
		return nil, fmt.Errorf("suggest: rebuild model %d: %w", id, err)
	}
	s.model = &Model{ID: id, TrainedAt: at.Time, Examples: len(ex), Classes: len(m.Classes()), m: m}
	return s.model, nil
}

// Suggestion is GET /cases/{ref}/suggestion.
type Suggestion struct {
	Case       string  `json:"case"`
	Category   string  `json:"category"`
	Name       string  `json:"name"`       // the category's name in the desk
	Team       string  `json:"team"`       // the team it routes to
	Confidence float64 `json:"confidence"` // the model's calibrated probability
	ModelID    int64   `json:"model_id"`
}

var errNoRows = sql.ErrNoRows

// eligible reports whether c is a case that gets suggestions: from a
// channel without categories of its own, or in a default category, and no
// agent has set its category since.
func (s *Service) eligible(c *cases.Case) bool {
	return slices.Contains(s.opt.Channels, string(c.Channel)) || slices.Contains(s.opt.DefaultCategories, c.Category)
}

// For returns the suggestion for case ref, or nil when there is none: the
// case is not one that gets suggestions, an agent already chose its
// category, there is no model yet, the model agrees with the case's
// category, or its confidence is below the threshold.
func (s *Service) For(ctx context.Context, actor auth.Actor, ref string) (*Suggestion, error) {
	c, err := s.cases.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if !s.eligible(c) || c.Status == cases.StatusResolved || c.Status == cases.StatusClosed {
		return nil, nil
	}
	var n int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM suggest_corrections WHERE case_id = ?`, c.ID).Scan(&n); err != nil {
		return nil, fmt.Errorf("suggest: corrections of %s: %w", c.Number, err)
	}
	if n > 0 {
		return nil, nil
	}
	m, err := s.current(ctx)
	if err != nil || m == nil {
		return nil, err
	}
	sg := m.m.Suggest(text(c))
	if sg.Category == c.Category || sg.Confidence < s.opt.MinConfidence {
		return nil, nil
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	cat, ok := cfg.Category(sg.Category)
	if !ok {
		return nil, nil // a category the desk no longer has
	}
	return &Suggestion{Case: c.Number, Category: cat.Key, Name: cat.Name, Team: cat.Team, Confidence: sg.Confidence,
		ModelID: m.ID}, nil
}

// Accept applies the suggestion for case ref: a case update, with its
// validation, timeline, audit and events. The category change it makes is
// recorded as the agents' word for the next training. fields are the
// custom fields the suggested category requires that the case lacks.
func (s *Service) Accept(ctx context.Context, actor auth.Actor, ref string, fields map[string]any) (*cases.Case, error) {
	if !actor.Can(auth.PermCaseWrite) {
		return nil, &apperr.Forbidden{Detail: "Changing a case's category needs the case.write permission."}
	}
	sg, err := s.For(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if sg == nil {
		return nil, &apperr.Conflict{Detail: "There is no category suggestion for this case."}
	}
	in := cases.UpdateInput{Category: &sg.Category, Fields: fields}
	if sg.Team != "" {
		in.Team = &sg.Team // the category brings its team, as it would have on create
	}
	return s.cases.Update(ctx, actor, ref, in)
}
