package cases

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/input"
	"github.com/flare-desk/flare/internal/routing"
)

// change loads a case for update in a transaction, checks that actor may
// see and write it, runs fn, and saves the result with its events and audit
// record. fn returns the timeline entries to add.
func (s *Service) change(ctx context.Context, actor auth.Actor, ref string, perm auth.Permission,
	fn func(tx *db.Tx, c *Case) ([]eventRec, error)) (*Case, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	var out *Case
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		out, err = s.changeTx(ctx, tx, cfg, actor, ref, perm, fn)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.finish(ctx, cfg, out)
}

// plan works out a change to c, reading through q: the store outside a
// transaction when checking it in advance (w is nil then), or the
// change's transaction, where w collects the writes to make after it.
type plan func(q db.Querier, c *Case, w *later) ([]eventRec, error)

// later holds writes a plan defers until it runs in its transaction.
type later []func(ctx context.Context, tx *db.Tx) error

func (l *later) add(f func(ctx context.Context, tx *db.Tx) error) {
	if l != nil {
		*l = append(*l, f)
	}
}

// changeChecked is change for a plan that is checked first against the
// case as it stands, outside any transaction: input it refuses (a 422) or
// a move the case's state refuses (a 409) costs no transaction, and no
// other write committed with it is rolled back and retried (db.InTx).
// The plan runs again in the transaction, against the case locked.
func (s *Service) changeChecked(ctx context.Context, actor auth.Actor, ref string, perm auth.Permission, fn plan) (*Case, error) {
	// Inside a caller's transaction (db.Join) there is no batch of others to
	// spare: its failure fails it whole anyway.
	if s.db.Joined(ctx) {
		return s.change(ctx, actor, ref, perm, func(tx *db.Tx, c *Case) ([]eventRec, error) { return runPlan(ctx, tx, c, fn) })
	}
	if c, err := s.load(ctx, s.db, ref, false); err == nil && s.CanSee(ctx, actor, c) && actor.Can(perm) {
		var inv *apperr.Invalid
		var cf *apperr.Conflict
		if _, err := fn(s.db, c, nil); errors.As(err, &inv) || errors.As(err, &cf) {
			return nil, err
		}
	}
	return s.change(ctx, actor, ref, perm, func(tx *db.Tx, c *Case) ([]eventRec, error) { return runPlan(ctx, tx, c, fn) })
}

// runPlan runs fn in tx and then the writes it deferred.
func runPlan(ctx context.Context, tx *db.Tx, c *Case, fn plan) ([]eventRec, error) {
	var w later
	recs, err := fn(tx, c, &w)
	if err != nil {
		return nil, err
	}
	for _, f := range w {
		if err := f(ctx, tx); err != nil {
			return nil, err
		}
	}
	return recs, nil
}

// finish fills in what a changed case shows once committed: its watchers
// and its clocks brought forward to now.
func (s *Service) finish(ctx context.Context, cfg *desk.Config, c *Case) (*Case, error) {
	var err error
	if c.Watchers, err = watchers(ctx, s.db, c.ID); err != nil {
		return nil, err
	}
	s.attachSLA(cfg, []*Case{c})
	return c, nil
}

