// Package intake is the one funnel every channel turns into a case through:
// email, the account-manager portal, inbound webhooks, Alertmanager and CSV
// import each describe what a sender sent as a Submission, and Submit makes
// it a well-formed, routed case — or finds that it was seen before (the
// sender's own id, recorded in the same transaction as the case), that it
// threads into a case, or that it repeats an open one (the desk's repeat
// rules). Nothing a sender sent is lost or doubled: a receipt commits with
// the case it made, or neither does.
package intake

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/input"
)

// Source says where a submission came from.
type Source struct {
	Channel cases.Channel // the case's channel: email, social, external, alert, web_form, internal…
	// Key names the endpoint, mailbox or page: "email", "webhook:<key>",
	// "alertmanager:<key>", "portal", "csv".
	Key string
	// ExternalID is the sender's id for this message ("" = none): a
	// (Key, ExternalID) seen before is a duplicate and makes nothing.
	ExternalID string
}

// Submission is one thing a sender sent.
type Submission struct {
	Source Source
	Case   cases.CreateInput // the case to open (its Channel is set from Source)
	// Into, when set (ESC-…), appends to that case instead of opening one:
	// a threaded email reply, an alert group's update.
	Into string
	// Reply is what is appended (Into set, or a repeat the desk appends);
	// an empty body appends the case's description.
	Reply Reply
	// RequireFields refuses a case without the category's required custom
	// fields, as the API does (the portal's form, a CSV file); other
	// senders cannot know them, and the desk fills them in.
	RequireFields bool
	// Then runs in the same transaction once the case is known: the
	// channel's own rows (attachments, message ids, alert state). It may
	// run more than once (db.InTx) and must not keep state between runs.
	Then func(ctx context.Context, tx *db.Tx, r *Result) error
}

// Reply is a message appended to a case from outside Flare.
type Reply struct {
	Body     string
	From     cases.Requester // who wrote it (not a Flare user); empty: the actor
	Internal bool
}

// Outcome is what a submission became.
type Outcome string

const (
	OutcomeCreated   Outcome = "created"       // a new case
	OutcomeDuplicate Outcome = "duplicate"     // seen before: nothing written
	OutcomeAppended  Outcome = "appended"      // added to an existing case
	OutcomeRepeat    Outcome = "repeat_linked" // a new case, linked to the open one it repeats
)

// Result is what Submit did.
type Result struct {
	Case    *cases.Case
	Outcome Outcome
	// RepeatOf is the open case this submission repeats: linked to it
	// (OutcomeRepeat) or appended to it (OutcomeAppended).
	RepeatOf string
	// Comment is the appended comment (OutcomeAppended).
	Comment *cases.Comment
}

// Service is the intake funnel.
type Service struct {
	db    *db.DB
	desk  *desk.Service
	cases *cases.Service
	clock clock.Clock
	log   *slog.Logger
}

// New returns the intake service.
func New(d *db.DB, dk *desk.Service, cs *cases.Service, c clock.Clock, log *slog.Logger) *Service {
	return &Service{db: d, desk: dk, cases: cs, clock: c, log: log}
}

// system is the actor intake writes as where the sender is not a Flare
// user's session: the repeat bookkeeping on a case its sender may not see.
var system = auth.System("intake")

// errRaced rolls back a submission whose receipt another transaction
// committed first; Submit then answers with that one's case.
var errRaced = errors.New("intake: raced by a duplicate")

