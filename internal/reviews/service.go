package reviews

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/deadline"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/handoffs"
	"github.com/flare-desk/flare/internal/notify"
	"github.com/flare-desk/flare/internal/postmortems"
	"github.com/flare-desk/flare/internal/reports"
)

// Service builds, stores and sends the review packs.
type Service struct {
	db          *db.DB
	desk        *desk.Service
	reports     *reports.Service
	handoffs    *handoffs.Service
	postmortems *postmortems.Service
	notify      *notify.Service
	clock       clock.Clock
	log         *slog.Logger
	timer       *deadline.Timer
}

// New returns the review packs' service.
func New(d *db.DB, dk *desk.Service, rs *reports.Service, hs *handoffs.Service, pm *postmortems.Service,
	n *notify.Service, c clock.Clock, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	s := &Service{db: d, desk: dk, reports: rs, handoffs: hs, postmortems: pm, notify: n, clock: c, log: log}
	s.timer = deadline.New("review packs", c, log, timerMaxSleep, s.Fire)
	return s
}

// timerMaxSleep is how often the schedule is looked at without a wake-up
// (a desk change that adds a cadence is seen within it).
const timerMaxSleep = 15 * time.Minute

// Run builds the packs at their scheduled times until ctx ends.
func (s *Service) Run(ctx context.Context) { s.timer.Run(ctx) }

func mayRead(a auth.Actor) error {
	if !a.Can(auth.PermReportRead) {
		return &apperr.Forbidden{Detail: "your role cannot read the desk's review packs"}
	}
	return nil
}