// changeTx is change inside the caller's transaction.
func (s *Service) changeTx(ctx context.Context, tx *db.Tx, cfg *desk.Config, actor auth.Actor, ref string, perm auth.Permission,
	fn func(tx *db.Tx, c *Case) ([]eventRec, error)) (*Case, error) {
	if cr := creatingIn(ctx, tx, ref); cr != nil { // a subscriber of its create (amend.go)
		return s.amend(ctx, tx, cfg, cr, actor, perm, fn)
	}
	c, err := s.load(ctx, tx, ref, true)
	if err != nil {
		return nil, err
	}
	if !s.CanSee(ctx, actor, c) {
		return nil, apperr.ErrNotFound
	}
	if !actor.Can(perm) {
		return nil, &apperr.Forbidden{Detail: "your role cannot change this case"}
	}
	before, stored := *c, saveArgs(c)
	events, err := fn(tx, c)
	if err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return c, nil
	}
	now := s.clock.Now()
	c.UpdatedAt = now
	if err := saveChanged(ctx, tx, stored, c); err != nil {
		return nil, err
	}
	noteChange(ctx, c.ID)
	for _, e := range events {
		if err := addEvent(ctx, tx, c.ID, actor, now, e.typ, e.data); err != nil {
			return nil, err
		}
	}
	// Subscribers may change the case in answer (nested.go): re-read it then.
	ctx, nest := watchNested(ctx)
	refresh := func() error {
		if !nest.take(c.ID) {
			return nil
		}
		fresh, err := s.load(ctx, tx, strconv.FormatInt(c.ID, 10), false)
		if err == nil {
			c = fresh
		}
		return err
	}
	if err := s.publishChange(ctx, tx, actor, &before, c, events, now); err != nil {
		return nil, err
	}
	if err := refresh(); err != nil {
		return nil, err
	}
	if err := s.syncSLA(ctx, tx, cfg, c, now); err != nil {
		return nil, err
	}
	if err := refresh(); err != nil {
		return nil, err
	}
	return c, audit.Append(ctx, tx, now, auditEntry(actor, "case."+events[0].typ, c, snapshot(&before), snapshot(c)))
}

// Entry is a timeline entry a change adds: its type and its data.
type Entry struct {
	Type string
	Data any
}

// ChangeInTx changes a case inside tx, for capabilities whose own rows must
// commit together with the case (handoffs, take-next): it loads the case
// for update, checks that actor may see it and has perm, runs fn, and when
// fn returns events saves the case, adds them to the timeline, re-evaluates
// its SLA clocks and audits the change as "case.<first event type>".
func (s *Service) ChangeInTx(ctx context.Context, tx *db.Tx, actor auth.Actor, ref string, perm auth.Permission,
	fn func(c *Case) ([]Entry, error)) (*Case, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	return s.changeTx(ctx, tx, cfg, actor, ref, perm, func(_ *db.Tx, c *Case) ([]eventRec, error) {
		evs, err := fn(c)
		recs := make([]eventRec, len(evs))
		for i, e := range evs {
			recs[i] = eventRec{typ: e.Type, data: e.Data}
		}
		return recs, err
	})
}

// AddEntries adds timeline entries to the case caseID in tx, for an
// in-transaction subscriber whose reaction belongs on the timeline of the
// change it answers (handoffs cancelled by a resolve). The case row is not
// touched; the caller holds its lock, being inside its change.
func (s *Service) AddEntries(ctx context.Context, tx *db.Tx, actor auth.Actor, caseID int64, at time.Time, entries []Entry) error {
	for _, e := range entries {
		if err := addEvent(ctx, tx, caseID, actor, at, e.Type, e.Data); err != nil {
			return err
		}
	}
	return nil
}

type eventRec struct {
	typ  string
	data any
}

func saveCase(ctx context.Context, tx *db.Tx, c *Case) error {
	return saveChanged(ctx, tx, nil, c)
}

// saveColumns are the columns a change may set, in saveArgs' order.
var saveColumns = []string{"title", "description", "category", "market", "language", "seller_id", "requester_name",
	"requester_email", "priority", "priority_reasons", "high_risk", "sensitivity", "status", "owner_id", "team",
	"escalation_level", "tags", "fields", "resolution", "resolution_note", "reopen_count", "repeat_contacts",
	"first_response_at", "resolved_at", "closed_at", "sla_policy"}

// saveArgs are c's values of saveColumns as the row stores them.
func saveArgs(c *Case) []any {
	return []any{c.Title, c.Description, c.Category, c.Market, c.Language, c.SellerID, c.Requester.Name, c.Requester.Email,
		c.Priority, mustJSON(c.PriorityReasons), c.HighRisk, c.Sensitivity, string(c.Status), db.NullID(c.OwnerID), c.Team,
		c.EscalationLevel, mustJSON(c.Tags), mustJSON(c.Fields), c.Resolution, c.ResolutionNote, c.ReopenCount, c.RepeatContacts,
		timeArg(c.FirstResponseAt), timeArg(c.ResolvedAt), timeArg(c.ClosedAt), c.SLAPolicy}
}

