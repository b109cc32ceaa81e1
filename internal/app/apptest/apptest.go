// Package apptest gives tests a wired Flare (app.App) on the example desk
// with a fake clock: the fixture the capability packages' tests share.
package apptest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/desk"
)

// T0 is when the fixture's clock starts: a Monday morning.
var T0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// Fixture is a wired Flare on the example desk (internal/desk/example.yaml).
type Fixture struct {
	DB    *db.DB
	Clock *clock.Fake
	App   *app.App
	users map[string]auth.Actor
}

// New applies the example desk to d (migrated) and wires Flare on it
// without background workers.
func New(t testing.TB, d *db.DB) *Fixture {
	t.Helper()
	f := &Fixture{DB: d, Clock: clock.NewFake(T0)}
	f.Reapply(t, nil)
	a, err := app.New(d, app.Options{Clock: f.Clock})
	if err != nil {
		t.Fatal(err)
	}
	f.App = a
	return f
}

// Reapply applies the example desk changed by edit (nil: as it is) and
// reloads the users.
func (f *Fixture) Reapply(t testing.TB, edit func(c *desk.Config)) {
	t.Helper()
	ctx := context.Background()
	schema, err := app.DeskSchema()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := schema.Example()
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(cfg)
	}
	ds := desk.NewService(f.DB, desk.WithSchema(schema))
	if f.App != nil {
		ds = f.App.Desk // its cached configuration follows
	}
	if _, err := ds.Apply(ctx, auth.System("test"), T0, cfg); err != nil {
		t.Fatal(err)
	}
	us, err := auth.ListUsers(ctx, f.DB)
	if err != nil {
		t.Fatal(err)
	}
	f.users = map[string]auth.Actor{}
	for _, u := range us {
		f.users[u.Email] = auth.ActorFor(u)
	}
}

// Actor is the example desk's user name@flare.example.
func (f *Fixture) Actor(name string) auth.Actor { return f.users[name+"@flare.example"] }

// User is the example desk's user name@flare.example in c, to edit it.
func User(c *desk.Config, name string) *desk.UserSpec {
	for i := range c.Users {
		if c.Users[i].Email == name+"@flare.example" {
			return &c.Users[i]
		}
	}
	panic("no user " + name)
}

// Team is the team key in c, to edit it.
func Team(c *desk.Config, key string) *desk.Team {
	for i := range c.Teams {
		if c.Teams[i].Key == key {
			return &c.Teams[i]
		}
	}
	panic("no team " + key)
}

// WantInvalid fails t unless err is an *apperr.Invalid naming field.
func WantInvalid(t testing.TB, err error, field string) {
	t.Helper()
	var inv *apperr.Invalid
	if !errors.As(err, &inv) {
		t.Fatalf("want invalid %s, got %v", field, err)
	}
	for _, e := range inv.Errors {
		if e.Field == field {
			return
		}
	}
	t.Fatalf("no error for %s in %+v", field, inv.Errors)
}

// Suspension is a restricted governance case of the example desk:
// logistics agents cannot see it.
func Suspension() cases.CreateInput {
	return cases.CreateInput{Title: "Seller suspended for late shipments", Category: "governance/account_suspension",
		Market: "GB", Sensitivity: "restricted", Fields: map[string]any{"policy": "late_shipment_rate"}}
}

// OwnedCase creates in as amelia (admin, governance) and takes it: an open
// case she owns.
func (f *Fixture) OwnedCase(t testing.TB, in cases.CreateInput) *cases.Case {
	t.Helper()
	ctx := context.Background()
	amelia := f.Actor("amelia.clarke")
	c, err := f.App.Cases.Create(ctx, amelia, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	owner := amelia.Email
	if c, err = f.App.Cases.Update(ctx, amelia, c.Number, cases.UpdateInput{Owner: &owner}); err != nil {
		t.Fatal(err)
	}
	if c.Status != cases.StatusOpen {
		t.Fatalf("owned case is %s", c.Status)
	}
	return c
}
