package incidents_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/incidents"
)

var t0 = apptest.T0

// settings is the desk section the tests use: Trust & Safety commands
// (Amelia and Marcus; no on-call schedule, so both are paged), Jonas is
// stepped up to.
func settings() incidents.Settings {
	return incidents.Settings{
		CommanderTeam: "trust_safety",
		StepUp:        []string{"jonas.weber@flare.example"},
		Roles:         []incidents.RoleDef{{Key: "liaison", Name: "Seller liaison"}},
		Stakeholders: []incidents.StakeholderGroup{
			{Key: "leadership", Name: "Leadership", Audience: incidents.AudienceLeaders, Users: []string{"jonas.weber@flare.example"}},
			{Key: "ams", Name: "Account managers", Audience: incidents.AudienceSellers, AccountManagers: true},
		},
		AutoLink: []incidents.AutoLinkRule{{Name: "Carrier outage", Types: []incidents.Type{incidents.TypeLogisticsDisruption},
			Categories: []string{"logistics/"}, Keywords: []string{"tracking", "carrier"}}},
	}
}

type fixture struct {
	*apptest.Fixture
	inc *incidents.Service
	ctx context.Context
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	fx := apptest.New(t, d)
	fx.Reapply(t, func(c *desk.Config) { desk.Set(c, incidents.SettingsKey, settings()) })
	return &fixture{Fixture: fx, inc: fx.App.Incidents, ctx: context.Background()}
}

func (f *fixture) declare(t *testing.T, who string, in incidents.DeclareInput) *incidents.Incident {
	t.Helper()
	inc, err := f.inc.Declare(f.ctx, f.Actor(who), in, nil)
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

func (f *fixture) newCase(t *testing.T, in cases.CreateInput) *cases.Case {
	t.Helper()
	c, err := f.App.Cases.Create(f.ctx, auth.System("test"), in, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func lostParcel(title string) cases.CreateInput {
	return cases.CreateInput{Title: title, Category: "logistics/lost_parcel", Market: "GB",
		Requester: &cases.Requester{Name: "Sam Buyer", Email: "sam@example.com"},
		Fields:    map[string]any{"order_id": "ORD-1", "tracking_number": "TRK1", "carrier": "DPD"}}
}

func TestDeclareValidates(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		_, err := f.inc.Declare(f.ctx, f.Actor("priya.shah"), incidents.DeclareInput{Title: "", Type: "outage", Severity: "SEV9",
			Markets: []string{"XX"}}, nil)
		for _, field := range []string{"title", "type", "severity", "markets[0]"} {
			apptest.WantInvalid(t, err, field)
		}
		_, err = f.inc.Declare(f.ctx, f.Actor("sophie.martin"), incidents.DeclareInput{Title: "x", Type: incidents.TypeService, Severity: incidents.SEV3}, nil)
		var fb *apperr.Forbidden
		if !errors.As(err, &fb) {
			t.Fatalf("account manager declares: %v", err)
		}
	})
}

// A SEV3 pages nobody: the declarer commands. Numbers run INC-1, INC-2.
func TestDeclareMinor(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		a := f.declare(t, "priya.shah", incidents.DeclareInput{Title: "Slow label printing", Type: incidents.TypeService, Severity: incidents.SEV3, Markets: []string{"GB"}})
		b := f.declare(t, "priya.shah", incidents.DeclareInput{Title: "Second", Type: incidents.TypeService, Severity: incidents.SEV4})
		if a.Number != "INC-1" || b.Number != "INC-2" {
			t.Fatalf("numbers %s %s", a.Number, b.Number)
		}
		if a.Commander() != "priya.shah@flare.example" || a.Paging != nil || a.Status != incidents.Investigating {
			t.Fatalf("minor incident: %+v", a)
		}
		if a.NextUpdateAt == nil || !a.NextUpdateAt.Equal(t0.Add(4*time.Hour)) || b.NextUpdateAt != nil {
			t.Fatalf("next update: %v %v", a.NextUpdateAt, b.NextUpdateAt)
		}
	})
}

// Declaring a SEV2 from a case links the case, pages the commander team
// (no schedule: its members) and waits 10 minutes; unacknowledged it pages
// again with Jonas stepped up; the acknowledgement sets the moment and makes
// the acknowledger the commander.
func TestDeclareFromCasePagesAndAcknowledges(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		c := f.newCase(t, lostParcel("Parcels not scanned at the hub"))
		inc := f.declare(t, "priya.shah", incidents.DeclareInput{Title: "Carrier DPD outage in GB", Type: incidents.TypeLogisticsDisruption,
			Severity: incidents.SEV2, Case: c.Number})
		if inc.SourceCase != c.Number || inc.LinkedCases != 1 || !slices.Equal(inc.Markets, []string{"GB"}) {
			t.Fatalf("from case: %+v", inc)
		}
		if inc.Commander() != "" || inc.Paging == nil {
			t.Fatalf("SEV2 should page, not make the declarer commander: %+v", inc)
		}
		want := []string{"amelia.clarke@flare.example", "marcus.reed@flare.example"}
		slices.Sort(inc.Paging.Targets)
		if !slices.Equal(inc.Paging.Targets, want) || !inc.Paging.DueAt.Equal(t0.Add(10*time.Minute)) {
			t.Fatalf("page: %+v", inc.Paging)
		}
		// Nine minutes: nothing yet.
		f.Clock.Advance(9 * time.Minute)
		if _, err := f.inc.Fire(f.ctx); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.inc.Get(f.ctx, f.Actor("priya.shah"), inc.Number); got.Paging.Round != 0 {
			t.Fatalf("paged again early: %+v", got.Paging)
		}
		f.Clock.Advance(2 * time.Minute)
		next, err := f.inc.Fire(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := f.inc.Get(f.ctx, f.Actor("priya.shah"), inc.Number)
		if got.Paging.Round != 1 || !slices.Contains(got.Paging.Targets, "jonas.weber@flare.example") ||
			!got.Paging.DueAt.Equal(t0.Add(20*time.Minute)) || next.After(t0.Add(20*time.Minute)) {
			t.Fatalf("stepped up: %+v next %v", got.Paging, next)
		}
		// Priya is not paged and not a lead: she cannot acknowledge.
		if _, err := f.inc.Acknowledge(f.ctx, f.Actor("priya.shah"), inc.Number); err == nil {
			t.Fatal("priya acknowledged")
		}
		f.Clock.Advance(3 * time.Minute)
		got, err = f.inc.Acknowledge(f.ctx, f.Actor("marcus.reed"), inc.Number)
		if err != nil {
			t.Fatal(err)
		}
		if got.Commander() != "marcus.reed@flare.example" || got.Moments.Acknowledged == nil ||
			!got.Moments.Acknowledged.Equal(t0.Add(14*time.Minute)) || got.Paging.DueAt != nil {
			t.Fatalf("acknowledged: %+v", got)
		}
		if _, err := f.inc.Acknowledge(f.ctx, f.Actor("amelia.clarke"), inc.Number); err == nil {
			t.Fatal("acknowledged twice")
		}
	})
}

func apptestWantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	apptest.WantInvalid(t, err, field)
}

func joinStrings(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}