// saveChanged saves c, setting only the columns whose value differs from
// before (saveArgs of the case as loaded; nil: all of them) with its
// updated_at and version. Every index and trigger over a column an UPDATE
// sets is rewritten or run, changed or not: an escalation that only raises
// the level leaves the queue indexes alone.
func saveChanged(ctx context.Context, tx *db.Tx, before []any, c *Case) error {
	args := saveArgs(c)
	var set strings.Builder
	var vals []any
	for i, col := range saveColumns {
		if before != nil && sameArg(before[i], args[i]) {
			continue
		}
		set.WriteString(col + " = ?, ")
		vals = append(vals, args[i])
	}
	_, err := tx.Exec(ctx, `UPDATE cases SET `+set.String()+`updated_at = ?, version = version + 1 WHERE id = ?`,
		append(vals, db.T(c.UpdatedAt), c.ID)...)
	if err != nil {
		return fmt.Errorf("save case %s: %w", c.Number, err)
	}
	c.Version++
	return nil
}

// sameArg reports whether two of saveArgs' values are equal.
func sameArg(a, b any) bool {
	switch x := a.(type) {
	case *string:
		y, ok := b.(*string)
		return ok && (x == nil) == (y == nil) && (x == nil || *x == *y)
	case db.Time:
		y, ok := b.(db.Time)
		return ok && x.Equal(y.Time)
	case string, bool, int, int64, nil:
		return a == b
	}
	return false
}

// checkVersion refuses a change made against an older version of c (want
// nil: the caller does not ask), saying who changed the case last and
// when, so that the person can reload and see it.
func (s *Service) checkVersion(ctx context.Context, q db.Querier, c *Case, want *int64) error {
	if want == nil || *want == c.Version {
		return nil
	}
	var name, email sql.NullString
	var at db.Time
	err := q.QueryRow(ctx, `SELECT u.name, u.email, e.created_at FROM case_events e LEFT JOIN users u ON u.id = e.actor_id
		WHERE e.case_id = ? ORDER BY e.id DESC LIMIT 1`, c.ID).Scan(&name, &email, &at)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("last change of %s: %w", c.Number, err)
	}
	who := cmp.Or(name.String, email.String, "Flare")
	when := "since you opened it"
	if !at.Time.IsZero() {
		when = agoWords(s.clock.Now().Sub(at.Time))
	}
	return &apperr.Conflict{Detail: fmt.Sprintf("%s changed this case %s (version %d, yours was %d): reload to see the change, then make yours again.",
		who, when, c.Version, *want)}
}

// agoWords is a duration in the words a person would use: "2 minutes ago".
func agoWords(d time.Duration) string {
	n, unit := 0, ""
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		n, unit = int(d/time.Minute), "minute"
	case d < 48*time.Hour:
		n, unit = int(d/time.Hour), "hour"
	default:
		n, unit = int(d/(24*time.Hour)), "day"
	}
	if n != 1 {
		unit += "s"
	}
	return fmt.Sprintf("%d %s ago", n, unit)
}

func timeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return db.T(*t)
}

