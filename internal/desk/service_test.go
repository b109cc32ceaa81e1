package desk_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	. "github.com/flare-desk/flare/internal/desk" // read as if inside desk: see config_test.go
	"github.com/flare-desk/flare/internal/routing/routingdesk"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

var system = auth.System("test")

// newService is a Service with the schema of testSchema.
func newService(d *db.DB, opts ...Option) *Service {
	s, err := NewSchema(routingdesk.Sections()...)
	if err != nil {
		panic(err)
	}
	return NewService(d, append([]Option{WithSchema(s)}, opts...)...)
}

func mustApply(t *testing.T, s *Service, actor auth.Actor, c *Config) ApplyResult {
	t.Helper()
	res, err := s.Apply(context.Background(), actor, t0, c)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return res
}

func mustExport(t *testing.T, s *Service) *Config {
	t.Helper()
	c, err := s.Export(context.Background())
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	return c
}

func count(t *testing.T, d *db.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestApplyExport(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := newService(d)

		// Nothing applied yet: an empty config, version 0, an empty export.
		c0, err := s.Config(ctx)
		if err != nil || len(c0.Markets) != 0 || len(c0.Categories) != 0 {
			t.Fatalf("Config before apply = %+v, %v", c0, err)
		}
		if v, err := s.Version(ctx); err != nil || v != 0 {
			t.Fatalf("Version before apply = %d, %v", v, err)
		}
		if e := mustExport(t, s); !reflect.DeepEqual(e, &Config{}) {
			t.Errorf("Export before apply = %+v", e)
		}

		want := mustExample(t)
		res := mustApply(t, s, system, want)
		if res.Version == 0 || len(res.Changes) == 0 {
			t.Fatalf("first apply = %+v", res)
		}
		for _, line := range []string{"market GB added", "category logistics/lost_parcel added", "user amelia.clarke@flare.example added (admin)",
			"team logistics member priya.shah@flare.example added", "seller S-2001 added", "resolution refunded added"} {
			if !slices.Contains(res.Changes, line) {
				t.Errorf("changes lack %q: %v", line, res.Changes)
			}
		}

		got := mustExport(t, s)
		if !reflect.DeepEqual(got, want) {
			gb, _ := Marshal(got)
			wb, _ := Marshal(want)
			t.Fatalf("Export != applied\n got:\n%s\nwant:\n%s", gb, wb)
		}

		// Round trip through YAML changes nothing and writes nothing.
		out, err := Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatal(err)
		}
		res2 := mustApply(t, s, system, again)
		if len(res2.Changes) != 0 || res2.Version != res.Version {
			t.Errorf("re-apply = %+v, want no changes at version %d", res2, res.Version)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM desk_config`); n != 1 {
			t.Errorf("%d desk_config rows after idempotent apply", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM audit_log WHERE action = 'desk.apply'`); n != 1 {
			t.Errorf("%d audit records after idempotent apply", n)
		}

		// The cached config serves lookups; users and sellers are not in it.
		c, err := s.Config(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := c.Category("payments/funds_held"); !ok || len(c.Users) != 0 || len(c.Sellers) != 0 || len(c.Teams[0].Members) != 0 {
			t.Errorf("Config = %+v", c)
		}
		if !reflect.DeepEqual(c, DocOf(want)) {
			t.Errorf("Config != doc of applied config")
		}
		if v, _ := s.Version(ctx); v != res.Version {
			t.Errorf("Version = %d, want %d", v, res.Version)
		}

		// Sellers are in the store; users and their teams in auth.
		sel, ok, err := SellerByID(ctx, d, "S-2001")
		if err != nil || !ok || sel.Tier != 2 || sel.Inactive || !reflect.DeepEqual(sel.RiskFlags, []string{"high_chargeback_rate"}) {
			t.Errorf("SellerByID = %+v, %v, %v", sel, ok, err)
		}
		if _, ok, err := SellerByID(ctx, d, "S-9999"); ok || err != nil {
			t.Errorf("SellerByID(missing) = %v, %v", ok, err)
		}
		users, err := auth.ListUsers(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			if u.Email == "jonas.weber@flare.example" && (!slices.Equal(u.Teams, []string{"logistics", "payments"}) || u.Role != auth.RoleLead) {
				t.Errorf("jonas = %+v", u)
			}
		}
	})
}

