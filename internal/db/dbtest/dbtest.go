// Package dbtest gives store tests a fresh, migrated database on SQLite and,
// when FLARE_TEST_POSTGRES_URL is set, on PostgreSQL too.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/flare-desk/flare/internal/db"
)

// EnvPostgres names the variable holding the PostgreSQL server URL for tests.
const EnvPostgres = "FLARE_TEST_POSTGRES_URL"

// Setup migrates a new store; tests pass the application's migration step
// (schema and job queue), which dbtest cannot import.
type Setup func(ctx context.Context, d *db.DB) error

// Each runs fn as a subtest on every configured store: "sqlite" always and
// "postgres" when FLARE_TEST_POSTGRES_URL is set.
func Each(t *testing.T, setup Setup, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t, setup)) })
	if os.Getenv(EnvPostgres) != "" {
		t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t, setup)) })
	}
}

// EachURL runs fn as a subtest with the URL of a new, empty store on every
// configured database, for tests that hand the store to another process.
func EachURL(t *testing.T, fn func(t *testing.T, url string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, "sqlite:"+filepath.Join(t.TempDir(), "flare.db")) })
	if os.Getenv(EnvPostgres) != "" {
		t.Run("postgres", func(t *testing.T) { fn(t, PostgresURL(t)) })
	}
}

// SQLite returns a migrated store in a temporary file.
func SQLite(t testing.TB, setup Setup) *db.DB {
	t.Helper()
	return open(t, "sqlite:"+filepath.Join(t.TempDir(), "flare.db"), setup)
}

// Postgres returns a migrated store in a new database on the server named by
// FLARE_TEST_POSTGRES_URL, dropped when the test ends. It fails the test
// (never skips) when the server cannot be reached.
func Postgres(t testing.TB, setup Setup) *db.DB {
	t.Helper()
	return open(t, PostgresURL(t), setup)
}

// PostgresURL creates an empty database on the server named by
// FLARE_TEST_POSTGRES_URL, dropped when the test ends, and returns its URL.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Skip("FLARE_TEST_POSTGRES_URL is not set; PostgreSQL store tests are skipped")
	}
	ctx := context.Background()
	admin, err := db.Open(ctx, base)
	if err != nil {
		t.Fatalf("PostgreSQL from %s: %v", EnvPostgres, err)
	}
	defer admin.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "flare_test_" + hex.EncodeToString(b[:])
	if _, err := admin.W.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		a, err := db.Open(context.Background(), base)
		if err != nil {
			t.Errorf("drop test database: %v", err)
			return
		}
		defer a.Close()
		if _, err := a.W.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgres, err)
	}
	u.Path = "/" + name
	return u.String()
}

func open(t testing.TB, rawURL string, setup Setup) *db.DB {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, rawURL)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	if setup == nil {
		setup = db.Migrate
	}
	if err := setup(ctx, d); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return d
}
