// Package notify tells people what happened to the cases they care about —
// in the app (the bell), by email through an SMTP server — and tells other
// systems through signed outbound webhooks.
//
// It is a durable subscriber of the event stream (Register): never inside
// the request that made the change, at least once. Each event becomes, in
// one transaction, a notification per person told (the bell) and a
// delivery per (event, channel, recipient) for mail and webhooks; both are
// keyed by the event id, so a redelivered event adds nothing. Who is told
// is a pure function of the event and the desk's people (Recipients),
// filtered by the visibility rule (cases.Service.CanSee) and by each
// person's preferences (which kinds on which channel, quiet hours in their
// own time zone).
//
// Deliveries are sent by the notify timer (internal/deadline): each is due
// at an indexed instant — now, a retry's back-off, or the end of its
// recipient's quiet hours — and is sent until it succeeds, then kept as
// sent, with every attempt's status code and time in the delivery log. A
// retry re-sends only what has not gone out: a mail to A that went out is
// not sent again because the one to B failed. After MaxAttempts a
// delivery has failed; an admin replays it.
package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/flare-desk/flare/internal/cases"
	"github.com/flare-desk/flare/internal/clock"
	"github.com/flare-desk/flare/internal/db"
	"github.com/flare-desk/flare/internal/deadline"
	"github.com/flare-desk/flare/internal/desk"
	"github.com/flare-desk/flare/internal/events"
)

// Subscriber is notify's durable subscriber name in the outbox.
const Subscriber = "notify"

// Options tune the service.
type Options struct {
	// SMTPPassword authenticates to the SMTP server (FLARE_SMTP_PASSWORD).
	SMTPPassword string
	// Mailer replaces the SMTP mailer the desk's settings describe (tests).
	Mailer Mailer
	// MaxAttempts is how many failed attempts fail a delivery (default 15:
	// about an hour and a half with the default back-off).
	MaxAttempts int
	BackoffBase time.Duration // first retry after (default 1 s), doubling…
	BackoffMax  time.Duration // …to at most (default 10 min)
	// Batch is how many due deliveries one round claims (default 64).
	Batch int
}

func (o *Options) defaults() {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 15
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 10 * time.Minute
	}
	if o.Batch <= 0 {
		o.Batch = 64
	}
}

// Service runs notifications.
type Service struct {
	db     *db.DB
	desk   *desk.Service
	cases  *cases.Service
	clock  clock.Clock
	log    *slog.Logger
	opt    Options
	timer  *deadline.Timer
	poster *Poster

	pruneMu   sync.Mutex
	lastPrune time.Time

	hooks hookCache // the active webhook subscriptions
}

// timerMaxSleep is how often the delivery timer looks without being woken
// (for deliveries another node wrote).
const timerMaxSleep = time.Minute

// New returns the notification service; Register subscribes it to the
// event stream and Run sends its deliveries.
func New(d *db.DB, dk *desk.Service, cs *cases.Service, c clock.Clock, log *slog.Logger, opt Options) *Service {
	if log == nil {
		log = slog.Default()
	}
	opt.defaults()
	s := &Service{db: d, desk: dk, cases: cs, clock: c, log: log, opt: opt, poster: NewPoster(c.Now)}
	s.timer = deadline.New("notify", c, log, timerMaxSleep, s.Fire)
	return s
}

// Register subscribes the service to every event, durably.
func (s *Service) Register(bus *events.Bus) {
	bus.Subscribe(Subscriber, s.Handle, events.SubscriberOptions{})
}

// Run sends deliveries as they come due until ctx ends.
func (s *Service) Run(ctx context.Context) { s.timer.Run(ctx) }

// settings are the desk's notification settings.
func (s *Service) settings(ctx context.Context) (*desk.Config, Settings, error) {
	cfg, err := s.desk.Config(ctx)
	if err != nil {
		return nil, Settings{}, err
	}
	return cfg, desk.Get(cfg, SettingsKey), nil
}

// mailer is the mailer for the current settings (nil: no email).
func (s *Service) mailer(set Settings) Mailer {
	if s.opt.Mailer != nil {
		return s.opt.Mailer
	}
	if !set.Mail() {
		return nil
	}
	return NewSMTP(set.Email, s.opt.SMTPPassword, s.clock.Now)
}

// Mailer is the mailer the desk's notification settings describe (nil:
// email is not set up), for capabilities that send mail of their own
// through the same SMTP server (internal/mail's replies to requesters).
func (s *Service) Mailer(ctx context.Context) (Mailer, error) {
	_, set, err := s.settings(ctx)
	if err != nil {
		return nil, err
	}
	return s.mailer(set), nil
}

// backoff is the wait before try attempts+1.
func (s *Service) backoff(attempts int) time.Duration {
	d := s.opt.BackoffBase
	for i := 1; i < attempts && d < s.opt.BackoffMax; i++ {
		d *= 2
	}
	return min(d, s.opt.BackoffMax)
}

func newSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	return "whsec_" + hex.EncodeToString(b[:]), nil
}

// baseURL is where links point: the desk's base_url, else the local default.
func baseURL(set Settings) string {
	if set.BaseURL != "" {
		return strings.TrimRight(set.BaseURL, "/")
	}
	return "http://127.0.0.1:8080"
}
