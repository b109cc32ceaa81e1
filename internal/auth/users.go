package auth

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/db"
)

var (
	// ErrNotFound: no such user, token or session.
	ErrNotFound = errors.New("not found")
	// ErrUnauthenticated: the credentials do not identify an active user.
	// Deliberately says nothing about which part was wrong.
	ErrUnauthenticated = errors.New("unauthenticated")
)

// User is a desk member.
type User struct {
	ID          int64
	Email       string
	Name        string
	Role        Role
	Teams       []string
	Markets     []string // market codes covered; empty means all
	Languages   []string
	Active      bool
	HasPassword bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ActorFor returns the actor a signed-in u acts as.
func ActorFor(u User) Actor {
	return Actor{UserID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Teams: u.Teams, Markets: u.Markets}
}

// NormaliseEmail lower-cases and trims an address; emails are stored so.
func NormaliseEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// validateUser normalises u's fields in place and checks them.
func validateUser(u *User) error {
	u.Email = NormaliseEmail(u.Email)
	if u.Email == "" {
		return apperr.InvalidField("email", "is required")
	}
	a, err := mail.ParseAddress(u.Email)
	if err != nil || a.Address != u.Email || len(u.Email) > 254 {
		return apperr.InvalidField("email", "is not a valid email address")
	}
	u.Name = strings.TrimSpace(u.Name)
	if u.Name == "" {
		return apperr.InvalidField("name", "is required")
	}
	if !u.Role.Valid() {
		return apperr.InvalidField("role", "unknown role %q", u.Role)
	}
	u.Teams = cleanList(u.Teams)
	u.Markets = cleanList(u.Markets)
	u.Languages = cleanList(u.Languages)
	return nil
}

// cleanList trims entries and drops empty and repeated ones, keeping order.
func cleanList(in []string) []string {
	out := []string{}
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func jsonList(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l) // a []string always marshals
	return string(b)
}

// CreateUser adds an active user. The email is lower-cased and trimmed; a
// taken email is an *apperr.Invalid on "email". password may be "" (the user
// cannot sign in until one is set). u.Teams become team memberships;
// u.ID, u.Active and the timestamps are ignored.
func CreateUser(ctx context.Context, tx *db.Tx, now time.Time, u User, password string) (User, error) {
	if err := validateUser(&u); err != nil {
		return User{}, err
	}
	var hash any // NULL: no password
	if password != "" {
		if err := validatePassword(password); err != nil {
			return User{}, err
		}
		h, err := HashPassword(password)
		if err != nil {
			return User{}, fmt.Errorf("create user %s: %w", u.Email, err)
		}
		hash = h
	}
	// ON CONFLICT keeps a concurrent duplicate from surfacing as a DB error.
	err := tx.QueryRow(ctx, `INSERT INTO users (email, name, role, password_hash, markets, languages, active, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, TRUE, ?, ?) ON CONFLICT (email) DO NOTHING RETURNING id`,
		u.Email, u.Name, string(u.Role), hash, jsonList(u.Markets), jsonList(u.Languages), db.T(now), db.T(now)).Scan(&u.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, apperr.InvalidField("email", "is already taken")
	}
	if err != nil {
		return User{}, fmt.Errorf("create user %s: %w", u.Email, err)
	}
	if err := SetUserTeams(ctx, tx, u.ID, u.Teams); err != nil {
		return User{}, fmt.Errorf("create user %s: %w", u.Email, err)
	}
	return GetUser(ctx, tx, u.ID)
}

// UpsertUser creates or updates the user with u.Email (for desk config):
// it sets name, role, markets and languages and re-activates the user. It
// never touches the password or team memberships.
func UpsertUser(ctx context.Context, tx *db.Tx, now time.Time, u User) (id int64, created bool, err error) {
	if err := validateUser(&u); err != nil {
		return 0, false, err
	}
	markets, languages := jsonList(u.Markets), jsonList(u.Languages)
	err = tx.QueryRow(ctx, `SELECT id FROM users WHERE email = ?`, u.Email).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		err = tx.QueryRow(ctx, `INSERT INTO users (email, name, role, markets, languages, active, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, TRUE, ?, ?) RETURNING id`,
			u.Email, u.Name, string(u.Role), markets, languages, db.T(now), db.T(now)).Scan(&id)
		if err != nil {
			return 0, false, fmt.Errorf("upsert user %s: %w", u.Email, err)
		}
		return id, true, nil
	case err != nil:
		return 0, false, fmt.Errorf("upsert user %s: %w", u.Email, err)
	}
	_, err = tx.Exec(ctx, `UPDATE users SET name = ?, role = ?, markets = ?, languages = ?, active = TRUE, updated_at = ? WHERE id = ?`,
		u.Name, string(u.Role), markets, languages, db.T(now), id)
	if err != nil {
		return 0, false, fmt.Errorf("upsert user %s: %w", u.Email, err)
	}
	return id, false, nil
}