// Update applies a PATCH: only the given fields change, each change is
// recorded old → new on the timeline.
func (s *Service) Update(ctx context.Context, actor auth.Actor, ref string, in UpdateInput) (*Case, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	return s.changeChecked(ctx, actor, ref, auth.PermCaseWrite, func(q db.Querier, c *Case, w *later) ([]eventRec, error) {
		if err := s.checkVersion(ctx, q, c, in.Version); err != nil {
			return nil, err
		}
		v := &apperr.Invalid{}
		var changes []Change
		set := func(field string, old, new any) {
			changes = append(changes, Change{Field: field, Old: old, New: new})
		}
		if in.Title != nil {
			t := strings.TrimSpace(*in.Title)
			input.Required(v, "title", input.Title, t)
			if t != c.Title {
				set("title", c.Title, t)
				c.Title = t
			}
		}
		if in.Description != nil {
			d := strings.TrimSpace(*in.Description)
			input.Check(v, "description", input.LongText, d)
			if d != c.Description {
				set("description", "(previous text)", "(new text)")
				c.Description = d
			}
		}
		if in.Market != nil {
			m := strings.ToUpper(strings.TrimSpace(*in.Market))
			if _, ok := cfg.Market(m); !ok {
				v.Add("market", "unknown market %q", *in.Market)
			} else if m != c.Market {
				set("market", c.Market, m)
				c.Market = m
			}
		}
		if in.Language != nil {
			l := strings.TrimSpace(*in.Language)
			l = checkLanguage(v, l)
			if l != c.Language {
				set("language", c.Language, l)
				c.Language = l
			}
		}
		cat, catOK := cfg.Category(c.Category)
		if in.Category != nil && *in.Category != c.Category {
			nc, ok := cfg.Category(strings.TrimSpace(*in.Category))
			if !ok {
				v.Add("category", "unknown category %q", *in.Category)
			} else {
				set("category", c.Category, nc.Key)
				c.Category, cat, catOK = nc.Key, nc, true
				// The new category's fields must hold on their own.
				merged := maps.Clone(c.Fields)
				maps.Copy(merged, in.Fields)
				fields, errs := nc.ValidateFields(keepDefined(nc, merged), false)
				addFieldErrors(v, errs)
				if !maps.EqualFunc(fields, c.Fields, jsonEqual) {
					set("fields", c.Fields, fields)
					c.Fields = fields
				}
			}
		} else if in.Fields != nil && catOK {
			fields, errs := cat.ValidateFields(in.Fields, true)
			addFieldErrors(v, errs)
			merged := maps.Clone(c.Fields)
			for k, val := range in.Fields {
				if val == nil {
					delete(merged, k)
				} else if nv, ok := fields[k]; ok {
					merged[k] = nv
				}
			}
			if len(errs) == 0 && !maps.EqualFunc(merged, c.Fields, jsonEqual) {
				set("fields", c.Fields, merged)
				c.Fields = merged
			}
		}
		if in.SellerID != nil {
			id := strings.TrimSpace(*in.SellerID)
			old := deref(c.SellerID)
			if id == "" {
				c.SellerID = nil
			} else if seller, ok, err := desk.SellerByID(ctx, q, id); err != nil {
				return nil, err
			} else if !ok {
				v.Add("seller_id", "unknown seller %q", id)
			} else {
				c.SellerID = &seller.ID
			}
			if deref(c.SellerID) != old {
				set("seller_id", old, deref(c.SellerID))
			}
		}
		if in.Requester != nil {
			r := normRequester(v, *in.Requester)
			if r != c.Requester {
				set("requester", c.Requester, r)
				c.Requester = r
			}
		}
		if in.Tags != nil {
			t := normTags(v, "tags", *in.Tags)
			if !slices.Equal(t, c.Tags) {
				set("tags", c.Tags, t)
				c.Tags = t
			}
		}
		if in.HighRisk != nil && *in.HighRisk != c.HighRisk {
			set("high_risk", c.HighRisk, *in.HighRisk)
			c.HighRisk = *in.HighRisk
		}
		if in.Sensitivity != nil && *in.Sensitivity != c.Sensitivity {
			if !slices.Contains(Sensitivities, *in.Sensitivity) {
				v.Add("sensitivity", "must be normal or restricted")
			} else {
				set("sensitivity", c.Sensitivity, *in.Sensitivity)
				c.Sensitivity = *in.Sensitivity
			}
		}
		if in.Team != nil && *in.Team != c.Team {
			if _, ok := cfg.Team(*in.Team); !ok {
				v.Add("team", "unknown team %q", *in.Team)
			} else {
				set("team", c.Team, *in.Team)
				c.Team = *in.Team
			}
		}
		if in.EscalationLevel != nil && *in.EscalationLevel != c.EscalationLevel {
			// The level is the result of escalations (internal/escalation),
			// each with its reason and the people it asks.
			v.Add("escalation_level", "is changed by escalating or de-escalating the case with a reason: "+
				"POST /api/v1/cases/%s/escalations or /api/v1/cases/%s/deescalate", c.Number, c.Number)
		}
		if in.Owner != nil {
			if err := s.setOwner(ctx, q, v, c, strings.TrimSpace(*in.Owner), set); err != nil {
				return nil, err
			}
		}
		if in.Watchers != nil && input.CheckList(v, "watchers", len(*in.Watchers), input.MaxWatchers) {
			if err := setWatchers(ctx, q, w, v, c, *in.Watchers, set); err != nil {
				return nil, err
			}
		}
		routed, assessed, err := s.updatePriority(ctx, q, w, cfg, v, c, in, set)
		if err != nil {
			return nil, err
		}
		if err := v.Err(); err != nil {
			return nil, err
		}
		if len(changes) == 0 {
			return nil, nil
		}
		data := map[string]any{"changes": changes}
		if assessed != nil {
			data[assessedKey] = assessed // what the priority and the routing were decided on
		}
		events := []eventRec{{typ: "update", data: data}}
		if routed != nil {
			events = append(events, *routed)
		}
		// Taking ownership of a new case opens it.
		if c.Status == StatusNew && c.OwnerID != 0 {
			events = append(events, eventRec{typ: "status", data: map[string]any{"from": c.Status, "to": StatusOpen, "note": "owner assigned"}})
			c.Status = StatusOpen
		}
		return events, nil
	})
}

