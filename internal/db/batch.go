package db

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Most of a small write transaction's cost is its commit: on SQLite,
// writing the changed pages to the WAL with its single writer; on
// PostgreSQL, the WAL flush, during which the audit chain's lock is held
// (see internal/audit). So concurrent write transactions are
// group-committed: one goroutine owns the writer, takes
// every transaction waiting at that moment and commits them together. A
// caller returns only after its work is durable.
//
// Work a package defers to commit time (Tx.Deferred) is flushed once for
// the whole batch.
//
// The batch first runs as one plain transaction. If any request in it fails,
// the whole batch is rolled back and run again with each request in its own
// SAVEPOINT, so a failing request is rolled back alone and the others still
// commit. (Savepoints on every request would cost a sub-journal and a
// full-text index flush each; failures are rare because input is validated
// before a transaction starts.)

const maxBatch = 64

// writeLoops is how many batches run at once: one on SQLite (one writer);
// several on PostgreSQL, where they overlap everything but the commit.
func (d *DB) writeLoops() int {
	if d.dialect == Postgres {
		return 3
	}
	return 1
}

// ErrClosed is returned for transactions submitted after Close.
var ErrClosed = errors.New("store is closed")

type batcher struct {
	once   sync.Once
	reqs   chan *txReq
	closed chan struct{}
	done   sync.WaitGroup
	mu     sync.Mutex
	halted bool
}

type txReq struct {
	ctx   context.Context
	fn    func(tx *Tx) error
	tx    *Tx
	err   error
	panic any
	done  chan struct{}
}

func (d *DB) batchTx(ctx context.Context, fn func(tx *Tx) error) error {
	b := &d.batch
	b.once.Do(func() {
		b.reqs, b.closed = make(chan *txReq), make(chan struct{})
		for range d.writeLoops() {
			b.done.Go(d.writeLoop)
		}
	})
	r := &txReq{ctx: ctx, fn: fn, done: make(chan struct{})}
	select {
	case b.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-b.closed:
		return ErrClosed
	}
	<-r.done // once taken, a transaction always runs to an outcome
	if r.panic != nil {
		panic(r.panic)
	}
	if r.err != nil {
		return r.err
	}
	for _, f := range r.tx.after {
		f()
	}
	return nil
}

func (b *batcher) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed == nil || b.halted {
		return
	}
	b.halted = true
	close(b.closed)
	b.done.Wait()
}

func (d *DB) writeLoop() {
	b := &d.batch
	for {
		var batch []*txReq
		select {
		case r := <-b.reqs:
			batch = append(batch, r)
		case <-b.closed:
			return
		}
	more:
		for len(batch) < maxBatch {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
			default:
				break more
			}
		}
		if !d.runOptimistic(batch) {
			d.runBatch(batch)
		}
		for _, r := range batch {
			close(r.done)
		}
	}
}

// runOptimistic runs the whole batch in one transaction without savepoints.
// It reports false, having rolled back, when a request of several failed.
func (d *DB) runOptimistic(batch []*txReq) bool {
	ctx := context.Background()
	stx, err := d.W.BeginTx(ctx, nil)
	if err != nil {
		return false
	}
	// A batch of one is an ordinary transaction: its failure is its answer.
	alone := len(batch) == 1
	var unprepared []string
	tb := &txBatch{}
	fail := func() bool {
		tb.discard()
		_ = stx.Rollback()
		return false
	}
	var last *Tx
	for _, r := range batch {
		if r.ctx.Err() != nil {
			return fail()
		}
		r.tx = &Tx{Tx: stx, db: d, batch: tb}
		last = r.tx
		r.err, r.panic = call(r.fn, r.tx)
		if r.err != nil || r.panic != nil {
			if alone {
				fail()
				return true
			}
			r.err, r.panic = nil, nil
			return fail()
		}
	}
	if err := tb.flush(ctx, last); err != nil {
		if alone {
			batch[0].err = err
			fail()
			return true
		}
		return fail()
	}
	if err := stx.Commit(); err != nil {
		for _, r := range batch {
			r.err = fmt.Errorf("commit: %w", err)
		}
	}
	// Collected after the flush, whose statements are noted on the last
	// request's Tx.
	for _, r := range batch {
		unprepared = append(unprepared, r.tx.unprepared...)
	}
	for _, q := range unprepared {
		d.writeStmt(ctx, q)
	}
	return true
}

// runBatch runs the batch in one transaction, each request in a savepoint.
func (d *DB) runBatch(batch []*txReq) {
	ctx := context.Background()
	stx, err := d.W.BeginTx(ctx, nil)
	if err != nil {
		for _, r := range batch {
			r.err = fmt.Errorf("begin transaction: %w", err)
		}
		return
	}
	var unprepared []string
	ok := 0
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		tb := &txBatch{}
		r.tx = &Tx{Tx: stx, db: d, batch: tb}
		if _, err := stx.ExecContext(ctx, "SAVEPOINT request"); err != nil {
			r.err = fmt.Errorf("begin transaction: %w", err)
			continue
		}
		r.err, r.panic = call(r.fn, r.tx)
		if r.err == nil && r.panic == nil {
			r.err = tb.flush(ctx, r.tx)
		}
		unprepared = append(unprepared, r.tx.unprepared...)
		if r.err != nil || r.panic != nil {
			tb.discard()
			if _, err := stx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT request"); err != nil {
				// The transaction is unusable: fail everything in it.
				_ = stx.Rollback()
				for _, o := range batch[:i+1] {
					if o.err == nil && o.panic == nil {
						o.err = fmt.Errorf("transaction aborted: %w", err)
					}
				}
				for _, o := range batch[i+1:] {
					o.err = fmt.Errorf("transaction aborted: %w", err)
				}
				return
			}
		} else {
			ok++
		}
		if _, err := stx.ExecContext(ctx, "RELEASE SAVEPOINT request"); err != nil && r.err == nil {
			r.err = fmt.Errorf("release savepoint: %w", err)
		}
	}
	if ok == 0 {
		_ = stx.Rollback()
	} else if err := stx.Commit(); err != nil {
		for _, r := range batch {
			if r.err == nil && r.panic == nil {
				r.err = fmt.Errorf("commit: %w", err)
			}
		}
	}
	for _, q := range unprepared {
		d.writeStmt(ctx, q)
	}
}

// call runs fn, turning a panic into a value to re-raise in the caller.
func call(fn func(tx *Tx) error, tx *Tx) (err error, p any) {
	defer func() {
		if v := recover(); v != nil {
			p = v
		}
	}()
	return fn(tx), nil
}