func TestApplyChanges(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := newService(d)
		first := mustApply(t, s, system, mustExample(t))

		c := mustExample(t)
		c.Markets = append(c.Markets, Market{Code: "FR", Name: "France", Timezone: "Europe/Paris", Languages: []string{"fr"}, Holidays: "FR"})
		c.Markets[1].Timezone = "Europe/Vienna"
		c.Categories[0].Severity = 2
		c.Categories[0].Fields[2].Options = append(c.Categories[0].Fields[2].Options, "Evri")
		c.Categories = slices.Delete(c.Categories, 7, 8)
		c.Resolutions = append(c.Resolutions, "goodwill_credit")
		c.Teams[0].Members = []string{"priya.shah@flare.example"}
		c.Users = slices.DeleteFunc(c.Users, func(u UserSpec) bool { return u.Email == "marcus.reed@flare.example" })
		c.Teams[3].Members = []string{"amelia.clarke@flare.example"}
		c.Users[1].Role = auth.RoleAgent                                                          // jonas
		c.Sellers[2].Tier = 1                                                                     // S-2001
		c.Sellers = slices.DeleteFunc(c.Sellers, func(s Seller) bool { return s.ID == "S-1002" }) // deactivated
		c.Sellers = append(c.Sellers, Seller{ID: "S-4001", Name: "Lyon Maison", Market: "FR", Tier: 2})
		res := mustApply(t, s, system, c)
		want := []string{
			"market DE timezone Europe/Berlin -> Europe/Vienna",
			"market FR added",
			"category logistics/lost_parcel severity 3 -> 2",
			"category logistics/lost_parcel field carrier options [Royal Mail, DPD, DHL, Hermes, UPS, USPS, FedEx] -> [Royal Mail, DPD, DHL, Hermes, UPS, USPS, FedEx, Evri]",
			"category safety/social_media_escalation removed",
			"resolution goodwill_credit added",
			"user jonas.weber@flare.example role lead -> agent",
			"user marcus.reed@flare.example deactivated",
			"team logistics member jonas.weber@flare.example removed",
			"team trust_safety member marcus.reed@flare.example removed",
			"seller S-2001 tier 2 -> 1",
			"seller S-4001 added",
			"seller S-1002 deactivated",
		}
		if !reflect.DeepEqual(res.Changes, want) {
			t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(res.Changes, "\n"), strings.Join(want, "\n"))
		}
		if res.Version <= first.Version {
			t.Errorf("version %d after %d", res.Version, first.Version)
		}

		// The cache was invalidated on commit.
		cfg, err := s.Config(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := cfg.Market("FR"); !ok {
			t.Error("Config does not show the new market")
		}
		if _, ok := cfg.Category("safety/social_media_escalation"); ok {
			t.Error("Config still has the removed category")
		}

		// Deactivated seller: kept, inactive, not exported.
		sel, ok, err := SellerByID(ctx, d, "S-1002")
		if err != nil || !ok || !sel.Inactive || sel.Name != "Brick Lane Vintage" {
			t.Errorf("deactivated seller = %+v, %v, %v", sel, ok, err)
		}
		got := mustExport(t, s)
		if !reflect.DeepEqual(got, c.Canonical()) {
			gb, _ := Marshal(got)
			t.Errorf("Export after changes:\n%s", gb)
		}

		// Audit: one record per apply, with counts and the changes.
		recs, err := audit.List(ctx, d, audit.Filter{ObjectType: "desk"})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 || recs[0].Action != "desk.apply" || recs[0].ObjectID != "config" {
			t.Fatalf("audit records = %+v", recs)
		}
		var before, after map[string]any
		_ = json.Unmarshal(recs[0].Before, &before)
		_ = json.Unmarshal(recs[0].After, &after)
		if before["markets"] != 3.0 || after["markets"] != 4.0 || before["sellers"] != 6.0 || after["sellers"] != 6.0 ||
			before["users"] != 5.0 || after["users"] != 4.0 || after["changes_total"] != float64(len(want)) {
			t.Errorf("audit before %v after %v", before, after)
		}

		// Bring the seller and user back: reactivated.
		res = mustApply(t, s, system, mustExample(t))
		for _, line := range []string{"seller S-1002 reactivated", "user marcus.reed@flare.example reactivated", "seller S-4001 deactivated", "market FR removed"} {
			if !slices.Contains(res.Changes, line) {
				t.Errorf("changes lack %q: %v", line, res.Changes)
			}
		}
		if sel, _, _ := SellerByID(ctx, d, "S-1002"); sel.Inactive {
			t.Error("S-1002 still inactive")
		}
		if got := mustExport(t, s); !reflect.DeepEqual(got, mustExample(t)) {
			t.Error("Export after restoring the example differs from it")
		}

		// Reordering alone is a change of the document.
		c = mustExample(t)
		c.Markets[0], c.Markets[1] = c.Markets[1], c.Markets[0]
		res = mustApply(t, s, system, c)
		if !reflect.DeepEqual(res.Changes, []string{"configuration reordered"}) {
			t.Errorf("reorder changes = %v", res.Changes)
		}
	})
}

