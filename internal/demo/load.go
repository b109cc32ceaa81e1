package demo

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/escalation"
	"github.com/flare-desk/flare/internal/handoffs"
)

// DefaultCases is the number of cases Load generates when Options.Cases is 0.
const DefaultCases = 1000

// Options configure Load.
type Options struct {
	Seed  int64     // generator seed
	Cases int       // number of cases; default DefaultCases (negative: none)
	Now   time.Time // end of the generated window; default the app's clock
	// Portal adds the account manager's portal story (portal.go) after the
	// generated cases: flare demo's; tests of the generated desk go without.
	Portal bool
	// Mail receives the demo's mails after the history (mail.go); they
	// take the case numbers after the generated ones.
	Mail bool
	// Showcase makes the last cases of the count hand-written ones: repeat
	// issues made into problems and mails awaiting a category suggestion
	// (problems.go). flare demo sets it.
	Showcase bool
}

// Login is a demo user to sign in as.
type Login struct {
	Role  auth.Role
	Email string
	Name  string
	Token string // API token; set for the first (admin) login only
}

// Load applies the demo desk to a's store, sets every demo user's password
// to Password, issues an API token for the first admin, and replays the
// generated cases through the case service in time order, acting as the
// desk's users. It returns one login per role, admin first.
func Load(ctx context.Context, a *app.App, opt Options) ([]Login, error) {
	p, err := Prepare(ctx, a, opt)
	if err != nil {
		return nil, err
	}
	return p.Logins, p.LoadCases(ctx)
}

// Prepared is a demo desk whose configuration, users and API token are in
// the store; LoadCases writes its cases. flare demo serves in between.
type Prepared struct {
	Logins []Login // one per role, admin first
	Specs  []CaseSpec

	a        *app.App
	portal   bool
	actors   map[string]auth.Actor // by email
	now      time.Time             // the desk's present
	mail     bool
	showcase bool
}

