package history_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/flare-desk/flare/bench/internal/benchstore"
	"github.com/flare-desk/flare/bench/internal/history"
	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/demo"
)

// TestFill writes a small history on SQLite (and PostgreSQL when given) and
// checks its shape: deterministic, mostly resolved, the counter past it.
func TestFill(t *testing.T) {
	stores := []string{"sqlite"}
	if u := os.Getenv("FLARE_TEST_POSTGRES_URL"); u != "" {
		stores = append(stores, u)
	}
	for _, which := range stores {
		ctx := context.Background()
		d, cleanup, err := benchstore.Open(ctx, which)
		if err != nil {
			t.Fatal(err)
		}
		defer cleanup()
		a, err := app.New(d, app.Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		end := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
		cfg := demo.Desk(1)
		if _, err := a.Desk.Apply(ctx, auth.System("test"), end, cfg); err != nil {
			t.Fatal(err)
		}
		st, err := history.Fill(ctx, d, cfg, history.Options{Cases: 3000, End: end, Days: 90, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if st.Cases != 3000 || st.Resolved < 2400 || st.Breaches == 0 || st.Handoffs == 0 || st.Escalations == 0 || st.Links == 0 {
			t.Fatalf("%s: stats %+v", which, st)
		}
		var n, first, last int
		if err := d.QueryRow(ctx, `SELECT COUNT(*), MIN(number), MAX(number) FROM cases`).Scan(&n, &first, &last); err != nil {
			t.Fatal(err)
		}
		if n != 3000 || first != 1 || last != 3000 {
			t.Fatalf("%s: %d cases numbered %d..%d", which, n, first, last)
		}
		// The same seed writes the same cases: the first case's facts.
		var cat, market, prio string
		if err := d.QueryRow(ctx, `SELECT category, market, priority FROM cases WHERE number = 1`).Scan(&cat, &market, &prio); err != nil {
			t.Fatal(err)
		}
		if cat != "governance/account_suspension" || market != "US" || prio != "P4" {
			t.Fatalf("%s: first case %s %s %s, want the seed's governance/account_suspension US P4", which, cat, market, prio)
		}
	}
}
