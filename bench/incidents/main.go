// Command incidents measures the incident desk's flood work on one
// incident: linking 10,000 cases to it and bulk-resolving them — one
// templated public reply to every requester and a resolve, each case by
// the case service's transition rules (its own timeline, SLA outcome,
// audit record and events) through its batched seam TransitionManyInTx,
// queued in the bulk's transaction and worked in batches by the incidents
// timer — against a baseline measured in the same run: the
// same reply and resolve done one case at a time through the service, as
// a person (or a script on the API) would. It checks that every linked
// case is resolved with exactly one reply and counts the replies queued
// durably (case.replied events in the outbox for the notify subscriber),
// and samples the heap while the bulk runs. See bench/BENCHMARKS.md.
//
//	go run ./bench/incidents -cases 10000 -baseline 1000
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/flare-desk/flare/bench/internal/benchstore"
	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/incidents"
)

func main() {
	n := flag.Int("cases", 10000, "cases linked to the incident and bulk-resolved")
	base := flag.Int("baseline", 1000, "cases resolved one by one for the baseline")
	store := flag.String("db", "sqlite", "sqlite, or a postgres:// URL (a scratch database is created on it)")
	prof := flag.String("cpuprofile", "", "write a CPU profile of the link and bulk resolve to this file")
	flag.Parse()
	cpuProfile = *prof
	if err := run(context.Background(), *n, *base, *store); err != nil {
		fmt.Fprintln(os.Stderr, "incidents bench:", err)
		os.Exit(1)
	}
}

const reply = "Hello {{.Requester}},\n\nthe carrier outage behind {{.Case}} is over and parcels move again. Thank you for your patience."

