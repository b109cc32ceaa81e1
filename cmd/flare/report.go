package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"time"

	"github.com/flare-desk/flare/internal/sla"
	"github.com/flare-desk/flare/internal/staffing"
)

// cmdReport runs the report commands: staffing (Erlang C), pack (report_pack.go).
func cmdReport(ctx context.Context, sub string, args []string, stdout io.Writer, log *slog.Logger) error {
	if sub == "pack" {
		return cmdReportPack(ctx, args, stdout, log)
	}
	if sub != "staffing" {
		return usageError{fmt.Sprintf("unknown command %q", joinArgs("report", sub))}
	}
	return cmdStaffing(args, stdout)
}

// cmdStaffing answers with N agents, what service level and average speed
// of answer; or, given a service level, how many agents.
func cmdStaffing(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("report staffing", flag.ContinueOnError)
	fs.SetOutput(stdout)
	contacts := fs.Float64("contacts", -1, "contacts arriving in each period")
	period := fs.String("period", "30m", "the period the contacts arrive in (30m, 1h)")
	aht := fs.String("aht", "", "average handling time per contact (180s, 4m)")
	target := fs.String("target", "", "the answer-time target (20s)")
	agents := fs.Int("agents", 0, "agents answering: print their service level and ASA")
	level := fs.Float64("service-level", 0, "the share to answer within the target (0.8): print the agents needed")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	durations := map[string]*time.Duration{}
	for name, s := range map[string]string{"period": *period, "aht": *aht, "target": *target} {
		d, err := sla.ParseDuration(s)
		if err != nil || (d <= 0 && name != "target") || d < 0 {
			return usageError{fmt.Sprintf("--%s: want a duration such as 30m, 180s or 20s, got %q", name, s)}
		}
		durations[name] = &d
	}
	if *contacts < 0 || math.IsNaN(*contacts) || math.IsInf(*contacts, 0) {
		return usageError{"--contacts: want the number of contacts per period (0 or more)"}
	}
	if (*agents > 0) == (*level > 0) {
		return usageError{"give either --agents N (the service level N agents give) or --service-level 0.8 (the agents needed)"}
	}
	l := staffing.Load{Contacts: *contacts, Period: *durations["period"], AHT: *durations["aht"]}
	var out staffing.Outcome
	var err error
	if *agents > 0 {
		out, err = staffing.Evaluate(l, *agents, *durations["target"])
	} else {
		out, err = staffing.Needed(l, *level, *durations["target"])
	}
	if err != nil {
		return usageError{err.Error()}
	}
	fmt.Fprintf(stdout, "traffic=%.2f erlangs occupancy=%.4f wait_probability=%.4f (asa in seconds)\n", out.Erlangs, out.Occupancy, out.WaitChance)
	asa := fmt.Sprintf("%.2f", out.ASA.Seconds()) // seconds
	if *agents > 0 {
		fmt.Fprintf(stdout, "service_level=%.4f asa=%s\n", out.ServiceLevel, asa)
	} else {
		fmt.Fprintf(stdout, "agents=%d service_level=%.4f asa=%s\n", out.Agents, out.ServiceLevel, asa)
	}
	return nil
}
