package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/reviews"
)

// cmdReportPack builds a review pack by hand for a closed period and
// writes it to a file or stdout; it is not stored and not sent.
func cmdReportPack(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs, dbURL := newFlags("report pack", stdout)
	cadence := fs.String("cadence", "", "a review_packs cadence's key, or weekly, biweekly, monthly")
	period := fs.String("period", "", "the closed period: 2026-W47 (weekly, biweekly), 2026-11 (monthly)")
	format := fs.String("format", "", "html, csv, pdf or json (default: from the -o file's extension, else html)")
	out := fs.String("o", "", "write to this file (default: stdout)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("report pack takes no arguments, got %q", strings.Join(pos, " "))}
	}
	if *cadence == "" || *period == "" {
		return usageError{"report pack needs --cadence (weekly, biweekly, monthly or a cadence's key) and --period (2026-W47, 2026-11)"}
	}
	f := *format
	if f == "" {
		f = "html"
		for _, ext := range []string{"csv", "pdf", "json"} {
			if strings.HasSuffix(strings.ToLower(*out), "."+ext) {
				f = ext
			}
		}
	}
	if f != "html" && f != "csv" && f != "pdf" && f != "json" {
		return usageError{fmt.Sprintf("--format: want html, csv, pdf or json, got %q", f)}
	}
	a, err := openApp(ctx, *dbURL, false, log)
	if err != nil {
		return err
	}
	defer a.DB.Close()
	p, err := a.Reviews.Preview(ctx, auth.System("cli"), *cadence, *period)
	var inv *apperr.Invalid
	if errors.As(err, &inv) {
		return usageError{err.Error()}
	} else if err != nil {
		return err
	}
	var body []byte
	switch f {
	case "html":
		s, err := reviews.RenderHTML(p)
		if err != nil {
			return err
		}
		body = []byte(s)
	case "csv":
		var b strings.Builder
		if err := p.WriteCSV(&b); err != nil {
			return err
		}
		body = []byte(b.String())
	case "json":
		if body, err = json.MarshalIndent(p, "", "  "); err != nil {
			return err
		}
		body = append(body, '\n')
	case "pdf":
		if body, err = reviews.RenderPDF(ctx, p); err != nil {
			return err
		}
	}
	if *out == "" || *out == "-" {
		_, err := stdout.Write(body)
		return err
	}
	if err := os.WriteFile(*out, body, 0o644); err != nil {
		return fmt.Errorf("report pack: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s (%s, %d bytes): %s\n", *out, f, len(body), p.Title)
	return nil
}