// Submit turns sub into a case, or finds what it already was.
func (s *Service) Submit(ctx context.Context, actor auth.Actor, sub Submission) (*Result, error) {
	src := sub.Source
	v := &apperr.Invalid{}
	input.Required(v, "source.key", input.Key, src.Key)
	input.Check(v, "source.external_id", input.Param, src.ExternalID)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if r, err := s.duplicate(ctx, s.db, src); r != nil || err != nil {
		return r, err
	}
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, err
	}
	rules := desk.Get(cfg, RepeatsKey)

	// Validate before the transaction: a refused case costs none.
	var fresh *cases.Case
	if sub.Into == "" {
		in := sub.Case
		in.Channel, in.FieldsLater = src.Channel, !sub.RequireFields
		if in.Language == "" {
			in.Language = DetectLanguage(in.Title+"\n"+in.Description, languagesFor(cfg)...)
		}
		if fresh, err = s.cases.Prepare(ctx, actor, in); err != nil {
			return nil, err
		}
	} else if _, err := s.cases.Get(ctx, actor, sub.Into); err != nil {
		return nil, err
	}
	reply, err := replyInput(sub, fresh)
	if err != nil {
		return nil, err
	}

	var res *Result
	wctx, changed := cases.WatchChanges(ctx)
	err = s.db.InTx(wctx, func(tx *db.Tx) error {
		ctx := wctx
		res = nil
		if r, err := s.duplicate(ctx, tx, src); r != nil || err != nil {
			res = r
			return err
		}
		var err error
		switch {
		case sub.Into != "":
			res, err = s.appendTo(ctx, tx, actor, sub.Into, reply)
		default:
			res, err = s.open(ctx, tx, actor, rules, src, fresh, reply)
		}
		if err != nil {
			return err
		}
		if err := s.receipt(ctx, tx, src, res); err != nil {
			return err
		}
		if sub.Then != nil {
			return sub.Then(ctx, tx, res)
		}
		return nil
	})
	if errors.Is(err, errRaced) {
		return s.duplicate(ctx, s.db, src)
	}
	if err != nil {
		return nil, err
	}
	// A new case is the one Write left in hand, amended by the create's
	// subscribers; it is read back as committed when something else may
	// have changed it: a change noted in the transaction, the channel's own
	// rows, a case appended to.
	if res.Outcome != OutcomeDuplicate && (res.Outcome != OutcomeCreated || sub.Then != nil || changed(res.Case.ID)) {
		if res.Case, err = s.cases.Get(ctx, system, res.Case.Number); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// replyInput is the comment a submission appends, if it appends.
func replyInput(sub Submission, fresh *cases.Case) (cases.CommentInput, error) {
	body := strings.TrimSpace(sub.Reply.Body)
	if body == "" && fresh != nil {
		body = fresh.Description
	}
	if body == "" && fresh != nil {
		body = fresh.Title
	}
	in := cases.CommentInput{Body: body, Internal: sub.Reply.Internal}
	from := sub.Reply.From
	if from == (cases.Requester{}) && fresh != nil {
		from = fresh.Requester
	}
	if from.Email != "" {
		in.From = &from
	}
	if sub.Into != "" && body == "" {
		return in, apperr.InvalidField("reply.body", "is required to add to %s", sub.Into)
	}
	return in, nil
}

// duplicate returns the case src was recorded for, if it was.
func (s *Service) duplicate(ctx context.Context, q db.Querier, src Source) (*Result, error) {
	if src.ExternalID == "" {
		return nil, nil
	}
	var caseID int64
	err := q.QueryRow(ctx, `SELECT case_id FROM intake_receipts WHERE source_key = ? AND external_id = ?`,
		src.Key, src.ExternalID).Scan(&caseID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("intake receipt: %w", err)
	}
	c, err := s.cases.Find(ctx, q, fmt.Sprint(caseID))
	if err != nil {
		return nil, err
	}
	return &Result{Case: c, Outcome: OutcomeDuplicate}, nil
}

// receipt records that src made res, unless another transaction recorded
// it first (then this one rolls back: errRaced).
func (s *Service) receipt(ctx context.Context, tx *db.Tx, src Source, res *Result) error {
	if src.ExternalID == "" {
		return nil
	}
	n, err := tx.Exec(ctx, `INSERT INTO intake_receipts (source_key, external_id, case_id, outcome, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, src.Key, src.ExternalID, res.Case.ID, string(res.Outcome), db.T(s.clock.Now()))
	if err != nil {
		return fmt.Errorf("intake receipt: %w", err)
	}
	if rows, _ := n.RowsAffected(); rows == 0 {
		return errRaced
	}
	return nil
}

// appendTo adds reply to the case ref.
func (s *Service) appendTo(ctx context.Context, tx *db.Tx, actor auth.Actor, ref string, reply cases.CommentInput) (*Result, error) {
	cm, err := s.cases.AddCommentInTx(ctx, tx, actor, ref, reply)
	if err != nil {
		return nil, err
	}
	c, err := s.cases.Find(ctx, tx, ref)
	if err != nil {
		return nil, err
	}
	return &Result{Case: c, Outcome: OutcomeAppended, Comment: cm}, nil
}

// open writes the new case, unless the desk appends repeats on this
// channel and it repeats an open case.
func (s *Service) open(ctx context.Context, tx *db.Tx, actor auth.Actor, rules Repeats, src Source,
	fresh *cases.Case, reply cases.CommentInput) (*Result, error) {
	mode := rules.ModeFor(src.Channel)
	var prior *repeat
	if mode != ModeOff {
		var err error
		if prior, err = s.findRepeat(ctx, tx, rules, fresh); err != nil {
			return nil, err
		}
	}
	if prior != nil && mode == ModeAppend {
		res, err := s.appendTo(ctx, tx, system, prior.number, reply)
		if err != nil {
			return nil, err
		}
		res.RepeatOf = prior.number
		return res, nil
	}
	c := *fresh // Write fills in the id and number; a re-run starts again from fresh
	if err := s.cases.Write(ctx, tx, actor, &c); err != nil {
		return nil, err
	}
	if prior == nil {
		return &Result{Case: &c, Outcome: OutcomeCreated}, nil
	}
	if err := s.link(ctx, tx, &c, prior); err != nil {
		return nil, err
	}
	return &Result{Case: &c, Outcome: OutcomeRepeat, RepeatOf: prior.number}, nil
}
