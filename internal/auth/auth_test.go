package auth

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/db/dbtest"
)

// TestMain lowers the argon2 cost once, before any test runs: the store
// tests hash many passwords, and the real cost is tested in TestPasswordHash.
func TestMain(m *testing.M) {
	hashCost = argonCost{memory: 64, time: 1, threads: 1}
	os.Exit(m.Run())
}

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func inTx(t *testing.T, d *db.DB, fn func(tx *db.Tx) error) {
	t.Helper()
	if err := d.InTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func mustCreate(t *testing.T, d *db.DB, u User, pw string) User {
	t.Helper()
	var out User
	inTx(t, d, func(tx *db.Tx) (err error) {
		out, err = CreateUser(context.Background(), tx, t0, u, pw)
		return err
	})
	return out
}

func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var ie *apperr.Invalid
	if !errors.As(err, &ie) || len(ie.Errors) != 1 || ie.Errors[0].Field != field {
		t.Fatalf("want *apperr.Invalid on %q, got %v", field, err)
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := hashWith("correct horse battery", defaultCost)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=1,p=2$") {
		t.Fatalf("not a PHC argon2id string with the default cost: %s", h)
	}
	if !CheckPassword(h, "correct horse battery") {
		t.Fatal("right password rejected")
	}
	if CheckPassword(h, "correct horse batterY") {
		t.Fatal("wrong password accepted")
	}
	h2, _ := hashWith("correct horse battery", defaultCost)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	parts := strings.Split(h, "$")
	for _, bad := range []string{
		"", "plain", strings.Replace(h, "argon2id", "argon2i", 1),
		strings.Replace(h, "v=19", "v=16", 1),
		strings.Replace(h, "m=65536", "m=99999999", 1), // beyond the memory bound
		strings.Join(parts[:5], "$"),
		strings.Join(append(parts[:5:5], "!!!"), "$"),
	} {
		if CheckPassword(bad, "correct horse battery") {
			t.Errorf("malformed hash %q accepted", bad)
		}
	}
}

func TestCreateUser(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		u := mustCreate(t, d, User{Email: "  Ann.Lee@Example.COM ", Name: " Ann Lee ", Role: RoleAgent,
			Teams: []string{"logistics", "escalations", "logistics", " "}, Markets: []string{"GB", "DE"}, Languages: []string{"en"}}, "long enough pw")
		if u.ID == 0 || u.Email != "ann.lee@example.com" || u.Name != "Ann Lee" || u.Role != RoleAgent || !u.Active || !u.HasPassword {
			t.Fatalf("created user: %+v", u)
		}
		if !slices.Equal(u.Teams, []string{"escalations", "logistics"}) || !slices.Equal(u.Markets, []string{"GB", "DE"}) ||
			!slices.Equal(u.Languages, []string{"en"}) || !u.CreatedAt.Equal(t0) {
			t.Fatalf("created user lists/times: %+v", u)
		}
		got, err := UserByEmail(ctx, d, "ANN.LEE@example.com")
		if err != nil || got.ID != u.ID || !slices.Equal(got.Teams, u.Teams) {
			t.Fatalf("by email: %+v, %v", got, err)
		}
		if _, err := GetUser(ctx, d, 9999); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing user: %v", err)
		}
		if _, err := UserByEmail(ctx, d, "nobody@example.com"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing email: %v", err)
		}

		bad := []struct {
			u     User
			pw    string
			field string
		}{
			{User{Email: "ann.lee@EXAMPLE.com", Name: "Dup", Role: RoleAgent}, "", "email"},
			{User{Email: "not-an-email", Name: "X", Role: RoleAgent}, "", "email"},
			{User{Email: "Bob <bob@example.com>", Name: "X", Role: RoleAgent}, "", "email"},
			{User{Email: "", Name: "X", Role: RoleAgent}, "", "email"},
			{User{Email: "x@example.com", Name: "  ", Role: RoleAgent}, "", "name"},
			{User{Email: "x@example.com", Name: "X", Role: "boss"}, "", "role"},
			{User{Email: "x@example.com", Name: "X", Role: RoleAgent}, "short", "password"},
			{User{Email: "x@example.com", Name: "X", Role: RoleAgent}, "ninechars", "password"},
			{User{Email: "x@example.com", Name: "X", Role: RoleAgent}, strings.Repeat("x", 2000), "password"},
		}
		for _, b := range bad {
			err := d.InTx(ctx, func(tx *db.Tx) error {
				_, err := CreateUser(ctx, tx, t0, b.u, b.pw)
				return err
			})
			wantInvalid(t, err, b.field)
		}
		// "ninechars" + one multi-byte character is 10 characters.
		v := mustCreate(t, d, User{Email: "v@example.com", Name: "V", Role: RoleViewer}, "ninecharsé")
		nopw := mustCreate(t, d, User{Email: "nopw@example.com", Name: "No Pw", Role: RoleViewer}, "")
		if !v.HasPassword || nopw.HasPassword || len(nopw.Teams) != 0 {
			t.Fatalf("password flags: %+v %+v", v, nopw)
		}
		users, err := ListUsers(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		var emails []string
		for _, u := range users {
			emails = append(emails, u.Email)
		}
		if !slices.Equal(emails, []string{"ann.lee@example.com", "nopw@example.com", "v@example.com"}) ||
			!slices.Equal(users[0].Teams, []string{"escalations", "logistics"}) {
			t.Fatalf("list: %v / %+v", emails, users[0])
		}
	})
}

