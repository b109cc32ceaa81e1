package opsmetrics_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/app/apptest"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/opsmetrics"
)

// samples gathers reg into name → "label=value,…" → value.
func samples(t *testing.T, reg *prometheus.Registry) map[string]map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]float64{}
	for _, f := range fams {
		out[f.GetName()] = map[string]float64{}
		for _, m := range f.GetMetric() {
			key := ""
			for i, l := range m.GetLabel() {
				if i > 0 {
					key += ","
				}
				key += l.GetName() + "=" + l.GetValue()
			}
			out[f.GetName()][key] = value(m)
		}
	}
	return out
}

func value(m *dto.Metric) float64 {
	if g := m.GetGauge(); g != nil {
		return g.GetValue()
	}
	return m.GetCounter().GetValue()
}

func TestCollectorReportsTheDesk(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := apptest.New(t, d)
		agent := f.Actor("priya.shah")
		mk := func(title string, ch cases.Channel) *cases.Case {
			c, err := f.App.Cases.Create(ctx, agent, cases.CreateInput{Title: title, Category: "logistics/lost_parcel", Market: "GB",
				Channel: ch, Fields: map[string]any{"order_id": "ORD-1"}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		a := mk("Lost parcel one", "email")
		mk("Lost parcel two", "email")
		mk("Lost parcel three", "social")
		if _, err := f.App.Cases.Transition(ctx, f.Actor("amelia.clarke"), a.Number,
			cases.TransitionInput{To: cases.StatusResolved, Resolution: "refunded", Note: "refunded"}); err != nil {
			t.Fatal(err)
		}
		reg := prometheus.NewRegistry()
		reg.MustRegister(opsmetrics.New(d, f.Clock, slog.Default()))
		got := samples(t, reg)
		if got["flare_store_up"][""] != 1 {
			t.Fatalf("store up: %v", got["flare_store_up"])
		}
		open := 0.0
		for k, v := range got["flare_cases_open"] {
			if k[:len("priority=")] != "priority=" {
				t.Fatalf("label order %q", k)
			}
			open += v
		}
		if open != 2 {
			t.Fatalf("open cases = %v (%v), want 2: the resolved one is not open", open, got["flare_cases_open"])
		}
		if got["flare_cases_created_total"]["channel=email"] != 2 || got["flare_cases_created_total"]["channel=social"] != 1 {
			t.Fatalf("created by channel: %v", got["flare_cases_created_total"])
		}
		// One reading answers scrapes for CacheFor; then the store is read again.
		mk("Lost parcel four", "email")
		if n := samples(t, reg)["flare_cases_created_total"]["channel=email"]; n != 2 {
			t.Fatalf("within the cache: %v", n)
		}
		f.Clock.Advance(opsmetrics.CacheFor + time.Second)
		if n := samples(t, reg)["flare_cases_created_total"]["channel=email"]; n != 3 {
			t.Fatalf("after the cache: %v", n)
		}
	})
}