// Preview builds the pack of cadence (a cadence's key, or a kind: the
// desk's first cadence of it, or a plain one of that kind when the desk
// has none) for the period label, by hand: not stored, not sent.
func (s *Service) Preview(ctx context.Context, actor auth.Actor, cadence, label string) (*Pack, error) {
	if err := mayRead(actor); err != nil {
		return nil, err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	set := SettingsOf(cfg)
	c, ok := set.Cadence(cadence)
	if !ok {
		if !slices.Contains(Kinds, Kind(cadence)) {
			var keys []string
			for _, c := range set.Cadences {
				keys = append(keys, c.Key)
			}
			return nil, apperr.InvalidField("cadence", "no cadence %q: give weekly, biweekly, monthly or one of the desk's (%s)",
				cadence, strings.Join(keys, ", "))
		}
		c = Cadence{Key: cadence, Name: titleOf(Kind(cadence)), Every: Kind(cadence)}
	}
	p, err := ParsePeriod(c.Every, label, c.Location())
	if err != nil {
		return nil, err
	}
	if now := s.clock.Now(); p.To.After(now) {
		return nil, apperr.InvalidField("period", "%s has not closed yet (it ends %s)", p.Label, p.To.UTC().Format(time.RFC3339))
	}
	return s.build(ctx, c, p, s.clock.Now())
}

func titleOf(k Kind) string {
	switch k {
	case Weekly:
		return "Weekly review"
	case Biweekly:
		return "Bi-weekly review"
	}
	return "Monthly review"
}

// Summary is a stored pack in the history list.
type Summary struct {
	ID         int64     `json:"id"`
	Cadence    string    `json:"cadence"`
	Kind       Kind      `json:"kind"`
	Period     string    `json:"period"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Title      string    `json:"title"`
	Recipients int       `json:"recipients"`
	BuiltBy    string    `json:"built_by"`
	BuiltAt    time.Time `json:"built_at"`
}

// maxList bounds the history list.
const maxList = 500

// List is the stored packs, newest period first (cadence "" : every cadence).
func (s *Service) List(ctx context.Context, actor auth.Actor, cadence string) ([]Summary, error) {
	if err := mayRead(actor); err != nil {
		return nil, err
	}
	q := `SELECT id, cadence, kind, period, period_from, period_to, title, recipients, built_by, built_at FROM review_packs`
	var args []any
	if cadence != "" {
		q += ` WHERE cadence = ?`
		args = append(args, cadence)
	}
	rows, err := s.db.Query(ctx, q+` ORDER BY period_to DESC, cadence, id DESC LIMIT ?`, append(args, maxList)...)
	if err != nil {
		return nil, fmt.Errorf("review packs: %w", err)
	}
	out, err := db.Collect(rows, func(sc db.Scanner) (Summary, error) {
		var (
			x                Summary
			from, to, builtT db.Time
		)
		err := sc.Scan(&x.ID, &x.Cadence, &x.Kind, &x.Period, &from, &to, &x.Title, &x.Recipients, &x.BuiltBy, &builtT)
		x.From, x.To, x.BuiltAt = from.UTC(), to.UTC(), builtT.UTC()
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("review packs: %w", err)
	}
	if out == nil {
		out = []Summary{}
	}
	return out, nil
}

// Get is the stored pack id.
func (s *Service) Get(ctx context.Context, actor auth.Actor, id int64) (*Pack, error) {
	if err := mayRead(actor); err != nil {
		return nil, err
	}
	var content string
	err := s.db.QueryRow(ctx, `SELECT content FROM review_packs WHERE id = ?`, id).Scan(&content)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("review pack %d: %w", id, apperr.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("review pack %d: %w", id, err)
	}
	p := &Pack{}
	if err := json.Unmarshal([]byte(content), p); err != nil {
		return nil, fmt.Errorf("review pack %d: %w", id, err)
	}
	p.ID = id
	return p, nil
}

// store writes pk once per cadence and period, and in the same transaction
// its mail to each recipient in notify's outbox. It reports whether pk was
// stored (false: that period's pack was built already, by this node or
// another).
func (s *Service) store(ctx context.Context, pk *Pack, kind Kind, recipients []string, by string, mail bool) (bool, error) {
	content, err := json.Marshal(pk)
	if err != nil {
		return false, fmt.Errorf("review pack: %w", err)
	}
	var body string
	if mail && len(recipients) > 0 {
		if body, err = RenderHTML(pk); err != nil {
			return false, err
		}
	}
	sent := 0 // recipients the mail was queued to
	if mail {
		sent = len(recipients)
	}
	stored := false
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		stored = false
		res, err := tx.Exec(ctx, `INSERT INTO review_packs (cadence, kind, period, period_from, period_to, title, content, recipients, built_by, built_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (cadence, period) DO NOTHING`,
			pk.Cadence, string(kind), pk.Period.Label, db.T(pk.Period.From), db.T(pk.Period.To), pk.Title, string(content),
			sent, by, db.T(pk.BuiltAt))
		if err != nil {
			return fmt.Errorf("review pack: store: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		stored = true
		if !mail {
			return nil
		}
		for _, to := range recipients {
			m := notify.Mail{To: to, Subject: pk.Title, Text: plainText(pk), HTML: body}
			if err := s.notify.QueueMail(ctx, tx, "review-pack:"+pk.Cadence+":"+pk.Period.Label, "review_pack", m); err != nil {
				return err
			}
		}
		return nil
	})
	return stored, err
}

// recipients are the emails of c's audience: its users, its teams' active
// members and its addresses, each once, in order.
func (s *Service) recipients(ctx context.Context, c Cadence) ([]string, error) {
	out := slices.Clone(c.Audience.Users)
	out = append(out, c.Audience.Emails...)
	if len(c.Audience.Teams) > 0 {
		args := make([]any, len(c.Audience.Teams))
		for i, t := range c.Audience.Teams {
			args[i] = t
		}
		rows, err := s.db.Query(ctx, `SELECT u.email FROM team_members m JOIN users u ON u.id = m.user_id
			WHERE u.active AND m.team IN (`+db.Placeholders(len(args))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("review pack audience: %w", err)
		}
		emails, err := db.Collect(rows, func(sc db.Scanner) (string, error) {
			var e string
			return e, sc.Scan(&e)
		})
		if err != nil {
			return nil, fmt.Errorf("review pack audience: %w", err)
		}
		out = append(out, emails...)
	}
	for i := range out {
		out[i] = strings.ToLower(out[i])
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Fire builds, stores and sends every cadence's pack that has come due and
// is not stored yet, and returns when the next one is due. Several nodes
// may fire together: the unique (cadence, period) stores each pack once,
// and only the transaction that stored it queues its mail.
func (s *Service) Fire(ctx context.Context) (time.Time, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return time.Time{}, err
	}
	set := SettingsOf(cfg)
	now := s.clock.Now()
	var next time.Time
	for _, c := range set.Cadences {
		due, at := c.Due(now)
		if next.IsZero() || at.Before(next) {
			next = at
		}
		var n int
		if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM review_packs WHERE cadence = ? AND period = ?`, c.Key, due.Label).Scan(&n); err != nil {
			return time.Time{}, fmt.Errorf("review packs: %w", err)
		}
		if n > 0 {
			continue
		}
		if _, err := s.BuildAndSend(ctx, c, due, "schedule", true); err != nil {
			return time.Time{}, fmt.Errorf("review pack %s %s: %w", c.Key, due.Label, err)
		}
	}
	return next, nil
}

// BuildAndSend builds c's pack for p, stores it and, with mail, queues it
// to c's audience; it reports whether it was stored (false: it was
// already).
func (s *Service) BuildAndSend(ctx context.Context, c Cadence, p Period, by string, mail bool) (bool, error) {
	return s.buildAndSend(ctx, c, p, by, mail, s.clock.Now())
}

// StoreHistory stores c's pack for p as the schedule would have built it at
// its time, without mail: the demo desk's past packs.
func (s *Service) StoreHistory(ctx context.Context, c Cadence, p Period) (bool, error) {
	return s.buildAndSend(ctx, c, p, "schedule", false, c.SendAt(p))
}

func (s *Service) buildAndSend(ctx context.Context, c Cadence, p Period, by string, mail bool, at time.Time) (bool, error) {
	pk, err := s.build(ctx, c, p, at)
	if err != nil {
		return false, err
	}
	rcpt, err := s.recipients(ctx, c)
	if err != nil {
		return false, err
	}
	stored, err := s.store(ctx, pk, c.Every, rcpt, by, mail)
	if err == nil && stored {
		s.log.Info("review pack built", "cadence", c.Key, "period", p.Label, "recipients", len(rcpt))
	}
	return stored, err
}