func TestUpsertUserAndTeams(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ann := mustCreate(t, d, User{Email: "ann@example.com", Name: "Ann", Role: RoleAgent, Teams: []string{"payments"}}, "long enough pw")
		t1 := t0.Add(time.Hour)
		var id int64
		var created bool
		inTx(t, d, func(tx *db.Tx) (err error) {
			if _, err := DeactivateUsersExcept(ctx, tx, t0, nil); err != nil {
				return err
			}
			id, created, err = UpsertUser(ctx, tx, t1, User{Email: "ANN@example.com", Name: "Ann Lee", Role: RoleLead,
				Markets: []string{"FR"}, Languages: []string{"fr", "en"}, Teams: []string{"ignored"}})
			return err
		})
		if id != ann.ID || created {
			t.Fatalf("upsert existing: id %d created %v", id, created)
		}
		got, err := GetUser(ctx, d, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Ann Lee" || got.Role != RoleLead || !got.Active || !got.HasPassword || !got.UpdatedAt.Equal(t1) ||
			!got.CreatedAt.Equal(t0) || !slices.Equal(got.Markets, []string{"FR"}) || !slices.Equal(got.Teams, []string{"payments"}) {
			t.Fatalf("after upsert: %+v", got)
		}
		if _, err := Authenticate(ctx, d, "ann@example.com", "long enough pw"); err != nil {
			t.Fatalf("upsert broke the password: %v", err)
		}
		var bob int64
		inTx(t, d, func(tx *db.Tx) (err error) {
			bob, created, err = UpsertUser(ctx, tx, t1, User{Email: "bob@example.com", Name: "Bob", Role: RoleQA})
			return err
		})
		if !created || bob == 0 || bob == ann.ID {
			t.Fatalf("upsert new: id %d created %v", bob, created)
		}
		err = d.InTx(ctx, func(tx *db.Tx) error {
			_, _, err := UpsertUser(ctx, tx, t1, User{Email: "bob@example.com", Name: "Bob", Role: "root"})
			return err
		})
		wantInvalid(t, err, "role")

		inTx(t, d, func(tx *db.Tx) error {
			if err := SetUserTeams(ctx, tx, ann.ID, []string{"logistics", "escalations"}); err != nil {
				return err
			}
			return SetTeamMembers(ctx, tx, "qa-team", []int64{bob, ann.ID, bob})
		})
		ann, _ = GetUser(ctx, d, ann.ID)
		b, _ := GetUser(ctx, d, bob)
		if !slices.Equal(ann.Teams, []string{"escalations", "logistics", "qa-team"}) || !slices.Equal(b.Teams, []string{"qa-team"}) {
			t.Fatalf("teams: ann %v, bob %v", ann.Teams, b.Teams)
		}
		inTx(t, d, func(tx *db.Tx) error { return SetTeamMembers(ctx, tx, "qa-team", []int64{bob}) })
		ann, _ = GetUser(ctx, d, ann.ID)
		if slices.Contains(ann.Teams, "qa-team") {
			t.Fatalf("SetTeamMembers kept a removed member: %v", ann.Teams)
		}
		for _, fn := range []func(tx *db.Tx) error{
			func(tx *db.Tx) error { return SetUserTeams(ctx, tx, 9999, []string{"x"}) },
			func(tx *db.Tx) error { return SetTeamMembers(ctx, tx, "x", []int64{9999}) },
		} {
			if err := d.InTx(ctx, fn); !errors.Is(err, ErrNotFound) {
				t.Errorf("unknown user: %v", err)
			}
		}

		var gone []string
		inTx(t, d, func(tx *db.Tx) (err error) {
			gone, err = DeactivateUsersExcept(ctx, tx, t1, []string{"BOB@example.com"})
			return err
		})
		if !slices.Equal(gone, []string{"ann@example.com"}) {
			t.Fatalf("deactivated %v", gone)
		}
		if ann, _ = GetUser(ctx, d, ann.ID); ann.Active {
			t.Fatal("ann still active")
		}
		inTx(t, d, func(tx *db.Tx) (err error) {
			gone, err = DeactivateUsersExcept(ctx, tx, t1, []string{"bob@example.com"})
			return err
		})
		if len(gone) != 0 {
			t.Fatalf("already inactive users reported again: %v", gone)
		}
	})
}

