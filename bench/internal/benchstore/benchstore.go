// Package benchstore opens scratch stores for the benchmarks.
package benchstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/db"
)

// Open returns a fresh, migrated store and its cleanup: "sqlite" makes a
// temporary file; a postgres:// URL names a server on which a scratch
// database is created and dropped afterwards.
func Open(ctx context.Context, which string) (*db.DB, func(), error) {
	if which == "sqlite" {
		dir, err := os.MkdirTemp("", "flare-bench-")
		if err != nil {
			return nil, nil, err
		}
		d, err := db.Open(ctx, "sqlite:"+filepath.Join(dir, "bench.db"))
		if err != nil {
			return nil, nil, err
		}
		return d, func() { d.Close(); os.RemoveAll(dir) }, app.Migrate(ctx, d)
	}
	admin, err := db.Open(ctx, which)
	if err != nil {
		return nil, nil, err
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "flare_bench_" + hex.EncodeToString(b[:])
	if _, err := admin.W.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, nil, err
	}
	u, _ := url.Parse(which)
	u.Path = "/" + name
	d, err := db.Open(ctx, u.String())
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() {
		d.Close()
		_, _ = admin.W.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close()
	}
	return d, cleanup, app.Migrate(ctx, d)
}

// OpenKept is Open for a store that outlives the run, so that one long fill
// serves every run: "sqlite" keeps the file at name (a path); a postgres://
// URL keeps the database flare_bench_<name> on that server. The store is
// created and migrated if missing, reused as it is otherwise; the cleanup
// only closes it.
func OpenKept(ctx context.Context, which, name string) (*db.DB, func(), error) {
	if which == "sqlite" {
		d, err := db.Open(ctx, "sqlite:"+name)
		if err != nil {
			return nil, nil, err
		}
		return d, func() { d.Close() }, app.Migrate(ctx, d)
	}
	if strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
		return nil, nil, fmt.Errorf("kept store %q: lower-case letters, digits and _ only", name)
	}
	admin, err := db.Open(ctx, which)
	if err != nil {
		return nil, nil, err
	}
	defer admin.Close()
	name = "flare_bench_" + name
	var exists bool
	if err := admin.W.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return nil, nil, err
	}
	if !exists {
		if _, err := admin.W.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			return nil, nil, err
		}
	}
	u, _ := url.Parse(which)
	u.Path = "/" + name
	d, err := db.Open(ctx, u.String())
	if err != nil {
		return nil, nil, err
	}
	return d, func() { d.Close() }, app.Migrate(ctx, d)
}
