package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/db"
)

const (
	// SessionIdleTimeout ends a browser session nobody has used for this long.
	SessionIdleTimeout = 12 * time.Hour
	// SessionMaxAge ends a browser session this long after sign-in, used or not.
	SessionMaxAge = 7 * 24 * time.Hour
	// sessionTouchEvery limits last_seen_at writes to one a minute per session.
	sessionTouchEvery = time.Minute
)

// newSecret returns 32 random bytes, base64url-encoded, and the hash stored
// in their place: a database leak does not hand out live credentials.
func newSecret() (secret, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	secret = base64.RawURLEncoding.EncodeToString(b[:])
	return secret, secretHash(secret), nil
}

func secretHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// secretLen is the length of a base64url-encoded 32-byte secret.
var secretLen = base64.RawURLEncoding.EncodedLen(32)

// CreateSession starts a browser session for userID and returns the token
// to hand to the client (in a cookie); only its hash is stored.
func CreateSession(ctx context.Context, tx *db.Tx, now time.Time, userID int64) (token string, err error) {
	if err := userExists(ctx, tx, userID); err != nil {
		return "", fmt.Errorf("create session for user %d: %w", userID, err)
	}
	token, hash, err := newSecret()
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at) VALUES (?, ?, ?, ?, ?)`,
		hash, userID, db.T(now), db.T(sessionExpiry(now, now)), db.T(now))
	if err != nil {
		return "", fmt.Errorf("create session for user %d: %w", userID, err)
	}
	return token, nil
}

// sessionExpiry is the idle deadline from lastSeen, capped by the absolute one.
func sessionExpiry(created, lastSeen time.Time) time.Time {
	return minTime(lastSeen.Add(SessionIdleTimeout), created.Add(SessionMaxAge))
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// SessionActor returns the actor of a live session. Unknown or expired
// tokens and inactive users are ErrUnauthenticated. Use slides the idle
// deadline; the write happens at most once a minute per session.
func SessionActor(ctx context.Context, d *db.DB, now time.Time, token string) (Actor, error) {
	if len(token) != secretLen {
		return Actor{}, ErrUnauthenticated
	}
	hash := secretHash(token)
	var created, expires, lastSeen db.Time
	var markets []byte
	var active bool
	var role string
	var a Actor
	err := d.QueryRow(ctx, `SELECT s.created_at, s.expires_at, s.last_seen_at, u.id, u.email, u.name, u.role, u.markets, u.active
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`, hash).
		Scan(&created, &expires, &lastSeen, &a.UserID, &a.Email, &a.Name, &role, &markets, &active)
	if errors.Is(err, sql.ErrNoRows) {
		return Actor{}, ErrUnauthenticated
	}
	if err != nil {
		return Actor{}, fmt.Errorf("session lookup: %w", err)
	}
	if !now.Before(expires.Time) || !active {
		return Actor{}, ErrUnauthenticated
	}
	if err := fillActor(ctx, d, &a, role, markets); err != nil {
		return Actor{}, fmt.Errorf("session lookup: %w", err)
	}
	if now.Sub(lastSeen.Time) >= sessionTouchEvery {
		err := d.InTx(ctx, func(tx *db.Tx) error {
			// Matching the last_seen_at we read makes parallel requests write once.
			_, err := tx.Exec(ctx, `UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE token_hash = ? AND last_seen_at = ?`,
				db.T(now), db.T(sessionExpiry(created.Time, now)), hash, lastSeen)
			return err
		})
		if err != nil {
			// The session is valid; failing to extend it must not fail the request.
			slog.WarnContext(ctx, "extend session", "user_id", a.UserID, "err", err)
		}
	}
	return a, nil
}

// fillActor completes a from the user row's role and markets and the teams.
func fillActor(ctx context.Context, q db.Querier, a *Actor, role string, markets []byte) error {
	a.Role = Role(role)
	if err := json.Unmarshal(markets, &a.Markets); err != nil {
		return fmt.Errorf("user %d markets: %w", a.UserID, err)
	}
	teams, err := teamsOf(ctx, q, a.UserID)
	a.Teams = teams
	return err
}

// DeleteSession ends the session of token (signing out). Unknown tokens are
// not an error.
func DeleteSession(ctx context.Context, tx *db.Tx, token string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE token_hash = ?`, secretHash(token)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions past their deadline at now and
// returns how many.
func DeleteExpiredSessions(ctx context.Context, tx *db.Tx, now time.Time) (int64, error) {
	res, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, db.T(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}

// TokenPrefix starts every API token, so leaked tokens are easy to spot.
const TokenPrefix = "flr_"

const maxTokenName = 100

// CreateToken issues an API token for userID and returns it (shown once;
// only its hash is stored) and its id.
func CreateToken(ctx context.Context, tx *db.Tx, now time.Time, userID int64, name string) (token string, id int64, err error) {
	name = strings.TrimSpace(name)
	if len([]rune(name)) > maxTokenName {
		return "", 0, apperr.InvalidField("name", "must be at most %d characters", maxTokenName)
	}
	if err := userExists(ctx, tx, userID); err != nil {
		return "", 0, fmt.Errorf("create token for user %d: %w", userID, err)
	}
	secret, _, err := newSecret()
	if err != nil {
		return "", 0, fmt.Errorf("create token: %w", err)
	}
	token = TokenPrefix + secret
	err = tx.QueryRow(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		userID, name, secretHash(token), db.T(now)).Scan(&id)
	if err != nil {
		return "", 0, fmt.Errorf("create token for user %d: %w", userID, err)
	}
	return token, id, nil
}

// RevokeToken revokes token id at now. Revoking twice keeps the first time.
func RevokeToken(ctx context.Context, tx *db.Tx, now time.Time, id int64) error {
	res, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, db.T(now), id)
	if err != nil {
		return fmt.Errorf("revoke token %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("revoke token %d: %w", id, err)
	} else if n > 0 {
		return nil
	}
	var one int
	err = tx.QueryRow(ctx, `SELECT 1 FROM api_tokens WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("revoke token %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("revoke token %d: %w", id, err)
	}
	return nil
}

// TokenActor returns the actor an API token acts as; unknown or revoked
// tokens and inactive users are ErrUnauthenticated. It runs on every API
// request: one lookup by the unique token_hash index, one for the teams, and
// no writes.
func TokenActor(ctx context.Context, q db.Querier, token string) (Actor, error) {
	if len(token) != len(TokenPrefix)+secretLen || !strings.HasPrefix(token, TokenPrefix) {
		return Actor{}, ErrUnauthenticated
	}
	var a Actor
	var role string
	var markets []byte
	var active bool
	var revoked db.Time
	err := q.QueryRow(ctx, `SELECT t.id, t.revoked_at, u.id, u.email, u.name, u.role, u.markets, u.active
		FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?`, secretHash(token)).
		Scan(&a.TokenID, &revoked, &a.UserID, &a.Email, &a.Name, &role, &markets, &active)
	if errors.Is(err, sql.ErrNoRows) {
		return Actor{}, ErrUnauthenticated
	}
	if err != nil {
		return Actor{}, fmt.Errorf("token lookup: %w", err)
	}
	if !revoked.IsZero() || !active {
		return Actor{}, ErrUnauthenticated
	}
	if err := fillActor(ctx, q, &a, role, markets); err != nil {
		return Actor{}, fmt.Errorf("token lookup: %w", err)
	}
	return a, nil
}

// SignIn opens a browser session for the authenticated user userID in its
// own transaction and returns its token.
func SignIn(ctx context.Context, d *db.DB, now time.Time, userID int64) (string, error) {
	var token string
	err := d.InTx(ctx, func(tx *db.Tx) error {
		var err error
		token, err = CreateSession(ctx, tx, now, userID)
		return err
	})
	return token, err
}

// SignOut ends the browser session token (nothing if it is unknown).
func SignOut(ctx context.Context, d *db.DB, token string) error {
	return d.InTx(ctx, func(tx *db.Tx) error { return DeleteSession(ctx, tx, token) })
}
