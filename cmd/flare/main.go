// Command flare is Flare's single binary: the server, the demo desk and the
// admin CLI.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // business hours must work on machines without a zoneinfo database

	"github.com/flare-desk/flare/internal/app"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `flare — escalation and emergency-response desk

Usage:
  flare serve   [--addr 127.0.0.1:8080] [--db sqlite:flare.db] [--base-url URL]
  flare demo    [--addr 127.0.0.1:8080] [--db URL] [--seed 1] [--cases 1000]
  flare migrate [--db URL]
  flare user add --email E --name N --role R [--team T]... [--market M]... [--password-stdin]
  flare user passwd --email E            (reads the new password from stdin)
  flare token create --email E [--name N] (prints the token on the last line)
  flare desk apply FILE [--dry-run]
  flare desk export [--out FILE]
  flare desk impact FILE [--days 30]    (what FILE would have done to the last days' cases; writes nothing)
  flare sla due --calendar KEY --from RFC3339 --add DURATION   (due instant, UTC, on the last line)
  flare sla between --calendar KEY --from RFC3339 --to RFC3339
                                   (durations and ranges: at most 3660d)
  flare audit verify
  flare import cases FILE [--dry-run] [--partial] [--max-rows N]   (CSV; - for stdin)
  flare report staffing --contacts N --period 30m --aht 180s --target 20s (--agents N | --service-level 0.8)
                                   (Erlang C: service_level=… asa=… on the last line)
  flare report pack --cadence weekly|biweekly|monthly|KEY --period 2026-W47|2026-11 [--format html|csv|pdf|json] [-o FILE]
  flare detect nab-run --data DIR --out DIR | nab-score --results DIR --labels FILE [--thresholds FILE]
  flare classify eval --train FILE --test FILE | cv --data FILE [--folds 5] | split --data FILE --train-out F --test-out F
  flare version

Every command accepts --db (or FLARE_DB); serve and demo accept --addr (FLARE_ADDR),
--base-url (FLARE_BASE_URL) and the request bounds --rate-limit-ip, --rate-limit-token,
--request-timeout, --trusted-proxies, --access-log, --login-concurrency (flare serve -h).
Roles: admin, lead, agent, account_manager, qa, viewer.
`

func main() {
	app.SetRuntimeDefaults()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, errHelp) {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(os.Stderr, "flare: %v\n\n%s", err, usage)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "flare: %v\n", err)
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// run dispatches a command line; tests call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return nil
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel()}))
	cmd, rest := args[0], args[1:]
	sub := ""
	if len(rest) > 0 && (cmd == "user" || cmd == "token" || cmd == "desk" || cmd == "audit" || cmd == "sla" || cmd == "report" || cmd == "import") {
		sub, rest = rest[0], rest[1:]
	}
	switch cmd + " " + sub {
	case "serve ":
		return cmdServe(ctx, rest, stdout, log)
	case "demo ":
		return cmdDemo(ctx, rest, stdout, log)
	case "migrate ":
		return cmdMigrate(ctx, rest, stdout, log)
	case "user add":
		return cmdUserAdd(ctx, rest, stdin, stdout, log)
	case "user passwd":
		return cmdUserPasswd(ctx, rest, stdin, stdout, log)
	case "token create":
		return cmdTokenCreate(ctx, rest, stdout, log)
	case "desk apply":
		return cmdDeskApply(ctx, rest, stdin, stdout, log)
	case "desk export":
		return cmdDeskExport(ctx, rest, stdout, log)
	case "desk impact":
		return cmdDeskImpact(ctx, rest, stdout, log)
	case "sla due", "sla between":
		return cmdSLA(ctx, sub, rest, stdout, log)
	case "audit verify":
		return cmdAuditVerify(ctx, rest, stdout, log)
	case "import cases":
		return cmdImportCases(ctx, rest, stdin, stdout, log) // import.go
	case "report staffing", "report pack":
		return cmdReport(ctx, sub, rest, stdout, log)
	case "detect ", "classify ":
		return cmdAnalytics(ctx, cmd, rest, stdout)
	case "version ", "--version ":
		fmt.Fprintln(stdout, "flare", version)
		return nil
	case "help ", "-h ", "--help ":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q", joinArgs(cmd, sub))}
}

func joinArgs(a, b string) string {
	if b == "" {
		return a
	}
	return a + " " + b
}

func logLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(os.Getenv("FLARE_LOG_LEVEL"))); err != nil {
		return slog.LevelInfo
	}
	return l
}

// envOr returns the environment variable's value, or def.
func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// newFlags starts a command's flag set with the flags every command shares.
func newFlags(name string, stdout io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	dbURL := fs.String("db", envOr("FLARE_DB", "sqlite:flare.db"), "database: sqlite:PATH or postgres://… (FLARE_DB)")
	return fs, dbURL
}

// parse parses flags that may come before or after positional arguments
// ("desk apply FILE --db …") and returns the positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// errHelp ends a command after its flags' help was printed.
var errHelp = errors.New("help shown")

// parseNone parses flags of a command that takes no positional arguments.
func parseNone(fs *flag.FlagSet, args []string) error {
	pos, err := parse(fs, args)
	if err == nil && len(pos) > 0 {
		return usageError{fmt.Sprintf("%s takes no argument %q", fs.Name(), pos[0])}
	}
	return err
}
