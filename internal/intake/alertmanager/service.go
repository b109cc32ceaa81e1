package alertmanager

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/incidents"
	"github.com/flare-desk/flare/internal/intake"
	"github.com/flare-desk/flare/internal/intake/webhook"
)

// SourcePrefix starts an endpoint's intake source key: "alertmanager:<key>".
const SourcePrefix = "alertmanager:"

// Service receives Alertmanager's notifications.
type Service struct {
	db     *db.DB
	desk   *desk.Service
	cases  *cases.Service
	intake *intake.Service
	clock  clock.Clock
	getenv func(string) string
	// incidents declares the endpoints' rules' incidents (nil: none are).
	incidents *incidents.Service
}

// New returns the Alertmanager service; getenv reads the endpoints'
// secrets (os.Getenv in a server).
func New(d *db.DB, dk *desk.Service, cs *cases.Service, in *intake.Service, c clock.Clock, getenv func(string) string) *Service {
	return &Service{db: d, desk: dk, cases: cs, intake: in, clock: c, getenv: getenv}
}

// What a notification did.
const (
	OutcomeCreated   = "created"   // the group's case was opened
	OutcomeUpdated   = "updated"   // what changed was added to its timeline
	OutcomeResolved  = "resolved"  // likewise, and the case was resolved
	OutcomeUnchanged = "unchanged" // nothing Flare had not recorded (a repeat)
	OutcomeIgnored   = "ignored"   // resolved alerts of a group Flare never saw firing
)

// Receipt is the answer to a notification.
type Receipt struct {
	Case    string `json:"case,omitempty"`
	Outcome string `json:"outcome"`
	Changes int    `json:"changes"`
}

// group is a group's recorded state.
type group struct {
	caseID     int64
	generation int
	alerts     []State
}

// Receive handles one notification to the endpoint key. Errors are
// webhook.Service.Receive's.
func (s *Service) Receive(ctx context.Context, key string, h http.Header, body io.Reader) (*Receipt, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	e, ok := Find(cfg, key)
	if !ok {
		return nil, apperr.ErrNotFound
	}
	raw, err := webhook.ReadBody(e.Auth, h, body, e.maxBody(), s.getenv(e.Auth.SecretEnv), s.clock)
	if err != nil {
		return nil, err
	}
	p, err := Decode(raw)
	if err != nil {
		return nil, err
	}
	actor := auth.System(SourcePrefix + key)
	g, err := s.group(ctx, s.db, key, p.GroupKey)
	if err != nil {
		return nil, err
	}
	var open *cases.Case
	if g != nil {
		c, err := s.cases.Find(ctx, s.db, strconv.FormatInt(g.caseID, 10))
		if err != nil {
			return nil, err
		}
		if c.Status.Active() {
			open = c
		}
	}
	if open == nil {
		if p.Status == Resolved && !slices.ContainsFunc(p.Alerts, func(a Alert) bool { return a.Status == Firing }) {
			if g != nil { // the group's case is done already; its incidents hear of it
				if s.hasRules(e) {
					if err := s.db.InTx(ctx, func(tx *db.Tx) error { return s.declareRules(ctx, tx, actor, e, p, nil) }); err != nil {
						return nil, err
					}
				}
				return &Receipt{Outcome: OutcomeUnchanged}, nil
			}
			return &Receipt{Outcome: OutcomeIgnored}, nil
		}
		return s.open(ctx, actor, e, cfg, g, key, p)
	}
	changes := Diff(g.alerts, p)
	if len(changes) == 0 {
		return &Receipt{Case: open.Number, Outcome: OutcomeUnchanged}, nil
	}
	resolve := e.ResolveCase && AllResolved(g.alerts, p)
	res, err := s.intake.Submit(ctx, actor, intake.Submission{
		Source: intake.Source{Channel: "alert", Key: SourcePrefix + key, ExternalID: p.GroupKey + "@" + Digest(p.GroupKey, changes)},
		Into:   open.Number,
		Reply:  intake.Reply{Body: Update(p, changes), Internal: true},
		Then: func(ctx context.Context, tx *db.Tx, r *intake.Result) error {
			if err := s.record(ctx, tx, key, p, r.Case.ID, g.generation, false); err != nil {
				return err
			}
			if err := s.declareRules(ctx, tx, actor, e, p, r.Case); err != nil {
				return err
			}
			if resolve {
				return s.resolveCase(ctx, tx, actor, e, r.Case.Number)
			}
			return nil
		},
	})
	if err != nil {
		return nil, err
	}
	out := &Receipt{Case: res.Case.Number, Outcome: OutcomeUpdated, Changes: len(changes)}
	if res.Outcome == intake.OutcomeDuplicate {
		out.Outcome, out.Changes = OutcomeUnchanged, 0
	} else if resolve {
		out.Outcome = OutcomeResolved
	}
	return out, nil
}

