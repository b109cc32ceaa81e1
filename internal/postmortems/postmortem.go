package postmortems

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/input"
)

// State is where a postmortem is.
type State string

// A postmortem is written as a draft, sent for review, and published by a
// lead or admin (or sent back to draft with a note). Published is final:
// the incident may close, and its figures are kept as they were.
const (
	Draft     State = "draft"
	InReview  State = "in_review"
	Published State = "published"
)

// Postmortem is an incident's postmortem.
type Postmortem struct {
	ID         int64    `json:"id"`
	Incident   string   `json:"incident"`
	IncidentID int64    `json:"incident_id"`
	State      State    `json:"state"`
	Sections   Doc      `json:"sections"`
	Missing    []string `json:"missing"` // required sections left blank: publishing waits for them
	// Impact is computed from the linked cases until it is published, and
	// kept as it was then.
	Impact      Impact       `json:"impact"`
	Version     int          `json:"version"`
	ReviewNote  string       `json:"review_note,omitempty"`
	ActionItems []ActionItem `json:"action_items"`
	CreatedBy   *string      `json:"created_by"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedBy   *string      `json:"updated_by"`
	UpdatedAt   time.Time    `json:"updated_at"`
	SubmittedAt *time.Time   `json:"submitted_at"`
	PublishedBy *string      `json:"published_by"`
	PublishedAt *time.Time   `json:"published_at"`

	frozen *Impact
}

// EditInput is the body of PATCH /incidents/{ref}/postmortem.
type EditInput struct {
	// Version is the version the edit was made on: a postmortem changed
	// meanwhile refuses it (409) instead of losing the other edit.
	Version  int               `json:"version"`
	Sections map[string]string `json:"sections"` // key → Markdown
}

// TransitionInput is the body of POST /incidents/{ref}/postmortem/transitions.
type TransitionInput struct {
	To   State  `json:"to"`
	Note string `json:"note"` // why it goes back to draft
}

// Within runs extra writes in the transaction that starts a postmortem.
type Within func(tx *db.Tx, p *Postmortem) error

// facts gathers what the template is filled from, and the impact.
func (s *Service) facts(ctx context.Context, q db.Querier, cfg *desk.Config, inc *IncidentFacts) (Facts, error) {
	timeline, linked, err := s.incidents.Details(ctx, q, inc.ID)
	if err != nil {
		return Facts{}, err
	}
	im, err := s.impact(ctx, q, cfg, linked)
	if err != nil {
		return Facts{}, err
	}
	return Facts{Incident: *inc, Impact: im, Timeline: timeline}, nil
}

// impact counts the figures over the cases ids.
func (s *Service) impact(ctx context.Context, q db.Querier, cfg *desk.Config, ids []int64) (Impact, error) {
	found, err := s.cases.FindMany(ctx, q, ids)
	if err != nil {
		return Impact{}, err
	}
	cs := make([]ImpactCase, 0, len(found))
	sellers := map[string]Seller{}
	for _, c := range found {
		ic := ImpactCase{Market: c.Market, Status: string(c.Status), Money: MoneyAtStake(cfg, c.Category, c.Fields)}
		if c.SellerID != nil {
			ic.SellerID = *c.SellerID
			if _, ok := sellers[ic.SellerID]; !ok {
				sl, found, err := desk.SellerByID(ctx, q, ic.SellerID)
				if err != nil {
					return Impact{}, err
				}
				if found {
					sellers[ic.SellerID] = Seller{Name: sl.Name, Market: sl.Market, Tier: sl.Tier}
				}
			}
		}
		cs = append(cs, ic)
	}
	return ComputeImpact(cs, sellers), nil
}

// Impact is the impact of incident ref's linked cases as they stand (the
// incident page's figures; a published postmortem keeps its own).
func (s *Service) Impact(ctx context.Context, actor auth.Actor, ref string) (Impact, error) {
	inc, err := s.incident(ctx, actor, ref)
	if err != nil {
		return Impact{}, err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return Impact{}, err
	}
	linked, err := s.incidents.Linked(ctx, s.db, inc.ID)
	if err != nil {
		return Impact{}, err
	}
	return s.impact(ctx, s.db, cfg, linked)
}

// Start starts the incident ref's postmortem from the desk's template,
// pre-filled with its impact figures and timeline.
func (s *Service) Start(ctx context.Context, actor auth.Actor, ref string, within Within) (*Postmortem, error) {
	if !MayWrite(actor) {
		return nil, forbiddenWrite()
	}
	inc, err := s.incident(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	var out *Postmortem
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM postmortems WHERE incident_id = ?`, inc.ID).Scan(&n); err != nil {
			return fmt.Errorf("postmortem of %s: %w", inc.Number, err)
		}
		if n > 0 {
			return &apperr.Conflict{Detail: fmt.Sprintf("%s has a postmortem already", inc.Number)}
		}
		f, err := s.facts(ctx, tx, cfg, inc)
		if err != nil {
			return err
		}
		doc := Render(SettingsOf(cfg).Sections, f)
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO postmortems (incident_id, incident, state, sections, created_by, created_at,
			updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, inc.ID, inc.Number, string(Draft), docJSON(doc),
			db.NullID(actor.UserID), db.T(now), db.NullID(actor.UserID), db.T(now)).Scan(&id); err != nil {
			return fmt.Errorf("insert postmortem: %w", err)
		}
		p, err := byIncident(ctx, tx, inc.ID)
		if err != nil {
			return err
		}
		p.Impact = f.Impact
		if err := appendAudit(ctx, tx, actor, "postmortem.create", "postmortem", strconv.FormatInt(id, 10), snapshot(p), nil, now); err != nil {
			return err
		}
		if err := s.publish(ctx, tx, actor, events.PostmortemCreated, &events.Postmortem{PostmortemID: id, Incident: inc.Number,
			State: string(Draft)}, now); err != nil {
			return err
		}
		out = p
		if within != nil {
			return within(tx, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Get is the incident ref's postmortem (apperr.ErrNotFound when it has
// none yet), with its sections rendered, its impact and action items.
func (s *Service) Get(ctx context.Context, actor auth.Actor, ref string) (*Postmortem, error) {
	if !MayRead(actor) {
		return nil, forbiddenRead()
	}
	inc, err := s.incident(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	p, err := byIncident(ctx, s.db, inc.ID)
	if err != nil {
		return nil, err
	}
	return p, s.fill(ctx, p, inc)
}

// fill adds what a read shows: HTML, the impact, the action items.
func (s *Service) fill(ctx context.Context, p *Postmortem, inc *IncidentFacts) error {
	md := s.cases.Markdown()
	for i := range p.Sections {
		p.Sections[i].HTML = md.HTML(p.Sections[i].Body)
	}
	if p.frozen != nil {
		p.Impact = *p.frozen
	} else {
		cfg, err := s.desk.Config(ctx)
		if err != nil {
			return err
		}
		linked, err := s.incidents.Linked(ctx, s.db, inc.ID)
		if err != nil {
			return err
		}
		if p.Impact, err = s.impact(ctx, s.db, cfg, linked); err != nil {
			return err
		}
	}
	items, err := s.Query(ctx, Filter{IncidentID: inc.ID, State: StateAll})
	if err != nil {
		return err
	}
	p.ActionItems = items
	return nil
}

// Edit changes sections of the incident ref's postmortem (a draft, or one
// in review: the reviewer may fix it).
func (s *Service) Edit(ctx context.Context, actor auth.Actor, ref string, in EditInput) (*Postmortem, error) {
	if !MayWrite(actor) {
		return nil, forbiddenWrite()
	}
	inc, err := s.incident(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	v := &apperr.Invalid{}
	if in.Version <= 0 {
		v.Add("version", "is required: the version the edit was made on")
	}
	if len(in.Sections) == 0 {
		v.Add("sections", "name at least one section to change")
	}
	for k, body := range in.Sections {
		input.Check(v, "sections."+k, input.LongText, body)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	cur, err := byIncident(ctx, s.db, inc.ID)
	if err != nil {
		return nil, err
	}
	for k := range in.Sections {
		if _, ok := cur.Sections.Section(k); !ok {
			v.Add("sections."+k, "the postmortem has no section %q", k)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	var out *Postmortem
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		before, err := byIncident(ctx, tx, inc.ID)
		if err != nil {
			return err
		}
		switch {
		case before.State == Published:
			return &apperr.Conflict{Detail: fmt.Sprintf("the postmortem of %s is published: it no longer changes", inc.Number)}
		case before.Version != in.Version:
			return &apperr.Conflict{Detail: fmt.Sprintf("the postmortem of %s changed since version %d (it is at %d): reload it and edit again",
				inc.Number, in.Version, before.Version)}
		}
		doc := make(Doc, len(before.Sections))
		copy(doc, before.Sections)
		for i := range doc {
			if body, ok := in.Sections[doc[i].Key]; ok {
				doc[i].Body = body
			}
		}
		res, err := tx.Exec(ctx, `UPDATE postmortems SET sections = ?, version = version + 1, updated_by = ?, updated_at = ?
			WHERE id = ? AND version = ?`, docJSON(doc), db.NullID(actor.UserID), db.T(now), before.ID, before.Version)
		if err != nil {
			return fmt.Errorf("edit postmortem: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return &apperr.Conflict{Detail: fmt.Sprintf("the postmortem of %s changed meanwhile: reload it and edit again", inc.Number)}
		}
		if out, err = byIncident(ctx, tx, inc.ID); err != nil {
			return err
		}
		return appendAudit(ctx, tx, actor, "postmortem.edit", "postmortem", strconv.FormatInt(out.ID, 10), snapshot(out), snapshot(before), now)
	})
	if err != nil {
		return nil, err
	}
	return out, s.fill(ctx, out, inc)
}

// Transition moves the incident ref's postmortem: draft → in_review
// (writers), in_review → published or back to draft with a note (leads
// and admins). Publishing needs the required sections written, and keeps
// the impact figures as they are.
func (s *Service) Transition(ctx context.Context, actor auth.Actor, ref string, in TransitionInput) (*Postmortem, error) {
	if !MayWrite(actor) {
		return nil, forbiddenWrite()
	}
	inc, err := s.incident(ctx, actor, ref)
	if err != nil {
		return nil, err
	}
	note := strings.TrimSpace(in.Note)
	v := &apperr.Invalid{}
	switch in.To {
	case InReview, Published:
	case Draft:
		if note == "" {
			v.Add("note", "say what the postmortem needs before it is published")
		}
	default:
		v.Add("to", "must be in_review, published or draft")
	}
	input.Check(v, "note", input.Reason, note)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if in.To != InReview && !MayPublish(actor) {
		return nil, &apperr.Forbidden{Detail: "only leads and admins review postmortems"}
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	var out *Postmortem
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		before, err := byIncident(ctx, tx, inc.ID)
		if err != nil {
			return err
		}
		from := before.State
		if from != Draft && in.To == InReview || from != InReview && in.To != InReview {
			return &apperr.Conflict{Detail: fmt.Sprintf("the postmortem of %s is %s: it cannot go to %s", inc.Number, from, in.To)}
		}
		var kind events.Type
		switch in.To {
		case InReview:
			kind = events.PostmortemSubmitted
			_, err = tx.Exec(ctx, `UPDATE postmortems SET state = ?, submitted_at = ?, review_note = '', version = version + 1,
				updated_by = ?, updated_at = ? WHERE id = ?`, string(InReview), db.T(now), db.NullID(actor.UserID), db.T(now), before.ID)
		case Draft:
			kind = events.PostmortemReturned
			_, err = tx.Exec(ctx, `UPDATE postmortems SET state = ?, review_note = ?, version = version + 1, updated_by = ?, updated_at = ?
				WHERE id = ?`, string(Draft), note, db.NullID(actor.UserID), db.T(now), before.ID)
		case Published:
			if missing := before.Sections.Missing(); len(missing) > 0 {
				return &apperr.Conflict{Detail: fmt.Sprintf("the postmortem of %s cannot be published yet: write %s",
					inc.Number, strings.Join(missing, ", "))}
			}
			kind = events.PostmortemPublished
			f, ferr := s.facts(ctx, tx, cfg, inc)
			if ferr != nil {
				return ferr
			}
			b, jerr := json.Marshal(f.Impact)
			if jerr != nil {
				return jerr
			}
			_, err = tx.Exec(ctx, `UPDATE postmortems SET state = ?, impact = ?, published_by = ?, published_at = ?, version = version + 1,
				updated_by = ?, updated_at = ? WHERE id = ?`, string(Published), string(b), db.NullID(actor.UserID), db.T(now),
				db.NullID(actor.UserID), db.T(now), before.ID)
		}
		if err != nil {
			return fmt.Errorf("postmortem to %s: %w", in.To, err)
		}
		if out, err = byIncident(ctx, tx, inc.ID); err != nil {
			return err
		}
		if err := appendAudit(ctx, tx, actor, "postmortem."+string(in.To), "postmortem", strconv.FormatInt(out.ID, 10),
			snapshot(out), snapshot(before), now); err != nil {
			return err
		}
		return s.publish(ctx, tx, actor, kind, &events.Postmortem{PostmortemID: out.ID, Incident: inc.Number,
			From: string(from), State: string(out.State), Note: note}, now)
	})
	if err != nil {
		return nil, err
	}
	return out, s.fill(ctx, out, inc)
}

// CloseCheck is the close guard: it refuses (409, saying what is missing)
// to close an incident whose severity needs a postmortem while that is
// not published. q is the closing transaction, so the check holds under
// the incident's lock.
func (s *Service) CloseCheck(ctx context.Context, q db.Querier, inc IncidentFacts) error {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return err
	}
	if s.incidents == nil || !s.incidents.RequiresPostmortem(cfg, inc.Severity) {
		return nil
	}
	p, err := byIncident(ctx, q, inc.ID)
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		return &apperr.Conflict{Detail: fmt.Sprintf("%s is %s: it closes once its postmortem is published, and it has none yet — start it",
			inc.Number, inc.Severity)}
	case err != nil:
		return err
	case p.State == Published:
		return nil
	}
	what := "send it for review and have a lead publish it"
	if p.State == InReview {
		what = "a lead or admin publishes it from review"
	}
	if missing := p.Sections.Missing(); len(missing) > 0 {
		what = "write " + strings.Join(missing, ", ") + ", then " + what
	}
	return &apperr.Conflict{Detail: fmt.Sprintf("%s is %s: it closes once its postmortem is published; the postmortem is %s — %s",
		inc.Number, inc.Severity, strings.ReplaceAll(string(p.State), "_", " "), what)}
}

const pmColumns = `p.id, p.incident_id, p.incident, p.state, p.sections, p.impact, p.version, p.review_note,
	cu.email, p.created_at, uu.email, p.updated_at, p.submitted_at, pu.email, p.published_at
	FROM postmortems p LEFT JOIN users cu ON cu.id = p.created_by LEFT JOIN users uu ON uu.id = p.updated_by
	LEFT JOIN users pu ON pu.id = p.published_by`

func byIncident(ctx context.Context, q db.Querier, incidentID int64) (*Postmortem, error) {
	var p Postmortem
	var sections string
	var impact sql.NullString
	var created, updated, submitted, published db.Time
	var createdBy, updatedBy, publishedBy sql.NullString
	err := q.QueryRow(ctx, "SELECT "+pmColumns+" WHERE p.incident_id = ?", incidentID).Scan(&p.ID, &p.IncidentID, &p.Incident,
		&p.State, &sections, &impact, &p.Version, &p.ReviewNote, &createdBy, &created, &updatedBy, &updated, &submitted,
		&publishedBy, &published)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load postmortem of incident %d: %w", incidentID, err)
	}
	if err := json.Unmarshal([]byte(sections), &p.Sections); err != nil {
		return nil, fmt.Errorf("postmortem %d sections: %w", p.ID, err)
	}
	if impact.Valid && impact.String != "" {
		var im Impact
		if err := json.Unmarshal([]byte(impact.String), &im); err != nil {
			return nil, fmt.Errorf("postmortem %d impact: %w", p.ID, err)
		}
		p.frozen = &im
		p.Impact = im
	}
	p.CreatedAt, p.UpdatedAt, p.SubmittedAt, p.PublishedAt = created.Time, updated.Time, submitted.Ptr(), published.Ptr()
	p.CreatedBy, p.UpdatedBy, p.PublishedBy = strPtr(createdBy), strPtr(updatedBy), strPtr(publishedBy)
	p.Missing = p.Sections.Missing()
	if p.Missing == nil {
		p.Missing = []string{}
	}
	p.ActionItems = []ActionItem{}
	return &p, nil
}

func strPtr(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}

func docJSON(d Doc) string {
	clean := make(Doc, len(d))
	for i, s := range d {
		s.HTML = ""
		clean[i] = s
	}
	b, _ := json.Marshal(clean)
	return string(b)
}

func snapshot(p *Postmortem) map[string]any {
	bodies := make(map[string]string, len(p.Sections))
	for _, s := range p.Sections {
		bodies[s.Key] = s.Body
	}
	return map[string]any{"incident": p.Incident, "state": p.State, "version": p.Version, "sections": bodies}
}
