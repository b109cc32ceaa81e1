// Package db opens Flare's store (embedded SQLite or PostgreSQL), runs its
// migrations and hides the few differences between the two dialects.
//
// SQL in Flare is written once with `?` placeholders; Rebind turns them into
// `$n` for PostgreSQL. Instants are stored in UTC: TIMESTAMPTZ on PostgreSQL
// and fixed-width RFC 3339 text on SQLite (so text order is time order).
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver for database/sql
	_ "modernc.org/sqlite"             // pure-Go SQLite driver

	"github.com/flare-desk/flare/internal/clock"
)

// Dialect names the SQL dialect of a store.
type Dialect int

const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// DB is an open store. On SQLite, writes go through a single-connection pool
// (SQLite has one writer; queuing in Go beats spinning on SQLITE_BUSY) and
// reads through a separate pool; on PostgreSQL both are the same pool.
type DB struct {
	dialect Dialect
	W       *sql.DB // writer pool: transactions and writes
	R       *sql.DB // reader pool: reads outside transactions
	URL     string

	rebinds sync.Map
	stmts   stmtCache
	batch   batcher
	stopCP  func() // stops the SQLite checkpointer
	wal     walStats
	txs     atomic.Int64
}

// stmtCache keeps prepared statements for SQLite, where preparing costs
// about as much as running a small statement. PostgreSQL's driver caches
// prepared statements per connection by itself.
type stmtCache struct {
	mu sync.Mutex
	w  map[string]*sql.Stmt
	r  map[string]*sql.Stmt
}

// maxCachedStmts bounds the cache: list queries with varying filters are
// built dynamically and are not all worth keeping.
const maxCachedStmts = 512

func (c *stmtCache) lookup(m map[string]*sql.Stmt, q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return m[q]
}

// prepare adds q to the cache. It must not run while the caller holds the
// writer connection in a transaction (SQLite's writer pool has one).
func (c *stmtCache) prepare(ctx context.Context, pool *sql.DB, m *map[string]*sql.Stmt, q string) *sql.Stmt {
	c.mu.Lock()
	st, ok := (*m)[q]
	full := len(*m) >= maxCachedStmts
	c.mu.Unlock()
	if ok || full {
		return st
	}
	st, err := pool.PrepareContext(ctx, q)
	if err != nil {
		return nil // the caller runs it unprepared and reports the error
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if *m == nil {
		*m = map[string]*sql.Stmt{}
	}
	if prev, ok := (*m)[q]; ok {
		st.Close()
		return prev
	}
	(*m)[q] = st
	return st
}

// writeStmt returns a statement on the writer pool, preparing it on first
// use; only for use outside transactions.
func (d *DB) writeStmt(ctx context.Context, q string) *sql.Stmt {
	if d.dialect != SQLite {
		return nil
	}
	return d.stmts.prepare(ctx, d.W, &d.stmts.w, q)
}

// readStmt returns a statement on the reader pool, preparing it on first use.
func (d *DB) readStmt(ctx context.Context, q string) *sql.Stmt {
	if d.dialect != SQLite {
		return nil
	}
	return d.stmts.prepare(ctx, d.R, &d.stmts.r, q)
}

// txStmt returns the cached writer statement for q inside a transaction,
// or nil after noting q to be prepared once the transaction has ended.
func (t *Tx) txStmt(q string) *sql.Stmt {
	if t.db.dialect != SQLite {
		return nil
	}
	if st := t.db.stmts.lookup(t.db.stmts.w, q); st != nil {
		return st
	}
	t.unprepared = append(t.unprepared, q)
	return nil
}

// Open opens the store named by url: "sqlite:PATH" (or a path ending in
// .db) or "postgres://…".
func Open(ctx context.Context, rawURL string) (*DB, error) {
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		return openPostgres(ctx, rawURL)
	case strings.HasPrefix(rawURL, "sqlite:"):
		return openSQLite(ctx, rawURL, strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite:"), "//"), clock.Real{})
	case strings.HasSuffix(rawURL, ".db"):
		return openSQLite(ctx, "sqlite:"+rawURL, rawURL, clock.Real{})
	}
	return nil, fmt.Errorf("open store: unsupported database URL %q (want sqlite:PATH or postgres://…)", rawURL)
}

// openSQLite opens a SQLite store whose background checkpointer runs on c.
func openSQLite(ctx context.Context, rawURL, path string, c clock.Clock) (*DB, error) {
	if path == "" || strings.Contains(path, ":memory:") {
		return nil, errors.New("open store: SQLite needs a file path (in-memory databases cannot be shared between the reader and writer pools)")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("open store: create directory: %w", err)
		}
	}
	// synchronous(NORMAL) in WAL mode keeps the database consistent on power
	// loss; the last transactions before a crash of the machine may be lost.
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-32000)"
	// SQLite runs each checkpoint inside the commit that crosses
	// wal_autocheckpoint pages, and that write waits for it. checkpointer
	// copies the WAL back in the background instead; the writer's own
	// checkpoint stays as a backstop (at 4,000 pages, with little left to
	// copy by then), as under sustained writes a background PASSIVE
	// checkpoint never finds the log idle enough to let SQLite reuse it.
	w, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=wal_autocheckpoint(4000)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	cp, err := sql.Open("sqlite", "file:"+path+"?"+pragmas)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	cp.SetMaxOpenConns(1)
	d := &DB{dialect: SQLite, W: w, R: r, URL: rawURL}
	d.stopCP = checkpointer(cp, c, checkpointEvery, &d.wal)
	return d, nil
}

