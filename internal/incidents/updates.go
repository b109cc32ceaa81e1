package incidents

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/input"
)

// Update is a status update as sent, on the incident's status page.
type Update struct {
	ID         int64     `json:"id"`
	Audience   Audience  `json:"audience"`
	Template   string    `json:"template,omitempty"`
	Body       string    `json:"body"`
	Status     Status    `json:"status"`
	Severity   Severity  `json:"severity"`
	Recipients int       `json:"recipients"` // the people it went to (webhooks get it as the event)
	PostedBy   string    `json:"posted_by,omitempty"`
	PostedName string    `json:"posted_by_name,omitempty"`
	PostedAt   time.Time `json:"posted_at"`
}

// UpdateInput is the body of POST /incidents/{ref}/updates (and of the
// preview): a template of the desk (or a default) by name, or a body of
// one's own; both are rendered over the incident.
type UpdateInput struct {
	Audience Audience `json:"audience"`
	Template string   `json:"template"`
	Body     string   `json:"body"`
}

// Preview is an update as it would go out: the text and who gets it.
type Preview struct {
	Audience   Audience `json:"audience"`
	Template   string   `json:"template,omitempty"`
	Body       string   `json:"body"`
	Recipients []string `json:"recipients"` // emails
	Templates  []string `json:"templates"`  // the templates for this type and audience
}

// DataOf is what templates read of inc.
func DataOf(inc *Incident, next *time.Time) TemplateData {
	d := TemplateData{Number: inc.Number, Title: inc.Title, Summary: inc.Summary, Type: inc.Type, Severity: inc.Severity,
		Status: inc.Status, Markets: strings.Join(inc.Markets, ", "), LinkedCases: inc.LinkedCases}
	if d.Markets == "" {
		d.Markets = "all markets"
	}
	for _, r := range inc.Roles {
		if r.Role == RoleCommander {
			d.Commander = r.Name
		}
	}
	if next != nil {
		d.NextUpdate = next.UTC().Format("15:04 MST")
	}
	return d
}

// compose renders in for inc.
func compose(cfg *desk.Config, inc *Incident, in UpdateInput, now time.Time) (*Preview, error) {
	v := &apperr.Invalid{}
	if !in.Audience.Valid() {
		v.Add("audience", "unknown audience %q; one of internal, leadership, account_managers, public", in.Audience)
		return nil, v
	}
	p := &Preview{Audience: in.Audience, Templates: []string{}, Recipients: []string{}}
	tpls := TemplatesFor(cfg, inc.Type, in.Audience, "update")
	for _, t := range tpls {
		p.Templates = append(p.Templates, t.Name)
	}
	body := strings.TrimSpace(in.Body)
	if body == "" {
		name := strings.TrimSpace(in.Template)
		i := slices.IndexFunc(tpls, func(t Template) bool { return t.Name == name })
		switch {
		case name == "" && len(tpls) > 0:
			i = 0
		case i < 0:
			v.Add("template", "no %s template %q for a %s incident; one of %s", in.Audience, name, inc.Type, strings.Join(p.Templates, ", "))
			return nil, v
		}
		body, p.Template = tpls[i].Body, tpls[i].Name
	}
	var next *time.Time
	if c := SeverityOf(cfg, inc.Severity).Cadence(); c > 0 && inc.Status.Active() {
		next = ptr(now.Add(c))
	}
	out, err := Render(body, DataOf(inc, next))
	if err != nil {
		return nil, apperr.InvalidField("body", "%s", err.Error())
	}
	if !input.Check(v, "body", input.Text, out) {
		return nil, v
	}
	p.Body = out
	return p, nil
}

