package db

import (
	"context"

	"github.com/flare-desk/flare/internal/clock"
)

// OpenSQLiteOn opens the SQLite store at path with its background
// checkpointer on c, so that a test drives it with a fake clock.
func OpenSQLiteOn(ctx context.Context, path string, c clock.Clock) (*DB, error) {
	return openSQLite(ctx, "sqlite:"+path, path, c)
}
