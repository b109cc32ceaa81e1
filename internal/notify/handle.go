package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
)

// Handle turns one event into notifications and deliveries, in one
// transaction, adding nothing for an event it has handled before. It is
// the durable subscriber's handler: an error retries the event later.
func (s *Service) Handle(ctx context.Context, e events.Event) error {
	cfg, set, err := s.settings(ctx)
	if err != nil {
		return err
	}
	hooks, err := s.hooksFor(ctx, e.Type)
	if err != nil {
		return err
	}
	if len(hooks) == 0 && !MayTell(e) {
		return nil // nobody to tell: no need to read the case and its people
	}
	var c *cases.Case
	if e.Case != nil {
		if c, err = s.caseOf(ctx, e); err != nil {
			return err
		}
	}
	plan, err := s.plan(ctx, cfg, set, e, c, hooks)
	if err != nil {
		return err
	}
	if len(plan.inApp) == 0 && len(plan.out) == 0 {
		return nil
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error { return s.write(ctx, tx, set, e, plan) })
}

// caseOf is the case e is about, as it is now (with its watchers when
// the event tells them).
func (s *Service) caseOf(ctx context.Context, e events.Event) (*cases.Case, error) {
	ref := strconv.FormatInt(e.Case.ID, 10)
	var c *cases.Case
	var err error
	if e.Type == events.CaseStatusChanged {
		c, err = s.cases.Get(ctx, auth.System("notify"), ref) // Get reads the watchers too
	} else {
		c, err = s.cases.Find(ctx, s.db, ref)
	}
	if errors.Is(err, apperr.ErrNotFound) {
		return nil, nil // gone (a rolled-back import): nothing to tell
	}
	if err != nil {
		return nil, fmt.Errorf("notify: case of %s: %w", e.ID, err)
	}
	return c, nil
}

// inAppRow is a notification for the bell.
type inAppRow struct {
	userID int64
	kind   Kind
	c      Content
}

// outRow is a delivery to write.
type outRow struct {
	channel   string // email | webhook
	recipient string
	userID    int64
	webhookID int64
	kind      Kind
	mail      *Mail // email: composed, threaded in write
	body      []byte
	nextAt    time.Time
	heldUntil time.Time
}

type plan struct {
	inApp []inAppRow
	out   []outRow
}

// plan works out who is told what, reading but writing nothing.
func (s *Service) plan(ctx context.Context, cfg *desk.Config, set Settings, e events.Event, c *cases.Case, hooks []Webhook) (*plan, error) {
	now := s.clock.Now()
	p := &plan{}
	text := Text{BaseURL: baseURL(set), TeamName: func(k string) string {
		if t, ok := cfg.Team(k); ok {
			return t.Name
		}
		return k
	}}
	if c != nil {
		text.ResolutionNote = c.ResolutionNote
	}
	if cm, ok := e.Data.(*events.Comment); ok && c != nil && len(cm.Mentions) > 0 {
		body, err := s.commentBody(ctx, c.ID, cm.CommentID)
		if err != nil {
			return nil, err
		}
		text.Comment = body
	}
	if c != nil || e.Case == nil {
		rs, err := s.recipients(ctx, cfg, e, c)
		if err != nil {
			return nil, err
		}
		prefs, err := s.preferencesOf(ctx, rs)
		if err != nil {
			return nil, err
		}
		mailOK := set.Mail() || s.opt.Mailer != nil
		for _, r := range rs {
			pr := prefs[r.ID]
			loc := zone(r.Timezone)
			content := Describe(e, &r, text, loc)
			if pr.Wants(r.Kind, InApp) {
				p.inApp = append(p.inApp, inAppRow{userID: r.ID, kind: r.Kind, c: content})
			}
			if mailOK && pr.Wants(r.Kind, Email) {
				txt, html, err := renderMail(content, text.BaseURL)
				if err != nil {
					return nil, err
				}
				row := outRow{channel: string(Email), recipient: strings.ToLower(r.Email), userID: r.ID, kind: r.Kind, nextAt: now,
					mail: &Mail{To: r.Email, ToName: r.Name, Subject: subject(content), Text: txt, HTML: html, Case: content.Number}}
				if hold := pr.HoldUntil(Urgent(e, r.Kind), now, loc); !hold.IsZero() {
					row.nextAt, row.heldUntil = hold, hold
				}
				p.out = append(p.out, row)
			}
		}
	}
	if len(hooks) > 0 {
		content := Describe(e, nil, text, time.UTC)
		for _, h := range hooks {
			if e.Case != nil && (c == nil || (c.Sensitivity == "restricted" && !h.IncludeRestricted)) {
				continue // restricted cases are need-to-know: only subscriptions that say so get them
			}
			body, err := webhookBody(h.Format, e, content)
			if err != nil {
				return nil, fmt.Errorf("notify: webhook body: %w", err)
			}
			p.out = append(p.out, outRow{channel: "webhook", recipient: "webhook:" + strconv.FormatInt(h.ID, 10),
				webhookID: h.ID, body: body, nextAt: now})
		}
	}
	return p, nil
}

