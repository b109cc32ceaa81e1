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
	"github.com/flare-desk/flare/internal/handoffs"
)

// DefaultCases is the number of cases Load generates when Options.Cases is 0.
const DefaultCases = 3000

// Options configure Load.
type Options struct {
	Seed  int64     // generator seed
	Cases int       // number of cases; default DefaultCases (negative: none)
	Now   time.Time // end of the generated window; default the app's clock
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
	now := opt.Now
	if now.IsZero() {
		now = a.Clock.Now()
	}
	now = now.UTC().Truncate(time.Second)
	n := opt.Cases
	if n == 0 {
		n = DefaultCases
	}
	cfg := Desk(opt.Seed)
	if _, err := a.Desk.Apply(ctx, auth.System("demo"), now, cfg); err != nil {
		return nil, fmt.Errorf("apply demo desk: %w", err)
	}
	users, err := auth.ListUsers(ctx, a.DB)
	if err != nil {
		return nil, err
	}
	actors := make(map[string]auth.Actor, len(users))
	demoUsers := map[string]bool{}
	for _, u := range cfg.Users {
		demoUsers[strings.ToLower(u.Email)] = true
	}
	var logins []Login
	err = a.DB.InTx(ctx, func(tx *db.Tx) error {
		for _, u := range users {
			if !demoUsers[u.Email] {
				continue
			}
			actors[u.Email] = auth.ActorFor(u)
			if err := auth.SetPassword(ctx, tx, now, u.ID, Password); err != nil {
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
					tok, _, err := auth.CreateToken(ctx, tx, now, actors[l.Email].UserID, "demo")
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
	if n > 0 {
		if err := Replay(ctx, a, Generate(cfg, opt.Seed, n, now), actors); err != nil {
			return nil, err
		}
	}
	return logins, nil
}

// Replay creates specs' cases and plays their steps in global time order
// through a case service whose clock is set to each event's time, so that
// case numbers grow with creation time and timelines interleave as they
// would have happened. actors maps user emails to who acts for them.
func Replay(ctx context.Context, a *app.App, specs []CaseSpec, actors map[string]auth.Actor) error {
	type event struct {
		at         time.Time
		spec, step int // step -1: create
	}
	var events []event
	for i, s := range specs {
		events = append(events, event{s.At, i, -1})
		for j, st := range s.Steps {
			events = append(events, event{st.At, i, j})
		}
	}
	slices.SortStableFunc(events, func(x, y event) int { return x.at.Compare(y.at) })

	fake := clock.NewFake(time.Time{})
	svc := app.Wire(a.DB, a.Desk, fake, a.Log, nil)
	system := auth.System("demo")
	actorOf := func(email string) (auth.Actor, error) {
		if email == "" {
			return system, nil
		}
		act, ok := actors[strings.ToLower(email)]
		if !ok {
			return auth.Actor{}, fmt.Errorf("no demo user %s", email)
		}
		return act, nil
	}
	refs := make([]string, len(specs))
	for _, e := range events {
		fake.Set(e.at)
		spec := &specs[e.spec]
		if e.step < 0 {
			act, err := actorOf(spec.Creator)
			if err != nil {
				return err
			}
			c, err := svc.Cases.Create(ctx, act, spec.Input, nil)
			if err != nil {
				return fmt.Errorf("demo case %q: %w", spec.Input.Title, err)
			}
			refs[e.spec] = strconv.FormatInt(c.ID, 10)
			continue
		}
		st := spec.Steps[e.step]
		if refs[e.spec] == "" {
			return fmt.Errorf("demo: step %s before its case was created", st.Kind)
		}
		act, err := actorOf(st.Actor)
		if err != nil {
			return err
		}
		if err := apply(ctx, svc, act, refs[e.spec], st); err != nil {
			return fmt.Errorf("demo case %s step %s by %s: %w", refs[e.spec], st.Kind, act.Email, err)
		}
	}
	return nil
}

func apply(ctx context.Context, caps app.Capabilities, act auth.Actor, ref string, st Step) error {
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
		if st.Level > 0 {
			in.EscalationLevel = &st.Level
		}
		_, err = svc.Update(ctx, act, ref, in)
	case StepComment, StepNote:
		_, err = svc.AddComment(ctx, act, ref, cases.CommentInput{Body: st.Body, Internal: st.Kind == StepNote})
	case StepPendingRequester:
		transition(cases.StatusPendingRequester)
	case StepPendingInternal:
		if st.Team == "" {
			transition(cases.StatusPendingInternal)
			break
		}
		_, err = caps.Handoffs.Create(ctx, act, ref, handoffs.Input{Team: st.Team, Request: st.Body}, nil)
	case StepHandoffDone:
		var hs []*handoffs.Handoff
		if hs, err = caps.Handoffs.ForCase(ctx, auth.System("demo"), ref); err != nil {
			break
		}
		for _, h := range hs {
			if h.Active() {
				_, err = caps.Handoffs.Complete(ctx, act, h.ID, st.Body)
				break
			}
		}
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