// SetUserTeams replaces the teams user userID belongs to.
func SetUserTeams(ctx context.Context, tx *db.Tx, userID int64, teams []string) error {
	if err := userExists(ctx, tx, userID); err != nil {
		return fmt.Errorf("set teams of user %d: %w", userID, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM team_members WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("set teams of user %d: %w", userID, err)
	}
	for _, team := range cleanList(teams) {
		if _, err := tx.Exec(ctx, `INSERT INTO team_members (team, user_id) VALUES (?, ?)`, team, userID); err != nil {
			return fmt.Errorf("set teams of user %d: %w", userID, err)
		}
	}
	return nil
}

// SetTeamMembers replaces the membership of team.
func SetTeamMembers(ctx context.Context, tx *db.Tx, team string, userIDs []int64) error {
	team = strings.TrimSpace(team)
	if team == "" {
		return apperr.InvalidField("team", "is required")
	}
	if _, err := tx.Exec(ctx, `DELETE FROM team_members WHERE team = ?`, team); err != nil {
		return fmt.Errorf("set members of team %s: %w", team, err)
	}
	seen := map[int64]bool{}
	for _, id := range userIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		if err := userExists(ctx, tx, id); err != nil {
			return fmt.Errorf("set members of team %s: user %d: %w", team, id, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO team_members (team, user_id) VALUES (?, ?)`, team, id); err != nil {
			return fmt.Errorf("set members of team %s: %w", team, err)
		}
	}
	return nil
}

func userExists(ctx context.Context, q db.Querier, id int64) error {
	var one int
	err := q.QueryRow(ctx, `SELECT 1 FROM users WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// DeactivateUsersExcept deactivates every active user whose email is not in
// keepEmails and returns their emails, sorted. Their sessions and tokens stop
// working at once (both check the active flag).
func DeactivateUsersExcept(ctx context.Context, tx *db.Tx, now time.Time, keepEmails []string) (deactivated []string, err error) {
	keep := map[string]bool{}
	for _, e := range keepEmails {
		keep[NormaliseEmail(e)] = true
	}
	rows, err := tx.Query(ctx, `SELECT id, email FROM users WHERE active = TRUE ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("deactivate users: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		var email string
		if err := rows.Scan(&id, &email); err != nil {
			rows.Close()
			return nil, fmt.Errorf("deactivate users: %w", err)
		}
		if !keep[email] {
			ids, deactivated = append(ids, id), append(deactivated, email)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("deactivate users: %w", err)
	}
	for _, id := range ids {
		if _, err := tx.Exec(ctx, `UPDATE users SET active = FALSE, updated_at = ? WHERE id = ?`, db.T(now), id); err != nil {
			return nil, fmt.Errorf("deactivate user %d: %w", id, err)
		}
	}
	return deactivated, nil
}

// SetPassword sets a user's password after checking it.
func SetPassword(ctx context.Context, tx *db.Tx, now time.Time, userID int64, pw string) error {
	if err := validatePassword(pw); err != nil {
		return err
	}
	h, err := HashPassword(pw)
	if err != nil {
		return fmt.Errorf("set password of user %d: %w", userID, err)
	}
	return SetPasswordHash(ctx, tx, now, userID, h)
}

// SetPasswordHash stores a hash made by HashPassword, so that a caller can
// hash outside its transaction (hashing takes tens of milliseconds on
// purpose) or give several accounts one hash (the demo's shared password).
func SetPasswordHash(ctx context.Context, tx *db.Tx, now time.Time, userID int64, h string) error {
	if _, _, _, err := parsePHC(h); err != nil {
		return fmt.Errorf("set password of user %d: not a password hash: %w", userID, err)
	}
	res, err := tx.Exec(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, h, db.T(now), userID)
	if err != nil {
		return fmt.Errorf("set password of user %d: %w", userID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("set password of user %d: %w", userID, err)
	} else if n == 0 {
		return fmt.Errorf("set password of user %d: %w", userID, ErrNotFound)
	}
	return nil
}

const userColumns = `id, email, name, role, password_hash, markets, languages, active, created_at, updated_at`

type rowScanner interface{ Scan(dest ...any) error }

// scanUser scans userColumns; it also returns the password hash ("" if none).
func scanUser(r rowScanner) (User, string, error) {
	var u User
	var role string
	var hash sql.NullString
	var markets, languages []byte
	var created, updated db.Time
	if err := r.Scan(&u.ID, &u.Email, &u.Name, &role, &hash, &markets, &languages, &u.Active, &created, &updated); err != nil {
		return u, "", err
	}
	u.Role, u.HasPassword, u.CreatedAt, u.UpdatedAt = Role(role), hash.String != "", created.Time, updated.Time
	if err := json.Unmarshal(markets, &u.Markets); err != nil {
		return u, "", fmt.Errorf("user %d markets: %w", u.ID, err)
	}
	if err := json.Unmarshal(languages, &u.Languages); err != nil {
		return u, "", fmt.Errorf("user %d languages: %w", u.ID, err)
	}
	return u, hash.String, nil
}

// GetUser returns the user with id, with teams.
func GetUser(ctx context.Context, q db.Querier, id int64) (User, error) {
	u, _, err := userWhere(ctx, q, `id = ?`, id)
	if err != nil {
		return User{}, fmt.Errorf("get user %d: %w", id, err)
	}
	return u, nil
}

// UserByEmail returns the user with email (any case), with teams.
func UserByEmail(ctx context.Context, q db.Querier, email string) (User, error) {
	u, _, err := userWhere(ctx, q, `email = ?`, NormaliseEmail(email))
	if err != nil {
		return User{}, fmt.Errorf("get user %s: %w", NormaliseEmail(email), err)
	}
	return u, nil
}

func userWhere(ctx context.Context, q db.Querier, cond string, arg any) (User, string, error) {
	u, hash, err := scanUser(q.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE `+cond, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, "", ErrNotFound
	}
	if err != nil {
		return User{}, "", err
	}
	if u.Teams, err = teamsOf(ctx, q, u.ID); err != nil {
		return User{}, "", err
	}
	return u, hash, nil
}

func teamsOf(ctx context.Context, q db.Querier, userID int64) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT team FROM team_members WHERE user_id = ? ORDER BY team`, userID)
	if err != nil {
		return nil, fmt.Errorf("teams of user %d: %w", userID, err)
	}
	defer rows.Close()
	teams := []string{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("teams of user %d: %w", userID, err)
		}
		teams = append(teams, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("teams of user %d: %w", userID, err)
	}
	return teams, nil
}

// ListUsers returns every user, active or not, ordered by email, with teams.
func ListUsers(ctx context.Context, q db.Querier) ([]User, error) {
	teams := map[int64][]string{}
	rows, err := q.Query(ctx, `SELECT user_id, team FROM team_members ORDER BY team`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	for rows.Next() {
		var id int64
		var t string
		if err := rows.Scan(&id, &t); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list users: %w", err)
		}
		teams[id] = append(teams[id], t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	rows, err = q.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, _, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		u.Teams = teams[u.ID]
		if u.Teams == nil {
			u.Teams = []string{}
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// Authenticate returns the active user with email and password. Every
// failure (unknown email, wrong or missing password, inactive user) is
// ErrUnauthenticated and costs one password hash, so timing does not tell
// which emails exist. A hash holds 64 MiB while it runs: callers serving
// the network must bound how many run at once (the web login's gate).
func Authenticate(ctx context.Context, q db.Querier, email, password string) (User, error) {
	// Checked before the lookup so their (lack of) cost says nothing.
	if password == "" || len(password) > maxPasswordBytes {
		return User{}, ErrUnauthenticated
	}
	u, hash, err := userWhere(ctx, q, `email = ?`, NormaliseEmail(email))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return User{}, fmt.Errorf("authenticate: %w", err)
	}
	if hash == "" {
		burnPasswordTime(password)
		return User{}, ErrUnauthenticated
	}
	if !CheckPassword(hash, password) || !u.Active {
		return User{}, ErrUnauthenticated
	}
	return u, nil
}