// Prepare applies the demo desk, sets the demo users' password, issues the
// first admin's API token and generates the cases, without writing them.
func Prepare(ctx context.Context, a *app.App, opt Options) (*Prepared, error) {
	now := opt.Now
	if now.IsZero() {
		now = a.Clock.Now()
	}
	now = now.UTC().Truncate(time.Second)
	n := opt.Cases
	if n == 0 {
		n = DefaultCases
	}
	if opt.Portal && n > PortalCases {
		n -= PortalCases // the story's cases count among the desk's: the next case is still the 1,001st
	}
	if opt.Showcase && n > showcaseCases {
		n -= showcaseCases // the showcase's cases make up the count (problems.go)
	}
	if n > intakeSeedCases {
		n -= intakeSeedCases // so do the intake channels' (intake_channels.go)
	}
	cfg := Desk(opt.Seed)
	if _, err := a.Desk.Apply(ctx, auth.System("demo"), now, cfg); err != nil {
		return nil, fmt.Errorf("apply demo desk: %w", err)
	}
	users, err := auth.ListUsers(ctx, a.DB)
	if err != nil {
		return nil, err
	}
	p := &Prepared{a: a, actors: make(map[string]auth.Actor, len(users)), now: now, portal: opt.Portal, mail: opt.Mail, showcase: opt.Showcase}
	demoUsers := map[string]bool{}
	for _, u := range cfg.Users {
		demoUsers[strings.ToLower(u.Email)] = true
	}
	// One hash for the shared password: argon2 is slow by design, and one
	// per user would hold the single writer for a second.
	hash, err := auth.HashPassword(Password)
	if err != nil {
		return nil, err
	}
	var logins []Login
	err = a.DB.InTx(ctx, func(tx *db.Tx) error {
		logins = nil // a re-run starts afresh
		for _, u := range users {
			if !demoUsers[u.Email] {
				continue
			}
			p.actors[u.Email] = auth.ActorFor(u)
			if err := auth.SetPasswordHash(ctx, tx, now, u.ID, hash); err != nil {
				return fmt.Errorf("demo user %s: %w", u.Email, err)
			}
		}
		for _, role := range auth.Roles {
			for _, spec := range cfg.Users { // cfg order: the first user of each role
				if spec.Role != role {
					continue
				}
				l := Login{Role: role, Email: strings.ToLower(spec.Email), Name: spec.Name}
				if len(logins) == 0 {
					tok, _, err := auth.CreateToken(ctx, tx, now, p.actors[l.Email].UserID, "demo")
					if err != nil {
						return err
					}
					l.Token = tok
				}
				logins = append(logins, l)
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.Logins = logins
	useDemoSecrets(a)                                    // intake_channels.go
	if err := loadOncall(ctx, a, p.actors); err != nil { // oncall.go
		return nil, err
	}
	if n > 0 {
		p.Specs = Generate(cfg, opt.Seed, n, now)
	}
	return p, nil
}

// Cases is how many cases LoadCases writes.
func (p *Prepared) Cases() int {
	if p.portal {
		return len(p.Specs) + PortalCases
	}
	return len(p.Specs)
}

// LoadCases writes the generated cases and their histories (see Replay).
func (p *Prepared) LoadCases(ctx context.Context) error {
	if err := Replay(ctx, p.a, p.Specs, p.actors); err != nil {
		return err
	}
	if err := seedIntakeChannels(ctx, p.a); err != nil { // intake_channels.go: right after the history, before the stories' cases
		return err
	}
	if err := loadIncidents(ctx, p.a, p.actors, p.now); err != nil { // incidents.go
		return err
	}
	if err := loadPostmortems(ctx, p.a, p.actors, p.now); err != nil { // postmortems.go
		return err
	}
	if p.portal {
		if err := loadPortal(ctx, p.a, p.actors, p.a.Clock.Now()); err != nil { // portal.go
			return err
		}
	}
	if p.showcase {
		if err := loadProblems(ctx, p.a, p.actors); err != nil { // problems.go
			return err
		}
	}
	if err := loadViews(ctx, p.a, p.actors); err != nil { // views.go: saved views of the demo logins
		return err
	}
	if err := seedSignals(ctx, p.a, p.Specs, p.now); err != nil { // signals.go
		return err
	}
	if err := loadReviewPacks(ctx, p.a, p.now); err != nil { // reviews.go: the packs of the weeks and month just written
		return err
	}
	if err := seedNotifications(ctx, p.a); err != nil { // notify.go: the bells, from the history just written
		return err
	}
	if err := seedTimeZones(ctx, p.a, p.actors); err != nil { // live.go: each person's display zone
		return err
	}
	if !p.mail {
		return nil
	}
	return loadMail(ctx, p.a, p.actors) // mail.go: a few mails received through the real path
}

// batchEvents is how many creates and steps Replay writes per transaction:
// enough that commits no longer count, few enough that a request to the
// server meanwhile does not wait long for the single writer.
const batchEvents = 250

type event struct {
	at         time.Time
	spec, step int // step -1: create
}

// Replay creates specs' cases and plays their steps in global time order,
// through the case service — the write path of the API, with its
// validation, routing, assignment, SLA clocks, timeline and audit — whose
// clock is set to each event's time, so that case numbers grow with
// creation time and timelines interleave as they would have happened.
// Events are written batchEvents to a transaction, in order, so the result
// is the same for the same specs. actors maps user emails to who acts for
// them.
func Replay(ctx context.Context, a *app.App, specs []CaseSpec, actors map[string]auth.Actor) error {
	var events []event
	for i, s := range specs {
		events = append(events, event{s.At, i, -1})
		for j, st := range s.Steps {
			events = append(events, event{st.At, i, j})
		}
	}
	slices.SortStableFunc(events, func(x, y event) int { return x.at.Compare(y.at) })

	r := &replay{specs: specs, actors: actors, refs: make([]string, len(specs)), handoffs: make([]int64, len(specs)),
		clock: clock.NewFake(time.Time{})}
	r.caps = app.Wire(a.DB, a.Desk, r.clock, a.Log, nil)
	for start := 0; start < len(events); {
		end := min(start+batchEvents, len(events))
		part := events[start:end]
		var refs map[int]string
		var handoffs map[int]int64
		err := a.DB.InTx(ctx, func(tx *db.Tx) error {
			refs, handoffs = map[int]string{}, map[int]int64{} // a re-run starts afresh
			// The services' transactions join this one, and their reads
			// see what it wrote.
			jctx := db.Join(ctx, tx)
			for _, e := range part {
				if err := r.play(jctx, tx, e, refs, handoffs); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		for i, ref := range refs {
			r.refs[i] = ref
		}
		for i, id := range handoffs {
			r.handoffs[i] = id
		}
		start = end
	}
	// Escalations still waiting: most acknowledged, the latest open (escalation.go).
	return a.DB.InTx(ctx, func(tx *db.Tx) error {
		return settleEscalations(db.Join(ctx, tx), r.caps, r.clock, actors, a.Clock.Now())
	})
}

// replay is the state of one Replay.
type replay struct {
	specs    []CaseSpec
	actors   map[string]auth.Actor
	clock    *clock.Fake
	caps     app.Capabilities
	refs     []string // case id by spec, once created
	handoffs []int64  // the spec's case's open handoff
}

func (r *replay) actor(email string) (auth.Actor, error) {
	if email == "" {
		return auth.System("demo"), nil
	}
	act, ok := r.actors[strings.ToLower(email)]
	if !ok {
		return auth.Actor{}, fmt.Errorf("no demo user %s", email)
	}
	return act, nil
}

// play writes one event in tx; refs and handoffs collect what the batch
// created.
func (r *replay) play(ctx context.Context, tx *db.Tx, e event, refs map[int]string, handoffs map[int]int64) error {
	r.clock.Set(e.at)
	spec := &r.specs[e.spec]
	if e.step < 0 {
		act, err := r.actor(spec.Creator)
		if err != nil {
			return err
		}
		c, err := r.caps.Cases.Prepare(ctx, act, spec.Input)
		if err != nil {
			return fmt.Errorf("demo case %q: %w", spec.Input.Title, err)
		}
		if err := r.caps.Cases.Write(ctx, tx, act, c); err != nil {
			return fmt.Errorf("demo case %q: %w", spec.Input.Title, err)
		}
		refs[e.spec] = strconv.FormatInt(c.ID, 10)
		return nil
	}
	ref, ok := refs[e.spec]
	if !ok {
		ref = r.refs[e.spec]
	}
	st := spec.Steps[e.step]
	if ref == "" {
		return fmt.Errorf("demo: step %s before its case was created", st.Kind)
	}
	act, err := r.actor(st.Actor)
	if err != nil {
		return err
	}
	handoff, ok := handoffs[e.spec]
	if !ok {
		handoff = r.handoffs[e.spec]
	}
	if err := apply(ctx, r.caps, act, ref, st, &handoff); err != nil {
		return fmt.Errorf("demo case %s step %s by %s: %w", ref, st.Kind, act.Email, err)
	}
	handoffs[e.spec] = handoff
	return nil
}

// apply plays one step through the case service; *handoff is the case's
// open handoff, which a handoff step sets and its answer completes.
func apply(ctx context.Context, caps app.Capabilities, act auth.Actor, ref string, st Step, handoff *int64) error {
	svc := caps.Cases
	var err error
	transition := func(to cases.Status) {
		_, err = svc.Transition(ctx, act, ref, cases.TransitionInput{To: to, Note: st.Body, Resolution: st.Resolution})
	}
	switch st.Kind {
	case StepAssign:
		_, err = svc.Update(ctx, act, ref, cases.UpdateInput{Owner: &st.Owner})
	case StepEscalate:
		in := cases.UpdateInput{Owner: &st.Owner}
		if st.Team != "" {
			in.Team = &st.Team
		}
		var c *cases.Case
		if c, err = svc.Update(ctx, act, ref, in); err == nil && st.Level > c.EscalationLevel {
			// The level follows an escalation, with its reason (escalation.go).
			_, err = caps.Escalation.Escalate(ctx, act, ref, escalation.Input{Reason: escalateReason(ref), Level: st.Level}, nil)
		}
	case StepComment, StepNote:
		_, err = svc.AddComment(ctx, act, ref, cases.CommentInput{Body: st.Body, Internal: st.Kind == StepNote})
	case StepPendingRequester:
		transition(cases.StatusPendingRequester)
	case StepPendingInternal:
		if st.Team == "" {
			transition(cases.StatusPendingInternal)
			break
		}
		var h *handoffs.Handoff
		if h, err = caps.Handoffs.Create(ctx, act, ref, handoffs.Input{Team: st.Team, Request: st.Body}, nil); err == nil {
			*handoff = h.ID
		}
	case StepHandoffDone:
		if *handoff == 0 {
			return fmt.Errorf("no open handoff to complete")
		}
		_, err = caps.Handoffs.Complete(ctx, act, *handoff, st.Body)
		*handoff = 0
	case StepOpen, StepReopen:
		transition(cases.StatusOpen)
	case StepResolve:
		transition(cases.StatusResolved)
	case StepClose:
		transition(cases.StatusClosed)
	default:
		err = fmt.Errorf("unknown step kind %q", st.Kind)
	}
	return err
}