func TestAuthenticate(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ann := mustCreate(t, d, User{Email: "ann@example.com", Name: "Ann", Role: RoleAgent}, "first password")
		mustCreate(t, d, User{Email: "nopw@example.com", Name: "No Pw", Role: RoleAgent}, "")
		mustCreate(t, d, User{Email: "gone@example.com", Name: "Gone", Role: RoleAgent}, "gone password")
		inTx(t, d, func(tx *db.Tx) error {
			_, err := DeactivateUsersExcept(ctx, tx, t0, []string{"ann@example.com", "nopw@example.com"})
			return err
		})
		u, err := Authenticate(ctx, d, " ANN@example.com", "first password")
		if err != nil || u.ID != ann.ID {
			t.Fatalf("good login: %+v %v", u, err)
		}
		for _, c := range [][2]string{
			{"ann@example.com", "wrong password"},
			{"ann@example.com", ""},
			{"nobody@example.com", "first password"},
			{"nopw@example.com", ""},
			{"nopw@example.com", "anything at all"},
			{"gone@example.com", "gone password"},
		} {
			if _, err := Authenticate(ctx, d, c[0], c[1]); !errors.Is(err, ErrUnauthenticated) {
				t.Errorf("login %q/%q: want ErrUnauthenticated, got %v", c[0], c[1], err)
			}
		}
		inTx(t, d, func(tx *db.Tx) error { return SetPassword(ctx, tx, t0, ann.ID, "second password") })
		if _, err := Authenticate(ctx, d, "ann@example.com", "first password"); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("old password still works: %v", err)
		}
		if _, err := Authenticate(ctx, d, "ann@example.com", "second password"); err != nil {
			t.Fatalf("new password: %v", err)
		}
		err = d.InTx(ctx, func(tx *db.Tx) error { return SetPassword(ctx, tx, t0, ann.ID, "short") })
		wantInvalid(t, err, "password")
		if err := d.InTx(ctx, func(tx *db.Tx) error { return SetPassword(ctx, tx, t0, 9999, "long enough pw") }); !errors.Is(err, ErrNotFound) {
			t.Fatalf("set password of unknown user: %v", err)
		}
	})
}