// open opens the group's case: its first, or a new one after the last was
// resolved or closed.
func (s *Service) open(ctx context.Context, actor auth.Actor, e Endpoint, cfg *desk.Config, g *group, key string, p *Payload) (*Receipt, error) {
	gen, extID := 0, p.GroupKey
	if g != nil {
		gen = g.generation + 1
		extID = p.GroupKey + "#" + strconv.Itoa(gen)
	}
	res, err := s.intake.Submit(ctx, actor, intake.Submission{
		Source: intake.Source{Channel: "alert", Key: SourcePrefix + key, ExternalID: extID},
		Case:   caseInput(e, p),
		Then: func(ctx context.Context, tx *db.Tx, r *intake.Result) error {
			if err := s.record(ctx, tx, key, p, r.Case.ID, gen, true); err != nil {
				return err
			}
			return s.declareRules(ctx, tx, actor, e, p, r.Case)
		},
	})
	if err != nil {
		return nil, err
	}
	out := &Receipt{Case: res.Case.Number, Outcome: OutcomeCreated, Changes: len(p.Alerts)}
	if res.Outcome == intake.OutcomeDuplicate {
		out.Outcome, out.Changes = OutcomeUnchanged, 0
	}
	return out, nil
}

// caseInput is the case a firing group opens.
func caseInput(e Endpoint, p *Payload) cases.CreateInput {
	in := cases.CreateInput{Title: Title(p), Description: Description(p), Category: e.Category, Market: e.Market,
		Tags: []string{"alertmanager"}}
	label := func(name string) string {
		if name == "" {
			return ""
		}
		return strings.TrimSpace(p.CommonLabels[name])
	}
	if v := label(e.Labels.Market); v != "" {
		in.Market = v
	}
	if v := label(e.Labels.Category); v != "" {
		in.Category = v
	}
	in.SellerID = label(e.Labels.SellerID)
	if e.HighRisk.Label != "" {
		for _, a := range p.Alerts {
			if v, ok := a.Labels[e.HighRisk.Label]; ok && slices.Contains(e.HighRisk.Values, v) {
				in.HighRisk = true
			}
		}
	}
	return in
}

// resolveCase resolves the group's case, in the notification's transaction.
func (s *Service) resolveCase(ctx context.Context, tx *db.Tx, actor auth.Actor, e Endpoint, ref string) error {
	_, err := s.cases.TransitionInTx(ctx, tx, actor, ref, cases.TransitionInput{To: cases.StatusResolved,
		Resolution: e.resolution(), Note: "Every alert of the group was resolved in Alertmanager."})
	return err
}

// group reads a group's recorded state; nil when Flare has none.
func (s *Service) group(ctx context.Context, q db.Querier, endpoint, groupKey string) (*group, error) {
	var g group
	err := q.QueryRow(ctx, `SELECT case_id, generation FROM intake_alert_groups WHERE endpoint = ? AND group_key = ?`,
		endpoint, groupKey).Scan(&g.caseID, &g.generation)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("alert group: %w", err)
	}
	rows, err := q.Query(ctx, `SELECT fingerprint, status, starts_at, ends_at FROM intake_alerts
		WHERE endpoint = ? AND group_key = ? ORDER BY fingerprint`, endpoint, groupKey)
	if err != nil {
		return nil, fmt.Errorf("alert group's alerts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st State
		var starts, ends db.Time
		if err := rows.Scan(&st.Fingerprint, &st.Status, &starts, &ends); err != nil {
			return nil, err
		}
		st.StartsAt, st.EndsAt = starts.Time, ends.Time
		g.alerts = append(g.alerts, st)
	}
	return &g, rows.Err()
}

// record writes the group's state after p: its case, and its alerts as p
// tells them (fresh: the group starts again with a new case).
func (s *Service) record(ctx context.Context, tx *db.Tx, endpoint string, p *Payload, caseID int64, gen int, fresh bool) error {
	now := db.T(s.clock.Now())
	_, err := tx.Exec(ctx, `INSERT INTO intake_alert_groups (endpoint, group_key, case_id, generation, status, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (endpoint, group_key) DO UPDATE SET
		case_id = excluded.case_id, generation = excluded.generation, status = excluded.status, updated_at = excluded.updated_at`,
		endpoint, p.GroupKey, caseID, gen, p.Status, now)
	if err != nil {
		return fmt.Errorf("record alert group: %w", err)
	}
	if fresh {
		if _, err := tx.Exec(ctx, `DELETE FROM intake_alerts WHERE endpoint = ? AND group_key = ?`, endpoint, p.GroupKey); err != nil {
			return fmt.Errorf("reset alert group: %w", err)
		}
	}
	for _, st := range States(p) {
		_, err := tx.Exec(ctx, `INSERT INTO intake_alerts (endpoint, group_key, fingerprint, status, starts_at, ends_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (endpoint, group_key, fingerprint) DO UPDATE SET
			status = excluded.status, starts_at = excluded.starts_at, ends_at = excluded.ends_at`,
			endpoint, p.GroupKey, st.Fingerprint, st.Status, db.T(st.StartsAt), db.T(st.EndsAt))
		if err != nil {
			return fmt.Errorf("record alert %s: %w", st.Fingerprint, err)
		}
	}
	return nil
}

// UseSecrets replaces how the endpoints' secrets are read (the demo desk
// has its own); call it while wiring.
func (s *Service) UseSecrets(getenv func(string) string) { s.getenv = getenv }
