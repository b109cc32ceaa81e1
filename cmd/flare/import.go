package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/intake/csvimport"
)

// cmdImportCases is `flare import cases FILE [--dry-run] [--partial]`:
// the CSV import of internal/intake/csvimport, as the system (an admin).
// Every bad row is printed with its line; the command fails unless the
// file was imported (or, with --dry-run, is clean).
func cmdImportCases(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, log *slog.Logger) error {
	fs, dbURL := newFlags("import cases", stdout)
	dry := fs.Bool("dry-run", false, "validate every row, write nothing")
	partial := fs.Bool("partial", false, "import the good rows even when others are bad")
	maxRows := fs.Int("max-rows", csvimport.DefaultMaxRows, "refuse a file with more rows")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"import cases needs one FILE (- for stdin)"}
	}
	in := stdin
	if pos[0] != "-" {
		f, err := os.Open(pos[0])
		if err != nil {
			return fmt.Errorf("open %s: %w", pos[0], err)
		}
		defer f.Close()
		in = f
	}
	a, err := openApp(ctx, *dbURL, false, log)
	if err != nil {
		return err
	}
	defer a.DB.Close()
	rep, err := a.Import.Import(ctx, auth.System("import"), in, csvimport.Options{DryRun: *dry, Partial: *partial, MaxRows: *maxRows})
	var inv *apperr.Invalid
	if errors.As(err, &inv) {
		for _, e := range inv.Errors {
			fmt.Fprintln(stdout, e.Message)
		}
		return errors.New("the file cannot be imported")
	}
	if err != nil {
		return err
	}
	for _, e := range rep.Errors {
		fmt.Fprintln(stdout, e.String())
	}
	switch {
	case rep.DryRun:
		fmt.Fprintf(stdout, "checked %d rows: %d valid, %d bad; nothing written\n", rep.Rows, rep.Valid, len(rep.Errors))
	case rep.Imported || len(rep.Errors) == 0:
		fmt.Fprintf(stdout, "imported %d rows: %d cases created, %d seen before, %d bad\n", rep.Rows, rep.Created, rep.Duplicates, len(rep.Errors))
	default:
		fmt.Fprintf(stdout, "nothing imported: %d of %d rows are bad (fix them, or use --partial)\n", len(rep.Errors), rep.Rows)
	}
	if len(rep.Errors) > 0 && !rep.Imported {
		return fmt.Errorf("%d bad rows", len(rep.Errors))
	}
	return nil
}