// updatePriority applies a manual override (with its reason) or removes
// one (priority "auto"); otherwise it scores the case and runs the routing
// rules for the update, recording what they changed (a team a person set
// in this update is kept). It returns the "routed" timeline entry when a
// rule changed something, and the facts the case was assessed on (nil when
// it was not: a priority set by hand, or an update refused anyway).
func (s *Service) updatePriority(ctx context.Context, q db.Querier, w *later, cfg *desk.Config, v *apperr.Invalid, c *Case,
	in UpdateInput, set func(string, any, any)) (*eventRec, *routing.Facts, error) {
	old := c.Priority
	// A pinned priority is the priority and its reason: pinning the
	// priority it has, changing the reason or unpinning is a change too.
	var oldReason any
	if overridden(c.PriorityReasons) {
		oldReason = c.PriorityReasons[0].Detail
	}
	switch {
	case in.Priority != nil && *in.Priority == "auto":
		c.PriorityReasons = nil
		if oldReason != nil {
			set("priority_reason", oldReason, nil)
		}
	case in.Priority != nil:
		if !slices.Contains(Priorities, *in.Priority) {
			v.Add("priority", "must be P1, P2, P3, P4 or auto")
			return nil, nil, nil
		}
		reason := ""
		if in.PriorityReason != nil {
			reason = strings.TrimSpace(*in.PriorityReason)
		}
		if reason == "" {
			v.Add("priority_reason", "say why you are overriding the priority")
			return nil, nil, nil
		}
		if !input.Check(v, "priority_reason", input.Reason, reason) {
			return nil, nil, nil
		}
		c.Priority = *in.Priority
		c.PriorityReasons = []Reason{{Factor: "override", Detail: reason}}
		if old != c.Priority {
			set("priority", old, c.Priority)
		}
		if oldReason != reason {
			set("priority_reason", oldReason, reason)
		}
		return nil, nil, nil
	}
	if len(v.Errors) > 0 {
		return nil, nil, nil // the update is refused anyway
	}
	var seller *desk.Seller
	if c.SellerID != nil {
		sl, ok, err := desk.SellerByID(ctx, q, *c.SellerID)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			seller = &sl
		}
	}
	f, err := factsFor(ctx, q, cfg, c, seller, s.clock.Now())
	if err != nil {
		return nil, nil, err
	}
	team, risk, sens, tags, policy := c.Team, c.HighRisk, c.Sensitivity, slices.Clone(c.Tags), c.SLAPolicy
	a := assess(cfg, c, f, routing.EventUpdate, in.Team != nil)
	for _, ch := range []struct {
		field    string
		old, new any
		same     bool
	}{
		{"priority", old, c.Priority, old == c.Priority},
		{"team", team, c.Team, team == c.Team},
		{"high_risk", risk, c.HighRisk, risk == c.HighRisk},
		{"sensitivity", sens, c.Sensitivity, sens == c.Sensitivity},
		{"tags", tags, c.Tags, slices.Equal(tags, c.Tags)},
		{"sla_policy", policy, c.SLAPolicy, policy == c.SLAPolicy},
	} {
		if !ch.same {
			set(ch.field, ch.old, ch.new)
		}
	}
	if add := a.Outcome.Watchers; len(add) > 0 {
		cur, err := watchers(ctx, q, c.ID)
		if err != nil {
			return nil, nil, err
		}
		if err := setWatchers(ctx, q, w, &apperr.Invalid{}, c, append(cur, add...), set); err != nil {
			return nil, nil, err
		}
	}
	if a = onlyNew(a); len(a.Outcome.Changes) == 0 {
		return nil, &a.facts, nil
	}
	return routedEntry(a), &a.facts, nil
}

