// Package audit keeps Flare's append-only, hash-chained record of every
// mutation. Each record carries the hash of the one before it, so editing,
// deleting or reordering stored records breaks the chain and Verify finds
// the first broken link.
//
// Append runs inside the caller's transaction, so the record commits or rolls
// back with the change it describes. The records of the transactions
// committed together are chained and written just before their commit
// (db.Tx.Deferred); on PostgreSQL that takes a transaction-scoped advisory
// lock that serialises appenders, held only for the write and the commit.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
)

// Entry is one mutation to record.
type Entry struct {
	ActorID    int64  // 0 = system
	Actor      string // display name or email of the actor
	Action     string // e.g. "case.create", "case.update", "desk.apply", "user.create", "token.create"
	ObjectType string // e.g. "case", "desk", "user", "token"
	ObjectID   string
	Before     any    // marshalled to JSON; nil (or JSON null) is stored as SQL NULL
	After      any    // marshalled to JSON; nil (or JSON null) is stored as SQL NULL
	RequestID  string // if empty, taken from the context (RequestIDFrom)
}

// Record is a stored audit record, as GET /api/v1/audit shows it (the
// AuditRecord schema of the OpenAPI document).
type Record struct {
	Seq        int64           `json:"seq"`
	At         time.Time       `json:"at"`
	ActorID    int64           `json:"actor_id"` // 0 = system
	Actor      string          `json:"actor"`
	Action     string          `json:"action"`
	ObjectType string          `json:"object_type"`
	ObjectID   string          `json:"object_id"`
	Before     json.RawMessage `json:"before"` // nil (JSON null) when absent
	After      json.RawMessage `json:"after"`  // nil (JSON null) when absent
	RequestID  string          `json:"request_id"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
}

// genesisHash is the prev_hash of the first record.
var genesisHash = strings.Repeat("0", 64)

// timeLayout fixes the hashed form of `at` (UTC, microseconds, fixed width).
const timeLayout = "2006-01-02T15:04:05.000000Z"

// appendLockKey is the PostgreSQL advisory lock that serialises appends
// ("flareaud" in ASCII). Any fixed value works as long as nothing else uses it.
const appendLockKey = 0x666c617265617564

type requestIDKey struct{}

// WithRequestID returns a context carrying the request id recorded by Append.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFrom returns the request id in ctx, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// Append adds e to the chain at instant at, as part of tx: the record is
// chained and written when tx commits (see the package comment).
func Append(ctx context.Context, tx *db.Tx, at time.Time, e Entry) error {
	if e.Action == "" || e.ObjectType == "" {
		return fmt.Errorf("audit append: action and object type are required (got %q, %q)", e.Action, e.ObjectType)
	}
	if at.IsZero() {
		return errors.New("audit append: zero time")
	}
	before, err := marshalCanonical(e.Before)
	if err != nil {
		return fmt.Errorf("audit append %s: before: %w", e.Action, err)
	}
	after, err := marshalCanonical(e.After)
	if err != nil {
		return fmt.Errorf("audit append %s: after: %w", e.Action, err)
	}
	if e.RequestID == "" {
		e.RequestID = RequestIDFrom(ctx)
	}
	r := Record{
		At:         at.UTC().Truncate(time.Microsecond),
		ActorID:    e.ActorID,
		Actor:      e.Actor,
		Action:     e.Action,
		ObjectType: e.ObjectType,
		ObjectID:   e.ObjectID,
		Before:     before,
		After:      after,
		RequestID:  e.RequestID,
	}
	p := tx.Deferred(pendingKey{}, func() db.Deferred { return &pending{} }).(*pending)
	p.recs = append(p.recs, r)
	return nil
}

type pendingKey struct{}

// pending holds the records appended in a transaction until its commit.
type pending struct{ recs []Record }

func (p *pending) Discard() { p.recs = p.recs[:0] }

// insertChunk bounds the rows of one INSERT (12 parameters each).
const insertChunk = 50

// Flush chains the pending records to the head of the log and writes them.
func (p *pending) Flush(ctx context.Context, tx *db.Tx) error {
	if len(p.recs) == 0 {
		return nil
	}
	defer p.Discard()
	if tx.Dialect() == db.Postgres {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(`+strconv.FormatInt(appendLockKey, 10)+`)`); err != nil {
			return fmt.Errorf("audit append: lock chain: %w", err)
		}
	}
	// Under the lock (or SQLite's single writer) the head cannot move until commit.
	var seq int64
	prev := genesisHash
	err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&seq, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("audit append: read chain head: %w", err)
	}
	for i := range p.recs {
		r := &p.recs[i]
		seq++
		r.Seq, r.PrevHash = seq, prev
		r.Hash = hashRecord(r)
		prev = r.Hash
	}
	for start := 0; start < len(p.recs); start += insertChunk {
		chunk := p.recs[start:min(start+insertChunk, len(p.recs))]
		var q strings.Builder
		q.WriteString(`INSERT INTO audit_log
			(seq, at, actor_id, actor, action, object_type, object_id, before, after, request_id, prev_hash, hash) VALUES `)
		args := make([]any, 0, 12*len(chunk))
		for i, r := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, r.Seq, db.T(r.At), nullID(r.ActorID), r.Actor, r.Action, r.ObjectType, r.ObjectID,
				nullJSON(r.Before), nullJSON(r.After), r.RequestID, r.PrevHash, r.Hash)
		}
		if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("audit append seq %d–%d: %w", chunk[0].Seq, chunk[len(chunk)-1].Seq, err)
		}
	}
	return nil
}

