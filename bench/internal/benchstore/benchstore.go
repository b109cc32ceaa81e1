// Package benchstore opens scratch stores for the benchmarks.
package benchstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

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

// OpenFilled opens the SQLite store file path, migrated, for a benchmark
// that keeps it across runs. filled reports whether it holds a finished
// fill of recipe: the caller fills it when not, then calls MarkFilled. A
// file without the mark is an interrupted fill and is started again; one
// filled by another recipe is an error rather than silently different
// figures. Migrating a kept store applies the migrations added since.
func OpenFilled(ctx context.Context, path, recipe string) (d *db.DB, filled bool, err error) {
	got, err := os.ReadFile(path + ".fill")
	switch {
	case err == nil && string(got) != recipe:
		return nil, false, fmt.Errorf("benchstore: %s was filled as %q, not %q: remove it or name another file", path, got, recipe)
	case err == nil:
		filled = true
	case errors.Is(err, os.ErrNotExist):
		for _, f := range []string{path, path + "-wal", path + "-shm"} {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, false, fmt.Errorf("benchstore: %w", err)
			}
		}
	default:
		return nil, false, fmt.Errorf("benchstore: %w", err)
	}
	d, err = db.Open(ctx, "sqlite:"+path)
	if err != nil {
		return nil, false, err
	}
	if err := app.Migrate(ctx, d); err != nil {
		d.Close()
		return nil, false, err
	}
	return d, filled, nil
}

// OpenStore is the store of a benchmark that may keep its fill: with path,
// the kept SQLite file of recipe (OpenFilled; filled reports that it holds
// the fill); without, a scratch store of which (Open). done marks a fresh
// fill of a kept store as finished; cleanup closes the store.
func OpenStore(ctx context.Context, which, path, recipe string) (d *db.DB, filled bool, done func() error, cleanup func(), err error) {
	if path == "" {
		d, cleanup, err = Open(ctx, which)
		return d, false, func() error { return nil }, cleanup, err
	}
	if which != "sqlite" {
		return nil, false, nil, nil, fmt.Errorf("benchstore: a kept store is a SQLite file; %q has none", which)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, false, nil, nil, fmt.Errorf("benchstore: %w", err)
	}
	if d, filled, err = OpenFilled(ctx, path, recipe); err != nil {
		return nil, false, nil, nil, err
	}
	return d, filled, func() error { return MarkFilled(path, recipe) }, func() { d.Close() }, nil
}

// MarkFilled records that path holds a finished fill of recipe.
func MarkFilled(path, recipe string) error {
	if err := os.WriteFile(path+".fill", []byte(recipe), 0o644); err != nil {
		return fmt.Errorf("benchstore: %w", err)
	}
	return nil
}

// CPUTime is the user and system CPU time this process has used: beside
// wall-clock figures on a shared machine, the code's own cost.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// LoadAvg is the machine's load averages (Linux /proc/loadavg), for the record.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// CPUProfile starts a CPU profile written to path, if path is not empty;
// the returned stop ends it.
func CPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("benchstore: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("benchstore: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