func (s *Service) setOwner(ctx context.Context, q db.Querier, v *apperr.Invalid, c *Case, email string, set func(string, any, any)) error {
	old := deref(c.Owner)
	if email == "" {
		if c.OwnerID != 0 {
			set("owner", old, nil)
		}
		c.OwnerID, c.Owner, c.OwnerName = 0, nil, ""
		return nil
	}
	u, err := auth.UserByEmail(ctx, q, email)
	if errors.Is(err, auth.ErrNotFound) {
		v.Add("owner", "no user %q", email)
		return nil
	}
	if err != nil {
		return err
	}
	if why := ownerProblem(u, c.Team); why != "" {
		v.Add("owner", "%s %s", email, why)
	} else if u.ID != c.OwnerID {
		set("owner", old, u.Email)
		c.OwnerID, c.Owner, c.OwnerName = u.ID, &u.Email, u.Name
	}
	return nil
}

// ownerProblem says why u cannot own a case of team, "" when they can: the
// one owner rule. Agents own their teams' cases; leads and admins any case.
func ownerProblem(u auth.User, team string) string {
	a := auth.ActorFor(u)
	switch {
	case !u.Active:
		return "is deactivated"
	case a.Role != auth.RoleAgent && a.Role != auth.RoleLead && a.Role != auth.RoleAdmin:
		return fmt.Sprintf("is a %s and cannot own cases", a.Role)
	case a.Role == auth.RoleAgent && !a.InTeam(team):
		return "is not a member of team " + team
	}
	return ""
}

// CanOwn reports whether u may own a case of team.
func CanOwn(u auth.User, team string) bool { return ownerProblem(u, team) == "" }

// Owners lists the people who may own c (and its current owner), for a
// picker.
func (s *Service) Owners(ctx context.Context, c *Case) ([]auth.User, error) {
	users, err := auth.ListUsers(ctx, s.db)
	if err != nil {
		return nil, err
	}
	var out []auth.User
	for _, u := range users {
		if CanOwn(u, c.Team) || u.ID == c.OwnerID {
			out = append(out, u)
		}
	}
	return out, nil
}