func TestApplyInvalidWritesNothing(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := newService(d)
		c := mustExample(t)
		c.Sellers[0].Market = "FR"
		c.Categories[0].Team = "nobody"
		_, err := s.Apply(ctx, system, t0, c)
		var ve *apperr.Invalid
		if !errors.As(err, &ve) || !reflect.DeepEqual(paths(ve.Errors), []string{"categories[0].team", "sellers[0].market"}) {
			t.Fatalf("Apply(invalid) = %v", err)
		}
		for _, table := range []string{"desk_config", "sellers", "users", "team_members", "audit_log"} {
			if n := count(t, d, `SELECT COUNT(*) FROM `+table); n != 0 {
				t.Errorf("%d rows in %s", n, table)
			}
		}
		if _, err := s.Apply(ctx, system, t0, nil); !errors.As(err, &ve) {
			t.Errorf("Apply(nil) = %v", err)
		}
	})
}

func TestApplyActorLockout(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := newService(d)
		mustApply(t, s, system, mustExample(t))
		users, err := auth.ListUsers(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		var amelia auth.User
		for _, u := range users {
			if u.Email == "amelia.clarke@flare.example" {
				amelia = u
			}
		}
		actor := auth.ActorFor(amelia)

		// Demoting yourself is refused, with the path of your role.
		c := mustExample(t)
		c.Users[0].Role = auth.RoleLead
		c.Users[1].Role = auth.RoleAdmin
		_, err = s.Apply(ctx, actor, t0, c)
		var ve *apperr.Invalid
		if !errors.As(err, &ve) || len(ve.Errors) != 1 || ve.Errors[0].Field != "users[0].role" {
			t.Fatalf("self-demotion = %v", err)
		}
		// Removing yourself is refused.
		c = mustExample(t)
		c.Users[1].Role = auth.RoleAdmin
		c.Users = c.Users[1:]
		c.Teams[1].Members, c.Teams[3].Members = nil, nil
		_, err = s.Apply(ctx, actor, t0, c)
		if !errors.As(err, &ve) || len(ve.Errors) != 1 || ve.Errors[0].Field != "users" {
			t.Fatalf("self-removal = %v", err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM desk_config`); n != 1 {
			t.Errorf("%d versions", n)
		}
		// The system actor may do it; a user's apply records who applied.
		c = mustExample(t)
		c.Markets[0].Name = "Great Britain"
		res := mustApply(t, s, actor, c)
		var by int64
		if err := d.QueryRow(ctx, `SELECT applied_by FROM desk_config WHERE version = ?`, res.Version).Scan(&by); err != nil || by != amelia.ID {
			t.Errorf("applied_by = %d, %v", by, err)
		}
		recs, _ := audit.List(ctx, d, audit.Filter{ObjectType: "desk"})
		if len(recs) == 0 || recs[0].ActorID != amelia.ID || recs[0].Actor != amelia.Email {
			t.Errorf("audit = %+v", recs)
		}
	})
}

func TestConfigCacheAcrossNodes(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		fake := clock.NewFake(t0)
		a, b := newService(d), newService(d, WithClock(fake))
		mustApply(t, a, system, mustExample(t))
		cb, err := b.Config(ctx)
		if err != nil || len(cb.Markets) != 3 {
			t.Fatalf("b.Config = %+v, %v", cb, err)
		}

		c := mustExample(t)
		c.Markets = c.Markets[:2]
		c.Sellers = slices.DeleteFunc(c.Sellers, func(s Seller) bool { return s.Market == "US" })
		c.Users[2].Markets = nil // marcus covered US
		c.Users[4].Markets = []string{"GB", "DE"}
		res := mustApply(t, a, system, c)
		if cfg, _ := a.Config(ctx); len(cfg.Markets) != 2 {
			t.Error("applying node did not see its own change at once")
		}
		// b re-checks at most once a second.
		if cfg, _ := b.Config(ctx); len(cfg.Markets) != 3 {
			t.Error("b re-checked within the second")
		}
		if v, _ := b.Version(ctx); v == res.Version {
			t.Error("b version moved within the second")
		}
		fake.Advance(1100 * time.Millisecond)
		if cfg, _ := b.Config(ctx); len(cfg.Markets) != 2 {
			t.Error("b did not converge after a second")
		}
		if v, _ := b.Version(ctx); v != res.Version {
			t.Errorf("b version = %d, want %d", v, res.Version)
		}
		// The same config value is served while nothing changes.
		c1, _ := b.Config(ctx)
		fake.Advance(5 * time.Second)
		c2, _ := b.Config(ctx)
		if c1 != c2 {
			t.Error("unchanged version reloaded the config")
		}
	})
}

// Assignment settings are kept with the document: a change to a user's
// profile or a team's strategy is a described, audited change.
func TestApplyAssignmentSettings(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := newService(d)
		mustApply(t, s, system, mustExample(t))
		c, err := s.Config(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if p := c.Profiles["priya.shah@flare.example"]; p.Capacity != 15 || p.Timezone != "Europe/London" {
			t.Fatalf("stored profile: %+v", p)
		}
		next := mustExample(t)
		for i, u := range next.Users {
			if u.Email == "priya.shah@flare.example" {
				next.Users[i].Capacity = 12
			}
		}
		next.Teams[3].Assignment.Strategy = "least_loaded"
		res := mustApply(t, s, system, next)
		want := []string{
			`team trust_safety assignment {"strategy":"round_robin"} -> {"strategy":"least_loaded"}`,
			`user priya.shah@flare.example assignment {"timezone":"Europe/London","skills":["logistics/"],"capacity":15} -> {"timezone":"Europe/London","skills":["logistics/"],"capacity":12}`,
		}
		if !reflect.DeepEqual(res.Changes, want) {
			t.Fatalf("changes:\n%s\nwant:\n%s", strings.Join(res.Changes, "\n"), strings.Join(want, "\n"))
		}
		if got := mustExport(t, s); !reflect.DeepEqual(got, next) {
			t.Fatal("export differs from the applied document")
		}
	})
}