// Compose previews an update of incident ref: its text and recipients.
func (s *Service) Compose(ctx context.Context, actor auth.Actor, ref string, in UpdateInput) (*Preview, error) {
	if err := mayWrite(actor, "write incident updates"); err != nil {
		return nil, err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	inc, err := s.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	p, err := compose(cfg, inc, in, s.clock.Now())
	if err != nil {
		return nil, err
	}
	if p.Recipients, err = s.recipients(ctx, s.db, cfg, inc, in.Audience, actor.Email); err != nil {
		return nil, err
	}
	return p, nil
}

// recipients are the emails an update for audience goes to: the desk's
// stakeholder groups of that audience (for the incident's severity), the
// people who hold a role and those who subscribed — never the sender.
func (s *Service) recipients(ctx context.Context, q db.Querier, cfg *desk.Config, inc *Incident, a Audience, sender string) ([]string, error) {
	var out []string
	add := func(emails ...string) {
		for _, e := range emails {
			e = strings.ToLower(e)
			if e != "" && e != strings.ToLower(sender) && !slices.Contains(out, e) {
				out = append(out, e)
			}
		}
	}
	users, err := auth.ListUsers(ctx, q)
	if err != nil {
		return nil, err
	}
	active := map[string]bool{}
	for _, u := range users {
		active[u.Email] = u.Active
	}
	for _, g := range SettingsOf(cfg).Stakeholders {
		if g.Audience != a || (len(g.Severities) > 0 && !slices.Contains(g.Severities, inc.Severity)) {
			continue
		}
		add(g.Users...)
		for _, u := range users {
			if slices.ContainsFunc(u.Teams, func(t string) bool { return slices.Contains(g.Teams, t) }) {
				add(u.Email)
			}
		}
		if g.AccountManagers {
			ams, err := s.accountManagers(ctx, q, inc)
			if err != nil {
				return nil, err
			}
			add(ams...)
		}
	}
	add(inc.People()...)
	rows, err := q.Query(ctx, `SELECT u.email FROM incident_subscribers s JOIN users u ON u.id = s.user_id WHERE s.incident_id = ? ORDER BY u.email`, inc.ID)
	if err != nil {
		return nil, fmt.Errorf("subscribers: %w", err)
	}
	subs, err := db.Collect(rows, func(r db.Scanner) (string, error) { var e string; return e, r.Scan(&e) })
	if err != nil {
		return nil, err
	}
	add(subs...)
	out = slices.DeleteFunc(out, func(e string) bool { return !active[e] })
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// accountManagers are the account managers of the incident's sellers and
// of its linked cases' sellers.
func (s *Service) accountManagers(ctx context.Context, q db.Querier, inc *Incident) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT DISTINCT c.seller_id FROM incident_cases ic JOIN cases c ON c.id = ic.case_id
		WHERE ic.incident_id = ? AND c.seller_id IS NOT NULL`, inc.ID)
	if err != nil {
		return nil, fmt.Errorf("linked sellers: %w", err)
	}
	ids, err := db.Collect(rows, func(r db.Scanner) (string, error) { var id string; return id, r.Scan(&id) })
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range append(slices.Clone(inc.Sellers), ids...) {
		seller, ok, err := desk.SellerByID(ctx, q, id)
		if err != nil {
			return nil, err
		}
		if ok && seller.AccountManager != "" && !slices.Contains(out, seller.AccountManager) {
			out = append(out, seller.AccountManager)
		}
	}
	return out, nil
}

// PostUpdate sends an update of incident ref: it is kept on the status
// page, its recipients are told through notifications (the event
// incident.update_posted, which webhooks subscribed to it get too), and
// the next update is due a cadence later.
func (s *Service) PostUpdate(ctx context.Context, actor auth.Actor, ref string, in UpdateInput) (*Update, error) {
	if err := mayWrite(actor, "send incident updates"); err != nil {
		return nil, err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	inc, err := s.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	if inc.Status == Closed {
		return nil, &apperr.Conflict{Detail: inc.Number + " is closed"}
	}
	now := s.clock.Now()
	if _, err := compose(cfg, inc, in, now); err != nil {
		return nil, err
	}
	var out *Update
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := s.lock(ctx, tx, cfg, inc.ID)
		if err != nil {
			return err
		}
		p, err := compose(cfg, cur, in, now)
		if err != nil {
			return err
		}
		rcpts, err := s.recipients(ctx, tx, cfg, cur, in.Audience, actor.Email)
		if err != nil {
			return err
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO incident_updates (incident_id, audience, template, body, status, severity, recipients, posted_by, posted_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, cur.ID, string(p.Audience), p.Template, p.Body, string(cur.Status),
			string(cur.Severity), len(rcpts), db.NullID(actor.UserID), db.T(now)).Scan(&id); err != nil {
			return fmt.Errorf("insert update: %w", err)
		}
		var next any
		if c := SeverityOf(cfg, cur.Severity).Cadence(); c > 0 && cur.Status.Active() {
			next = db.T(now.Add(c))
			s.timer.AfterCommit(tx, now.Add(c))
		}
		if _, err := tx.Exec(ctx, `UPDATE incidents SET last_update_at = ?, next_update_at = ?, updated_at = ? WHERE id = ?`,
			db.T(now), next, db.T(now), cur.ID); err != nil {
			return fmt.Errorf("incident update times: %w", err)
		}
		if err := addEntry(ctx, tx, cur.ID, actor, now, "update_posted", p.Body,
			map[string]any{"update_id": id, "audience": p.Audience, "recipients": len(rcpts)}); err != nil {
			return err
		}
		out = &Update{ID: id, Audience: p.Audience, Template: p.Template, Body: p.Body, Status: cur.Status, Severity: cur.Severity,
			Recipients: len(rcpts), PostedBy: actor.Email, PostedName: actor.Name, PostedAt: now}
		if err := audit.Append(ctx, tx, now, audit.Entry{ActorID: actor.UserID, Actor: audit.ActorName(actor), Action: "incident.update",
			ObjectType: "incident", ObjectID: cur.Number, After: map[string]any{"audience": p.Audience, "body": p.Body, "recipients": len(rcpts)}}); err != nil {
			return err
		}
		return s.publish(ctx, tx, actor, events.IncidentUpdatePosted, cur,
			&events.Incident{Audience: string(p.Audience), Body: p.Body, Notify: rcpts}, now)
	})
	return out, err
}

// Updates lists the updates of incident ref, newest first: its status
// page, readable by anyone signed in.
func (s *Service) Updates(ctx context.Context, actor auth.Actor, ref string) ([]Update, error) {
	inc, err := s.Get(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	return s.updates(ctx, s.db, inc.ID, "", 0)
}

func (s *Service) updates(ctx context.Context, q db.Querier, id int64, audience Audience, limit int) ([]Update, error) {
	query := `SELECT u.id, u.audience, u.template, u.body, u.status, u.severity, u.recipients, pu.email, pu.name, u.posted_at
		FROM incident_updates u LEFT JOIN users pu ON pu.id = u.posted_by WHERE u.incident_id = ?`
	args := []any{id}
	if audience != "" {
		query, args = query+" AND u.audience = ?", append(args, string(audience))
	}
	query += " ORDER BY u.posted_at DESC, u.id DESC"
	if limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("incident updates: %w", err)
	}
	return db.Collect(rows, func(r db.Scanner) (Update, error) {
		var u Update
		var by, name sql.NullString
		var at db.Time
		err := r.Scan(&u.ID, &u.Audience, &u.Template, &u.Body, &u.Status, &u.Severity, &u.Recipients, &by, &name, &at)
		u.PostedBy, u.PostedName, u.PostedAt = by.String, name.String, at.Time
		return u, err
	})
}

// fireReminders reminds whoever owes the next update of every open
// incident whose update is due (the communications lead, else the
// commander), and asks again a cadence later.
func (s *Service) fireReminders(ctx context.Context, cfg *desk.Config) error {
	for {
		n := 0
		err := s.db.InTx(ctx, func(tx *db.Tx) error {
			now := s.clock.Now()
			q := `SELECT id FROM incidents WHERE next_update_at IS NOT NULL AND next_update_at <= ? ORDER BY next_update_at, id LIMIT 50`
			if tx.Dialect() == db.Postgres {
				q += ` FOR UPDATE SKIP LOCKED`
			}
			ids, err := db.QueryIDs(ctx, tx, q, db.T(now))
			if err != nil {
				return fmt.Errorf("due updates: %w", err)
			}
			n = len(ids)
			for _, id := range ids {
				inc, err := s.byID(ctx, tx, cfg, id)
				if err != nil {
					return err
				}
				if inc.NextUpdateAt == nil || inc.NextUpdateAt.After(now) {
					continue
				}
				var next any
				c := SeverityOf(cfg, inc.Severity).Cadence()
				if c > 0 && inc.Status.Active() {
					at := inc.NextUpdateAt.Add(c)
					for !at.After(now) { // a server down for a while reminds once, not once per missed cadence
						at = at.Add(c)
					}
					next = db.T(at)
				}
				if _, err := tx.Exec(ctx, `UPDATE incidents SET next_update_at = ? WHERE id = ?`, next, id); err != nil {
					return fmt.Errorf("next update: %w", err)
				}
				if next == nil {
					continue
				}
				owner := inc.Holder(RoleComms)
				if owner == "" {
					owner = inc.Commander()
				}
				data := map[string]any{"due_at": *inc.NextUpdateAt}
				if owner != "" {
					data["to"] = owner
				}
				if err := addEntry(ctx, tx, id, flare, now, "update_due", "", data); err != nil {
					return err
				}
				notify := []string{}
				if owner != "" {
					notify = append(notify, owner)
				}
				if err := s.publish(ctx, tx, flare, events.IncidentUpdateDue, inc, &events.Incident{Notify: notify}, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || n < 50 {
			return err
		}
	}
}