// setWatchers replaces the case's watchers, reading through q; the rows
// are written by w (later).
func setWatchers(ctx context.Context, q db.Querier, w *later, v *apperr.Invalid, c *Case, emails []string, set func(string, any, any)) error {
	old, err := watchers(ctx, q, c.ID)
	if err != nil {
		return err
	}
	var ids []int64
	var norm []string
	for i, e := range emails {
		e = strings.ToLower(strings.TrimSpace(e))
		u, err := auth.UserByEmail(ctx, q, e)
		if errors.Is(err, auth.ErrNotFound) {
			v.Add(fmt.Sprintf("watchers[%d]", i), "no user %q", e)
			continue
		}
		if err != nil {
			return err
		}
		if !slices.Contains(norm, u.Email) {
			ids, norm = append(ids, u.ID), append(norm, u.Email)
		}
	}
	slices.Sort(norm)
	if len(v.Errors) > 0 || slices.Equal(old, norm) {
		return nil
	}
	caseID := c.ID
	w.add(func(ctx context.Context, tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM case_watchers WHERE case_id = ?`, caseID); err != nil {
			return fmt.Errorf("replace watchers: %w", err)
		}
		for _, id := range ids {
			if _, err := tx.Exec(ctx, `INSERT INTO case_watchers (case_id, user_id) VALUES (?, ?)`, caseID, id); err != nil {
				return fmt.Errorf("add watcher: %w", err)
			}
		}
		return nil
	})
	set("watchers", old, norm)
	return nil
}

// keepDefined drops values of fields the category does not define, so that
// moving a case to another category does not fail on the old category's fields.
func keepDefined(cat desk.Category, values map[string]any) map[string]any {
	out := map[string]any{}
	for _, f := range cat.Fields {
		if v, ok := values[f.Key]; ok && v != nil {
			out[f.Key] = v
		}
	}
	return out
}

func jsonEqual(a, b any) bool { return mustJSON(a) == mustJSON(b) }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Transition moves a case to another status. Resolving needs a resolution
// code from the desk configuration and a note; reopening counts.
func (s *Service) Transition(ctx context.Context, actor auth.Actor, ref string, in TransitionInput) (*Case, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	return s.changeChecked(ctx, actor, ref, auth.PermCaseWrite, s.transition(ctx, cfg, actor, in))
}

// TransitionInTx is Transition inside the caller's transaction, for
// capabilities whose own rows commit with the move (an alert group's
// resolution, a merge, an incident's bulk resolve).
func (s *Service) TransitionInTx(ctx context.Context, tx *db.Tx, actor auth.Actor, ref string, in TransitionInput) (*Case, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	fn := s.transition(ctx, cfg, actor, in)
	return s.changeTx(ctx, tx, cfg, actor, ref, auth.PermCaseWrite, func(tx *db.Tx, c *Case) ([]eventRec, error) {
		return runPlan(ctx, tx, c, fn)
	})
}

// transition is the plan that moves a case to in.To.
func (s *Service) transition(ctx context.Context, cfg *desk.Config, actor auth.Actor, in TransitionInput) plan {
	return func(q db.Querier, c *Case, w *later) ([]eventRec, error) {
		if err := s.checkVersion(ctx, q, c, in.Version); err != nil {
			return nil, err
		}
		v := &apperr.Invalid{}
		if !in.To.Valid() {
			v.Add("to", "unknown status %q", in.To)
			return nil, v
		}
		if err := CheckTransition(c.Status, in.To); err != nil {
			return nil, &apperr.Conflict{Detail: err.Error()}
		}
		note := strings.TrimSpace(in.Note)
		input.Check(v, "note", input.Text, note)
		data := map[string]any{"from": c.Status, "to": in.To}
		now := s.clock.Now()
		switch in.To {
		case StatusResolved:
			if in.Resolution == "" {
				v.Add("resolution", "is required to resolve a case; one of %s", strings.Join(cfg.Resolutions, ", "))
			} else if !cfg.HasResolution(in.Resolution) {
				v.Add("resolution", "unknown resolution %q; one of %s", in.Resolution, strings.Join(cfg.Resolutions, ", "))
			}
			if note == "" {
				v.Add("note", "say how the case was resolved")
			}
			c.Resolution, c.ResolutionNote, c.ResolvedAt = in.Resolution, note, &now
			data["resolution"] = in.Resolution
		case StatusClosed:
			c.ClosedAt = &now
		case StatusOpen:
			if c.Status == StatusResolved {
				c.ReopenCount++
				c.Resolution, c.ResolutionNote, c.ResolvedAt = "", "", nil
				data["reopen_count"] = c.ReopenCount
			}
		}
		if in.To != StatusResolved && in.Resolution != "" {
			v.Add("resolution", "only used when resolving")
		}
		reply := strings.TrimSpace(in.Reply)
		if in.Reply != "" {
			input.Required(v, "reply", input.Comment, reply)
		}
		if err := v.Err(); err != nil {
			return nil, err
		}
		if note != "" {
			data["note"] = note
		}
		recs := []eventRec{{typ: "status", data: data}}
		if reply != "" {
			recs = append([]eventRec{s.replyRec(actor, c, reply, now, w)}, recs...)
		}
		c.Status = in.To
		return recs, nil
	}
}

// replyRec is a public reply to c sent with a change: its comment is
// written once the change runs in its transaction (w), and the first reply
// from the desk is the case's first response.
func (s *Service) replyRec(actor auth.Actor, c *Case, body string, now time.Time, w *later) eventRec {
	data := map[string]any{"internal": false}
	if c.FirstResponseAt == nil && isDesk(actor) {
		c.FirstResponseAt = &now
	}
	w.add(func(ctx context.Context, tx *db.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO case_comments (case_id, author_id, body, internal, created_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, c.ID, db.NullID(actor.UserID), body, false, db.T(now)).Scan(&id); err != nil {
			return fmt.Errorf("insert reply: %w", err)
		}
		data["comment_id"] = id
		return nil
	})
	return eventRec{typ: "comment", data: data}
}

// AddComment adds a public reply or an internal note. The first public reply
// from the desk is the case's first response.
func (s *Service) AddComment(ctx context.Context, actor auth.Actor, ref string, in CommentInput) (*Comment, error) {
	body, perm, err := checkComment(in)
	if err != nil {
		return nil, err
	}
	var cm *Comment
	_, err = s.change(ctx, actor, ref, perm, func(tx *db.Tx, c *Case) ([]eventRec, error) {
		var recs []eventRec
		cm, recs, err = s.insertComment(ctx, tx, actor, c, body, in)
		return recs, err
	})
	if err != nil {
		return nil, err
	}
	return cm, nil
}

// AddCommentInTx is AddComment inside the caller's transaction: a reply
// that arrives by mail, a capability's templated reply. With in.From set
// the comment is the requester's own words, written down by actor (Flare).
func (s *Service) AddCommentInTx(ctx context.Context, tx *db.Tx, actor auth.Actor, ref string, in CommentInput) (*Comment, error) {
	body, perm, err := checkComment(in)
	if err != nil {
		return nil, err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	var cm *Comment
	_, err = s.changeTx(ctx, tx, cfg, actor, ref, perm, func(tx *db.Tx, c *Case) ([]eventRec, error) {
		var recs []eventRec
		cm, recs, err = s.insertComment(ctx, tx, actor, c, body, in)
		return recs, err
	})
	return cm, err
}

func checkComment(in CommentInput) (string, auth.Permission, error) {
	perm := auth.PermCaseComment
	if in.Internal {
		perm = auth.PermCaseInternalNote
	}
	body := strings.TrimSpace(in.Body)
	v := &apperr.Invalid{}
	input.Required(v, "body", input.Comment, body)
	if in.From != nil {
		input.Check(v, "from.name", input.Name, in.From.Name)
		input.Required(v, "from.email", input.Email, in.From.Email)
	}
	return body, perm, v.Err()
}

func (s *Service) insertComment(ctx context.Context, tx *db.Tx, actor auth.Actor, c *Case, body string, in CommentInput) (*Comment, []eventRec, error) {
	now := s.clock.Now()
	cm := &Comment{CaseID: c.ID, Body: body, BodyHTML: s.md.HTML(body), Internal: in.Internal, CreatedAt: now, From: in.From}
	if actor.UserID != 0 && in.From == nil {
		cm.Author = &actor.Email
	}
	var from Requester
	if in.From != nil {
		from = *in.From
	}
	err := tx.QueryRow(ctx, `INSERT INTO case_comments (case_id, author_id, body, internal, created_at, from_name, from_email)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, c.ID, db.NullID(actor.UserID), body, in.Internal, db.T(now),
		from.Name, from.Email).Scan(&cm.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("insert comment: %w", err)
	}
	if !in.Internal && c.FirstResponseAt == nil && isDesk(actor) && in.From == nil {
		c.FirstResponseAt = &now
	}
	data := map[string]any{"comment_id": cm.ID, "internal": in.Internal}
	if in.From != nil {
		data["from"] = in.From.Email
	}
	if who, err := mentions(ctx, tx, body); err != nil {
		return nil, nil, err
	} else if len(who) > 0 {
		data["mentions"] = who
	}
	return cm, []eventRec{{typ: "comment", data: data}}, nil
}

// isDesk reports whether the actor answers for the desk (not a requester's side).
func isDesk(a auth.Actor) bool {
	return a.Role == auth.RoleAgent || a.Role == auth.RoleLead || a.Role == auth.RoleAdmin
}

// CheckVersionInTx locks the case ref in tx and refuses (409) when it is
// no longer at version want, for a capability making several changes
// from one page (a macro).
func (s *Service) CheckVersionInTx(ctx context.Context, tx *db.Tx, ref string, want int64) error {
	c, err := s.load(ctx, tx, ref, true)
	if err != nil {
		return err
	}
	return s.checkVersion(ctx, tx, c, &want)
}