// walStats is what the last background checkpoint saw.
type walStats struct{ log, checkpointed atomic.Int64 }

// WALStats reports the WAL frames and how many of them were in the database
// file at the last background checkpoint (SQLite; zeros on PostgreSQL).
func (d *DB) WALStats() (frames, checkpointed int64) {
	return d.wal.log.Load(), d.wal.checkpointed.Load()
}

// checkpointEvery is how often the background checkpoint copies the WAL
// back into the database file.
const checkpointEvery = 250 * time.Millisecond

// checkpointer runs PASSIVE checkpoints on its own connection every period
// of c: they copy what they can without ever blocking a writer or a reader.
// It returns the function that stops it (after a last checkpoint) and
// closes cp.
func checkpointer(cp *sql.DB, c clock.Clock, every time.Duration, st *walStats) func() {
	stop, done := make(chan struct{}), make(chan struct{})
	run := func() {
		var busy, log, done int64
		if err := cp.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done); err == nil {
			st.log.Store(log)
			st.checkpointed.Store(done)
		}
	}
	go func() {
		defer close(done)
		t := c.NewTimer(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				run()
				return
			case <-t.C():
				run()
				t.Reset(every) // after the run, so a test sees it done once the timer is armed
			}
		}
	}()
	var once sync.Once // Close may be called twice
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			cp.Close()
		})
	}
}

func openPostgres(ctx context.Context, rawURL string) (*DB, error) {
	p, err := sql.Open("pgx", rawURL)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	p.SetMaxOpenConns(32)
	p.SetMaxIdleConns(32)
	p.SetConnMaxIdleTime(5 * time.Minute)
	if err := p.PingContext(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("open store %s: %w", redact(rawURL), err)
	}
	return &DB{dialect: Postgres, W: p, R: p, URL: rawURL}, nil
}

// redact hides a password in a database URL for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "postgres://…"
	}
	return u.Redacted()
}

// Close closes both pools.
func (d *DB) Close() error {
	d.batch.stop()
	if d.stopCP != nil {
		d.stopCP()
	}
	d.stmts.mu.Lock()
	for _, m := range []map[string]*sql.Stmt{d.stmts.w, d.stmts.r} {
		for _, st := range m {
			st.Close()
		}
	}
	d.stmts.w, d.stmts.r = nil, nil
	d.stmts.mu.Unlock()
	err := d.W.Close()
	if d.R != d.W {
		err = errors.Join(err, d.R.Close())
	}
	return err
}

// Rebind rewrites `?` placeholders for the store's dialect.
func (d *DB) Rebind(q string) string {
	if d.dialect != Postgres || !strings.Contains(q, "?") {
		return q
	}
	if v, ok := d.rebinds.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	inStr := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inStr = !inStr
			b.WriteByte(c)
		case c == '?' && !inStr:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	s := b.String()
	d.rebinds.Store(q, s)
	return s
}