// recipients loads the people e may concern and applies the rules.
func (s *Service) recipients(ctx context.Context, cfg *desk.Config, e events.Event, c *cases.Case) ([]Recipient, error) {
	f := Facts{Members: map[string][]string{}}
	var emails, teams []string
	if c != nil {
		if c.Owner != nil {
			f.Owner = *c.Owner
		}
		f.Watchers = c.Watchers
		if c.SellerID != nil && e.Type == events.CaseStatusChanged {
			seller, ok, err := desk.SellerByID(ctx, s.db, *c.SellerID)
			if err != nil {
				return nil, err
			}
			if ok {
				f.AccountManager = seller.AccountManager
			}
		}
		emails = append(emails, f.Owner, f.AccountManager)
		emails = append(emails, f.Watchers...)
		if tellsCaseTeam(e) { // otherwise the team's members are not read: nobody is told as one
			teams = append(teams, c.Team)
		}
	}
	switch d := e.Data.(type) {
	case *events.Assigned:
		emails = append(emails, d.Owner)
	case *events.Comment:
		emails = append(emails, d.Mentions...)
	case *events.Handoff:
		teams = append(teams, d.ToTeam)
	case *events.Escalation:
		emails = append(emails, d.Targets...)
	case *events.Incident:
		emails = append(emails, d.Notify...)
	case *events.ActionItem:
		emails = append(emails, d.Owner)
	case *events.Alert:
		teams = append(teams, d.Team)
	}
	people, members, err := s.people(ctx, cfg, emails, teams)
	if err != nil {
		return nil, err
	}
	f.People, f.Members = people, members
	if c != nil {
		f.Sees = func(p Person) bool { return s.cases.CanSee(ctx, p.Actor(), c) }
	}
	return Recipients(e, f), nil
}

// people reads the active users named by emails or in teams.
func (s *Service) people(ctx context.Context, cfg *desk.Config, emails, teams []string) (map[string]Person, map[string][]string, error) {
	var conds []string
	var args []any
	var es []any
	for _, e := range emails {
		if e = strings.ToLower(strings.TrimSpace(e)); e != "" && !slices.Contains(es, any(e)) {
			es = append(es, e)
		}
	}
	var ts []any
	for _, t := range teams {
		if t != "" && !slices.Contains(ts, any(t)) {
			ts = append(ts, t)
		}
	}
	if len(es) > 0 {
		conds, args = append(conds, "u.email IN ("+db.Placeholders(len(es))+")"), append(args, es...)
	}
	if len(ts) > 0 {
		conds, args = append(conds, "u.id IN (SELECT user_id FROM team_members WHERE team IN ("+db.Placeholders(len(ts))+"))"), append(args, ts...)
	}
	people, members := map[string]Person{}, map[string][]string{}
	if len(conds) == 0 {
		return people, members, nil
	}
	rows, err := s.db.Query(ctx, `SELECT u.id, u.email, u.name, u.role, u.markets FROM users u
		WHERE u.active = TRUE AND (`+strings.Join(conds, " OR ")+`)`, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("notify: people: %w", err)
	}
	var ids []any
	byID := map[int64]string{}
	for rows.Next() {
		var p Person
		var markets string
		if err := rows.Scan(&p.ID, &p.Email, &p.Name, &p.Role, &markets); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("notify: people: %w", err)
		}
		_ = json.Unmarshal([]byte(markets), &p.Markets)
		if len(p.Markets) == 0 {
			p.Markets = nil
		}
		p.Timezone = cfg.Profiles[p.Email].Timezone
		people[p.Email] = p
		ids = append(ids, p.ID)
		byID[p.ID] = p.Email
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("notify: people: %w", err)
	}
	if len(ids) == 0 {
		return people, members, nil
	}
	mrows, err := s.db.Query(ctx, `SELECT team, user_id FROM team_members WHERE user_id IN (`+db.Placeholders(len(ids))+`) ORDER BY team, user_id`, ids...)
	if err != nil {
		return nil, nil, fmt.Errorf("notify: teams: %w", err)
	}
	defer mrows.Close()
	for mrows.Next() {
		var team string
		var id int64
		if err := mrows.Scan(&team, &id); err != nil {
			return nil, nil, fmt.Errorf("notify: teams: %w", err)
		}
		email := byID[id]
		p := people[email]
		p.Teams = append(p.Teams, team)
		people[email] = p
		if slices.Contains(ts, any(team)) {
			members[team] = append(members[team], email)
		}
	}
	return people, members, mrows.Err()
}

