package events

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/clock"
)

// A webhook is a durable subscriber that ships every event to another
// system: one POST per event, its body the event's JSON (as Event marshals
// it), with these headers:
//
//	Content-Type:     application/json
//	Flare-Event-Id:   the event's id (the same on every redelivery: deduplicate by it)
//	Flare-Event-Type: e.g. case.created
//	Flare-Signature:  t=<unix seconds>,v1=<hex HMAC-SHA256>   (when a secret is set)
//
// Delivery is at least once and in order per case (see outbox.go). A 2xx
// answer is success. Anything else — another status, a redirect (never
// followed), a timeout, a refused connection — is a failure that the
// outbox retries with back-off and dead-letters after MaxAttempts, except
// 410 Gone: the receiver says the endpoint is gone for good, so the event
// is dead at once (an admin replays it once the receiver is back). Other
// 4xx answers are retried: they are as often a receiver's deployment or
// configuration mistake, fixed within minutes, as a verdict on the event.
//
// The signature. v1 is HMAC-SHA256 keyed with the secret over the
// timestamp, a dot and the exact body bytes: "<t>.<body>". A receiver:
//
//  1. reads the raw body (before any JSON decoding: re-encoding changes bytes);
//  2. splits Flare-Signature on commas into t= and v1= parts (there may be
//     several v1 parts while a secret is being rotated; one must match);
//  3. rejects the request if t is more than a tolerance (5 minutes is
//     usual) away from its own clock — a replayed old request fails here,
//     since t is inside the signed text;
//  4. computes HMAC-SHA256(secret, t + "." + body), hex-encodes it and
//     compares it with v1 in constant time (hmac.Equal).
//
// VerifySignature does exactly this. Each attempt is signed afresh, so a
// retry hours later carries a current timestamp.

// Webhook header names.
const (
	HeaderEventID   = "Flare-Event-Id"
	HeaderEventType = "Flare-Event-Type"
	HeaderSignature = "Flare-Signature"
)

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
		return nil, fmt.Errorf("events webhook: %q is not an http:// or https:// URL", redactURL(opt.URL))
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
	return &Webhook{url: opt.URL, where: redactURL(opt.URL), secret: []byte(opt.Secret), client: client, clock: c, opt: opt}, nil
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
	req.Header.Set(HeaderEventType, string(e.Type))
	if len(w.secret) > 0 {
		req.Header.Set(HeaderSignature, Sign(w.secret, w.clock.Now(), body))
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

// redactURL drops credentials and the query, which often carry tokens.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment = nil, "", false, ""
	return u.String()
}

// Sign is the Flare-Signature value for body sent at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Signature errors.
var (
	ErrSignatureMissing  = errors.New("no usable Flare-Signature (want t=<unix>,v1=<hex>)")
	ErrSignatureMismatch = errors.New("Flare-Signature does not match the body")
	ErrSignatureTooOld   = errors.New("Flare-Signature timestamp is outside the tolerance")
)

// VerifySignature checks a Flare-Signature header value for body, as a
// receiver does: t within tolerance of now (either side: clocks differ),
// and one v1 equal to HMAC-SHA256(secret, t + "." + body).
func VerifySignature(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		switch {
		case !ok:
		case k == "t":
			ts = v
		case k == "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrSignatureMissing
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrSignatureTooOld
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return ErrSignatureMismatch
}