// Querier is what store code needs: a DB (reads) or a Tx (reads and writes).
type Querier interface {
	Exec(ctx context.Context, q string, args ...any) (sql.Result, error)
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
	Dialect() Dialect
}

// Exec runs a statement on the writer pool outside a transaction (in the
// joined transaction in a Join context).
func (d *DB) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if tx, ok := joined(ctx, d); ok {
		return tx.Exec(ctx, q, args...)
	}
	if st := d.writeStmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return d.W.ExecContext(ctx, d.Rebind(q), args...)
}

// Query reads through the reader pool (through the joined transaction in
// a Join context).
func (d *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if tx, ok := joined(ctx, d); ok {
		return tx.Query(ctx, q, args...)
	}
	if st := d.readStmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return d.R.QueryContext(ctx, d.Rebind(q), args...)
}

// QueryRow reads one row through the reader pool (through the joined
// transaction in a Join context).
func (d *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if tx, ok := joined(ctx, d); ok {
		return tx.QueryRow(ctx, q, args...)
	}
	if st := d.readStmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return d.R.QueryRowContext(ctx, d.Rebind(q), args...)
}

// Dialect reports the store's SQL dialect.
func (d *DB) Dialect() Dialect { return d.dialect }

// Tx is a write transaction.
type Tx struct {
	*sql.Tx
	db         *DB
	after      []func()
	unprepared []string // statements to prepare once the writer is free again
	batch      *txBatch
}

// Deferred is work a package saves up during a transaction and writes just
// before commit, once for every transaction committed together (the audit
// chain appends its records this way, taking its lock only for the commit).
type Deferred interface {
	// Flush writes what was saved up and forgets it.
	Flush(ctx context.Context, tx *Tx) error
	// Discard forgets what was saved up (the transaction is rolled back).
	Discard()
}

// txBatch holds the deferred work of the transactions committed together.
type txBatch struct {
	deferred map[any]Deferred
	order    []Deferred
}

// FlushFirst marks deferred work that is flushed before the rest of its
// batch, in registration order like the rest: the audit chain's flush takes
// a lock on PostgreSQL that it holds until commit, and work that needs no
// lock should not run inside it.
type FlushFirst interface {
	Deferred
	FlushFirst()
}

