package jobs_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
	"github.com/flare-desk/flare/internal/jobs"
)

type pingArgs struct {
	N int `json:"n"`
}

func (pingArgs) Kind() string { return "test_ping" }

type pingWorker struct {
	river.WorkerDefaults[pingArgs]
	mu   sync.Mutex
	seen map[int]int
	got  chan int
}

func (w *pingWorker) Work(_ context.Context, j *river.Job[pingArgs]) error {
	w.mu.Lock()
	w.seen[j.Args.N]++
	w.mu.Unlock()
	w.got <- j.Args.N
	return nil
}

func newQueue(t *testing.T, d *db.DB, w *pingWorker) *jobs.Queue {
	t.Helper()
	reg := jobs.NewRegistry()
	river.AddWorker(reg.Workers, w)
	q, err := jobs.New(d, reg, jobs.Options{Work: true, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
	return q
}

// A job exists exactly when the transaction that inserts it commits.
func TestJobsFollowTheirTransaction(t *testing.T) {
	dbtest.Each(t, app.Migrate, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := &pingWorker{seen: map[int]int{}, got: make(chan int, 10)}
		q := newQueue(t, d, w)
		err := d.InTx(ctx, func(tx *db.Tx) error {
			if err := q.Insert(ctx, tx, pingArgs{N: 1}, nil); err != nil {
				return err
			}
			return errors.New("the write failed")
		})
		if err == nil {
			t.Fatal("want the rollback error")
		}
		if err := d.InTx(ctx, func(tx *db.Tx) error { return q.Insert(ctx, tx, pingArgs{N: 2}, nil) }); err != nil {
			t.Fatal(err)
		}
		select {
		case n := <-w.got:
			if n != 2 {
				t.Fatalf("worked job %d; the rolled-back job must not exist", n)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("committed job was not worked")
		}
		var n int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'test_ping'`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("jobs stored: %d %v", n, err)
		}
	})
}

// Two nodes on one PostgreSQL database work each job once in total.
func TestJobsRunOnceAcrossNodes(t *testing.T) {
	d := dbtest.Postgres(t, app.Migrate)
	d2, err := db.Open(context.Background(), d.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	ctx := context.Background()
	w := &pingWorker{seen: map[int]int{}, got: make(chan int, 100)}
	q1 := newQueue(t, d, w)
	newQueue(t, d2, w)
	const n = 60
	for i := range n {
		if err := d.InTx(ctx, func(tx *db.Tx) error { return q1.Insert(ctx, tx, pingArgs{N: i}, nil) }); err != nil {
			t.Fatal(err)
		}
	}
	for range n {
		select {
		case <-w.got:
		case <-time.After(20 * time.Second):
			t.Fatal("jobs were not all worked")
		}
	}
	time.Sleep(300 * time.Millisecond) // a duplicate run would show up now
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range n {
		if w.seen[i] != 1 {
			t.Fatalf("job %d ran %d times", i, w.seen[i])
		}
	}
}