// Canonical is a value already in canonical JSON (from CanonicalOf), so
// that callers can do that work before their transaction.
type Canonical []byte

// CanonicalOf marshals v to canonical JSON for an Entry's Before or After.
func CanonicalOf(v any) (Canonical, error) {
	c, err := marshalCanonical(v)
	return Canonical(c), err
}

// marshalCanonical marshals v to canonical JSON; nil and JSON null give nil.
func marshalCanonical(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	if c, ok := v.(Canonical); ok {
		return c, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	c, err := canonicalJSON(raw)
	if err != nil || string(c) == "null" {
		return nil, err
	}
	return c, nil
}

// nullID stores the system actor (0) as NULL, like the other actor columns.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func nullJSON(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// hashRecord hashes every field but Hash. Fields are length-prefixed so no
// content can move a field boundary; canonical JSON is never empty, so
// length 0 stands for NULL.
func hashRecord(r *Record) string {
	h := sha256.New()
	field := func(h hash.Hash, s []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write(s)
	}
	field(h, []byte("flare-audit-v1"))
	field(h, strconv.AppendInt(nil, r.Seq, 10))
	field(h, []byte(r.At.UTC().Truncate(time.Microsecond).Format(timeLayout)))
	field(h, strconv.AppendInt(nil, r.ActorID, 10))
	field(h, []byte(r.Actor))
	field(h, []byte(r.Action))
	field(h, []byte(r.ObjectType))
	field(h, []byte(r.ObjectID))
	field(h, r.Before)
	field(h, r.After)
	field(h, []byte(r.RequestID))
	field(h, []byte(r.PrevHash))
	return hex.EncodeToString(h.Sum(nil))
}

// Filter selects records for List.
type Filter struct {
	ObjectType string
	ObjectID   string
	ActorID    int64 // 0 = any actor
	BeforeSeq  int64 // cursor: records with seq < BeforeSeq; 0 = from the newest
	Limit      int   // default 50, at most 500
}

const (
	defaultLimit = 50
	maxLimit     = 500
)

const recordColumns = `seq, at, actor_id, actor, action, object_type, object_id, before, after, request_id, prev_hash, hash`

// List returns records matching f, newest first. The next page is
// f.BeforeSeq = the last record's Seq.
// ListFor is List for actor, who must hold audit.read; a limit beyond
// maxLimit is refused.
func ListFor(ctx context.Context, q db.Querier, actor auth.Actor, f Filter) ([]Record, error) {
	if !actor.Can(auth.PermAuditRead) {
		return nil, &apperr.Forbidden{Detail: "only admins can read the audit log"}
	}
	if f.Limit > maxLimit {
		return nil, apperr.InvalidField("limit", "at most %d", maxLimit)
	}
	return List(ctx, q, f)
}

func List(ctx context.Context, q db.Querier, f Filter) ([]Record, error) {
	var where []string
	var args []any
	if f.ObjectType != "" {
		where, args = append(where, "object_type = ?"), append(args, f.ObjectType)
	}
	if f.ObjectID != "" {
		where, args = append(where, "object_id = ?"), append(args, f.ObjectID)
	}
	if f.ActorID != 0 {
		where, args = append(where, "actor_id = ?"), append(args, f.ActorID)
	}
	if f.BeforeSeq > 0 {
		where, args = append(where, "seq < ?"), append(args, f.BeforeSeq)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)
	query := `SELECT ` + recordColumns + ` FROM audit_log`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY seq DESC LIMIT ` + strconv.Itoa(limit)
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit records: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("list audit records: %w", err)
		}
		// Same bytes on both stores (JSONB rewrites what it hands back).
		for _, p := range []*json.RawMessage{&r.Before, &r.After} {
			if *p == nil {
				continue
			}
			if c, err := canonicalJSON(*p); err == nil {
				*p = c
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list audit records: %w", err)
	}
	return out, nil
}

func scanRecord(rows *sql.Rows) (Record, error) {
	var r Record
	var at db.Time
	var actorID sql.NullInt64
	var before, after []byte
	if err := rows.Scan(&r.Seq, &at, &actorID, &r.Actor, &r.Action, &r.ObjectType, &r.ObjectID,
		&before, &after, &r.RequestID, &r.PrevHash, &r.Hash); err != nil {
		return r, err
	}
	r.At, r.ActorID = at.Time, actorID.Int64
	if before != nil {
		r.Before = json.RawMessage(before)
	}
	if after != nil {
		r.After = json.RawMessage(after)
	}
	return r, nil
}

// VerifyResult is the outcome of Verify.
type VerifyResult struct {
	Checked   int64  `json:"checked"`              // records read
	OK        bool   `json:"ok"`                   // the whole chain is intact
	BrokenSeq int64  `json:"broken_seq,omitempty"` // the first broken (or missing) seq when !OK
	Reason    string `json:"reason,omitempty"`     // why it is broken
}

// Verify walks the chain in seq order, one row at a time, and reports the
// first broken link: a missing or out-of-order seq, a prev_hash that is not
// the previous record's hash, or a hash that does not match the contents.
// Removing records from the end of the chain cannot be detected this way;
// compare Checked with an externally kept head for that.
func Verify(ctx context.Context, q db.Querier) (VerifyResult, error) {
	rows, err := q.Query(ctx, `SELECT `+recordColumns+` FROM audit_log ORDER BY seq`)
	if err != nil {
		return VerifyResult{}, fmt.Errorf("verify audit chain: %w", err)
	}
	defer rows.Close()
	var res VerifyResult
	prevSeq, prevHash := int64(0), genesisHash
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return res, fmt.Errorf("verify audit chain: %w", err)
		}
		res.Checked++
		if reason := checkLink(&r, prevSeq, prevHash); reason != "" {
			// Either this record or, when seqs skip, the missing one.
			res.BrokenSeq, res.Reason = prevSeq+1, reason
			return res, nil
		}
		prevSeq, prevHash = r.Seq, r.Hash
	}
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("verify audit chain: %w", err)
	}
	res.OK = true
	return res, nil
}

// checkLink returns why r does not follow (prevSeq, prevHash), or "".
func checkLink(r *Record, prevSeq int64, prevHash string) string {
	if r.Seq != prevSeq+1 {
		return fmt.Sprintf("seq %d is missing (next stored record is %d)", prevSeq+1, r.Seq)
	}
	if r.PrevHash != prevHash {
		return fmt.Sprintf("prev_hash of seq %d does not match the hash of seq %d", r.Seq, prevSeq)
	}
	// What the database hands back (JSONB reorders keys) is re-canonicalised
	// before hashing, exactly as Append canonicalised it before storing.
	for _, p := range []*json.RawMessage{&r.Before, &r.After} {
		if *p == nil {
			continue
		}
		c, err := canonicalJSON(*p)
		if err != nil {
			return fmt.Sprintf("seq %d holds invalid JSON: %v", r.Seq, err)
		}
		*p = c
	}
	if hashRecord(r) != r.Hash {
		return fmt.Sprintf("contents of seq %d do not match its hash", r.Seq)
	}
	return ""
}

// ActorName is how a record names its actor: the user's email, or the
// name of Flare's own actor (a job, the CLI).
func ActorName(a auth.Actor) string {
	if a.Email != "" {
		return a.Email
	}
	return a.Name
}