func (b *txBatch) flush(ctx context.Context, tx *Tx) error {
	for _, first := range []bool{true, false} {
		for _, d := range b.order {
			if _, ok := d.(FlushFirst); ok != first {
				continue
			}
			if err := d.Flush(ctx, tx); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *txBatch) discard() {
	for _, d := range b.order {
		d.Discard()
	}
}

// Deferred returns the transaction's deferred work for key, creating it
// with mk on first use.
func (t *Tx) Deferred(key any, mk func() Deferred) Deferred {
	if d, ok := t.batch.deferred[key]; ok {
		return d
	}
	d := mk()
	if t.batch.deferred == nil {
		t.batch.deferred = map[any]Deferred{}
	}
	t.batch.deferred[key] = d
	t.batch.order = append(t.batch.order, d)
	return d
}

// Exec runs a statement in the transaction.
func (t *Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := t.txStmt(q); st != nil {
		return t.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, t.db.Rebind(q), args...)
}

// Query reads in the transaction.
func (t *Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := t.txStmt(q); st != nil {
		return t.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, t.db.Rebind(q), args...)
}

// QueryRow reads one row in the transaction.
func (t *Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := t.txStmt(q); st != nil {
		return t.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, t.db.Rebind(q), args...)
}

// InsertID runs an INSERT into a table whose key is its id column and
// returns the new row's id: with RETURNING id on PostgreSQL, from the last
// insert rowid on SQLite, where RETURNING goes through a temporary table
// (a third of the insert's time).
func (t *Tx) InsertID(ctx context.Context, insert string, args ...any) (int64, error) {
	if t.db.dialect == Postgres {
		var id int64
		err := t.QueryRow(ctx, insert+" RETURNING id", args...).Scan(&id)
		return id, err
	}
	res, err := t.Exec(ctx, insert, args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// Dialect implements Querier.
func (t *Tx) Dialect() Dialect { return t.db.dialect }

// DB returns the store the transaction belongs to.
func (t *Tx) DB() *DB { return t.db }

// AfterCommit runs f once the transaction has committed (for cache
// invalidation and wake-ups; never for durable work, which goes through jobs).
func (t *Tx) AfterCommit(f func()) { t.after = append(t.after, f) }

// InTx runs fn in a write transaction, committing when it returns nil.
// Concurrent transactions are group-committed (see batch.go), and that
// sets the contract every caller keeps:
//
//   - Validate before calling InTx. A callback that fails rolls back the
//     whole batch it was committed with, which then runs again with a
//     savepoint per request: a failure in fn should be a conflict found
//     under the lock (a status that changed meanwhile), not bad input.
//   - fn may run more than once, and must not mutate its inputs: build
//     what it writes inside it, or from values computed before.
//   - Durable work goes in tx, with the change that causes it (outbox
//     events, jobs, deadlines on indexed columns); Tx.AfterCommit is for
//     wake-ups and caches only.
//
// In a Join context fn runs inside the joined transaction.
func (d *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	d.txs.Add(1)
	if outer, ok := joined(ctx, d); ok {
		return outer.join(fn)
	}
	return d.batchTx(ctx, fn)
}

// Transactions counts the InTx calls so far (for metrics and tests).
func (d *DB) Transactions() int64 { return d.txs.Load() }

type joinKey struct{}

// Join returns a context in which the store works inside tx: InTx runs
// its function in tx instead of a transaction of its own, and Query,
// QueryRow and Exec read and write through tx, so they see what tx wrote.
// A loader (the demo) puts many service calls into one transaction this
// way. A joined function's error fails the whole of tx: return it.
func Join(ctx context.Context, tx *Tx) context.Context {
	return context.WithValue(ctx, joinKey{}, tx)
}

// Joined reports whether ctx works inside a transaction of d (Join).
func (d *DB) Joined(ctx context.Context) bool { _, ok := joined(ctx, d); return ok }

// joined returns the transaction of d that ctx joins, if any.
func joined(ctx context.Context, d *DB) (*Tx, bool) {
	tx, ok := ctx.Value(joinKey{}).(*Tx)
	return tx, ok && tx.db == d
}

func (t *Tx) join(fn func(tx *Tx) error) error {
	inner := &Tx{Tx: t.Tx, db: t.db, batch: t.batch}
	err := fn(inner)
	t.unprepared = append(t.unprepared, inner.unprepared...)
	if err == nil {
		t.after = append(t.after, inner.after...)
	}
	return err
}

// IsUniqueViolation reports whether err is a unique-constraint violation
// (SQLite's "UNIQUE constraint failed", PostgreSQL's SQLSTATE 23505).
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// Snapshot is a read-only transaction: every read through it sees the
// store as of one instant, whatever commits meanwhile.
type Snapshot struct {
	tx *sql.Tx
	db *DB
}

// Query reads through the snapshot.
func (s *Snapshot) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.tx.QueryContext(ctx, s.db.Rebind(q), args...)
}

// QueryRow reads one row through the snapshot.
func (s *Snapshot) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return s.tx.QueryRowContext(ctx, s.db.Rebind(q), args...)
}

// InSnapshot runs fn in a read-only transaction of the reader pool: on
// PostgreSQL REPEATABLE READ (one snapshot for the transaction), on SQLite
// a deferred transaction, which in WAL mode reads one snapshot from its
// first read on. In a Join context fn reads through the joined
// transaction instead, which sees what it wrote.
func (d *DB) InSnapshot(ctx context.Context, fn func(s *Snapshot) error) error {
	if tx, ok := joined(ctx, d); ok {
		return fn(&Snapshot{tx: tx.Tx, db: d})
	}
	var opts *sql.TxOptions
	if d.dialect == Postgres {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	tx, err := d.R.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
	return fn(&Snapshot{tx: tx, db: d})
}