func TestSessions(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ann := mustCreate(t, d, User{Email: "ann@example.com", Name: "Ann", Role: RoleLead, Teams: []string{"payments"}, Markets: []string{"GB"}}, "")
		newSession := func(at time.Time) string {
			var tok string
			inTx(t, d, func(tx *db.Tx) (err error) {
				tok, err = CreateSession(ctx, tx, at, ann.ID)
				return err
			})
			return tok
		}
		alive := func(tok string, at time.Time) bool {
			t.Helper()
			a, err := SessionActor(ctx, d, at, tok)
			if errors.Is(err, ErrUnauthenticated) {
				return false
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.UserID != ann.ID || a.Role != RoleLead || !slices.Equal(a.Teams, []string{"payments"}) || !slices.Equal(a.Markets, []string{"GB"}) {
				t.Fatalf("session actor: %+v", a)
			}
			return true
		}

		tok := newSession(t0)
		var stored int
		if err := d.QueryRow(ctx, `SELECT COUNT(*) FROM sessions WHERE token_hash = ?`, tok).Scan(&stored); err != nil || stored != 0 {
			t.Fatalf("raw token stored (%d, %v)", stored, err)
		}
		if !alive(tok, t0) || alive(tok+"x", t0) || alive("", t0) || alive(strings.Repeat("A", len(tok)), t0) {
			t.Fatal("token lookup wrong")
		}
		// Idle: unused for exactly the idle timeout ends the session.
		if !alive(tok, t0.Add(SessionIdleTimeout-time.Second)) {
			t.Fatal("session died before the idle timeout")
		}
		idle := newSession(t0)
		if alive(idle, t0.Add(SessionIdleTimeout)) {
			t.Fatal("idle session still alive")
		}
		// Sliding: use every 11 hours keeps it alive…
		at := t0.Add(SessionIdleTimeout - time.Second)
		for at.Add(11 * time.Hour).Before(t0.Add(SessionMaxAge)) {
			at = at.Add(11 * time.Hour)
			if !alive(tok, at) {
				t.Fatalf("used session died at %v", at.Sub(t0))
			}
		}
		// …but never past the absolute maximum.
		if alive(tok, t0.Add(SessionMaxAge)) {
			t.Fatal("session outlived its absolute maximum")
		}
		var exp db.Time
		if err := d.QueryRow(ctx, `SELECT expires_at FROM sessions WHERE token_hash = ?`, secretHash(tok)).Scan(&exp); err != nil {
			t.Fatal(err)
		}
		if !exp.Equal(t0.Add(SessionMaxAge)) {
			t.Fatalf("expiry not capped at the absolute maximum: %v", exp.Sub(t0))
		}

		// Touches are written at most once a minute.
		fresh := newSession(t0)
		lastSeen := func() time.Time {
			var ls db.Time
			if err := d.QueryRow(ctx, `SELECT last_seen_at FROM sessions WHERE token_hash = ?`, secretHash(fresh)).Scan(&ls); err != nil {
				t.Fatal(err)
			}
			return ls.Time
		}
		alive(fresh, t0.Add(30*time.Second))
		if !lastSeen().Equal(t0) {
			t.Fatalf("touched within a minute: %v", lastSeen())
		}
		alive(fresh, t0.Add(2*time.Minute))
		if !lastSeen().Equal(t0.Add(2 * time.Minute)) {
			t.Fatalf("not touched after a minute: %v", lastSeen())
		}

		// Inactive users lose their sessions at once.
		inTx(t, d, func(tx *db.Tx) error { _, err := DeactivateUsersExcept(ctx, tx, t0, nil); return err })
		if alive(fresh, t0.Add(3*time.Minute)) {
			t.Fatal("session of an inactive user accepted")
		}
		inTx(t, d, func(tx *db.Tx) error {
			_, _, err := UpsertUser(ctx, tx, t0, User{Email: ann.Email, Name: "Ann", Role: RoleLead, Markets: []string{"GB"}})
			return err
		})
		if !alive(fresh, t0.Add(3*time.Minute)) {
			t.Fatal("session of a re-activated user rejected")
		}

		inTx(t, d, func(tx *db.Tx) error { return DeleteSession(ctx, tx, fresh) })
		if alive(fresh, t0.Add(3*time.Minute)) {
			t.Fatal("deleted session accepted")
		}
		// Left: tok (expires t0+7d), idle (t0+12h). At t0+1d only idle has expired.
		var n int64
		inTx(t, d, func(tx *db.Tx) (err error) { n, err = DeleteExpiredSessions(ctx, tx, t0.Add(24*time.Hour)); return err })
		if n != 1 {
			t.Fatalf("deleted %d expired sessions, want 1", n)
		}
		inTx(t, d, func(tx *db.Tx) (err error) {
			n, err = DeleteExpiredSessions(ctx, tx, t0.Add(SessionMaxAge))
			return err
		})
		if n != 1 {
			t.Fatalf("deleted %d expired sessions at the max age, want 1", n)
		}
		if err := d.InTx(ctx, func(tx *db.Tx) error { _, err := CreateSession(ctx, tx, t0, 9999); return err }); !errors.Is(err, ErrNotFound) {
			t.Fatalf("session for unknown user: %v", err)
		}
	})
}

