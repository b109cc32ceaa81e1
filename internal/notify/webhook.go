package notify

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
	"strconv"
	"strings"
	"time"

	"github.com/flare-desk/flare/internal/events"
)

// Outbound webhooks. A subscription (Webhook) names the event types it
// wants and a format; each event it wants becomes one delivery, POSTed
// until the receiver answers 2xx:
//
//	Content-Type:      application/json
//	User-Agent:        Flare-Webhook/1
//	X-Flare-Event:     the event's type (case.assigned)
//	X-Flare-Event-Id:  the event's id: the same on every retry and replay, deduplicate by it
//	X-Flare-Delivery:  the delivery's id
//	X-Flare-Timestamp: when this attempt was signed, in Unix seconds
//	X-Flare-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//
// A receiver verifies (events.VerifySignature does): it reads the raw body,
// refuses a timestamp more than five minutes from its own clock (a
// replayed old request fails here: the timestamp is signed), computes the
// HMAC over "<timestamp>.<body>" with the subscription's secret and
// compares it in constant time. Each attempt is signed afresh.
//
// A 2xx answer is success; 410 Gone fails the delivery at once (the
// receiver says it is gone for good: an admin replays it); anything else
// (other statuses, redirects, which are never followed, timeouts) is
// retried with exponential back-off.

// Formats of a webhook's body.
const (
	FormatJSON  = "json"  // Flare's event (WebhookBody)
	FormatSlack = "slack" // a Slack (or Mattermost, Rocket.Chat) incoming-webhook message
	FormatTeams = "teams" // a Microsoft Teams connector MessageCard
)

// Formats lists the formats.
var Formats = []string{FormatJSON, FormatSlack, FormatTeams}

// HeaderDelivery names the delivery in each request; the other headers and
// the signature are the event stream's (events.HeaderEvent … events.Sign).
const HeaderDelivery = "X-Flare-Delivery"

// WebhookBody is the json format's body: the event as the event stream
// carries it (id, type, schema version, time, actor, the case after the
// change, the type's data) and the case's address.
type WebhookBody struct {
	ID      string         `json:"id"`
	Type    events.Type    `json:"type"`
	Version int            `json:"version"`
	At      time.Time      `json:"at"`
	Actor   events.Actor   `json:"actor"`
	Case    *events.Case   `json:"case,omitempty"`
	Data    events.Payload `json:"data"`
	URL     string         `json:"url,omitempty"`
	Summary string         `json:"summary"` // one line, as a person would read it
}

// webhookBody is the body of e for a subscription in format, with c its
// desk-wide wording.
func webhookBody(format string, e events.Event, c Content) ([]byte, error) {
	switch format {
	case FormatSlack:
		return json.Marshal(slackBody(c))
	case FormatTeams:
		return json.Marshal(teamsBody(c))
	}
	return json.Marshal(WebhookBody{ID: e.ID, Type: e.Type, Version: e.Version, At: e.At, Actor: e.Actor, Case: e.Case,
		Data: e.Data, URL: c.Link, Summary: c.Title})
}

// Chat messages carry the headline and the facts, not the quoted text: a
// channel is a wider audience than the people a note was written for.

func slackBody(c Content) map[string]any {
	text := c.Title
	if c.Link != "" && c.Number != "" {
		text = strings.Replace(slackEscape(c.Title), c.Number, "<"+c.Link+"|"+c.Number+">", 1)
	}
	blocks := []any{map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": text}}}
	if len(c.Facts) > 0 {
		var fields []any
		for _, f := range c.Facts {
			if len(fields) == 10 { // Slack's limit per section
				break
			}
			fields = append(fields, map[string]any{"type": "mrkdwn", "text": "*" + slackEscape(f.Label) + "*\n" + slackEscape(f.Value)})
		}
		blocks = append(blocks, map[string]any{"type": "section", "fields": fields})
	}
	return map[string]any{"text": c.Title, "blocks": blocks}
}

// slackEscape escapes the three characters Slack's mrkdwn gives meaning.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func teamsBody(c Content) map[string]any {
	facts := []any{}
	for _, f := range c.Facts {
		facts = append(facts, map[string]string{"name": f.Label, "value": f.Value})
	}
	card := map[string]any{
		"@type":      "MessageCard",
		"@context":   "https://schema.org/extensions",
		"summary":    c.Title,
		"themeColor": "F97316",
		"title":      c.Title,
		"sections":   []any{map[string]any{"facts": facts}},
	}
	if c.Link != "" {
		card["potentialAction"] = []any{map[string]any{"@type": "OpenUri", "name": "Open " + c.Number + " in Flare",
			"targets": []any{map[string]string{"os": "default", "uri": c.Link}}}}
	}
	return card
}

// Poster sends webhook requests.
type Poster struct {
	client *http.Client
	now    func() time.Time
}

// webhookTimeout bounds one attempt, from connecting to the end of the answer.
const webhookTimeout = 10 * time.Second

// NewPoster returns a poster on its own HTTP client.
func NewPoster(now func() time.Time) *Poster {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: webhookTimeout,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   sendConcurrency,
		ForceAttemptHTTP2:     true,
	}
	return &Poster{now: now, client: &http.Client{Transport: tr, Timeout: webhookTimeout,
		// A redirected POST turns into a GET elsewhere: a failure instead.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// errGone is a 410 answer: the delivery fails at once.
var errGone = errors.New("the receiver answered 410 Gone")

// post sends one delivery's body and reports the answer's status.
func (p *Poster) post(ctx context.Context, target, secret string, d *delivery) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(d.payload))
	if err != nil {
		return 0, fmt.Errorf("webhook %s: %w", events.RedactURL(target), err)
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Flare-Webhook/1")
	h.Set(events.HeaderEvent, d.eventType)
	h.Set(events.HeaderEventID, d.eventID)
	h.Set(HeaderDelivery, strconv.FormatInt(d.id, 10))
	ts, sig := events.Sign([]byte(secret), p.now(), d.payload)
	h.Set(events.HeaderTimestamp, ts)
	h.Set(events.HeaderSignature, sig)
	res, err := p.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may carry credentials: say where without them
		}
		return 0, fmt.Errorf("webhook %s: %w", events.RedactURL(target), err)
	}
	defer res.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10)) // read on so the connection is reused
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		return res.StatusCode, nil
	case res.StatusCode == http.StatusGone:
		return res.StatusCode, errGone
	}
	msg := strings.TrimSpace(string(head))
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return res.StatusCode, fmt.Errorf("webhook %s answered %d %s", events.RedactURL(target), res.StatusCode, msg)
}