// commentBody is the text of comment id on case caseID.
func (s *Service) commentBody(ctx context.Context, caseID, id int64) (string, error) {
	var body string
	err := s.db.QueryRow(ctx, `SELECT body FROM case_comments WHERE id = ? AND case_id = ?`, id, caseID).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("notify: comment %d: %w", id, err)
	}
	return body, nil
}

// zone is an IANA zone, UTC when it does not load.
func zone(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// write stores a plan in tx: each row once per event (a redelivered event
// conflicts and adds nothing).
func (s *Service) write(ctx context.Context, tx *db.Tx, set Settings, e events.Event, p *plan) error {
	now := s.clock.Now()
	var caseID any
	number := ""
	if e.Case != nil {
		caseID, number = e.Case.ID, e.Case.Number
	}
	for _, n := range p.inApp {
		if _, err := tx.Exec(ctx, `INSERT INTO notifications (user_id, event_id, event_type, kind, case_id, case_number, title, body, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, event_id) DO NOTHING`,
			n.userID, e.ID, string(e.Type), string(n.kind), caseID, number, n.c.Title, n.c.Line(), db.T(e.At)); err != nil {
			return fmt.Errorf("notify: notification: %w", err)
		}
	}
	var earliest time.Time
	for _, o := range p.out {
		payload := o.body
		msgID := ""
		if o.mail != nil {
			m := *o.mail // the plan is an input: a re-run of this transaction starts from it again
			domain := domainOf(emailFrom(set))
			if e.Case != nil {
				root, parent, err := s.thread(ctx, tx, e.Case.ID, o.recipient)
				if err != nil {
					return err
				}
				if root == "" {
					m.MessageID = threadID(e.Case.ID, o.recipient, domain)
				} else {
					m.MessageID = messageID(e.ID, o.recipient, domain)
					m.InReplyTo = parent
					m.References = []string{root}
					if parent != root {
						m.References = append(m.References, parent)
					}
				}
			} else {
				m.MessageID = messageID(e.ID, o.recipient, domain)
			}
			msgID = m.MessageID
			b, err := json.Marshal(m)
			if err != nil {
				return fmt.Errorf("notify: mail: %w", err)
			}
			payload = b
		}
		res, err := tx.Exec(ctx, `INSERT INTO notify_deliveries (event_id, event_type, event_at, channel, recipient, user_id, webhook_id,
			kind, case_id, message_id, payload, next_at, held_until, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id, channel, recipient) DO NOTHING`,
			e.ID, string(e.Type), db.T(e.At), o.channel, o.recipient, db.NullID(o.userID), db.NullID(o.webhookID),
			string(o.kind), caseID, msgID, string(payload), db.T(o.nextAt), db.T(o.heldUntil), db.T(now), db.T(now))
		if err != nil {
			return fmt.Errorf("notify: delivery: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 && (earliest.IsZero() || o.nextAt.Before(earliest)) {
			earliest = o.nextAt
		}
	}
	s.timer.AfterCommit(tx, earliest)
	return nil
}

// thread is the Message-IDs of the first and the latest mail about the
// case to rcpt ("" when none went before).
func (s *Service) thread(ctx context.Context, tx *db.Tx, caseID int64, rcpt string) (root, parent string, err error) {
	rows, err := tx.Query(ctx, `SELECT message_id FROM notify_deliveries WHERE channel = 'email' AND case_id = ? AND recipient = ?
		AND id IN ((SELECT MIN(id) FROM notify_deliveries WHERE channel = 'email' AND case_id = ? AND recipient = ?),
		           (SELECT MAX(id) FROM notify_deliveries WHERE channel = 'email' AND case_id = ? AND recipient = ?))
		ORDER BY id`, caseID, rcpt, caseID, rcpt, caseID, rcpt)
	if err != nil {
		return "", "", fmt.Errorf("notify: thread: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return "", "", fmt.Errorf("notify: thread: %w", err)
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return "", "", rows.Err()
	}
	return ids[0], ids[len(ids)-1], rows.Err()
}

func emailFrom(set Settings) string {
	if set.Mail() {
		return set.Email.From
	}
	return "flare@flare.invalid"
}