func TestTokens(t *testing.T) {
	dbtest.Each(t, nil, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ann := mustCreate(t, d, User{Email: "ann@example.com", Name: "Ann", Role: RoleAgent, Teams: []string{"logistics"}}, "")
		bob := mustCreate(t, d, User{Email: "bob@example.com", Name: "Bob", Role: RoleViewer}, "")
		var tokA, tokB string
		var idA, idB int64
		inTx(t, d, func(tx *db.Tx) (err error) {
			if tokA, idA, err = CreateToken(ctx, tx, t0, ann.ID, " ci "); err != nil {
				return err
			}
			tokB, idB, err = CreateToken(ctx, tx, t0, bob.ID, "")
			return err
		})
		if !strings.HasPrefix(tokA, "flr_") || len(tokA) != 4+43 || tokA == tokB || idA == idB {
			t.Fatalf("tokens %q %q ids %d %d", tokA, tokB, idA, idB)
		}
		var name, hash string
		if err := d.QueryRow(ctx, `SELECT name, token_hash FROM api_tokens WHERE id = ?`, idA).Scan(&name, &hash); err != nil {
			t.Fatal(err)
		}
		if name != "ci" || hash == tokA || hash != secretHash(tokA) {
			t.Fatalf("stored name %q hash %q", name, hash)
		}
		a, err := TokenActor(ctx, d, tokA)
		if err != nil || a.UserID != ann.ID || a.TokenID != idA || a.Email != "ann@example.com" || a.Role != RoleAgent || !slices.Equal(a.Teams, []string{"logistics"}) {
			t.Fatalf("token actor: %+v %v", a, err)
		}
		for _, bad := range []string{"", "flr_", tokA[4:], "xyz_" + tokA[4:], tokA[:len(tokA)-1] + "A", tokA + "A"} {
			if bad == tokA {
				continue
			}
			if _, err := TokenActor(ctx, d, bad); !errors.Is(err, ErrUnauthenticated) {
				t.Errorf("token %q: %v", bad, err)
			}
		}
		inTx(t, d, func(tx *db.Tx) error { return RevokeToken(ctx, tx, t0.Add(time.Hour), idA) })
		inTx(t, d, func(tx *db.Tx) error { return RevokeToken(ctx, tx, t0.Add(2*time.Hour), idA) }) // idempotent
		var revoked db.Time
		if err := d.QueryRow(ctx, `SELECT revoked_at FROM api_tokens WHERE id = ?`, idA).Scan(&revoked); err != nil || !revoked.Equal(t0.Add(time.Hour)) {
			t.Fatalf("revoked_at %v, %v", revoked.Time, err)
		}
		if _, err := TokenActor(ctx, d, tokA); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("revoked token: %v", err)
		}
		if _, err := TokenActor(ctx, d, tokB); err != nil {
			t.Fatalf("revoking one token broke another: %v", err)
		}
		if err := d.InTx(ctx, func(tx *db.Tx) error { return RevokeToken(ctx, tx, t0, 9999) }); !errors.Is(err, ErrNotFound) {
			t.Fatalf("revoke unknown: %v", err)
		}
		inTx(t, d, func(tx *db.Tx) error {
			_, err := DeactivateUsersExcept(ctx, tx, t0, []string{"ann@example.com"})
			return err
		})
		if _, err := TokenActor(ctx, d, tokB); !errors.Is(err, ErrUnauthenticated) {
			t.Fatalf("token of inactive user: %v", err)
		}
		err = d.InTx(ctx, func(tx *db.Tx) error {
			_, _, err := CreateToken(ctx, tx, t0, ann.ID, strings.Repeat("n", 101))
			return err
		})
		wantInvalid(t, err, "name")
		if err := d.InTx(ctx, func(tx *db.Tx) error { _, _, err := CreateToken(ctx, tx, t0, 9999, "x"); return err }); !errors.Is(err, ErrNotFound) {
			t.Fatalf("token for unknown user: %v", err)
		}
	})
}

func TestActorFor(t *testing.T) {
	u := User{ID: 3, Email: "a@example.com", Name: "A", Role: RoleQA, Teams: []string{"t"}, Markets: []string{"DE"}}
	a := ActorFor(u)
	if a.UserID != 3 || a.Email != u.Email || a.Name != "A" || a.Role != RoleQA || !a.InTeam("t") || !a.CoversMarket("DE") || a.CoversMarket("FR") || a.IsSystem() {
		t.Fatalf("%+v", a)
	}
}
