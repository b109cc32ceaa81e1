package csvimport_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/intake"
	"github.com/flare-desk/flare/internal/intake/csvimport"
)

const header = "title,description,category,market,channel,requester_name,requester_email,tags,high_risk,field.order_id,external_id\n"

func count(t *testing.T, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), `SELECT COUNT(*) FROM cases`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportAllOrNothing(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		admin := f.Actor("amelia.clarke")
		bad := header +
			"Parcel lost,\"Never arrived,\nsays the buyer\",logistics/lost_parcel,GB,email,Ann,ann@example.com,lost;vip,yes,ORD-1,legacy-1\n" +
			"Second,,logistics/nowhere,GB,,,,,,,legacy-2\n" +
			",no title,logistics/lost_parcel,XX,,,not-an-email,,maybe,,legacy-3\n"
		rep, err := f.App.Import.Import(ctx, admin, strings.NewReader(bad), csvimport.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Imported || rep.Rows != 3 || rep.Valid != 1 || count(t, d) != 0 {
			t.Fatalf("report %+v", rep)
		}
		want := map[string]bool{"line 4: category": true, "line 5: high_risk": true}
		for _, e := range rep.Problems() {
			delete(want, e.Field)
		}
		if len(want) > 0 {
			t.Fatalf("missing %v in %+v", want, rep.Errors)
		}
		// Partial: the good row goes in (the multi-line cell keeps line 2 for its row).
		rep, err = f.App.Import.Import(ctx, admin, strings.NewReader(bad), csvimport.Options{Partial: true})
		if err != nil || !rep.Imported || rep.Created != 1 || rep.Cases[0].Line != 2 {
			t.Fatalf("partial: %+v %v", rep, err)
		}
		c, err := f.App.Cases.Get(ctx, auth.System("test"), rep.Cases[0].Case)
		if err != nil {
			t.Fatal(err)
		}
		if c.Channel != "email" || !c.HighRisk || c.Fields["order_id"] != "ORD-1" || len(c.Tags) < 2 || c.Requester.Email != "ann@example.com" ||
			c.Description != "Never arrived,\nsays the buyer" {
			t.Fatalf("imported %+v", c)
		}
		// The same file again: its external ids were seen, nothing doubles.
		good := header + "Parcel lost,,logistics/lost_parcel,GB,,,,,,ORD-1,legacy-1\nAnother parcel,,logistics/lost_parcel,DE,,,,,,ORD-2,legacy-9\n"
		rep, err = f.App.Import.Import(ctx, admin, strings.NewReader(good), csvimport.Options{})
		if err != nil || rep.Created != 1 || rep.Duplicates != 1 || rep.Cases[0].Outcome != intake.OutcomeDuplicate {
			t.Fatalf("again: %+v %v", rep, err)
		}
		if n := count(t, d); n != 2 {
			t.Fatalf("%d cases", n)
		}
		// A dry run writes nothing.
		rep, err = f.App.Import.Import(ctx, admin, strings.NewReader(header+"Dry,,logistics/lost_parcel,GB,,,,,,ORD-3,\n"), csvimport.Options{DryRun: true})
		if err != nil || rep.Imported || rep.Valid != 1 || count(t, d) != 2 {
			t.Fatalf("dry run: %+v %v", rep, err)
		}
	})
}

func TestImportRefusals(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		admin := f.Actor("amelia.clarke")
		var fb *apperr.Forbidden
		if _, err := f.App.Import.Import(ctx, f.Actor("priya.shah"), strings.NewReader(header), csvimport.Options{}); !errors.As(err, &fb) {
			t.Fatalf("an agent imports: %v", err)
		}
		for _, tc := range []struct{ file, want string }{
			{"", "line 1: the file is empty"},
			{"title,colour\n", `line 1: colour: is not a column`},
			{"category\n", "line 1: title: the file needs a title column"},
			{"title,title\n", "named twice"},
			{"title,market\nA\n", "line 2: is not well-formed CSV"},
			{"title\n\"open quote\n", "not well-formed CSV"},
			{"title\nA\nB\nC\n", "more than 2 rows"},
		} {
			_, err := f.App.Import.Import(ctx, admin, strings.NewReader(tc.file), csvimport.Options{MaxRows: 2})
			var inv *apperr.Invalid
			if !errors.As(err, &inv) || !strings.Contains(inv.Errors[0].Message, tc.want) {
				t.Errorf("%q: %v, want %q", tc.file, err, tc.want)
			}
		}
		if count(t, d) != 0 {
			t.Fatal("a refused file wrote cases")
		}
	})
}
