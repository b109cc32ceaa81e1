package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/app"
	"github.com/flare-desk/flare/internal/apperr"
	"github.com/flare-desk/flare/internal/audit"
	"github.com/flare-desk/flare/internal/auth"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/demo"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
	"github.com/flare-desk/flare/internal/limit"
	"github.com/flare-desk/flare/internal/sla"
	"github.com/flare-desk/flare/internal/web"
)

// openApp opens and migrates the store and builds the services.
func openApp(ctx context.Context, dbURL string, work bool, log *slog.Logger) (*app.App, error) {
	return openAppWith(ctx, dbURL, app.Options{Logger: log, Work: work})
}

// openAppWith is openApp with every option (serve, demo).
func openAppWith(ctx context.Context, dbURL string, opt app.Options) (*app.App, error) {
	d, err := db.Open(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	if err := app.Migrate(ctx, d); err != nil {
		d.Close()
		return nil, err
	}
	a, err := app.New(d, opt)
	if err != nil {
		d.Close()
		return nil, err
	}
	return a, nil
}

type serveFlags struct {
	addr, baseURL    *string
	rateIP           *float64
	rateToken        *float64
	requestTimeout   *time.Duration
	trustedProxies   *string
	accessLog        *string
	loginConcurrency *int
	eventsWebhook    *string
	eventsLease      *time.Duration
	envErrs          []error // environment values that did not parse

	mail *mailFlags // mail.go: email in and attachments
}

func addServeFlags(fs *flag.FlagSet) *serveFlags {
	sf := &serveFlags{}
	def := web.DefaultLimits()
	sf.addr = fs.String("addr", envOr("FLARE_ADDR", "127.0.0.1:8080"), "listen address (FLARE_ADDR)")
	sf.baseURL = fs.String("base-url", envOr("FLARE_BASE_URL", ""), "public URL of this server; https makes cookies Secure and sends HSTS (FLARE_BASE_URL)")
	sf.rateIP = fs.Float64("rate-limit-ip", envParse(sf, "FLARE_RATE_LIMIT_IP", def.PerIP.PerSecond, parseFloat),
		"requests per second per client address, bursts of twice that; 0 turns it off (FLARE_RATE_LIMIT_IP)")
	sf.rateToken = fs.Float64("rate-limit-token", envParse(sf, "FLARE_RATE_LIMIT_TOKEN", def.PerToken.PerSecond, parseFloat),
		"requests per second per API token, bursts of twice that; 0 turns it off (FLARE_RATE_LIMIT_TOKEN)")
	sf.requestTimeout = fs.Duration("request-timeout", envParse(sf, "FLARE_REQUEST_TIMEOUT", def.RequestTimeout, time.ParseDuration),
		"deadline of a request's handler; 0 turns it off (FLARE_REQUEST_TIMEOUT)")
	sf.trustedProxies = fs.String("trusted-proxies", envOr("FLARE_TRUSTED_PROXIES", ""),
		"reverse proxies (addresses, CIDR prefixes, comma-separated) whose X-Forwarded-For names the client (FLARE_TRUSTED_PROXIES)")
	sf.accessLog = fs.String("access-log", envOr("FLARE_ACCESS_LOG", "info"),
		"level of the per-request log lines (debug, info, warn) or off (FLARE_ACCESS_LOG)")
	sf.loginConcurrency = fs.Int("login-concurrency", envParse(sf, "FLARE_LOGIN_CONCURRENCY", 0, strconv.Atoi),
		"password hashes at once (64 MiB and two cores each); 0: one per two CPUs, at most 3 (FLARE_LOGIN_CONCURRENCY)")
	sf.eventsWebhook = fs.String("events-webhook", envOr("FLARE_EVENTS_WEBHOOK", ""),
		"URL to POST every domain event to, signed when FLARE_EVENTS_WEBHOOK_SECRET is set (FLARE_EVENTS_WEBHOOK)")
	sf.eventsLease = fs.Duration("events-lease", envParse(sf, "FLARE_EVENTS_LEASE", time.Minute, time.ParseDuration),
		"how long a node holds the events it is delivering before another may take them over (FLARE_EVENTS_LEASE)")
	sf.mail = addMailFlags(fs)
	return sf
}

// appOptions turns the flags into the app's options. The webhook's secret
// comes from the environment only: command lines are visible to every
// user of the machine.
func (sf *serveFlags) appOptions(log *slog.Logger) (app.Options, error) {
	opt := app.Options{Logger: log, Work: true}
	if *sf.eventsLease <= 0 {
		return opt, usageError{"--events-lease must be positive"}
	}
	opt.Events.Lease = *sf.eventsLease
	if err := sf.mail.apply(&opt); err != nil {
		return opt, err
	}
	if *sf.eventsWebhook != "" {
		opt.Webhook = events.WebhookOptions{URL: *sf.eventsWebhook, Secret: os.Getenv("FLARE_EVENTS_WEBHOOK_SECRET")}
		if _, err := events.NewWebhook(opt.Webhook, nil); err != nil {
			return opt, usageError{"--events-webhook: " + err.Error()}
		}
	}
	return opt, nil
}

func parseFloat(s string) (float64, error) { return strconv.ParseFloat(s, 64) }

// envParse returns the environment variable key parsed, or def when it is
// unset; a value that does not parse is reported by webOptions.
func envParse[T any](sf *serveFlags, key string, def T, parse func(string) (T, error)) T {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	x, err := parse(v)
	if err != nil {
		sf.envErrs = append(sf.envErrs, usageError{fmt.Sprintf("%s=%q: %v", key, v, err)})
		return def
	}
	return x
}

// webOptions turns the flags into the server's options.
func (sf *serveFlags) webOptions() (web.Options, error) {
	if err := errors.Join(sf.envErrs...); err != nil {
		return web.Options{}, err
	}
	opt := web.Options{BaseURL: *sf.baseURL, Version: version, LoginConcurrency: *sf.loginConcurrency, Live: true}
	if *sf.rateIP < 0 || *sf.rateToken < 0 || *sf.requestTimeout < 0 || *sf.loginConcurrency < 0 {
		return opt, usageError{"rate limits, --request-timeout and --login-concurrency cannot be negative"}
	}
	opt.Limits = &web.Limits{
		PerIP:          limit.Rate{PerSecond: *sf.rateIP, Burst: max(1, int(2**sf.rateIP))},
		PerToken:       limit.Rate{PerSecond: *sf.rateToken, Burst: max(1, int(2**sf.rateToken))},
		RequestTimeout: *sf.requestTimeout,
	}
	var err error
	if opt.TrustedProxies, err = web.ParseTrustedProxies(*sf.trustedProxies); err != nil {
		return opt, usageError{err.Error()}
	}
	if al := strings.ToLower(strings.TrimSpace(*sf.accessLog)); al != "off" && al != "none" {
		if err := opt.AccessLogLevel.UnmarshalText([]byte(al)); err != nil {
			return opt, usageError{fmt.Sprintf("--access-log %q: want debug, info, warn, error or off", *sf.accessLog)}
		}
		opt.AccessLog = true
	}
	return opt, nil
}

func cmdServe(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs, dbURL := newFlags("serve", stdout)
	sf := addServeFlags(fs)
	if err := parseNone(fs, args); err != nil {
		return err
	}
	opt, err := sf.webOptions()
	if err != nil {
		return err
	}
	aopt, err := sf.appOptions(log)
	if err != nil {
		return err
	}
	a, err := openAppWith(ctx, *dbURL, aopt)
	if err != nil {
		return err
	}
	defer a.DB.Close()
	return serve(ctx, a, *sf.addr, opt, func(url string) {
		log.Info("flare is serving", "url", url, "db", a.DB.Dialect().String(), "version", version)
	})
}

// serve runs the HTTP server and the job workers until ctx ends, then shuts
// down gracefully: in-flight requests finish, running jobs finish.
func serve(ctx context.Context, a *app.App, addr string, opt web.Options, ready func(url string)) error {
	return serveWith(ctx, a, addr, opt, ready, nil)
}

// serveWith is serve; with warmup, the server answers while warmup runs
// and the background loops and workers start only once it is done (the
// demo writes its history meanwhile, which the SLA timer must not fire on
// half-way).
func serveWith(ctx context.Context, a *app.App, addr string, opt web.Options, ready func(url string), warmup func(ctx context.Context) error) error {
	srv, err := web.New(a, opt)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	hs := srv.HTTPServer()
	if warmup == nil {
		if err := a.Start(ctx); err != nil {
			ln.Close()
			return err
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	url := opt.BaseURL
	if url == "" {
		url = "http://" + ln.Addr().String()
	}
	ready(url)
	shutdown := func(started bool) error {
		a.Log.Info("shutting down")
		shutCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		err := hs.Shutdown(shutCtx)
		if started {
			err = errors.Join(err, a.Stop(shutCtx))
		}
		return err
	}
	if warmup != nil {
		if err := warmup(ctx); err != nil {
			if ctx.Err() != nil { // stopped while warming up
				return shutdown(false)
			}
			return errors.Join(err, shutdown(false))
		}
		if err := a.Start(ctx); err != nil {
			return errors.Join(err, shutdown(false))
		}
	}
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	return shutdown(true)
}

func cmdDemo(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	start := time.Now()
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stdout)
	dbURL := fs.String("db", os.Getenv("FLARE_DB"), "database (default: a new temporary SQLite file)")
	sf := addServeFlags(fs)
	seed := fs.Int64("seed", 1, "seed of the demo desk generator")
	n := fs.Int("cases", demo.DefaultCases, "number of demo cases")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	opt, err := sf.webOptions()
	if err != nil {
		return err
	}
	aopt, err := sf.appOptions(log)
	if err != nil {
		return err
	}
	if *dbURL == "" {
		dir, err := os.MkdirTemp("", "flare-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*dbURL = "sqlite:" + filepath.Join(dir, "demo.db")
	}
	a, err := openAppWith(ctx, *dbURL, aopt)
	if err != nil {
		return err
	}
	defer a.DB.Close()
	p, err := demo.Prepare(ctx, a, demo.Options{Seed: *seed, Cases: *n, Portal: true, Mail: *sf.mail.smtpAddr != "", Showcase: true})
	if err != nil {
		return fmt.Errorf("demo desk: %w", err)
	}
	admin := p.Logins[0]
	return serveWith(ctx, a, *sf.addr, opt, func(url string) {
		fmt.Fprintf(stdout, "Flare is running at %s — loading the demo desk of %s (%d cases)…\n\nSign in as (password for all: %s):\n",
			url, demo.Company, p.Cases(), demo.Password)
		for _, l := range p.Logins {
			fmt.Fprintf(stdout, "  %-16s %s\n", l.Role, l.Email)
		}
		fmt.Fprintf(stdout, "\nAPI token for %s (%s). For the README's examples:\n  export FLARE=%s TOKEN=%s\n\n",
			admin.Email, admin.Role, url, admin.Token)
	}, func(ctx context.Context) error {
		if err := p.LoadCases(ctx); err != nil {
			return fmt.Errorf("demo desk: %w", err)
		}
		fmt.Fprintf(stdout, "Demo desk loaded: %d cases, %s after start. Press Ctrl+C to stop.\n", p.Cases(), time.Since(start).Round(time.Millisecond))
		return nil
	})
}

func cmdMigrate(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs, dbURL := newFlags("migrate", stdout)
	if err := parseNone(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, *dbURL, false, log)
	if err != nil {
		return err
	}
	a.DB.Close()
	fmt.Fprintln(stdout, "migrations applied")
	return nil
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func cmdUserAdd(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, log *slog.Logger) error {
	fs, dbURL := newFlags("user add", stdout)
	email := fs.String("email", "", "email (login)")
	name := fs.String("name", "", "display name")
	role := fs.String("role", "", "admin, lead, agent, account_manager, qa or viewer")
	pwStdin := fs.Bool("password-stdin", false, "read a password from stdin")
	var teams, markets listFlag
	fs.Var(&teams, "team", "team key (repeatable)")
	fs.Var(&markets, "market", "market code the user covers (repeatable; none = all)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if *email == "" || *name == "" || *role == "" {
		return usageError{"user add needs --email, --name and --role"}
	}
	pw := ""
	if *pwStdin {
		var err error
		if pw, err = readLine(stdin); err != nil {
			return err
		}
	}
	a, err := openApp(ctx, *dbURL, false, log)
	if err != nil {
		return err
	}
	defer a.DB.Close()
	var u auth.User
	err = a.DB.InTx(ctx, func(tx *db.Tx) error {
		now := a.Clock.Now()
		var err error
		u, err = auth.CreateUser(ctx, tx, now, auth.User{Email: *email, Name: *name, Role: auth.Role(*role), Teams: teams, Markets: markets}, pw)
		if err != nil {
			return err
		}
		return audit.Append(ctx, tx, now, audit.Entry{Actor: "cli", Action: "user.create", ObjectType: "user",
			ObjectID: u.Email, After: map[string]any{"email": u.Email, "name": u.Name, "role": u.Role, "teams": u.Teams}})
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "user %s (%s) created with id %d\n", u.Email, u.Role, u.ID)
	return nil
}

func readLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func cmdUserPasswd(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, log *slog.Logger) error {
	fs, dbURL := newFlags("user passwd", stdout)
	email := fs.String("email", "", "the user's email")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if *email == "" {
		return usageError{"user passwd needs --email"}
	}
	pw, err := readLine(stdin)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, *dbURL, false, log)
	if err != nil {
		return err
	}
	defer a.DB.Close()
	err = a.DB.InTx(ctx, func(tx *db.Tx) error {
		u, err := auth.UserByEmail(ctx, tx, *email)
		if err != nil {
			return fmt.Errorf("user %s: %w", *email, err)
		}
		now := a.Clock.Now()
		if err := auth.SetPassword(ctx, tx, now, u.ID, pw); err != nil {
			return err
		}
		return audit.Append(ctx, tx, now, audit.Entry{Actor: "cli", Action: "user.password", ObjectType: "user", ObjectID: u.Email})
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "password set for %s\n", *email)
	return nil
}

func cmdTokenCreate(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs, dbURL := newFlags("token create", stdout)
	email := fs.String("email", "", "the user the token acts as")
	name := fs.String("name", "cli", "a label for the token")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if *email == "" {
		return usageError{"token create needs --email"}
	}
	a, err := openApp(ctx, *dbURL, false, log)
	if err != nil {
		return err
	}
	defer a.DB.Close()
	var token string
	err = a.DB.InTx(ctx, func(tx *db.Tx) error {
		u, err := auth.UserByEmail(ctx, tx, *email)
		if err != nil {
			return fmt.Errorf("user %s: %w", *email, err)
		}
		now := a.Clock.Now()
		var id int64
		if token, id, err = auth.CreateToken(ctx, tx, now, u.ID, *name); err != nil {
			return err
		}
		return audit.Append(ctx, tx, now, audit.Entry{Actor: "cli", Action: "token.create", ObjectType: "token",
			ObjectID: fmt.Sprint(id), After: map[string]any{"user": u.Email, "name": *name}})
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "API token for %s (shown once; store it safely):\n%s\n", *email, token)
	return nil
}

func cmdDeskApply(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, log *slog.Logger) error {
	fs, dbURL := newFlags("desk apply", stdout)
	dry := fs.Bool("dry-run", false, "validate only")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"desk apply needs one FILE (- for stdin)"}
	}
	file := pos[0]
	var data []byte
	if file == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return fmt.Errorf("read desk file: %w", err)
	}
	schema, err := app.DeskSchema()
	if err != nil {
		return err
	}
	cfg, err := schema.Parse(data)
	if err != nil {
		var ve *apperr.Invalid
		if errors.As(err, &ve) {
			for _, e := range ve.Errors {
				fmt.Fprintf(stdout, "%s: %s\n", e.Field, e.Message)
			}
			return fmt.Errorf("%s: %d problem(s); nothing applied", file, len(ve.Errors))
		}
		return err
	}
	if *dry {
		fmt.Fprintln(stdout, "desk configuration is valid")
		return nil
	}
	a, err := openApp(ctx, *dbURL, false, log)
	if err != nil {
		return err
	}
	defer a.DB.Close()
	res, err := a.Desk.Apply(ctx, auth.System("cli"), a.Clock.Now(), cfg)
	if err != nil {
		return err
	}
	for _, c := range res.Changes {
		fmt.Fprintln(stdout, c)
	}
	fmt.Fprintf(stdout, "desk configuration version %d applied (%d changes)\n", res.Version, len(res.Changes))
	return nil
}

func cmdDeskExport(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs, dbURL := newFlags("desk export", stdout)
	out := fs.String("out", "", "write to FILE instead of stdout")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, *dbURL, false, log)
	if err != nil {
		return err
	}
	defer a.DB.Close()
	cfg, err := a.Desk.Export(ctx)
	if err != nil {
		return err
	}
	b, err := desk.Marshal(cfg)
	if err != nil {
		return err
	}
	if *out != "" {
		return os.WriteFile(*out, b, 0o644)
	}
	_, err = stdout.Write(b)
	return err
}

func cmdAuditVerify(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger) error {
	fs, dbURL := newFlags("audit verify", stdout)
	if err := parseNone(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, *dbURL, false, log)
	if err != nil {
		return err
	}
	defer a.DB.Close()
	res, err := audit.Verify(ctx, a.DB)
	if err != nil {
		return err
	}
	if !res.OK {
		fmt.Fprintf(stdout, "audit chain BROKEN at record %d: %s (%d records checked)\n", res.BrokenSeq, res.Reason, res.Checked)
		return fmt.Errorf("audit chain broken at record %d", res.BrokenSeq)
	}
	fmt.Fprintf(stdout, "audit chain intact: %d records\n", res.Checked)
	return nil
}

// slaCalendar opens the store and finds a calendar of the desk configuration.
func slaCalendar(ctx context.Context, dbURL, key string, log *slog.Logger) (*sla.Calendar, func(), error) {
	if key == "" {
		return nil, nil, usageError{"--calendar is required"}
	}
	a, err := openApp(ctx, dbURL, false, log)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := a.Desk.Config(ctx)
	if err != nil {
		a.DB.Close()
		return nil, nil, err
	}
	cal, ok := cfg.Calendar(key)
	if !ok {
		a.DB.Close()
		return nil, nil, fmt.Errorf("no calendar %q in the desk configuration", key)
	}
	return cal, func() { a.DB.Close() }, nil
}

func parseInstant(flagName, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return t, usageError{fmt.Sprintf("--%s must be an RFC 3339 instant such as 2026-12-23T17:30:00Z", flagName)}
	}
	return t, nil
}

// cmdSLA answers "when is it due" (sla due) or "how much business time"
// (sla between) in a calendar of the desk.
func cmdSLA(ctx context.Context, sub string, args []string, stdout io.Writer, log *slog.Logger) error {
	fs, dbURL := newFlags("sla "+sub, stdout)
	key := fs.String("calendar", "", "calendar key")
	fromS := fs.String("from", "", "start instant (RFC 3339)")
	addS := fs.String("add", "", "business duration: 30m, 4h30m, 2d (sla due)")
	toS := fs.String("to", "", "end instant, RFC 3339 (sla between)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	from, err := parseInstant("from", *fromS)
	if err != nil {
		return err
	}
	var d time.Duration
	var to time.Time
	if sub == "due" {
		if d, err = sla.ParseDuration(*addS); err != nil {
			return usageError{"--add: " + err.Error()}
		}
	} else if to, err = parseInstant("to", *toS); err != nil {
		return err
	} else if err := sla.ValidateRange(from, to); err != nil {
		return usageError{"--to " + err.Error()}
	}
	cal, done, err := slaCalendar(ctx, *dbURL, *key, log)
	if err != nil {
		return err
	}
	defer done()
	if sub == "due" {
		due, ok := cal.AddChecked(from, d)
		if !ok {
			return usageError{fmt.Sprintf("--add does not run out in calendar %s within 250 years of --from (nor by the year 9999)", cal.Key())}
		}
		fmt.Fprintln(stdout, due.UTC().Format(time.RFC3339Nano))
	} else {
		fmt.Fprintln(stdout, cal.Between(from, to))
	}
	return nil
}
