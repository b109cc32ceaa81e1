// Package idempotency lets clients retry creates safely: a request with an
// Idempotency-Key header is answered once, its response is stored in the
// same transaction as the write, and a retry gets the stored response.
package idempotency

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/jobs"
)

// TTL is how long a key is remembered.
const TTL = 24 * time.Hour

// Key identifies one client request.
type Key struct {
	UserID int64
	Key    string
	Method string
	Path   string
	Hash   string // SHA-256 of the request body
}

// NewKey builds a key for a request body.
func NewKey(userID int64, key, method, path string, body []byte) Key {
	sum := sha256.Sum256(body)
	return Key{UserID: userID, Key: key, Method: method, Path: path, Hash: hex.EncodeToString(sum[:])}
}

// Valid reports whether a client's key is acceptable.
func Valid(key string) bool {
	if len(key) == 0 || len(key) > 255 {
		return false
	}
	for _, r := range key {
		if r < 0x21 || r > 0x7e {
			return false
		}
	}
	return true
}

// Stored is a response kept for replay.
type Stored struct {
	Status int
	Body   []byte
}

// Lookup returns the stored response for k, if any. A key reused for a
// different request is an error the client must fix.
func Lookup(ctx context.Context, q db.Querier, k Key) (*Stored, error) {
	var method, path, hash string
	var s Stored
	err := q.QueryRow(ctx, `SELECT method, path, request_hash, status, body FROM idempotency_keys WHERE user_id = ? AND key = ?`,
		k.UserID, k.Key).Scan(&method, &path, &hash, &s.Status, &s.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("idempotency lookup: %w", err)
	}
	if method != k.Method || path != k.Path || hash != k.Hash {
		return nil, &apperr.Invalid{Errors: []apperr.FieldError{{Field: "Idempotency-Key",
			Message: "this key was already used for a different request; use a new key"}}}
	}
	return &s, nil
}

// Save stores the response for k in tx, the transaction of the write itself.
// A concurrent request with the same key makes the second transaction fail.
func Save(ctx context.Context, tx *db.Tx, now time.Time, k Key, status int, body []byte) error {
	_, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (user_id, key, method, path, request_hash, status, body, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, k.UserID, k.Key, k.Method, k.Path, k.Hash, status, string(body), db.T(now))
	if db.IsUniqueViolation(err) {
		return &apperr.Conflict{Detail: "another request with this Idempotency-Key is in progress; retry it shortly"}
	}
	if err != nil {
		return fmt.Errorf("store idempotent response: %w", err)
	}
	return nil
}

// ExpireArgs is the periodic job that forgets old keys.
type ExpireArgs struct{}

// Kind implements river.JobArgs.
func (ExpireArgs) Kind() string { return "idempotency_expire" }

type expireWorker struct {
	river.WorkerDefaults[ExpireArgs]
	db    *db.DB
	clock clock.Clock
}

func (w *expireWorker) Work(ctx context.Context, _ *river.Job[ExpireArgs]) error {
	_, err := Expire(ctx, w.db, w.clock.Now())
	return err
}

// Expire deletes keys older than TTL at now.
func Expire(ctx context.Context, d *db.DB, now time.Time) (int64, error) {
	res, err := d.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, db.T(now.Add(-TTL)))
	if err != nil {
		return 0, fmt.Errorf("expire idempotency keys: %w", err)
	}
	return res.RowsAffected()
}

// Register adds the hourly expiry job.
func Register(reg *jobs.Registry, d *db.DB, c clock.Clock) {
	river.AddWorker(reg.Workers, &expireWorker{db: d, clock: c})
	reg.Every(time.Hour, func() river.JobArgs { return ExpireArgs{} }, "idempotency_expire")
}
