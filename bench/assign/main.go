// Command assign measures take-next: the latency of claiming the next case
// from a team queue holding -queue unassigned open cases, through the store
// layer and through the HTTP API, against a baseline measured in the same
// run: reading the head of the same queue (cases.List, first case by
// priority). See bench/BENCHMARKS.md.
//
//	go run ./bench/assign -db sqlite
//	go run ./bench/assign -db postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/flare-desk/flare/bench/internal/benchstore"
	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/demo"
	"github.com/flare-desk/flare/internal/web"
)

const team = "logistics"

func main() {
	which := flag.String("db", "sqlite", "sqlite, or a postgres:// server URL (a scratch database is created on it)")
	queue := flag.Int("queue", 100000, "unassigned open cases in the team queue")
	takes := flag.Int("takes", 1000, "take-next calls per measurement")
	flag.Parse()
	if err := run(context.Background(), *which, *queue, *takes); err != nil {
		fmt.Fprintln(os.Stderr, "assign:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func run(ctx context.Context, which string, queue, takes int) error {
	d, cleanup, err := benchstore.Open(ctx, which)
	if err != nil {
		return err
	}
	defer cleanup()
	a, err := app.New(d, app.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	now := a.Clock.Now()
	cfg := demo.Desk(1)
	for i := range cfg.Teams {
		cfg.Teams[i].Assignment.Capacity = 1000
	}
	if _, err := a.Desk.Apply(ctx, auth.System("bench"), now, cfg); err != nil {
		return err
	}
	users, err := auth.ListUsers(ctx, d)
	if err != nil {
		return err
	}
	var admin auth.Actor
	var agents []auth.Actor // the team's members who can own cases
	for _, u := range users {
		ac := auth.ActorFor(u)
		if u.Role == auth.RoleAdmin && admin.UserID == 0 {
			admin = ac
		}
		if ac.InTeam(team) && (u.Role == auth.RoleAgent || u.Role == auth.RoleLead) {
			agents = append(agents, ac)
		}
	}

	// The queue: logistics cases over every market and language, through
	// the store layer, 1,000 per transaction.
	var inputs []cases.CreateInput
	for _, spec := range demo.Generate(cfg, 7, 20000, now) {
		if c, ok := cfg.Category(spec.Input.Category); ok && c.Team == team {
			in := spec.Input
			in.At = time.Time{}
			inputs = append(inputs, in)
		}
	}
	start := time.Now()
	for have := 0; have < queue; {
		k := min(1000, queue-have)
		batch := make([]*cases.Case, k)
		for j := range k {
			if batch[j], err = a.Cases.Prepare(ctx, admin, inputs[(have+j)%len(inputs)]); err != nil {
				return err
			}
		}
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			for _, c := range batch {
				if err := a.Cases.Write(ctx, tx, admin, c); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
		have += k
	}
	if d.Dialect() == db.Postgres {
		// As autovacuum would after a bulk load: without statistics the
		// planner takes 100,000 rows for a dozen.
		if _, err := d.Exec(ctx, `ANALYZE cases`); err != nil {
			return err
		}
	}
	var waiting int
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE team = ? AND owner_id IS NULL AND status IN ('new', 'open')`, team).Scan(&waiting); err != nil {
		return err
	}
	logf("queue: %d unassigned open cases in %s (filled in %s); %d agents", waiting, team, time.Since(start).Round(time.Second), len(agents))

	// No rate limits: the benchmark measures the pipeline, from one token and one address.
	srv, err := web.New(a, web.Options{Limits: &web.Limits{}})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = http.Serve(ln, srv.Handler()) }()
	tokens := make([]string, len(agents))
	if err := d.InTx(ctx, func(tx *db.Tx) error {
		for i, ag := range agents {
			if tokens[i], _, err = auth.CreateToken(ctx, tx, now, ag.UserID, "bench"); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}

	// A taken case is resolved at once (untimed), so that agents' loads stay
	// under capacity and the queue keeps its size.
	done := func(c *cases.Case) error {
		_, err := d.Exec(ctx, `UPDATE cases SET status = 'resolved' WHERE id = ?`, c.ID)
		return err
	}
	measure := func(name string, workers int, f func(i int) error) ([]time.Duration, error) {
		lat := make([]time.Duration, takes)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var first error
		next := 0
		for range workers {
			wg.Go(func() {
				for {
					mu.Lock()
					i := next
					next++
					mu.Unlock()
					if i >= takes {
						return
					}
					t := time.Now()
					if err := f(i); err != nil {
						mu.Lock()
						first = cmpErr(first, err)
						mu.Unlock()
						return
					}
					lat[i] = time.Since(t)
				}
			})
		}
		wg.Wait()
		slices.Sort(lat)
		logf("%s: p50 %s p99 %s", name, ms(pct(lat, .5)), ms(pct(lat, .99)))
		return lat, first
	}

	base, err := measure("baseline: queue head read (cases.List)", 1, func(i int) error {
		_, err := a.Cases.List(ctx, agents[i%len(agents)], cases.ListFilter{Team: []string{team},
			Status: []cases.Status{cases.StatusNew, cases.StatusOpen}, Sort: "priority", Limit: 1})
		return err
	})
	if err != nil {
		return err
	}
	seen := sync.Map{}
	claim := func(c *cases.Case) error {
		if _, dup := seen.LoadOrStore(c.ID, true); dup {
			return fmt.Errorf("%s was given twice", c.Number)
		}
		return done(c)
	}
	store, err := measure("take-next, store layer, 1 agent at a time", 1, func(i int) error {
		c, err := a.Assignment.TakeNext(ctx, agents[i%len(agents)], team)
		if err != nil {
			return err
		}
		return claim(c)
	})
	if err != nil {
		return err
	}
	conc, err := measure("take-next, store layer, 4 agents at once", 4, func(i int) error {
		c, err := a.Assignment.TakeNext(ctx, agents[i%len(agents)], team)
		if err != nil {
			return err
		}
		return claim(c)
	})
	if err != nil {
		return err
	}
	api, err := measure("take-next, POST /api/v1/teams/logistics/take-next, 1 client", 1, func(i int) error {
		req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/api/v1/teams/"+team+"/take-next", nil)
		req.Header.Set("Authorization", "Bearer "+tokens[i%len(tokens)])
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("take-next: %s", resp.Status)
		}
		_, err = d.Exec(ctx, `UPDATE cases SET status = 'resolved' WHERE owner_id IS NOT NULL AND status = 'open'`)
		return err
	})
	if err != nil {
		return err
	}

	label := "SQLite"
	if which != "sqlite" {
		label = "PostgreSQL"
	}
	fmt.Printf("### %s — %d unassigned open cases in the %s queue, %d agents, %d calls per row\n\n", label, waiting, team, len(agents), takes)
	fmt.Printf("| | p50 | p99 | p99 / baseline p99 |\n|---|---:|---:|---:|\n")
	for _, r := range []struct {
		name string
		lat  []time.Duration
	}{{"baseline: read the queue head (`cases.List`, limit 1)", base}, {"take-next, store layer, one agent at a time", store},
		{"take-next, store layer, 4 agents at once", conc}, {"take-next, `POST /api/v1/teams/logistics/take-next`, 1 client", api}} {
		fmt.Printf("| %s | %s | %s | %.2f× |\n", r.name, ms(pct(r.lat, .5)), ms(pct(r.lat, .99)), float64(pct(r.lat, .99))/float64(pct(base, .99)))
	}
	return nil
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func pct(s []time.Duration, p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }
