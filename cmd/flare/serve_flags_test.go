package main

import (
	"flag"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/flare-desk/flare/internal/web"
)

func serveOptions(t *testing.T, args ...string) (web.Options, error) {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	sf := addServeFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return sf.webOptions()
}

func TestServeFlagsDefaults(t *testing.T) {
	opt, err := serveOptions(t)
	if err != nil {
		t.Fatal(err)
	}
	def := web.DefaultLimits()
	if opt.Limits == nil || *opt.Limits != def {
		t.Fatalf("limits %+v, want the defaults %+v", opt.Limits, def)
	}
	if !opt.AccessLog || opt.AccessLogLevel != slog.LevelInfo || len(opt.TrustedProxies) != 0 || opt.LoginConcurrency != 0 {
		t.Fatalf("defaults: %+v", opt)
	}
}

func TestServeFlags(t *testing.T) {
	t.Setenv("FLARE_RATE_LIMIT_TOKEN", "2500") // the environment, overridden by a flag below
	t.Setenv("FLARE_TRUSTED_PROXIES", "10.0.0.0/8")
	opt, err := serveOptions(t, "--rate-limit-ip", "0", "--request-timeout", "1m", "--access-log", "debug",
		"--login-concurrency", "2", "--trusted-proxies", "192.0.2.1, 10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	l := opt.Limits
	if !l.PerIP.Off() || l.PerToken.PerSecond != 2500 || l.PerToken.Burst != 5000 || l.RequestTimeout != time.Minute {
		t.Fatalf("limits %+v", l)
	}
	want := []netip.Prefix{netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("10.0.0.0/8")}
	if len(opt.TrustedProxies) != 2 || opt.TrustedProxies[0] != want[0] || opt.TrustedProxies[1] != want[1] {
		t.Fatalf("trusted proxies %v", opt.TrustedProxies)
	}
	if !opt.AccessLog || opt.AccessLogLevel != slog.LevelDebug || opt.LoginConcurrency != 2 {
		t.Fatalf("options %+v", opt)
	}
	if opt, err := serveOptions(t, "--access-log", "off"); err != nil || opt.AccessLog {
		t.Fatalf("--access-log off: %+v %v", opt, err)
	}
	for _, args := range [][]string{
		{"--access-log", "loud"},
		{"--trusted-proxies", "proxy.example"},
		{"--rate-limit-ip", "-1"},
		{"--login-concurrency", "-2"},
	} {
		if _, err := serveOptions(t, args...); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	t.Setenv("FLARE_REQUEST_TIMEOUT", "soon")
	if _, err := serveOptions(t); err == nil {
		t.Error("FLARE_REQUEST_TIMEOUT=soon accepted")
	}
}
