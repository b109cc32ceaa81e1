// Command live measures the live screens' fan-out: how long after a case
// is written its note reaches open streams (GET /api/v1/stream) on the
// node that wrote it (the after-commit feed) and on a second node on the
// same database (the tailed events table), with many streams open,
// against a baseline measured in the same run: the write itself. See
// bench/BENCHMARKS.md.
//
//	go run ./bench/live -streams 200 -cases 200
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/flare-desk/flare/bench/internal/benchstore"
	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/live"
	"github.com/flare-desk/flare/internal/web"
)

func main() {
	streams := flag.Int("streams", 200, "open streams, half on each node")
	n := flag.Int("cases", 200, "cases written, one every -gap")
	gap := flag.Duration("gap", 20*time.Millisecond, "pause between writes")
	store := flag.String("db", "sqlite", "sqlite, or a postgres:// URL (a scratch database is created on it)")
	flag.Parse()
	if err := run(context.Background(), *streams, *n, *gap, *store); err != nil {
		fmt.Fprintln(os.Stderr, "live bench:", err)
		os.Exit(1)
	}
}

func node(ctx context.Context, d *db.DB, log *slog.Logger) (*app.App, *httptest.Server, error) {
	a, err := app.New(d, app.Options{Logger: log, Live: live.Options{Poll: 100 * time.Millisecond}})
	if err != nil {
		return nil, nil, err
	}
	go a.Live.Run(ctx)
	s, err := web.New(a, web.Options{Limits: &web.Limits{}})
	if err != nil {
		return nil, nil, err
	}
	return a, httptest.NewServer(s.Handler()), nil
}

func run(ctx context.Context, streams, n int, gap time.Duration, store string) error {
	d, cleanup, err := benchstore.Open(ctx, store)
	if err != nil {
		return err
	}
	defer cleanup()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	a, srvA, err := node(ctx, d, log)
	if err != nil {
		return err
	}
	defer srvA.Close()
	defer srvA.CloseClientConnections()
	cfg, err := a.Desk.Schema().Example()
	if err != nil {
		return err
	}
	if _, err := a.Desk.Apply(ctx, auth.System("bench"), a.Clock.Now(), cfg); err != nil {
		return err
	}
	b, srvB, err := node(ctx, d, log)
	if err != nil {
		return err
	}
	defer srvB.Close()
	defer srvB.CloseClientConnections()
	var tok string
	err = d.InTx(ctx, func(tx *db.Tx) error {
		u, err := auth.UserByEmail(ctx, tx, "amelia.clarke@flare.example")
		if err != nil {
			return err
		}
		tok, _, err = auth.CreateToken(ctx, tx, a.Clock.Now(), u.ID, "bench")
		return err
	})
	if err != nil {
		return err
	}

	// The streams: each notes when it heard of each case.
	var mu sync.Mutex
	heard := map[string][]time.Time{} // "A|ESC-1" → receipt times
	var ready sync.WaitGroup
	for i := range streams {
		url, side := srvA.URL, "A"
		if i%2 == 1 {
			url, side = srvB.URL, "B"
		}
		req, _ := http.NewRequestWithContext(ctx, "GET", url+"/api/v1/stream", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		ready.Add(1)
		go func() {
			defer res.Body.Close()
			sc := bufio.NewScanner(res.Body)
			first := true
			for sc.Scan() {
				if first {
					first = false
					ready.Done()
				}
				line := sc.Text()
				if i := strings.Index(line, `"case":"`); i >= 0 && strings.HasPrefix(line, "data: ") {
					num := line[i+8:]
					num = num[:strings.IndexByte(num, '"')]
					at := time.Now()
					mu.Lock()
					heard[side+"|"+num] = append(heard[side+"|"+num], at)
					mu.Unlock()
				}
			}
		}()
	}
	ready.Wait()
	<-b.Live.Tailing() // node B's tail starts after what is stored

	fmt.Printf("%d streams open (%d per node); writing %d cases on node A, one every %s…\n", streams, streams/2, n, gap)
	written := map[string]time.Time{}
	var writes []time.Duration
	in := cases.CreateInput{Title: "Parcel lost", Category: "logistics/lost_parcel", Market: "GB", SellerID: "S-1001",
		Fields: map[string]any{"order_id": "ORD-1"}}
	for range n {
		t0 := time.Now()
		c, err := a.Cases.Create(ctx, auth.System("bench"), in, nil)
		if err != nil {
			return err
		}
		done := time.Now()
		writes = append(writes, done.Sub(t0))
		written[c.Number] = done
		time.Sleep(gap)
	}
	time.Sleep(2 * time.Second) // the last notes arrive
	mu.Lock()
	defer mu.Unlock()
	report := func(side string) ([]time.Duration, int) {
		var lat []time.Duration
		missing := 0
		for num, at := range written {
			got := heard[side+"|"+num]
			missing += streams/2 - len(got)
			for _, h := range got {
				lat = append(lat, h.Sub(at))
			}
		}
		slices.Sort(lat)
		return lat, missing
	}
	slices.Sort(writes)
	pct := func(xs []time.Duration, p float64) time.Duration {
		if len(xs) == 0 {
			return 0
		}
		return xs[min(len(xs)-1, int(float64(len(xs))*p))]
	}
	fmt.Printf("baseline: the write (case create) p50 %s, p99 %s\n", pct(writes, .5).Round(time.Microsecond), pct(writes, .99).Round(time.Microsecond))
	for _, side := range []string{"A", "B"} {
		lat, missing := report(side)
		what := map[string]string{"A": "same node (feed)", "B": "other node (tail)"}[side]
		fmt.Printf("%s: %d notes, %d missing; after the commit p50 %s, p99 %s, max %s; p99 = %.1f× the write's p99\n", what, len(lat), missing,
			pct(lat, .5).Round(time.Microsecond), pct(lat, .99).Round(time.Microsecond), pct(lat, 1).Round(time.Microsecond),
			float64(pct(lat, .99))/float64(pct(writes, .99)))
	}
	return nil
}
