package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/clock"
)

// A webhook is a durable subscriber that ships every event to another
// system: one POST per event, its body the event's JSON (as Event marshals
// it), with the headers of signature.go: X-Flare-Event (the type),
// X-Flare-Event-Id (deduplicate by it) and, when a secret is set,
// X-Flare-Timestamp and X-Flare-Signature.
//
// Delivery is at least once and in order per case (see outbox.go). A 2xx
// answer is success. Anything else — another status, a redirect (never
// followed), a timeout, a refused connection — is a failure that the
// outbox retries with back-off and dead-letters after MaxAttempts, except
// 410 Gone: the receiver says the endpoint is gone for good, so the event
// is dead at once (an admin replays it once the receiver is back). Other
// 4xx answers are retried: they are as often a receiver's deployment or
// configuration mistake, fixed within minutes, as a verdict on the event.

// WebhookSubscriber is the durable subscriber name of the webhook in the
// outbox: keep it stable (see Bus.Subscribe).
const WebhookSubscriber = "webhook"

// WebhookOptions configure a webhook.
type WebhookOptions struct {
	URL         string        // http:// or https://; empty: no webhook
	Secret      string        // signs every request when set
	Timeout     time.Duration // one request, from connecting to the end of the answer (default 10 s)
	MaxAttempts int           // failed attempts before an event is dead (default 20: about two hours with the default back-off)
	Concurrency int           // cases delivered at once (default 8)
}

// Webhook POSTs events to a URL. Its Deliver is a Handler.
type Webhook struct {
	url    string
	where  string // the URL without its query or credentials, for errors admins see
	secret []byte
	client *http.Client
	clock  clock.Clock
	opt    WebhookOptions
}

// NewWebhook checks opt and returns the webhook; c stamps the signatures.
func NewWebhook(opt WebhookOptions, c clock.Clock) (*Webhook, error) {
	u, err := url.Parse(opt.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("events webhook: %q is not an http:// or https:// URL", RedactURL(opt.URL))
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 20
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 8
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: min(opt.Timeout, 5*time.Second), KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   min(opt.Timeout, 5*time.Second),
		ResponseHeaderTimeout: opt.Timeout,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   opt.Concurrency, // one kept-alive connection per stream delivered at once
		ForceAttemptHTTP2:     true,
	}
	client := &http.Client{
		Transport: tr,
		Timeout:   opt.Timeout,
		// A redirect of a POST would turn into a GET elsewhere: answer it as a failure.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Webhook{url: opt.URL, where: RedactURL(opt.URL), secret: []byte(opt.Secret), client: client, clock: c, opt: opt}, nil
}

// SubscriberOptions are the options to subscribe the webhook with.
func (w *Webhook) SubscriberOptions() SubscriberOptions {
	// The bus's own deadline a little past the client's, so the client's
	// error (with the URL) is the one recorded.
	return SubscriberOptions{MaxAttempts: w.opt.MaxAttempts, Concurrency: w.opt.Concurrency, Timeout: w.opt.Timeout + time.Second}
}

// Close lets idle connections go.
func (w *Webhook) Close() { w.client.CloseIdleConnections() }

// answerLimit bounds what is read of an answer: enough to reuse the
// connection for an ordinary answer, and the start of it for the error.
const answerLimit = 64 << 10

// Deliver POSTs e; it is the webhook's Handler.
func (w *Webhook) Deliver(ctx context.Context, e Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("webhook: encode %s: %w", e.Type, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: %w", w.where, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Flare-Webhook/1")
	req.Header.Set(HeaderEventID, e.ID)
	req.Header.Set(HeaderEvent, string(e.Type))
	if len(w.secret) > 0 {
		ts, sig := Sign(w.secret, w.clock.Now(), body)
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, sig)
	}
	res, err := w.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the full URL, query and all
		}
		return fmt.Errorf("webhook POST %s: %w", w.where, err)
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(res.Body, answerLimit))
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("webhook POST %s answered %s%s", w.where, res.Status, excerpt(answer))
	if res.StatusCode == http.StatusGone {
		return Permanent(err)
	}
	return err
}

// excerpt is the start of an error answer, on one line.
func excerpt(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if s == "" {
		return ""
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return ": " + s
}