func run(ctx context.Context, n, base int, store string) error {
	d, cleanup, err := benchstore.Open(ctx, store)
	if err != nil {
		return err
	}
	defer cleanup()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	a, err := app.New(d, app.Options{Logger: log}) // notify is subscribed: every reply is queued for it in the outbox
	if err != nil {
		return err
	}
	cfg, err := a.Desk.Schema().Example()
	if err != nil {
		return err
	}
	sys := auth.System("bench")
	if _, err := a.Desk.Apply(ctx, sys, a.Clock.Now(), cfg); err != nil {
		return err
	}
	admin, err := auth.UserByEmail(ctx, d, "amelia.clarke@flare.example")
	if err != nil {
		return err
	}
	actor := auth.ActorFor(admin)

	fmt.Printf("creating %d + %d cases…\n", n, base)
	t0 := time.Now()
	refs, err := createCases(ctx, a, n+base)
	if err != nil {
		return err
	}
	fmt.Printf("  created in %s\n", time.Since(t0).Round(time.Millisecond))
	flood, single := refs[:n], refs[n:]

	// Baseline: one by one through the service, a reply then a resolve.
	t0 = time.Now()
	for _, ref := range single {
		c, err := a.Cases.Get(ctx, actor, ref)
		if err != nil {
			return err
		}
		body, err := incidents.Render(reply, incidents.TemplateData{Case: c.Number, Requester: c.Requester.Name})
		if err != nil {
			return err
		}
		if _, err := a.Cases.AddComment(ctx, actor, ref, cases.CommentInput{Body: body}); err != nil {
			return err
		}
		if _, err := a.Cases.Transition(ctx, actor, ref, cases.TransitionInput{To: cases.StatusResolved, Resolution: "fixed",
			Note: "carrier recovered"}); err != nil {
			return err
		}
	}
	baseline := time.Since(t0)
	baseRate := float64(base) / baseline.Seconds()

	inc, err := a.Incidents.Declare(ctx, actor, incidents.DeclareInput{Title: "DPD outage", Type: incidents.TypeLogisticsDisruption,
		Severity: incidents.SEV2, Markets: []string{"GB"}, Commander: actor.Email}, nil)
	if err != nil {
		return err
	}
	var peak atomic.Uint64
	stop := sampleHeap(&peak)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	stopProfile, err := benchstore.CPUProfile(cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	cpu0 := cpuTime()
	t0 = time.Now()
	res, err := a.Incidents.Link(ctx, actor, inc.Number, incidents.LinkInput{Cases: flood})
	if err != nil {
		return err
	}
	link := time.Since(t0)
	if _, err := a.Incidents.Transition(ctx, actor, inc.Number, incidents.TransitionInput{To: incidents.Resolved}); err != nil {
		return err
	}
	t1 := time.Now()
	b, err := a.Incidents.BulkResolve(ctx, actor, inc.Number, incidents.BulkInput{Body: reply, Resolution: "fixed", Note: "carrier recovered"})
	if err != nil {
		return err
	}
	queue := time.Since(t1)
	if _, err := a.Incidents.Fire(ctx); err != nil { // what the incidents timer does when the bulk is due
		return err
	}
	work := time.Since(t1)
	total := time.Since(t0)
	cpu := cpuTime() - cpu0
	stop()
	if b, err = a.Incidents.LatestBulk(ctx, actor, inc.Number); err != nil {
		return err
	}

	// Checks: every linked case resolved with exactly one public reply; the replies queued for notify.
	var resolved, withOne, replies, queued int
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM incident_cases ic JOIN cases c ON c.id = ic.case_id
		WHERE ic.incident_id = ? AND c.status = 'resolved'`, inc.ID).Scan(&resolved); err != nil {
		return err
	}
	if err := d.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(k.n), 0) FROM (SELECT ic.case_id, COUNT(cc.id) AS n FROM incident_cases ic
		LEFT JOIN case_comments cc ON cc.case_id = ic.case_id AND cc.internal = ? WHERE ic.incident_id = ? GROUP BY ic.case_id) k WHERE k.n = 1`,
		false, inc.ID).Scan(&withOne, &replies); err != nil {
		return err
	}
	if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM event_deliveries dl JOIN events e ON e.seq = dl.event_seq
		WHERE dl.subscriber = 'notify' AND e.type = 'case.replied'`).Scan(&queued); err != nil {
		return err
	}
	fmt.Printf("\n%-46s %12s %12s\n", "", "time", "cases/s")
	fmt.Printf("%-46s %12s %12.0f\n", fmt.Sprintf("baseline: reply+resolve one by one (%d)", base), baseline.Round(time.Millisecond), baseRate)
	fmt.Printf("%-46s %12s %12.0f\n", fmt.Sprintf("link %d cases", res.Linked), link.Round(time.Millisecond), float64(res.Linked)/link.Seconds())
	fmt.Printf("%-46s %12s\n", "queue the bulk resolve (the request)", queue.Round(time.Millisecond))
	fmt.Printf("%-46s %12s %12.0f\n", fmt.Sprintf("bulk reply+resolve %d (batches of %d)", b.Done, a.Incidents.BulkBatch), (work - queue).Round(time.Millisecond),
		float64(b.Done)/(work-queue).Seconds())
	fmt.Printf("%-46s %12s %12.0f\n", "link + bulk resolve, total", total.Round(time.Millisecond), float64(n)/total.Seconds())
	fmt.Printf("CPU time of this process for link + bulk resolve: %s (load average %s)\n", cpu.Round(time.Millisecond), loadAvg())
	fmt.Printf("\nbulk / baseline rate: %.2f×\n", float64(b.Done)/(work-queue).Seconds()/baseRate)
	fmt.Printf("heap: %.1f MiB before, peak %.1f MiB while linking and resolving\n", mib(before.HeapInuse), mib(peak.Load()))
	fmt.Printf("checks: %d linked, %d resolved, %d with exactly one reply (%d replies), %d skipped; %d replies queued for notify in the outbox (%d with the baseline's)\n",
		res.Linked, resolved, withOne, replies, b.Skipped, queued-base, queued)
	if resolved != n || withOne != n || b.Done != n || queued-base != n {
		return fmt.Errorf("checks failed")
	}
	if total > 10*time.Second {
		fmt.Println("TARGET MISSED: link + bulk resolve took more than 10 s")
	}
	return nil
}

var cpuProfile string

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAvg is the machine's 1-minute load average (Linux), for the record.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// sampleHeap records the peak in-use heap every 20 ms until stopped.
func sampleHeap(peak *atomic.Uint64) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// createCases creates n lost-parcel cases in GB, 500 to a transaction.
func createCases(ctx context.Context, a *app.App, n int) ([]string, error) {
	sys := auth.System("bench")
	refs := make([]string, 0, n)
	for start := 0; start < n; start += 500 {
		var part []string
		err := a.DB.InTx(ctx, func(tx *db.Tx) error {
			part = part[:0]
			jctx := db.Join(ctx, tx)
			for i := start; i < min(start+500, n); i++ {
				c, err := a.Cases.Create(jctx, sys, cases.CreateInput{Title: fmt.Sprintf("Parcel %d not scanned since Monday", i),
					Category: "logistics/lost_parcel", Market: "GB", Channel: "web_form",
					Requester: &cases.Requester{Name: fmt.Sprintf("Buyer %d", i), Email: fmt.Sprintf("buyer%d@example.com", i)},
					Fields:    map[string]any{"order_id": fmt.Sprintf("ORD-%d", i), "tracking_number": fmt.Sprintf("TRK%d", i), "carrier": "DPD"}}, nil)
				if err != nil {
					return err
				}
				part = append(part, c.Number)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		refs = append(refs, part...)
	}
	return refs, nil
}
