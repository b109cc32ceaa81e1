package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"text/tabwriter"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/reports"
)

// cmdDeskImpact answers what a proposed desk document would have done to
// the last days' cases, beside today's: it reads and never writes.
func cmdDeskImpact(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs, dbURL := newFlags("desk impact", stdout)
	days := fs.Int("days", 30, "replay the cases created in the last N days")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"desk impact needs one FILE: the proposed desk document"}
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return fmt.Errorf("read desk file: %w", err)
	}
	schema, err := app.DeskSchema()
	if err != nil {
		return err
	}
	proposed, err := schema.Parse(data)
	if err == nil {
		if errs := schema.Validate(proposed); len(errs) > 0 {
			err = &apperr.Invalid{Errors: errs}
		}
	}
	var ve *apperr.Invalid
	if errors.As(err, &ve) {
		for _, e := range ve.Errors {
			fmt.Fprintf(stdout, "%s: %s\n", e.Field, e.Message)
		}
		return fmt.Errorf("%s: %d problem(s)", pos[0], len(ve.Errors))
	} else if err != nil {
		return err
	}
	a, err := openApp(ctx, *dbURL, false, log)
	if err != nil {
		return err
	}
	defer a.DB.Close()
	im, err := a.Reports.Impact(ctx, auth.System("cli"), proposed, *days)
	if err != nil {
		if errors.As(err, &ve) {
			return usageError{err.Error()}
		}
		return err
	}
	writeImpact(stdout, im)
	return nil
}

// writeImpact prints the comparison as tables: today → proposed.
func writeImpact(w io.Writer, im *reports.Impact) {
	fmt.Fprintf(w, "What-if over the %d cases created in the last %d days (today → proposed; nothing was written)\n\n", im.Cases, im.Days)
	metrics := []string{"first_response", "next_response", "resolution"}
	att := func(s map[string]reports.Share, m string) string {
		if v, ok := s[m]; ok && v.Of > 0 {
			return fmt.Sprintf("%.1f%%", 100*v.Rate)
		}
		return "–"
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "desk\tfirst response\tnext response\tresolution\tbreaches")
	row := func(name string, a, b map[string]reports.Share, ba, bb map[string]int) {
		fmt.Fprintf(tw, "%s", name)
		for _, m := range metrics {
			fmt.Fprintf(tw, "\t%s → %s", att(a, m), att(b, m))
		}
		fmt.Fprintf(tw, "\t%d → %d\n", sum(ba), sum(bb))
	}
	row("all", im.Current.SLA, im.Proposed.SLA, im.Current.Breaches, im.Proposed.Breaches)
	tw.Flush()
	for _, part := range []struct {
		title  string
		cur, p []reports.Group
	}{{"team", im.Current.ByTeam, im.Proposed.ByTeam}, {"market", im.Current.ByMarket, im.Proposed.ByMarket}} {
		fmt.Fprintf(w, "\nby %s\n", part.title)
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "%s\tcases\topen (load)\tfirst response\tresolution\tbreaches\n", part.title)
		for _, k := range groupKeys(part.cur, part.p) {
			a, b := find(part.cur, k), find(part.p, k)
			fmt.Fprintf(tw, "%s\t%d → %d\t%d → %d\t%s → %s\t%s → %s\t%d → %d\n", k, a.Cases, b.Cases, a.Open, b.Open,
				att(a.SLA, "first_response"), att(b.SLA, "first_response"), att(a.SLA, "resolution"), att(b.SLA, "resolution"),
				sum(a.Breaches), sum(b.Breaches))
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "\n%d cases would change team, %d priority\n", im.ChangedTeam, im.ChangedPriority)
	moves := make([]string, 0, len(im.Moves))
	for m := range im.Moves {
		moves = append(moves, m)
	}
	slices.Sort(moves)
	for _, m := range moves {
		fmt.Fprintf(w, "  %s: %d\n", m, im.Moves[m])
	}
	fmt.Fprintf(w, "changed_team=%d changed_priority=%d breaches=%d→%d\n", im.ChangedTeam, im.ChangedPriority,
		sum(im.Current.Breaches), sum(im.Proposed.Breaches))
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func groupKeys(a, b []reports.Group) []string {
	var keys []string
	for _, g := range append(slices.Clone(a), b...) {
		if !slices.Contains(keys, g.Key) {
			keys = append(keys, g.Key)
		}
	}
	slices.Sort(keys)
	return keys
}

func find(gs []reports.Group, key string) reports.Group {
	for _, g := range gs {
		if g.Key == key {
			return g
		}
	}
	return reports.Group{Key: key}
}
